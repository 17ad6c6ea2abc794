"""Malformed KMS, Organizations and CloudTrail requests get AWS-shaped 4xx errors, never a
lab crash (a 5xx InternalFailure would mean an unhandled case)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from lab.labkit import LabKit

AUTH = "AWS4-HMAC-SHA256 Credential=111111111111/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=00"
TARGETS = {
    "kms": "TrentService",
    "organizations": "AWSOrganizationsV20161128",
    "cloudtrail": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101",
}
WEIRD: list[Any] = [
    "x",
    -1,
    True,
    ["x"],
    {"a": 1},
    "arn:aws:kms:us-east-1:111111111111:key/" + "0" * 8,
]
FIELDS = (
    "KeyId",
    "Plaintext",
    "CiphertextBlob",
    "EncryptionContext",
    "GrantTokens",
    "Operations",
    "Constraints",
    "GranteePrincipal",
    "Tags",
    "TagKeys",
    "Policy",
    "KeySpec",
    "NumberOfBytes",
    "AliasName",
    "TargetKeyId",
    "PendingWindowInDays",
    "ReplicaRegion",
    "ImportToken",
    "EncryptedKeyMaterial",
    "ValidTo",
    "CustomKeyStoreId",
    "Limit",
    "Marker",
    "GrantId",
    "LookupAttributes",
    "StartTime",
    "MaxResults",
    "NextToken",
    "Name",
    "PolicyId",
    "TargetId",
    "Content",
    "Type",
    "Filter",
    "ChildId",
    "ParentId",
    "DestinationKeyId",
    "SourceEncryptionContext",
    "MultiRegion",
    "Origin",
    "KeyUsage",
    "Message",
    "SigningAlgorithm",
    "MacAlgorithm",
)


def call(endpoint: str, service: str, operation: str, body: Any) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        endpoint + "/",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"{TARGETS[service]}.{operation}",
            "Authorization": AUTH.format(service=service),
        },
    )
    try:
        with urllib.request.urlopen(request) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@pytest.mark.slow
def test_kms_operations_never_crash_on_malformed_input(moto_lab: LabKit) -> None:
    key = moto_lab.key()
    assert moto_lab.server.lab is not None
    operations = sorted(moto_lab.server.lab.kms.routes)
    crashes = []
    for op in operations:
        for field in FIELDS:
            for value in WEIRD:
                body = {"KeyId": key["Arn"], field: value}
                status, out = call(moto_lab.endpoint, "kms", op, body)
                if status >= 500 and out.get("__type") not in ("DependencyTimeoutException",):
                    crashes.append(f"{op} {field}={value!r}: {status} {out}")
    assert crashes == [], crashes[:10]


@pytest.mark.parametrize("service", ["organizations", "cloudtrail"])
def test_other_json_services_never_crash(moto_lab: LabKit, service: str) -> None:
    operations = (
        [
            "DescribeOrganization",
            "ListRoots",
            "ListParents",
            "ListChildren",
            "CreatePolicy",
            "AttachPolicy",
            "DetachPolicy",
            "ListPoliciesForTarget",
            "DescribePolicy",
            "UpdatePolicy",
            "DeletePolicy",
            "MoveAccount",
            "CreateOrganizationalUnit",
            "ListTargetsForPolicy",
            "TagResource",
            "InviteAccountToOrganization",
        ]
        if service == "organizations"
        else [
            "LookupEvents",
            "CreateTrail",
            "DescribeTrails",
            "GetTrail",
            "StartLogging",
            "PutEventSelectors",
            "GetEventSelectors",
            "DeleteTrail",
            "AddTags",
            "ListTags",
        ]
    )
    crashes = []
    for op in operations:
        for field in FIELDS:
            for value in WEIRD:
                status, out = call(moto_lab.endpoint, service, op, {field: value})
                if status >= 500:
                    crashes.append(f"{op} {field}={value!r}: {status} {out}")
    assert crashes == [], crashes[:10]


def test_query_protocol_garbage_is_a_client_error(moto_lab: LabKit) -> None:
    body = b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::111111111111:role/x&RoleSessionName=ab&DurationSeconds=abc"
    request = urllib.request.Request(
        moto_lab.endpoint + "/",
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": AUTH.format(service="sts"),
        },
    )
    moto_lab.role("x")
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(request)
    assert exc.value.code == 400 and b"<Code>ValidationError</Code>" in exc.value.read()
