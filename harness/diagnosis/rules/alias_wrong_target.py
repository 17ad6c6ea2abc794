"""The alias used points to a different key than the one that encrypted the data (#53, #33)."""

from __future__ import annotations

from typing import Any

from harness.aws import arns
from harness.diagnosis.appliers import key_applier
from harness.diagnosis.callfixes import caller_fix, cli_call
from harness.diagnosis.context import Context
from harness.diagnosis.fixes import applier_notes, region_flag, sh, tf_name, tf_variable
from harness.diagnosis.model import Evidence, Finding, Fix
from harness.diagnosis.registry import Explains, RuleMeta
from harness.diagnosis.rules._crypto import event_context
from harness.diagnosis.rules._policy import identity_key_arns

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
    fixes=("aws kms update-alias", "aws kms {operation}"),
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
    if not resolved or here != f.principal_account:
        return None
    stated = str(f.request.get("key_account") or "")
    meant = "" if stated == here else stated
    theirs = None
    for call in f.find("kms", "ListAliases"):
        if call.account in (None, here) or not call.ok:
            continue
        for a in (call.response or {}).get("Aliases") or []:
            if isinstance(a, dict) and a.get("AliasName") == alias and a.get("TargetKeyId"):
                theirs = (str(call.account), call.region, str(a["TargetKeyId"]))
    if theirs is not None:
        meant = meant if meant and meant != here else theirs[0]
    # Without the other account's aliases, the caller's identity policy may still name the key
    # meant: the one key of another account it allows this action on.
    named = [
        (k, src)
        for k, src in identity_key_arns(f, ctx.action)
        if arns.account_of(k) not in (here, None) and (not meant or arns.account_of(k) == meant)
    ]
    # A key account stated as the caller's own is believed unless KMS itself said the key the
    # name reached did not encrypt the data.
    believed = stated != here or bool(ctx.signal_code("IncorrectKeyException"))
    iam_named = named[0] if theirs is None and len(named) == 1 and believed else None
    if iam_named is not None:
        meant = str(arns.account_of(iam_named[0]))
    if not meant or meant == here:
        return None
    region = theirs[1] if theirs else f.region
    meant_ref = (
        f"arn:aws:kms:{region}:{meant}:key/{theirs[2]}"
        if theirs
        else iam_named[0]
        if iam_named
        else f"arn:aws:kms:{region}:{meant}:{alias}"
    )
    evidence = [
        Evidence(
            "kms:DescribeKey",
            f"{alias} (a name, not an ARN) resolved in the caller's account {here} to {resolved}",
        ),
        Evidence(
            "kms:ListAliases" if theirs else iam_named[1] if iam_named else "request",
            f"account {meant} has {alias} targeting key {theirs[2]}"
            if theirs
            else f"the caller's identity policy allows {ctx.action} on {meant_ref}, its only key in another account"
            if iam_named
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
        caller_fix(
            f,
            f"Call {ctx.action.split(':')[-1]} with {meant_ref}, the key the application meant, "
            f"instead of the alias name {alias} (an alias name always resolves in the caller's "
            f"account: here it reached {resolved}).",
            cli_call(f, key=meant_ref, region=arns.region_of(meant_ref) or region),
            f'data "aws_kms_key" "meant" {{\n  key_id = "{meant_ref}"\n}}',
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
        _repoint_fix(f, alias, old) if others else _decrypt_fix(f, alias),
    )


def _repoint_fix(f: Any, alias: str, old: str) -> Fix:
    """The alias back on the key that encrypted the data (CloudTrail shows it): an UpdateAlias by
    a principal the key policy lets call it; the application's call then works unchanged."""
    applier = key_applier(f, "kms:UpdateAlias")
    return Fix(
        summary=f"Point {alias} back to {old}, the key that encrypted the data (or decrypt with that key's ARN).",
        cli=f"aws kms update-alias --alias-name {sh(alias)} --target-key-id {sh(old.rsplit('/', 1)[-1])}{region_flag(f, f.region)}",
        terraform=f'resource "aws_kms_alias" "{tf_name(alias.removeprefix("alias/"))}" {{\n'
        f'  name          = "{alias}"\n  target_key_id = "{old.rsplit("/", 1)[-1]}"\n}}',
        applied_by=applier.arn,
        applied_by_reason=applier.how,
        notes=applier_notes(applier),
    )


def _decrypt_fix(f: Any, alias: str) -> Fix:
    """Which key encrypted the data is not in the evidence, but symmetric ciphertext names its
    key: the same Decrypt without KeyId uses the right one (API_Decrypt.html, KeyId)."""
    return caller_fix(
        f,
        f"Decrypt without naming {alias} (symmetric ciphertext names the key that encrypted it), "
        "then name that key's ARN, or point the alias back to it if the change was a mistake.",
        cli_call(f, key="", region=f.region),
        tf_variable("encrypting_key_id", "the key that encrypted the data")
        + f'resource "aws_kms_alias" "{tf_name(alias.removeprefix("alias/"))}" {{\n'
        f'  name          = "{alias}"\n  target_key_id = var.encrypting_key_id\n}}',
    )
