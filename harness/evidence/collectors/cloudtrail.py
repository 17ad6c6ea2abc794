"""Playbook step 8: CloudTrail event history for the key and the principal.

Denied cross-account calls are logged only in the caller's account, so the caller's
history is always read; the key owner's too when its credentials are supplied. The
session policy of an assumed role is not readable from IAM: AssumeRole events carry it
in requestParameters.policy / policyArns.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from typing import Any

from harness.aws.operations import READ_ONLY_OPERATIONS
from harness.evidence.calls import Credentials
from harness.evidence.investigation import Investigation
from harness.evidence.registry import collector

MAX_EVENTS = 100


def _window(inv: Investigation) -> dict[str, Any]:
    # The window ends when the investigation began: its own reads are not the incident.
    # CloudTrail times have one-second resolution, so the end is rounded up and the
    # investigator's own reads within that second are dropped client-side.
    end = dt.datetime.fromtimestamp(math.ceil(inv.started_at), dt.UTC)
    return {"StartTime": end - dt.timedelta(seconds=inv.lookback_seconds), "EndTime": end}


def _not_ours(inv: Investigation) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def keep(response: dict[str, Any]) -> dict[str, Any]:
        kept = [e for e in response.get("Events", []) if not _investigators_own(inv, e)]
        return {**response, "Events": kept}

    return keep


def _investigators_own(inv: Investigation, event: Any) -> bool:
    if not isinstance(event, dict) or inv.investigator_arn is None:
        return False
    source = str(event.get("EventSource") or "").split(".", 1)[0]
    if f"{source}:{event.get('EventName')}" not in READ_ONLY_OPERATIONS:
        return False
    when = event.get("EventTime")
    if isinstance(when, dt.datetime) and when.timestamp() < math.floor(inv.started_at):
        return False
    try:
        body = json.loads(event.get("CloudTrailEvent") or "{}")
    except ValueError:
        return False
    identity = body.get("userIdentity") if isinstance(body, dict) else None
    return isinstance(identity, dict) and identity.get("arn") == inv.investigator_arn


def _lookup(
    inv: Investigation,
    creds: Credentials,
    region: str,
    key: str,
    value: str,
    **kwargs: Any,
) -> dict[str, Any] | None:
    params = {"LookupAttributes": [{"AttributeKey": key, "AttributeValue": value}], **_window(inv)}
    kwargs.setdefault("keep", _not_ours(inv))
    kwargs.setdefault("note", "client-side: dropped the investigation's own read calls")
    return inv.call(
        creds,
        "cloudtrail",
        "LookupEvents",
        region,
        params,
        paginate=True,
        max_items=MAX_EVENTS,
        **kwargs,
    )


@collector("cloudtrail_key", step="8", permissions=("cloudtrail:LookupEvents",), needs_key=True)
def cloudtrail_key(inv: Investigation) -> None:
    """LookupEvents by the key's ARN (ResourceName), in the caller's and the owner's account."""
    arn = inv.key_arn or (inv.key_ref.given if inv.key_ref.kind == "key-arn" else None)
    if arn is None:
        return
    jobs: list[tuple[Credentials, str]] = [(inv.investigator, inv.region)]
    if inv.cross_account and inv.key_side is not None:
        jobs.append((inv.key_side, inv.key_region))
    inv.parallel(lambda job: _lookup(inv, job[0], job[1], "ResourceName", arn), jobs)


@collector("cloudtrail_principal", step="8", permissions=("cloudtrail:LookupEvents",))
def cloudtrail_principal(inv: Investigation) -> None:
    """LookupEvents by the principal's user name, and the AssumeRole events of its role."""
    principal = inv.principal
    creds = inv.creds_for(principal.account)
    if creds is None:
        return
    username = principal.session or principal.name
    jobs: list[tuple[str, str]] = []
    if username:
        jobs.append(("Username", username))
    if principal.role_name:
        jobs.append(("EventName", "AssumeRole"))

    def run(job: tuple[str, str]) -> None:
        if job[0] == "EventName":
            role = principal.role_name or ""
            _lookup(
                inv,
                creds,
                inv.region,
                *job,
                keep=lambda response: _assume_role_events(response, principal.account, role),
                note="client-side: kept the AssumeRole events of the principal's role",
            )
        else:
            _lookup(inv, creds, inv.region, *job)

    inv.parallel(run, jobs)


def _assume_role_events(response: dict[str, Any], account: str, role: str) -> dict[str, Any]:
    kept = [
        event
        for event in response.get("Events", [])
        if isinstance(event, dict) and _assumes(event, account, role)
    ]
    return {**response, "Events": kept}


def _assumes(event: dict[str, Any], account: str, role: str) -> bool:
    try:
        body = json.loads(event.get("CloudTrailEvent") or "{}")
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    request = body.get("requestParameters") or {}
    response = body.get("responseElements") or {}
    role_arn = request.get("roleArn") if isinstance(request, dict) else None
    if isinstance(role_arn, str) and _is_role(role_arn, account, role):
        return True
    assumed = (response.get("assumedRoleUser") or {}) if isinstance(response, dict) else {}
    arn = assumed.get("arn") if isinstance(assumed, dict) else None
    return isinstance(arn, str) and f":sts::{account}:assumed-role/{role}/" in arn


def _is_role(arn: str, account: str, role: str) -> bool:
    # Roles can have paths: arn:aws:iam::A:role/some/path/NAME.
    head, _, resource = arn.partition(f":iam::{account}:role/")
    return bool(head) and resource.split("/")[-1] == role
