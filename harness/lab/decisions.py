"""An opt-in record of every authorization decision the lab makes, for an outside oracle.

Each decision is one JSON line: the evaluator input (contract section 2: the request and every
policy layer) and the decision the lab acted on. tests/policy re-decides the lines with an
independent evaluator, so the lab's verdicts do not rest on kmslab's evaluator alone. Off unless a
path is given (`LabServer(decision_log=...)` or KMSLAB_DECISION_LOG, read once when the server is
made); when off, the authorizer's only cost is one `is None` test per decision.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

ENV = "KMSLAB_DECISION_LOG"


class DecisionLog:
    """Appends decisions to a JSON-lines file; safe to share between the lab's request threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def record(self, kind: str, doc: dict[str, Any], decision: str) -> None:
        """`kind`: "kms" (a KMS call), "other" (IAM/STS/... calls) or "lockout" (PutKeyPolicy's
        lockout safety check, a decision about a request not yet made)."""
        line = json.dumps(
            {"kind": kind, "input": doc, "decision": decision}, default=str, sort_keys=True
        )
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")


def from_environment() -> DecisionLog | None:
    path = os.environ.get(ENV)
    return DecisionLog(path) if path else None


def read(path: str | Path) -> list[dict[str, Any]]:
    """The recorded decisions, in order."""
    p = Path(path)
    if not p.exists():
        return []
    return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line]
