"""`kmslab run --format json`: rows of scenarios rebuilt from bundles carry `not_rebuilt`
(additive; docs/contract-additions.md, h-bundle)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.cli.run import emit
from harness.scenarios.model import Scenario
from harness.scenarios.results import RunResult


def scenario(sid: str, **extra: Any) -> Scenario:
    return Scenario({"id": sid, "setup": {}, "call": {"principal": "app"}, "expected": {}, **extra})


def row(sid: str) -> RunResult:
    return RunResult(
        id=sid,
        reproduced=True,
        error="AccessDeniedException",
        finding="KEY_POLICY_NO_ALLOW",
        expected_finding="KEY_POLICY_NO_ALLOW",
        fix_verified=True,
        seconds=1.0,
    )


def test_json_rows_carry_not_rebuilt_for_rebuilt_scenarios_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    gap = {"what": "SCP p-abc (organization)", "reason": "the member account cannot read it"}
    chosen = [
        scenario("rebuilt-gaps", not_rebuilt=[gap]),
        scenario("rebuilt-whole", not_rebuilt=[]),
        scenario("catalog-row"),
    ]
    emit([row(s.id) for s in chosen], "json", chosen)
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["rebuilt-gaps"]["not_rebuilt"] == [gap]
    assert rows["rebuilt-whole"]["not_rebuilt"] == []
    assert "not_rebuilt" not in rows["catalog-row"]
    assert rows["catalog-row"]["finding"] == "KEY_POLICY_NO_ALLOW"  # the contract's fields stay
