"""Load the data-driven evaluator cases (cases/*.yaml), validated against cases/schema.json."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

CASES_DIR = Path(__file__).resolve().parent / "cases"


@dataclass(frozen=True)
class Case:
    id: str
    file: str
    title: str
    source: str
    input: dict[str, Any]
    expect: dict[str, Any]
    unconfirmed: bool
    catalog: str | None
    quote: str | None = None


def _merge(defaults: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(defaults)
    for key, value in given.items():
        if key == "request" and isinstance(value, dict):
            req = out.setdefault("request", {})
            for rk, rv in value.items():
                if rk == "context" and isinstance(rv, dict):
                    req.setdefault("context", {}).update(copy.deepcopy(rv))
                else:
                    req[rk] = copy.deepcopy(rv)
        else:
            out[key] = copy.deepcopy(value)
    return out


@lru_cache(maxsize=1)
def load_cases() -> tuple[Case, ...]:
    schema = json.loads((CASES_DIR / "schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    out: list[Case] = []
    seen: set[str] = set()
    for path in sorted(CASES_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
        if errors:
            e = errors[0]
            raise ValueError(f"{path.name}: {'/'.join(map(str, e.path))}: {e.message}")
        defaults = data.get("defaults", {})
        for raw in data["cases"]:
            if raw["id"] in seen:
                raise ValueError(f"{path.name}: duplicate case id {raw['id']}")
            seen.add(raw["id"])
            out.append(
                Case(
                    id=raw["id"],
                    file=path.name,
                    title=raw["title"],
                    source=raw.get("source", data["source"]),
                    input=_merge(defaults, raw["input"]),
                    expect=raw["expect"],
                    unconfirmed=bool(raw.get("unconfirmed", False)),
                    catalog=raw.get("catalog"),
                    quote=raw.get("quote"),
                )
            )
    return tuple(out)
