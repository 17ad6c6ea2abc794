"""Compose evidence bundles (contract section 3) from AWS-documented response shapes.

Shapes follow the KMS, IAM, STS, Organizations, EC2, CloudTrail and Health API references
(https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html, API_GetKeyPolicy.html,
API_ListGrants.html, API_ListAliases.html; IAM API_GetRole.html, API_GetRolePolicy.html,
API_GetPolicyVersion.html; awscloudtrail/latest/APIReference/API_LookupEvents.html and the event
record of https://docs.aws.amazon.com/kms/latest/developerguide/ct-decrypt.html).
"""

from __future__ import annotations

import copy
import json
from typing import Any

ACCT = "111111111111"
OTHER = "222222222222"
REGION = "us-east-1"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCT}:key/{KEY_ID}"
OTHER_KEY_ID = "0987dcba-09fe-87dc-65ba-ab0987654321"
OTHER_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCT}:key/{OTHER_KEY_ID}"
ROLE = "app"
ROLE_ARN = f"arn:aws:iam::{ACCT}:role/{ROLE}"
ROLE_ID = "AROAEXAMPLEAPPROLE01"
SESSION = "i-0abc"
SESSION_ARN = f"arn:aws:sts::{ACCT}:assumed-role/{ROLE}/{SESSION}"
COLLECTED_AT = "2026-11-29T12:00:00Z"
THROTTLED_MESSAGE = (
    "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls."
)


def denied_message(
    principal: str, action: str, resource: str, phrase: str | None, explicit: bool = False
) -> str:
    """IAM's documented AccessDenied shape (IAM troubleshoot_access-denied.html)."""
    base = f"User: {principal} is not authorized to perform: {action} on resource: {resource}"
    if phrase is None:
        return base
    if explicit:
        return f"{base} with an explicit deny in a {phrase}"
    return f"{base} because no {phrase} allows the {action} action"


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def root_statement(account: str = ACCT) -> dict[str, Any]:
    """The default "Enable IAM policies" statement (key-policy-default.html)."""
    return {
        "Sid": "Enable IAM User Permissions",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }


def allow(
    principal: str | list[str],
    actions: str | list[str],
    sid: str = "AllowUse",
    condition: dict[str, Any] | None = None,
    resource: str = "*",
) -> dict[str, Any]:
    st: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": actions,
        "Resource": resource,
    }
    if condition:
        st["Condition"] = condition
    return st


def identity_allow(
    actions: str | list[str], resource: str | list[str] = KEY_ARN, sid: str = "UseKey"
) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource}


def deny(
    actions: str | list[str],
    sid: str = "DenyUse",
    principal: str | None = "*",
    resource: str = "*",
    condition: dict[str, Any] | None = None,
) -> dict[str, Any]:
    st: dict[str, Any] = {"Sid": sid, "Effect": "Deny", "Action": actions, "Resource": resource}
    if principal is not None:
        st["Principal"] = {"AWS": principal} if principal != "*" else "*"
    if condition:
        st["Condition"] = condition
    return st


def key_metadata(**over: Any) -> dict[str, Any]:
    md = {
        "AWSAccountId": ACCT,
        "KeyId": KEY_ID,
        "Arn": KEY_ARN,
        "CreationDate": "2026-01-01T00:00:00Z",
        "Enabled": True,
        "Description": "",
        "KeyUsage": "ENCRYPT_DECRYPT",
        "KeyState": "Enabled",
        "Origin": "AWS_KMS",
        "KeyManager": "CUSTOMER",
        "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT",
        "KeySpec": "SYMMETRIC_DEFAULT",
        "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
        "MultiRegion": False,
    }
    md.update(over)
    return md


def ct_event(
    name: str,
    *,
    key_arn: str = KEY_ARN,
    principal: str = SESSION_ARN,
    context: dict[str, str] | None = None,
    error: tuple[str, str] | None = None,
    time: str = "2026-11-29T11:58:00Z",
    key_param: str | None = None,
    region: str = REGION,
    source: str = "kms.amazonaws.com",
    params: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """A CloudTrail record as LookupEvents returns it (CloudTrailEvent is a JSON string)."""
    request: dict[str, Any] = dict(params or {})
    if source == "kms.amazonaws.com":
        request.setdefault("keyId", key_param or key_arn)
        request.setdefault("encryptionAlgorithm", "SYMMETRIC_DEFAULT")
        if context is not None:
            request["encryptionContext"] = context
    record: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "AssumedRole",
            "arn": principal,
            "accountId": ACCT,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "arn": ROLE_ARN,
                    "accountId": ACCT,
                    "userName": ROLE,
                }
            },
        },
        "eventTime": time,
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "requestParameters": request,
        "responseElements": response,
        "eventID": event_id or f"{name}-{time}-{key_arn[-4:]}",
        "readOnly": True,
        "eventType": "AwsApiCall",
    }
    if source == "kms.amazonaws.com" and key_arn:
        record["resources"] = [{"accountId": ACCT, "type": "AWS::KMS::Key", "ARN": key_arn}]
    if error:
        record["errorCode"], record["errorMessage"] = error
    return record


