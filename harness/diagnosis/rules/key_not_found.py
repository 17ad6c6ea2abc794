"""No such key in the caller's account and Region (including keys already deleted)."""

from __future__ import annotations

from harness.aws import arns
from harness.diagnosis.callfixes import caller_fix, cli_call
from harness.diagnosis.context import Context
from harness.diagnosis.facts import Facts
from harness.diagnosis.fixes import region_flag, tf_variable
from harness.diagnosis.model import Finding, Fix
from harness.diagnosis.registry import Explains, RuleMeta
from harness.diagnosis.rules._policy import identity_key_arns
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
    fixes=("aws kms list-aliases", "aws kms list-keys", "aws kms {operation}"),
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
    if not owner_arn:
        owner_arn = _identity_named(f, ctx.action)
    return ctx.finding(
        META,
        f"Key {f.request_key or ctx.key} does not exist in account {f.key_account or account} and Region {f.region}"
        + (" (it was deleted; its ciphertexts cannot be decrypted)" if deleted else "")
        + f"; {ctx.who} must call {ctx.action} with the ARN of an existing key.",
        res.evidence,
        (caller_fix if owner_arn else _no_caller_fix)(
            f,
            f"Call {ctx.action.split(':')[-1]} with {owner_arn}, the existing key the caller's "
            "policies name (a key id alone is looked up in the caller's own account and Region)."
            if owner_arn
            else "Find the key that encrypted the data (its full ARN) and pass that ARN; a deleted key cannot be restored.",
            cli_call(f, key=owner_arn, region=arns.region_of(owner_arn))
            if owner_arn
            else f'aws kms list-aliases{region_flag(f, f.region)} --query "Aliases[].[AliasName,TargetKeyId]" --output table\n'
            f"aws kms list-keys{region_flag(f, f.region)}",
            (
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


def _no_caller_fix(f: Facts, summary: str, cli: str, terraform: str) -> Fix:
    return Fix(summary=summary, cli=cli, terraform=terraform)


def _identity_named(f: Facts, action: str) -> str:
    """The existing key the caller's identity policy names for the action: the one whose key id
    the request passed (a bare id of another account's key), else the only one in the Region
    the call was sent to (a hard-coded id of a key that no longer exists)."""
    named = [k for k, _ in identity_key_arns(f, action) if k != f.request_key]
    by_id = [k for k in named if k.rsplit("/", 1)[-1] == f.request_key]
    if by_id:
        return by_id[0]
    here = [k for k in named if arns.region_of(k) == f.region]
    return here[0] if len(here) == 1 else ""
