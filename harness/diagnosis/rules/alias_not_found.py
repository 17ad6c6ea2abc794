"""The alias does not exist where KMS resolved it: alias names resolve in the caller's account."""

from __future__ import annotations

import difflib

from harness.diagnosis.appliers import key_applier
from harness.diagnosis.callfixes import caller_fix, cli_call
from harness.diagnosis.context import Context
from harness.diagnosis.facts import Facts
from harness.diagnosis.fixes import applier_notes, region_flag, sh, tf_name, tf_variable
from harness.diagnosis.model import Finding, Fix
from harness.diagnosis.registry import Explains, RuleMeta
from harness.diagnosis.rules._resolution import resolution

META = RuleMeta(
    code="ALIAS_NOT_FOUND",
    runbook_step=6,
    severity="error",
    title="Alias not found",
    reads=("kms:DescribeKey", "kms:ListAliases"),
    catalog=("A14",),
    meaning="the alias does not exist where it was resolved (e.g. an alias name used cross-account)",
    phase="resolution",
    # The Region and the replica are resolved before the alias name within them.
    after=("MULTI_REGION_REPLICA_MISSING",),
    node="resolve",
    fixes=("aws kms create-alias", "aws kms {operation}"),
    explains=Explains(errors=frozenset({"NotFoundException"})),
)


def check(ctx: Context) -> Finding | None:
    res = resolution(ctx)
    if res is None or res.code != META.code:
        return None
    f = ctx.facts
    owner = f.request.get("key_account") if res.cross_account else None
    if res.cross_account:
        summary = (
            f"{ctx.who} passed alias name {res.alias}, which KMS looks up in the caller's account "
            f"{f.principal_account}, not in the key owner's account {owner}; pass the key ARN (or alias ARN) instead."
        )
        fix_summary = f"Use the full key ARN (or arn:aws:kms:{f.region}:{owner}:{res.alias}) for cross-account calls."
        # The application's call, naming the alias by its ARN in the owner's account.
        cli = cli_call(f, key=f"arn:aws:kms:{f.region}:{owner}:{res.alias}", region=f.region)
    else:
        summary = (
            f"Alias {res.alias} does not exist in account {f.principal_account} and Region {f.region}; "
            f"{ctx.who} should create it or call {ctx.action} with the key ARN."
        )
        near = _near_alias(f, res.alias)
        if near is not None:
            # The evidence names the key meant: the alias of nearly the same name (a typo).
            name, target = near
            applier = key_applier(f, "kms:CreateAlias")
            fix_summary = (
                f"Create {res.alias} for key {target}, the key {name} names (a one-letter "
                f"difference), or pass {name} instead."
            )
            cli = f"aws kms create-alias --alias-name {sh(res.alias)} --target-key-id {sh(target)}{region_flag(f, f.region)}"
            return ctx.finding(
                META,
                summary,
                res.evidence,
                Fix(
                    summary=fix_summary,
                    cli=cli,
                    terraform=f'resource "aws_kms_alias" "{tf_name(res.alias.removeprefix("alias/"))}" {{\n'
                    f'  name          = "{res.alias}"\n  target_key_id = "{target}"\n}}',
                    applied_by=applier.arn,
                    applied_by_reason=applier.how,
                    notes=applier_notes(applier),
                ),
            )
        fix_summary = f"Create {res.alias} for the intended key, or pass the key ARN."
        # Which key was meant is not in the evidence: INTENDED_KEY_ID is the person's to supply.
        cli = f'aws kms create-alias --alias-name {sh(res.alias)} --target-key-id "$INTENDED_KEY_ID"{region_flag(f, f.region)}'
    return ctx.finding(
        META,
        summary,
        res.evidence,
        (caller_fix if res.cross_account else _plain_fix)(
            f,
            fix_summary,
            cli,
            (
                tf_variable("intended_key_id", f"the key {res.alias} should name")
                + f'resource "aws_kms_alias" "{tf_name(res.alias.removeprefix("alias/"))}" {{\n'
                f'  name          = "{res.alias}"\n'
                "  target_key_id = var.intended_key_id\n"
                "}"
                if not res.cross_account
                else f'data "aws_kms_key" "shared" {{\n  key_id = "arn:aws:kms:{f.region}:{owner}:{res.alias}"\n}}'
            ),
        ),
    )


def _plain_fix(f: Facts, summary: str, cli: str, terraform: str) -> Fix:
    return Fix(summary=summary, cli=cli, terraform=terraform)


def _near_alias(f: Facts, alias: str) -> tuple[str, str] | None:
    """(name, target key id) of the one alias the bundle listed in the caller's account whose
    name is nearly the one requested."""
    names = {
        str(a.get("AliasName")): str(a.get("TargetKeyId"))
        for a in f.aliases
        if a.get("TargetKeyId") and not str(a.get("AliasName")).startswith("alias/aws/")
    }
    close = difflib.get_close_matches(alias, list(names), n=2, cutoff=0.85)
    return (close[0], names[close[0]]) if len(close) == 1 else None
