"""The data key as the bundle's reads show it: its metadata, ARN, multi-Region replicas,
and the key state an error message names."""

from __future__ import annotations

from typing import Any

from harness.scenarios.rebuild.evidence import Evidence
from harness.scenarios.rebuild.keys import KEY_ARN


def key_metadata(ev: Evidence) -> dict[str, Any] | None:
    wanted = str(ev.request.get("key") or "")
    found = None
    for read in ev.all("kms", "DescribeKey"):
        meta = read.response.get("KeyMetadata")
        if not isinstance(meta, dict) or not meta.get("Arn"):
            continue
        if read.params.get("KeyId") == wanted:
            return meta
        found = found or meta
    return found


def named_key_arn(ev: Evidence) -> str | None:
    """The key's ARN when DescribeKey was not read: from the request or another key read."""
    candidates = [str(ev.request.get("key") or "")]
    candidates += [str(r.params.get("KeyId", "")) for r in ev.reads if r.service == "kms"]
    for value in candidates:
        if KEY_ARN.match(value):
            if any(
                s == "kms" and o == "DescribeKey" and code == "NotFoundException"
                for s, o, code in ev.refused
            ) and value == ev.request.get("key"):
                return None  # the key does not exist: the call names it literally
            return value
    return None


def multi_region(meta: dict[str, Any], spec: dict[str, Any], ev: Evidence) -> str | None:
    """The primary key's ARN of a multi-Region key (replicas go into `spec`), else None."""
    config = meta.get("MultiRegionConfiguration") or {}
    if not meta.get("MultiRegion") or not config:
        return None
    primary = config.get("PrimaryKey") or {}
    states: dict[str, str] = {}
    for read in ev.all("kms", "DescribeKey"):
        other = read.response.get("KeyMetadata") or {}
        match = KEY_ARN.match(str(other.get("Arn", "")))
        if match:
            states[match.group(1)] = str(other.get("KeyState", "Enabled"))
    spec["multi_region"] = True
    replicas: dict[str, Any] = {}
    for replica in config.get("ReplicaKeys") or []:
        entry: dict[str, Any] = {}
        if states.get(replica.get("Region")) == "Disabled":
            entry["state"] = "Disabled"
        replicas[str(replica.get("Region"))] = entry
    if replicas:
        spec["replicas"] = replicas
    primary_region = primary.get("Region")
    if primary_region and primary_region in states:
        spec["state"] = (
            states[primary_region]
            if states[primary_region] in ("Enabled", "Disabled")
            else spec.get("state", "Enabled")
        )
    return str(primary.get("Arn")) if primary.get("Arn") else None


def state_from_error(ev: Evidence) -> str | None:
    """The key state an error message names ("<key ARN> is disabled.", key-state.html)."""
    from harness.diagnosis import messages

    observed = ev.request.get("observed_error") or {}
    signal = messages.parse(str(observed.get("code", "")), str(observed.get("message", "")))
    return signal.state if signal.state in ("Disabled", "PendingDeletion") else None
