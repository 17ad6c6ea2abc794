"""Every exercise of the real catalog starts in a participant's space on a shared lab and shows
the error its scenario expects (the scenario's own `expected.error`, from AWS documentation)."""

from __future__ import annotations

import pytest

from harness.lab import LabServer
from harness.workshop import Room, WorkshopStore, catalog_exercises

pytestmark = pytest.mark.slow

EXERCISES = [e.id for e in catalog_exercises()[0]]


@pytest.fixture(scope="module")
def room(lab: LabServer, tmp_path_factory: pytest.TempPathFactory) -> Room:
    tmp = tmp_path_factory.mktemp("catalog-room")
    return Room(lab.endpoint, store=WorkshopStore(tmp / "state.json"), workdir=tmp)


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_catalog_exercise_starts_with_its_expected_error(room: Room, exercise_id: str) -> None:
    exercise = room.exercise(exercise_id)
    record = room.start("pat", exercise_id)
    expected = exercise.scenario.expected_error
    assert expected is not None
    assert record["failing_call"]["code"] == expected["code"], record["failing_call"]
    assert all(a.startswith("7") for a in record["accounts"].values())
    assert room.check("pat")["result"] == "failed"


def test_the_catalog_has_exercises() -> None:
    assert EXERCISES, f"no catalog scenario is an exercise: {catalog_exercises()[1]}"
