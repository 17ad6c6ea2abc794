"""An AWS managed key (aws/s3, aws/ebs...) used directly or from another account (catalog #31)."""

from __future__ import annotations

import json

from harness.aws import arns
from harness.diagnosis.callfixes import new_key_fix
from harness.diagnosis.context import Context
from harness.diagnosis.fixes import policy_principal, tf_name
from harness.diagnosis.model import Evidence, Finding
from harness.diagnosis.registry import RuleMeta

META = RuleMeta(
    code="AWS_MANAGED_KEY_MISUSE",
    runbook_step="extra",
    severity="error",
    title="AWS managed key used directly or cross-account",
    reads=("kms:DescribeKey", "kms:GetKeyPolicy"),
    catalog=("B31", "F59", "F60", "F61"),
    layer="key-policy",
    meaning="an AWS managed key used directly or cross-account",
    phase="key-trust",
    # Causes behind a missing key-policy statement come first: a replica whose policy drifted,
    # a policy nobody can change (AWS managed), one too large to take the statement, a grant.
    after=("MULTI_REGION_REPLICA_DIVERGED",),
    node="key-trust",
    fixes=("aws kms create-key",),
)


def check(ctx: Context) -> Finding | None:
    f = ctx.facts
    md = f.key_metadata or {}
    if md.get("KeyManager") != "AWS":
        return None
    direct = "kms:ViaService" not in f.context
    if not (f.cross_account or direct) or not ctx.denied:
        return None
    how = []
    if f.cross_account:
        how.append(f"from account {f.principal_account} (the key belongs to {f.key_account})")
    if direct:
        how.append("directly (no kms:ViaService)")
    evidence = [
        Evidence(
            "kms:DescribeKey",
            f"KeyManager AWS for {md.get('Arn') or ctx.key}: its key policy cannot be changed",
        )
    ]
    if f.key_policy_text and "kms:ViaService" in f.key_policy_text:
        evidence.append(
            Evidence(
                "kms:GetKeyPolicy",
                "the policy allows use only through kms:ViaService and kms:CallerAccount",
            )
        )
    if ctx.signal and ctx.signal.denied:
        evidence.append(ctx.signal_evidence())
    principal = policy_principal(f)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EnableIAM",
                "Effect": "Allow",
                "Principal": {"AWS": arns.account_root(f.key_account)},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "AllowUse",
                "Effect": "Allow",
                "Principal": {"AWS": principal},
                "Action": [
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:GenerateDataKey*",
                    "kms:ReEncrypt*",
                    "kms:DescribeKey",
                ],
                "Resource": "*",
            },
        ],
    }
    return ctx.finding(
        META,
        f"Key {ctx.key} is an AWS managed key, which {ctx.who} cannot use {' and '.join(how)}; "
        "switch to a customer managed key and re-encrypt the data.",
        evidence,
        new_key_fix(
            f,
            f"Create a customer managed key whose policy allows {principal}, configure the service to use it, and re-encrypt or copy existing data.",
            description=f"replaces AWS managed key {md.get('KeyId', '')}",
            terraform=(
                f'resource "aws_kms_key" "{tf_name("cmk_" + str(md.get("KeyId", "replacement")))}" {{\n'
                f'  description         = "customer managed replacement for {md.get("Arn", ctx.key)}"\n'
                "  enable_key_rotation = true\n"
                f"  policy              = jsonencode({json.dumps(policy)})\n"
                "}"
            ),
        ),
        implies="ImplicitDeny",
    )
