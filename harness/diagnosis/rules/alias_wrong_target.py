"""The alias used points to a different key than the one that encrypted the data (#53, #33)."""

from __future__ import annotations

from harness.diagnosis import arns
from harness.diagnosis.context import Context
from harness.diagnosis.fixes import region_flag, sh, tf_variable
from harness.diagnosis.model import Evidence, Finding, Fix
from harness.diagnosis.registry import Explains, RuleMeta
from harness.diagnosis.rules._crypto import event_context

META = RuleMeta(
    code="ALIAS_WRONG_TARGET",
    runbook_step=6,
    severity="error",
    title="Alias points to another key",
    reads=("kms:ListAliases", "kms:DescribeKey", "cloudtrail:LookupEvents"),
    catalog=("E53", "B33"),
    meaning="the alias used points to a different key than the one intended or that encrypted the data",
    phase="resolution",
    # An alias resolves before anything is authorized: a wrong target explains a denial on the
    # key it reached (catalog #14), and an alias must exist before it points anywhere.
    after=("ALIAS_NOT_FOUND",),
    node="crypto",
    fixes=(
        "aws cloudtrail lookup-events",
        "aws kms describe-key",
        "aws kms update-alias",
        "aws kms decrypt",
    ),
    explains=Explains(
        errors=frozenset({"IncorrectKeyException", "InvalidCiphertextException"}),
        any_denial=True,
        ambiguous=True,
    ),
)


def _alias_name(key: str) -> str:
    if key.startswith("alias/"):
        return key
    a = arns.parse(key)
    return a.resource if a and a.resource.startswith("alias/") else ""


def _other_account_alias(ctx: Context, alias: str) -> Finding | None:
    """Catalog #14: an alias *name* resolves in the caller's account. When it resolved to a key of
    the caller's own account while the key meant belongs to another account (the request's
    key_account, or a same-named alias the bundle read there), the cause is the reference, not
    the key policy or IAM of the key it happened to reach (key-policy-modifying-external-accounts.html
    #cross-account-use: "you must use the key ARN or alias ARN" for a key in another account)."""
    f = ctx.facts
    if not f.request_key.startswith("alias/"):
        return None
    resolved = f.key_arn
    here = arns.account_of(resolved) or ""
    meant = str(f.request.get("key_account") or "")
    if not resolved or here != f.principal_account:
        return None
    theirs = None
    for call in f.find("kms", "ListAliases"):
        if call.account in (None, here) or not call.ok:
            continue
        for a in (call.response or {}).get("Aliases") or []:
            if isinstance(a, dict) and a.get("AliasName") == alias and a.get("TargetKeyId"):
                theirs = (str(call.account), call.region, str(a["TargetKeyId"]))
    if theirs is not None:
        meant = meant if meant and meant != here else theirs[0]
    if not meant or meant == here:
        return None
    region = theirs[1] if theirs else f.region
    meant_ref = (
        f"arn:aws:kms:{region}:{meant}:key/{theirs[2]}"
        if theirs
        else f"arn:aws:kms:{region}:{meant}:{alias}"
    )
    evidence = [
        Evidence(
            "kms:DescribeKey",
            f"{alias} (a name, not an ARN) resolved in the caller's account {here} to {resolved}",
        ),
        Evidence(
            "kms:ListAliases" if theirs else "request",
            f"account {meant} has {alias} targeting key {theirs[2]}"
            if theirs
            else f"the key meant belongs to account {meant}",
        ),
    ]
    if ctx.signal is not None:
        evidence.append(ctx.signal_evidence())
    return ctx.finding(
        META,
        f"{ctx.who} named {alias} by name, so KMS used the caller's own key {resolved} in account "
        f"{here}, not the key of account {meant} the application meant; pass {meant_ref} "
        "(a key ARN or alias ARN) instead of the alias name. The error concerns the wrong key: "
        "its key policy and IAM are not the cause.",
        evidence,
        Fix(
            summary=f"Reference the key as {meant_ref} (an alias name always resolves in the caller's account); "
            f"check it with DescribeKey as {ctx.who}.",
            cli=f"aws kms describe-key --key-id {sh(meant_ref)}{region_flag(f, f.region)}",
            terraform=f'data "aws_kms_key" "meant" {{\n  key_id = "{meant_ref}"\n}}',
        ),
        implies="Failed",
    )


