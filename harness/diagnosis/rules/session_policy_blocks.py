"""The session policy passed at AssumeRole does not allow or denies (catalog #9)."""

from __future__ import annotations

import copy
import json

from harness.diagnosis.callfixes import cli_call, cli_new_session
from harness.diagnosis.context import Context
from harness.diagnosis.fixes import (
    exempt_principal,
    hcl_json,
    needed_actions,
    statement_by_sid,
    with_statement,
)
from harness.diagnosis.model import Finding, Fix
from harness.diagnosis.registry import RuleMeta
from harness.diagnosis.rules._guard import guard_finding
from harness.diagnosis.rules._policy import matched_denies

META = RuleMeta(
    code="SESSION_POLICY_BLOCKS",
    runbook_step=5,
    severity="error",
    title="Session policy blocks",
    reads=("cloudtrail:LookupEvents",),
    catalog=("A9",),
    layer="session",
    meaning="the session policy does not allow or denies",
    phase="explicit-deny",
    after=("PERMISSIONS_BOUNDARY_BLOCKS",),
    node="session",
    fixes=("aws sts assume-role", "aws kms {operation}"),
)


def check(ctx: Context) -> Finding | None:
    f = ctx.facts
    role = f.role_arn or f.principal_arn
    session = f.principal.session or "kmslab"
    allow = {
        "Sid": "AllowKmsKeyUse",
        "Effect": "Allow",
        "Action": needed_actions(f),
        "Resource": ctx.key,
    }
    sp = f.session_policy
    where = f"passed when session {session} was assumed" + (
        f" ({sp[1].get('eventTime')})" if sp else ""
    )
    # The shape of the policy that was passed decides the change (IAM access_policies.html#policies_session):
    # a Deny that matches loses the request's actions; an allow-list gains them; the rest stays.
    denies = matched_denies(ctx, "session")
    if sp is not None and denies:
        doc = copy.deepcopy(sp[0])
        for _label, sid in denies:
            for st in statement_by_sid(doc, sid):
                exempt_principal(st, role)
        change = f"the session policy denies {ctx.action}: exempt the role in that Deny"
    elif sp is not None:
        doc = with_statement(sp[0], allow)
        change = f"the session policy allows no {ctx.action} on {ctx.key}: add it to the policy"
    else:
        doc = {"Version": "2012-10-17", "Statement": [allow]}
        change = f"include {', '.join(needed_actions(f))} on {ctx.key} in the session policy"
    assumer = ""
    if sp is not None:
        assumer = str((sp[1].get("userIdentity") or {}).get("arn") or "")
    fix = Fix(
        summary=f"{change[0].upper()}{change[1:]} passed to AssumeRole for {role}; the application must then use the new session.",
        # The new session, then the application's call made with it.
        cli=f"{cli_new_session(role, session, doc)}\n{cli_call(f)}",
        terraform=(
            "# the session policy of the provider's assume_role (the role must already allow the actions)\n"
            'provider "aws" {\n'
            "  assume_role {\n"
            f"    role_arn     = {json.dumps(role)}\n"
            f"    session_name = {json.dumps(session)}\n"
            f"    policy       = jsonencode({hcl_json(doc)})\n"
            "  }\n"
            "}"
        ),
        applied_by=assumer,
        applied_by_reason=(
            f"{assumer} assumed {role} for this session (CloudTrail AssumeRole)"
            if assumer
            else f"the principal that assumes {role} (its trust policy decides)"
        ),
    )
    return guard_finding(ctx, META, "cloudtrail:LookupEvents", fix, where=where)
