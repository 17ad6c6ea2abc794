"""The one meaning of "healthy": the diagnosis's own headline.

The runner, the features and the workshop decide whether a call is healthy with these two
functions, so none of them can be softer than the diagnosis: a succeeding call while AWS
Health reports an open KMS event is `KMS_SERVICE_EVENT`, not `NO_FAULT_FOUND`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Diagnosis.headline calls this module: a run-time import back would be a cycle.
    from harness.diagnosis.model import Diagnosis

HEALTHY = "NO_FAULT_FOUND"


def headline(diagnosis: Diagnosis | Mapping[str, Any]) -> str:
    """The code a person reads first: the primary finding; without one, the first finding
    (a warning nothing graver explains, e.g. an open Health event); without any, healthy."""
    if isinstance(diagnosis, Mapping):
        primary = diagnosis.get("primary")
        codes = [str(f.get("code")) for f in diagnosis.get("findings") or []]
    else:
        primary = diagnosis.primary
        codes = diagnosis.codes()
    if primary:
        return str(primary)
    return codes[0] if codes else HEALTHY


def is_healthy(diagnosis: Diagnosis | Mapping[str, Any]) -> bool:
    """True only when the diagnosis's headline is NO_FAULT_FOUND."""
    return headline(diagnosis) == HEALTHY
