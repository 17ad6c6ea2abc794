"""Every registered collector, and the investigator's least-privilege policy built from what
they declare. Apart from `registry`, which each collector module imports to register itself:
importing every collector from there would be an import cycle."""

from __future__ import annotations

from typing import Any

import harness.evidence.collectors  # noqa: F401  (each collector module registers on import)
from harness.evidence.registry import REGISTRY, Collector


def collectors() -> list[Collector]:
    """Every collector (importing this module imported the modules that register them)."""
    return list(REGISTRY.values())


def investigator_policy() -> dict[str, Any]:
    """An IAM policy allowing exactly the read calls the collectors declare."""
    actions = sorted({p for c in collectors() for p in c.permissions})
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "KmslabReadOnlyInvestigation",
                "Effect": "Allow",
                "Action": actions,
                "Resource": "*",
            }
        ],
    }
