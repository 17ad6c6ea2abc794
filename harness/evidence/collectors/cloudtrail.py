"""Playbook step 8: CloudTrail event history for the key and the principal.

Denied cross-account calls are logged only in the caller's account, so the caller's
history is always read; the key owner's too when its credentials are supplied. The
session policy of an assumed role is not readable from IAM: AssumeRole events carry it
in requestParameters.policy / policyArns.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from harness.evidence.calls import Credentials
from harness.evidence.investigation import Investigation
from harness.evidence.registry import collector

MAX_EVENTS = 100


def _window(inv: Investigation) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return {"StartTime": now - dt.timedelta(seconds=inv.lookback_seconds), "EndTime": now}


def _lookup(
    inv: Investigation,
    creds: Credentials,
    region: str,
    key: str,
    value: str,
    **kwargs: Any,
) -> dict[str, Any] | None:
    params = {"LookupAttributes": [{"AttributeKey": key, "AttributeValue": value}], **_window(inv)}
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
                note=f"client-side: kept AssumeRole events of role {role}",
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
