"""Each Playbook step against the lab: a scenario whose evidence the step must capture, and
the same step when the investigator's own credentials lack its permission (the lab
authorizes every KMS call of issued credentials the way AWS does, contract section 5).

Expected shapes are AWS's: CloudTrail record fields
(https://docs.aws.amazon.com/kms/latest/developerguide/ct-decrypt.html), AssumeRole's
requestParameters.policy (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html),
Health DescribeEvents (https://docs.aws.amazon.com/health/latest/APIReference/API_DescribeEvents.html),
DescribeCustomKeyStores ConnectionState
(https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeCustomKeyStores.html).
"""

from __future__ import annotations

import json
from typing import Any

import botocore.exceptions
import pytest

from harness.aws.clients import Target
from harness.evidence import InvestigationRequest, investigator_policy
from harness.lab import LabClient

from .lab_world import APP_ACCOUNT, LabWorld
from .scenarios import allow, doc
from .support import Collect, calls, deny_with, one

DENIED = "AccessDeniedException"


def req(principal: str, key: str, **kwargs: Any) -> InvestigationRequest:
    return InvestigationRequest(
        principal=principal, action="kms:Decrypt", key=key, region="us-east-1", **kwargs
    )


def investigator_without(lab: LabWorld, *missing: str) -> Target:
    """Issued credentials of a role holding the printed investigator policy minus `missing`."""
    policy = investigator_policy()
    statement = policy["Statement"][0]
    statement["Action"] = [a for a in statement["Action"] if a not in missing]
    lab.role("investigator", policy)
    target, _ = lab.assume("investigator", "oncall")
    return target


def app_with(lab: LabWorld, actions: list[str]) -> tuple[Target, str]:
    lab.role("app", {"Version": "2012-10-17", "Statement": [allow(actions)]})
    return lab.assume("app", "i-0abc")


def fail(fn: Any, **kwargs: Any) -> str:
    with pytest.raises(botocore.exceptions.ClientError) as info:
        fn(**kwargs)
    return str(info.value.response["Error"]["Code"])


# -- the printed policy is enough ----------------------------------------------------------


def test_investigator_policy_suffices_for_every_kms_read(lab: LabWorld, lab_run: Collect) -> None:
    _, principal = app_with(lab, ["kms:Decrypt"])
    key = lab.key()
    investigator = investigator_without(lab)
    bundle = lab_run(req(principal, key["Arn"]), investigator).bundle
    kms_errors = [c for c in bundle["calls"] if c["service"] == "kms" and "error" in c]
    assert kms_errors == []
    assert len(calls(bundle, "kms", "DescribeKey")) == 1


# -- step 1 / 6 ----------------------------------------------------------------------------


def test_step1_health_event_and_pending_deletion(lab: LabWorld, lab_run: Collect) -> None:
    LabClient(lab.endpoint).set_controls({"health_events": [{
        "region": "us-east-1", "service": "KMS", "eventTypeCode": "AWS_KMS_OPERATIONAL_ISSUE",
        "statusCode": "open", "description": "Increased error rates"}]})  # fmt: skip
    app, principal = app_with(lab, ["kms:*"])
    key = lab.key()
    blob = app.client("kms", max_attempts=2).encrypt(KeyId=key["Arn"], Plaintext=b"x")[
        "CiphertextBlob"
    ]
    lab.client("kms").schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    assert (
        fail(app.client("kms", max_attempts=2).decrypt, CiphertextBlob=blob)
        == "KMSInvalidStateException"
    )
    bundle = lab_run(req(principal, key["Arn"])).bundle
    events = one(bundle, "health", "DescribeEvents")["response"]["events"]
    assert [(e["service"], e["region"], e["statusCode"]) for e in events] == [
        ("KMS", "us-east-1", "open")
    ]
    meta = one(bundle, "kms", "DescribeKey")["response"]["KeyMetadata"]
    assert meta["KeyState"] == "PendingDeletion"
    assert meta["DeletionDate"]


def test_step1_and_6_investigator_without_describe_key(lab: LabWorld, lab_run: Collect) -> None:
    _, principal = app_with(lab, ["kms:Decrypt"])
    key = lab.key()
    lab.client("kms").disable_key(KeyId=key["KeyId"])
    bundle = lab_run(
        req(principal, key["Arn"]), investigator_without(lab, "kms:DescribeKey")
    ).bundle
    assert one(bundle, "kms", "DescribeKey")["error"]["code"] == DENIED
    assert "response" in one(bundle, "kms", "GetKeyPolicy")


