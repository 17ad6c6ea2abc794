"""AWS Health reports an open KMS issue in the Region (runbook Diagnosis step 1)."""

from __future__ import annotations

from harness.aws.codes import RETRYABLE_KMS_CODES
from harness.diagnosis import messages
from harness.diagnosis.callfixes import retry_fix
from harness.diagnosis.context import Context
from harness.diagnosis.model import Evidence, Finding
from harness.diagnosis.registry import Explains, RuleMeta

META = RuleMeta(
    code="KMS_SERVICE_EVENT",
    runbook_step=1,
    severity="warning",
    title="AWS Health KMS event",
    reads=("health:DescribeEvents",),
    catalog=("G65",),
    meaning="AWS Health reports a KMS issue in the region",
    phase="admission",
    # AWS authenticates the request before anything else (no policy is read on refusal).
    after=("CREDENTIALS_INVALID",),
    node="service",
    fixes=("aws kms {operation}",),
    explains=Explains(errors=RETRYABLE_KMS_CODES | {"ThrottlingException"}),
)


def check(ctx: Context) -> Finding | None:
    events = ctx.facts.health_events
    if not events:
        return None
    evidence = [
        Evidence(
            "health:DescribeEvents",
            f"{e.get('eventTypeCode', 'KMS issue')} ({e.get('statusCode', 'open')}) in {e.get('region') or ctx.facts.region} since {e.get('startTime', '?')}",
        )
        for e in events
    ]
    # Throttling and retryable errors during an open event are the event's (runbook step 1).
    retryable = bool(ctx.signal and ctx.signal.code in messages.RETRYABLE | {"ThrottlingException"})
    if retryable:
        evidence.append(ctx.signal_evidence())
    arn = events[0].get("arn", "<event-arn>")
    return ctx.finding(
        META,
        f"AWS Health reports an open KMS issue in {ctx.facts.region}; {ctx.who}'s failures on {ctx.key} may be AWS-side: monitor it and retry with backoff.",
        evidence,
        retry_fix(
            ctx.facts,
            "No configuration change: follow the Health event, retry with backoff, and fail over to another Region if the workload allows.",
            f"aws health describe-event-details --event-arns {arn} --region us-east-1",
            (
                'resource "aws_cloudwatch_event_rule" "kms_health" {\n'
                '  name          = "kms-health-events"\n'
                '  event_pattern = jsonencode({ source = ["aws.health"], detail = { service = ["KMS"] } })\n'
                "}"
            ),
        ),
        severity="error" if retryable else "warning",
    )
