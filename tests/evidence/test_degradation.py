"""Cross-account evidence, throttling, missing APIs, bounded time, and no secrets in bundles."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from typing import Any

import pytest

from harness.evidence import InvestigationRequest
from harness.evidence.calls import NOT_SENT, THROTTLE_TRIP, Breakers, make_client
from harness.lab import LabClient

from .lab_world import APP_ACCOUNT, KEY_ACCOUNT, LabWorld
from .scenarios import allow, doc
from .support import Collect, calls, one


def cross_account_key(lab: LabWorld) -> tuple[dict[str, Any], str]:
    lab.role("app", {"Version": "2012-10-17", "Statement": [allow("kms:*")]})
    _, principal = lab.assume("app", "i-0abc")
    key = lab.key(lab.root_policy(account=KEY_ACCOUNT), account=KEY_ACCOUNT)
    return key, principal


def test_cross_account_without_key_credentials_records_owner_only_evidence_as_unreadable(
    lab: LabWorld, lab_run: Collect
) -> None:
    key, principal = cross_account_key(lab)
    bundle = lab_run(
        InvestigationRequest(principal=principal, action="kms:Decrypt", key=key["Arn"])
    ).bundle
    # GetKeyPolicy, ListKeyPolicies and ListKeyRotations are owner-only
    # (https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyPolicy.html "Cross-account use: No").
    for operation in ("GetKeyPolicy", "ListKeyPolicies", "ListKeyRotations"):
        call = one(bundle, "kms", operation)
        assert call["error"]["code"] == "CrossAccountUnreadable", operation
        assert call["account"] == KEY_ACCOUNT
        assert "--key-profile" in call["error"]["message"]
    # DescribeKey, ListGrants and GetKeyRotationStatus work cross-account with the key ARN,
    # so they are asked with the investigator's credentials.
    for operation in ("DescribeKey", "ListGrants", "GetKeyRotationStatus"):
        assert one(bundle, "kms", operation)["account"] == APP_ACCOUNT, operation
    # The principal's own account is readable: its IAM is there.
    assert "response" in one(bundle, "iam", "GetRole")
    assert bundle["request"]["key_account"] == KEY_ACCOUNT


def test_cross_account_with_key_credentials_reads_the_owner_side(
    lab: LabWorld, lab_run: Collect
) -> None:
    key, principal = cross_account_key(lab)
    bundle = lab_run(
        InvestigationRequest(principal=principal, action="kms:Decrypt", key=key["Arn"]),
        key_target=lab.op(KEY_ACCOUNT),
    ).bundle
    policy = one(bundle, "kms", "GetKeyPolicy")
    assert policy["account"] == KEY_ACCOUNT
    assert json.loads(policy["response"]["Policy"])["Statement"][0]["Principal"]["AWS"].endswith(
        f"{KEY_ACCOUNT}:root"
    )
    assert (
        one(bundle, "kms", "DescribeKey")["response"]["KeyMetadata"]["AWSAccountId"] == KEY_ACCOUNT
    )
    identities = {
        c["account"]: c["response"]["Account"] for c in calls(bundle, "sts", "GetCallerIdentity")
    }
    assert identities == {APP_ACCOUNT: APP_ACCOUNT, KEY_ACCOUNT: KEY_ACCOUNT}
    # Denied cross-account calls are logged only in the caller's account (logging-using-cloudtrail.html):
    # the key's history is read on both sides.
    accounts = sorted(c["account"] for c in calls(bundle, "cloudtrail", "LookupEvents")
                      if c["params"]["LookupAttributes"][0]["AttributeKey"] == "ResourceName")  # fmt: skip
    assert accounts == [APP_ACCOUNT, KEY_ACCOUNT]


# Retry waits, from https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html:
# a throttled attempt is retried after a jittered backoff of at most 1 s for the first retry
# (rand * 2^0), and adaptive mode may also hold the request until its client-side rate limiter
# (at least 0.5 requests per second) has a token: at most 3 s per retried request.
MAX_WAIT_PER_RETRY = 3.0
UNTHROTTLED_COLLECTION = 2.0  # generous: the same collection unthrottled takes ~0.3 s


def kms_sends(sent: list[str]) -> Any:
    def hook(client: Any, service: str) -> None:
        if service == "kms":
            client.meta.events.register(
                "before-send.*.*", lambda request, **_: sent.append(request.url)
            )

    return hook


def test_sustained_throttling_opens_a_breaker_instead_of_waiting_for_the_deadline(
    lab: LabWorld, lab_run: Collect
) -> None:
    lab.role("app", {"Version": "2012-10-17", "Statement": [allow("kms:*")]})
    _, principal = lab.assume("app", "s1")
    key = lab.key()
    lab.client("kms").create_alias(AliasName="alias/app", TargetKeyId=key["KeyId"])
    # A number throttles every KMS call of the account (harness/lab/controls.py); the quota is
    # per account and Region (requests-per-second.html), so the investigator's reads are too.
    LabClient(lab.endpoint).set_controls({"throttle": {APP_ACCOUNT: 0}})
    sent: list[str] = []
    started = time.monotonic()
    result = lab_run(
        InvestigationRequest(principal=principal, action="kms:Decrypt", key=key["Arn"]),
        max_attempts=4,  # the CLI's retries: without the breaker, 4 tries of every KMS call
        timeout=60.0,
        client_hook=kms_sends(sent),
    )
    elapsed = time.monotonic() - started
    bundle = result.bundle
    # DescribeKey is the only KMS call before the key resolves: its first try and one retry
    # are throttled, which opens the breaker; no other KMS request reaches the endpoint.
    assert len(sent) == THROTTLE_TRIP
    assert elapsed < UNTHROTTLED_COLLECTION + MAX_WAIT_PER_RETRY * (len(sent) - 1)
    described = one(bundle, "kms", "DescribeKey")
    assert described["error"]["code"] == "ThrottlingException"
    assert "Reduce the frequency" in described["error"]["message"]  # AWS's own answer
    assert described["note"].startswith("retries stopped")
    later = [c for c in bundle["calls"] if c["service"] == "kms" and c is not described]
    assert {c["operation"] for c in later} >= {"GetKeyPolicy", "ListGrants", "ListAliases"}
    for call in later:
        assert call["error"]["code"] == "ThrottlingException", call["operation"]
        assert call["error"]["message"].startswith(NOT_SENT), call["operation"]
        assert call["note"].startswith(NOT_SENT), call["operation"]
    assert bundle["collection"]["throttled_not_sent"] == len(later)
    assert "kms:GetKeyPolicy" not in result.operations  # recorded, never sent
    # Other services have their own quotas: their evidence is read as usual.
    assert "response" in one(bundle, "iam", "GetRole")
    assert "response" in one(bundle, "sts", "GetCallerIdentity")
    assert all(status == "ok" for status in bundle["collection"]["collectors"].values())


def test_the_breaker_is_per_account(lab: LabWorld, lab_run: Collect) -> None:
    key, principal = cross_account_key(lab)
    LabClient(lab.endpoint).set_controls({"throttle": {APP_ACCOUNT: 0}})
    sent: list[str] = []
    bundle = lab_run(
        InvestigationRequest(principal=principal, action="kms:Decrypt", key=key["Arn"]),
        key_target=lab.op(KEY_ACCOUNT),
        client_hook=kms_sends(sent),
    ).bundle
    # The key account's quota is not exhausted: its side is read in full.
    assert one(bundle, "kms", "DescribeKey")["account"] == KEY_ACCOUNT
    for operation in ("DescribeKey", "GetKeyPolicy", "ListGrants", "ListKeyRotations"):
        assert "response" in one(bundle, "kms", operation), operation
    # The investigator's account-wide ListAliases is throttled (sent, or recorded as not sent).
    own = [c for c in calls(bundle, "kms", "ListAliases") if c["account"] == APP_ACCOUNT]
    assert own and all(c["error"]["code"] == "ThrottlingException" for c in own)


def test_throttled_cryptographic_quota_leaves_the_investigation_alone(
    lab: LabWorld, lab_run: Collect
) -> None:
    lab.role("app", {"Version": "2012-10-17", "Statement": [allow("kms:*")]})
    _, principal = lab.assume("app", "s1")
    key = lab.key()
    # Only cryptographic operations share that quota (requests-per-second.html); the
    # investigation makes none, so nothing of it is throttled or skipped.
    LabClient(lab.endpoint).set_controls({"throttle": {APP_ACCOUNT: {"rps": 0, "scope": "crypto"}}})
    bundle = lab_run(
        InvestigationRequest(principal=principal, action="kms:Decrypt", key=key["Arn"])
    ).bundle
    assert bundle["collection"]["throttled_not_sent"] == 0
    assert not [c for c in bundle["calls"] if c["service"] == "kms" and "error" in c]


def test_a_success_resets_the_count_and_breakers_are_per_key() -> None:
    breakers = Breakers(trip=2)
    kms = ("investigator", "us-east-1", "kms")
    assert breakers.observe(kms, True) is False
    assert breakers.observe(kms, False) is False  # transient: adaptive retries handle it
    assert breakers.observe(kms, True) is False
    assert breakers.observe(("investigator", "us-east-1", "iam"), True) is False
    assert breakers.observe(kms, True) is True
    assert breakers.is_open(kms)
    assert not breakers.is_open(("investigator", "us-west-2", "kms"))
    assert not breakers.is_open(("key-account", "us-east-1", "kms"))


def test_clients_use_adaptive_retries_and_are_made_once(lab: LabWorld, lab_run: Collect) -> None:
    lab.role("app")
    _, principal = lab.assume("app", "s1")
    key = lab.key()
    made: list[tuple[str, str, Any]] = []

    def seen(client: Any, service: str) -> None:
        made.append((service, client.meta.region_name, client.meta.config.retries))

    lab_run(InvestigationRequest(principal=principal, action="kms:Decrypt", key=key["Arn"]),
            max_attempts=4, client_hook=seen)  # fmt: skip
    assert {retries["mode"] for _, _, retries in made} == {"adaptive"}
    assert {retries["total_max_attempts"] for _, _, retries in made} == {4}
    pairs = [(service, region) for service, region, _ in made]
    assert len(pairs) == len(set(pairs)), "one client per (credentials, region, service)"


def test_total_time_is_bounded_and_late_calls_are_marked(lab: LabWorld, lab_run: Collect) -> None:
    lab.role("app")
    _, principal = lab.assume("app", "s1")
    key = lab.key()
    # IAM hangs until the test is done; the budget is wide enough that the key's reads finish
    # on a loaded CI machine, so only the hung collector can be the one that runs out.
    budget = 6.0
    released = threading.Event()

    def hang(client: Any, service: str) -> None:
        if service == "iam":
            client.meta.events.register("before-send.*.*", lambda **_: released.wait(60))

    started = time.monotonic()
    try:
        result = lab_run(InvestigationRequest(principal=principal, action="kms:Decrypt", key=key["Arn"]),
                         timeout=budget, client_hook=hang)  # fmt: skip
        elapsed = time.monotonic() - started
    finally:
        released.set()
    assert budget <= elapsed < budget + 1.5
    assert result.bundle["collection"]["collectors"]["principal_iam"] == "timeout"
    assert "response" in one(result.bundle, "kms", "GetKeyPolicy")


def test_same_account_key_and_role_within_25_calls(lab: LabWorld, lab_run: Collect) -> None:
    lab.role("app", {"Version": "2012-10-17", "Statement": [allow("kms:Decrypt")]})
    _, principal = lab.assume("app", "s1")
    key = lab.key()
    lab.client("kms").create_alias(AliasName="alias/app", TargetKeyId=key["KeyId"])
    result = lab_run(
        InvestigationRequest(principal=principal, action="kms:Decrypt", key="alias/app")
    )
    assert len(result.operations) <= 25
    assert not [c for c in result.bundle["calls"] if "error" in c]


# -- no credentials, plaintext or ciphertext -----------------------------------------------

PLAINTEXT = b"card-number-4111-1111-1111-1111"
ACCESS_KEY = re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b")


def test_bundles_hold_no_credentials_plaintext_or_ciphertext(
    lab: LabWorld, lab_run: Collect
) -> None:
    lab.role(
        "app",
        {"Version": "2012-10-17", "Statement": [allow(["kms:Encrypt", "kms:GenerateDataKey"])]},
    )
    app, principal = lab.assume("app", "i-0abc", Policy=doc(allow("kms:*")))
    key = lab.key()
    kms = app.client("kms", max_attempts=2)
    blob = kms.encrypt(KeyId=key["Arn"], Plaintext=PLAINTEXT, EncryptionContext={"app": "billing"})[
        "CiphertextBlob"
    ]
    data_key = kms.generate_data_key(KeyId=key["Arn"], KeySpec="AES_256")
    with pytest.raises(Exception, match="AccessDenied"):
        kms.decrypt(CiphertextBlob=blob, EncryptionContext={"app": "billing"})
    # A log group that received what a careless emulator or app might log.
    logs = lab.client("logs")
    logs.create_log_group(logGroupName="trail")
    lab.client("s3").create_bucket(Bucket="trail-bucket-kmslab")
    lab.client("cloudtrail").create_trail(
        Name="main", S3BucketName="trail-bucket-kmslab",
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:us-east-1:{APP_ACCOUNT}:log-group:trail:*",
        CloudWatchLogsRoleArn=f"arn:aws:iam::{APP_ACCOUNT}:role/ct",
    )  # fmt: skip
    logs.create_log_stream(logGroupName="trail", logStreamName="leaky")
    leaky = {
        "eventSource": "kms.amazonaws.com", "eventName": "Decrypt", "errorCode": "AccessDenied",
        "resources": [{"ARN": key["Arn"]}],
        "requestParameters": {"ciphertextBlob": base64.b64encode(blob).decode(),
                              "plaintext": PLAINTEXT.decode(), "keyId": key["Arn"]},
    }  # fmt: skip
    logs.put_log_events(logGroupName="trail", logStreamName="leaky",
                        logEvents=[{"timestamp": int(time.time() * 1000), "message": json.dumps(leaky)}])  # fmt: skip
    app_creds = app.session().get_credentials().get_frozen_credentials()
    bundle = lab_run(InvestigationRequest(principal=principal, action="kms:Decrypt", key=key["Arn"],
                                          encryption_context={"app": "billing"})).bundle  # fmt: skip
    text = json.dumps(bundle)
    assert calls(bundle, "cloudtrail", "LookupEvents"), "CloudTrail events were collected"
    forbidden = {
        "app secret key": app_creds.secret_key,
        "app session token": app_creds.token,
        "app access key": app_creds.access_key,
        "operator secret": "lab-operator-secret",
        "plaintext": PLAINTEXT.decode(),
        "plaintext (base64)": base64.b64encode(PLAINTEXT).decode(),
        "ciphertext (base64)": base64.b64encode(blob).decode(),
        "data key plaintext": base64.b64encode(data_key["Plaintext"]).decode(),
        "data key ciphertext": base64.b64encode(data_key["CiphertextBlob"]).decode(),
    }
    for what, value in forbidden.items():
        assert value and value not in text, what
    assert not ACCESS_KEY.search(text), ACCESS_KEY.search(text)
    assert one(bundle, "logs", "FilterLogEvents")["response"]["events"], (
        "the leaky event was kept, scrubbed"
    )


def test_unknown_endpoint_api_is_that_calls_error(
    lab: LabWorld, lab_run: Collect, moto: str
) -> None:
    # moto serves no AWS Health and no LookupEvents: each is its call's error, not the run's.
    from harness.aws.clients import Target

    moto_target = Target(endpoint_url=moto, region="us-east-1", access_key_id="AKIAOPERATOR000000001",
                         secret_access_key="x")  # fmt: skip
    iam = make_client(moto_target, "iam", "us-east-1", 1)
    iam.create_role(RoleName="app", AssumeRolePolicyDocument="{}")
    key = make_client(moto_target, "kms", "us-east-1", 1).create_key()["KeyMetadata"]
    bundle = lab_run(InvestigationRequest(principal="arn:aws:sts::123456789012:assumed-role/app/s",
                                          action="kms:Decrypt", key=key["Arn"]), moto_target).bundle  # fmt: skip
    assert "error" in one(bundle, "health", "DescribeEvents")
    assert {"error"} == {
        k
        for c in calls(bundle, "cloudtrail", "LookupEvents")
        for k in c
        if k in ("error", "response")
    }
    assert "response" in one(bundle, "kms", "GetKeyPolicy")


def test_a_collector_bug_costs_only_that_collectors_evidence(
    lab: LabWorld, lab_run: Collect, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    from harness.evidence.registered import collectors
    from harness.evidence.registry import REGISTRY

    collectors()

    def broken(_: Any) -> None:
        raise KeyError("Unexpected")

    monkeypatch.setitem(REGISTRY, "grants", replace(REGISTRY["grants"], fn=broken))
    lab.role("app")
    key = lab.key()
    bundle = lab_run(InvestigationRequest(principal=f"arn:aws:iam::{APP_ACCOUNT}:role/app",
                                          action="kms:Decrypt", key=key["Arn"])).bundle  # fmt: skip
    assert bundle["collection"]["collectors"]["grants"].startswith("failed: KeyError")
    assert not calls(bundle, "kms", "ListGrants")
    assert "response" in one(bundle, "kms", "GetKeyPolicy")
