"""Exercises: catalog scenarios a participant can fix alone on a shared lab.

A scenario is an exercise when it has hints, is not a healthy control, and its fix changes
only the setup (a fix that changes the application's own call cannot be made with the
AWS CLI or Terraform), and it needs no lab-wide control that would reach other participants.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.errors import UsageError
from harness.scenarios.catalog import load_catalog
from harness.scenarios.model import Scenario

# Lab controls that are not per key or per account: setting them changes everyone's lab.
LAB_WIDE_CONTROLS = ("grant_propagation_seconds", "grant_quota", "health_events")


@dataclass(frozen=True)
class Exercise:
    scenario: Scenario

    @property
    def id(self) -> str:
        return self.scenario.id

    @property
    def title(self) -> str:
        return self.scenario.title

    @property
    def hints(self) -> list[str]:
        return [str(h) for h in self.scenario.raw.get("hints", [])]

    @property
    def story(self) -> str:
        return str(self.scenario.raw["story"]).strip()

    def summary(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "runbook_step": self.scenario.runbook_step,
            "hints": len(self.hints),
            "expected_error": (self.scenario.expected_error or {}).get("code"),
        }


def unsuitable(scenario: Scenario) -> str | None:
    """Why a catalog scenario is not a workshop exercise, or None."""
    if scenario.control:
        return "a healthy control has nothing to fix"
    if not scenario.raw.get("hints"):
        return "no hints"
    if scenario.fix.get("call"):
        return "the fix changes the application's call, not the setup"
    if scenario.lab_gap:
        return f"the lab cannot build it yet ({scenario.lab_gap})"
    shared = [c for c in LAB_WIDE_CONTROLS if c in scenario.setup.get("controls", {})]
    fix_controls = (scenario.fix.get("setup") or {}).get("controls") or {}
    shared += [c for c in LAB_WIDE_CONTROLS if c in fix_controls and c not in shared]
    if shared:
        return f"needs lab-wide controls ({', '.join(shared)}) that would reach every participant"
    return None


def catalog_exercises(root: Path | None = None) -> tuple[list[Exercise], dict[str, str]]:
    """(exercises, {scenario id: why it is not one})."""
    found, skipped = [], {}
    for scenario in load_catalog(root):
        reason = unsuitable(scenario)
        if reason is None:
            found.append(Exercise(scenario))
        else:
            skipped[scenario.id] = reason
    return found, skipped


def find_exercise(exercise_id: str, root: Path | None = None) -> Exercise:
    found, skipped = catalog_exercises(root)
    for exercise in found:
        if exercise.id == exercise_id:
            return exercise
    if exercise_id in skipped:
        raise UsageError(
            f"scenario {exercise_id!r} is not a workshop exercise: {skipped[exercise_id]}"
        )
    raise UsageError(f"unknown exercise {exercise_id!r} (see `kmslab workshop list`)")
