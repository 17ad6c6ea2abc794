"""Logical names for what the bundle shows, and the literal-to-reference rewriting.

A rebuilt scenario names things the schema's way (`${principal.admin.arn}`, `${account.owner}`)
so the lab's own ids fit: the lab gives new key ids, unique ids and VPC endpoint ids, and a
runner may prefix every name. A literal is replaced only where it stands whole (not inside a
longer name: role/app must not rewrite role/app-admin).
"""

from __future__ import annotations

import json
import re
from typing import Any

_LOGICAL = re.compile(r"[^a-z0-9_]+")
# What may follow a whole literal: not another name character (a trailing "." ending a
# sentence is allowed, a "." inside a name is not).
_AFTER = r"(?![A-Za-z0-9_/+=,@-]|\.[A-Za-z0-9])"
_BEFORE = r"(?<![A-Za-z0-9_+=,.@-])"


def logical(text: str, taken: set[str], fallback: str = "p") -> str:
    """A schema name (`^[a-z][a-z0-9_]{0,30}$`) for `text`, unique among `taken`."""
    base = _LOGICAL.sub("_", text.lower()).strip("_")[:24] or fallback
    if not base[0].isalpha():
        base = f"{fallback}_{base}"[:24]
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    taken.add(name)
    return name


class Renamer:
    """Replaces the captured incident's literal ids with references to logical names."""

    def __init__(self) -> None:
        self.pairs: dict[str, str] = {}

    def add(self, literal: str | None, reference: str) -> None:
        if literal and literal not in self.pairs:
            self.pairs[literal] = reference

    def text(self, value: str) -> str:
        if not self.pairs:
            return value
        literals = sorted(self.pairs, key=len, reverse=True)
        pattern = re.compile(_BEFORE + "(" + "|".join(map(re.escape, literals)) + ")" + _AFTER)
        return pattern.sub(lambda m: self.pairs[m.group(1)], value)

    def __call__(self, value: Any) -> Any:
        result: Any = json.loads(self.text(json.dumps(value)))
        return result

    def without(self, *references: str) -> Renamer:
        out = Renamer()
        out.pairs = {k: v for k, v in self.pairs.items() if v not in references}
        return out
