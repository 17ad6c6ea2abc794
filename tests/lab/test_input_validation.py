"""Input AWS refuses before any logic, refused the same way by the lab (issue 12).

Every test starts as a would-be attacker: credentials the lab issued to an application role
(whose policy allows everything, so a refusal can only come from validation) and the lab's
port. Requests are built by hand and signed like any SDK signs them, because boto3 refuses to
send most of this input. Expected codes and limits come from AWS's API references:
- KMS API_CreateKey: Description "Maximum length of 8192"; API_Decrypt: KeyId "Minimum length
  of 1. Maximum length of 2048"; API_CreateGrant: Name "Minimum length of 1 ... Pattern:
  ^[a-zA-Z0-9:/_-]+$", Constraints is a GrantConstraints (EncryptionContextEquals /
  EncryptionContextSubset); KMS CommonErrors: ValidationException, SerializationException.
- IAM API_ListRoles: MaxItems "Valid Range: Minimum value of 1. Maximum value of 1000";
  API_GetRole: RoleName "Pattern: [\\w+=,.@-]+"; IAM CommonErrors: ValidationError (400).
- STS API_AssumeRole: RoleSessionName "Minimum length of 2", DurationSeconds "Minimum value
  of 900"; STS CommonErrors: ValidationError.
- EC2 errors-overview: InvalidParameterValue, MissingParameter (400).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import cbor2
import pytest

from harness.lab import validate
from harness.lab.kms.model import LabGrant, now
from lab import rawcall
from lab.labkit import APP, LabKit, allow

EVERYTHING = allow(action="*", resource="*")


@pytest.fixture
def attacker(moto_lab: LabKit) -> dict[str, Any]:
    """Issued credentials of a role allowed everything, and a key its account owns."""
    arn = moto_lab.role("app", policy=EVERYTHING)
    creds = moto_lab.assume(arn, "attacker")
    key = moto_lab.key(Description="victim")
    blob = moto_lab.client("kms").encrypt(KeyId=key["Arn"], Plaintext=b"secret")["CiphertextBlob"]
    return {"creds": creds, "key": key, "blob": blob, "role": arn}


def _kms(lab: LabKit, creds: dict[str, str], op: str, params: Any) -> rawcall.Reply:
    return rawcall.json_call(lab.endpoint, "kms", creds, op, params)


def _nested(depth: int) -> bytes:
    return b'{"KeyId": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize("service", ["kms", "organizations", "cloudtrail", "logs"])
def test_a_body_nested_1000_deep_is_a_serialization_error_not_a_crash(
    moto_lab: LabKit, attacker: dict[str, Any], service: str
) -> None:
    operation = {
        "kms": "Decrypt",
        "organizations": "DescribeOrganization",
        "cloudtrail": "LookupEvents",
        "logs": "DescribeLogGroups",
    }[service]
    reply = rawcall.send(
        moto_lab.endpoint, service, attacker["creds"], operation=operation, body=_nested(1000)
    )
    assert reply.status == 400, reply.text
    assert reply.code == "SerializationException"


def test_a_cbor_body_nested_1000_deep_is_refused_by_health(
    moto_lab: LabKit, attacker: dict[str, Any]
) -> None:
    body = b"\x81" * 1000 + b"\x01"  # 1,000 nested one-element arrays
    reply = rawcall.cbor_call(moto_lab.endpoint, attacker["creds"], "DescribeEvents", body)
    assert reply.status == 400
    assert reply.code == "SerializationException"


def _health_event(lab: LabKit) -> None:
    lab.admin.set_controls(
        {
            "health_events": [
                {
                    "service": "KMS",
                    "region": "us-east-1",
                    "eventTypeCode": "AWS_KMS_OPERATIONAL_ISSUE",
                    "startTime": "2026-01-02T03:04:05+00:00",
                }
            ]
        }
    )


# Smithy RPC v2 CBOR (smithy.io aws protocols, "rpcv2Cbor"): maps keyed by text strings, and
# timestamps as tag 1 epoch seconds; nothing else the protocol sends is tagged or shared.
HOSTILE_CBOR = {
    "33 nested maps": b"\xa1\x66filter" * 33 + b"\xa0",
    "a shared reference to itself (tags 28/29)": b"\xa1\x66filter\xd8\x1c\xa1\x61a\xd8\x1d\x00",
    "an integer map key": b"\xa1\x01\x02",
    "a regular expression (tag 35)": b"\xa1\x66filter\xd8\x23\x62.*",
    "a byte string longer than the body": b"\xa1\x66filter\x5b\xff\xff\xff\xff\xff\xff\xff\xff",
    "an array of 2**32-1 items": b"\xa1\x66filter\x9a\xff\xff\xff\xff",
}


@pytest.mark.parametrize("case", sorted(HOSTILE_CBOR))
def test_cbor_the_protocol_never_sends_is_refused_by_health(
    moto_lab: LabKit, attacker: dict[str, Any], case: str
) -> None:
    reply = rawcall.cbor_call(
        moto_lab.endpoint, attacker["creds"], "DescribeEvents", HOSTILE_CBOR[case]
    )
    assert reply.status == 400, reply.text
    assert reply.code == "SerializationException"
    assert reply.content_type.startswith("application/cbor")


def test_health_over_cbor_reads_timestamps_and_answers_them(
    moto_lab: LabKit, attacker: dict[str, Any]
) -> None:
    """boto3 speaks rpcv2Cbor to Health: a filter with times (tag 1) is read, and the event's
    times come back as timestamps boto3 turns into datetimes."""
    _health_event(moto_lab)
    health = moto_lab.client("health", creds=attacker["creds"])
    window = {"from": dt.datetime(2025, 1, 1, tzinfo=dt.UTC)}
    events = health.describe_events(filter={"services": ["KMS"], "startTimes": [window]})
    assert [e["eventTypeCode"] for e in events["events"]] == ["AWS_KMS_OPERATIONAL_ISSUE"]
    assert events["events"][0]["startTime"] == dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    # 32 levels of nesting is within the limit: refused by the model (a list where a structure
    # belongs), not by the decoder.
    nested: Any = "KMS"
    for _ in range(30):
        nested = [nested]
    body = cbor2.dumps({"filter": {"services": nested}})
    reply = rawcall.cbor_call(moto_lab.endpoint, attacker["creds"], "DescribeEvents", body)
    assert reply.status == 400 and reply.code == "SerializationException"
    assert "expected string" in reply.text


def test_a_10_mb_description_is_refused_and_nothing_is_created(
    moto_lab: LabKit, attacker: dict[str, Any]
) -> None:
    kms = moto_lab.client("kms")
    before = len(kms.list_keys()["Keys"])
    reply = _kms(moto_lab, attacker["creds"], "CreateKey", {"Description": "x" * 10_000_000})
    assert 400 <= reply.status < 500 and reply.code, reply.text[:200]
    over = _kms(moto_lab, attacker["creds"], "CreateKey", {"Description": "x" * 8193})
    assert over.status == 400 and over.code == "ValidationException"
    assert "length less than or equal to 8192" in over.text
    assert len(kms.list_keys()["Keys"]) == before
    at_limit = _kms(moto_lab, attacker["creds"], "CreateKey", {"Description": "x" * 8192})
    assert at_limit.status == 200, at_limit.text[:300]


def test_an_empty_key_id_is_a_validation_error(moto_lab: LabKit, attacker: dict[str, Any]) -> None:
    blob = base64.b64encode(attacker["blob"]).decode()
    reply = _kms(moto_lab, attacker["creds"], "Decrypt", {"KeyId": "", "CiphertextBlob": blob})
    assert reply.status == 400 and reply.code == "ValidationException"
    assert "'keyId'" in reply.text and "greater than or equal to 1" in reply.text
    reply = _kms(moto_lab, attacker["creds"], "DescribeKey", {"KeyId": ""})
    assert reply.code == "ValidationException"


@pytest.mark.parametrize("name", ["", "has space", "x" * 257])
def test_a_bad_grant_name_is_refused(moto_lab: LabKit, attacker: dict[str, Any], name: str) -> None:
    reply = _kms(
        moto_lab,
        attacker["creds"],
        "CreateGrant",
        {
            "KeyId": attacker["key"]["Arn"],
            "GranteePrincipal": attacker["role"],
            "Operations": ["Decrypt"],
            "Name": name,
        },
    )
    assert reply.status == 400 and reply.code == "ValidationException", reply.text
    grants = moto_lab.client("kms").list_grants(KeyId=attacker["key"]["Arn"])["Grants"]
    assert grants == []


def test_grant_constraints_outside_the_model_are_refused_and_callers_keep_working(
    moto_lab: LabKit, attacker: dict[str, Any]
) -> None:
    key_arn = attacker["key"]["Arn"]
    for constraints in ({"x": 1}, {"EncryptionContextSubset": {"a": 1}}, ["x"]):
        reply = _kms(
            moto_lab,
            attacker["creds"],
            "CreateGrant",
            {
                "KeyId": key_arn,
                "GranteePrincipal": attacker["role"],
                "Operations": ["Decrypt"],
                "Constraints": constraints,
            },
        )
        assert 400 <= reply.status < 500, reply.text
        assert reply.code in ("ValidationException", "SerializationException"), reply.text
    assert moto_lab.client("kms").list_grants(KeyId=key_arn)["Grants"] == []
    kms = moto_lab.client("kms", creds=attacker["creds"])
    assert kms.decrypt(CiphertextBlob=attacker["blob"])["Plaintext"] == b"secret"


def test_a_stored_grant_of_an_odd_shape_does_not_break_other_callers(
    moto_lab: LabKit, attacker: dict[str, Any]
) -> None:
    """A grant that reached the store some other way (an old state file): the evaluation of
    every other caller on the key still decides normally."""
    lab = moto_lab.server.lab
    assert lab is not None
    key = lab.kms_store.get(APP, "us-east-1", attacker["key"]["KeyId"])
    assert key is not None
    with lab.kms_store.lock:
        key.grants.append(
            LabGrant(
                grant_id="0" * 64,
                key_arn=key.arn,
                grantee=attacker["role"],
                operations=["Decrypt"],
                issuing_account=APP,
                created=now(),
                token="AQpAMx",
                constraints={"x": 1},
            )
        )
    kms = moto_lab.client("kms", creds=attacker["creds"])
    assert kms.decrypt(CiphertextBlob=attacker["blob"])["Plaintext"] == b"secret"
    # and a caller with no access is still denied for the right reason, not by an error
    other = moto_lab.role("nobody", policy=allow(action="sts:GetCallerIdentity"))
    denied = moto_lab.client("kms", creds=moto_lab.assume(other, "nobody"))
    with pytest.raises(denied.exceptions.ClientError) as exc:
        denied.decrypt(CiphertextBlob=attacker["blob"])
    assert exc.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "lab:" not in exc.value.response["Error"]["Message"]


def test_iam_max_items_abc_is_a_validation_error_not_html(
    moto_lab: LabKit, attacker: dict[str, Any]
) -> None:
    reply = rawcall.query_call(
        moto_lab.endpoint, "iam", attacker["creds"], "ListRoles", {"MaxItems": "abc"}
    )
    assert reply.status == 400 and reply.code == "ValidationError", reply.text
    assert "<html" not in reply.text.lower()
    reply = rawcall.query_call(
        moto_lab.endpoint, "iam", attacker["creds"], "ListRoles", {"MaxItems": "1001"}
    )
    assert reply.status == 400 and reply.code == "ValidationError"
    assert "less than or equal to 1000" in reply.text


def test_a_nul_byte_in_a_role_name_is_a_validation_error(
    moto_lab: LabKit, attacker: dict[str, Any]
) -> None:
    for action, params in (
        ("GetRole", {"RoleName": "app\x00"}),
        ("CreateRole", {"RoleName": "evil\x00role", "AssumeRolePolicyDocument": "{}"}),
    ):
        reply = rawcall.query_call(moto_lab.endpoint, "iam", attacker["creds"], action, params)
        assert reply.status == 400 and reply.code == "ValidationError", reply.text
        assert "regular expression pattern" in reply.text
    names = [r["RoleName"] for r in moto_lab.client("iam").list_roles()["Roles"]]
    assert not any("\x00" in n for n in names)


def test_sts_session_name_and_duration_limits(moto_lab: LabKit, attacker: dict[str, Any]) -> None:
    for params in (
        {"RoleArn": attacker["role"], "RoleSessionName": "a"},
        {"RoleArn": attacker["role"], "RoleSessionName": "ok-name", "DurationSeconds": "899"},
        {"RoleArn": attacker["role"], "RoleSessionName": "ok-name", "DurationSeconds": "x"},
    ):
        reply = rawcall.query_call(
            moto_lab.endpoint, "sts", attacker["creds"], "AssumeRole", params
        )
        assert reply.status == 400 and reply.code == "ValidationError", (params, reply.text)


def test_ec2_refusals_use_ec2_codes(moto_lab: LabKit, attacker: dict[str, Any]) -> None:
    bad_type = rawcall.query_call(
        moto_lab.endpoint, "ec2", attacker["creds"], "DescribeVpcEndpoints", {"MaxResults": "x"}
    )
    assert bad_type.status == 400 and bad_type.code == "InvalidParameterValue", bad_type.text
    missing = rawcall.query_call(
        moto_lab.endpoint, "ec2", attacker["creds"], "DeleteVpcEndpoints", {}
    )
    assert missing.status == 400 and missing.code == "MissingParameter", missing.text


def test_unknown_query_action_is_invalid_action(moto_lab: LabKit, attacker: dict[str, Any]) -> None:
    reply = rawcall.query_call(moto_lab.endpoint, "iam", attacker["creds"], "StealEverything", {})
    assert reply.status == 400 and reply.code == "InvalidAction"


def test_an_upstream_html_page_becomes_the_protocol_error() -> None:
    class Req:
        service, operation, protocol = "iam", "GetRole", "query"

    page = b"<!DOCTYPE html><html><title>500 Internal Server Error</title></html>"
    err = validate.upstream_refusal(Req(), 500, page)
    assert err is not None and err.code == "ValidationError" and err.status == 400
    Req.protocol, Req.service = "json", "logs"
    err = validate.upstream_refusal(Req(), 500, page)
    assert err is not None and err.code == "ValidationException"
    aws = b'{"__type": "ResourceNotFoundException", "message": "x"}'
    assert validate.upstream_refusal(Req(), 400, aws) is None


def test_the_lab_still_serves_after_every_refusal(
    moto_lab: LabKit, attacker: dict[str, Any]
) -> None:
    rawcall.send(
        moto_lab.endpoint, "kms", attacker["creds"], operation="Decrypt", body=_nested(5000)
    )
    rawcall.query_call(moto_lab.endpoint, "iam", attacker["creds"], "GetRole", {"RoleName": "\0"})
    kms = moto_lab.client("kms", creds=attacker["creds"])
    assert kms.decrypt(CiphertextBlob=attacker["blob"])["Plaintext"] == b"secret"
    assert json.loads(json.dumps(moto_lab.admin.health()))["status"] == "ok"


@pytest.mark.parametrize(
    "content",
    [
        {"Version": "2012-10-17", "Statement": 5},
        {"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "*"}]},
    ],
)
def test_an_unreadable_scp_is_refused_so_it_cannot_break_every_caller(
    moto_lab: LabKit, attacker: dict[str, Any], content: dict[str, Any]
) -> None:
    """Organizations API_CreatePolicy: MalformedPolicyDocumentException for a document that
    does not meet the policy type's requirements. Stored, it would apply to every account."""
    reply = rawcall.json_call(
        moto_lab.endpoint,
        "organizations",
        attacker["creds"],
        "CreatePolicy",
        {
            "Content": json.dumps(content),
            "Description": "x",
            "Name": "evil",
            "Type": "SERVICE_CONTROL_POLICY",
        },
    )
    assert reply.status == 400 and reply.code == "MalformedPolicyDocumentException", reply.text
    kms = moto_lab.client("kms", creds=attacker["creds"])
    assert kms.decrypt(CiphertextBlob=attacker["blob"])["Plaintext"] == b"secret"


