"""The rebuilt scenario's id and story."""

from __future__ import annotations

import re
from typing import Any

from harness.scenarios.rebuild.keys import Keys
from harness.scenarios.rebuild.principals import Book


def default_id(keys: Keys, book: Book) -> str:
    arn = keys.arns.get("data", "")
    tail = arn.rsplit("/", 1)[-1][:8].lower() if arn else book.caller.name.lower()
    return "incident-" + (re.sub(r"[^a-z0-9-]", "-", tail).strip("-") or "bundle")[:30]


def story(
    bundle: dict[str, Any],
    source: str | None,
    principal: str,
    operation: str,
    observed: dict[str, Any] | None,
    finding: str,
) -> str:
    origin = f"the evidence bundle {source}" if source else "an evidence bundle"
    collected = bundle.get("collected_at") or "an unknown time"
    redacted = (
        " The bundle was redacted: ids are consistent pseudonyms." if bundle.get("redacted") else ""
    )
    seen = (
        f"The caller saw {observed.get('code')}."
        if observed
        else "No error was recorded; the expectation comes from the bundle's diagnosis."
    )
    return (
        f"Rebuilt from {origin}, collected at {collected}, for {principal} calling "
        f"kms:{operation}. {seen} The bundle's diagnosis names {finding}.{redacted}"
    )
