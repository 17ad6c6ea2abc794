"""What-if: re-decide a captured request (an evidence bundle) with proposed policies.

The request and every policy come from the bundle exactly as the diagnosis reads them
(harness.diagnosis.evaluation.build_input); a proposed key policy, set of identity policies
or set of grants replaces the captured one, and the evaluator decides both versions. The
statements whose match changed between the two traces are what changed the decision.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from harness.diagnosis.evaluation import build_input
from harness.diagnosis.facts import Facts
from harness.errors import UsageError


@dataclass
class Proposal:
    """Proposed replacements; None leaves the captured version in place."""

    key_policy: dict[str, Any] | None = None
    identity_policies: list[dict[str, Any]] | None = None
    grants: list[dict[str, Any]] | None = None
    permissions_boundary: dict[str, Any] | None = None

    def empty(self) -> bool:
        return all(
            v is None
            for v in (
                self.key_policy,
                self.identity_policies,
                self.grants,
                self.permissions_boundary,
            )
        )


@dataclass
class WhatIf:
    before: dict[str, Any]
    after: dict[str, Any]
    changed: list[dict[str, Any]] = field(default_factory=list)
    unknown_layers: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        # The contract-2 fields describe the decision that stands (after the proposal);
        # `before` and `after` are contract section 6's additions.
        return {
            **self.after,
            "before": self.before,
            "after": self.after,
            "changed": self.changed,
            "unknown_layers": self.unknown_layers,
        }


def captured_input(bundle: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """The evaluator input (contract section 2) the bundle's evidence gives."""
    if not isinstance(bundle, dict) or bundle.get("kind") not in (None, "kms-evidence-bundle"):
        raise UsageError("not an evidence bundle (kind must be kms-evidence-bundle)")
    facts = Facts(bundle)
    if not facts.principal_arn or not facts.action:
        raise UsageError("the bundle's request lacks a principal or an action")
    doc, unknown, _placeholder = build_input(facts)
    doc.pop("_names", None)
    if not doc["request"]["resource"]:
        raise UsageError("the bundle does not name a key the request could be decided on")
    return doc, unknown


def apply(doc: dict[str, Any], proposal: Proposal) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    if proposal.key_policy is not None:
        out["key_policy"] = proposal.key_policy
    if proposal.identity_policies is not None:
        out["identity_policies"] = proposal.identity_policies
    if proposal.grants is not None:
        out["grants"] = proposal.grants
    if proposal.permissions_boundary is not None:
        out["permissions_boundary"] = proposal.permissions_boundary
    return out


def _statements(trace: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Statements by (layer, policy, statement index or grant id)."""
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for entry in trace:
        for i, st in enumerate(entry.get("statements") or []):
            index = st.get("grant", i) if "grant" in st else st.get("index", i)
            out[(str(entry.get("layer")), str(entry.get("policy")), str(index))] = st
    return out


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Statements (and grants) whose match differs between the two decisions' traces."""
    old = _statements(before.get("trace", []))
    new = _statements(after.get("trace", []))
    found = []
    for where in sorted(set(old) | set(new)):
        was, now = old.get(where), new.get(where)
        matched_before = bool(was and was.get("matched"))
        matched_after = bool(now and now.get("matched"))
        if matched_before == matched_after:
            continue
        st = now or was or {}
        layer, policy, index = where
        found.append(
            {
                "layer": layer,
                "policy": policy,
                "statement": index,
                "sid": st.get("sid"),
                "effect": st.get("effect", "Allow" if "grant" in st else None),
                "matched_before": matched_before,
                "matched_after": matched_after,
            }
        )
    return found


def what_if(bundle: dict[str, Any], proposal: Proposal) -> WhatIf:
    """Decide the bundle's request as captured and with `proposal` applied."""
    from harness.policy import evaluate

    doc, unknown = captured_input(bundle)
    before = evaluate(doc).to_dict()
    after = evaluate(apply(doc, proposal)).to_dict() if not proposal.empty() else before
    return WhatIf(
        before=before,
        after=after,
        changed=changes(before, after),
        unknown_layers=sorted(unknown),
    )


def render_text(result: WhatIf) -> str:
    before, after = result.before, result.after
    lines = [
        f"before: {before['decision']}" + _why(before),
        f"after:  {after['decision']}" + _why(after),
    ]
    if before["decision"] == after["decision"]:
        lines.append("the proposal does not change the decision")
    for c in result.changed:
        sid = f" {c['sid']!r}" if c.get("sid") else ""
        turn = "now matches" if c["matched_after"] else "no longer matches"
        lines.append(
            f"changed: [{c['layer']}] {c['policy']} statement {c['statement']}{sid}"
            f" ({c['effect']}) {turn}"
        )
    if after.get("message"):
        lines.append(f"message after: {after['message']}")
    if result.unknown_layers:
        lines.append(
            "note: the bundle could not read "
            + ", ".join(result.unknown_layers)
            + "; those layers were decided without their evidence"
        )
    return "\n".join(lines)


def _why(decision: dict[str, Any]) -> str:
    if decision.get("blocked_by"):
        return f" (blocked by {', '.join(decision['blocked_by'])})"
    if decision.get("allowed_by"):
        return f" (allowed by {', '.join(decision['allowed_by'])})"
    return ""
