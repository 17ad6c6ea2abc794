"""The session policy passed at AssumeRole does not allow or denies (catalog #9)."""

from __future__ import annotations

import json

from harness.diagnosis.context import Context
from harness.diagnosis.fixes import needed_actions
from harness.diagnosis.model import Finding, Fix
from harness.diagnosis.registry import RuleMeta
from harness.diagnosis.rules._guard import guard_finding

META = RuleMeta(
    code="SESSION_POLICY_BLOCKS",
    runbook_step=5,
    severity="error",
    title="Session policy blocks",
    reads=("cloudtrail:LookupEvents",),
    catalog=("A9",),
    layer="session",
)


def check(ctx: Context) -> Finding | None:
    f = ctx.facts
    role = f.role_arn or "<role-arn>"
    session = f.principal.session or "<session-name>"
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": needed_actions(f), "Resource": ctx.key}],
    }
    sp = f.session_policy
    where = f"passed when session {session} was assumed" + (
        f" ({sp[1].get('eventTime')})" if sp else ""
    )
    fix = Fix(
        summary=f"Include {', '.join(needed_actions(f))} on {ctx.key} in the session policy passed to AssumeRole for {role}.",
        cli=f"aws sts assume-role --role-arn {role} --role-session-name {session} --policy '{json.dumps(doc, separators=(',', ':'))}'",
        terraform=(
            'data "aws_iam_policy_document" "session" {\n'
            "  statement {\n"
            f"    actions   = {json.dumps(needed_actions(f))}\n"
            f'    resources = ["{ctx.key}"]\n'
            "  }\n"
            "}\n"
            "# pass data.aws_iam_policy_document.session.json as the session policy (assume_role { policy = ... })"
        ),
    )
    return guard_finding(ctx, META, "cloudtrail:LookupEvents", fix, where=where)
