"""Differential test: every decidable case also runs through @cloud-copilot/iam-simulate.

Both must agree except on the cases listed in oracle_divergences.yaml, each with the reason (the
oracle's known gaps are in the shared tooling-facts page). A listed case that stops diverging fails
too, so the list stays true.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.policy import evaluate

from .case_files import load_cases
from .oracle_support import VERSION, ensure_installed, load_divergences, run_batch

pytestmark = pytest.mark.oracle


@pytest.fixture(scope="module")
def oracle_results() -> dict[str, Any]:
    why = ensure_installed()
    if why:
        # Required, not optional (issue 13): node and npm are on every machine, CI included.
        pytest.fail(f"iam-simulate {VERSION} unavailable: {why}", pytrace=False)
    cases = [(c.id, c.input) for c in load_cases() if "decision" in c.expect]
    return run_batch(cases)


def _divergences() -> dict[str, str]:
    return load_divergences()["cases"]


def test_divergence_list_names_real_cases() -> None:
    ids = {c.id for c in load_cases()}
    for case_id in _divergences():
        assert case_id in ids, f"oracle_divergences.yaml lists unknown case {case_id}"


def test_agrees_with_iam_simulate(oracle_results: dict[str, Any]) -> None:
    known = _divergences()
    disagreements = []
    still_listed = []
    for case in load_cases():
        if "decision" not in case.expect:
            continue
        ours = evaluate(case.input).decision
        theirs = oracle_results["results"].get(case.id)
        error = oracle_results["errors"].get(case.id)
        differs = theirs != ours
        if case.id in known:
            if not differs:
                still_listed.append(case.id)
        elif differs:
            disagreements.append(f"{case.id}: kmslab {ours}, iam-simulate {theirs or error}")
    assert not disagreements, "\n".join(disagreements)
    assert not still_listed, f"listed as divergent but now agree: {still_listed}"
