"""The lab gateway: one WSGI app that serves admin routes, answers what the lab owns
(KMS through its route table, STS issuance, Organizations, CloudTrail, Health) and hands the
rest of the services it knows to `forwarding` (authorized first, then re-signed as the calling
account's operator for the upstream)."""

from __future__ import annotations

import json
import logging
from typing import Any

import botocore.exceptions
from werkzeug.wrappers import Request, Response

from harness.aws.arns import is_account_id
from harness.aws.errors import Throttling
from harness.errors import EndpointError, KmslabError, UsageError
from harness.lab import forwarding, protocol, validate
from harness.lab.authn import Authenticator, check_context
from harness.lab.authz import Authorizer
from harness.lab.cloudtrail import CloudTrail
from harness.lab.controls import Controls
from harness.lab.errors import AwsError
from harness.lab.forwarding import plain_params
from harness.lab.health import Health
from harness.lab.iam import IamView, is_mutation
from harness.lab.identity import IdentityStore, LabPrincipal
from harness.lab.kms.call import KmsCall
from harness.lab.kms.keystate import CRYPTO_OPERATIONS
from harness.lab.kms.model import KmsStore
from harness.lab.kms.service import KmsService, unknown_operation
from harness.lab.kms.trail import record_kms
from harness.lab.logs import filter_log_events
from harness.lab.orgs import Organization
from harness.lab.room_page import RoomBoard
from harness.lab.sts import Sts
from harness.lab.upstream import Upstream

log = logging.getLogger("kmslab.lab")
CRYPTO_QUOTA = frozenset(CRYPTO_OPERATIONS - {"CreateGrant"}) | {"GenerateRandom"}


