"""Who may call the lab: SigV4 verification of every AWS request and of admin requests.

- Issued credentials (STS AssumeRole / GetSessionToken, IAM CreateAccessKey) are verified like
  AWS does: the secret the lab handed out, the session token of temporary credentials, the
  credential scope (date, a real Region, the service the request is for), clock skew, expiry
  (the lab's clock: controls `clock_offset_seconds`).
- Operators (access key id = 12-digit account id): any secret (contract section 5), except in
  room mode, where the signature must be made with the room's operator secret.
- Admin routes (`/_kmslab/*`, all but `health`): a request signed by an operator, or the
  header `X-Kmslab-Token: <room operator secret>` in room mode.
"""

from __future__ import annotations

import datetime as dt
import hmac
import threading
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request

from harness.aws.arns import is_account_id
from harness.lab import sigv4
from harness.lab.errors import AwsError
from harness.lab.identity import LabPrincipal, operator
from harness.lab.protocol import AwsRequest, credential_scope

if TYPE_CHECKING:
    from harness.lab.gateway import LabGateway

TOKEN_HEADER = "X-Kmslab-Token"
# Served to issued credentials and operators alike (contract section 5).
SERVED = ("cloudtrail", "ec2", "health", "iam", "kms", "logs", "organizations", "sts")
# S3 only holds CloudTrail trail buckets the provisioners create; operators only.
OPERATOR_ONLY = ("s3",)
_models_lock = threading.Lock()


@lru_cache(maxsize=1)
def _service_tables() -> tuple[dict[str, str], dict[str, str]]:
    """(JSON target prefix -> service, query API version -> service), read from botocore's
    service models so the lab keeps no copy of them."""
    import botocore.session

    with _models_lock:
        session = botocore.session.get_session()
        targets: dict[str, str] = {}
        versions: dict[str, str] = {}
        for name in SERVED:
            model = session.get_service_model(name)
            prefix = model.metadata.get("targetPrefix")
            if prefix:
                targets[prefix] = model.signing_name
            else:
                versions[model.metadata["apiVersion"]] = model.signing_name
    return targets, versions


@lru_cache(maxsize=1)
def _partitions() -> dict[str, dict[str, object]]:
    import botocore.session

    data = botocore.session.get_session().get_data("endpoints")
    return {p["partition"]: p for p in data["partitions"]}


@lru_cache(maxsize=256)
def is_region(name: str) -> bool:
    """A Region AWS has (botocore's endpoint data, every partition)."""
    return any(name in p["regions"] for p in _partitions().values())  # type: ignore[operator]


@lru_cache(maxsize=1024)
def is_service_endpoint(host: str, region: str) -> bool:
    """`host` is `<service>.<region>.amazonaws.com` (or the partition's DNS suffix) of a
    service AWS runs in `region`: what kms:ViaService names (conditions-kms.html#conditions-kms-via-service)."""
    for partition in _partitions().values():
        if region not in partition["regions"]:  # type: ignore[operator]
            continue
        suffix = f".{region}.{partition['dnsSuffix']}"
        if not host.endswith(suffix):
            return False
        service = host[: -len(suffix)]
        entry = partition["services"].get(service)  # type: ignore[attr-defined]
        if not entry:
            return False
        endpoints = entry.get("endpoints", {})
        return region in endpoints or bool(entry.get("isRegionalized") is False)
    return False


def request_service(http: Request, params: dict[str, Any]) -> str | None:
    """The service a request is for, from its protocol (target prefix, CBOR path, Version)."""
    targets, versions = _service_tables()
    target = http.headers.get("X-Amz-Target", "")
    if target:
        return targets.get(target.rsplit(".", 1)[0])
    if http.path.startswith("/service/"):
        return targets.get(http.path.split("/")[2])
    version = params.get("Version")
    if version:
        return versions.get(version)
    return None


