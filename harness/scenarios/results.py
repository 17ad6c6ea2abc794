"""What one run of a scenario yields (an attempt, a result row) and how it is judged: the error
against the scenario's expectation, and whether a finding rests on history (CloudTrail, logs).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from harness.diagnosis.verdict import headline, is_healthy
from harness.errors import UsageError
from harness.scenarios.call import Outcome
from harness.scenarios.model import Scenario
from harness.scenarios.refs import ResolvedRefs, substitute


class BuildError(UsageError):
    """A scenario's setup the lab refused to build: one line naming the call and AWS's error."""

    def __init__(self, scenario_id: str, exc: Exception) -> None:
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            what = f"{exc.operation_name} failed: {error.get('Code')}: {error.get('Message')}"
        else:
            what = str(exc)
        super().__init__(f"scenario {scenario_id} could not be built ({what}); the lab was reset")


@dataclass
class Attempt:
    """One call as the principal and what the investigation made of it."""

    outcome: Outcome
    bundle: dict[str, Any]
    diagnosis: dict[str, Any]

    @property
    def primary(self) -> str:
        """The diagnosis's headline (the one meaning of healthy, harness.diagnosis.verdict)."""
        return headline(self.diagnosis)

    @property
    def healthy(self) -> bool:
        return is_healthy(self.diagnosis)

    def finding(self, code: str) -> dict[str, Any] | None:
        for finding in self.diagnosis.get("findings", []):
            if finding.get("code") == code:
                found: dict[str, Any] = finding
                return found
        return None


@dataclass
class RunResult:
    """A row of `kmslab run` (contract section 1) plus what explains it."""

    id: str
    reproduced: bool
    error: str | None
    finding: str | None
    expected_finding: str
    fix_verified: bool
    seconds: float
    message: str | None = None
    problems: list[str] = field(default_factory=list)
    before: Attempt | None = None
    after: Attempt | None = None
    resolved: ResolvedRefs | None = None
    lab_gap: str | None = None
    read_as: str = "investigator"
    built_via: str = "native"
    fixed_via: str = "native"

    @property
    def ok(self) -> bool:
        return self.reproduced and self.finding == self.expected_finding and self.fix_verified

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reproduced": self.reproduced,
            "error": self.error,
            "finding": self.finding,
            "expected_finding": self.expected_finding,
            "fix_verified": self.fix_verified,
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            # additive fields (docs/contract-additions.md): who read the evidence, and the
            # path that built the scenario and applied its fix
            "read_as": self.read_as,
            "built_via": self.built_via,
            "fixed_via": self.fixed_via,
        }


def expected_message(scenario: Scenario, resolved: ResolvedRefs) -> re.Pattern[str] | None:
    error = scenario.expected_error
    if error is None:
        return None
    return re.compile(str(substitute(error["message"], resolved, regex=True)), re.DOTALL)


def error_matches(scenario: Scenario, outcome: Outcome, resolved: ResolvedRefs) -> list[str]:
    """Why the outcome is not the expected one (empty when it is)."""
    error = scenario.expected_error
    if error is None:
        return [] if outcome.ok else [f"expected success, got {outcome.code}: {outcome.message}"]
    if outcome.ok:
        return [f"expected {error['code']}, but the call succeeded"]
    problems = []
    if outcome.code != error["code"]:
        problems.append(f"expected {error['code']}, got {outcome.code}: {outcome.message}")
    pattern = expected_message(scenario, resolved)
    if pattern is not None and not pattern.fullmatch(outcome.message or ""):
        problems.append(f"message {outcome.message!r} does not match {pattern.pattern!r}")
    return problems


def lookback_since(since: float) -> float:
    """Seconds of CloudTrail history that start after `since`, waiting for the next second.

    CloudTrail's eventTime has whole seconds (and the lab compares StartTime by whole seconds),
    so an event of the second `since` falls in belongs before it: the window opens at the next
    whole second, and the investigation waits for it.
    """
    opens = float(int(since) + 1)
    delay = opens - time.time()
    if delay > 0:
        time.sleep(delay + 0.01)
    return max(time.time() - opens, 0.01)


# Evidence that records what happened over time rather than how things are now.
HISTORY_CALLS = frozenset({"cloudtrail:LookupEvents", "logs:FilterLogEvents"})


def rests_on_history(attempt: Attempt) -> bool:
    """Whether the headline finding's evidence is only CloudTrail or CloudWatch Logs records."""
    calls = evidence_calls(attempt.finding(attempt.primary))
    return bool(calls) and calls <= HISTORY_CALLS


def evidence_calls(finding: dict[str, Any] | None) -> set[str]:
    if not finding:
        return set()
    return {str(item.get("call", "")) for item in finding.get("evidence", [])}
