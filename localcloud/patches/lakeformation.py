"""Lake Formation gap hit by Terraform (moto 5.2.5).

RevokePermissions of permissions the principal does not hold returns 200 in moto; AWS answers
InvalidInputException ("No permissions revoked..."), and the AWS provider's destroy of
aws_lakeformation_permissions relies on that (it revokes twice). Raised now when nothing requested is held.
"""

from __future__ import annotations

from typing import Any

from moto.lakeformation import models as lf_models
from moto.lakeformation.exceptions import InvalidInput

_orig_revoke = lf_models.LakeFormationBackend.revoke_permissions


def _revoke_permissions(self, catalog_id: str, principal: dict[str, str], resource: dict[str, Any],
                        permissions_to_revoke: list[str], permissions_with_grant_options_to_revoke: list[str]) -> None:
    wanted = lf_models.Permission(principal=principal, resource=resource, permissions=permissions_to_revoke or [],
                                  permissions_with_grant_options=permissions_with_grant_options_to_revoke or [])
    held = None
    for existing in (self.grants[catalog_id].permissions if catalog_id in self.grants else []):
        if wanted.equal_principal_and_resouce(existing):
            held = existing
            break
    requested = set(permissions_to_revoke or []) | set(permissions_with_grant_options_to_revoke or [])
    have = set(held.permissions or []) | set(held.permissions_with_grant_options or []) if held else set()
    if not requested & have and not ("ALL" in have and requested):
        raise InvalidInput(f"No permissions revoked. Grantee has no {sorted(requested)} permissions on the resource.")
    _orig_revoke(self, catalog_id, principal, resource, permissions_to_revoke, permissions_with_grant_options_to_revoke)


def apply() -> None:
    lf_models.LakeFormationBackend.revoke_permissions = _revoke_permissions
