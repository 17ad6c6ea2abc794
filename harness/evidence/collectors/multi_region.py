"""Playbook step 7: a multi-Region key's primary and replicas, each read in its own region."""

from __future__ import annotations

from typing import Any

from harness.evidence.investigation import Investigation
from harness.evidence.registry import collector


@collector(
    "multi_region",
    step="7",
    permissions=("kms:DescribeKey", "kms:GetKeyPolicy", "kms:ListGrants"),
    needs_key=True,
)
def multi_region(inv: Investigation) -> None:
    """DescribeKey, GetKeyPolicy and ListGrants of every other member of the key's set."""
    meta = inv.key_metadata or {}
    config = meta.get("MultiRegionConfiguration")
    if not meta.get("MultiRegion") or not isinstance(config, dict):
        return
    members: dict[str, str] = {}
    for entry in [config.get("PrimaryKey"), *(config.get("ReplicaKeys") or [])]:
        if isinstance(entry, dict) and entry.get("Region") and entry.get("Arn"):
            members[str(entry["Region"])] = str(entry["Arn"])
    members.pop(inv.key_region, None)
    key_creds = inv.key_creds()
    readable = inv.key_or_investigator()
    jobs: list[tuple[str, str, dict[str, Any]]] = []
    for region, arn in sorted(members.items()):
        jobs.append(("DescribeKey", region, {"KeyId": arn}))
        jobs.append(("ListGrants", region, {"KeyId": arn}))
        policy = {"KeyId": arn, "PolicyName": "default"}
        if key_creds is None:
            inv.unreadable("kms", "GetKeyPolicy", region, policy, inv.key_account)
        else:
            jobs.append(("GetKeyPolicy", region, policy))
    inv.parallel(
        lambda job: inv.call(
            key_creds if job[0] == "GetKeyPolicy" and key_creds else readable,
            "kms",
            job[0],
            job[1],
            job[2],
            paginate=True,
        ),
        jobs,
    )
