"""Keep credentials, plaintext and ciphertext out of recorded responses.

Read operations do not return key material, but CloudTrail events do carry session
credentials (AssumeRole's responseElements) and an emulator may log more than AWS does;
both arrive as JSON inside strings, so those strings are parsed and scrubbed too.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

SCRUBBED = "<scrubbed>"

# Field names (compared case-insensitively) whose values are secrets or data, never evidence.
SECRET_FIELDS = frozenset(
    name.lower()
    for name in (
        "SecretAccessKey",
        "SessionToken",
        "AccessKeyId",
        "Password",
        "Plaintext",
        "CiphertextBlob",
        "SourceCiphertextBlob",
        "CiphertextForRecipient",
        "PrivateKeyPlaintext",
        "PrivateKeyCiphertextBlob",
        "KeyMaterial",
        "EncryptedKeyMaterial",
        "ImportToken",
        "GrantToken",
        "GrantTokens",
        "Signature",
        "Mac",
        "X-Amz-Security-Token",
        "Authorization",
    )
)
# Strings that hold JSON documents worth scrubbing inside (CloudTrail events, log lines).
JSON_STRING_FIELDS = frozenset({"CloudTrailEvent", "message"})


def to_jsonable(value: Any) -> Any:
    """boto3 values as JSON: datetimes as ISO-8601, blobs as base64 (contract section 3)."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def scrub(value: Any) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key.lower() in SECRET_FIELDS and item not in (None, "", [], {}):
                out[key] = SCRUBBED
            elif key in JSON_STRING_FIELDS and isinstance(item, str):
                out[key] = _scrub_json_string(item)
            else:
                out[key] = scrub(item)
        return out
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def _scrub_json_string(text: str) -> str:
    stripped = text.lstrip()
    if not stripped.startswith("{"):
        return text
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    cleaned = scrub(parsed)
    return text if cleaned == parsed else json.dumps(cleaned, separators=(",", ":"))
