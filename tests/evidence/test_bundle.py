"""Bundles: contract section 3 shape, atomic writes, loading with clear errors, redaction."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.errors import UsageError
from harness.evidence.bundle import load_bundle, redact_bundle, validate_bundle, write_bundle

KEY_ARN = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def bundle() -> dict[str, Any]:
    key_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "App", "Effect": "Allow",
             "Principal": {"AWS": "arn:aws:iam::222222222222:role/team/payments-app"},
             "Action": "kms:Decrypt", "Resource": "*"},
        ],
    }  # fmt: skip
    return {
        "kind": "kms-evidence-bundle",
        "version": 1,
        "collected_at": "2026-11-29T12:00:00Z",
        "request": {
            "principal": "arn:aws:sts::222222222222:assumed-role/payments-app/i-0abc",
            "action": "kms:Decrypt",
            "key": "alias/payments-data",
            "region": "us-east-1",
            "encryption_context": {"app": "billing"},
        },
        "calls": [
            {"service": "kms", "operation": "DescribeKey", "region": "us-east-1",
             "account": "111111111111", "params": {"KeyId": "alias/payments-data"},
             "response": {"KeyMetadata": {"Arn": KEY_ARN, "AWSAccountId": "111111111111",
                                          "KeyId": KEY_ARN.rsplit("/", 1)[1]}}},
            {"service": "kms", "operation": "GetKeyPolicy", "region": "us-east-1",
             "account": "111111111111", "params": {"KeyId": KEY_ARN, "PolicyName": "default"},
             "response": {"Policy": json.dumps(key_policy), "PolicyName": "default"}},
            {"service": "kms", "operation": "ListAliases", "region": "us-east-1", "params": {},
             "response": {"Aliases": [
                 {"AliasName": "alias/payments-data", "TargetKeyId": KEY_ARN.rsplit("/", 1)[1],
                  "AliasArn": "arn:aws:kms:us-east-1:111111111111:alias/payments-data"},
                 {"AliasName": "alias/aws/ebs"}]}},
            {"service": "iam", "operation": "GetRole", "region": "us-east-1",
             "account": "222222222222", "params": {"RoleName": "payments-app"},
             "response": {"Role": {"RoleName": "payments-app", "Path": "/team/",
                                   "Arn": "arn:aws:iam::222222222222:role/team/payments-app",
                                   "RoleId": "AROAEXAMPLEID"}}},
            {"service": "cloudtrail", "operation": "LookupEvents", "region": "us-east-1",
             "params": {"LookupAttributes": [{"AttributeKey": "Username", "AttributeValue": "i-0abc"}]},
             "response": {"Events": [{"Username": "i-0abc", "CloudTrailEvent": json.dumps({
                 "userIdentity": {"type": "AssumedRole", "principalId": "AROAEXAMPLEID:i-0abc",
                                  "arn": "arn:aws:sts::222222222222:assumed-role/payments-app/i-0abc"},
                 "eventName": "Decrypt", "errorCode": "AccessDenied"})}]}},
            {"service": "organizations", "operation": "DescribeOrganization", "region": "us-east-1",
             "response": {"Organization": {"Id": "o-a1b2c3d4e5", "MasterAccountId": "111111111111",
                                           "MasterAccountEmail": "admin@example.com"}}},
            {"service": "kms", "operation": "ListGrants", "region": "us-east-1",
             "error": {"code": "AccessDeniedException", "message": "no"}},
        ],
    }  # fmt: skip


def test_a_valid_bundle_round_trips(tmp_path: Path) -> None:
    path = write_bundle(tmp_path / "b.json", bundle())
    assert load_bundle(path) == bundle()


def test_write_is_atomic_a_failed_write_leaves_no_file(tmp_path: Path) -> None:
    bad = bundle()
    bad["calls"][0]["response"]["not-json"] = {1, 2}  # a set cannot be written as JSON
    with pytest.raises(TypeError):
        write_bundle(tmp_path / "b.json", bad)
    assert list(tmp_path.iterdir()) == []


def test_write_replaces_an_existing_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text("old")
    write_bundle(path, bundle())
    assert json.loads(path.read_text())["kind"] == "kms-evidence-bundle"
    assert [p.name for p in tmp_path.iterdir()] == ["b.json"]


def test_write_refuses_an_invalid_bundle_and_writes_nothing(tmp_path: Path) -> None:
    bad = bundle()
    del bad["calls"][0]["service"]
    with pytest.raises(UsageError, match=r"at \$\.calls\[0\]"):
        write_bundle(tmp_path / "b.json", bad)
    assert list(tmp_path.iterdir()) == []


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"bundle not found: .*nope\.json"):
        load_bundle(tmp_path / "nope.json")


def test_load_bad_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text('{\n  "kind": "kms-evidence-bundle",\n  "version": 1,,\n}')
    with pytest.raises(UsageError, match=r"not valid JSON: .* at line 3 column"):
        load_bundle(path)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda b: b.update(kind="something-else"), r"at \$\.kind"),
        (lambda b: b.update(version=2), r"at \$\.version"),
        (lambda b: b["request"].pop("principal"), r"at \$\.request: 'principal' is a required"),
        (
            lambda b: b["calls"][1].pop("response"),
            r"at \$\.calls\[1\]: a call needs a 'response' or an 'error'",
        ),
        (lambda b: b["calls"][6].update(response={}), r"at \$\.calls\[6\]: .*not both"),
        (
            lambda b: b["calls"][6]["error"].pop("code"),
            r"at \$\.calls\[6\]\.error: 'code' is a required",
        ),
    ],
)
def test_schema_violations_name_the_json_path(change: Any, where: str, tmp_path: Path) -> None:
    data = bundle()
    change(data)
    path = tmp_path / "b.json"
    path.write_text(json.dumps(data))
    with pytest.raises(UsageError, match=where):
        load_bundle(path)


def test_unknown_services_and_extra_fields_are_kept() -> None:
    data = bundle()
    data["calls"].append({"service": "s3", "operation": "HeadObject", "response": {"x": 1}})
    data["collection"] = {"api_calls": 3}
    assert validate_bundle(data) is data


# -- redaction -----------------------------------------------------------------------------


def test_redaction_replaces_accounts_and_names_consistently() -> None:
    original = bundle()
    red = redact_bundle(original)
    text = json.dumps(red)
    for secret in ("111111111111", "222222222222", "payments-app", "payments-data", "i-0abc",
                   "team", "admin@example.com", "o-a1b2c3d4e5"):  # fmt: skip
        assert secret not in text, secret
    assert original == bundle(), "the input must not change"
    assert red["redacted"] is True
    validate_bundle(red)
    # Consistency: the principal's role in the request, in GetRole and in the key policy
    # still line up, so the bundle diagnoses the same way.
    principal = red["request"]["principal"]
    account, role, session = principal.split(":")[4], *principal.split("/")[1:3]
    get_role = red["calls"][3]
    assert get_role["params"]["RoleName"] == role == get_role["response"]["Role"]["RoleName"]
    assert get_role["account"] == account
    policy = json.loads(red["calls"][1]["response"]["Policy"])
    assert policy["Statement"][1]["Principal"]["AWS"] == get_role["response"]["Role"]["Arn"]
    assert get_role["response"]["Role"]["Arn"].endswith(
        f":role/{get_role['response']['Role']['Path'].strip('/')}/{role}"
    )
    # The alias named in the request is the alias listed, and points at the same key.
    aliases = red["calls"][2]["response"]["Aliases"]
    assert aliases[0]["AliasName"] == red["request"]["key"]
    assert aliases[1]["AliasName"] == "alias/aws/ebs"  # AWS's names are not the customer's
    event = json.loads(red["calls"][4]["response"]["Events"][0]["CloudTrailEvent"])
    assert event["userIdentity"]["arn"] == principal
    assert event["userIdentity"]["principalId"] == f"AROAEXAMPLEID:{session}"
    assert red["calls"][4]["params"]["LookupAttributes"][0]["AttributeValue"] == session
    # AWS vocabulary is untouched.
    assert policy["Statement"][1]["Action"] == "kms:Decrypt"
    assert red["request"]["action"] == "kms:Decrypt"


def test_pseudonymous_accounts_never_collide_with_real_ones() -> None:
    data = bundle()
    data["request"]["key_account"] = "100000000001"  # the first pseudonym a naive scheme picks
    red = redact_bundle(data)
    accounts = {
        red["calls"][0]["account"],
        red["calls"][3]["account"],
        red["request"]["key_account"],
    }
    assert len(accounts) == 3
