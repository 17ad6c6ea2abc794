"""Run cases through @cloud-copilot/iam-simulate (the differential oracle).

The package is AGPL: it is installed by npm at test time into .cache/iam-simulate (ignored by git)
at an exact version and only ever run as a separate process.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

from harness.policy.request import parse_request

PACKAGE = "@cloud-copilot/iam-simulate"
ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "iam-simulate"
RUNNER = Path(__file__).resolve().parent / "oracle" / "run_oracle.js"
DIVERGENCES = Path(__file__).resolve().parent / "oracle_divergences.yaml"
# The pin lives in one place, shared with `make oracle` (scripts/install-oracle.sh).
MANIFEST = Path(__file__).resolve().parent / "oracle" / "package.json"
VERSION: str = json.loads(MANIFEST.read_text())["dependencies"][PACKAGE]


def installed_version() -> str | None:
    pkg = CACHE / "node_modules" / "@cloud-copilot" / "iam-simulate" / "package.json"
    try:
        return str(json.loads(pkg.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


def ensure_installed() -> str | None:
    """Install the pinned version if needed. Returns None when ready, else why it is unavailable."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return (
            "node and npm are not on PATH: the iam-simulate differential is part of the suite "
            "(install Node.js 18+; `make oracle` installs the oracle)"
        )
    if installed_version() == VERSION:
        return None
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / "package.json").write_text(MANIFEST.read_text())
    proc = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
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


@lru_cache(maxsize=1)
def load_divergences() -> dict[str, dict[str, str]]:
    """{"cases": {case id: reason}, "lab_decisions": {"<scenario> <action>": reason}}.

    Every reason names the AWS page that decides the divergence (`page`) and says why (`why`).
    """
    import yaml

    data = yaml.safe_load(DIVERGENCES.read_text())
    reasons = data["reasons"]
    for name, reason in reasons.items():
        page = reason.get("page", "") if isinstance(reason, dict) else ""
        if not page.startswith("https://docs.aws.amazon.com/") or not reason.get("why"):
            raise ValueError(f"oracle_divergences.yaml: reason {name} needs an AWS page and a why")
    out: dict[str, dict[str, str]] = {}
    for section in ("cases", "lab_decisions"):
        out[section] = {}
        for key, reason in (data.get(section) or {}).items():
            if reason not in reasons:
                raise ValueError(f"oracle_divergences.yaml: {key}: unknown reason {reason}")
            out[section][key] = reason
    return out
