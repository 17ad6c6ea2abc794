"""Calls of services other than KMS: one authorization step for issued credentials over a table
of services, and the forwarding of what the lab does not answer itself to the upstream,
re-signed as the calling account's operator.

What each service the lab knows gets (`SERVICES`): Organizations, CloudTrail and Health are
answered by the lab; IAM, EC2 (VPC endpoints), CloudWatch Logs and the STS operations the lab
does not issue credentials with are forwarded. Either way an issued caller is authorized first,
on "<prefix>:<Operation>" and the resource the entry names, by identity policies, boundary,
session policy and SCPs (`Authorizer.authorize_other`), so "the investigator lacks permission"
reproduces as AWS would refuse it. STS AssumeRole is decided with the role's trust policy
(sts.py), GetCallerIdentity needs no permission (API_GetCallerIdentity.html). S3 holds only the
provisioners' trail buckets and is open to operators alone (authn.py); any other service is
refused at authentication and never forwarded.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import botocore.auth
import botocore.awsrequest
import botocore.credentials
from werkzeug.wrappers import Response

from harness.aws.errors import (
    Ec2UnauthorizedOperation,
    JsonAccessDenied,
    KnownAwsError,
    QueryAccessDenied,
)
from harness.errors import EndpointError
from harness.lab import validate
from harness.lab.iam import is_mutation
from harness.lab.identity import LabPrincipal
from harness.lab.protocol import AwsRequest
from harness.lab.upstream import OPERATOR_SECRET

if TYPE_CHECKING:
    from harness.lab.gateway import LabGateway

log = logging.getLogger("kmslab.lab")
DROP_HEADERS = {
    "host",
    "authorization",
    "x-amz-security-token",
    "x-amz-date",
    "content-length",
    "x-amz-content-sha256",
    "x-lab-source-vpce",
    "x-lab-via-service",
    "connection",
    "accept-encoding",
    "amz-sdk-invocation-id",
    "amz-sdk-request",
}
HOP_HEADERS = {
    "transfer-encoding",
    "connection",
    "content-length",
    "content-encoding",
    "server",
    "date",
}
ACCESS_KEY_RE = re.compile(r"<AccessKeyId>([^<]+)</AccessKeyId>")
SECRET_KEY_RE = re.compile(r"<SecretAccessKey>([^<]+)</SecretAccessKey>")
USER_NAME_RE = re.compile(r"<UserName>([^<]+)</UserName>")
VPCE_ID_RE = re.compile(r"<vpcEndpointId>(vpce-[0-9a-z]+)</vpcEndpointId>")
# STS operations the lab answers itself (sts.py), all others are forwarded.
STS_SERVED = ("AssumeRole", "GetSessionToken", "GetCallerIdentity")


def anywhere(lab: LabGateway, req: AwsRequest, account: str) -> str:
    return "*"


def iam_resource(lab: LabGateway, req: AwsRequest, account: str) -> str:
    """The ARN an IAM action acts on (for authorization), "*" when it has none."""
    p = req.params
    path = p.get("Path") or "/"
    if (
        p.get("PolicyArn")
        and not p.get("RoleName")
        and not p.get("UserName")
        and not p.get("GroupName")
    ):
        return str(p["PolicyArn"])
    if p.get("RoleName"):
        role = lab.iam.role(account, p["RoleName"])
        return str(role["Arn"]) if role else f"arn:aws:iam::{account}:role{path}{p['RoleName']}"
    if p.get("UserName"):
        user = lab.iam.user(account, p["UserName"])
        return str(user["Arn"]) if user else f"arn:aws:iam::{account}:user{path}{p['UserName']}"
    if p.get("GroupName"):
        return f"arn:aws:iam::{account}:group{path}{p['GroupName']}"
    if p.get("PolicyName") and req.operation == "CreatePolicy":
        return f"arn:aws:iam::{account}:policy{path}{p['PolicyName']}"
    if p.get("InstanceProfileName"):
        return f"arn:aws:iam::{account}:instance-profile{path}{p['InstanceProfileName']}"
    return "*"


@dataclass(frozen=True)
class ServiceRoute:
    prefix: str  # the IAM action prefix
    resource: Callable[[LabGateway, AwsRequest, str], str]  # the resource ARN of a request, or "*"
    answered_by: str  # "lab", "upstream", or "lab+upstream" (STS)
    unauthorized: tuple[str, ...] = ()  # operations decided elsewhere (see the module doc)
    # The refusal in the service's own shape (harness.aws.errors says where each comes from).
    denied: type[KnownAwsError] = JsonAccessDenied


SERVICES: dict[str, ServiceRoute] = {
    "organizations": ServiceRoute("organizations", anywhere, "lab"),
    "cloudtrail": ServiceRoute("cloudtrail", anywhere, "lab"),
    "health": ServiceRoute("health", anywhere, "lab"),
    "iam": ServiceRoute("iam", iam_resource, "upstream", denied=QueryAccessDenied),
    "ec2": ServiceRoute("ec2", anywhere, "upstream", denied=Ec2UnauthorizedOperation),
    "logs": ServiceRoute("logs", anywhere, "upstream"),
    "sts": ServiceRoute("sts", anywhere, "lab+upstream", STS_SERVED, QueryAccessDenied),
}


def authorize(lab: LabGateway, req: AwsRequest, principal: LabPrincipal) -> None:
    """The one authorization step of non-KMS calls by issued credentials."""
    route = SERVICES.get(req.service)
    if route is None or principal.operator or req.operation in route.unauthorized:
        return
    if not lab.controls.flag("authorize_iam"):
        return
    resource = route.resource(lab, req, principal.account)
    lab.authz.authorize_other(
        principal, req.region, f"{route.prefix}:{req.operation}", resource, denied=route.denied
    )


def plain_params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k not in ("Action", "Version")}


def forward(lab: LabGateway, req: AwsRequest, principal: LabPrincipal) -> Response:
    """Send the request to the upstream as the calling account's operator; the answer back."""
    account = principal.account
    doomed = _doomed_principal(lab, req, account)
    headers = {k: v for k, v in req.http.headers.items() if k.lower() not in DROP_HEADERS}
    path = req.http.full_path if req.http.query_string else req.http.path
    aws_request = botocore.awsrequest.AWSRequest(
        method=req.http.method, url=lab.upstream.url + path, data=req.body, headers=headers
    )
    creds = botocore.credentials.Credentials(account, OPERATOR_SECRET)
    botocore.auth.SigV4Auth(creds, req.service, req.region).add_auth(aws_request)
    out_headers = dict(aws_request.headers.items())
    out_headers["x-moto-account-id"] = account
    try:
        status, resp_headers, body = lab.upstream.send(req.http.method, path, out_headers, req.body)
    except EndpointError:
        raise
    except Exception:  # in-process moto raises where its server would answer HTML 500
        log.debug("lab: upstream raised on %s %s", req.service, req.operation, exc_info=True)
        status, resp_headers, body = 500, {}, b""
    refusal = validate.upstream_refusal(req, status, body)
    if refusal is not None:
        raise refusal
    if status < 300:
        _after_forward(lab, req, principal, body)
        if doomed is not None:
            lab.kms.orphan_principal(*doomed)
    headers_out = [(k, v) for k, v in resp_headers.items() if k.lower() not in HOP_HEADERS]
    return Response(body, status=status, headers=headers_out)


