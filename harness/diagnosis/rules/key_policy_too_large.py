"""Key policy at or over the size limit: 32 KB (key-policy-overview.html#key-policy-format) [V]."""

from __future__ import annotations

from harness.diagnosis.appliers import key_applier
from harness.diagnosis.context import Context
from harness.diagnosis.fixes import (
    applier_notes,
    key_id_arg,
    policy_principal,
    region_flag,
    sh,
    tf_grant,
    tf_name,
    tf_variable,
)
from harness.diagnosis.model import Evidence, Finding, Fix
from harness.diagnosis.registry import Explains, RuleMeta
from harness.diagnosis.rules._grants import grant_operations
from harness.diagnosis.rules._policy import key_policy_implicit

META = RuleMeta(
    code="KEY_POLICY_TOO_LARGE",
    runbook_step="extra",
    severity="warning",
    title="Key policy at the size limit",
    reads=("kms:GetKeyPolicy", "cloudtrail:LookupEvents"),
    catalog=("A21",),
    meaning="key policy at or over the size limit",
    phase="key-trust",
    # An AWS managed key's policy cannot be changed at all, whatever its size.
    after=("AWS_MANAGED_KEY_MISUSE",),
    node=None,
    fixes=("aws kms create-grant", "aws kms get-key-policy", "aws kms put-key-policy"),
    explains=Explains(errors=frozenset({"LimitExceededException"})),
    layer="key-policy",
)

LIMIT_BYTES = 32_768
# "At" the limit: too little room left for one more statement (a principal statement is ~150-300
# bytes), so the statement the caller needs cannot be added.
HEADROOM = 512
_POLICY_WRITES = ("kms:putkeypolicy", "kms:createkey")


def check(ctx: Context) -> Finding | None:
    f = ctx.facts
    evidence = []
    writing = f.action.lower() in _POLICY_WRITES
    observed = writing and bool(ctx.signal_code("LimitExceededException"))
    if observed:
        evidence.append(ctx.signal_evidence())
    for ev in f.kms_events(("PutKeyPolicy",)):
        if ev.get("errorCode") == "LimitExceededException":
            evidence.append(
                Evidence(
                    "cloudtrail:LookupEvents",
                    f"PutKeyPolicy at {ev.get('eventTime')} failed with LimitExceededException",
                )
            )
            break
    size = len(f.key_policy_text.encode()) if f.key_policy_text else 0
    full = size >= LIMIT_BYTES - HEADROOM
    if full:
        evidence.append(
            Evidence(
                "kms:GetKeyPolicy",
                f"the key policy is {size} bytes; the documented limit is {LIMIT_BYTES}, leaving no room for another statement",
            )
        )
    if not evidence:
        return None
    return ctx.finding(
        META,
        f"The key policy of {ctx.key} is at the 32 KB limit, so it cannot be extended for {ctx.who}; consolidate statements or use grants.",
        evidence,
        _grant_fix(ctx, writing),
        # At the limit, a caller the key policy does not allow cannot be added: that is the cause.
        severity="error"
        if observed or (full and (writing or key_policy_implicit(ctx)))
        else "warning",
    )


def _grant_fix(ctx: Context, writing: bool) -> Fix:
    """A grant gives the caller the operations without a byte of key policy (grants.html); the
    consolidation of the policy stays a person's judgement over every statement."""
    f = ctx.facts
    merge = (
        f"aws kms get-key-policy --key-id {ctx.key} --policy-name default --query Policy --output text{region_flag(f)} > key-policy.json\n"
        "# merge statements, then\n"
        f"aws kms put-key-policy --key-id {ctx.key} --policy-name default --policy file://key-policy.json{region_flag(f)}"
    )
    terraform = (
        "# build the policy with aws_iam_policy_document and one statement per role list, e.g.\n"
        + tf_variable("key_user_role_arns", "the roles that use the key", "list(string)")
        + 'data "aws_iam_policy_document" "key" {\n  statement {\n    principals {\n      type        = "AWS"\n      identifiers = var.key_user_role_arns\n    }\n    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"]\n    resources = ["*"]\n  }\n}'
    )
    summary = "Merge statements that share principals or actions, remove stale principals, and use grants for narrow or temporary access."
    operations = grant_operations(f.action)
    if writing or not operations:
        return Fix(summary=summary, cli=merge, terraform=terraform)
    applier = key_applier(f, "kms:CreateGrant")
    grantee = policy_principal(f)
    return Fix(
        summary=f"Give {grantee} {', '.join(operations)} with a grant now (no key policy bytes); "
        "then consolidate the policy: " + summary[0].lower() + summary[1:],
        cli=f"aws kms create-grant --key-id {sh(key_id_arg(f))} --grantee-principal {sh(grantee)} "
        f"--operations {' '.join(operations)} --name {sh(tf_name(grantee.rsplit('/', 1)[-1]))}{region_flag(f)}",
        terraform=tf_grant(f, operations),
        applied_by=applier.arn,
        applied_by_reason=applier.how,
        notes=(*applier_notes(applier), "to consolidate the key policy later:\n" + merge),
    )
