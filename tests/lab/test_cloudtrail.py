"""CloudTrail records and CloudWatch Logs delivery.

Expectations: CloudTrail record contents (cloudtrail-event-reference-record-contents.html) and
the KMS Decrypt example (ct-decrypt.html): eventSource kms.amazonaws.com, readOnly true,
resources[].ARN the key; failures carry errorCode/errorMessage; LookupEvents API
(API_LookupEvents.html: one lookup attribute, StartTime/EndTime, Username); cross-account calls
are logged in both accounts, denied cross-account calls only in the caller's
(logging-using-cloudtrail.html); a trail logs after StartLogging and, with a log group, delivers
to CloudWatch Logs; filter pattern syntax (FilterAndPatternSyntax.html).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lab.labkit import APP, OTHER, LabKit, allow, error


def events(lab: LabKit, account: str = APP, **attr: str) -> list[dict[str, Any]]:
    kwargs: dict[str, Any] = {}
    if attr:
        ((key, value),) = attr.items()
        kwargs["LookupAttributes"] = [{"AttributeKey": key, "AttributeValue": value}]
    found = lab.client("cloudtrail", account).lookup_events(**kwargs)["Events"]
    return [json.loads(e["CloudTrailEvent"]) | {"_lookup": e} for e in found]


def test_kms_calls_are_recorded_in_aws_schema(lab: LabKit) -> None:
    key = lab.key()
    creds = lab.assume(lab.role("app"), session="worker")
    kms = lab.client("kms", creds=creds)
    blob = lab.client("kms").encrypt(
        KeyId=key["Arn"], Plaintext=b"x", EncryptionContext={"app": "billing"}
    )["CiphertextBlob"]
    with pytest.raises(ClientError):
        kms.decrypt(CiphertextBlob=blob, EncryptionContext={"app": "billing"})
    found = events(lab, Username="worker")
    assert [e["eventName"] for e in found] == ["Decrypt"]
    record = found[0]
    assert record["eventSource"] == "kms.amazonaws.com" and record["readOnly"] is True
    assert (
        record["errorCode"] == "AccessDeniedException" and "kms:Decrypt" in record["errorMessage"]
    )
    assert record["userIdentity"]["type"] == "AssumedRole"
    assert (
        record["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"]
        == f"arn:aws:iam::{APP}:role/app"
    )
    assert record["requestParameters"]["encryptionContext"] == {"app": "billing"}
    assert "ciphertextBlob" not in record["requestParameters"]
    assert record["resources"][0]["ARN"] == key["Arn"]
    by_key = events(lab, ResourceName=key["Arn"])
    assert {e["eventName"] for e in by_key} >= {"Encrypt", "Decrypt", "CreateKey"}
    assert (
        events(lab, EventName="AssumeRole")[0]["requestParameters"]["roleSessionName"] == "worker"
    )
    future = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    assert lab.client("cloudtrail").lookup_events(StartTime=future)["Events"] == []
    with pytest.raises(ClientError) as exc:
        lab.client("cloudtrail").lookup_events(
            LookupAttributes=[
                {"AttributeKey": "EventName", "AttributeValue": "Decrypt"},
                {"AttributeKey": "Username", "AttributeValue": "worker"},
            ]
        )
    assert error(exc)[0] == "InvalidLookupAttributesException"


def test_assume_role_session_policy_and_iam_changes_are_recorded(lab: LabKit) -> None:
    role = lab.role("app")
    created = events(lab, EventName="CreateRole")
    assert created and created[0]["eventSource"] == "iam.amazonaws.com"
    assert created[0]["requestParameters"]["roleName"] == "app"
    lab.assume(role, session="narrow", Policy=allow("kms:DescribeKey"))
    record = events(lab, EventName="AssumeRole")[0]
    assert (
        json.loads(record["requestParameters"]["policy"])["Statement"][0]["Action"]
        == "kms:DescribeKey"
    )


def test_cross_account_logging(lab: LabKit) -> None:
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{APP}:root"},
                    "Action": "kms:Encrypt",
                    "Resource": "*",
                },
            ],
        }
    )
    key = lab.key(account=OTHER, Policy=policy)
    ok = lab.client("kms", creds=lab.assume(lab.role("app", policy=allow())))
    ok.encrypt(KeyId=key["Arn"], Plaintext=b"x")
    with pytest.raises(ClientError):
        ok.generate_data_key(KeyId=key["Arn"], KeySpec="AES_256")
    owner = events(lab, OTHER, ResourceName=key["Arn"])
    assert [e["eventName"] for e in owner if e["eventName"] != "CreateKey"] == ["Encrypt"]
    assert owner[0]["userIdentity"]["type"] == "AWSAccount"
    caller = events(lab, APP, ResourceName=key["Arn"])
    assert {e["eventName"] for e in caller} == {"Encrypt", "GenerateDataKey"}


def test_trail_delivers_to_log_group_and_json_filters(lab: LabKit) -> None:
    logs = lab.client("logs")
    logs.create_log_group(logGroupName="trail")
    group_arn = f"arn:aws:logs:us-east-1:{APP}:log-group:trail:*"
    ct = lab.client("cloudtrail")
    ct.create_trail(
        Name="main",
        S3BucketName="bucket",
        CloudWatchLogsLogGroupArn=group_arn,
        CloudWatchLogsRoleArn=f"arn:aws:iam::{APP}:role/ct",
    )
    key = lab.key()
    lab.client("kms").encrypt(KeyId=key["Arn"], Plaintext=b"x")
    assert ct.get_trail_status(Name="main")["IsLogging"] is False
    ct.start_logging(Name="main")
    kms = lab.client("kms")
    kms.encrypt(KeyId=key["Arn"], Plaintext=b"x")
    kms.disable_key(KeyId=key["Arn"])
    with pytest.raises(ClientError):
        kms.encrypt(KeyId=key["Arn"], Plaintext=b"x")

    def filtered(pattern: str) -> list[dict[str, Any]]:
        out = logs.filter_log_events(logGroupName="trail", filterPattern=pattern)["events"]
        return [json.loads(e["message"]) for e in out]

    everything = filtered('{ $.eventSource = "kms.amazonaws.com" }')
    assert [e["eventName"] for e in everything] == ["Encrypt", "DisableKey", "Encrypt"]
    failed = filtered('{ $.errorCode = "Disabled*" && $.eventName = Encrypt }')
    assert len(failed) == 1 and failed[0]["errorMessage"] == f"{key['Arn']} is disabled."
    assert len(filtered("{ $.errorCode NOT EXISTS }")) == 2
    assert len(filtered("{ $.errorCode EXISTS }")) == 1
    assert len(filtered('{ ($.eventName = "DisableKey") || ($.errorCode != "x") }')) == 2
    assert len(filtered('{ $.eventName != "Encrypt" }')) == 1
    assert len(filtered('{ $.resources[0].ARN = "' + key["Arn"] + '" }')) == 3
    assert len(filtered("{ $.readOnly IS TRUE }")) == 2
    with pytest.raises(ClientError) as exc:
        filtered("{ $.eventName = }")
    assert error(exc)[0] == "InvalidParameterException"


def test_kms_events_excluded_by_selector_are_not_delivered(lab: LabKit) -> None:
    logs = lab.client("logs")
    logs.create_log_group(logGroupName="trail")
    ct = lab.client("cloudtrail")
    ct.create_trail(
        Name="main",
        S3BucketName="b",
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:us-east-1:{APP}:log-group:trail:*",
    )
    ct.put_event_selectors(
        TrailName="main",
        EventSelectors=[
            {
                "ReadWriteType": "All",
                "IncludeManagementEvents": True,
                "ExcludeManagementEventSources": ["kms.amazonaws.com"],
            }
        ],
    )
    ct.start_logging(Name="main")
    lab.key()
    time.sleep(0.05)
    assert (
        logs.filter_log_events(
            logGroupName="trail", filterPattern='{ $.eventSource = "kms.amazonaws.com" }'
        )["events"]
        == []
    )
