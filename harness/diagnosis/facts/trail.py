"""CloudTrail: the events of LookupEvents and of the trail's CloudWatch Logs, the caller's
failing and encrypting KMS events, and the session policy its AssumeRole event passed."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from harness.diagnosis.facts.calls import parse_policy
from harness.diagnosis.facts.principal import PrincipalFacts


class TrailFacts(PrincipalFacts):
    @cached_property
    def cloudtrail_events(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        seen: set[str] = set()

        def add(raw: Any) -> None:
            ev = parse_policy(raw) if not isinstance(raw, dict) else raw
            if not isinstance(ev, dict):
                return
            eid = str(ev.get("eventID") or ev.get("EventId") or len(events))
            if eid in seen:
                return
            seen.add(eid)
            events.append(ev)

        for call in self.find("cloudtrail", "LookupEvents"):
            # LookupEvents lists newest first; reversed, the stable sort below keeps events of
            # the same second in the order they happened.
            for item in reversed((call.response or {}).get("Events") or []):
                if isinstance(item, dict):
                    add(item.get("CloudTrailEvent"))
        for call in self.find("logs", "FilterLogEvents"):
            for item in (call.response or {}).get("events") or []:
                if isinstance(item, dict):
                    add(item.get("message"))
        events.sort(key=lambda e: str(e.get("eventTime") or ""))
        return events

    @cached_property
    def cloudtrail_collected(self) -> bool:
        return any(
            c.ok
            for c in self.find("cloudtrail", "LookupEvents") + self.find("logs", "FilterLogEvents")
        )

    def kms_events(self, names: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        return [
            e
            for e in self.cloudtrail_events
            if e.get("eventSource") == "kms.amazonaws.com"
            and (names is None or e.get("eventName") in names)
        ]

    def event_key_arns(self, event: dict[str, Any]) -> list[str]:
        return [
            str(r.get("ARN"))
            for r in event.get("resources") or []
            if isinstance(r, dict) and ":key/" in str(r.get("ARN", ""))
        ]

    def event_is_caller(self, event: dict[str, Any]) -> bool:
        ident = event.get("userIdentity") or {}
        arn = ident.get("arn")
        if not arn:
            return False
        if arn == self.principal_arn:
            return True
        issuer = ((ident.get("sessionContext") or {}).get("sessionIssuer") or {}).get("arn")
        return bool(issuer) and issuer == self.role_arn

    @cached_property
    def failing_events(self) -> list[dict[str, Any]]:
        """Failed KMS events of the action under investigation, by the principal."""
        op = self.action.split(":", 1)[-1]
        return [
            e
            for e in self.kms_events()
            if e.get("errorCode")
            and e.get("eventName") == op
            and (self.event_is_caller(e) or not e.get("userIdentity"))
        ]

    @cached_property
    def encrypt_events(self) -> list[dict[str, Any]]:
        """Successful events that produced ciphertext (Encrypt, GenerateDataKey*, ReEncrypt)."""
        names = (
            "Encrypt",
            "GenerateDataKey",
            "GenerateDataKeyWithoutPlaintext",
            "GenerateDataKeyPair",
            "GenerateDataKeyPairWithoutPlaintext",
            "ReEncrypt",
        )
        return [e for e in self.kms_events(names) if not e.get("errorCode")]

    @cached_property
    def session_policy(self) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """(policy, AssumeRole event) of the principal's session, from CloudTrail."""
        if self.principal.kind != "assumed-role":
            return None
        best = None
        for ev in self.cloudtrail_events:
            if ev.get("eventSource") != "sts.amazonaws.com" or not str(
                ev.get("eventName", "")
            ).startswith("AssumeRole"):
                continue
            if ev.get("errorCode"):
                continue
            params = ev.get("requestParameters") or {}
            resp = ev.get("responseElements") or {}
            assumed = (
                ((resp.get("assumedRoleUser") or {}).get("arn")) if isinstance(resp, dict) else None
            )
            same_session = assumed == self.principal_arn or (
                params.get("roleSessionName") == self.principal.session
                and str(params.get("roleArn", "")).endswith(f"/{self.principal.name}")
            )
            if not same_session:
                continue
            # The latest AssumeRole of this session decides, with or without a policy.
            doc = parse_policy(params.get("policy"))
            best = (doc, ev) if doc is not None else None
        return best
