"""Playbook step 7: grants and key rotation."""

from __future__ import annotations

from harness.evidence.investigation import Investigation
from harness.evidence.registry import collector


@collector("grants", step="7", permissions=("kms:ListGrants",), needs_key=True)
def grants(inv: Investigation) -> None:
    """ListGrants of the key (KMS allows it cross-account with the key ARN)."""
    if inv.key_arn is None:
        return
    inv.call(
        inv.key_or_investigator(),
        "kms",
        "ListGrants",
        inv.key_region,
        {"KeyId": inv.key_arn},
        paginate=True,
        max_items=1000,
    )


@collector(
    "rotation",
    step="7",
    permissions=("kms:GetKeyRotationStatus", "kms:ListKeyRotations"),
    needs_key=True,
)
def rotation(inv: Investigation) -> None:
    """GetKeyRotationStatus (cross-account allowed) and ListKeyRotations (owner only)."""
    if inv.key_arn is None:
        return
    params = {"KeyId": inv.key_arn}
    key_creds = inv.key_creds()

    def status() -> None:
        inv.call(inv.key_or_investigator(), "kms", "GetKeyRotationStatus", inv.key_region, params)

    def history() -> None:
        if key_creds is None:
            inv.unreadable("kms", "ListKeyRotations", inv.key_region, params, inv.key_account)
        else:
            inv.call(key_creds, "kms", "ListKeyRotations", inv.key_region, params, paginate=True)

    inv.parallel(lambda job: job(), [status, history])
