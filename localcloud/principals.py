"""Who is calling: the IAM principal behind an access key, and service roles assumed on a service's behalf.

The endpoint's admin keys (LOCALCLOUD_IAM_ADMIN_KEYS, default `test,testing`: the fake keys Terraform, the
tests and `make run` sign with) act as the account's administrator, as the account root does on AWS; their
requests are not evaluated. Every other key must be one the endpoint issued: an IAM user's access key
(CreateAccessKey) or assumed-role credentials (STS AssumeRole, or the executors assuming an execution role
for Lambda, Glue and Step Functions through `assume_service_role`).

Runs inside the endpoint process (reads moto's backends directly).
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from . import config

log = logging.getLogger("localcloud.iam")

DEFAULT_PARTITION = "aws"
# Service credentials are renewed this long before they expire (AWS's executors refresh them too).
_RENEW_BEFORE = timedelta(minutes=10)
SESSION_DURATION_S = 3600


def credential_scope(headers, uri: str = "") -> tuple[str | None, str, str]:
    """(access key id, region, signing name) of a SigV4 request: from its Authorization header, or the
    X-Amz-Credential of a presigned URL; (None, "us-east-1", "") for an unsigned request."""
    from urllib.parse import parse_qs, urlparse

    auth = headers.get("Authorization") or ""
    if "Credential=" in auth:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].strip()
    else:
        scope = (parse_qs(urlparse(uri or "").query).get("X-Amz-Credential") or [""])[0]
    parts = scope.split("/")
    if len(parts) < 4:
        return None, "us-east-1", ""
    return parts[0], parts[2], parts[3]


def is_admin_key(access_key_id: str | None) -> bool:
    return access_key_id is not None and access_key_id in config.current().iam_admin_keys


def _account_of(access_key_id: str) -> str:
    from moto.iam.models import get_account_id_from

    return get_account_id_from(access_key_id)


def principal_arn(access_key_id: str) -> str | None:
    """The IAM principal behind an access key: `arn:aws:iam::<acct>:user/<name>` for an IAM user's key, the
    ROLE ARN (`arn:aws:iam::<acct>:role/<name>`, not the session ARN) for assumed-role credentials, None
    for the admin keys. Raises LookupError for a key the endpoint never issued (AWS: InvalidClientTokenId)."""
    if is_admin_key(access_key_id):
        return None
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    account = _account_of(access_key_id)
    for assumed in sts_backends[account][DEFAULT_PARTITION].assumed_roles:
        if assumed.access_key_id == access_key_id:
            return assumed.role_arn
    iam = iam_backends[account][DEFAULT_PARTITION]
    for user in iam.users.values():
        if any(k.access_key_id == access_key_id for k in user.access_keys):
            return user.arn
    raise LookupError(f"The security token included in the request is invalid: access key {access_key_id} "
                      "was not issued by this endpoint")


def session_arn(access_key_id: str) -> str | None:
    """The ARN AWS names in AccessDenied messages: the assumed-role session ARN
    (`arn:aws:sts::<acct>:assumed-role/<role>/<session>`) or the IAM user ARN; None for the admin keys."""
    if is_admin_key(access_key_id):
        return None
    from moto.sts.models import sts_backends

    account = _account_of(access_key_id)
    for assumed in sts_backends[account][DEFAULT_PARTITION].assumed_roles:
        if assumed.access_key_id == access_key_id:
            return assumed.arn
    return principal_arn(access_key_id)


@dataclass(frozen=True)
class ServiceCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: datetime
    role_arn: str

    def env(self) -> dict[str, str]:
        """The variables AWS sets in a function's or job's environment."""
        return {"AWS_ACCESS_KEY_ID": self.access_key_id, "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
                "AWS_SESSION_TOKEN": self.session_token}

    def boto3_kwargs(self) -> dict[str, str]:
        return {"aws_access_key_id": self.access_key_id, "aws_secret_access_key": self.secret_access_key,
                "aws_session_token": self.session_token}


class ServiceRoleError(Exception):
    """The service may not assume the role (missing role, or its trust policy does not allow the service)."""


_cache: dict[tuple[str, str, str], ServiceCredentials] = {}
_cache_lock = threading.Lock()


def trust_allows_service(trust_policy: str | dict, service: str, context: dict[str, str]) -> bool:
    """Does the role's trust policy let `service` (e.g. lambda.amazonaws.com) call sts:AssumeRole?
    Statements are evaluated with their conditions (aws:SourceAccount, aws:SourceArn) against `context`."""
    from .patches import iam_policy

    doc = json.loads(trust_policy) if isinstance(trust_policy, str) else trust_policy
    return iam_policy.evaluate_trust(doc, "sts:AssumeRole", {"Service": service}, context) == iam_policy.ALLOW


def assume_service_role(role_arn: str, service: str, *, source_arn: str | None = None,
                        session_name: str | None = None, region: str = "us-east-1") -> ServiceCredentials:
    """Credentials of `role_arn` as `service` gets them on AWS (sts:AssumeRole by the service principal),
    after checking that the role exists and that its trust policy allows the service. Cached per
    (role, service, session) until shortly before they expire."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    parts = role_arn.split(":")
    if len(parts) < 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
        raise ServiceRoleError(f"{role_arn!r} is not an IAM role ARN")
    account = parts[4]
    iam = iam_backends[account][DEFAULT_PARTITION]
    try:
        role = iam.get_role_by_arn(role_arn)
    except Exception as exc:
        raise ServiceRoleError(f"{service} cannot assume {role_arn}: the role does not exist") from exc
    context = {"aws:SourceAccount": account}
    if source_arn:
        context["aws:SourceArn"] = source_arn
    if not trust_allows_service(role.assume_role_policy_document, service, context):
        raise ServiceRoleError(f"{service} is not allowed to assume {role_arn}: its trust policy does not allow "
                               f"sts:AssumeRole by the service principal {service}")
    session_name = session_name or service.split(".")[0]
    key = (role_arn, service, session_name)
    now = datetime.now(UTC)
    with _cache_lock:
        cached = _cache.get(key)
        if cached and cached.expiration - now > _RENEW_BEFORE:
            return cached
        assumed = sts_backends[account][DEFAULT_PARTITION].assume_role(
            region_name=region, role_session_name=session_name,
            role_arn=role_arn, policy="", duration=SESSION_DURATION_S, external_id="")
        creds = ServiceCredentials(assumed.access_key_id, assumed.secret_access_key, assumed.session_token,
                                   assumed.expiration.replace(tzinfo=UTC), role_arn)
        _cache[key] = creds
        log.info("%s assumed %s (session %s)", service, role_arn, assumed.arn)
        return creds
