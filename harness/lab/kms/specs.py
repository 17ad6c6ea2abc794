"""Algorithms per key spec as KMS defines them (symm-asymm-choose-key-spec.html), and the wire
forms of the lab's KMS answers. Key specs and usages are AWS facts: harness.aws.operations."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

SYMMETRIC_ALGORITHMS = ["SYMMETRIC_DEFAULT"]
RSA_ENCRYPTION = ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
RSA_SIGNING = [
    "RSASSA_PSS_SHA_256",
    "RSASSA_PSS_SHA_384",
    "RSASSA_PSS_SHA_512",
    "RSASSA_PKCS1_V1_5_SHA_256",
    "RSASSA_PKCS1_V1_5_SHA_384",
    "RSASSA_PKCS1_V1_5_SHA_512",
]
ECC_SIGNING = {
    "ECC_NIST_P256": ["ECDSA_SHA_256"],
    "ECC_NIST_P384": ["ECDSA_SHA_384"],
    "ECC_NIST_P521": ["ECDSA_SHA_512"],
    "ECC_SECG_P256K1": ["ECDSA_SHA_256"],
}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def ts(value: dt.datetime | None) -> float | None:
    return value.timestamp() if value else None


def page(items: list[Any], params: dict[str, Any], name: str) -> dict[str, Any]:
    """One page of a List* answer: `Limit` items from the `Marker` the previous page gave."""
    limit = params.get("Limit") or 100
    marker = str(params.get("Marker") or "0")
    start = int(marker) if marker.isdigit() else 0
    out: dict[str, Any] = {
        name: items[start : start + limit],
        "Truncated": start + limit < len(items),
    }
    if out["Truncated"]:
        out["NextMarker"] = str(start + limit)
    return out
