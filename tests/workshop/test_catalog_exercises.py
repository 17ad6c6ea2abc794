"""Every failure scenario of the real catalog is an exercise: it starts in a participant's space
on a shared lab with the error its scenario expects (the scenario's own `expected.error`, from
AWS documentation), a first `check` says NOT YET, and the exercise's solution, played the way
a participant makes it (the setup fixed in their accounts, `app.yaml` edited where the fix
belongs in the application), is accepted by `check`.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from harness.lab import LabServer
from harness.scenarios.catalog import load_catalog
from harness.workshop import Room, WorkshopStore, catalog_exercises

pytestmark = pytest.mark.slow

EXERCISES = [e.id for e in catalog_exercises()[0]]


@pytest.fixture(scope="module")
def room(lab: LabServer, tmp_path_factory: pytest.TempPathFactory) -> Room:
    tmp = tmp_path_factory.mktemp("catalog-room")
    # AWS resolves a service event at once here; test_aws_side_event_ends_in_time times it.
    return Room(
        lab.endpoint, store=WorkshopStore(tmp / "state.json"), workdir=tmp, aws_event_seconds=0
    )


def test_every_failure_scenario_is_an_exercise() -> None:
    failures = {s.id for s in load_catalog() if not s.control}
    found, skipped = catalog_exercises()
    assert {e.id for e in found} == failures, skipped
    assert all(reason.startswith("a healthy control") for reason in skipped.values()), skipped


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_catalog_exercise_fails_then_its_solution_is_accepted(room: Room, exercise_id: str) -> None:
    exercise = room.exercise(exercise_id)
    who = f"p-{exercise_id}"[:32]
    record = room.start(who, exercise_id)
    expected = exercise.scenario.expected_error
    assert expected is not None
    assert record["failing_call"]["code"] == expected["code"], record["failing_call"]
    assert all(a.startswith("7") for a in record["accounts"].values())
    if "aws" not in exercise.fixed_in:
        first = room.check(who)
        assert first["result"] == "failed" and first["call"]["code"] == expected["code"], first
    room.play_solution(who)
    final = room.check(who)
    assert final["result"] == "passed", final


def test_an_app_fix_is_made_in_app_yaml_and_nowhere_else(room: Room) -> None:
    """alias-typo: KMS resolves an alias name in the caller's account and Region; the alias
    that exists is alias/billing-data (alias-about.html). Editing the key reference in the
    application's configuration is the whole fix."""
    record = room.start("tyler", "alias-typo")
    path = Path(record["app_config"])
    config = yaml.safe_load(path.read_text())
    assert config["key_id"] == "alias/billing-date"
    assert room.check("tyler")["call"]["code"] == "NotFoundException"
    config["key_id"] = "alias/billing-data"
    path.write_text(yaml.safe_dump(config))
    assert room.check("tyler")["result"] == "passed"


def test_a_grant_token_must_be_the_real_one(room: Room) -> None:
    """grant-token-needed: a grant too new to have propagated is usable only with the token
    CreateGrant returned (grants.html#terms-eventual-consistency, using-grant-token.html); a
    made-up token is InvalidGrantTokenException (API_Decrypt.html)."""
    record = room.start("gina", "grant-token-needed")
    path = Path(record["app_config"])
    config = yaml.safe_load(path.read_text())
    config["grant_tokens"] = ["app"]  # the scenario's name for the grant is not a token
    path.write_text(yaml.safe_dump(config))
    assert room.check("gina")["call"]["code"] == "InvalidGrantTokenException"
    import json

    log = json.loads(Path(record["grant_log"]).read_text())
    config["grant_tokens"] = [log[0]["GrantToken"]]
    path.write_text(yaml.safe_dump(config))
    assert room.check("gina")["result"] == "passed"


