"""AWS Health DescribeEvents from the lab controls (a KMS service event in a Region)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from harness.lab.controls import Controls
from harness.lab.errors import AwsError


def _arn(index: int, event: dict[str, Any]) -> str:
    region = event.get("region", "us-east-1")
    code = event.get("eventTypeCode", "AWS_KMS_OPERATIONAL_ISSUE")
    return f"arn:aws:health:{region}::event/{event.get('service', 'KMS')}/{code}/{code}_LAB_{index:04d}"


class Health:
    def __init__(self, controls: Controls) -> None:
        self.controls = controls
        self.started = dt.datetime.now(dt.UTC)

    def events(self, account: str | None = None) -> list[dict[str, Any]]:
        out = []
        for index, event in enumerate(self.controls.health_events(account)):
            start = event.get("startTime")
            out.append(
                {
                    "arn": event.get("arn") or _arn(index, event),
                    "service": event.get("service", "KMS"),
                    "eventTypeCode": event["eventTypeCode"],
                    "eventTypeCategory": event.get("eventTypeCategory", "issue"),
                    "region": event["region"],
                    "startTime": dt.datetime.fromisoformat(start)
                    if isinstance(start, str)
                    else self.started,
                    "lastUpdatedTime": self.started,
                    "statusCode": event.get("statusCode", "open"),
                    "eventScopeCode": event.get("eventScopeCode", "PUBLIC"),
                    "_description": event.get("description", ""),
                }
            )
        return out

    def handle(
        self, operation: str, params: dict[str, Any], account: str | None = None
    ) -> dict[str, Any]:
        if operation == "DescribeEvents":
            flt = params.get("filter") or {}
            events = [e for e in self.events(account) if _matches(e, flt)]
            return {
                "events": [{k: v for k, v in e.items() if not k.startswith("_")} for e in events]
            }
        if operation == "DescribeEventDetails":
            wanted = set(params.get("eventArns") or [])
            ok = []
            for e in self.events(account):
                if e["arn"] in wanted:
                    ok.append(
                        {
                            "event": {k: v for k, v in e.items() if not k.startswith("_")},
                            "eventDescription": {"latestDescription": e["_description"]},
                        }
                    )
            failed = [
                {"eventArn": a, "errorName": "NotFound", "errorMessage": "Event not found"}
                for a in wanted - {o["event"]["arn"] for o in ok}
            ]
            return {"successfulSet": ok, "failedSet": failed}
        if operation == "DescribeEventTypes":
            return {
                "eventTypes": [
                    {
                        "service": e["service"],
                        "code": e["eventTypeCode"],
                        "category": e["eventTypeCategory"],
                    }
                    for e in self.events(account)
                ]
            }
        raise AwsError(
            "UnknownOperationException", f"The lab does not implement health:{operation}"
        )


def _matches(event: dict[str, Any], flt: dict[str, Any]) -> bool:
    for field, name in (
        ("services", "service"),
        ("regions", "region"),
        ("eventStatusCodes", "statusCode"),
        ("eventTypeCategories", "eventTypeCategory"),
        ("eventTypeCodes", "eventTypeCode"),
        ("eventArns", "arn"),
    ):
        wanted = flt.get(field)
        if wanted and event[name] not in wanted:
            return False
    return True
