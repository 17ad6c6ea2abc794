"""A grant allows the operation but its encryption-context constraint does not match (#36)."""

from __future__ import annotations

import json

from harness.diagnosis.callfixes import caller_fix, cli_call
from harness.diagnosis.context import Context
from harness.diagnosis.model import Evidence, Finding
from harness.diagnosis.registry import RuleMeta
from harness.diagnosis.rules._grants import (
    caller_grants,
    constraint_problem,
    covers,
    grant_denied,
    grant_operations,
)

META = RuleMeta(
    code="GRANT_CONSTRAINT_UNMET",
    runbook_step=7,
    severity="error",
    title="Grant constraint not met",
    reads=("kms:ListGrants",),
    catalog=("C36", "B29"),
    layer="grant",
    meaning="a grant matches but its encryption-context constraint does not",
    phase="key-trust",
    after=("GRANT_TOKEN_NEEDED",),
    node="key-trust",
    fixes=("aws kms {operation}",),
)


def check(ctx: Context) -> Finding | None:
    if not grant_denied(ctx):
        return None
    ops = grant_operations(ctx.facts.action)
    ec = ctx.facts.encryption_context
    grants = [g for g in caller_grants(ctx) if covers(g, ops)]
    if not grants or any(constraint_problem(g, ec) is None for g in grants):
        return None
    evidence = [
        Evidence("kms:ListGrants", f"grant {g.get('GrantId', '?')}: {constraint_problem(g, ec)}")
        for g in grants
    ]
    cons = grants[0].get("Constraints") or {}
    wanted = cons.get("EncryptionContextEquals") or cons.get("EncryptionContextSubset") or {}
    return ctx.finding(
        META,
        f"The grant that gives {ctx.who} {', '.join(ops)} on {ctx.key} requires encryption context {json.dumps(wanted)}, "
        "which the request does not send; send it (or recreate the grant with the right constraint).",
        evidence,
        caller_fix(
            ctx.facts,
            f"Send encryption context {json.dumps(wanted)} with {ctx.action}, or recreate the grant with the constraint the data really uses.",
            # EncryptionContextEquals: exactly the constraint's pairs; Subset: at least them.
            cli_call(
                ctx.facts,
                context=dict(wanted) if "EncryptionContextEquals" in cons else {**ec, **wanted},
            ),
            (
                'resource "aws_kms_grant" "fixed" {\n'
                f'  key_id            = "{ctx.key}"\n'
                f'  grantee_principal = "{grants[0].get("GranteePrincipal")}"\n'
                f"  operations        = {json.dumps(grants[0].get('Operations') or ops)}\n"
                "  constraints {\n"
                f"    encryption_context_subset = {json.dumps(wanted)}\n"
                "  }\n"
                "}"
            ),
        ),
        implies="ImplicitDeny",
    )
