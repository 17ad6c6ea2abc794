"""Progress of Terraform steps, which run for minutes against an emulator (provider waits).

On a terminal a status line follows Terraform's own output ("aws_kms_key.this: Still
creating... [10s elapsed]"); elsewhere (CI logs, pipes) each step prints one line when it ends,
with its time and Terraform's summary. Nothing is printed unless a command turns it on.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.spinner import Spinner

SUMMARY = re.compile(
    r"^(Apply complete!.*|Plan: .*|No changes\..*|Terraform has been successfully initialized!)"
)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class StepProgress:
    """Reports Terraform steps to `stream` (a status line on a terminal, else a line per step)."""

    stream: TextIO = field(default_factory=lambda: sys.stderr)
    terminal: bool | None = None
    width: int | None = None  # the terminal's when None

    def __post_init__(self) -> None:
        if self.terminal is None:
            self.terminal = self.stream.isatty()

    def run(
        self, argv: list[str], *, cwd: Path, env: dict[str, str], label: str
    ) -> tuple[int, str, str]:
        """Run `argv`, following its output; (exit status, stdout, stderr)."""
        start = time.perf_counter()
        lines: list[str] = []
        summary = ""
        with tempfile.TemporaryFile(mode="w+") as err:
            proc = subprocess.Popen(
                argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=err, text=True
            )
            assert proc.stdout is not None
            console = (
                Console(file=self.stream, force_terminal=True, width=self.width)
                if self.terminal
                else None
            )
            # A spinner in a Live display (what console.status wraps), refreshed on every line
            # Terraform prints: the background refresher alone may skip a short-lived line.
            spinner = Spinner("dots", text=escape(f"terraform {label}"))
            live = (
                Live(spinner, console=console, refresh_per_second=12.5, transient=True)
                if console is not None
                else None
            )
            if live is not None:
                live.start()
            try:
                for raw in proc.stdout:
                    lines.append(raw)
                    text = ANSI.sub("", raw).strip()
                    if SUMMARY.match(text):
                        summary = text
                    if live is not None and console is not None and text:
                        elapsed = time.perf_counter() - start
                        # One screen line (a wrapped status line scrolls); Terraform's
                        # "[10s elapsed]" is text, not rich markup.
                        line = f"terraform {label} [{elapsed:.0f}s] {text}"
                        spinner.update(text=escape(line[: max(20, console.width - 4)]))
                        live.refresh()
                code = proc.wait()
            finally:
                if live is not None:
                    live.stop()
            err.seek(0)
            stderr = err.read()
        seconds = time.perf_counter() - start
        state = "done" if code == 0 else f"failed (exit {code})"
        tail = f": {summary}" if summary else ""
        print(f"terraform {label}: {state} in {seconds:.1f}s{tail}", file=self.stream, flush=True)
        return code, "".join(lines), stderr


_active: StepProgress | None = None


def enable(progress: StepProgress | None = None) -> None:
    """Report every Terraform step from now on (the CLI turns this on)."""
    global _active
    _active = progress or StepProgress()


def disable() -> None:
    global _active
    _active = None


def active() -> StepProgress | None:
    return _active
