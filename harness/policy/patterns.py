"""Wildcard patterns of the policy language, compiled once and cached.

IAM matches `*` (any run of characters) and `?` (one character). In ARNs a wildcard stays within its
colon-delimited segment except in the last (resource) segment
(IAM User Guide, reference_policies_elements_condition_operators.html#Conditions_ARN).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

Matcher = Callable[[str], bool]


def _glob_to_regex(text: str, star: str, qmark: str) -> str:
    out = []
    for ch in text:
        if ch == "*":
            out.append(star)
        elif ch == "?":
            out.append(qmark)
        else:
            out.append(re.escape(ch))
    return "".join(out)


@lru_cache(maxsize=8192)
def glob_regex(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    """`*`/`?` glob over a whole string (StringLike, Action)."""
    flags = re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL
    return re.compile(_glob_to_regex(pattern, ".*", "."), flags)


@lru_cache(maxsize=8192)
def arn_regex(pattern: str) -> re.Pattern[str]:
    """An ARN pattern: wildcards in the first five segments do not cross a colon."""
    parts = pattern.split(":", 5)
    if len(parts) < 6:
        # Not a full ARN: the last segment given absorbs the rest of the value.
        head = [_glob_to_regex(p, "[^:]*", "[^:]") for p in parts[:-1]]
        tail = _glob_to_regex(parts[-1], ".*", ".")
        return re.compile(":".join([*head, tail]), re.DOTALL)
    head = [_glob_to_regex(p, "[^:]*", "[^:]") for p in parts[:5]]
    tail = _glob_to_regex(parts[5], ".*", ".")
    return re.compile(":".join([*head, tail]), re.DOTALL)


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


class PatternSet:
    """A list of patterns matched as one: exact strings by set lookup, the rest by one regex."""

    __slots__ = ("any", "exact", "patterns", "regex")

    def __init__(self, patterns: list[str], *, ignore_case: bool, arn: bool) -> None:
        self.patterns = patterns
        self.any = "*" in patterns
        exact: set[str] = set()
        wild: list[str] = []
        for p in patterns:
            if has_wildcard(p):
                wild.append(p)
            else:
                exact.add(p.lower() if ignore_case else p)
        self.exact = frozenset(exact)
        if wild:
            if arn:
                src = "|".join(f"(?:{arn_regex(p).pattern})" for p in wild)
                self.regex: re.Pattern[str] | None = re.compile(src, re.DOTALL)
            else:
                src = "|".join(f"(?:{glob_regex(p).pattern})" for p in wild)
                flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
                self.regex = re.compile(src, flags)
        else:
            self.regex = None

    def match(self, value: str, folded: str | None = None) -> bool:
        """`folded` is the value already lower-cased when the set ignores case."""
        if self.any:
            return True
        if (folded if folded is not None else value) in self.exact:
            return True
        return self.regex is not None and self.regex.fullmatch(value) is not None
