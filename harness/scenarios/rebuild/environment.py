"""What surrounds the call: lab controls standing in for AWS-side conditions, trails, and an
investigator refused what the bundle's investigator was refused."""

from __future__ import annotations

from typing import Any

from harness.aws import arns
from harness.scenarios.rebuild.evidence import Evidence
from harness.scenarios.rebuild.names import logical
from harness.scenarios.rebuild.principals import Book


def lab_controls(
    ev: Evidence, book: Book, finding: str, grants: list[dict[str, Any]], account: str
) -> dict[str, Any]:
    """Lab controls standing in for what AWS resources cannot show (README, lab controls)."""
    controls: dict[str, Any] = {}
    events = []
    for read in ev.all("health", "DescribeEvents"):
        for event in read.response.get("events") or []:
            if (
                str(event.get("service", "")).upper() == "KMS"
                and event.get("statusCode", "open") == "open"
            ):
                events.append(
                    {
                        k: event[k]
                        for k in ("region", "service", "eventTypeCode", "statusCode")
                        if k in event
                    }
                )
    if events:
        controls["health_events"] = events
    observed = (ev.request.get("observed_error") or {}).get("code")
    if observed == "ThrottlingException" or finding == "THROTTLED":
        controls["throttle"] = {account: 0}
    if finding in ("GRANT_TOKEN_NEEDED",):
        controls["grant_propagation_seconds"] = 300
    if finding == "GRANT_LIMIT_REACHED":
        controls["grant_quota"] = max(1, len(grants))
    return controls


def trail_specs(ev: Evidence, book: Book) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    taken: set[str] = set()
    for read in ev.all("cloudtrail", "DescribeTrails"):
        for trail in read.response.get("trailList") or []:
            arn = str(trail.get("TrailARN", ""))
            account = arns.account_of(arn) or read.account or book.caller.account
            item: dict[str, Any] = {
                "name": logical(str(trail.get("Name", "trail")), taken, "t"),
                "account": book.account(account),
            }
            if trail.get("CloudWatchLogsLogGroupArn"):
                item["cloudwatch_logs"] = True
            out.append(item)
    return out


def investigator_spec(ev: Evidence) -> dict[str, Any]:
    """An investigator refused exactly the reads the bundle's investigator was refused."""
    from harness.diagnosis.facts import is_access_denied, permission_for

    refused = sorted({permission_for(s, o) for s, o, code in ev.refused if is_access_denied(code)})
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadOnlyInvestigation",
            "Effect": "Allow",
            "Action": [
                "kms:Describe*",
                "kms:Get*",
                "kms:List*",
                "iam:Get*",
                "iam:List*",
                "organizations:Describe*",
                "organizations:List*",
                "ec2:DescribeVpcEndpoints",
                "cloudtrail:LookupEvents",
                "cloudtrail:DescribeTrails",
                "logs:FilterLogEvents",
                "health:DescribeEvents",
            ],
            "Resource": "*",
        }
    ]
    if refused:
        statements.append(
            {"Sid": "RefusedInTheBundle", "Effect": "Deny", "Action": refused, "Resource": "*"}
        )
    out: dict[str, Any] = {"policies": [{"Version": "2012-10-17", "Statement": statements}]}
    if not ev.request.get("observed_error"):
        out["sees_error"] = False
    return out
