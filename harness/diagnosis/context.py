"""What a rule sees: the bundle facts, the one evaluator run, and AWS's own error text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.diagnosis import messages
from harness.diagnosis.evaluation import Evaluation
from harness.diagnosis.facts import Facts
from harness.diagnosis.model import Evidence, Finding, Fix

if TYPE_CHECKING:
    from harness.diagnosis.registry import RuleMeta

# Unreadable, these leave every decision open.
_NEEDED_ALWAYS = {"kms:DescribeKey", "kms:GetKeyPolicy"}
# These decide only when something was denied: SCPs, for one, are never readable from a member
# account, and a call that works needs no explanation from them.
_NEEDED_WHEN_DENIED = {
    "kms:ListGrants",
    "organizations:ListPoliciesForTarget",
    "organizations:DescribePolicy",
    "organizations:ListParents",
    "ec2:DescribeVpcEndpoints",
}

# Which evaluator input field carries each layer's document.
_LAYER_FIELD = {
    "scp": "scps",
    "rcp": "rcps",
    "vpc-endpoint": "vpc_endpoint_policy",
    "permissions-boundary": "permissions_boundary",
    "session": "session_policy",
    "grant": "grants",
}


@dataclass
class Context:
    facts: Facts
    ev: Evaluation
    observed: messages.Signal | None
    # The observed error, or else the latest failed CloudTrail event of the call.
    signal: messages.Signal | None
    findings: list[Finding] = field(default_factory=list)
    # Shared analyses several rules read (computed once per diagnosis).
    memo: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, facts: Facts, ev: Evaluation) -> Context:
        observed = (
            messages.parse(facts.observed.code, facts.observed.message) if facts.observed else None
        )
        signal = observed
        if signal is None and facts.failing_events:
            last = facts.failing_events[-1]
            # A failure followed by a success of the same call is history, not the problem.
            op = facts.action.split(":", 1)[-1]
            later_ok = any(
                e.get("eventName") == op
                and not e.get("errorCode")
                and facts.event_is_caller(e)
                and str(e.get("eventTime") or "") >= str(last.get("eventTime") or "")
                for e in facts.kms_events()
            )
            if not later_ok:
                signal = messages.parse(
                    str(last.get("errorCode") or ""), str(last.get("errorMessage") or "")
                )
        return cls(facts=facts, ev=ev, observed=observed, signal=signal)

    # -- names --------------------------------------------------------------------------------

    @property
    def who(self) -> str:
        return self.facts.principal_arn or "the caller"

    @property
    def key(self) -> str:
        return self.facts.key_ref

    @property
    def action(self) -> str:
        return self.facts.action or "the operation"

    # -- signals -------------------------------------------------------------------------------

    def signal_code(self, *codes: str) -> messages.Signal | None:
        if self.signal and self.signal.code in codes:
            return self.signal
        return None

    def signal_evidence(self) -> Evidence:
        assert self.signal is not None
        source = "observed error" if self.signal is self.observed else "cloudtrail:LookupEvents"
        return Evidence(source, self.signal.describe())

    def cloudtrail_errors(self, *codes: str) -> list[dict[str, Any]]:
        return [e for e in self.facts.kms_events() if e.get("errorCode") in codes]

    @property
    def denied(self) -> bool:
        if self.ev.ran and self.ev.decision in ("ExplicitDeny", "ImplicitDeny"):
            return True
        return bool(self.signal and self.signal.denied)

    def evidence_blocked(self, throttled: bool | None = None) -> bool:
        """True when unreadable evidence leaves the decision open: any of it, or only the reads
        that were (not) throttled. Only the principal's own IAM reads count for its identity."""
        for c in self.facts.failed_reads:
            if throttled is not None and c.throttled != throttled:
                continue
            if c.name in _NEEDED_ALWAYS or (c.service == "iam" and self.facts.is_own_iam_call(c)):
                return True
            if c.name in _NEEDED_WHEN_DENIED and self.denied:
                return True
        return False

    def evaluated_with_evidence(self, layer: str) -> bool:
        if not self.ev.ran or layer in self.ev.unknown_layers:
            return False
        if layer == "key-policy":
            return not self.ev.placeholder_key_policy
        if layer == "identity":
            return True
        name = _LAYER_FIELD.get(layer)
        return name is not None and name in self.ev.input

    def layer_block(self, layer: str) -> str | None:
        """ "explicit" or "implicit" when this layer blocks the request, else None.

        The evaluator decides where it had the layer's documents; elsewhere AWS's message text
        names the layer (catalog section 6).
        """
        if self.ev.blocks(layer):
            deny = self.ev.matched(layer, "Deny")
            if deny or (self.ev.decision == "ExplicitDeny" and self.ev.blocked_by[:1] == [layer]):
                return "explicit"
            return "implicit"
        if self.evaluated_with_evidence(layer):
            return None
        sig = self.signal
        if sig and sig.denied and sig.layer == layer:
            return "explicit" if sig.explicit else "implicit"
        return None

    def block_from_message(self, layer: str) -> bool:
        return not self.ev.blocks(layer) and self.layer_block(layer) is not None

    # -- building findings -----------------------------------------------------------------------

    def finding(
        self,
        meta: RuleMeta,
        summary: str,
        evidence: list[Evidence],
        fix: Fix,
        *,
        implies: str = "Failed",
        severity: str | None = None,
    ) -> Finding:
        if not evidence:
            raise ValueError(f"{meta.code}: a finding needs at least one evidence item")
        return Finding(
            code=meta.code,
            runbook_step=meta.runbook_step,
            severity=severity or meta.severity,
            summary=summary,
            evidence=evidence,
            fix=fix,
            layer=meta.layer,
            implies=implies,
        )

    def deny_kind(self, layer: str) -> str:
        return "ExplicitDeny" if self.layer_block(layer) == "explicit" else "ImplicitDeny"

    def layer_message_evidence(self, layer: str) -> list[Evidence]:
        """Evidence that a layer blocks: the evaluator's verdict and AWS's message."""
        out = []
        if self.ev.blocks(layer):
            out.append(
                Evidence(
                    "kmslab evaluate",
                    f"the {layer} layer blocks: {self.ev.message or self.ev.decision}",
                )
            )
        if self.signal and self.signal.denied and self.signal.layer == layer:
            out.append(self.signal_evidence())
        return out
