"""Redaction (issue 12): pseudonyms for key ids, session names and unique ids too, and a
redacted bundle diagnoses exactly as the original: same primary finding, same evidence calls.

The bundles are the captured catalog (tests/diagnosis/catalog, re-recorded by
tests/diagnosis/capture_catalog.py): one per catalog scenario. A scenario whose investigation
never saw the error (investigator-no-key-policy-read) is kept in tests/scenarios/captured, as
the diagnosis suite's recordings all carry the observed error.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from harness.diagnosis import diagnose
from harness.evidence.redact import redact_bundle
from harness.scenarios.catalog import load_catalog

CAPTURED_DIRS = [
    Path(__file__).resolve().parents[1] / "diagnosis" / "catalog",
    Path(__file__).resolve().parent / "captured",
]
CAPTURED = {p.stem: p for d in CAPTURED_DIRS for p in d.glob("*.json")}
KEY_ID = re.compile(
    r"mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)
UNIQUE_ID = re.compile(r"\b(?:AROA|AIDA|ASIA|AKIA)[A-Z0-9]{12,}\b")
SESSION = re.compile(r":assumed-role/[^/\"\\]+/([^\"/\s\\]+)")


def bundle_of(scenario_id: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(CAPTURED[scenario_id].read_text())
    bundle: dict[str, Any] = record["bundle"]
    return bundle


def evidence_calls(diagnosis: dict[str, Any]) -> list[str]:
    primary = diagnosis.get("primary")
    for finding in diagnosis.get("findings", []):
        if finding["code"] == primary:
            return sorted({item["call"] for item in finding["evidence"]})
    return []


def test_every_catalog_scenario_has_a_captured_bundle() -> None:
    missing = [s.id for s in load_catalog() if s.id not in CAPTURED]
    assert missing == []


@pytest.mark.parametrize("scenario_id", sorted(CAPTURED))
def test_redacted_bundle_diagnoses_like_the_original(scenario_id: str) -> None:
    original = bundle_of(scenario_id)
    redacted = redact_bundle(original)
    before = diagnose(original).to_dict()
    after = diagnose(redacted).to_dict()
    assert after["primary"] == before["primary"]
    assert after["decision"] == before["decision"]
    assert evidence_calls(after) == evidence_calls(before)
    assert sorted(u["call"] for u in after["unreadable"]) == sorted(
        u["call"] for u in before["unreadable"]
    )


@pytest.mark.parametrize("scenario_id", ["principal-orphaned-unique-id", "key-disabled"])
def test_redaction_replaces_key_ids_unique_ids_and_session_names(scenario_id: str) -> None:
    original = bundle_of(scenario_id)
    text = json.dumps(original)
    redacted = json.dumps(redact_bundle(original))
    real_keys = set(KEY_ID.findall(text))
    real_ids = set(UNIQUE_ID.findall(text))
    real_sessions = set(SESSION.findall(text))
    assert real_keys and real_ids and real_sessions  # the bundle has something to hide
    for value in real_keys | real_ids | real_sessions:
        assert value not in redacted, value
    # Pseudonyms keep the shape rules read: a UUID key id, a role unique id's AROA prefix.
    assert KEY_ID.search(redacted)
    assert re.search(r"\bAROA[A-Z0-9]{12,}\b", redacted)


def test_the_same_real_value_gets_the_same_pseudonym_everywhere() -> None:
    original = bundle_of("principal-orphaned-unique-id")
    redacted = redact_bundle(original)
    arns = {
        json.loads(json.dumps(c["response"]))["KeyMetadata"]["Arn"]
        for c in redacted["calls"]
        if c["operation"] == "DescribeKey" and "response" in c
    }
    assert len(arns) == 1
    (arn,) = arns
    assert redacted["request"]["key"] == arn
    policy_ids = set(UNIQUE_ID.findall(json.dumps(redacted)))
    role_ids = {
        c["response"]["Role"]["RoleId"]
        for c in redacted["calls"]
        if c["operation"] == "GetRole" and "response" in c
    }
    # The orphaned id in the key policy stays different from the caller's current role id.
    assert role_ids and policy_ids - role_ids
