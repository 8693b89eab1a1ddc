"""Lake Formation gaps hit by Terraform and the view rules (moto 5.2.5).

- RevokePermissions of permissions the principal does not hold returns 200 in moto; AWS answers
  InvalidInputException ("No permissions revoked..."), and the AWS provider's destroy of
  aws_lakeformation_permissions relies on that (it revokes twice). Raised now when nothing requested is held.
- moto matches a revoke to a grant only when both spell the resource identically, so revoking a default
  grant the endpoint made (localcloud.lakeformation_model: no CatalogId) with `CatalogId: <account>` revoked
  nothing. Resources now match whatever the CatalogId spelling (the endpoint has one account).
- GrantPermissions on a named table or view that does not exist succeeds in moto; AWS answers
  EntityNotFoundException (so a grant on a view made before the load that creates it fails, as on AWS).
- Data cells filters: moto has no Create/Get/Update/DeleteDataCellsFilter (ListDataCellsFilter is always
  empty), accepts grants on filters that do not exist and lists none of them. Served by
  localcloud.lakeformation_cells, which also checks the grants (the filter must exist).
"""

from __future__ import annotations

import json
from typing import Any

from moto.lakeformation import models as lf_models
from moto.lakeformation import responses as lf_responses
from moto.lakeformation import urls as lf_urls
from moto.lakeformation.exceptions import InvalidInput

from .. import lakeformation_cells as cells
from .. import lakeformation_model as lf
from ..lakeformation_model import normalize_resource

_orig_revoke = lf_models.LakeFormationBackend.revoke_permissions


def _revoke_permissions(self, catalog_id: str, principal: dict[str, str], resource: dict[str, Any],
                        permissions_to_revoke: list[str], permissions_with_grant_options_to_revoke: list[str]) -> None:
    wanted = normalize_resource(resource, self.account_id)
    held = None
    for existing in (self.grants[catalog_id].permissions if catalog_id in self.grants else []):
        if existing.principal == principal and normalize_resource(existing.resource, self.account_id) == wanted:
            held = existing
            break
    requested = set(permissions_to_revoke or []) | set(permissions_with_grant_options_to_revoke or [])
    have = set(held.permissions or []) | set(held.permissions_with_grant_options or []) if held else set()
    if not requested & have and not ("ALL" in have and requested):
        raise InvalidInput(f"No permissions revoked. Grantee has no {sorted(requested)} permissions on the resource.")
    _orig_revoke(self, catalog_id, principal, held.resource, permissions_to_revoke,
                 permissions_with_grant_options_to_revoke)


_orig_grant = lf_models.LakeFormationBackend.grant_permissions
_orig_list_permissions = lf_responses.LakeFormationResponse.list_permissions
_orig_grant_response = lf_responses.LakeFormationResponse.grant_permissions


def _grant_permissions(self, catalog_id: str, principal: dict[str, str], resource: dict[str, Any],
                       permissions: list[str], permissions_with_grant_options: list[str]) -> None:
    cells.check_grant(self.account_id, self.region_name, resource, permissions)
    _orig_grant(self, catalog_id, principal, resource, permissions, permissions_with_grant_options)


def grant_permissions(self) -> str:
    table = (self._get_param("Resource") or {}).get("Table") or {}
    if table.get("Name") and cells.table_missing(self.current_account, self.region, table["DatabaseName"],
                                                 table["Name"]):
        raise cells.EntityNotFound(f"Table {table['DatabaseName']}.{table['Name']} not found.")
    return _orig_grant_response(self)


def _caller(response) -> str | None:
    return lf.caller_principal(response.headers) if lf.enforced() else None


def create_data_cells_filter(self) -> str:
    cells.create(self.current_account, self.region, _caller(self), self._get_param("TableData") or {})
    return "{}"


def update_data_cells_filter(self) -> str:
    cells.update(self.current_account, self.region, _caller(self), self._get_param("TableData") or {})
    return "{}"


def get_data_cells_filter(self) -> str:
    params = {k: self._get_param(k) for k in ("TableCatalogId", "DatabaseName", "TableName", "Name")}
    return json.dumps({"DataCellsFilter": cells.get(self.current_account, self.region, params)})


def delete_data_cells_filter(self) -> str:
    params = {k: self._get_param(k) for k in ("TableCatalogId", "DatabaseName", "TableName", "Name")}
    cells.delete(self.current_account, self.region, _caller(self), params)
    return "{}"


def list_data_cells_filter(self) -> str:
    filters = cells.list_filters(self.current_account, self.region, self._get_param("Table"))
    start = int(self._get_param("NextToken") or 0)
    size = int(self._get_param("MaxResults") or 100)
    out: dict[str, Any] = {"DataCellsFilters": filters[start:start + size]}
    if start + size < len(filters):
        out["NextToken"] = str(start + size)
    return json.dumps(out)


def list_permissions(self) -> str:
    resource = self._get_param("Resource") or {}
    if "DataCellsFilter" not in resource:
        return _orig_list_permissions(self)
    found = cells.grants_on_filter(self.current_account, self.region, resource)
    principal = self._get_param("Principal")
    if principal is not None:
        found = [p for p in found if p["Principal"] == principal]
    return json.dumps({"PrincipalResourcePermissions": found})


HANDLERS = (create_data_cells_filter, update_data_cells_filter, get_data_cells_filter, delete_data_cells_filter,
            list_data_cells_filter, list_permissions, grant_permissions)
EXTRA_PATHS = {f"{{0}}/{op}$": lf_responses.LakeFormationResponse.dispatch
               for op in ("CreateDataCellsFilter", "UpdateDataCellsFilter", "GetDataCellsFilter",
                          "DeleteDataCellsFilter")}


def apply() -> None:
    lf_models.LakeFormationBackend.revoke_permissions = _revoke_permissions
    lf_models.LakeFormationBackend.grant_permissions = _grant_permissions
    for handler in HANDLERS:
        setattr(lf_responses.LakeFormationResponse, handler.__name__, handler)
    lf_urls.url_paths.update(EXTRA_PATHS)
