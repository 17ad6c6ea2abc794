"""Playbook steps 1 and 6: the key exists, its state, deletion date, usage and spec."""

from __future__ import annotations

from harness.evidence.investigation import Investigation
from harness.evidence.registry import collector

KEY_RESOLVER = "key_metadata"


@collector(KEY_RESOLVER, step=("1", "6"), permissions=("kms:DescribeKey",))
def key_metadata(inv: Investigation) -> None:
    """DescribeKey of the key as the caller named it; its ARN keys every later call."""
    given = inv.key_ref.given
    named_by_arn = inv.key_ref.kind in ("key-arn", "alias-arn")
    response = None
    if named_by_arn or not inv.cross_account:
        response = inv.call(
            inv.key_or_investigator(), "kms", "DescribeKey", inv.key_region, {"KeyId": given}
        )
    else:
        # A bare id or alias name resolves in the caller's own account: record what the
        # failing call saw there, then the key's account if it is readable.
        caller_view = inv.call(inv.investigator, "kms", "DescribeKey", inv.region, {"KeyId": given})
        if inv.key_side is not None:
            response = inv.call(
                inv.key_side, "kms", "DescribeKey", inv.key_region, {"KeyId": given}
            )
        response = response or caller_view
    if response and isinstance(response.get("KeyMetadata"), dict):
        inv.key_metadata = response["KeyMetadata"]
        inv.key_arn = inv.key_metadata.get("Arn") or None
    elif inv.key_ref.kind == "key-arn":
        inv.key_arn = given
