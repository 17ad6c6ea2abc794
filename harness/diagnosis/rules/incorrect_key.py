"""The KeyId passed is not the key that encrypted the ciphertext (catalog #53)."""

from __future__ import annotations

from harness.aws import arns
from harness.diagnosis.callfixes import caller_fix, cli_call
from harness.diagnosis.context import Context
from harness.diagnosis.fixes import tf_variable
from harness.diagnosis.model import Evidence, Finding
from harness.diagnosis.registry import Explains, RuleMeta
from harness.diagnosis.rules._crypto import DECRYPTING, event_context, same_key

META = RuleMeta(
    code="INCORRECT_KEY",
    runbook_step="extra",
    severity="error",
    title="Wrong key for the ciphertext",
    reads=("cloudtrail:LookupEvents", "kms:DescribeKey"),
    catalog=("E53",),
    meaning="the KeyId passed is not the key that encrypted the ciphertext",
    phase="ciphertext",
    node="crypto",
    fixes=("aws kms {operation}",),
    explains=Explains(
        errors=frozenset({"IncorrectKeyException", "InvalidCiphertextException"}), ambiguous=True
    ),
)


def _encrypting_key(ctx: Context) -> tuple[str, dict[str, object]] | None:
    """The key of the latest Encrypt event with the request's (non-empty) context, if not ours."""
    f = ctx.facts
    if not f.encryption_context:
        return None
    hits = [e for e in f.encrypt_events if event_context(e) == f.encryption_context]
    if not hits or any(same_key(ctx, a) for e in hits for a in f.event_key_arns(e)):
        return None
    event = hits[-1]
    keys = f.event_key_arns(event)
    return (keys[0], event) if keys else None


def check(ctx: Context) -> Finding | None:
    f = ctx.facts
    if f.action.lower() not in DECRYPTING:
        return None
    evidence = []
    if ctx.signal_code("IncorrectKeyException"):
        evidence.append(ctx.signal_evidence())
    other = _encrypting_key(ctx) if (ctx.signal or evidence) else None
    if other:
        key, event = other
        evidence.append(
            Evidence(
                "cloudtrail:LookupEvents",
                f"{event.get('eventName')} at {event.get('eventTime')} with the same encryption context used key {key}, not {ctx.key}",
            )
        )
    if not evidence:
        return None
    right = other[0] if other else "<key-arn-that-encrypted-the-data>"
    return ctx.finding(
        META,
        f"{ctx.who} passed KeyId {f.request_key or ctx.key} to {ctx.action}, but the ciphertext was encrypted under "
        f"{'key ' + right if other else 'another key'}; pass that key (or omit KeyId for symmetric ciphertext).",
        evidence,
        caller_fix(
            f,
            f"Decrypt with the key that encrypted the data ({right}); for symmetric keys KeyId may be omitted.",
            # Without the right key's ARN, symmetric ciphertext names its key itself: omit KeyId.
            cli_call(
                f, key=right if other else "", region=arns.region_of(right) if other else None
            ),
            (
                f'data "aws_kms_key" "encrypting_key" {{\n  key_id = "{right}"\n}}'
                if other
                else tf_variable("encrypting_key_arn", "ARN of the key that encrypted the data")
                + 'data "aws_kms_key" "encrypting_key" {\n  key_id = var.encrypting_key_arn\n}'
            ),
        ),
    )
