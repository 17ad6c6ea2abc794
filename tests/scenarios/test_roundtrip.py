"""The whole catalog round trip (issue 11): collect each scenario's evidence in the lab, import
the bundle as a scenario (as collected and redacted), rebuild it in the same lab and make the
call again: same error, same primary finding, and the imported expectation holds.

One lab for the module (conftest), ~1 s per rebuild; xdist splits the parameters.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
import yaml

from harness.evidence.redact import redact_bundle
from harness.scenarios.catalog import find, load_catalog
from harness.scenarios.from_bundle import scenario_from_bundle
from harness.scenarios.model import Scenario
from harness.scenarios.results import error_matches
from harness.scenarios.runner import Runner

CATALOG = [s.id for s in load_catalog() if not s.lab_gap]


@pytest.mark.parametrize("scenario_id", CATALOG)
def test_bundle_round_trip_reproduces_error_and_finding(
    lab_runner: Runner, scenario_id: str
) -> None:
    original = find(scenario_id)
    provisioner, resolved = lab_runner.provision(original)
    captured = lab_runner.attempt(provisioner, original, resolved)
    assert captured.primary == original.expected_finding  # the catalog itself holds
    for label, bundle in (
        ("as collected", captured.bundle),
        ("redacted", redact_bundle(captured.bundle)),
    ):
        imported = Scenario(scenario_from_bundle(bundle, scenario_id=f"{scenario_id[:30]}-import"))
        if captured.outcome.ok:
            assert imported.expected_error is None and imported.control, label
        else:
            assert imported.expected_error is not None, label
            assert imported.expected_error["code"] == captured.outcome.code, label
        provisioner2, resolved2 = lab_runner.provision(imported)
        again = lab_runner.attempt(provisioner2, imported, resolved2)
        assert error_matches(imported, again.outcome, resolved2) == [], label
        assert again.outcome.code == captured.outcome.code, label
        assert again.primary == captured.primary, label
        if label == "as collected" and not imported.control:
            _fix_holds(lab_runner, imported, provisioner2, resolved2)


def _fix_holds(lab_runner: Runner, imported: Scenario, provisioner: Any, resolved: Any) -> None:
    """The rebuilt incident's fix, derived from the diagnosis, is applied as `kmslab run` does and
    the call then works with a healthy diagnosis; or the scenario says why there is none."""
    gaps = [g["reason"] for g in imported.not_rebuilt if g["what"] == "fix"]
    derived = bool(set(imported.fix) & {"setup", "call"})
    assert derived != bool(gaps), (imported.fix, gaps)
    if not derived:
        return
    started = time.time()
    fixed = lab_runner.apply_fix(imported, provisioner, resolved)
    after = lab_runner.attempt_after_fix(provisioner, fixed, resolved, started)
    assert after.outcome.ok, (imported.fix, after.outcome.code, after.outcome.message)
    assert after.healthy, (imported.fix, after.primary)


READABLE = ["principal-wrong-account", "key-disabled", "key-policy-explicit-deny"]


@pytest.mark.parametrize("scenario_id", READABLE)
def test_imported_scenario_reads_like_a_catalog_file(lab_runner: Runner, scenario_id: str) -> None:
    original = find(scenario_id)
    provisioner, resolved = lab_runner.provision(original)
    captured = lab_runner.attempt(provisioner, original, resolved)
    scenario = scenario_from_bundle(captured.bundle, source="incident.json")
    from harness.cli.scenarios import _no_anchors

    text = yaml.dump(scenario, Dumper=_no_anchors(), sort_keys=False)
    assert not re.search(r"[&*]id\d+", text)  # no YAML anchors or aliases
    message = scenario["expected"]["error"]["message"]
    assert "${caller.arn}" in message or "${key.data.arn}" in message
    assert "\\-" not in message and "\\:" not in message  # not regex-escaped text
    assert "incident.json" in scenario["story"] and "collected at" in scenario["story"]
