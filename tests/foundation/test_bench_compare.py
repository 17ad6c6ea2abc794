"""bench.compare reads back the tables `make bench` prints, so old and new commits compare."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.__main__ import render
from bench.compare import Figures, parse
from bench.report import Report, Row

ROOT = Path(__file__).resolve().parents[2]


def _report() -> Report:
    report = Report(section="Diagnosis: one bundle")
    report.add(Row("diagnose, median", 0.000231, "s", "parse only", 0.0001, "< 1 ms"))
    report.add(Row("catalog loop per 45 scenarios (investigators)", 27.4, "s"))
    report.add(Row("requests", 12345.0, "req/s", higher_is_better=True))
    report.add(Row("a figure whose name is longer than its fifty-two column slot", 3.5, "ms"))
    return report


def test_every_printed_figure_is_read_back_with_its_value_and_unit() -> None:
    figures = Figures()
    parse(render(_report(), 1.2), figures)
    rows = figures.sections["Diagnosis: one bundle"]
    assert rows["diagnose, median"] == ("s", [0.000231])
    assert rows["catalog loop per 45 scenarios (investigators)"] == ("s", [27.4])
    # printed as "12,345"
    assert rows["requests"] == ("req/s", [12345.0])
    assert rows["a figure whose name is longer than its fifty-two column slot"] == ("ms", [3.5])


def test_rounds_accumulate_per_figure() -> None:
    figures = Figures()
    parse(render(_report(), 1.0), figures)
    parse(render(_report(), 2.0), figures)
    assert figures.sections["Diagnosis: one bundle"]["requests"][1] == [12345.0, 12345.0]


def test_an_unknown_base_revision_is_one_line_and_exit_2() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.compare", "no-such-revision-xyz"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "bench.compare: unknown revision 'no-such-revision-xyz'"
