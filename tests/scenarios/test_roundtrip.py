"""Collect a scenario's evidence, import the bundle as a scenario, reproduce it: same error, same finding."""

from __future__ import annotations

import pytest

from harness.scenarios.catalog import find
from harness.scenarios.from_bundle import scenario_from_bundle
from harness.scenarios.model import Scenario
from harness.scenarios.runner import Runner, error_matches

SAMPLE = [
    "key-disabled",
    "iam-no-allow",
    "key-policy-explicit-deny",
    "cross-account-key-policy-missing",
]


@pytest.mark.parametrize("scenario_id", SAMPLE)
def test_bundle_round_trip_reproduces_error_and_finding(
    lab_runner: Runner, scenario_id: str
) -> None:
    original = find(scenario_id)
    provisioner, resolved = lab_runner.provision(original)
    captured = lab_runner.attempt(provisioner, original, resolved)
    imported = Scenario(scenario_from_bundle(captured.bundle, scenario_id=f"{scenario_id}-import"))
    assert imported.expected_error is not None
    assert imported.expected_error["code"] == captured.outcome.code

    provisioner2, resolved2 = lab_runner.provision(imported)
    again = lab_runner.attempt(provisioner2, imported, resolved2)
    assert not error_matches(imported, again.outcome, resolved2)
    assert again.outcome.code == captured.outcome.code
    assert again.primary == captured.primary == original.expected_finding