class LabGateway:
    """All state of one lab endpoint."""

    def __init__(self, upstream: Upstream, room_secret: str | None = None) -> None:
        self.upstream = upstream
        self.authn = Authenticator(self, room_secret)
        self.identities = IdentityStore()
        self.controls = Controls()
        self.kms_store = KmsStore()
        self.iam = IamView(upstream)
        self.orgs = Organization()
        self.trail = CloudTrail(self)
        self.authz = Authorizer(self)
        self.kms = KmsService(
            self.kms_store,
            self.controls,
            self.authz,
            self.iam.principal_exists,
            self.trail.service_event,
        )
        self.sts = Sts(self)
        self.health = Health(self.controls)
        self.room_board = RoomBoard()
        self.endpoint = ""
        self.accounts_seen: set[str] = set()
        self.regions_seen: set[str] = set()
        # Named JSON values any component keeps in the saved lab state (harness/lab/state.py).
        self.sections: dict[str, Any] = {}
        # Model validation of parameters; an in-process switch for `make bench` only (no route
        # turns it off).
        self.validate_input = True

    def reset(self) -> dict[str, Any]:
        upstream_cleared = self.upstream.reset()
        if not upstream_cleared:
            from harness.lab.sweep import sweep

            sweep(self)
        self.identities.reset()
        self.controls.reset()
        self.room_board.reset()
        self.kms_store.reset()
        self.iam.invalidate()
        self.orgs.reset()
        self.trail.reset()
        self.authz.reset()
        self.accounts_seen.clear()
        self.regions_seen.clear()
        self.sections.clear()
        return {"reset": True, "upstream_reset": upstream_cleared}

    # WSGI --------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        http = Request(environ)
        try:
            response = self.admin(http) if http.path.startswith("/_kmslab/") else self.aws(http)
        except Exception as exc:  # the lab never crashes on a request
            log.exception("lab: unexpected error")
            response = protocol.json_response(
                {
                    "__type": "InternalFailure",
                    "message": f"lab internal error: {type(exc).__name__}: {exc}",
                },
                500,
            )
        return response(environ, start_response)

    def admin(self, http: Request) -> Response:
        route = http.path[len("/_kmslab/") :].strip("/")
        if route == "room" and http.method == "GET":
            # The facilitator's page opens with its own page token, never operator credentials.
            if not self.room_board.opens(http.args.get("token")):
                return Response("no room page for this token\n", 403, content_type="text/plain")
            return Response(self.room_board.page(), 200, content_type="text/html; charset=utf-8")
        if route != "health" and not self.authn.admin_allowed(http):
            # Only operators administer the lab: issued credentials (a workshop participant's
            # role, say) must not switch authorization off or wipe the room.
            return Response(
                json.dumps(
                    {
                        "error": "admin routes need operator authentication: a request signed "
                        "with operator credentials (access key id = account id"
                        + ("; the room's operator secret)" if self.authn.room_secret else ")")
                        + " or the X-Kmslab-Token header"
                    }
                ),
                403,
                content_type="application/json",
            )
        try:
            if route == "health":
                # Open to anyone, so it names no upstream address: embedded moto has none, and a
                # LocalStack port is not advertised.
                body: Any = {
                    "status": "ok",
                    "endpoint": self.endpoint,
                    "upstream": self.upstream.kind,
                    "upstream_kind": self.upstream.kind,
                    "room": self.authn.room_secret is not None,
                    "accounts": ["111111111111", "222222222222", "333333333333"],
                    "organization": self.orgs.org_id,
                }
            elif route == "reset" and http.method == "POST":
                body = self.reset()
            elif route == "state" or route.startswith("state/"):
                from harness.lab.state_routes import state_route

                return state_route(self, http, route)
            elif route == "room" and http.method == "POST":
                try:
                    snapshot = json.loads(http.get_data() or b"{}")
                except ValueError:
                    raise UsageError("room: body is not JSON") from None
                body = self.room_board.publish(snapshot)
            elif route == "controls" and http.method == "GET":
                body = self.controls.snapshot()
            elif route == "controls" and http.method in ("POST", "PUT"):
                try:
                    update = json.loads(http.get_data() or b"{}")
                except (ValueError, RecursionError):  # a 100,000-deep body is not JSON we read
                    return Response(
                        json.dumps({"error": "controls: body is not JSON"}),
                        400,
                        content_type="application/json",
                    )
                if http.method == "PUT":
                    self.controls.reset()
                body = self.controls.merge(update)
            else:
                return Response(
                    json.dumps({"error": f"no admin route {http.method} {http.path}"}),
                    404,
                    content_type="application/json",
                )
        except KmslabError as exc:
            return Response(json.dumps({"error": str(exc)}), 400, content_type="application/json")
        return Response(json.dumps(body, default=str), 200, content_type="application/json")

    def aws(self, http: Request) -> Response:
        try:
            validate.envelope(http)
            req = protocol.parse(http)
        except AwsError as err:
            scope = protocol.credential_scope(http)
            service = scope[2] if scope else ""
            proto = (
                "json"
                if http.headers.get("X-Amz-Target")
                else ("cbor" if http.path.startswith("/service/") else "query")
            )
            return protocol.error_response(proto, service, err, "")
        try:
            principal = self.authn.principal(req)
            if req.source_vpce is not None or req.via_service is not None:
                check_context(self, principal, req.region, req.source_vpce, req.via_service)
        except AwsError as err:
            return protocol.error_response(req.protocol, req.service, err, req.request_id)
        try:
            return self.dispatch(req, principal)
        except AwsError as err:
            return protocol.error_response(req.protocol, req.service, err, req.request_id)
        except (
            EndpointError,
            botocore.exceptions.BotoCoreError,
            botocore.exceptions.ClientError,
        ) as exc:
            return protocol.error_response(
                req.protocol, req.service, self.upstream_error(req, exc), req.request_id
            )

    def upstream_error(self, req: protocol.AwsRequest, exc: Exception) -> AwsError:
        """The upstream failed or is gone: a retryable AWS error naming it, never a crash."""
        detail = f"lab upstream {self.upstream.describe()} failed: {exc}"
        if req.service == "kms":
            return AwsError("DependencyTimeoutException", detail, 500)
        return AwsError("ServiceUnavailable", detail, 503)

    def dispatch(self, req: protocol.AwsRequest, principal: LabPrincipal) -> Response:
        service = req.service
        if service == "kms" and req.operation not in self.kms.routes:
            # Before model validation: an operation the lab has no route for is unknown to it,
            # whatever its parameters (harness/lab/kms/routes.py).
            raise unknown_operation(req.operation)
        if self.validate_input:
            validate.request(req)
        self.accounts_seen.add(principal.account)
        self.regions_seen.add(req.region)
        if service == "kms":
            return self.kms_call(req, principal)
        # Investigators hold lab-issued credentials; their reads must be refused as AWS would
        # refuse them, or "the investigator lacks permission" cannot be reproduced.
        forwarding.authorize(self, req, principal)
        if service == "sts" and req.operation in forwarding.STS_SERVED:
            return self.sts_call(req, principal)
        if service == "organizations":
            result = self.orgs.handle(principal.account, req.operation, req.params)
            self.record_other(req, principal, "organizations.amazonaws.com", result)
            return protocol.json_response(result, request_id=req.request_id)
        if service == "cloudtrail":
            result = self.trail.handle(principal, req.region, req.operation, req.params)
            return protocol.json_response(result, request_id=req.request_id)
        if service == "health":
            result = self.health.handle(req.operation, req.params, principal.account)
            if req.protocol == "cbor":
                return protocol.cbor_response(result, request_id=req.request_id)
            return protocol.json_response(result, request_id=req.request_id)
        if service == "logs" and req.operation == "FilterLogEvents":
            pattern = str(req.params.get("filterPattern") or "").strip()
            if pattern.startswith("{"):
                result = filter_log_events(
                    self.upstream.client("logs", principal.account, req.region), req.params
                )
                return protocol.json_response(result, request_id=req.request_id)
        return forwarding.forward(self, req, principal)

    # KMS -----------------------------------------------------------------------------------------
    def kms_call(self, req: protocol.AwsRequest, principal: LabPrincipal) -> Response:
        call = KmsCall(
            principal,
            req.region,
            req.operation,
            req.params,
            via_service=req.via_service,
            source_vpce=req.source_vpce,
            request_id=req.request_id,
        )
        error: AwsError | None = None
        result: dict[str, Any] = {}
        try:
            # requests-per-second.html: cryptographic operations share one request quota per
            # account and Region; management calls (DescribeKey, GetKeyPolicy, ...) have their own.
            if self.controls.throttled(principal.account, req.operation in CRYPTO_QUOTA):
                raise Throttling()
            result = self.kms.handle(call)
        except AwsError as err:
            error = err
        record_kms(self, req, call, result, error)
        if error is not None:
            raise error
        return protocol.json_response(result, request_id=req.request_id)

    # STS, IAM and the rest -------------------------------------------------------------------------
    def sts_call(self, req: protocol.AwsRequest, principal: LabPrincipal) -> Response:
        op = req.operation
        if op == "GetCallerIdentity":
            xml = self.sts.get_caller_identity(principal)
            return protocol.query_response("sts", op, xml, req.request_id)
        try:
            if op == "AssumeRole":
                xml, issued, request = self.sts.assume_role(principal, req.params)
                response = {
                    "assumedRoleUser": {"assumedRoleId": issued.user_id, "arn": issued.arn},
                    "credentials": {"accessKeyId": issued.access_key},
                }
                for account in sorted({issued.account, principal.account}):
                    self.trail.record(
                        account,
                        req.region,
                        principal,
                        "sts.amazonaws.com",
                        "AssumeRole",
                        request,
                        response=response,
                        resources=[issued.role_arn or ""],
                        read_only=True,
                        user_agent=req.user_agent,
                        request_id=req.request_id,
                    )
            else:
                xml, issued = self.sts.get_session_token(principal, req.params)
                self.trail.record(
                    principal.account,
                    req.region,
                    principal,
                    "sts.amazonaws.com",
                    op,
                    {"durationSeconds": req.params.get("DurationSeconds")},
                    read_only=True,
                    user_agent=req.user_agent,
                    request_id=req.request_id,
                )
        except AwsError as err:
            self.trail.record(
                principal.account,
                req.region,
                principal,
                "sts.amazonaws.com",
                op,
                {k: v for k, v in req.params.items() if k in ("RoleArn", "RoleSessionName")},
                error=err,
                read_only=True,
                user_agent=req.user_agent,
                request_id=req.request_id,
            )
            raise
        return protocol.query_response("sts", op, xml, req.request_id)

    def record_other(
        self, req: protocol.AwsRequest, principal: LabPrincipal, source: str, result: Any
    ) -> None:
        if is_mutation(req.operation) and not req.operation.startswith(("Describe", "Lookup")):
            self.trail.record(
                principal.account,
                req.region if source.startswith("organizations") is False else "us-east-1",
                principal,
                source,
                req.operation,
                plain_params(req.params),
                read_only=False,
                user_agent=req.user_agent,
                request_id=req.request_id,
            )


def operator_account(access_key: str) -> str | None:
    return access_key if is_account_id(access_key) else None
