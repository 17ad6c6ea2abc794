"""The application's configuration: how its KMS call is made, and the participant's to edit.

Many failures are fixed in the application, not in the account: the key reference it passes
(a key id resolves only in the caller's account), the Region it calls, the encryption
context, the grant token, the service or VPC endpoint it goes through, what it does to the
ciphertext, the session policy it passes to AssumeRole. Each exercise writes an `app.yaml`
with those settings, and `check` makes the call exactly as the file says.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

from harness.errors import UsageError
from harness.scenarios.call import VIA_SERVICE_HEADER, VPCE_HEADER
from harness.scenarios.refs import ResolvedRefs, substitute

FILE_NAME = "app.yaml"
TRANSFORMS = ("none", "truncate", "base64", "flip", "not-kms")
FIELDS = (
    "key_id",
    "region",
    "encryption_context",
    "grant_tokens",
    "via_service",
    "vpc_endpoint",
    "ciphertext",
    "session_policy",
    "credentials",
)
# How the application's credentials are (harness.scenarios.call.spoil_credentials).
CREDENTIALS = ("current", "expired", "wrong-secret", "unknown-token")

HEADER = """\
# The application's {operation} call, as its configuration makes it.
# Edit this file if the fix belongs in the application, then run `kmslab workshop check`:
# check makes the call exactly as this file says, as the application's principal.
#
# key_id:             what the application passes as KeyId: key id, key ARN, alias name or alias
#                     ARN (null: no KeyId, for symmetric Decrypt only)
# region:             the Region the application's KMS client calls
# encryption_context: the encryption context it sends (keys and values are case-sensitive)
# grant_tokens:       GrantToken values it passes (a grant's token is in CreateGrant's output)
# via_service:        the AWS service the call goes through (e.g. s3.us-east-1.amazonaws.com),
#                     null when the application calls KMS itself
# vpc_endpoint:       the VPC endpoint id (vpce-...) the call goes through, or null
# ciphertext:         the file the application reads, and what its code does to the bytes before
#                     sending them: {transforms}
# session_policy:     the session policy it passes to AssumeRole, or null
# credentials:        (when present) the credentials it signs with: current (fresh, as issued),
#                     expired (a session kept past its lifetime), wrong-secret (another secret),
#                     unknown-token (a session token AWS never issued)
"""


def from_call(
    call: dict[str, Any], resolved: ResolvedRefs, files: dict[str, str]
) -> dict[str, Any]:
    """The configuration that makes `call` (a scenario call, references resolved)."""
    key = call.get("key")
    config: dict[str, Any] = {
        "key_id": resolved.key_ref(str(substitute(key, resolved))) if key else None,
        "region": call["region"],
        "encryption_context": dict(call.get("encryption_context") or {}),
        "grant_tokens": [
            resolved.grant[t]["token"] if t in resolved.grant else t
            for t in call.get("grant_tokens") or []
        ],
        "via_service": str(substitute(call["via_service"], resolved))
        if call.get("via_service")
        else None,
        "vpc_endpoint": resolved.vpce[call["vpc_endpoint"]]["id"]
        if call.get("vpc_endpoint")
        else None,
        "session_policy": substitute(copy.deepcopy(call["session_policy"]), resolved)
        if call.get("session_policy")
        else None,
    }
    if call.get("credentials"):
        config["credentials"] = call["credentials"]
    if call.get("ciphertext"):
        name = call["ciphertext"]["data"]
        config["ciphertext"] = {
            "file": files[name],
            "transform": call["ciphertext"].get("damage") or "none",
        }
    return config


def render(config: dict[str, Any], operation: str) -> str:
    body = yaml.safe_dump(config, sort_keys=False, default_flow_style=False, width=100)
    return HEADER.format(operation=operation, transforms=", ".join(TRANSFORMS)) + body


def write(path: Path, config: dict[str, Any], operation: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(render(config, operation), encoding="utf-8")
    tmp.replace(path)


def _string_map(path: Path, name: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise UsageError(f"{path}: {name} must be a map of strings to strings")
    return dict(value)


def _optional_string(path: Path, name: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise UsageError(f"{path}: {name} must be a string or null")
    return value


def read(path: Path) -> dict[str, Any]:
    """The configuration as the participant left it; bad content is one clear UsageError."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path} is missing: `kmslab workshop reset` writes a fresh one") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise UsageError(f"{path}: not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected the settings as a YAML mapping")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise UsageError(f"{path}: unknown setting {unknown[0]!r} (known: {', '.join(FIELDS)})")
    region = data.get("region")
    if not isinstance(region, str) or not region:
        raise UsageError(f"{path}: region must be a Region name such as us-east-1")
    tokens = data.get("grant_tokens") or []
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise UsageError(f"{path}: grant_tokens must be a list of strings")
    policy = data.get("session_policy")
    if isinstance(policy, str) and policy.strip():
        try:
            policy = json.loads(policy)
        except ValueError:
            raise UsageError(f"{path}: session_policy is not a JSON policy document") from None
    if policy is not None and not isinstance(policy, dict):
        raise UsageError(f"{path}: session_policy must be a policy document or null")
    out: dict[str, Any] = {
        "key_id": _optional_string(path, "key_id", data.get("key_id")),
        "region": region,
        "encryption_context": _string_map(
            path, "encryption_context", data.get("encryption_context")
        ),
        "grant_tokens": tokens,
        "via_service": _optional_string(path, "via_service", data.get("via_service")),
        "vpc_endpoint": _optional_string(path, "vpc_endpoint", data.get("vpc_endpoint")),
        "session_policy": policy or None,
    }
    credentials = data.get("credentials")
    if credentials is not None and credentials not in CREDENTIALS:
        raise UsageError(f"{path}: credentials must be one of {', '.join(CREDENTIALS)}")
    if credentials not in (None, "current"):
        out["credentials"] = credentials
    ciphertext = data.get("ciphertext")
    if ciphertext is not None:
        if not isinstance(ciphertext, dict) or not isinstance(ciphertext.get("file"), str):
            raise UsageError(f"{path}: ciphertext must have a file")
        transform = ciphertext.get("transform") or "none"
        if transform not in TRANSFORMS:
            raise UsageError(f"{path}: ciphertext.transform must be one of {', '.join(TRANSFORMS)}")
        out["ciphertext"] = {"file": ciphertext["file"], "transform": transform}
    return out


