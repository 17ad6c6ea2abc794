"""Run every benchmark module (or those named on the command line) and print one table."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
import traceback

import bench
from bench.report import Report


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def render(report: Report, seconds: float) -> str:
    """The section's table as `make bench` prints it (bench/compare.py reads it back)."""
    lines = [
        f"\n== {report.section} ({seconds:.1f} s)",
        f"{'figure':<52} {'value':>12} {'unit':<8} {'baseline':<40} {'ratio':>8}  target",
    ]
    for row in report.rows:
        ratio = row.ratio()
        base = f"{row.baseline_name} = {fmt(row.baseline_value)}" if row.baseline_name else "-"
        lines.append(
            f"{row.name:<52} {fmt(row.value):>12} {row.unit:<8} {base:<40} "
            f"{(f'{ratio:.2f}x' if ratio else '-'):>8}  {row.target}"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    names = sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")
    )
    wanted = [a.removeprefix("bench_") for a in argv]
    if wanted:
        names = [n for n in names if n.removeprefix("bench_") in wanted]
    failed = 0
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        report = Report(section=(module.__doc__ or name).strip().splitlines()[0])
        start = time.perf_counter()
        try:
            module.run(report)
        except Exception:
            failed += 1
            traceback.print_exc()
        print(render(report, time.perf_counter() - start))
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