def _doomed_principal(lab: LabGateway, req: AwsRequest, account: str) -> tuple[str, str] | None:
    """(ARN, unique id) of a role or user this request deletes, read before it is gone."""
    if req.service != "iam" or req.operation not in ("DeleteRole", "DeleteUser"):
        return None
    if req.operation == "DeleteRole":
        entity = lab.iam.role(account, req.params.get("RoleName", ""))
        unique = entity.get("RoleId") if entity else None
    else:
        entity = lab.iam.user(account, req.params.get("UserName", ""))
        unique = entity.get("UserId") if entity else None
    if not entity or not unique:
        return None
    return str(entity["Arn"]), str(unique)


def _after_forward(lab: LabGateway, req: AwsRequest, principal: LabPrincipal, body: bytes) -> None:
    service, op = req.service, req.operation
    if service == "iam":
        if not is_mutation(op):
            return
        lab.iam.invalidate()
        text = body.decode("utf-8", "replace")
        if op == "CreateAccessKey":
            _register_access_key(lab, principal.account, text)
        elif op == "DeleteAccessKey":
            lab.identities.forget(req.params.get("AccessKeyId", ""))
        elif op == "DeleteUser":
            lab.identities.forget_user(principal.account, req.params.get("UserName", ""))
        lab.trail.record(
            principal.account,
            "us-east-1",
            principal,
            "iam.amazonaws.com",
            op,
            plain_params(req.params),
            read_only=False,
            user_agent=req.user_agent,
            request_id=req.request_id,
        )
    elif service == "ec2" and op.endswith(("VpcEndpoint", "VpcEndpoints")):
        if op == "CreateVpcEndpoint":
            match = VPCE_ID_RE.search(body.decode("utf-8", "replace"))
            if match:
                lab.authz.register_vpce(match.group(1), principal.account, req.region)
        lab.authz.invalidate_vpce()


def _register_access_key(lab: LabGateway, account: str, text: str) -> None:
    key = ACCESS_KEY_RE.search(text)
    user = USER_NAME_RE.search(text)
    secret = SECRET_KEY_RE.search(text)
    if not key or not user or not secret:
        return
    info = lab.iam.user(account, user.group(1))
    arn = str(info["Arn"]) if info else f"arn:aws:iam::{account}:user/{user.group(1)}"
    user_id = str(info["UserId"]) if info else ""
    lab.identities.register(
        LabPrincipal(
            account=account,
            arn=arn,
            kind="IAMUser",
            access_key=key.group(1),
            user_id=user_id,
            user_name=user.group(1),
            secret=secret.group(1),
        )
    )
