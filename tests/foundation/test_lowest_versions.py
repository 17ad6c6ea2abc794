"""`make test-lowest` pins every direct dependency at its floor: the pins come from
pyproject.toml as written (scripts/lowest-constraints.py), so a floor is what gets tested."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _floors() -> list[str]:
    spec = importlib.util.spec_from_file_location("lowest", ROOT / "scripts/lowest-constraints.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.floors(ROOT / "pyproject.toml"))


def test_every_runtime_dependency_is_pinned_at_its_floor() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = dict(line.split("==", 1) for line in _floors())
    for requirement in project["dependencies"]:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement)
        assert name is not None
        floor = re.search(r">=\s*([^,;\s]+)", requirement)
        # A runtime dependency without a floor would install at whatever lowest version
        # exists, untested by anyone.
        assert floor, f"{requirement} has no floor"
        assert pins[name.group(0)] == floor.group(1), requirement


def test_extras_in_a_name_are_not_part_of_the_pin() -> None:
    pins = _floors()
    moto = [p for p in pins if p.startswith("moto")]
    assert len(moto) == 1 and re.fullmatch(r"moto==\d+\.\d+\.\d+", moto[0]), moto
