"""PutKeyPolicy / CreateKey / ReplicateKey policy validation as KMS does it (API_PutKeyPolicy.html):
JSON syntax, principals that exist, the size limit and the lockout safety check."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from harness.aws import arns
from harness.lab.errors import AwsError

# key-policy-overview.html "Key policy format": up to 32 KB (32,768 bytes).
MAX_POLICY_BYTES = 32768
INVALID_PRINCIPALS = "Policy contains a statement with one or more invalid principals."
LOCKOUT = "The new key policy will not allow you to update the key policy in the future."


def malformed(message: str) -> AwsError:
    return AwsError("MalformedPolicyDocumentException", message)


def parse_policy(text: Any) -> dict[str, Any]:
    if not isinstance(text, str):
        raise malformed("The policy is not a JSON string.")
    if len(text.encode()) > MAX_POLICY_BYTES:
        raise AwsError(
            "LimitExceededException",
            f"The key policy is {len(text.encode())} bytes, more than the maximum of "
            f"{MAX_POLICY_BYTES} bytes.",
        )
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise malformed("The policy document is not valid JSON.") from exc
    if not isinstance(doc, dict):
        raise malformed("The policy document must be a JSON object.")
    statements = doc.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise malformed("The policy document must contain a Statement.")
    for index, st in enumerate(statements):
        if not isinstance(st, dict):
            raise malformed(f"Statement {index} is not an object.")
        if st.get("Effect") not in ("Allow", "Deny"):
            raise malformed(f"Statement {index} has an invalid Effect.")
        if "Principal" not in st and "NotPrincipal" not in st:
            raise malformed(f"Statement {index} has no Principal.")
    return doc


def principals_of(statement: dict[str, Any]) -> list[str]:
    value = statement.get("Principal", statement.get("NotPrincipal"))
    if value == "*":
        return ["*"]
    out: list[str] = []
    if isinstance(value, dict):
        for kind, items in value.items():
            items = items if isinstance(items, list) else [items]
            for item in items:
                out.append(f"{kind}:{item}")
    return out


def principal_valid(entry: str, exists: Callable[[str], bool]) -> bool:
    kind, _, value = entry.partition(":")
    if entry == "*":
        return True
    if kind == "Service":
        return arns.is_service_principal(value)
    if kind == "Federated":
        return bool(value)
    if kind == "CanonicalUser":
        return bool(value)
    if kind != "AWS":
        return False
    if value == "*" or arns.is_account_id(value):
        return True
    parsed = arns.parse(value)
    if parsed is None or parsed.partition != "aws" or arns.iam_principal_arn(value) is None:
        return False  # bare unique ids (AROA.../AIDA...) of deleted principals are invalid
    if "*" in parsed.resource or "?" in parsed.resource:
        return False
    if parsed.resource == "root":
        return True
    return exists(value)


def validate_key_policy(
    text: Any,
    principal: Any,
    key_arn: str,
    bypass: bool,
    exists: Callable[[str], bool],
    lockout_allows: Callable[[Any, dict[str, Any], str], bool],
) -> dict[str, Any]:
    doc = parse_policy(text)
    statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    for st in statements:
        for entry in principals_of(st):
            if not principal_valid(entry, exists):
                raise malformed(INVALID_PRINCIPALS)
    if not bypass and not lockout_allows(principal, doc, key_arn):
        raise malformed(LOCKOUT)
    return doc
