"""Shared steps: a scenario from the catalog, built in the lab, failed, diagnosed, fixed.

Expectations come from the scenario files, whose error codes and messages are taken from
AWS documentation (each file lists its sources).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when

from harness.diagnosis.verdict import headline, is_healthy
from harness.scenarios.catalog import find
from harness.scenarios.model import Scenario
from harness.scenarios.native import NativeProvisioner
from harness.scenarios.refs import ResolvedRefs
from harness.scenarios.results import Attempt, error_matches, evidence_calls
from harness.scenarios.runner import Runner
from harness.scenarios.terraform import TerraformProvisioner, TerraformRun


@pytest.fixture(scope="session")
def lab_endpoint() -> Iterator[str]:
    from harness.lab import LabServer

    server = LabServer(upstream="moto", port=0)
    server.start()
    try:
        yield server.endpoint
    finally:
        server.stop()


@pytest.fixture(scope="session")
def runner(lab_endpoint: str) -> Runner:
    return Runner.for_lab(lab_endpoint)


@dataclass
class FeatureLab:
    """What one feature scenario built and saw."""

    scenario: Scenario
    provisioner: NativeProvisioner
    resolved: ResolvedRefs
    attempt: Attempt | None = None
    fixed: Scenario | None = None
    terraform: TerraformProvisioner | None = None


@given(parsers.parse('the lab with the scenario "{scenario_id}"'), target_fixture="lab")
def lab_with_scenario(
    scenario_id: str, runner: Runner, request: pytest.FixtureRequest
) -> FeatureLab:
    scenario = find(scenario_id)
    if scenario.lab_gap:
        request.node.add_marker(
            pytest.mark.xfail(reason=f"lab gap: {scenario.lab_gap}", strict=True)
        )
    provisioner, resolved = runner.provision(scenario)
    return FeatureLab(scenario, provisioner, resolved)


@given(
    parsers.parse('the lab with the scenario "{scenario_id}" applied by Terraform'),
    target_fixture="lab",
)
def lab_with_scenario_by_terraform(
    scenario_id: str, runner: Runner, lab_endpoint: str, tmp_path: Path
) -> FeatureLab:
    """`kmslab run --via terraform`'s provisioning: terraform/catalog, then the rest natively."""
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH")
    scenario = find(scenario_id)
    runner.reset()
    terraform = TerraformProvisioner(
        lab_endpoint, runner.targets, TerraformRun(lab_endpoint, workdir=tmp_path / "tf")
    )
    terraform.on_controls = runner.set_controls
    provisioner, resolved = terraform.provision([scenario])[scenario.id]
    return FeatureLab(scenario, provisioner, resolved, terraform=terraform)


@then(parsers.parse('the Terraform state has the key "{name}" {state}'))
def terraform_state_of_key(lab: FeatureLab, name: str, state: str) -> None:
    assert lab.terraform is not None, "the lab was not applied by Terraform"
    arn = lab.resolved.key[name]["arn"]
    keys = [k for k in lab.terraform.run.resources("aws_kms_key") if k["arn"] == arn]
    assert len(keys) == 1, f"no aws_kms_key with the ARN {arn} in the Terraform state"
    assert keys[0]["is_enabled"] is (state == "enabled"), keys[0]


@when("the fix is applied through Terraform")
def apply_fix_with_terraform(lab: FeatureLab, runner: Runner) -> None:
    assert lab.terraform is not None, "the lab was not applied by Terraform"
    started = time.time()
    lab.fixed = lab.terraform.fix(lab.scenario, lab.provisioner, lab.resolved)
    lab.attempt = runner.attempt_after_fix(lab.provisioner, lab.fixed, lab.resolved, started)


@when("the principal makes the call")
def principal_calls(lab: FeatureLab, runner: Runner) -> None:
    lab.attempt = runner.attempt(lab.provisioner, lab.fixed or lab.scenario, lab.resolved)


@then("it fails with the expected code and message")
def fails_as_expected(lab: FeatureLab) -> None:
    assert lab.attempt is not None
    problems = error_matches(lab.scenario, lab.attempt.outcome, lab.resolved)
    assert not problems, "; ".join(problems)


@then("the diagnosis' primary finding is the expected one with evidence")
def primary_finding_as_expected(lab: FeatureLab) -> None:
    assert lab.attempt is not None
    expected = lab.scenario.expected_finding
    assert lab.attempt.primary == expected, lab.attempt.diagnosis
    finding = lab.attempt.finding(expected)
    assert finding is not None and finding.get("evidence"), f"{expected} has no evidence"
    missing = set(lab.scenario.expected.get("evidence", [])) - evidence_calls(finding)
    assert not missing, f"{expected} evidence lacks {sorted(missing)}: {finding['evidence']}"
    assert finding.get("fix"), f"{expected} has no fix"


@when("the fix is applied")
def apply_fix(lab: FeatureLab, runner: Runner) -> None:
    started = time.time()
    lab.fixed = runner.apply_fix(lab.scenario, lab.provisioner, lab.resolved)
    lab.attempt = runner.attempt_after_fix(lab.provisioner, lab.fixed, lab.resolved, started)


@then("the call succeeds")
def call_succeeds(lab: FeatureLab) -> None:
    assert lab.attempt is not None
    outcome = lab.attempt.outcome
    assert outcome.ok, f"{outcome.code}: {outcome.message}"


@then("the diagnosis says NO_FAULT_FOUND")
def no_fault(lab: FeatureLab) -> None:
    assert lab.attempt is not None
    # The diagnosis's own headline decides (harness.diagnosis.verdict), as in `kmslab run`.
    assert is_healthy(lab.attempt.diagnosis), (
        headline(lab.attempt.diagnosis),
        lab.attempt.diagnosis,
    )


# -- the walking skeleton's explicit wording ---------------------------------------------


@then(parsers.parse('it fails with "{code}" and the message "<key ARN> is disabled."'))
def fails_disabled(lab: FeatureLab, code: str) -> None:
    assert lab.attempt is not None
    outcome = lab.attempt.outcome
    key_arn = lab.resolved.key["data"]["arn"]
    # key-state.html: "DisabledException: <key ARN> is disabled."
    assert (outcome.code, outcome.message) == (code, f"{key_arn} is disabled.")


@then(
    parsers.parse(
        'the diagnosis reports "{code}" citing "{call}" and a fix that calls "{fix_call}"'
    )
)
def diagnosis_reports(lab: FeatureLab, code: str, call: str, fix_call: str) -> None:
    assert lab.attempt is not None
    assert lab.attempt.primary == code
    finding: dict[str, Any] | None = lab.attempt.finding(code)
    assert finding is not None
    assert call in evidence_calls(finding)
    assert fix_call in finding["fix"].get("cli", "") + finding["fix"].get("summary", "")
