"""Request rate over the KMS quota: ThrottlingException (throttling.html; catalog #64)."""

from __future__ import annotations

from harness.diagnosis.callfixes import retry_fix
from harness.diagnosis.context import Context
from harness.diagnosis.fixes import tf_variable
from harness.diagnosis.model import Evidence, Finding, Fix
from harness.diagnosis.registry import Explains, RuleMeta

META = RuleMeta(
    code="THROTTLED",
    runbook_step="extra",
    severity="warning",
    title="Throttled",
    reads=("cloudtrail:LookupEvents",),
    catalog=("G64",),
    meaning="request rate over the KMS quota",
    phase="admission",
    # An open Health event explains the throttling as well; it is the more specific cause.
    after=("KMS_SERVICE_EVENT",),
    node="service",
    fixes=("aws kms {operation}",),
    explains=Explains(errors=frozenset({"ThrottlingException"})),
)


def _fix(ctx: Context, summary: str) -> Fix:
    region = ctx.facts.region or "us-east-1"
    return retry_fix(
        ctx.facts,
        summary,
        f"aws service-quotas list-service-quotas --service-code kms --region {region} --query \"Quotas[?contains(QuotaName,'Cryptographic')]\"",
        (
            tf_variable("bucket", "the S3 bucket whose objects call KMS")
            + 'resource "aws_s3_bucket_server_side_encryption_configuration" "bucket_key" {\n'
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
    # The investigator's reads count against the same per-account quota as the workload
    # (requests-per-second.html): throttled evidence is unreadable for now, not forbidden.
    reads = ctx.facts.throttled_reads
    evidence += [
        Evidence(c.name, f"unreadable: throttled, retry later ({c.error_message or c.error_code})")
        for c in reads
    ]
    if not evidence:
        return None
    region = ctx.facts.region or "us-east-1"
    names = ", ".join(sorted({c.name for c in reads}))
    if observed or not reads:
        later = f"; the investigation's reads of {names} were throttled too" if reads else ""
        return ctx.finding(
            META,
            f"{ctx.who} exceeds the KMS request rate in {region} (calls on {ctx.key} are throttled){later}; back off and cache data keys.",
            evidence,
            _fix(
                ctx,
                "Retry with exponential backoff, cache data keys, enable S3 Bucket Keys, or request a higher quota.",
            ),
            severity="error" if observed else "warning",
        )
    open_ = (
        f"; until then the cause for {ctx.who} cannot be confirmed"
        if ctx.evidence_blocked(throttled=True)
        else ""
    )
    return ctx.finding(
        META,
        f"AWS throttled the investigation's reads of {names} in {region} (the account is over its request rate; not a permission problem): collect the evidence again later{open_}.",
        evidence,
        _fix(
            ctx,
            "Collect the evidence again once the request rate has dropped; if the workload keeps the account at its quota, back off, cache data keys or request a higher quota.",
        ),
        implies="Unknown",
    )
