"""The catalog's recorded bundles (tests/diagnosis/catalog) and their scenario files, read
independently of kmslab's diagnosis: what a test knows to be the right answer."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
RECORDS = ROOT / "tests" / "diagnosis" / "catalog"
SCENARIOS = ROOT / "scenarios"


@functools.lru_cache(maxsize=1)
def scenario_files() -> dict[str, Path]:
    return {p.stem: p for p in SCENARIOS.glob("*/*.yaml")}


@functools.cache
def _parsed(sid: str) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data: dict[str, Any] = yaml.load(scenario_files()[sid].read_text(), Loader=loader)
    return data


def scenario(sid: str) -> dict[str, Any]:
    """The scenario file's data (parsed once a session; a copy, so a test may change it)."""
    return copy.deepcopy(_parsed(sid))


@functools.cache
def _record(sid: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RECORDS / f"{sid}.json").read_text())
    return data


def record(sid: str) -> dict[str, Any]:
    """The recorded run of a scenario (read once a session; a copy)."""
    return copy.deepcopy(_record(sid))


def recorded_ids() -> list[str]:
    return sorted(p.stem for p in RECORDS.glob("*.json"))
