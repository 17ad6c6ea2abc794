"""No such key in the caller's account and Region (including keys already deleted)."""

from __future__ import annotations

from harness.diagnosis import arns
from harness.diagnosis.context import Context
from harness.diagnosis.fixes import region_flag, sh, tf_variable
from harness.diagnosis.model import Finding, Fix
from harness.diagnosis.registry import Explains, RuleMeta
from harness.diagnosis.rules._resolution import resolution

META = RuleMeta(
    code="KEY_NOT_FOUND",
    runbook_step=2,
    severity="error",
    title="Key not found",
    reads=("kms:DescribeKey", "cloudtrail:LookupEvents"),
    catalog=("D43", "G66"),
    meaning="no such key in that account and region (includes deleted keys)",
    phase="resolution",
    # The more specific causes of a NotFound (other Region, missing replica, alias) first.
    after=("WRONG_REGION", "MULTI_REGION_REPLICA_MISSING", "ALIAS_NOT_FOUND", "ALIAS_WRONG_TARGET"),
    node="resolve",
    fixes=("aws kms describe-key", "aws kms list-aliases", "aws kms list-keys"),
    explains=Explains(errors=frozenset({"NotFoundException"}), ambiguous=True),
)


def check(ctx: Context) -> Finding | None:
    res = resolution(ctx)
    if res is None or res.code != META.code:
        return None
    deleted = any("DeleteKey" in e.detail for e in res.evidence)
    f = ctx.facts
    account = f.principal_account or "the caller's account"
    # A bare key id of another account's key: the key ARN in the owner's account is the fix
    # (key-policy-modifying-external-accounts.html#cross-account-use).
    owner = str(f.request.get("key_account") or "")
    owner_arn = (
        f"arn:aws:kms:{f.region}:{owner}:key/{f.request_key}"
        if owner and owner != f.principal_account and arns.is_key_id(f.request_key)
        else ""
    )
    return ctx.finding(
        META,
        f"Key {f.request_key or ctx.key} does not exist in account {f.key_account or account} and Region {f.region}"
        + (" (it was deleted; its ciphertexts cannot be decrypted)" if deleted else "")
        + f"; {ctx.who} must call {ctx.action} with the ARN of an existing key.",
        res.evidence,
        Fix(
            summary="Find the key that encrypted the data (its full ARN) and pass that ARN; a deleted key cannot be restored.",
            cli=(
                f"aws kms describe-key --key-id {sh(owner_arn)}{region_flag(f, f.region)}"
                if owner_arn
                else f'aws kms list-aliases{region_flag(f, f.region)} --query "Aliases[].[AliasName,TargetKeyId]" --output table\n'
                f"aws kms list-keys{region_flag(f, f.region)}"
            ),
            terraform=(
                "# reference the key by its ARN rather than a hard-coded id\n"
                + (
                    f'data "aws_kms_key" "data_key" {{\n  key_id = "{owner_arn}"\n}}'
                    if owner_arn
                    else tf_variable("encrypting_key_arn", "ARN of the key that encrypted the data")
                    + 'data "aws_kms_key" "encrypting_key" {\n  key_id = var.encrypting_key_arn\n}'
                )
            ),
        ),
    )
