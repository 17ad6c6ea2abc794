"""The run table (scenario, error reproduced, diagnosis, fix verified, time) and progress bar."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from harness.scenarios.results import RunResult


@contextmanager
def progress(total: int, show: bool) -> Iterator[Callable[[RunResult], None]]:
    """A progress bar on stderr; yields the callback to call with each finished row."""
    if not show:
        yield lambda _result: None
        return
    if not sys.stderr.isatty():
        # A log (CI, a pipe) gets one line per finished scenario instead of a bar.
        count = 0

        def line(result: RunResult) -> None:
            nonlocal count
            count += 1
            state = "ok" if result.ok else "FAIL"
            print(
                f"[{count}/{total}] {result.id} {state} {result.seconds:.1f}s",
                file=sys.stderr,
                flush=True,
            )

        yield line
        return
    bar = Progress(
        TextColumn("[bold]scenarios"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=Console(stderr=True),
        transient=True,
    )
    with bar:
        task = bar.add_task("", total=total)

        def tick(result: RunResult) -> None:
            bar.update(task, advance=1, description=f"{result.id} {'ok' if result.ok else 'FAIL'}")

        yield tick


def mark(flag: bool) -> str:
    return "yes" if flag else "NO"


def render_table(results: list[RunResult], out: TextIO) -> None:
    table = Table(title="kmslab run")
    for column in ("scenario", "error reproduced", "diagnosis", "fix verified", "time"):
        table.add_column(column, justify="right" if column == "time" else "left")
    for r in results:
        error = f"{mark(r.reproduced)} ({r.error or 'succeeded'})"
        diagnosis = r.finding or "-"
        if r.finding != r.expected_finding:
            diagnosis += f" (expected {r.expected_finding})"
        table.add_row(r.id, error, diagnosis, mark(r.fix_verified), f"{r.seconds:.2f}s")
    console = Console(file=out, width=160)
    console.print(table)
    passed = sum(r.ok for r in results)
    gaps = sum(1 for r in results if not r.ok and r.lab_gap)
    line = f"{passed}/{len(results)} scenarios ok"
    if gaps:
        line += f", {gaps} blocked by a known lab gap"
    console.print(line)
    for r in results:
        if not r.ok:
            why = "; ".join(r.problems)
            if r.lab_gap:
                why = f"(lab gap: {r.lab_gap}) {why}"
            console.print(f"[bold]{r.id}[/]: {why}", markup=True, highlight=False)
        elif r.lab_gap:
            console.print(
                f"[bold]{r.id}[/]: ok although it declares a lab gap; remove `lab_gap`",
                markup=True,
                highlight=False,
            )
