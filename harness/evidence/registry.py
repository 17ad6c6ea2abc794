"""The collector registry: each collector names its runbook step and declares the permissions
it needs (`harness.evidence.registered` lists them all and builds the investigator's
least-privilege policy from those declarations)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.evidence.investigation import Investigation

CollectorFn = Callable[["Investigation"], None]


@dataclass(frozen=True)
class Collector:
    name: str
    steps: tuple[str, ...]  # the runbook's Playbook steps ("1".."8"); "+" for its extra checks
    permissions: tuple[str, ...]
    needs_key: bool  # runs once DescribeKey has resolved the key ARN
    fn: CollectorFn
    doc: str


REGISTRY: dict[str, Collector] = {}


def collector(
    name: str, *, step: str | tuple[str, ...], permissions: tuple[str, ...], needs_key: bool = False
) -> Callable[[CollectorFn], CollectorFn]:
    def register(fn: CollectorFn) -> CollectorFn:
        if name in REGISTRY:
            raise ValueError(f"collector {name} registered twice")
        REGISTRY[name] = Collector(
            name,
            (step,) if isinstance(step, str) else tuple(step),
            tuple(permissions),
            needs_key,
            fn,
            (fn.__doc__ or "").strip(),
        )
        return fn

    return register
