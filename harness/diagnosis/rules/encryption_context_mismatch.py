"""Decrypt with an encryption context other than the one used to encrypt (catalog #27)."""

from __future__ import annotations

import json

from harness.diagnosis.callfixes import caller_fix, cli_call
from harness.diagnosis.context import Context
from harness.diagnosis.fixes import tf_variable
from harness.diagnosis.model import Evidence, Finding
from harness.diagnosis.registry import Explains, RuleMeta
from harness.diagnosis.rules._crypto import (
    context_matches,
    event_context,
    invalid_ciphertext,
    producing_events,
)

META = RuleMeta(
    code="ENCRYPTION_CONTEXT_MISMATCH",
    runbook_step="extra",
    severity="error",
    title="Encryption context differs from encryption",
    reads=("cloudtrail:LookupEvents",),
    catalog=("B27",),
    meaning="decrypt with an encryption context different from the one used to encrypt",
    phase="ciphertext",
    # A different key explains an InvalidCiphertextException before the context does.
    after=("INCORRECT_KEY",),
    node="crypto",
    fixes=("aws kms {operation}",),
    explains=Explains(errors=frozenset({"InvalidCiphertextException"})),
)


def _diff(used: dict[str, str], sent: dict[str, str]) -> str:
    parts = []
    for k in sorted(set(used) | set(sent)):
        if k not in sent:
            lower = {x.lower(): x for x in sent}
            parts.append(
                f"missing {k}"
                + (
                    f" (sent as {lower[k.lower()]}: keys are case-sensitive)"
                    if k.lower() in lower
                    else ""
                )
            )
        elif k not in used:
            parts.append(f"extra {k}")
        elif used[k] != sent[k]:
            parts.append(f"{k}: {sent[k]!r} instead of {used[k]!r}")
    return "; ".join(parts)


def check(ctx: Context) -> Finding | None:
    if not invalid_ciphertext(ctx) or context_matches(ctx) is not False:
        return None
    f = ctx.facts
    event = producing_events(ctx)[-1]
    used = event_context(event)
    evidence = [
        ctx.signal_evidence(),
        Evidence(
            "cloudtrail:LookupEvents",
            f"{event.get('eventName')} at {event.get('eventTime')} encrypted under this key with context {json.dumps(used, sort_keys=True)}",
        ),
        Evidence(
            "request",
            f"the decrypt sends context {json.dumps(f.encryption_context, sort_keys=True)}: {_diff(used, f.encryption_context)}",
        ),
    ]
    return ctx.finding(
        META,
        f"{ctx.who} decrypts with encryption context {json.dumps(f.encryption_context, sort_keys=True)} but the data under {ctx.key} "
        f"was encrypted with {json.dumps(used, sort_keys=True)}; send the identical, case-sensitive context.",
        evidence,
        caller_fix(
            f,
            f"Pass exactly the encryption context used at encryption: {json.dumps(used, sort_keys=True)}.",
            cli_call(f, context=dict(sorted(used.items()))),
            (
                tf_variable(
                    "ciphertext_base64",
                    "base64 of the raw CiphertextBlob, encoded once",
                    sensitive=True,
                )
                + 'data "aws_kms_secrets" "decrypt" {\n'
                "  secret {\n"
                '    name    = "value"\n'
                "    payload = var.ciphertext_base64\n"
                f"    context = {json.dumps(used)}\n"
                "  }\n"
                "}"
            ),
        ),
    )
