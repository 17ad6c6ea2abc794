"""The bundle's request and recorded calls: parsing, lookups, and which reads failed.

Calls are looked up by (service, operation, region) and tolerated when absent. Every family
of facts (`principal`, `key`, `iam`, `trail`, `org`, `network`) builds on `BundleFacts`.
"""

from __future__ import annotations

import dataclasses
import json
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from harness.aws.codes import THROTTLING_CODES

# Errors that are facts about the subject, not a failure of the investigation.
_EVIDENCE_ERRORS = {
    ("kms", "DescribeKey"): {"NotFoundException", "InvalidArnException"},
    ("kms", "GetKeyPolicy"): {"NotFoundException"},
    ("kms", "ListAliases"): {"NotFoundException"},
    ("iam", "GetRole"): {"NoSuchEntity", "NoSuchEntityException"},
    ("iam", "GetUser"): {"NoSuchEntity", "NoSuchEntityException"},
    ("organizations", "DescribeOrganization"): {"AWSOrganizationsNotInUseException"},
}


# How the collector's throttle breaker marks the calls it recorded without sending them.
NOT_SENT = "not sent:"


# Organizations reads AWS allows only from the management account or a delegated administrator
# (organizations/latest/APIReference/action-reference.html; API_ListParents.html: "This operation
# can be called only from the organization's management account or by a member account that is a
# delegated administrator"). Refused in a member account, no permission would lift that.
MANAGEMENT_ONLY_READS = frozenset(
    {
        "ListParents",
        "ListPoliciesForTarget",
        "DescribePolicy",
        "ListPolicies",
        "ListRoots",
        "ListChildren",
        "ListOrganizationalUnitsForParent",
        "ListTargetsForPolicy",
    }
)


# A few read calls whose IAM action is not "<service>:<Operation>".
_PERMISSION_OVERRIDES = {("logs", "FilterLogEvents"): "logs:FilterLogEvents"}


def permission_for(service: str, operation: str) -> str:
    return _PERMISSION_OVERRIDES.get((service, operation), f"{service}:{operation}")


def parse_policy(value: Any) -> dict[str, Any] | None:
    """A policy document from a dict, a JSON string or IAM's URL-encoded JSON string."""
    if isinstance(value, dict):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.startswith("%7B") or text.startswith("%7b"):
        text = urllib.parse.unquote(text)
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        # CloudWatch Logs timestamps are milliseconds.
        return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, tz=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    region: str
    params: dict[str, Any]
    response: dict[str, Any] | None
    error_code: str | None
    error_message: str
    account: str | None
    note: str = ""
    # Set when the call can only be made by this account (organization management reads).
    only_by: str = ""

    @property
    def name(self) -> str:
        return f"{self.service}:{self.operation}"

    @property
    def ok(self) -> bool:
        return self.response is not None

    @property
    def throttled(self) -> bool:
        """Throttled by AWS, or not sent because the account's quota was already exhausted."""
        return self.error_code in THROTTLING_CODES or self.note.startswith(NOT_SENT)

    @property
    def permission(self) -> str:
        return permission_for(self.service, self.operation)

    @property
    def unreadable_reason(self) -> str:
        """Why the evidence is missing, as a person should act on it."""
        if self.throttled:
            return "throttled, retry later"
        if self.only_by:
            return (
                f"only the organization's management account {self.only_by} or a delegated "
                "administrator can read this (no permission lets a member account)"
            )
        if is_access_denied(self.error_code):
            return f"access denied: needs {self.permission}"
        return f"not read ({self.error_code}): needs {self.permission}"


@dataclass(frozen=True)
class Observed:
    code: str
    message: str


def _norm_error_code(code: str) -> str:
    return code.strip()


def is_access_denied(code: str | None) -> bool:
    # CloudTrail records "AccessDenied" where the API returns "AccessDeniedException" [V];
    # EC2 refuses with UnauthorizedOperation (errors-overview.html), SNS-style query services
    # with AuthorizationError.
    return code in {
        "AccessDeniedException",
        "AccessDenied",
        "AccessDeniedExcpetion",
        "403",
        "UnauthorizedOperation",
        "Client.UnauthorizedOperation",
        "AuthorizationError",
    }