def check(ctx: Context) -> Finding | None:
    f = ctx.facts
    alias = _alias_name(f.request_key)
    if not alias:
        return None
    reference = _other_account_alias(ctx, alias)
    if reference is not None:
        return reference
    entry = next((a for a in f.aliases if a.get("AliasName") == alias), None)
    target = str((entry or {}).get("TargetKeyId") or (f.key_metadata or {}).get("KeyId") or "")
    if not target:
        return None
    evidence = []
    others = set()
    for e in f.encrypt_events:
        key_param = str((e.get("requestParameters") or {}).get("keyId") or "")
        via_alias = _alias_name(key_param) == alias
        same_ctx = bool(f.encryption_context) and event_context(e) == f.encryption_context
        if not (via_alias or same_ctx):
            continue
        for k in f.event_key_arns(e):
            if k.rsplit("/", 1)[-1] != target:
                others.add(k)
                evidence.append(
                    Evidence(
                        "cloudtrail:LookupEvents",
                        f"{e.get('eventName')} at {e.get('eventTime')} {'via ' + alias if via_alias else 'with the same context'} used key {k}",
                    )
                )
    incorrect = ctx.signal_code("IncorrectKeyException")
    if not evidence and not incorrect:
        return None
    if incorrect:
        # IncorrectKeyException for a KeyId that is an alias: the alias's key did not encrypt the
        # ciphertext (ct-decrypt.html; catalog #53 "an alias repointed by UpdateAlias").
        evidence.append(ctx.signal_evidence())
    evidence.insert(
        0,
        Evidence(
            "kms:ListAliases",
            f"{alias} now targets key {target}"
            + (
                f" (last updated {entry.get('LastUpdatedDate')})"
                if entry and entry.get("LastUpdatedDate")
                else ""
            ),
        ),
    )
    for e in f.kms_events(("UpdateAlias",)):
        if alias in str(e.get("requestParameters")):
            evidence.append(
                Evidence(
                    "cloudtrail:LookupEvents",
                    f"UpdateAlias of {alias} at {e.get('eventTime')} by {(e.get('userIdentity') or {}).get('arn', '?')}",
                )
            )
    old = sorted(others)[0] if others else "<key-arn-that-encrypted-the-data>"
    return ctx.finding(
        META,
        f"Alias {alias} now points to key {target}, but the data {ctx.who} needs was encrypted under {old if others else 'another key'}; "
        "pass that key's ARN (or point the alias back if it was changed by mistake).",
        evidence,
        Fix(
            summary=f"Decrypt with {old if others else 'the key that encrypted the data (find it in CloudTrail)'}, or repoint {alias} to it if the change was a mistake.",
            cli=(
                f"aws cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=UpdateAlias{region_flag(f, f.region)}\n"
                if not others
                else ""
            )
            + (
                f"aws kms update-alias --alias-name {sh(alias)} --target-key-id {sh(old.rsplit('/', 1)[-1])}{region_flag(f, f.region)}"
                if others
                # Symmetric ciphertext names its key: without KeyId KMS uses the right one.
                else f"aws kms decrypt --ciphertext-blob fileb://ciphertext.bin{region_flag(f, f.region)}"
            ),
            terraform=(
                (
                    ""
                    if others
                    else tf_variable("encrypting_key_id", "the key that encrypted the data")
                )
                + f'resource "aws_kms_alias" "{alias.removeprefix("alias/").replace("-", "_").replace("/", "_")}" {{\n'
                f'  name          = "{alias}"\n'
                + (
                    f'  target_key_id = "{old.rsplit("/", 1)[-1]}"\n'
                    if others
                    else "  target_key_id = var.encrypting_key_id\n"
                )
                + "}"
            ),
        ),
    )
