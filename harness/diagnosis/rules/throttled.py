"""Request rate over the KMS quota: ThrottlingException (throttling.html; catalog #64)."""

from __future__ import annotations

from harness.diagnosis.context import Context
from harness.diagnosis.model import Evidence, Finding, Fix
from harness.diagnosis.registry import RuleMeta

META = RuleMeta(
    code="THROTTLED",
    runbook_step="extra",
    severity="warning",
    title="Throttled",
    reads=("cloudtrail:LookupEvents",),
    catalog=("G64",),
)


def check(ctx: Context) -> Finding | None:
    evidence = []
    observed = bool(ctx.signal_code("ThrottlingException"))
    if observed:
        evidence.append(ctx.signal_evidence())
    throttled = ctx.cloudtrail_errors("ThrottlingException")
    if throttled:
        evidence.append(
            Evidence(
                "cloudtrail:LookupEvents",
                f"{len(throttled)} KMS calls throttled between {throttled[0].get('eventTime')} and {throttled[-1].get('eventTime')}",
            )
        )
    if not evidence:
        return None
    region = ctx.facts.region or "us-east-1"
    return ctx.finding(
        META,
        f"{ctx.who} exceeds the KMS request rate in {region} (calls on {ctx.key} are throttled); back off and cache data keys.",
        evidence,
        Fix(
            summary="Retry with exponential backoff, cache data keys, enable S3 Bucket Keys, or request a higher quota.",
            cli=f"aws service-quotas list-service-quotas --service-code kms --region {region} --query \"Quotas[?contains(QuotaName,'Cryptographic')]\"",
            terraform=(
                'resource "aws_s3_bucket_server_side_encryption_configuration" "bucket_key" {\n'
                "  bucket = var.bucket\n"
                "  rule {\n"
                "    apply_server_side_encryption_by_default {\n"
                '      sse_algorithm     = "aws:kms"\n'
                f'      kms_master_key_id = "{ctx.key}"\n'
                "    }\n"
                "    bucket_key_enabled = true  # one KMS call per bucket key instead of per object\n"
                "  }\n"
                "}"
            ),
        ),
        severity="error" if observed else "warning",
    )
