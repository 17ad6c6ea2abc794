"""The rebuilt call's inputs: the captured ciphertext, how it was damaged, and how the
caller's credentials fail."""

from __future__ import annotations

from typing import Any

from harness.scenarios.rebuild.evidence import Evidence
from harness.scenarios.rebuild.keys import Keys, encrypting_key
from harness.scenarios.rebuild.principals import Book

WRONG_KEY_FINDINGS = {"INCORRECT_KEY", "ALIAS_WRONG_TARGET"}


def captured_data(
    ev: Evidence, book: Book, keys: Keys, operation: str, context: dict[str, str], finding: str
) -> dict[str, Any] | None:
    if operation not in ("Decrypt", "ReEncrypt"):
        return None
    arn, encrypted_with = encrypting_key(ev)
    key_name = None
    if arn:
        key_name = keys.stand_in(arn, "the key that encrypted the data (CloudTrail)")
    elif finding in WRONG_KEY_FINDINGS and "data" in keys.keys:
        # IncorrectKeyException: the ciphertext was made under another key than the one
        # named (API_Decrypt.html), one the bundle does not show.
        spec = keys.keys["data"]
        key_name = "encrypting"
        keys.keys[key_name] = {"account": spec["account"], "region": spec["region"]}
        book.gap(
            "the key that encrypted the data",
            "not in the bundle (no CloudTrail event of the encryption); rebuilt as another "
            "key of the same account and Region, as the error shows",
        )
    if key_name is None:
        key_name = "data" if "data" in keys.keys else None
    if key_name is None:
        book.gap(
            "the ciphertext",
            "neither DescribeKey nor CloudTrail shows the key that encrypted it; the call "
            "is rebuilt without ciphertext",
        )
        return None
    out: dict[str, Any] = {"key": key_name}
    ctx = encrypted_with if encrypted_with is not None else context
    if ctx:
        out["encryption_context"] = {str(k): str(v) for k, v in ctx.items()}
    return out


def damage(request: dict[str, Any], finding: str) -> dict[str, str]:
    """How the caller's ciphertext differed from what KMS returned (request.ciphertext facts)."""
    facts = request.get("ciphertext") or {}
    if facts.get("base64_of_kms_blob"):
        return {"damage": "base64"}
    if facts.get("kms_blob") is False:
        return {"damage": "not-kms"}
    if finding == "CIPHERTEXT_INVALID":
        return {"damage": "truncate"}  # a KMS blob KMS refused: damaged after it was made
    return {}


def spoiled(request: dict[str, Any], session: str | None) -> str:
    """How the rebuilt call's credentials fail like the captured ones (call.credentials)."""
    from harness.diagnosis.rules.credentials_invalid import EXPIRED, UNKNOWN

    code = str((request.get("observed_error") or {}).get("code") or "")
    if code in EXPIRED and session:
        return "expired"
    if code in UNKNOWN:
        return "unknown-token"
    return "wrong-secret"