def test_step6_disabled_key(lab: LabWorld, lab_run: Collect) -> None:
    app, principal = app_with(lab, ["kms:*"])
    key = lab.key()
    ciphertext = app.client("kms", max_attempts=2).encrypt(KeyId=key["Arn"], Plaintext=b"x")[
        "CiphertextBlob"
    ]
    lab.client("kms").disable_key(KeyId=key["KeyId"])
    assert (
        fail(app.client("kms", max_attempts=2).decrypt, CiphertextBlob=ciphertext)
        == "DisabledException"
    )
    meta = one(lab_run(req(principal, key["Arn"])).bundle, "kms", "DescribeKey")["response"][
        "KeyMetadata"
    ]
    assert (meta["KeyState"], meta["Enabled"], meta["KeyUsage"]) == (
        "Disabled",
        False,
        "ENCRYPT_DECRYPT",
    )


# -- step 2 / 5 ----------------------------------------------------------------------------


def test_step2_and_5_key_policy_naming_the_session_not_the_role(
    lab: LabWorld, lab_run: Collect
) -> None:
    _, principal = app_with(lab, ["kms:*"])
    lab.role("admin")
    named = {"Sid": "App", "Effect": "Allow", "Principal": {"AWS": principal},
             "Action": "kms:Decrypt", "Resource": "*"}  # fmt: skip
    key = lab.key(lab.root_policy({"Sid": "Admin", "Effect": "Allow",
                                   "Principal": {"AWS": f"arn:aws:iam::{APP_ACCOUNT}:role/admin"},
                                   "Action": "kms:*", "Resource": "*"}, named))  # fmt: skip
    bundle = lab_run(req(principal, key["Arn"])).bundle
    statements = json.loads(one(bundle, "kms", "GetKeyPolicy")["response"]["Policy"])["Statement"]
    assert statements[2]["Principal"]["AWS"] == principal
    # Both principals the policy names are read: the caller's role (through the session
    # ARN) once, and the admin role.
    assert one(bundle, "iam", "GetRole", RoleName="app")["response"]["Role"]["Arn"].endswith(
        ":role/app"
    )
    assert (
        one(bundle, "iam", "GetRole", RoleName="admin")["response"]["Role"]["RoleName"] == "admin"
    )


def test_step2_investigator_without_get_key_policy(lab: LabWorld, lab_run: Collect) -> None:
    _, principal = app_with(lab, ["kms:Decrypt"])
    key = lab.key()
    bundle = lab_run(
        req(principal, key["Arn"]), investigator_without(lab, "kms:GetKeyPolicy")
    ).bundle
    assert one(bundle, "kms", "GetKeyPolicy")["error"]["code"] == DENIED
    assert "response" in one(bundle, "kms", "ListKeyPolicies")


# -- step 3 --------------------------------------------------------------------------------


def test_step3_alias_points_to_another_key(lab: LabWorld, lab_run: Collect) -> None:
    _, principal = app_with(lab, ["kms:*"])
    intended, other = lab.key(), lab.key()
    lab.client("kms").create_alias(AliasName="alias/app-data", TargetKeyId=other["KeyId"])
    bundle = lab_run(req(principal, "alias/app-data")).bundle
    assert one(bundle, "kms", "DescribeKey")["response"]["KeyMetadata"]["Arn"] == other["Arn"]
    listed = {a["AliasName"]: a.get("TargetKeyId")
              for c in calls(bundle, "kms", "ListAliases") if not c["params"]
              for a in c["response"]["Aliases"]}  # fmt: skip
    assert listed["alias/app-data"] == other["KeyId"] != intended["KeyId"]


def test_step3_investigator_without_list_aliases(lab: LabWorld, lab_run: Collect) -> None:
    _, principal = app_with(lab, ["kms:Decrypt"])
    key = lab.key()
    lab.client("kms").create_alias(AliasName="alias/app-data", TargetKeyId=key["KeyId"])
    bundle = lab_run(
        req(principal, "alias/app-data"), investigator_without(lab, "kms:ListAliases")
    ).bundle
    assert {c["error"]["code"] for c in calls(bundle, "kms", "ListAliases")} == {DENIED}
    assert "response" in one(bundle, "kms", "DescribeKey")


# -- step 4: the session policy from CloudTrail --------------------------------------------


