"""Read-only, proven over the whole diagnosis path: `kmslab diagnose --key --principal --action`
(collect, then diagnose) against the lab for catalog scenarios of every kind, with every HTTP
request the command sends recorded by a botocore hook on its sessions (independent of the
collectors' guard) and, as a second witness, the lab's own CloudTrail record of KMS calls."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import harness.aws.clients
from harness.aws.clients import Target
from harness.cli import main
from harness.scenarios.catalog import load_catalog
from harness.scenarios.refs import substitute

ACCOUNTS = ("111111111111", "222222222222", "333333333333")  # the lab's (architecture.md)
REGIONS = ("us-east-1", "us-west-2")
# Every read API of the services collected starts with one of these verbs; every write with none.
READ_VERBS = ("Get", "List", "Describe", "Lookup", "Filter")
MUTATING = (
    "Create", "Put", "Update", "Delete", "Enable", "Disable", "Schedule", "Cancel", "Tag",
    "Untag", "Revoke", "Retire", "Import", "Replicate", "Connect", "Disconnect", "Attach",
    "Detach", "Encrypt", "Decrypt", "ReEncrypt", "Generate", "Sign", "Verify", "Rotate", "Set",
    "Add", "Remove", "Modify", "Start", "Stop", "Assume", "Accept", "Reject", "Register",
)  # fmt: skip

# One scenario per kind of evidence: cross-account (--key-profile), organizations, VPC
# endpoints, multi-Region, grants, session policies in CloudTrail, IAM users and groups,
# custom key stores, and sustained throttling (the breaker).
SCENARIOS = (
    "cross-account-key-policy-missing",
    "scp-denies-decrypt",
    "vpce-policy-no-allow",
    "multi-region-replica-diverged",
    "grant-constraint-unmet",
    "session-policy-blocks",
    "iam-user-no-allow",
    "key-unavailable-custom-store",
    pytest.param("throttled", marks=pytest.mark.slow),  # the failing call's own retries
)


@pytest.fixture(scope="module")
def lab_endpoint() -> Iterator[str]:
    from harness.lab import LabServer

    with LabServer(upstream="moto", port=0) as server:
        yield server.endpoint


def operator(endpoint: str, account: str, region: str) -> Any:
    # Operator credentials: access key id = account id, any secret (contract section 5).
    target = Target(endpoint_url=endpoint, region=region, access_key_id=account,
                    secret_access_key="lab-operator-secret")  # fmt: skip
    return target.client("cloudtrail", region, max_attempts=1)


def lab_kms_events(endpoint: str) -> dict[str, dict[str, Any]]:
    """Every KMS event the lab's CloudTrail holds, by event id, across its accounts."""
    events: dict[str, dict[str, Any]] = {}
    for account in ACCOUNTS:
        for region in REGIONS:
            pages = operator(endpoint, account, region).get_paginator("lookup_events").paginate(
                LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "kms.amazonaws.com"}]
            )  # fmt: skip
            for page in pages:
                for event in page.get("Events", []):
                    events[f"{account}/{region}/{event['EventId']}"] = event
    return events


def recording_sessions(monkeypatch: pytest.MonkeyPatch, sent: list[str]) -> None:
    """Every boto3 Session made from now on records each HTTP request before it is sent."""
    original = harness.aws.clients._new_session

    def record(request: Any, event_name: str, **_: Any) -> None:
        sent.append(event_name.split(".", 1)[1])  # "<service-id>.<Operation>"

    def new_session(target: Target) -> Any:
        session = original(target)
        session.events.register("before-send", record)
        return session

    monkeypatch.setattr(harness.aws.clients, "_SESSIONS", {})  # no client from an earlier session
    monkeypatch.setattr(harness.aws.clients, "_new_session", new_session)


def diagnose_argv(
    scenario: Any, resolved: Any, principal: str, runner: Any, endpoint: str
) -> list[str]:
    call = scenario.call
    # The key as the call names it (every catalog call names one), its account from its ARN.
    key = resolved.key_ref(str(substitute(call["key"], resolved)))
    argv = ["diagnose", "--key", key,
            "--principal", principal, "--action", f"kms:{call['operation']}",
            "--region", call["region"], "--profile", "investigator",
            "--endpoint-url", endpoint, "--format", "json"]  # fmt: skip
    caller_account = resolved.principal[call["principal"]]["account"]
    key_account = key.split(":")[4] if key.startswith("arn:") else None
    if key_account and key_account != caller_account:
        argv += ["--key-profile", f"owner-{key_account}"]
    if call.get("via_service"):
        argv += ["--via-service", str(substitute(call["via_service"], resolved))]
    if call.get("vpc_endpoint"):
        argv += ["--source-vpce", resolved.vpce[call["vpc_endpoint"]]["id"]]
    for name, value in (call.get("encryption_context") or {}).items():
        argv += ["--encryption-context", f"{name}={value}"]
    return argv


def profiles(tmp_path: Path, investigator: str) -> Path:
    lines = [f"[investigator]\naws_access_key_id = {investigator}\naws_secret_access_key = s\n"]
    lines += [
        f"[owner-{a}]\naws_access_key_id = {a}\naws_secret_access_key = s\n" for a in ACCOUNTS
    ]
    path = tmp_path / "credentials"
    path.write_text("".join(lines))
    return path


def test_the_recorder_sees_writes(lab_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Without the collectors' guard in the way, a write is recorded like any other request.
    sent: list[str] = []
    recording_sessions(monkeypatch, sent)
    target = Target(endpoint_url=lab_endpoint, region="us-east-1", access_key_id=ACCOUNTS[0],
                    secret_access_key="lab-operator-secret")  # fmt: skip
    target.client("kms", max_attempts=1).create_key()
    assert sent == ["kms.CreateKey"]


@pytest.mark.parametrize("scenario_id", SCENARIOS)
def test_diagnose_live_sends_only_reads(
    scenario_id: str,
    lab_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from harness.scenarios.call import issue_credentials, make_call
    from harness.scenarios.runner import Runner

    scenario = {s.id: s for s in load_catalog()}[scenario_id]
    runner = Runner.for_lab(lab_endpoint)
    provisioner, resolved = runner.provision(scenario)
    caller = issue_credentials(provisioner, scenario.call, scenario.setup, resolved)
    assert not make_call(caller, scenario.call, resolved).ok  # the failure to investigate
    before = lab_kms_events(lab_endpoint)

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    investigator = resolved.principal[scenario.call["principal"]]["account"]
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(profiles(tmp_path, investigator)))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    sent: list[str] = []
    recording_sessions(monkeypatch, sent)
    code = main(diagnose_argv(scenario, resolved, caller.arn, runner, lab_endpoint))
    monkeypatch.undo()  # stop recording before the lab is read back below

    out = capsys.readouterr()
    assert code == 0, out.err
    report = json.loads(out.out)
    assert report["primary"], report  # a diagnosis was made from what was read
    assert sent, "nothing was sent"
    assert any(s.startswith("kms.") for s in sent) and any(s.startswith("iam.") for s in sent)
    for request in sent:
        operation = request.split(".", 1)[1]
        assert operation.startswith(READ_VERBS), request
        assert not operation.startswith(MUTATING), request
    # The lab's witness: the KMS events recorded while the command ran are reads.
    new = {k: e for k, e in lab_kms_events(lab_endpoint).items() if k not in before}
    assert new, "the lab recorded none of the investigation's KMS reads"
    for event in new.values():
        assert event["EventName"].startswith(READ_VERBS), event["EventName"]
