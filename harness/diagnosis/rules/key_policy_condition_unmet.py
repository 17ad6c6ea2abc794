"""An Allow in the key policy applies only under a condition the request does not meet."""

from __future__ import annotations

import copy
import json
from typing import Any

from harness.diagnosis.callfixes import cli_call
from harness.diagnosis.context import Context
from harness.diagnosis.facts import Facts
from harness.diagnosis.fixes import (
    key_id_arg,
    key_policy_fix,
    needed_actions,
    policy_principal,
    region_flag,
    sh,
    statement,
    statement_by_sid,
    tf_key_policy_statement,
)
from harness.diagnosis.model import Evidence, Finding, Fix
from harness.diagnosis.registry import Explains, RuleMeta
from harness.diagnosis.rules._policy import UnmetCondition, key_policy_implicit, unmet_conditions

META = RuleMeta(
    code="KEY_POLICY_CONDITION_UNMET",
    runbook_step=4,
    severity="error",
    title="Key policy condition not met",
    reads=("kms:GetKeyPolicy",),
    catalog=("A23", "B26", "B28", "B30"),
    layer="key-policy",
    meaning="an Allow in the key policy applies only under a condition the request does not meet",
    phase="key-trust",
    # A statement that names the caller but whose condition fails, after a principal meant
    # for the caller that does not match it.
    after=("KEY_POLICY_PRINCIPAL_MISMATCH",),
    node="key-trust",
    fixes=("aws kms get-key-policy", "aws kms put-key-policy", "aws kms {operation}"),
    explains=Explains(ambiguous=True),
)

_ADVICE = {
    "kms:viaservice": "call KMS through that service, or add a statement for direct use",
    "kms:calleraccount": "call from the account the condition names",
    "aws:sourcevpce": "call through that VPC endpoint, or add a kms:ViaService exception for service calls",
    "aws:principalorgid": "use a principal of that organization, or fix the organization id",
    "kms:encryptioncontextkeys": "send the required encryption context keys",
}


def _advice(key: str) -> str:
    low = key.lower()
    if low.startswith("kms:encryptioncontext:"):
        return f"send encryption context {key.split(':', 2)[2]} with the required value"
    return _ADVICE.get(low, "meet the condition, or correct its value")


# Conditions whose value is a fact about the caller, not about the request: a mismatch there is a
# wrong value in the policy (catalog #23: kms:CallerAccount names another account), fixed by
# putting the caller's value; request-side conditions (encryption context, kms:ViaService,
# aws:SourceVpce) are met by changing the call instead.
_ACCOUNT_KEYS = {"kms:calleraccount", "aws:principalaccount"}


def _account_value_fix(ctx: Context, unmet: UnmetCondition) -> Fix | None:
    f = ctx.facts
    if unmet.key.lower() not in _ACCOUNT_KEYS or f.key_policy is None or not f.principal_account:
        return None
    policy = copy.deepcopy(f.key_policy)
    changed = False
    for st in statement_by_sid(policy, unmet.sid):
        block = (st.get("Condition") or {}).get(unmet.operator) or {}
        for key in list(block):
            if key.lower() == unmet.key.lower():
                block[key] = f.principal_account
                changed = True
    if not changed:
        return None
    return key_policy_fix(
        f,
        f"Statement {unmet.sid} allows only {unmet.key} {', '.join(map(str, unmet.expected))}; "
        f"set it to the caller's account {f.principal_account}.",
        policy,
        change=f"{unmet.key} -> {f.principal_account}",
    )


def _request_side_fix(ctx: Context, unmet: UnmetCondition, fixed: dict[str, Any]) -> Fix:
    """The request must meet the condition: the call with the required encryption context, or,
    for conditions the network or a service sets (kms:ViaService, aws:SourceVpce), the policy read
    back and a note, since no command of the caller's can set them."""
    f = ctx.facts
    summary = (
        f"Make the request meet {unmet.operator} {unmet.key} (statement {unmet.sid}), or correct "
        "the condition's value; do not drop the condition."
    )
    low = unmet.key.lower()
    if low.startswith("kms:encryptioncontext:") and unmet.expected:
        name = unmet.key.split(":", 2)[2]
        needed = Facts(
            dict(
                f.bundle,
                request=dict(
                    f.request,
                    encryption_context={**f.encryption_context, name: str(unmet.expected[0])},
                ),
            )
        )
        return Fix(
            summary=summary, cli=cli_call(needed), terraform=tf_key_policy_statement(f, fixed)
        )
    return Fix(
        summary=summary,
        cli=f"aws kms get-key-policy --key-id {sh(key_id_arg(f))} --policy-name default "
        f"--query Policy --output text{region_flag(f)}",
        terraform=tf_key_policy_statement(f, fixed),
        notes=(
            f"{unmet.key} is set by how the call arrives (through {', '.join(map(str, unmet.expected))}), "
            "not by a parameter: route the call that way, or widen the key policy deliberately",
        )
        if low in ("kms:viaservice", "aws:sourcevpce", "aws:sourcevpc")
        else (),
    )


def check(ctx: Context) -> Finding | None:
    if not key_policy_implicit(ctx):
        return None
    unmet = unmet_conditions(ctx, "key-policy")
    if not unmet:
        return None
    evidence = [
        Evidence(
            "kms:GetKeyPolicy",
            f"statement {u.sid} allows only if {u.operator} {u.key} in {json.dumps(u.expected)}; the request has {json.dumps(u.actual) if u.actual else 'no value'}",
        )
        for u in unmet
    ]
    evidence += ctx.layer_message_evidence("key-policy")
    first = unmet[0]
    fixed = statement(
        first.sid if not first.sid.startswith("statement ") else "AllowKeyUse",
        policy_principal(ctx.facts),
        needed_actions(ctx.facts),
        {first.operator: {first.key: first.expected}},
    )
    return ctx.finding(
        META,
        f"The key policy of {ctx.key} allows {ctx.action} to {ctx.who} only when {first.key} is "
        f"{', '.join(map(str, first.expected))}, and the request does not meet it; {_advice(first.key)}.",
        evidence,
        _account_value_fix(ctx, first) or _request_side_fix(ctx, first, fixed),
        implies="ImplicitDeny",
    )
