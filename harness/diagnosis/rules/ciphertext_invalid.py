"""Ciphertext damaged, mis-encoded or not a KMS ciphertext (catalog #54)."""

from __future__ import annotations

from harness.diagnosis.callfixes import caller_fix, cli_call
from harness.diagnosis.context import Context
from harness.diagnosis.fixes import tf_variable
from harness.diagnosis.model import Evidence, Finding
from harness.diagnosis.registry import Explains, RuleMeta
from harness.diagnosis.rules._crypto import context_matches, invalid_ciphertext

META = RuleMeta(
    code="CIPHERTEXT_INVALID",
    runbook_step="extra",
    severity="error",
    title="Ciphertext invalid",
    reads=("cloudtrail:LookupEvents",),
    catalog=("E54", "E56"),
    meaning="ciphertext damaged, mis-encoded or not a KMS ciphertext",
    phase="ciphertext",
    # A damaged ciphertext is what is left when the key and the context fit.
    after=("ENCRYPTION_CONTEXT_MISMATCH",),
    node="crypto",
    fixes=("aws kms {operation}",),
    explains=Explains(errors=frozenset({"InvalidCiphertextException"})),
)


def check(ctx: Context) -> Finding | None:
    if not invalid_ciphertext(ctx) or context_matches(ctx) is False:
        return None
    f = ctx.facts
    evidence = [ctx.signal_evidence()]
    ct = f.ciphertext or {}
    text = bool(ct.get("base64_of_kms_blob")) or ct.get("kms_blob") is False
    if ct.get("kms_blob") is False:
        evidence.append(
            Evidence(
                "request",
                f"the ciphertext ({ct.get('length', '?')} bytes) does not start like a raw KMS ciphertext blob (Encryption SDK message, double base64 or text instead of binary?)",
            )
        )
    elif ct:
        evidence.append(
            Evidence(
                "request",
                f"ciphertext of {ct.get('length', '?')} bytes that looks like a KMS blob: damaged or truncated in transit?",
            )
        )
    if context_matches(ctx):
        evidence.append(
            Evidence(
                "cloudtrail:LookupEvents",
                "an Encrypt event under this key used the same encryption context, so the context is not the cause",
            )
        )
    return ctx.finding(
        META,
        f"KMS rejects the ciphertext {ctx.who} sent to {ctx.action} for {ctx.key} as invalid; pass the exact bytes "
        "KMS returned at encryption (binary, decoded once).",
        evidence,
        caller_fix(
            f,
            "Pass the raw ciphertext bytes (fileb:// with the CLI, base64-decode exactly once), or decrypt with the library that produced it."
            if text
            else "Pass the complete ciphertext exactly as KMS returned it (ciphertext.bin: the stored bytes, not a truncated or re-encoded copy).",
            # Text where bytes belong: decode once (ciphertext.b64 is what the application sent);
            # bytes that look like a KMS blob were cut or changed on the way: the stored original.
            ("base64 --decode ciphertext.b64 > ciphertext.bin\n" if text else "") + cli_call(f),
            (
                tf_variable(
                    "ciphertext_base64",
                    "base64 of the raw CiphertextBlob, encoded once",
                    sensitive=True,
                )
                + 'data "aws_kms_secrets" "decrypt" {\n'
                "  secret {\n"
                '    name    = "value"\n'
                "    payload = var.ciphertext_base64  # base64 of the raw CiphertextBlob, encoded once\n"
                "  }\n"
                "}"
            ),
        ),
    )