class Authenticator:
    """Decides who a request is, or refuses it with the caller's protocol's code."""

    def __init__(self, lab: LabGateway, room_secret: str | None = None) -> None:
        self.lab = lab
        self.room_secret = room_secret
        # Off only for `make bench` (the cost of verification, same run); never over HTTP.
        self.verify_signatures = True

    def principal(self, req: AwsRequest) -> LabPrincipal:
        try:
            return self._principal(req.http, req.params, req.body)
        except sigv4.Refusal as refusal:
            raise sigv4.refusal(req.protocol, refusal.kind, refusal.message) from None

    def _principal(self, http: Request, params: dict[str, Any], body: bytes) -> LabPrincipal:
        scope = credential_scope(http)
        if scope is not None and is_account_id(scope[0]) and self.room_secret is None:
            # Outside room mode an operator's secret is not checked (contract section 5), so
            # neither is the rest of the signature; the scope still names what is served.
            self._check_scope(http, params, scope[1], scope[2])
            if scope[2] not in SERVED + OPERATOR_ONLY:
                raise _wrong_service(scope[2])
            return operator(scope[0])
        signed = sigv4.parse(http)
        self._check_scope(http, params, signed.region, signed.service)
        if is_account_id(signed.access_key):
            if signed.service not in SERVED + OPERATOR_ONLY:
                raise _wrong_service(signed.service)
            sigv4.check_time(signed, dt.datetime.now(dt.UTC))
            if self.room_secret is not None:
                sigv4.verify(http, signed, self.room_secret, body)
            return operator(signed.access_key)
        if signed.service not in SERVED:
            raise _wrong_service(signed.service)
        found = self.lab.identities.lookup(signed.access_key)
        if found is None:
            raise sigv4.Refusal("unknown-key", sigv4.INVALID_TOKEN)
        token = http.headers.get("X-Amz-Security-Token") or http.args.get("X-Amz-Security-Token")
        if (found.session_token or None) != (token or None) or (
            token and not hmac.compare_digest(token, found.session_token or "")
        ):
            # A temporary key id without its token, with another session's token, or a
            # long-term key with a token: AWS does not recognise the credential.
            raise sigv4.Refusal("unknown-key", sigv4.INVALID_TOKEN)
        if found.expires is not None and found.expires <= self.lab.controls.now(found.account):
            raise sigv4.Refusal("expired-token", sigv4.EXPIRED_TOKEN)
        sigv4.check_time(signed, dt.datetime.now(dt.UTC))
        if self.verify_signatures:
            sigv4.verify(http, signed, found.secret, body)
        return found

    def _check_scope(
        self, http: Request, params: dict[str, Any], region: str, service: str
    ) -> None:
        if not is_region(region):
            raise sigv4.Refusal("signature", "Credential should be scoped to a valid region.")
        wanted = request_service(http, params)
        if wanted is not None and wanted != service:
            raise sigv4.Refusal(
                "signature", f"Credential should be scoped to correct service: '{wanted}'."
            )

    def admin_allowed(self, http: Request) -> bool:
        """Operator authentication for `/_kmslab/*` (see the module doc)."""
        token = http.headers.get(TOKEN_HEADER)
        if token is not None:
            return self.room_secret is not None and hmac.compare_digest(
                token.encode(), self.room_secret.encode()
            )
        try:
            signed = sigv4.parse(http)
            if not is_account_id(signed.access_key):
                return False
            sigv4.check_time(signed, dt.datetime.now(dt.UTC))
            if self.room_secret is not None:
                sigv4.verify(http, signed, self.room_secret, http.get_data(cache=True))
        except sigv4.Refusal:
            return False
        return True


def _wrong_service(service: str) -> sigv4.Refusal:
    return sigv4.Refusal(
        "signature",
        f"Credential should be scoped to correct service: the lab serves "
        f"{', '.join(SERVED)}; not '{service}'.",
    )


def check_context(lab: LabGateway, principal: LabPrincipal, region: str, vpce: str | None,
                  via: str | None) -> None:  # fmt: skip
    """The network and service context headers must name things that exist, as the network
    would only ever deliver real ones: a VPC endpoint of the caller's Region, a service
    endpoint of the call's Region."""
    if via is not None and not is_service_endpoint(via.strip().lower(), region):
        raise AwsError(
            "AccessDeniedException",
            f"X-Lab-Via-Service {via!r} is not a service endpoint of {region} "
            f"(expected <service>.{region}.amazonaws.com)",
            400,
        )
    if vpce is not None:
        home = lab.authz.vpce_home(vpce)
        found = lab.authz.vpce(vpce, principal.account, region)
        if found is None or (home is not None and home[1] != region):
            # The request could only have arrived through an endpoint that exists.
            raise AwsError(
                "AccessDeniedException",
                f"X-Lab-Source-Vpce {vpce!r} names no VPC endpoint in {region}",
                400,
            )
