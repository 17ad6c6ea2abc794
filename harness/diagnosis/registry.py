"""The rule registry: one module per finding code, and everything kmslab knows about that code.

A rule module defines ``META`` (a RuleMeta) and ``check(ctx) -> Finding | None``. META is the one
home of the code's metadata: its runbook step and contract meaning, the evaluator layer it
explains, where it ranks against the other codes (a phase plus ``after``/``before``: a declared
partial order), the AWS error codes and key states it explains, its flowchart node and its fix
templates. The ranking order (``precedence``), the flowchart (``flow.nodes``), the scenario
schema's finding enum (``codes``) and the contract's finding table (``finding_table``) are
generated from it; nothing else lists the codes.

Rules are the modules of ``harness.diagnosis.rules`` plus those named by the entry point group
``kmslab.finding_codes`` (a distribution that adds a code: ``name = "package.module"``). The
loader refuses a module whose name is not its code in lower case, so metadata cannot drift from
the file that implements it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from types import ModuleType
from typing import TYPE_CHECKING

from harness.policy import layers

if TYPE_CHECKING:
    from harness.diagnosis.context import Context
    from harness.diagnosis.model import Finding

ENTRY_POINT_GROUP = "kmslab.finding_codes"

# The coarse order in which AWS would report a failure; a code names its phase and, within it,
# the codes it must follow or precede. A declared edge may not run against the phases.
PHASES: tuple[str, ...] = (
    # AWS authenticates and admits the request before anything else (no policy is read).
    "admission",
    # the key is found in the account and Region called; a key must be found before it is
    # authorized
    "resolution",
    # explicit denies and the guard policies that must allow (RCP, SCP, VPC endpoint policy,
    # permissions boundary, session policy), in IAM's evaluation order
    # (reference_policies_evaluation-logic.html)
    "explicit-deny",
    # key trust: the key policy and grants (the KMS flowchart's first half, policy-evaluation.html)
    "key-trust",
    # identity policies (when the key policy delegates to IAM, or cross-account)
    "identity",
    # after authorization. [V] which of authorization and key state AWS reports first is not
    # documented (catalog section 8, item 3); see ranking.py.
    "key-state",
    "key-usage",
    "ciphertext",
    "quota",
    # the investigation itself: evidence that could not be read, or nothing found
    "investigation",
)

# Contract section 2 layer names (one home: harness.policy.layers).
LAYERS = layers.LAYERS


@dataclass(frozen=True)
class Explains:
    """What AWS returns when this code is the first failure. The ranking checks the observed
    error against it (ranking.agrees) and a rebuilt incident expects it (rebuild/expect.py).
    An AccessDenied naming the code's ``RuleMeta.layer`` agrees too."""

    # AWS error codes (NotFoundException, InvalidCiphertextException, ...)
    errors: frozenset[str] = frozenset()
    # key states a DisabledException/KMSInvalidStateException message names (key-state.html)
    states: frozenset[str] = frozenset()
    # any key-state error (a replica whose state diverged from its primary's)
    any_state: bool = False
    # an AccessDenied whatever layer it names (the key an alias reached denied the call)
    any_denial: bool = False
    # the message that lumps several causes together ("the ciphertext refers to a customer
    # master key that does not exist ...", catalog section 6)
    ambiguous: bool = False


@dataclass(frozen=True, kw_only=True)
class RuleMeta:
    code: str
    runbook_step: int | str | None
    severity: str
    title: str
    # The code's row in the contract's finding table (contract section 4): what it means.
    meaning: str
    # Read-only AWS calls ("service:Operation") the rule reads from a bundle.
    reads: tuple[str, ...]
    # Rows of the failure catalog (kms-failure-catalog.md section 5) the rule diagnoses.
    catalog: tuple[str, ...]
    # Precedence: the phase (PHASES) and, within the order, codes this one comes after/before.
    phase: str
    after: tuple[str, ...] = ()
    before: tuple[str, ...] = ()
    # The flowchart node (flow.NODE_STEPS id) that fails when this code is found; None: no node.
    node: str | None
    # Fix templates: the AWS CLI commands ("aws kms enable-key") the fix may contain;
    # "aws kms {operation}" is the request's own KMS call, retried.
    fixes: tuple[str, ...]
    explains: Explains = field(default_factory=Explains)
    # Evaluator layer for authorization findings (contract section 2 names). AWS names a grant's
    # denial like a key policy's ("resource-based policy"), see ranking.message_layer.
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


def _builtin_modules() -> list[ModuleType]:
    from harness.diagnosis import rules as package

    return [
        importlib.import_module(f"{package.__name__}.{info.name}")
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name)
        if not info.name.startswith("_")
    ]


def _entry_point_modules() -> list[ModuleType]:
    points = sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name)
    return [importlib.import_module(p.value) for p in points]


