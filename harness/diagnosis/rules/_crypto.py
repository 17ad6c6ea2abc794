"""Ciphertext-side evidence: the CloudTrail event that produced the ciphertext (ct-decrypt.html)."""

from __future__ import annotations

from typing import Any

from harness.diagnosis.context import Context

DECRYPTING = ("kms:decrypt", "kms:reencrypt", "kms:reencryptfrom")


def same_key(ctx: Context, key_arn: str) -> bool:
    f = ctx.facts
    kid = key_arn.rsplit("/", 1)[-1]
    return bool(f.key_arn and key_arn == f.key_arn) or bool(f.key_id and kid == f.key_id)


def event_context(event: dict[str, Any]) -> dict[str, str]:
    ec = (event.get("requestParameters") or {}).get("encryptionContext")
    return ec if isinstance(ec, dict) else {}


def producing_events(ctx: Context) -> list[dict[str, Any]]:
    """Successful Encrypt/GenerateDataKey* events under the key the request names."""
    return [
        e
        for e in ctx.facts.encrypt_events
        if any(same_key(ctx, a) for a in ctx.facts.event_key_arns(e))
    ]


def context_matches(ctx: Context) -> bool | None:
    """Whether some producing event used exactly the request's context (None: no evidence)."""
    events = producing_events(ctx)
    if not events:
        return None
    return any(event_context(e) == ctx.facts.encryption_context for e in events)


def invalid_ciphertext(ctx: Context) -> bool:
    return (
        bool(ctx.signal_code("InvalidCiphertextException"))
        and ctx.facts.action.lower() in DECRYPTING
    )