def test_a_query_body_with_20000_list_entries_is_refused_promptly(
    moto_lab: LabKit, attacker: dict[str, Any]
) -> None:
    """IAM API_CreateRole: Tags "Maximum number of 50 items". A hostile body well under the
    size limit carries 40,000 parameters; the refusal must not take quadratic time (1.6e9 prefix
    comparisons: the request's 30-second timeout would fail this test)."""
    params = {"RoleName": "tagged", "AssumeRolePolicyDocument": "{}"}
    for i in range(1, 20001):
        params[f"Tags.member.{i}.Key"] = f"k{i}"
        params[f"Tags.member.{i}.Value"] = "v"
    reply = rawcall.query_call(moto_lab.endpoint, "iam", attacker["creds"], "CreateRole", params)
    assert reply.status == 400 and reply.code == "ValidationError", reply.text[:300]
    assert "less than or equal to 50" in reply.text


def test_a_deep_controls_body_from_an_operator_is_a_400(moto_lab: LabKit) -> None:
    """Admin routes parse JSON too: a 100,000-deep body is refused, the lab does not fail."""
    import urllib.error
    import urllib.request

    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials

    body = b"[" * 100_000 + b"]" * 100_000
    url = moto_lab.endpoint + "/_kmslab/controls"
    request = botocore.awsrequest.AWSRequest(method="POST", url=url, data=body)
    creds = botocore.credentials.Credentials(APP, "operator")
    botocore.auth.SigV4Auth(creds, "kmslab", "us-east-1").add_auth(request)
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, data=body, method="POST", headers=dict(request.headers))
        ) as resp:
            status = resp.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    assert status == 400
    assert moto_lab.admin.health()["status"] == "ok"
