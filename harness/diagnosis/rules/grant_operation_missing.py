"""A grant for the caller exists but not for this operation (catalog #37)."""

from __future__ import annotations

from harness.diagnosis.context import Context
from harness.diagnosis.fixes import (
    key_call_fix,
    key_id_arg,
    policy_principal,
    region_flag,
    sh,
    tf_name,
)
from harness.diagnosis.model import Evidence, Finding
from harness.diagnosis.registry import RuleMeta
from harness.diagnosis.rules._grants import caller_grants, covers, grant_denied, grant_operations

META = RuleMeta(
    code="GRANT_OPERATION_MISSING",
    runbook_step=7,
    severity="error",
    title="Grant lacks the operation",
    reads=("kms:ListGrants",),
    catalog=("C37", "C38"),
    layer="grant",
    meaning="a grant for the principal exists but not for this operation",
    phase="key-trust",
    after=("GRANT_TOKEN_NEEDED",),
    node="key-trust",
    fixes=("aws kms create-grant",),
)


def check(ctx: Context) -> Finding | None:
    if not grant_denied(ctx):
        return None
    ops = grant_operations(ctx.facts.action)
    grants = caller_grants(ctx)
    if not grants or any(covers(g, ops) for g in grants):
        return None
    evidence = [
        Evidence(
            "kms:ListGrants",
            f"grant {g.get('GrantId', '?')} for {g.get('GranteePrincipal')} allows {', '.join(g.get('Operations') or [])}, not {', '.join(ops)}",
        )
        for g in grants
    ]
    grantee = policy_principal(ctx.facts)
    all_ops = sorted({*ops, *(o for g in grants for o in g.get("Operations") or [])})
    return ctx.finding(
        META,
        f"{ctx.who} holds grants on {ctx.key} but none allows {', '.join(ops)}; create a grant that includes it.",
        evidence,
        key_call_fix(
            ctx.facts,
            f"Create a grant for {grantee} on {ctx.key} with operations {', '.join(all_ops)} (grants cannot be edited), then retire the old one.",
            [
                f"aws kms create-grant --key-id {sh(key_id_arg(ctx.facts))} --grantee-principal {sh(grantee)} "
                f"--operations {' '.join(all_ops)}{region_flag(ctx.facts)}"
            ],
            "kms:CreateGrant",
            (
                f'resource "aws_kms_grant" "{tf_name(ctx.facts.principal.name or "grantee")}" {{\n'
                f'  key_id            = "{ctx.key}"\n'
                f'  grantee_principal = "{grantee}"\n'
                f"  operations        = {all_ops!r}\n".replace("'", '"')
                + "}"
            ),
        ),
        implies="ImplicitDeny",
    )
