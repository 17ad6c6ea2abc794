"""End to end on the scenario catalog: bundles the lab recorded for each scenario's failing call
(tests/diagnosis/catalog/, re-recorded by capture_catalog.py) give the scenario's expected primary
finding, citing the calls the scenario names as evidence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.diagnosis import diagnose
from harness.diagnosis.render import render

RECORDS = sorted((Path(__file__).parent / "catalog").glob("*.json"))


def test_recordings_exist() -> None:
    assert len(RECORDS) >= 50


@pytest.mark.parametrize("path", RECORDS, ids=[p.stem for p in RECORDS])
def test_catalog_scenario(path: Path) -> None:
    record = json.loads(path.read_text())
    report = diagnose(record["bundle"])
    assert report.headline == record["expected_finding"], report.codes()
    primary = report.finding(report.headline)
    assert primary is not None
    calls = {e.call for e in primary.evidence}
    assert set(record["expected_evidence"]) <= calls, calls
    if record["expected_finding"] == "NO_FAULT_FOUND":
        assert report.decision == "Allowed"
    else:
        assert report.agreement is not None and report.agreement.agrees, report.agreement
    for fmt in ("text", "json", "markdown"):
        assert render(report, fmt)


def test_recorded_scenarios_are_still_in_the_catalog() -> None:
    from harness.scenarios.catalog import load_catalog

    ids = {s.id for s in load_catalog()}
    assert {p.stem for p in RECORDS} <= ids
