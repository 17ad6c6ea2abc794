"""What the rebuilt incident must show: the observed error, or what the diagnosis implies.

With an observed error the expectation is that error, its message written with the
scenario's `${...}` references. Without one, the diagnosis of the bundle decides: a bundle
is a healthy control only when its diagnosis is healthy; otherwise the error is the one AWS
returns for the primary finding (what its rule declares it explains, META.explains: error codes,
the key-state table of key-state.html for states, AccessDeniedException for policy layers).
"""

from __future__ import annotations

import re
from typing import Any

from harness.diagnosis import ranking
from harness.diagnosis.registry import Explains, by_code
from harness.scenarios.rebuild.names import Renamer

HEALTHY = "NO_FAULT_FOUND"
_REF = re.compile(r"\$\{[a-z_]+\.[A-Za-z0-9_]+(?:\.[a-z_]+)?\}")
# Characters that would stop literal text from matching itself as a regex ("." matches itself).
_META = re.compile(r"([\\()\[\]{}?*+|^$])")


def message_pattern(message: str, rename: Renamer, wild: dict[str, str] | None = None) -> str:
    """`message` as a readable pattern: references for ids, metacharacters escaped only
    where they would not match themselves. Checked to match the message it came from.
    `wild` maps literals the lab cannot reproduce (an AWS managed key's id) to a regex."""
    wild = wild or {}
    marked = message
    for i, literal in enumerate(wild):
        marked = marked.replace(literal, f"\x00{i}\x00")
    renamed = rename.text(marked)
    parts: list[str] = []
    last = 0
    for ref in _REF.finditer(renamed):
        parts.append(_META.sub(r"\\\1", renamed[last : ref.start()]))
        parts.append(ref.group(0))
        last = ref.end()
    parts.append(_META.sub(r"\\\1", renamed[last:]))
    pattern = "".join(parts)
    for i, regex in enumerate(wild.values()):
        pattern = pattern.replace(f"\x00{i}\x00", regex)
    back = {v: k for k, v in rename.pairs.items()}
    probe = _REF.sub(lambda m: re.escape(back.get(m.group(0), m.group(0))), pattern)
    if re.fullmatch(probe, message, re.DOTALL):
        return pattern
    return re.escape(message)  # a message the readable form cannot express exactly


def expected_error(finding: str, evaluator_message: str, rename: Renamer) -> dict[str, str]:
    """The error AWS returns when `finding` is the root cause (no error was observed)."""
    if ranking.explains_denial(finding):
        message = message_pattern(evaluator_message, rename) if evaluator_message else ".*"
        return {"code": "AccessDeniedException", "message": message}
    rule = by_code().get(finding)
    explains = rule.meta.explains if rule is not None else Explains()
    states = explains.states
    if states:
        from harness.aws.errors import key_state_error

        error = key_state_error("${key.data.arn}", sorted(states)[0])
        return {"code": error.code, "message": error.message}
    codes = explains.errors
    if codes:
        return {"code": sorted(codes)[0], "message": ".*"}
    return {"code": "AccessDeniedException", "message": ".*"}


def runbook_step(step: Any) -> int | str:
    return step if isinstance(step, int) and 1 <= step <= 8 else "extra"
