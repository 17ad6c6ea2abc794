"""The rule registry: one module per finding code under harness.diagnosis.rules.

A rule module defines ``META`` (a RuleMeta) and ``check(ctx) -> Finding | None``. The loader
refuses a module whose name is not its code in lower case, so metadata cannot drift from the
file that implements it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.diagnosis.context import Context
    from harness.diagnosis.model import Finding


@dataclass(frozen=True)
class RuleMeta:
    code: str
    runbook_step: int | str | None
    severity: str
    title: str
    # Read-only AWS calls ("service:Operation") the rule reads from a bundle.
    reads: tuple[str, ...]
    # Rows of the failure catalog (kms-failure-catalog.md section 5) the rule diagnoses.
    catalog: tuple[str, ...]
    # Evaluator layer for authorization findings (contract section 2 names).
    layer: str | None = None
    # Final rules run after all others and see their findings.
    final: bool = False


@dataclass(frozen=True)
class Rule:
    meta: RuleMeta
    module: str
    check: Callable[[Context], Finding | None]

    @property
    def id(self) -> str:
        return self.module.rsplit(".", 1)[-1]


class RegistryError(Exception):
    pass


@cache
def rules() -> tuple[Rule, ...]:
    from harness.diagnosis import rules as package

    loaded: list[Rule] = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        meta = getattr(module, "META", None)
        check = getattr(module, "check", None)
        if not isinstance(meta, RuleMeta) or not callable(check):
            raise RegistryError(f"rule module {info.name} lacks META or check()")
        if meta.code.lower() != info.name:
            raise RegistryError(f"rule module {info.name} declares code {meta.code}")
        loaded.append(Rule(meta=meta, module=module.__name__, check=check))
    return tuple(sorted(loaded, key=lambda r: (r.meta.final, r.meta.code == "NO_FAULT_FOUND")))


def by_code() -> dict[str, Rule]:
    return {r.meta.code: r for r in rules()}
