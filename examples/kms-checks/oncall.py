"""The team's on-call helper: advice for a person, from an evidence bundle's diagnosis."""

from __future__ import annotations

from typing import Any

ADVICE = {
    "KEY_POLICY_NO_ALLOW": "ask the key owners to add the role to the key policy",
    "IAM_NO_ALLOW": "add kms:Decrypt on the key ARN to the role's IAM policy",
    "KEY_DISABLED": "enable the key (kms enable-key) if it was disabled by mistake",
}


def advice(diagnosis: dict[str, Any]) -> str:
    return ADVICE.get(diagnosis.get("primary") or "", "escalate to the platform team")