def as_call(
    config: dict[str, Any], call: dict[str, Any], base: Path
) -> tuple[dict[str, Any], dict[str, str], dict[str, bytes]]:
    """(the scenario call made as `config` says, request-context headers, ciphertext by name).

    Grant tokens, the VPC endpoint and the service are the literal values the file holds, never
    names of the scenario's grants or endpoints, so the participant must find the real ones.
    """
    out = {k: v for k, v in call.items() if k not in ("vpc_endpoint", "via_service", "credentials")}
    if config.get("credentials"):
        out["credentials"] = config["credentials"]
    out["region"] = config["region"]
    out["encryption_context"] = dict(config["encryption_context"])
    out["grant_tokens"] = list(config["grant_tokens"])
    if config["key_id"] is None:
        out.pop("key", None)
    else:
        out["key"] = config["key_id"]
    if config["session_policy"] is not None:
        out["session_policy"] = config["session_policy"]
    else:
        out.pop("session_policy", None)
    headers: dict[str, str] = {}
    if config["via_service"]:
        headers[VIA_SERVICE_HEADER] = config["via_service"]
    if config["vpc_endpoint"]:
        headers[VPCE_HEADER] = config["vpc_endpoint"]
    blobs: dict[str, bytes] = {}
    if "ciphertext" in config and call.get("ciphertext"):
        file = Path(config["ciphertext"]["file"])
        file = file if file.is_absolute() else base / file
        try:
            blobs["app"] = file.read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read the ciphertext file {file}: {exc.strerror}") from None
        out["ciphertext"] = {"data": "app", "damage": config["ciphertext"]["transform"]}
    return out, headers, blobs
