"""Playbook step 2: the key policy."""

from __future__ import annotations

from typing import Any

from harness.evidence.investigation import Investigation
from harness.evidence.registry import collector


@collector(
    "key_policy",
    step="2",
    permissions=("kms:ListKeyPolicies", "kms:GetKeyPolicy"),
    needs_key=True,
)
def key_policy(inv: Investigation) -> None:
    """ListKeyPolicies and GetKeyPolicy (owner account only: KMS refuses both cross-account)."""
    if inv.key_arn is None:
        return
    calls: list[tuple[str, dict[str, Any]]] = [
        ("ListKeyPolicies", {"KeyId": inv.key_arn}),
        ("GetKeyPolicy", {"KeyId": inv.key_arn, "PolicyName": "default"}),
    ]
    creds = inv.key_creds()
    if creds is None:
        for operation, params in calls:
            inv.unreadable("kms", operation, inv.key_region, params, inv.key_account)
        return
    inv.parallel(
        lambda item: inv.call(creds, "kms", item[0], inv.key_region, item[1], paginate=True),
        calls,
    )


def read_key_policy(inv: Investigation) -> dict[str, Any] | None:
    """The key policy document as collected by step 2 (the call is shared, not repeated)."""
    import json

    creds = inv.key_creds()
    if inv.key_arn is None or creds is None:
        return None
    response = inv.call(
        creds,
        "kms",
        "GetKeyPolicy",
        inv.key_region,
        {"KeyId": inv.key_arn, "PolicyName": "default"},
    )
    if not response or not isinstance(response.get("Policy"), str):
        return None
    try:
        doc = json.loads(response["Policy"])
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None
