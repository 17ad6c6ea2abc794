"""The diagnosis data model: findings with evidence and fixes, and the report (contract section 4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DECISIONS = ("Allowed", "ExplicitDeny", "ImplicitDeny", "Failed", "Unknown")
SEVERITIES = ("critical", "error", "warning", "info")


@dataclass(frozen=True)
class Evidence:
    call: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"call": self.call, "detail": self.detail}


@dataclass(frozen=True)
class Fix:
    summary: str
    cli: str
    terraform: str
    # Extensions (contract section 4 allows new fields): the principal that may apply the fix
    # (an ARN; an account's root ARN stands for "an IAM administrator of that account"), why the
    # evidence says it may, and what a person must know before running it (lockout check, AWS
    # Support, what the command cannot do).
    applied_by: str = ""
    applied_by_reason: str = ""
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "summary": self.summary,
            "cli": self.cli,
            "terraform": self.terraform,
        }
        if self.applied_by or self.applied_by_reason:
            out["applied_by"] = self.applied_by or None
            out["applied_by_reason"] = self.applied_by_reason
        if self.notes:
            out["notes"] = list(self.notes)
        return out


@dataclass
class Finding:
    code: str
    runbook_step: int | str | None
    severity: str
    summary: str
    evidence: list[Evidence]
    fix: Fix
    # Evaluator layer this finding explains (None for non-authorization findings); used by the
    # ranking and by the flowchart renderers, not part of the contract.
    layer: str | None = None
    # The decision this finding implies when it is the primary one.
    implies: str = "Failed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "runbook_step": self.runbook_step,
            "severity": self.severity,
            "summary": self.summary,
            "evidence": [e.to_dict() for e in self.evidence],
            "fix": self.fix.to_dict(),
        }


@dataclass(frozen=True)
class Unreadable:
    call: str
    error: str
    permission: str
    # What to do about it: "throttled, retry later", or the permission it needs.
    reason: str = ""
    throttled: bool = False
    # Information, not an error: a limit of the investigator's account no permission lifts
    # (e.g. organizations:ListParents from a member account); `reason` names who can read it.
    information: bool = False

    def to_dict(self) -> dict[str, str]:
        out = {"call": self.call, "error": self.error}
        if self.information:
            out["severity"] = "info"
            out["reason"] = self.reason
        if self.throttled:
            # An extension of the contract's shape, only where the code alone misleads: a
            # throttled read is no missing permission.
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class PathStep:
    """One node of the evaluation path, in the order of AWS's KMS authorization flowchart."""

    id: str
    label: str
    status: str  # "pass" | "fail" | "unknown" | "skipped"
    detail: str = ""
    blocking: bool = False


@dataclass
class Agreement:
    observed: str
    agrees: bool
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {"observed": self.observed, "agrees": self.agrees, "note": self.note}


@dataclass(frozen=True)
class ActionResult:
    """One action of a several-action incident (contract section 6)."""

    action: str
    decision: str
    primary: str | None
    codes: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "decision": self.decision,
            "primary": self.primary,
            "findings": list(self.codes),
        }


@dataclass
class Diagnosis:
    request: dict[str, Any]
    decision: str
    primary: str | None
    findings: list[Finding]
    unreadable: list[Unreadable]
    path: list[PathStep] = field(default_factory=list)
    agreement: Agreement | None = None
    evaluator_message: str = ""
    # One entry per action when the incident names several (contract section 6).
    actions: list[ActionResult] = field(default_factory=list)

    @property
    def headline(self) -> str:
        """The code a scenario row shows (`harness.diagnosis.verdict.headline`)."""
        from harness.diagnosis.verdict import headline

        return headline(self)

    def finding(self, code: str) -> Finding | None:
        return next((f for f in self.findings if f.code == code), None)

    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "request": self.request,
            "decision": self.decision,
            "primary": self.primary,
            "findings": [f.to_dict() for f in self.findings],
            "unreadable": [u.to_dict() for u in self.unreadable],
        }
        # Extensions (the contract allows new fields): the observed error's agreement with the
        # primary finding, and the evaluation path the renderers draw.
        if self.actions:
            out["actions"] = [a.to_dict() for a in self.actions]
        if self.agreement is not None:
            out["observed_error"] = self.agreement.to_dict()
        out["path"] = [
            {
                "id": s.id,
                "label": s.label,
                "status": s.status,
                "detail": s.detail,
                "blocking": s.blocking,
            }
            for s in self.path
        ]
        return out