def test_step4_session_policy_from_the_assume_role_event(lab: LabWorld, lab_run: Collect) -> None:
    lab.role("app", {"Version": "2012-10-17", "Statement": [allow("kms:*")]})
    session_policy = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    app, principal = lab.assume("app", "batch-1", Policy=session_policy)
    lab.role("other", {"Version": "2012-10-17", "Statement": [allow("kms:*")]})
    lab.assume("other", "unrelated")
    key = lab.key()
    assert fail(app.client("kms", max_attempts=2).describe_key, KeyId=key["Arn"]) == DENIED
    bundle = lab_run(req(principal, key["Arn"])).bundle
    lookup = one(
        bundle,
        "cloudtrail",
        "LookupEvents",
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "AssumeRole"}],
    )
    records = [json.loads(e["CloudTrailEvent"]) for e in lookup["response"]["Events"]]
    assert [r["requestParameters"]["roleArn"] for r in records] == [
        f"arn:aws:iam::{APP_ACCOUNT}:role/app"
    ]
    assert json.loads(records[0]["requestParameters"]["policy"]) == json.loads(session_policy)
    assert "GetRolePolicy" in {c["operation"] for c in bundle["calls"]}


# -- step 7 --------------------------------------------------------------------------------


def test_step7_grants_rotation_and_a_disconnected_key_store(
    lab: LabWorld, lab_run: Collect
) -> None:
    _, principal = app_with(lab, ["kms:Decrypt"])
    kms = lab.client("kms")
    store = kms.create_custom_key_store(
        CustomKeyStoreName="hsm", CloudHsmClusterId="cluster-234567abcde",
        TrustAnchorCertificate="-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        KeyStorePassword="kmsuser-password",
    )["CustomKeyStoreId"]  # fmt: skip
    controls = LabClient(lab.endpoint)
    controls.set_controls({"custom_key_stores": {store: "CONNECTED"}})
    key = lab.key(CustomKeyStoreId=store, Origin="AWS_CLOUDHSM")
    kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=f"arn:aws:iam::{APP_ACCOUNT}:role/app",
                     Operations=["Encrypt"])  # fmt: skip
    controls.set_controls({"custom_key_stores": {store: {
        "ConnectionState": "DISCONNECTED", "ConnectionErrorCode": "NETWORK_ERRORS"}}})  # fmt: skip
    bundle = lab_run(req(principal, key["Arn"])).bundle
    grants = one(bundle, "kms", "ListGrants")["response"]["Grants"]
    assert [g["Operations"] for g in grants] == [["Encrypt"]]
    stores = one(bundle, "kms", "DescribeCustomKeyStores", CustomKeyStoreId=store)["response"][
        "CustomKeyStores"
    ]
    assert (stores[0]["ConnectionState"], stores[0]["ConnectionErrorCode"]) == (
        "DISCONNECTED",
        "NETWORK_ERRORS",
    )
    assert "GetKeyRotationStatus" in {c["operation"] for c in bundle["calls"]}


def test_step7_investigator_without_list_grants(lab: LabWorld, lab_run: Collect) -> None:
    _, principal = app_with(lab, ["kms:Decrypt"])
    key = lab.key()
    investigator = investigator_without(lab, "kms:ListGrants", "kms:GetKeyRotationStatus")
    bundle = lab_run(req(principal, key["Arn"]), investigator).bundle
    assert one(bundle, "kms", "ListGrants")["error"]["code"] == DENIED
    assert one(bundle, "kms", "GetKeyRotationStatus")["error"]["code"] == DENIED
    assert "response" in one(bundle, "kms", "ListKeyRotations")


# -- step 8 --------------------------------------------------------------------------------


def test_step8_the_failing_call_in_cloudtrail_and_its_log_group(
    lab: LabWorld, lab_run: Collect
) -> None:
    app, principal = app_with(lab, ["kms:Encrypt"])
    key = lab.key()
    lab.client("logs").create_log_group(logGroupName="cloudtrail")
    lab.client("s3").create_bucket(Bucket="trail-bucket-kmslab")
    lab.client("cloudtrail").create_trail(
        Name="main", S3BucketName="trail-bucket-kmslab",
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:us-east-1:{APP_ACCOUNT}:log-group:cloudtrail:*",
        CloudWatchLogsRoleArn=f"arn:aws:iam::{APP_ACCOUNT}:role/ct",
    )  # fmt: skip
    lab.client("cloudtrail").start_logging(Name="main")
    kms = app.client("kms", max_attempts=2)
    blob = kms.encrypt(KeyId=key["Arn"], Plaintext=b"payload")["CiphertextBlob"]
    assert fail(kms.decrypt, CiphertextBlob=blob) == DENIED
    bundle = lab_run(req(principal, key["Arn"])).bundle
    by_key = one(
        bundle,
        "cloudtrail",
        "LookupEvents",
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": key["Arn"]}],
    )
    records = [json.loads(e["CloudTrailEvent"]) for e in by_key["response"]["Events"]]
    failures = [r for r in records if r["eventName"] == "Decrypt"]
    # A failed call's record carries the exception as errorCode (ct-decrypt.html).
    assert len(failures) == 1
    assert str(failures[0].get("errorCode")).startswith("AccessDenied")
    assert failures[0]["userIdentity"]["arn"] == principal
    # The investigation's own reads are not part of the incident's history.
    assert not [
        r for r in records if r["eventName"] in ("DescribeKey", "GetKeyPolicy", "ListGrants")
    ]
    logged = one(bundle, "logs", "FilterLogEvents", logGroupName="cloudtrail")["response"]["events"]
    messages = [json.loads(e["message"]) for e in logged]
    assert [(m["eventName"], m["resources"][0]["ARN"]) for m in messages] == [
        ("Decrypt", key["Arn"])
    ]


