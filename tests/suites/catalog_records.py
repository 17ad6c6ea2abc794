"""The catalog's recorded bundles (tests/diagnosis/catalog) and their scenario files, read
independently of kmslab's diagnosis: what a test knows to be the right answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
RECORDS = ROOT / "tests" / "diagnosis" / "catalog"
SCENARIOS = ROOT / "scenarios"


def scenario_files() -> dict[str, Path]:
    return {p.stem: p for p in SCENARIOS.glob("*/*.yaml")}


def scenario(sid: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(scenario_files()[sid].read_text())
    return data


def record(sid: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RECORDS / f"{sid}.json").read_text())
    return data


def recorded_ids() -> list[str]:
    return sorted(p.stem for p in RECORDS.glob("*.json"))
