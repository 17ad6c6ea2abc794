"""The lab's own decisions, re-decided by an independent evaluator.

The lab authorizes every call of issued credentials with kmslab's evaluator, and the diagnosis
uses the same evaluator, so agreement between them proves nothing about AWS. Here the whole
catalog runs (provision, failing call, investigation, fix, verification) on a lab that records
each authorization decision it makes (harness/lab/decisions.py); every distinct recorded input is
then decided again by @cloud-copilot/iam-simulate in one node process. A divergence fails unless
oracle_divergences.yaml lists it under `lab_decisions` with the AWS page that decides it, and a
listed divergence that no longer happens fails too, so the list stays true.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.lab import LabServer
from harness.lab.child import child_lab
from harness.lab.decisions import ENV, read
from harness.scenarios.catalog import load_catalog
from harness.scenarios.runner import Runner

from .oracle_support import VERSION, ensure_installed, load_divergences, run_batch

pytestmark = [pytest.mark.oracle, pytest.mark.slow]


class Recorded:
    """Distinct recorded decisions: input text -> (decision, {"<scenario> <action>", ...})."""

    def __init__(self) -> None:
        self.inputs: dict[str, dict[str, Any]] = {}
        self.decisions: dict[str, str] = {}
        self.where: dict[str, set[str]] = {}
        self.total = 0

    def add(self, scenario: str, entry: dict[str, Any]) -> None:
        self.total += 1
        text = json.dumps(entry["input"], sort_keys=True)
        self.inputs.setdefault(text, entry["input"])
        previous = self.decisions.setdefault(text, entry["decision"])
        # The evaluator never caches decisions: one input, one decision.
        assert previous == entry["decision"], f"{scenario}: one input decided two ways"
        self.where.setdefault(text, set()).add(f"{scenario} {entry['input']['request']['action']}")


def _grant_allows(doc: dict[str, Any], ours: str, theirs: str | None) -> bool:
    # iam-simulate has no grants: only an allow that rests on a grant can diverge this way.
    return bool(doc.get("grants")) and ours == "Allowed" and theirs == "ImplicitDeny"


def _context_allows(doc: dict[str, Any], ours: str, theirs: str | None) -> bool:
    context = doc["request"].get("context") or {}
    dropped = any(k.lower().startswith("kms:encryptioncontext:") for k in context)
    return dropped and ours == "Allowed" and theirs == "ImplicitDeny"


def _root_allowed(doc: dict[str, Any], ours: str, theirs: str | None) -> bool:
    return doc["request"]["principal"].endswith(":root") and ours == "Allowed"


# The shape each reason used under lab_decisions describes (oracle_divergences.yaml).
SHAPES = {
    "no-grants": _grant_allows,
    "drops-encryption-context": _context_allows,
    "root-user": _root_allowed,
}


def test_every_lab_decision_reason_has_a_shape() -> None:
    assert set(load_divergences()["lab_decisions"].values()) <= set(SHAPES)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    why = ensure_installed()
    if why:
        pytest.fail(f"iam-simulate {VERSION} unavailable: {why}", pytrace=False)
    log = tmp_path_factory.mktemp("decisions") / "decisions.jsonl"
    out = Recorded()
    # The lab runs in a child process (as `kmslab run` runs it), so the lab and the runner use
    # both cores; the child reads the decision log's path from the environment once, at start.
    with pytest.MonkeyPatch.context() as env:
        env.setenv(ENV, str(log))
        with child_lab("moto") as endpoint:
            runner = Runner.for_lab(endpoint)
            seen = 0
            for scenario in load_catalog():
                try:
                    runner.run(scenario)
                except Exception as exc:  # name the scenario; the decisions so far are not enough
                    pytest.fail(f"{scenario.id}: the catalog run failed: {exc}", pytrace=False)
                entries = read(log)
                for entry in entries[seen:]:
                    out.add(scenario.id, entry)
                seen = len(entries)
    yield out


def test_the_catalog_run_was_recorded(recorded: Recorded) -> None:
    # Every catalog scenario makes at least one authorized call, and the healthy controls'
    # calls are allowed: a log without both would compare nothing worth comparing.
    scenarios = {w.split(" ")[0] for ws in recorded.where.values() for w in ws}
    # Every scenario's calls (the failing call, the investigation, the verification) are
    # authorized by the lab; a scenario with none would be compared with nothing.
    assert sorted({s.id for s in load_catalog()} - scenarios) == []
    assert {"Allowed", "ExplicitDeny", "ImplicitDeny"} <= set(recorded.decisions.values())


def test_lab_decisions_agree_with_iam_simulate(recorded: Recorded) -> None:
    known = load_divergences()["lab_decisions"]
    texts = sorted(recorded.inputs)
    batch = run_batch([(f"d{i}", recorded.inputs[t]) for i, t in enumerate(texts)])
    unexplained: list[str] = []
    diverging: set[str] = set()
    for i, text in enumerate(texts):
        ours = recorded.decisions[text]
        theirs = batch["results"].get(f"d{i}")
        if theirs == ours:
            continue
        where = recorded.where[text]
        diverging |= where
        listed = {known[w] for w in where if w in known}
        # A listed reason explains this divergence only if the input has the shape it names.
        if not any(SHAPES[reason](recorded.inputs[text], ours, theirs) for reason in listed):
            why = theirs or batch["errors"].get(f"d{i}")
            req = recorded.inputs[text]["request"]
            unexplained.append(
                f"{sorted(where)}: lab {ours}, iam-simulate {why} "
                f"(principal {req['principal']}, resource {req['resource']}; listed: {listed or '-'})"
            )
    assert not unexplained, "unexplained divergences:\n" + "\n".join(unexplained)
    stale = sorted(set(known) - diverging)
    assert not stale, f"listed under lab_decisions but no longer diverging: {stale}"


def test_each_recorded_input_reproduces_its_decision(recorded: Recorded) -> None:
    # The log is a faithful record: the input alone, with no lab state, decides the same way.
    from harness.policy import evaluate

    wrong = [
        text[:200]
        for text, doc in recorded.inputs.items()
        if evaluate(doc).decision != recorded.decisions[text]
    ]
    assert not wrong, wrong


def test_the_decision_log_is_off_unless_asked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from harness.lab.decisions import ENV

    monkeypatch.delenv(ENV, raising=False)
    assert LabServer(upstream="moto", port=0).decision_log is None
    monkeypatch.setenv(ENV, str(tmp_path / "d.jsonl"))
    log = LabServer(upstream="moto", port=0).decision_log
    assert log is not None and log.path == tmp_path / "d.jsonl"
