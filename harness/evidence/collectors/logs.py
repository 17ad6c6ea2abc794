"""Playbook step 8: CloudWatch Logs groups that receive CloudTrail, searched for KMS failures.

The filter pattern narrows the search on AWS; emulators ignore patterns, so every event is
filtered again here, to KMS failures that name this key.
"""

from __future__ import annotations

import json
import time
from typing import Any

from harness.aws import arns
from harness.evidence.investigation import Investigation
from harness.evidence.registry import collector

FILTER_PATTERN = '{ ($.eventSource = "kms.amazonaws.com") && ($.errorCode = *) }'
MAX_EVENTS = 200


@collector(
    "cloudtrail_logs",
    step="8",
    permissions=("cloudtrail:DescribeTrails", "logs:FilterLogEvents"),
    needs_key=True,
)
def cloudtrail_logs(inv: Investigation) -> None:
    """DescribeTrails, then FilterLogEvents on each trail's CloudWatch Logs group."""
    trails = inv.call(inv.investigator, "cloudtrail", "DescribeTrails", inv.region)
    groups: dict[str, tuple[str, str, str | None]] = {}
    for trail in (trails or {}).get("trailList", []):
        arn = trail.get("CloudWatchLogsLogGroupArn") if isinstance(trail, dict) else None
        parsed = _log_group(arn) if isinstance(arn, str) else None
        if parsed:
            groups.setdefault(arn or "", parsed)
    names = _key_names(inv)
    start = int((time.time() - inv.lookback_seconds) * 1000)

    def search(group: tuple[str, str, str | None]) -> None:
        name, region, account = group
        creds = inv.creds_for(account)
        params = {
            "logGroupName": name,
            "filterPattern": FILTER_PATTERN,
            "startTime": start,
            "interleaved": True,
        }
        if creds is None:
            inv.unreadable("logs", "FilterLogEvents", region, params, account)
            return
        inv.call(
            creds,
            "logs",
            "FilterLogEvents",
            region,
            params,
            paginate=True,
            max_items=MAX_EVENTS,
            keep=lambda response: _kms_failures(response, names),
            note="client-side: kept KMS failure events that name this key",
        )

    inv.parallel(search, list(groups.values()))


def _log_group(arn: str) -> tuple[str, str, str | None] | None:
    # arn:aws:logs:REGION:ACCOUNT:log-group:NAME:*
    parsed = arns.parse(arn)
    if (
        parsed is None
        or parsed.service != "logs"
        or parsed.resource.count(":") < 1
        or parsed.resource_type != "log-group"
    ):
        return None
    return parsed.resource.split(":")[1], parsed.region, parsed.account or None


def _key_names(inv: Investigation) -> set[str]:
    names = {inv.key_ref.given}
    if inv.key_arn:
        names.add(inv.key_arn)
        names.add(inv.key_arn.rsplit("/", 1)[-1])
    meta = inv.key_metadata or {}
    if isinstance(meta.get("KeyId"), str):
        names.add(meta["KeyId"])
    return names


def _kms_failures(response: dict[str, Any], names: set[str]) -> dict[str, Any]:
    kept = [
        event
        for event in response.get("events", [])
        if isinstance(event, dict) and _is_failure_of(event.get("message"), names)
    ]
    trimmed = {k: v for k, v in response.items() if k != "searchedLogStreams"}
    return {**trimmed, "events": kept}


def _is_failure_of(message: Any, names: set[str]) -> bool:
    if not isinstance(message, str):
        return False
    try:
        event = json.loads(message)
    except ValueError:
        return False
    if not isinstance(event, dict) or event.get("eventSource") != "kms.amazonaws.com":
        return False
    if not event.get("errorCode"):
        return False
    referenced = {r.get("ARN") for r in event.get("resources") or [] if isinstance(r, dict)}
    request = event.get("requestParameters") or {}
    if isinstance(request, dict):
        referenced.add(request.get("keyId"))
        referenced.add(request.get("sourceKeyId"))
        referenced.add(request.get("destinationKeyId"))
    return bool(referenced & names)
