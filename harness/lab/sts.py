"""STS of the lab: AssumeRole and GetSessionToken issue credentials the lab then enforces;
GetCallerIdentity answers for operator and issued credentials alike."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from harness.aws import arns
from harness.aws.errors import QueryAccessDenied
from harness.lab.errors import AwsError
from harness.lab.identity import LabPrincipal, random_id
from harness.lab.protocol import xml_value

if TYPE_CHECKING:
    from harness.lab.gateway import LabGateway

ROLE_NAME_RE = re.compile(r"^[\w+=,.@-]+$")
SESSION_NAME_RE = re.compile(r"^[\w+=,.@-]{2,64}$")
# AWS packs session policies; the plain-text limit is 2,048 characters (API_AssumeRole.html).
MAX_SESSION_POLICY_CHARS = 2048


def _error(code: str, message: str, status: int = 400) -> AwsError:
    return AwsError(code, message, status)


def policy_arns(params: dict[str, str]) -> list[str]:
    out = []
    index = 1
    while f"PolicyArns.member.{index}.arn" in params:
        out.append(params[f"PolicyArns.member.{index}.arn"])
        index += 1
    return out


def credentials_xml(principal: LabPrincipal, secret: str, token: str) -> str:
    expiration = principal.expires.strftime("%Y-%m-%dT%H:%M:%SZ") if principal.expires else ""
    return (
        "<Credentials>"
        + xml_value("AccessKeyId", principal.access_key)
        + xml_value("SecretAccessKey", secret)
        + xml_value("SessionToken", token)
        + xml_value("Expiration", expiration)
        + "</Credentials>"
    )


class Sts:
    def __init__(self, lab: LabGateway) -> None:
        self.lab = lab

    def get_caller_identity(self, caller: LabPrincipal) -> str:
        return (
            xml_value("Arn", caller.arn)
            + xml_value("UserId", caller.user_id)
            + xml_value("Account", caller.account)
        )

    def assume_role(
        self, caller: LabPrincipal, params: dict[str, str]
    ) -> tuple[str, LabPrincipal, dict[str, Any]]:
        role_arn = params.get("RoleArn", "")
        session = params.get("RoleSessionName", "")
        role_ref = arns.principal(role_arn)
        if (
            role_ref.kind != "role"
            or role_ref.partition != "aws"
            or not ROLE_NAME_RE.match(role_ref.name)
        ):
            raise _error("ValidationError", f"{role_arn} is invalid")
        if not SESSION_NAME_RE.match(session):
            raise _error(
                "ValidationError",
                "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: "
                "Member must satisfy regular expression pattern: [\\w+=,.@-]*",
            )
        account, name = role_ref.account, role_ref.name
        role = self.lab.iam.role(account, name)
        if role is None or role.get("Arn") != role_arn:
            raise QueryAccessDenied(
                reason=f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
            )
        if not caller.operator and self.lab.controls.flag("enforce_trust_policies"):
            trust = role.get("AssumeRolePolicyDocument")
            if isinstance(trust, str):
                from harness.lab.iam import _doc

                trust = _doc(trust)
            self.lab.authz.authorize_other(
                caller, "us-east-1", "sts:AssumeRole", role_arn, _as_resource_policy(trust)
            )
        duration = _duration(params, 3600)
        if not 900 <= duration <= 43200:
            raise _error(
                "ValidationError",
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            )
        statements: list[Any] = []
        inline = params.get("Policy")
        if inline is not None:
            if len(inline) > MAX_SESSION_POLICY_CHARS:
                raise _error(
                    "PackedPolicyTooLarge",
                    "Packed policy consumes more than 100 percent of the allotted space.",
                )
            try:
                doc = json.loads(inline)
            except ValueError as exc:
                raise _error(
                    "MalformedPolicyDocument", "The policy is not in the valid JSON format."
                ) from exc
            statements += _statements(doc)
        policy_arn_list = policy_arns(params)
        for arn in policy_arn_list:
            doc = self.lab.iam.managed_policy(arn)
            if doc is None:
                raise _error(
                    "InvalidParameterValue",
                    f"The policy {arn} does not exist or is not attachable.",
                )
            statements += _statements(doc)
        session_policy = (
            {"Version": "2012-10-17", "Statement": statements}
            if inline is not None or policy_arn_list
            else None
        )
        template = LabPrincipal(
            account=account,
            arn=f"arn:aws:sts::{account}:assumed-role/{name}/{session}",
            kind="AssumedRole",
            role_name=name,
            role_arn=role_arn,
            role_id=str(role.get("RoleId") or random_id("AROA")),
            session_name=session,
            session_policy=session_policy,
        )
        template.user_id = f"{template.role_id}:{session}"
        principal, secret, token = self.lab.identities.issue(
            template, duration, self.lab.controls.now(template.account)
        )
        xml = (
            credentials_xml(principal, secret, token)
            + "<AssumedRoleUser>"
            + xml_value("AssumedRoleId", principal.user_id)
            + xml_value("Arn", principal.arn)
            + "</AssumedRoleUser>"
            + xml_value("PackedPolicySize", 6 if session_policy else 0)
        )
        request: dict[str, Any] = {
            "roleArn": role_arn,
            "roleSessionName": session,
            "durationSeconds": duration,
        }
        if inline is not None:
            request["policy"] = inline
        if policy_arn_list:
            request["policyArns"] = [{"arn": a} for a in policy_arn_list]
        return xml, principal, request

    def get_session_token(
        self, caller: LabPrincipal, params: dict[str, str]
    ) -> tuple[str, LabPrincipal]:
        if caller.kind == "AssumedRole":
            raise QueryAccessDenied(reason="Cannot call GetSessionToken with session credentials")
        duration = _duration(params, 43200)
        if not 900 <= duration <= 129600:
            raise _error("ValidationError", "DurationSeconds must be between 900 and 129600")
        principal, secret, token = self.lab.identities.issue(
            caller, duration, self.lab.controls.now(caller.account)
        )
        return credentials_xml(principal, secret, token), principal


def _statements(doc: Any) -> list[Any]:
    if not isinstance(doc, dict):
        raise _error("MalformedPolicyDocument", "The policy is not in the valid JSON format.")
    st = doc.get("Statement", [])
    return list(st) if isinstance(st, list) else [st]


def _as_resource_policy(trust: Any) -> dict[str, Any]:
    """A trust policy has no Resource element (the role is implied); the evaluator reads
    resource policies, so the implied resource is made explicit."""
    if not isinstance(trust, dict):
        return {"Version": "2012-10-17", "Statement": []}
    statements = trust.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    out = []
    for st in statements:
        if isinstance(st, dict) and "Resource" not in st and "NotResource" not in st:
            st = {**st, "Resource": "*"}
        out.append(st)
    return {**trust, "Statement": out}


def _duration(params: dict[str, str], default: int) -> int:
    raw = params.get("DurationSeconds")
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise _error(
            "ValidationError", f"Value '{raw}' at 'durationSeconds' is not a number"
        ) from exc