# -- IAM, CloudTrail, Logs and Health reads the lab does not authorize: AWS's refusal is
# -- simulated at the client (IAM answers "AccessDenied", the others "AccessDeniedException";
# -- https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html).


def test_step1_investigator_without_health(lab: LabWorld, lab_run: Collect) -> None:
    _, principal = app_with(lab, ["kms:Decrypt"])
    key = lab.key()
    hook = deny_with(
        DENIED, "not authorized to perform: health:DescribeEvents", {"health:DescribeEvents"}
    )
    bundle = lab_run(req(principal, key["Arn"]), client_hook=hook).bundle
    assert one(bundle, "health", "DescribeEvents")["error"]["code"] == DENIED
    assert "response" in one(bundle, "kms", "DescribeKey")


def test_step4_investigator_without_iam_reads(lab: LabWorld, lab_run: Collect) -> None:
    _, principal = app_with(lab, ["kms:Decrypt"])
    key = lab.key()
    refused = {"iam:GetRole", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies"}
    hook = deny_with("AccessDenied", "User is not authorized to perform: iam:GetRole", refused)
    bundle = lab_run(req(principal, key["Arn"]), client_hook=hook).bundle
    for name in refused:
        assert one(bundle, *name.split(":"))["error"]["code"] == "AccessDenied", name
    # Nothing listed, so nothing fetched; the KMS side is unaffected.
    assert not calls(bundle, "iam", "GetRolePolicy")
    assert "response" in one(bundle, "kms", "GetKeyPolicy")


def test_step5_investigator_without_get_role(lab: LabWorld, lab_run: Collect) -> None:
    _, principal = app_with(lab, ["kms:Decrypt"])
    lab.role("admin")
    admin = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{APP_ACCOUNT}:role/admin"},
             "Action": "kms:*", "Resource": "*"}  # fmt: skip
    key = lab.key(lab.root_policy(admin))
    hook = deny_with("AccessDenied", "not authorized to perform: iam:GetRole", {"iam:GetRole"})
    bundle = lab_run(req(principal, key["Arn"]), client_hook=hook).bundle
    assert one(bundle, "iam", "GetRole", RoleName="admin")["error"]["code"] == "AccessDenied"
    assert "response" in one(bundle, "kms", "GetKeyPolicy")


def test_step8_investigator_without_cloudtrail_and_logs(lab: LabWorld, lab_run: Collect) -> None:
    _, principal = app_with(lab, ["kms:Decrypt"])
    key = lab.key()
    lab.client("logs").create_log_group(logGroupName="cloudtrail")
    lab.client("s3").create_bucket(Bucket="trail-bucket-kmslab")
    lab.client("cloudtrail").create_trail(
        Name="main", S3BucketName="trail-bucket-kmslab",
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:us-east-1:{APP_ACCOUNT}:log-group:cloudtrail:*",
        CloudWatchLogsRoleArn=f"arn:aws:iam::{APP_ACCOUNT}:role/ct",
    )  # fmt: skip
    refused = {"cloudtrail:LookupEvents", "logs:FilterLogEvents"}
    hook = deny_with(DENIED, "not authorized", refused)
    bundle = lab_run(req(principal, key["Arn"]), client_hook=hook).bundle
    lookups = calls(bundle, "cloudtrail", "LookupEvents")
    assert len(lookups) == 3 and {c["error"]["code"] for c in lookups} == {DENIED}
    assert one(bundle, "logs", "FilterLogEvents")["error"]["code"] == DENIED
    assert one(bundle, "cloudtrail", "DescribeTrails")["response"]["trailList"][0]["Name"] == "main"