def load(modules: Iterable[ModuleType]) -> tuple[Rule, ...]:
    """Rules of ``modules``, checked (names, metadata, precedence), in the order they run."""
    loaded: list[Rule] = []
    for module in modules:
        name = module.__name__.rsplit(".", 1)[-1]
        meta = getattr(module, "META", None)
        check = getattr(module, "check", None)
        if not isinstance(meta, RuleMeta) or not callable(check):
            raise RegistryError(f"rule module {module.__name__} lacks META or check()")
        if meta.code.lower() != name:
            raise RegistryError(f"rule module {module.__name__} declares code {meta.code}")
        if any(r.meta.code == meta.code for r in loaded):
            raise RegistryError(f"finding code {meta.code} is declared twice ({module.__name__})")
        loaded.append(Rule(meta=meta, module=module.__name__, check=check))
    precedence_of(tuple(r.meta for r in loaded))  # checked: known codes, phases, no cycle
    _check_metadata(tuple(r.meta for r in loaded))
    # Rules run by module name; final rules last (they see the others' findings), NO_FAULT_FOUND
    # the very last.
    loaded.sort(key=lambda r: r.id)
    return tuple(sorted(loaded, key=lambda r: (r.meta.final, r.meta.code == "NO_FAULT_FOUND")))


@dataclass(frozen=True, eq=False)
class Loaded:
    """One load of the rules and what is derived from them (hashed by identity: caches keyed
    on it are dropped with it by reload())."""

    rules: tuple[Rule, ...]
    order: tuple[str, ...]
    by_code: dict[str, Rule]


@cache
def current() -> Loaded:
    # Computed once per load: the ranking asks for the order and the rules for every finding.
    loaded = load([*_builtin_modules(), *_entry_point_modules()])
    order = precedence_of(tuple(r.meta for r in loaded))
    return Loaded(loaded, order, {r.meta.code: r for r in loaded})


def rules() -> tuple[Rule, ...]:
    return current().rules


def reload() -> tuple[Rule, ...]:
    """Forget the loaded rules (after installing or removing a code's distribution)."""
    current.cache_clear()
    return rules()


def by_code() -> dict[str, Rule]:
    return current().by_code


def codes() -> tuple[str, ...]:
    """Every finding code, in ranking order (the scenario schema's enum)."""
    return precedence()


def precedence() -> tuple[str, ...]:
    """The total ranking order: the declared partial order, ties broken by phase, then code."""
    return current().order


@cache
def precedence_of(metas: tuple[RuleMeta, ...]) -> tuple[str, ...]:
    """Topological sort of the declared precedence (Kahn), smallest (phase, code) first among
    the codes whose predecessors are placed. Unknown codes, edges against the phases and
    cycles are RegistryErrors."""
    phase_of: dict[str, int] = {}
    for m in metas:
        if m.phase not in PHASES:
            raise RegistryError(f"{m.code}: unknown phase {m.phase!r} (one of {', '.join(PHASES)})")
        phase_of[m.code] = PHASES.index(m.phase)
    succ: dict[str, set[str]] = {c: set() for c in phase_of}
    for m in metas:
        edges = [(other, m.code) for other in m.after] + [(m.code, other) for other in m.before]
        for first, then in edges:
            for code in (first, then):
                if code not in phase_of:
                    raise RegistryError(f"{m.code}: precedence names unknown code {code}")
            if phase_of[first] > phase_of[then]:
                raise RegistryError(
                    f"{m.code}: {first} before {then} runs against the phases "
                    f"({PHASES[phase_of[first]]} comes after {PHASES[phase_of[then]]})"
                )
            succ[first].add(then)
    waiting = {c: 0 for c in phase_of}
    for nexts in succ.values():
        for c in nexts:
            waiting[c] += 1
    ready = sorted((phase_of[c], c) for c, n in waiting.items() if n == 0)
    out: list[str] = []
    while ready:
        _, code = ready.pop(0)
        out.append(code)
        for nxt in succ[code]:
            waiting[nxt] -= 1
            if waiting[nxt] == 0:
                ready.append((phase_of[nxt], nxt))
        ready.sort()
    if len(out) != len(phase_of):
        stuck = sorted(c for c in phase_of if c not in out)
        raise RegistryError(f"precedence has a cycle among {', '.join(stuck)}")
    return tuple(out)


def _check_metadata(metas: tuple[RuleMeta, ...]) -> None:
    # Flowchart node ids are checked where the flowchart is built (flow.nodes).
    for m in metas:
        if m.layer is not None and m.layer not in LAYERS:
            raise RegistryError(f"{m.code}: unknown evaluator layer {m.layer!r}")
        if not m.meaning:
            raise RegistryError(f"{m.code}: no meaning for the contract's finding table")


def runbook_cell(step: int | str | None) -> str:
    return "—" if step is None else str(step)


def finding_table() -> str:
    """The contract's finding-code table (contract section 4), generated from the registry."""
    lines = ["| code | meaning | runbook step |", "|---|---|---|"]
    for code in _contract_order():
        m = by_code()[code].meta
        lines.append(f"| `{code}` | {m.meaning} | {runbook_cell(m.runbook_step)} |")
    return "\n".join(lines) + "\n"


def _contract_order() -> list[str]:
    def step_key(code: str) -> tuple[int, int]:
        step = by_code()[code].meta.runbook_step
        rank = step if isinstance(step, int) else 9 if step == "extra" else 10
        return (rank, precedence().index(code))

    return sorted(precedence(), key=step_key)
