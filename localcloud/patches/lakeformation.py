"""Lake Formation gaps hit by Terraform and the view rules (moto 5.2.5).

- RevokePermissions of permissions the principal does not hold returns 200 in moto; AWS answers
  InvalidInputException ("No permissions revoked..."), and the AWS provider's destroy of
  aws_lakeformation_permissions relies on that (it revokes twice). Raised now when nothing requested is held.
- moto matches a revoke to a grant only when both spell the resource identically, so revoking a default
  grant the endpoint made (localcloud.lakeformation_model: no CatalogId) with `CatalogId: <account>` revoked
  nothing. Resources now match whatever the CatalogId spelling (the endpoint has one account).
"""

from __future__ import annotations

from typing import Any

from moto.lakeformation import models as lf_models
from moto.lakeformation.exceptions import InvalidInput

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


def apply() -> None:
    lf_models.LakeFormationBackend.revoke_permissions = _revoke_permissions
