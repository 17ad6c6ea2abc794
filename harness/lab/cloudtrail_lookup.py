"""CloudTrail LookupEvents in the lab: one lookup attribute, a time range and pages of at most
50 events, newest first, with AWS's error codes (API_LookupEvents.html)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from harness.lab.errors import AwsError

LOOKUP_KEYS = (
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
)


def lookup_events(
    records: list[dict[str, Any]], region: str, params: dict[str, Any]
) -> dict[str, Any]:
    """LookupEvents over one account's records (oldest first), newest first as AWS lists them."""
    attrs = params.get("LookupAttributes") or []
    if len(attrs) > 1:
        raise AwsError(
            "InvalidLookupAttributesException",
            "You cannot specify more than one lookup attribute.",
        )
    attr = attrs[0] if attrs else None
    if attr is not None and attr.get("AttributeKey") not in LOOKUP_KEYS:
        raise AwsError(
            "InvalidLookupAttributesException",
            f"Invalid attribute key {attr.get('AttributeKey')}.",
        )
    start = _time(params.get("StartTime"))
    end = _time(params.get("EndTime"))
    if start and end and start > end:
        raise AwsError("InvalidTimeRangeException", "Start time must be before end time.")
    limit = params.get("MaxResults") or 50
    if not isinstance(limit, int) or not 1 <= limit <= 50:
        raise AwsError("InvalidMaxResultsException", "MaxResults must be between 1 and 50.")
    offset = 0
    if params.get("NextToken"):
        try:
            offset = int(base64.b64decode(params["NextToken"]).decode())
        except (ValueError, UnicodeDecodeError) as exc:
            raise AwsError("InvalidNextTokenException", "Invalid NextToken.") from exc
    matched = []
    for record in reversed(records):
        if record["awsRegion"] != region:
            continue
        when = dt.datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=dt.UTC
        )
        if start and when < start.replace(microsecond=0):
            continue
        if end and when > end:
            continue
        if attr is not None and not _attribute_matches(
            record, attr["AttributeKey"], str(attr.get("AttributeValue", ""))
        ):
            continue
        matched.append(record)
    page = matched[offset : offset + limit]
    out: dict[str, Any] = {"Events": [_lookup_entry(r) for r in page]}
    if offset + limit < len(matched):
        out["NextToken"] = base64.b64encode(str(offset + limit).encode()).decode()
    return out


def _time(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(float(value), dt.UTC)
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise AwsError("InvalidTimeRangeException", f"Invalid time {value}.") from exc


def _username(record: dict[str, Any]) -> str | None:
    ident = record.get("userIdentity") or {}
    kind = ident.get("type")
    if kind == "AssumedRole":
        return str(ident.get("arn", "")).rsplit("/", 1)[-1]
    if kind == "IAMUser":
        return ident.get("userName")
    if kind == "Root":
        return "root"
    return None


def _attribute_matches(record: dict[str, Any], key: str, value: str) -> bool:
    if key == "EventId":
        return bool(record["eventID"] == value)
    if key == "EventName":
        return bool(record["eventName"] == value)
    if key == "ReadOnly":
        return str(record["readOnly"]).lower() == value.lower()
    if key == "Username":
        return _username(record) == value
    if key == "EventSource":
        return bool(record["eventSource"] == value)
    if key == "AccessKeyId":
        return bool((record.get("userIdentity") or {}).get("accessKeyId") == value)
    resources = record.get("resources") or []
    if key == "ResourceType":
        return any(r["type"] == value for r in resources)
    if key == "ResourceName":
        return any(r["ARN"] == value or r["ARN"].rsplit("/", 1)[-1] == value for r in resources)
    return False


def _lookup_entry(record: dict[str, Any]) -> dict[str, Any]:
    when = dt.datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    entry: dict[str, Any] = {
        "EventId": record["eventID"],
        "EventName": record["eventName"],
        "ReadOnly": str(record["readOnly"]).lower(),
        "EventTime": when.timestamp(),
        "EventSource": record["eventSource"],
        "Resources": [
            {"ResourceType": r["type"], "ResourceName": r["ARN"]}
            for r in record.get("resources") or []
        ],
        "CloudTrailEvent": json.dumps(record),
    }
    key = (record.get("userIdentity") or {}).get("accessKeyId")
    if key:
        entry["AccessKeyId"] = key
    name = _username(record)
    if name:
        entry["Username"] = name
    return entry
