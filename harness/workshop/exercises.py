"""Exercises: catalog scenarios a participant can fix alone on a shared lab.

Every failure scenario with hints is an exercise. A fix that changes the application's call
is made in the exercise's application configuration (`app_config`); the lab controls a
scenario needs are scoped to the participant's accounts (`room.scoped_controls`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.errors import UsageError
from harness.scenarios.catalog import load_catalog
from harness.scenarios.model import Scenario


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
            "fixed_in": self.fixed_in,
        }

    @property
    def fixed_in(self) -> list[str]:
        """Where the fix is made: "setup" (the accounts), "app" (app.yaml), "aws" (wait)."""
        fix = self.scenario.fix
        setup = fix.get("setup") or {}
        where = []
        if setup and set(setup) != {"controls"}:
            where.append("setup")
        if fix.get("call"):
            where.append("app")
        if setup and set(setup) == {"controls"} and not fix.get("call"):
            where.append("aws")
        return where


def unsuitable(scenario: Scenario) -> str | None:
    """Why a catalog scenario is not a workshop exercise, or None."""
    if scenario.control:
        return "a healthy control has nothing to fix"
    if not scenario.raw.get("hints"):
        return "no hints"
    if scenario.lab_gap:
        return f"the lab cannot build it yet ({scenario.lab_gap})"
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