class Bundle:
    def __init__(
        self,
        principal: str = SESSION_ARN,
        action: str = "kms:Decrypt",
        key: str = KEY_ARN,
        region: str = REGION,
        **extra: Any,
    ) -> None:
        self.request: dict[str, Any] = {
            "principal": principal,
            "action": action,
            "key": key,
            "region": region,
        }
        self.request.update(extra)
        self.calls: list[dict[str, Any]] = []

    # -- generic ---------------------------------------------------------------------------
    def call(
        self,
        service: str,
        operation: str,
        params: dict[str, Any] | None = None,
        response: dict[str, Any] | None = None,
        error: tuple[str, str] | None = None,
        region: str | None = None,
        account: str = ACCT,
    ) -> Bundle:
        c: dict[str, Any] = {
            "service": service,
            "operation": operation,
            "region": region or self.request["region"],
            "account": account,
            "params": params or {},
        }
        if error:
            c["error"] = {"code": error[0], "message": error[1]}
        else:
            c["response"] = response or {}
        self.calls.append(c)
        return self

    def throttled(
        self, service: str, operation: str, params: dict[str, Any], *, not_sent: bool = False
    ) -> Bundle:
        """A read throttled by AWS, or one the collector's breaker recorded without sending it
        (harness/evidence/calls.py). KMS's documented ThrottlingException: HTTP 400 and this
        message (https://docs.aws.amazon.com/kms/latest/developerguide/throttling.html,
        https://docs.aws.amazon.com/kms/latest/APIReference/CommonErrors.html)."""
        self.call(service, operation, params, error=("ThrottlingException", THROTTLED_MESSAGE))
        record = self.calls[-1]
        if not_sent:
            why = f"not sent: {service} calls of account {ACCT} in {REGION} were throttled"
            record["error"]["message"] = why
            record["note"] = f"{why}; sending more would only add to the throttling"
        else:
            record["error"]["http_status"] = 400
        return self

    def observed(self, code: str, message: str = "") -> Bundle:
        self.request["observed_error"] = {"code": code, "message": message}
        return self

    def denied(self, phrase: str | None, explicit: bool = False, resource: str = KEY_ARN) -> Bundle:
        return self.observed(
            "AccessDeniedException",
            denied_message(
                self.request["principal"], self.request["action"], resource, phrase, explicit
            ),
        )

    # -- KMS ---------------------------------------------------------------------------------
    def describe_key(
        self, region: str | None = None, key_id: str | None = None, **md: Any
    ) -> Bundle:
        return self.call(
            "kms",
            "DescribeKey",
            {"KeyId": key_id or self.request["key"]},
            {"KeyMetadata": key_metadata(**md)},
            region=region,
        )

    def describe_key_error(self, code: str, message: str, region: str | None = None) -> Bundle:
        return self.call(
            "kms",
            "DescribeKey",
            {"KeyId": self.request["key"]},
            error=(code, message),
            region=region,
        )

    def key_policy(
        self, doc: dict[str, Any] | str, region: str | None = None, key_arn: str = KEY_ARN
    ) -> Bundle:
        text = doc if isinstance(doc, str) else json.dumps(doc)
        return self.call(
            "kms",
            "GetKeyPolicy",
            {"KeyId": key_arn, "PolicyName": "default"},
            {"Policy": text, "PolicyName": "default"},
            region=region,
        )

    def key_policy_error(self, code: str = "AccessDeniedException", message: str = "") -> Bundle:
        return self.call(
            "kms",
            "GetKeyPolicy",
            {"KeyId": KEY_ARN, "PolicyName": "default"},
            error=(
                code,
                message
                or f"User: arn:aws:sts::{ACCT}:assumed-role/investigator/x is not authorized to perform: kms:GetKeyPolicy on resource: {KEY_ARN} because no resource-based policy allows the kms:GetKeyPolicy action",
            ),
        )

    def grants(self, grants: list[dict[str, Any]], region: str | None = None) -> Bundle:
        return self.call(
            "kms",
            "ListGrants",
            {"KeyId": KEY_ARN},
            {"Grants": grants, "Truncated": False},
            region=region,
        )

    def aliases(self, aliases: list[dict[str, Any]]) -> Bundle:
        return self.call("kms", "ListAliases", {}, {"Aliases": aliases, "Truncated": False})

    # -- IAM -----------------------------------------------------------------------------------
    def role(
        self,
        role_id: str = ROLE_ID,
        boundary: str | None = None,
        arn: str = ROLE_ARN,
        name: str = ROLE,
    ) -> Bundle:
        role: dict[str, Any] = {
            "Path": "/",
            "RoleName": name,
            "RoleId": role_id,
            "Arn": arn,
            "CreateDate": "2026-01-01T00:00:00Z",
            "AssumeRolePolicyDocument": policy(),
        }
        if boundary:
            role["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": boundary,
            }
        self.call("iam", "GetRole", {"RoleName": name}, {"Role": role})
        return self

    def inline(self, name: str, doc: dict[str, Any], role: str = ROLE) -> Bundle:
        self.call("iam", "ListRolePolicies", {"RoleName": role}, {"PolicyNames": [name]})
        return self.call(
            "iam",
            "GetRolePolicy",
            {"RoleName": role, "PolicyName": name},
            {"RoleName": role, "PolicyName": name, "PolicyDocument": doc},
        )

    def managed(
        self, arn: str, doc: dict[str, Any], attach: bool = True, role: str = ROLE
    ) -> Bundle:
        if attach:
            self.call(
                "iam",
                "ListAttachedRolePolicies",
                {"RoleName": role},
                {"AttachedPolicies": [{"PolicyName": arn.rsplit("/", 1)[-1], "PolicyArn": arn}]},
            )
        self.call(
            "iam",
            "GetPolicy",
            {"PolicyArn": arn},
            {
                "Policy": {
                    "PolicyName": arn.rsplit("/", 1)[-1],
                    "Arn": arn,
                    "DefaultVersionId": "v1",
                }
            },
        )
        return self.call(
            "iam",
            "GetPolicyVersion",
            {"PolicyArn": arn, "VersionId": "v1"},
            {"PolicyVersion": {"Document": doc, "VersionId": "v1", "IsDefaultVersion": True}},
        )

    def no_identity_policies(self, role: str = ROLE) -> Bundle:
        self.call("iam", "ListRolePolicies", {"RoleName": role}, {"PolicyNames": []})
        return self.call(
            "iam", "ListAttachedRolePolicies", {"RoleName": role}, {"AttachedPolicies": []}
        )

    # -- other services ------------------------------------------------------------------------
    def cloudtrail(self, *events: dict[str, Any]) -> Bundle:
        wrapped = [
            {
                "EventId": e["eventID"],
                "EventName": e["eventName"],
                "EventTime": e["eventTime"],
                "EventSource": e["eventSource"],
                "CloudTrailEvent": json.dumps(e),
            }
            for e in events
        ]
        return self.call(
            "cloudtrail",
            "LookupEvents",
            {"LookupAttributes": [{"AttributeKey": "ResourceName", "AttributeValue": KEY_ARN}]},
            {"Events": wrapped},
        )

    def health(self, *events: dict[str, Any]) -> Bundle:
        return self.call(
            "health",
            "DescribeEvents",
            {
                "filter": {
                    "services": ["KMS"],
                    "regions": [self.request["region"]],
                    "eventStatusCodes": ["open"],
                }
            },
            {"events": list(events)},
            region="us-east-1",
        )

    def org(
        self,
        policy_type: str,
        levels: list[tuple[str, list[tuple[str, dict[str, Any]]]]],
        account: str = ACCT,
    ) -> Bundle:
        """levels: (target id, [(policy id, document)]) from the root down to the account."""
        chain = [t for t, _ in levels]
        for child, parent in zip(reversed(chain), list(reversed(chain))[1:], strict=False):
            kind = "ROOT" if parent.startswith("r-") else "ORGANIZATIONAL_UNIT"
            self.call(
                "organizations",
                "ListParents",
                {"ChildId": child},
                {"Parents": [{"Id": parent, "Type": kind}]},
            )
        for target, pols in levels:
            self.call(
                "organizations",
                "ListPoliciesForTarget",
                {"TargetId": target, "Filter": policy_type},
                {
                    "Policies": [
                        {"Id": pid, "Name": pid, "Type": policy_type, "AwsManaged": False}
                        for pid, _ in pols
                    ]
                },
            )
            for pid, doc in pols:
                self.call(
                    "organizations",
                    "DescribePolicy",
                    {"PolicyId": pid},
                    {
                        "Policy": {
                            "PolicySummary": {"Id": pid, "Name": pid, "Type": policy_type},
                            "Content": json.dumps(doc),
                        }
                    },
                )
        return self

    def build(self) -> dict[str, Any]:
        return copy.deepcopy(
            {
                "kind": "kms-evidence-bundle",
                "version": 1,
                "collected_at": COLLECTED_AT,
                "request": self.request,
                "calls": self.calls,
            }
        )


def healthy(principal: str = SESSION_ARN, action: str = "kms:Decrypt", **extra: Any) -> Bundle:
    """Key policy with the root statement, an IAM policy allowing the action on the key ARN."""
    b = Bundle(principal=principal, action=action, **extra)
    b.describe_key().key_policy(policy(root_statement())).role().inline(
        "use-key", policy(identity_allow(action))
    )
    b.grants([]).aliases(
        [
            {
                "AliasName": "alias/app-data",
                "AliasArn": f"arn:aws:kms:{REGION}:{ACCT}:alias/app-data",
                "TargetKeyId": KEY_ID,
            }
        ]
    )
    return b