class BundleFacts:
    """The request and the recorded calls of one bundle, and the generic lookups over them."""

    def __init__(self, bundle: dict[str, Any]) -> None:
        self.bundle = bundle
        req = bundle.get("request") or {}
        self.request: dict[str, Any] = req if isinstance(req, dict) else {}
        self.principal_arn: str = str(self.request.get("principal") or "")
        self.action: str = str(self.request.get("action") or "")
        # Contract 6: several actions of one incident; `action` is the first of them.
        listed = self.request.get("actions")
        self.actions: list[str] = [
            str(a) for a in (listed if isinstance(listed, list) else []) if isinstance(a, str) and a
        ] or ([self.action] if self.action else [])
        self.region: str = str(self.request.get("region") or "")
        self.request_key: str = str(self.request.get("key") or "")
        ec = self.request.get("encryption_context")
        self.encryption_context: dict[str, str] = ec if isinstance(ec, dict) else {}
        ctx = self.request.get("context")
        self.context: dict[str, Any] = ctx if isinstance(ctx, dict) else {}
        tokens = self.request.get("grant_tokens")
        self.grant_tokens: int | None = tokens if isinstance(tokens, int) else None
        ct = self.request.get("ciphertext")
        self.ciphertext: dict[str, Any] | None = ct if isinstance(ct, dict) else None
        self.collected_at = parse_time(bundle.get("collected_at"))
        oe = self.request.get("observed_error")
        self.observed: Observed | None = (
            Observed(_norm_error_code(str(oe.get("code") or "")), str(oe.get("message") or ""))
            if isinstance(oe, dict) and oe.get("code")
            else None
        )
        self.calls: list[Call] = []
        for raw in bundle.get("calls") or []:
            if not isinstance(raw, dict):
                continue
            params = raw.get("params")
            err = raw.get("error") if isinstance(raw.get("error"), dict) else None
            resp = raw.get("response") if isinstance(raw.get("response"), dict) else None
            self.calls.append(
                Call(
                    service=str(raw.get("service") or "").lower(),
                    operation=str(raw.get("operation") or ""),
                    region=str(raw.get("region") or self.region),
                    params=params if isinstance(params, dict) else {},
                    response=None if err else resp,
                    error_code=str(err.get("code") or "Error") if err else None,
                    error_message=str(err.get("message") or "") if err else "",
                    account=raw.get("account"),
                    note=str(raw.get("note") or ""),
                )
            )
        self.calls = [self._mark_management_only(c) for c in self.calls]
        self._index: dict[tuple[str, str], list[Call]] = {}
        for call in self.calls:
            self._index.setdefault((call.service, call.operation), []).append(call)

    def _mark_management_only(self, call: Call) -> Call:
        if (
            call.service != "organizations"
            or call.operation not in MANAGEMENT_ONLY_READS
            or not is_access_denied(call.error_code)
        ):
            return call
        mgmt = ""
        for raw in self.bundle.get("calls") or []:
            if (
                isinstance(raw, dict)
                and raw.get("service") == "organizations"
                and raw.get("operation") == "DescribeOrganization"
            ):
                org = (raw.get("response") or {}).get("Organization") or {}
                mgmt = str(org.get("MasterAccountId") or "")
        reader = call.account or ""
        if not reader:
            for raw in self.bundle.get("calls") or []:
                if isinstance(raw, dict) and raw.get("operation") == "GetCallerIdentity":
                    reader = str((raw.get("response") or {}).get("Account") or "")
        if mgmt and reader and reader != mgmt:
            return dataclasses.replace(call, only_by=mgmt)
        return call

    @cached_property
    def unliftable_reads(self) -> list[Call]:
        """Unreadable calls no permission could make readable for this investigator's account."""
        return [c for c in self.unreadable if c.only_by]

    def find(self, service: str, operation: str, region: str | None = None) -> list[Call]:
        calls = self._index.get((service, operation), [])
        if region is None:
            return calls
        return [c for c in calls if c.region == region]

    def first(self, service: str, operation: str, region: str | None = None) -> Call | None:
        """The first successful call, else the first failed one, else None."""
        calls = self.find(service, operation, region)
        return next((c for c in calls if c.ok), calls[0] if calls else None)

    def collected(self, service: str, operation: str) -> bool:
        return bool(self._index.get((service, operation)))

    @cached_property
    def failed_reads(self) -> list[Call]:
        """Every call whose evidence is missing (errors that are facts about the subject aside)."""
        return [
            c
            for c in self.calls
            if c.error_code is not None
            and c.error_code not in _EVIDENCE_ERRORS.get((c.service, c.operation), set())
        ]

    @cached_property
    def unreadable(self) -> list[Call]:
        """One failed call per operation and kind of failure (throttled or not), in bundle order."""
        out = []
        seen = set()
        for call in self.failed_reads:
            if (call.name, call.throttled) not in seen:
                seen.add((call.name, call.throttled))
                out.append(call)
        return out

    @cached_property
    def throttled_reads(self) -> list[Call]:
        return [c for c in self.unreadable if c.throttled]

    @cached_property
    def refused_reads(self) -> list[Call]:
        """Unreadable for a reason other than throttling: a permission, credentials, an error.
        Reads only the management account can make are information, not a missing permission."""
        return [c for c in self.unreadable if not c.throttled and not c.only_by]

    def errors_of(self, service: str, operation: str) -> list[Call]:
        return [c for c in self.find(service, operation) if c.error_code]
