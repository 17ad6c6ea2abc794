"""What the parts of a `Room` (checking, coaching) may use of the room that mixes them in.

Declared for the type checker only: at run time the class is empty, so no placeholder method
can shadow the room's own in the method resolution order.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.scenarios.model import Scenario
    from harness.scenarios.native import NativeProvisioner
    from harness.workshop.exercises import Exercise
    from harness.workshop.store import WorkshopStore


class RoomPart:
    if TYPE_CHECKING:
        store: WorkshopStore
        workdir: Path

        def record(self, participant: str, exercise_id: str | None = None) -> dict[str, Any]: ...
        def exercise(self, exercise_id: str) -> Exercise: ...
        def scenarios(
            self, exercise: Exercise, space: int
        ) -> tuple[Scenario, Scenario, dict[str, str]]: ...
        def provisioner(
            self, endpoint: str, accounts: dict[str, str] | None = None
        ) -> NativeProvisioner: ...
        def publish(self) -> bool: ...
