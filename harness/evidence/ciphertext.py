"""Facts about a ciphertext taken from its bytes, never the bytes themselves.

The evidence bundle may carry how long the ciphertext was and whether it looks like a raw
KMS symmetric ciphertext blob (contract: `request.ciphertext`). Those facts must come from the
bytes the caller passed, not from what anyone says happened to them.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

# Shortest raw blob worth calling a KMS blob: the 5 header bytes plus AES-GCM's 12-byte IV and
# 16-byte tag around at least one byte (API_Encrypt.html: a CiphertextBlob is 1 to 6144 bytes,
# so the bound is ours, chosen to reject headers alone).
MIN_BLOB = 5 + 12 + 16 + 1
BASE64_TEXT = re.compile(rb"^[A-Za-z0-9+/]+={0,2}\s*$")


def looks_like_kms_blob(blob: bytes) -> bool:
    """Whether `blob` starts the way raw KMS symmetric ciphertext blobs are seen to start.

    A heuristic only, tagged [V] in the KMS failure catalog (row 54 and open item 8.6): AWS
    does not document the blob format. Public raw symmetric blobs decode to
    ``01 0x 0y 00 78 ...`` (base64 ``AQECAH...``, ``AQICAH...``, ``AQIDAH...``), i.e. a first
    byte 01, second byte 01 or 02, third byte 02 or 03, then ``00 78``. An AWS Encryption SDK
    message, S3 client-side envelope, base64 text or any other bytes fail the check; a
    truncated or bit-flipped raw blob still passes (its header is intact).
    """
    return (
        len(blob) >= MIN_BLOB
        and blob[0] == 0x01
        and blob[1] in (0x01, 0x02)
        and blob[2] in (0x02, 0x03)
        and blob[3:5] == b"\x00\x78"
    )


def decoded_base64(blob: bytes) -> bytes | None:
    """The bytes `blob` encodes when it is base64 text, else None."""
    if not BASE64_TEXT.match(blob):
        return None
    try:
        return base64.b64decode(blob.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def ciphertext_facts(blob: bytes) -> dict[str, Any]:
    """Length and form of a ciphertext as the caller passed it to Decrypt or ReEncrypt.

    - ``length``: bytes passed;
    - ``kms_blob``: the bytes look like a raw KMS symmetric ciphertext blob
      (`looks_like_kms_blob`, a [V] heuristic from the catalog's row 54 / section 8.6);
    - ``base64_of_kms_blob``: the bytes are base64 text whose decoding looks like such a blob,
      i.e. the ciphertext was encoded once too often (catalog row 54, "double base64":
      the SDK base64-encodes the blob on the wire itself, API_Decrypt.html).
    """
    decoded = decoded_base64(blob)
    return {
        "length": len(blob),
        "kms_blob": looks_like_kms_blob(blob),
        "base64_of_kms_blob": decoded is not None and looks_like_kms_blob(decoded),
    }
