"""Playbook step 7: the custom key store behind the key, when there is one."""

from __future__ import annotations

from harness.evidence.investigation import Investigation
from harness.evidence.registry import collector


@collector(
    "custom_key_store",
    step="7",
    permissions=("kms:DescribeCustomKeyStores",),
    needs_key=True,
)
def custom_key_store(inv: Investigation) -> None:
    """DescribeCustomKeyStores for the key's store: its ConnectionState and error code."""
    store = (inv.key_metadata or {}).get("CustomKeyStoreId")
    if not isinstance(store, str) or not store:
        return
    params = {"CustomKeyStoreId": store}
    creds = inv.key_creds()
    if creds is None:
        inv.unreadable("kms", "DescribeCustomKeyStores", inv.key_region, params, inv.key_account)
        return
    inv.call(creds, "kms", "DescribeCustomKeyStores", inv.key_region, params)
