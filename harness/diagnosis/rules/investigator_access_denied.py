"""Evidence needed to decide could not be read: name the permissions the investigator lacks.

Only reads that were refused (or failed otherwise) count; throttled ones are THROTTLED's.
"""

from __future__ import annotations

import json

from harness.aws import arns
from harness.diagnosis.appliers import iam_applier
from harness.diagnosis.context import Context
from harness.diagnosis.facts import permission_for
from harness.diagnosis.fixes import compact, sh, tf_variable
from harness.diagnosis.model import Evidence, Finding, Fix
from harness.diagnosis.registry import RuleMeta

META = RuleMeta(
    code="INVESTIGATOR_ACCESS_DENIED",
    runbook_step=None,
    severity="warning",
    title="Evidence could not be read",
    reads=(),
    catalog=("section-6",),
    final=True,
    meaning="evidence needed to decide could not be read; says which permission is missing",
    phase="investigation",
    node=None,
    fixes=("aws iam put-role-policy", "aws iam put-user-policy"),
)


def check(ctx: Context) -> Finding | None:
    # Throttled reads are no permission problem: THROTTLED reports them (retry later).
    calls = ctx.facts.refused_reads
    if not calls:
        return None
    perms = sorted({permission_for(c.service, c.operation) for c in calls})
    evidence = [
        Evidence(
            c.name,
            f"{c.error_code}: {c.error_message or 'no message'} (needs {permission_for(c.service, c.operation)})",
        )
        for c in calls
    ]
    investigator = (ctx.facts.caller_identity or {}).get("Arn") or "the investigating principal"
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "KmslabReadOnly", "Effect": "Allow", "Action": perms, "Resource": "*"}
        ],
    }
    # The investigator's own role or user, from GetCallerIdentity (a session names its role).
    who = arns.principal(str(investigator)) if investigator.startswith("arn:") else None
    known = who is not None and who.kind in ("assumed-role", "role", "user") and bool(who.name)
    kind = "user" if who is not None and who.kind == "user" else "role"
    name = who.name if who is not None and who.name else ""
    applier = iam_applier(
        ctx.facts.investigator_account or ctx.facts.principal_account,
        f"iam:Put{kind.title()}Policy",
    )
    entity_arg = sh(name) if known else '"$INVESTIGATOR_ROLE"'
    key_side = [p for p in perms if p.startswith("kms:")]
    note = (
        f" (for {', '.join(key_side)} the key policy of {ctx.key} must also allow it)"
        if key_side
        else ""
    )
    return ctx.finding(
        META,
        f"{investigator} could not read {', '.join(perms)}, so the cause for {ctx.who} cannot be confirmed; ask for these read-only permissions{note}.",
        evidence,
        Fix(
            summary=f"Give the investigator read-only {', '.join(perms)} and collect again.",
            cli=f"aws iam put-{kind}-policy --{kind}-name {entity_arg} --policy-name kmslab-read-only --policy-document {sh(compact(doc))}",
            terraform=(
                (
                    tf_variable("investigator_role_name", "the investigator's role")
                    if not known
                    else ""
                )
                + f'resource "aws_iam_{kind}_policy" "kmslab_read_only" {{\n'
                '  name   = "kmslab-read-only"\n'
                + (
                    f"  {kind}   = {json.dumps(name)}\n"
                    if known
                    else "  role   = var.investigator_role_name\n"
                )
                + f"  policy = jsonencode({json.dumps(doc)})\n"
                "}"
            ),
            applied_by=applier.arn,
            applied_by_reason=applier.how,
        ),
        severity="error" if ctx.evidence_blocked(throttled=False) else "warning",
        implies="Unknown",
    )
