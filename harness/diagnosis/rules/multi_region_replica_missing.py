"""A multi-Region key has no replica in the Region called (multi-region-keys-overview.html)."""

from __future__ import annotations

from harness.diagnosis.context import Context
from harness.diagnosis.fixes import key_call_fix, sh, tf_variable
from harness.diagnosis.model import Finding
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
    known = bool(res.key_region) and not res.key_region.startswith("<")
    primary_region = res.key_region if known else '"$PRIMARY_REGION"'
    key_id = key.rsplit("/", 1)[-1]
    # The primary's ARN names the primary's Region, not the Region called.
    parts = key.split(":")
    primary_arn = (
        ":".join([*parts[:3], res.key_region, *parts[4:]])
        if known and len(parts) > 5
        else f"arn:aws:kms:${{var.primary_region}}:{f.key_account or f.principal_account}:key/{key_id}"
    )
    return ctx.finding(
        META,
        f"Multi-Region key {key} has no replica in {f.region}"
        + (f" (copies: {', '.join(res.replica_regions)})" if res.replica_regions else "")
        + "; "
        f"replicate it there so {ctx.who} can call {ctx.action} in {f.region}.",
        res.evidence,
        key_call_fix(
            f,
            f"Replicate the key to {f.region} from its primary Region (then give the replica the same key policy), or call a Region that has a copy.",
            # A multi-Region key has the same id in every Region; ReplicateKey runs in the primary's.
            [
                f"aws kms replicate-key --key-id {sh(key_id)} --replica-region {f.region} "
                f"--region {primary_region}"
            ],
            "kms:ReplicateKey",
            (
                ("" if known else tf_variable("primary_region", "Region of the primary key"))
                # The replica is created by a provider of the Region that lacks it.
                + f'provider "aws" {{\n  alias  = "{f.region.replace("-", "_")}"\n  region = "{f.region}"\n}}\n\n'
                'resource "aws_kms_replica_key" "replica" {\n'
                f"  provider        = aws.{f.region.replace('-', '_')}\n"
                f'  primary_key_arn = "{primary_arn}"\n'
                "}"
            ),
        ),
    )
