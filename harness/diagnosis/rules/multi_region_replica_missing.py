"""A multi-Region key has no replica in the Region called (multi-region-keys-overview.html)."""

from __future__ import annotations

from harness.diagnosis.context import Context
from harness.diagnosis.fixes import sh
from harness.diagnosis.model import Finding, Fix
from harness.diagnosis.registry import Explains, RuleMeta
from harness.diagnosis.rules._resolution import resolution

META = RuleMeta(
    code="MULTI_REGION_REPLICA_MISSING",
    runbook_step="extra",
    severity="error",
    title="No multi-Region replica in the Region",
    reads=("kms:DescribeKey",),
    catalog=("E51",),
    meaning="multi-Region key has no replica in the region called",
    phase="resolution",
    # A key that lives in another Region explains the NotFound before a replica missing there.
    after=("WRONG_REGION",),
    node="resolve",
    fixes=("aws kms replicate-key",),
    explains=Explains(errors=frozenset({"NotFoundException"})),
)


def check(ctx: Context) -> Finding | None:
    res = resolution(ctx)
    if res is None or res.code != META.code:
        return None
    f = ctx.facts
    key = res.other_arn or f.request_key
    # Unknown when no copy of the key was read: the person looks it up (DescribeKey elsewhere).
    primary_region = res.key_region if not res.key_region.startswith("<") else '"$PRIMARY_REGION"'
    return ctx.finding(
        META,
        f"Multi-Region key {key} has no replica in {f.region}"
        + (f" (copies: {', '.join(res.replica_regions)})" if res.replica_regions else "")
        + "; "
        f"replicate it there so {ctx.who} can call {ctx.action} in {f.region}.",
        res.evidence,
        Fix(
            summary=f"Replicate the key to {f.region} from its primary Region (then give the replica the same key policy), or call a Region that has a copy.",
            # A multi-Region key has the same id in every Region; ReplicateKey runs in the primary's.
            cli=f"aws kms replicate-key --key-id {sh(key.rsplit('/', 1)[-1])} --replica-region {f.region} "
            f"--region {primary_region}",
            terraform=(
                # The replica is created by a provider of the Region that lacks it.
                f'provider "aws" {{\n  alias  = "{f.region.replace("-", "_")}"\n  region = "{f.region}"\n}}\n\n'
                'resource "aws_kms_replica_key" "replica" {\n'
                f"  provider        = aws.{f.region.replace('-', '_')}\n"
                f'  primary_key_arn = "{key}"\n'
                "}"
            ),
        ),
    )
