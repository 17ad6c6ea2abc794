"""Workshop: start and check latency with 10 participants at once, beside one at a time.

The room's lab runs in a child process (as `kmslab lab up` does for a real room); the
participants are 10 threads of this process, each on a different catalog exercise. The
baseline is the same 10 exercises started and checked one after another in the same run, so
the ratio is what a full room costs each participant over having the lab to themselves.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench.report import Report, Row, median, percentile
from harness.lab.child import child_lab
from harness.workshop import Room, WorkshopStore

EXERCISES = (
    "key-disabled",
    "alias-typo",
    "wrong-region",
    "encryption-context-mismatch",
    "grant-token-needed",
    "condition-via-service-direct-call",
    "principal-role-not-listed",
    "key-pending-deletion",
    "iam-no-allow",
    "kms-service-event",
)


def _each(room: Room, prefix: str, action: Callable[[Room, str, str], object]) -> list[float]:
    samples = []
    for exercise in EXERCISES:
        start = time.perf_counter()
        action(room, f"{prefix}{exercise}"[:32], exercise)
        samples.append(time.perf_counter() - start)
    return samples


def _together(room: Room, prefix: str, action: Callable[[Room, str, str], object]) -> list[float]:
    samples: list[float] = []
    lock = threading.Lock()
    gate = threading.Barrier(len(EXERCISES))

    def one(exercise: str) -> None:
        gate.wait()
        start = time.perf_counter()
        action(room, f"{prefix}{exercise}"[:32], exercise)
        with lock:
            samples.append(time.perf_counter() - start)

    threads = [threading.Thread(target=one, args=(e,)) for e in EXERCISES]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if len(samples) != len(EXERCISES):
        raise RuntimeError("a participant's command failed (see above)")
    return samples


def _start(room: Room, who: str, exercise: str) -> object:
    return room.start(who, exercise)


def _check(room: Room, who: str, exercise: str) -> object:
    return room.check(who)


def run(report: Report) -> None:
    with child_lab("moto") as endpoint, tempfile.TemporaryDirectory() as tmp:
        room = Room(endpoint, store=WorkshopStore(Path(tmp) / "state.json"), workdir=Path(tmp))
        alone_start = _each(room, "a-", _start)
        room_start = _together(room, "r-", _start)
        alone_check = _each(room, "a-", _check)
        room_check = _together(room, "r-", _check)
    for name, alone, together in (
        ("start", alone_start, room_start),
        ("check", alone_check, room_check),
    ):
        base = median(alone)
        report.add(
            Row(
                f"workshop {name}, 10 at once: median",
                median(together),
                "s",
                f"{name} alone (median)",
                base,
                target="a room of 10 stays interactive (< 10 s)",
            )
        )
        report.add(
            Row(
                f"workshop {name}, 10 at once: p95",
                percentile(together, 95),
                "s",
                f"{name} alone (p95)",
                percentile(alone, 95),
            )
        )