def test_per_participant_controls_do_not_reach_the_room(room: Room) -> None:
    """grant-limit-reached sets a grant quota of 2 and kms-service-event an open Health event,
    but only in that participant's accounts: another participant's grant-token exercise in the
    same room is untouched (quota and events scoped per account)."""
    import boto3

    room.start("quinn", "grant-limit-reached")
    room.start("holly", "kms-service-event")
    other = room.start("otto", "key-disabled")
    creds = other["credentials"]["investigator"]["app"]
    health = boto3.client(
        "health",
        endpoint_url=room.endpoint,
        region_name="us-east-1",
        aws_access_key_id=creds["access_key_id"],
        aws_secret_access_key=creds["secret_access_key"],
        aws_session_token=creds["session_token"],
    )
    assert health.describe_events(filter={"services": ["KMS"]})["events"] == []
    own = room.record("holly")["credentials"]["investigator"]["app"]
    health_own = boto3.client(
        "health",
        endpoint_url=room.endpoint,
        region_name="us-east-1",
        aws_access_key_id=own["access_key_id"],
        aws_secret_access_key=own["secret_access_key"],
        aws_session_token=own["session_token"],
    )
    events = health_own.describe_events(filter={"services": ["KMS"]})["events"]
    assert [e["eventTypeCode"] for e in events] == ["AWS_KMS_OPERATIONAL_ISSUE"]


def test_aws_side_event_ends_in_time(lab: LabServer, tmp_path: Path) -> None:
    """kms-service-event: nothing in the account fixes it; the call works once AWS resolves the
    event (the scenario's fix), and not before."""
    room = Room(
        lab.endpoint,
        store=WorkshopStore(tmp_path / "s.json"),
        workdir=tmp_path,
        aws_event_seconds=2,
    )
    room.start("wendy", "kms-service-event")
    early = room.check("wendy")
    assert early["result"] == "failed" and early["call"]["code"] == "ThrottlingException"
    time.sleep(2.1)
    assert room.check("wendy")["result"] == "passed"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("key_id: [unclosed", "not valid YAML"),
        ("- a list\n", "YAML mapping"),
        ("region: us-east-1\nkey: alias/x\n", "unknown setting 'key'"),
        ("region: 5\n", "region must be"),
        ("region: us-east-1\nencryption_context: {app: 1}\n", "encryption_context"),
        ("region: us-east-1\ngrant_tokens: token\n", "grant_tokens must be a list"),
    ],
)
def test_a_broken_app_yaml_is_bad_input_in_one_line(room: Room, content: str, words: str) -> None:
    """UsageError is exit 2 with its one line on stderr (harness.cli.main); nothing is
    recorded as a check."""
    from harness.errors import UsageError

    record = room.start("bea", "alias-typo")
    path = Path(record["app_config"])
    saved = path.read_text()
    checks = len(room.record("bea")["checks"])
    try:
        path.write_text(content)
        with pytest.raises(UsageError, match=words) as bad:
            room.check("bea")
    finally:
        path.write_text(saved)
    assert "\n" not in str(bad.value) and str(path) in str(bad.value)
    assert len(room.record("bea")["checks"]) == checks


def test_a_call_that_succeeds_under_an_open_health_event_is_not_healthy(room: Room) -> None:
    """One meaning of healthy (issue 13): the diagnosis's headline. While AWS Health shows an
    open KMS event for the Region (what-is-aws-health.html), a call that happens to succeed is
    not a fixed exercise: the headline is KMS_SERVICE_EVENT, not NO_FAULT_FOUND."""
    from harness.lab import LabClient

    slow = Room(room.endpoint, store=room.store, workdir=room.workdir, aws_event_seconds=3600)
    record = slow.start("hale", "kms-service-event")
    # Only the throttling ends (as the operator could); the Health event stays open.
    LabClient(room.endpoint).set_controls({"throttle": {record["caller_account"]: None}})
    verdict = slow.check("hale")
    assert verdict["call"]["ok"] and verdict["result"] == "rejected", verdict
    assert [r["code"] for r in verdict["reasons"]] == ["DIAGNOSIS_NOT_HEALTHY"]
    assert "KMS_SERVICE_EVENT" in verdict["reasons"][0]["reason"]
