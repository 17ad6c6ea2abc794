"""Benchmarks of an older commit and of the working tree, interleaved in one run.

    python -m bench.compare BASE_REV [section ...] [--rounds N]

A refactoring is "unchanged or faster" only if both sides ran on the same machine under the same
load, so the two sides alternate section by section (old, new, old, new, ...) and each figure is
the median of its rounds. BASE_REV is checked out (detached) into `.cache/bench-base`; its
benchmarks run with this virtualenv's interpreter and the base tree first on `sys.path`, so the
base's own `harness` and `bench` packages are the ones measured.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE_DIR = ROOT / ".cache" / "bench-base"
_SECTION = re.compile(r"^== (?P<name>.+?) \((?P<secs>[\d.]+) s\)$")
# bench/__main__.py prints the figure name in 52 columns, then the value in 12.
_NAME_WIDTH = 52
_OVERFLOW = re.compile(r"^(?P<name>.{52,}?) +(?P<value>[-+\d.,e]+|nan|inf) (?P<unit>\S+) ")


@dataclass
class Figures:
    """figure name -> (unit, samples), per section, in first-seen order."""

    sections: dict[str, dict[str, tuple[str, list[float]]]] = field(default_factory=dict)

    def add(self, section: str, name: str, unit: str, value: float) -> None:
        rows = self.sections.setdefault(section, {})
        rows.setdefault(name, (unit, []))[1].append(value)


def parse(output: str, into: Figures) -> None:
    section = None
    for line in output.splitlines():
        match = _SECTION.match(line)
        if match:
            section = match["name"]
            continue
        if section is None or not line.strip() or line.startswith("figure "):
            continue
        if len(line) > _NAME_WIDTH and line[_NAME_WIDTH] != " ":
            # a name longer than its column pushes the rest right
            long = _OVERFLOW.match(line)
            if not long:
                continue
            name, rest = long["name"], [long["value"], long["unit"]]
        else:
            name = line[:_NAME_WIDTH].strip()
            rest = line[_NAME_WIDTH:].split()
        if len(rest) < 2:
            continue
        try:
            value = float(rest[0].replace(",", ""))
        except ValueError:
            continue
        into.add(section, name, rest[1], value)


def checkout(rev: str) -> Path:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "prune"], check=True)
    if not (BASE_DIR / ".git").exists():
        BASE_DIR.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(BASE_DIR), rev],
            check=True,
        )
    else:
        subprocess.run(["git", "-C", str(BASE_DIR), "checkout", "-q", "--detach", rev], check=True)
    return BASE_DIR


def run_side(tree: Path, section: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run(
        [sys.executable, "-m", "bench", section],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        sys.stderr.write(f"bench {section} in {tree} exited {proc.returncode}:\n{proc.stderr}\n")
    return proc.stdout


def sections_of(tree: Path) -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in (tree / "bench").glob("bench_*.py"))


def report(old: Figures, new: Figures, rev: str) -> None:
    print(f"\n{'figure':<52} {'base ' + rev[:10]:>16} {'this tree':>16} {'unit':<8} {'ratio':>7}")
    for section, rows in new.sections.items():
        print(f"\n== {section}")
        base_rows = old.sections.get(section, {})
        for name, (unit, samples) in rows.items():
            mine = statistics.median(samples)
            theirs = base_rows.get(name, (unit, []))[1]
            base = statistics.median(theirs) if theirs else None
            ratio = f"{mine / base:.2f}x" if base else "-"
            shown = f"{base:,.4g}" if base is not None else "-"
            print(f"{name:<52} {shown:>16} {mine:>16,.4g} {unit:<8} {ratio:>7}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    parser.add_argument("base", help="the commit to compare with (e.g. a tag or main~5)")
    parser.add_argument("sections", nargs="*", help="bench sections (default: all in both)")
    parser.add_argument("--rounds", type=int, default=2, help="runs per side (default 2)")
    args = parser.parse_args(argv)
    rev = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", f"{args.base}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if rev.returncode:
        print(f"bench.compare: unknown revision {args.base!r}", file=sys.stderr)
        return 2
    base_tree = checkout(rev.stdout.strip())
    wanted = args.sections or sorted(set(sections_of(base_tree)) & set(sections_of(ROOT)))
    old, new = Figures(), Figures()
    for section in wanted:
        for round_ in range(args.rounds):
            print(f"bench.compare: {section} round {round_ + 1}/{args.rounds}", file=sys.stderr)
            parse(run_side(base_tree, section), old)
            parse(run_side(ROOT, section), new)
    report(old, new, rev.stdout.strip())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
