"""Run cases through @cloud-copilot/iam-simulate (the differential oracle).

The package is AGPL: it is installed by npm at test time into .cache/iam-simulate (ignored by git)
at an exact version and only ever run as a separate process.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from harness.policy.request import parse_request

VERSION = "0.1.173"
PACKAGE = "@cloud-copilot/iam-simulate"
ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "iam-simulate"
RUNNER = Path(__file__).resolve().parent / "oracle" / "run_oracle.js"


def installed_version() -> str | None:
    pkg = CACHE / "node_modules" / "@cloud-copilot" / "iam-simulate" / "package.json"
    try:
        return str(json.loads(pkg.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


def ensure_installed() -> str | None:
    """Install the pinned version if needed. Returns None when ready, else why it is unavailable."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node/npm not found on PATH: the iam-simulate differential test needs them"
    if installed_version() == VERSION:
        return None
    CACHE.mkdir(parents=True, exist_ok=True)
    manifest = CACHE / "package.json"
    if not manifest.exists():
        manifest.write_text(json.dumps({"name": "kmslab-oracle", "private": True}))
    proc = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--save-exact", f"{PACKAGE}@{VERSION}"],
        cwd=CACHE,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if proc.returncode != 0 or installed_version() != VERSION:
        return f"npm install {PACKAGE}@{VERSION} failed: {proc.stderr.strip()[-300:]}"
    return None


def _policy(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def to_simulation(doc: dict[str, Any]) -> dict[str, Any]:
    """The same request, in iam-simulate's input shape, with the context keys kmslab derives."""
    parsed = parse_request(doc, has_boundary=doc.get("permissions_boundary") is not None)
    ctx: dict[str, Any] = {}
    given = {k.lower() for k in (doc["request"].get("context") or {})}
    for key, values in parsed.req.ctx.items():
        if key in ("aws:currenttime", "aws:epochtime") and key not in given:
            continue
        ctx[key] = (
            list(values) if len(values) != 1 or key == "kms:encryptioncontextkeys" else values[0]
        )
    caller = parsed.req.caller
    sim: dict[str, Any] = {
        "request": {
            "principal": caller.arn,
            "action": doc["request"]["action"],
            "resource": {"resource": doc["request"]["resource"], "accountId": parsed.key_account},
            "contextVariables": ctx,
        },
        "identityPolicies": [
            {"name": f"identity{i}", "policy": _policy(p)}
            for i, p in enumerate(doc.get("identity_policies") or [])
        ]
        if caller.kind != "service"
        else [],
        "serviceControlPolicies": [
            {
                "orgIdentifier": f"level{i}",
                "policies": [
                    {"name": f"scp{i}-{j}", "policy": _policy(p)}
                    for j, p in enumerate(level if isinstance(level, list) else [level])
                ],
            }
            for i, level in enumerate(doc.get("scps") or [])
        ]
        if caller.kind != "service"
        else [],
        "resourceControlPolicies": [
            {
                "orgIdentifier": f"level{i}",
                "policies": [
                    {"name": f"rcp{i}-{j}", "policy": _deny_only(p)}
                    for j, p in enumerate(level if isinstance(level, list) else [level])
                ],
            }
            for i, level in enumerate(doc.get("rcps") or [])
        ]
        if not parsed.aws_managed
        else [],
    }
    if doc.get("key_policy") is not None:
        sim["resourcePolicy"] = _policy(doc["key_policy"])
    if doc.get("permissions_boundary") is not None and caller.kind != "service":
        sim["permissionBoundaryPolicies"] = [
            {"name": "boundary", "policy": _policy(doc["permissions_boundary"])}
        ]
    if doc.get("session_policy") is not None and caller.kind in ("session", "federated-user"):
        sim["sessionPolicy"] = _policy(doc["session_policy"])
    if doc.get("vpc_endpoint_policy") is not None:
        sim["vpcEndpointPolicies"] = [
            {"name": "vpce", "policy": _policy(doc["vpc_endpoint_policy"])}
        ]
    return sim


def _deny_only(value: Any) -> Any:
    """iam-simulate adds RCPFullAWSAccess itself and rejects Allow statements in RCPs."""
    pol = dict(_policy(value))
    stmts = pol.get("Statement", [])
    stmts = stmts if isinstance(stmts, list) else [stmts]
    pol["Statement"] = [s for s in stmts if s.get("Effect") != "Allow"]
    return pol


_MAP = {
    "Allowed": "Allowed",
    "ExplicitlyDenied": "ExplicitDeny",
    "ImplicitlyDenied": "ImplicitDeny",
}


def run_batch(cases: list[tuple[str, dict[str, Any]]], repeat: int = 1) -> dict[str, Any]:
    """{"results": {id: decision or None}, "errors": {id: text}, "seconds": float, "evaluations": n}."""
    payload = {
        "cases": [{"id": cid, "simulation": to_simulation(d)} for cid, d in cases],
        "repeat": repeat,
    }
    proc = subprocess.run(
        ["node", str(RUNNER)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=600,
        env={"IAM_SIMULATE_DIR": str(CACHE), "PATH": _path()},
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"oracle runner failed: {proc.stderr.strip()[-500:]}")
    data = json.loads(proc.stdout)
    results = {r["id"]: _MAP.get(r["result"]) if r["result"] else None for r in data["results"]}
    errors = {r["id"]: r["error"] for r in data["results"] if r["error"]}
    return {
        "results": results,
        "errors": errors,
        "seconds": data["seconds"],
        "cpu_seconds": data["cpuSeconds"],
        "evaluations": data["evaluations"],
    }


def _path() -> str:
    import os

    return os.environ.get("PATH", "/usr/bin:/bin")
