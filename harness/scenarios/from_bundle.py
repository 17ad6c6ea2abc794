"""A scenario file from a captured evidence bundle: the customer's incident, rebuilt in the lab.

What the bundle recorded becomes the setup (key state, spec and policy, aliases, grants, the
principal's identity policies and boundary); the request under investigation becomes the
failing call; the observed error and the diagnosis of the bundle become the expectations.
Literal account ids and ARNs are turned into references so the lab's own ids fit.
"""

from __future__ import annotations

import json
import re
from typing import Any

from harness.errors import UsageError
from harness.scenarios.catalog import validate

SOURCES = ["https://docs.aws.amazon.com/kms/latest/developerguide/troubleshooting.html"]


def _calls(bundle: dict[str, Any], operation: str) -> list[dict[str, Any]]:
    return [
        c for c in bundle.get("calls", []) if c.get("operation") == operation and "response" in c
    ]


def _first(bundle: dict[str, Any], operation: str) -> dict[str, Any] | None:
    found = _calls(bundle, operation)
    return found[0]["response"] if found else None


def _doc(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


class Renamer:
    """Replaces the captured incident's literal ids with references to logical names."""

    def __init__(self) -> None:
        self.pairs: list[tuple[str, str]] = []

    def add(self, literal: str | None, reference: str) -> None:
        if literal:
            self.pairs.append((literal, reference))

    def __call__(self, value: Any) -> Any:
        text = json.dumps(value)
        for literal, reference in sorted(self.pairs, key=lambda p: -len(p[0])):
            text = text.replace(literal, reference)
        return json.loads(text)


def scenario_from_bundle(bundle: dict[str, Any], scenario_id: str | None = None) -> dict[str, Any]:
    if bundle.get("kind") != "kms-evidence-bundle":
        raise UsageError("not a kms-evidence-bundle (contract section 3)")
    request = bundle.get("request") or {}
    principal = str(request.get("principal", ""))
    match = re.match(
        r"^arn:aws[a-z-]*:(iam|sts)::(\d{12}):(assumed-role|role|user)/(.+)$", principal
    )
    if not match:
        raise UsageError(
            f"the bundle's principal is not a role, session or user ARN: {principal!r}"
        )
    _, caller_account, kind, rest = match.groups()
    parts = rest.split("/")
    name = parts[0] if kind == "assumed-role" else parts[-1]
    path = (
        "/" if kind == "assumed-role" else "/" + "/".join(parts[:-1]) + ("/" if parts[:-1] else "")
    )
    ptype = "user" if kind == "user" else "role"
    meta = (_first(bundle, "DescribeKey") or {}).get("KeyMetadata")
    if not meta:
        raise UsageError("the bundle has no DescribeKey response: the key cannot be rebuilt")
    key_account = str(meta.get("AWSAccountId") or meta["Arn"].split(":")[4])
    region = str(meta["Arn"].split(":")[3])
    accounts = {"app": caller_account}
    if key_account != caller_account:
        accounts["owner"] = key_account
    rename = Renamer()
    rename.add(meta["Arn"], "${key.data.arn}")
    rename.add(f"arn:aws:iam::{caller_account}:{ptype}{path}{name}", "${principal.app.arn}")
    rename.add(principal, "${caller.arn}")
    for logical, account_id in accounts.items():
        rename.add(account_id, "${account." + logical + "}")
    key_rename = Renamer()  # a key policy cannot refer to its own key ARN
    key_rename.pairs = [p for p in rename.pairs if p[1] not in ("${key.data.arn}", "${caller.arn}")]

    key: dict[str, Any] = {
        "account": "owner" if "owner" in accounts else "app",
        "region": region,
        "spec": meta.get("KeySpec", "SYMMETRIC_DEFAULT"),
        "usage": meta.get("KeyUsage", "ENCRYPT_DECRYPT"),
        "origin": meta.get("Origin", "AWS_KMS")
        if meta.get("Origin") != "EXTERNAL_KEY_STORE"
        else "AWS_KMS",
        "state": meta.get("KeyState", "Enabled"),
    }
    if key["state"] not in (
        "Enabled",
        "Disabled",
        "PendingDeletion",
        "PendingImport",
        "Unavailable",
        "Creating",
        "Updating",
    ):
        key["state"] = "Enabled"
    policy = _first(bundle, "GetKeyPolicy")
    if policy and policy.get("Policy"):
        key["policy"] = key_rename(_doc(policy["Policy"]))
    aliases = []
    for response in (c["response"] for c in _calls(bundle, "ListAliases")):
        for alias in response.get("Aliases", []):
            if alias.get("TargetKeyId") == meta["KeyId"] and not alias["AliasName"].startswith(
                "alias/aws/"
            ):
                aliases.append({"name": alias["AliasName"], "key": "data"})
    grants = []
    for response in (c["response"] for c in _calls(bundle, "ListGrants")):
        for i, grant in enumerate(response.get("Grants", [])):
            item: dict[str, Any] = {
                "name": f"g{i}",
                "key": "data",
                "grantee": rename(grant["GranteePrincipal"]),
                "operations": grant["Operations"],
            }
            if grant.get("Constraints"):
                item["constraints"] = grant["Constraints"]
            grants.append(item)
    identity = _identity(bundle, ptype, rename)
    setup: dict[str, Any] = {
        "region": region,
        "accounts": accounts,
        "keys": {"data": key},
        "aliases": _unique(aliases),
        "principals": {"app": {"type": ptype, "name": name, "path": path, **identity}},
        "grants": grants,
    }
    operation = str(request.get("action", "kms:Decrypt")).split(":", 1)[1]
    call: dict[str, Any] = {
        "principal": "app",
        "operation": operation,
        "region": request.get("region") or region,
    }
    if kind == "assumed-role":
        call["session_name"] = "/".join(parts[1:])
    if request.get("key"):
        call["key"] = rename(request["key"])
    context = request.get("encryption_context") or {}
    if context:
        call["encryption_context"] = context
    if operation in ("Decrypt", "ReEncrypt"):
        setup["data"] = {"captured": {"key": "data", "encryption_context": context}}
        call["ciphertext"] = {"data": "captured"}
    via = (request.get("context") or {}).get("kms:ViaService")
    if via:
        call["via_service"] = via
    observed = request.get("observed_error")
    expected_error = None
    if observed:
        message = re.escape(str(observed.get("message", "")))
        # ARNs were escaped too; the references go back in unescaped.
        for literal, reference in rename.pairs:
            message = message.replace(re.escape(literal), reference)
        expected_error = {"code": str(observed["code"]), "message": message}
    from harness.diagnosis import diagnose

    diagnosis = diagnose(bundle)
    finding = str(diagnosis.primary or "NO_FAULT_FOUND")
    primary = diagnosis.finding(finding)
    fix_summary = primary.fix.summary if primary is not None else "Nothing to fix."
    scenario = {
        "id": scenario_id or f"incident-{meta['KeyId'][:8]}",
        "title": f"Captured incident: {operation} {'fails with ' + str(observed['code']) if observed else 'succeeds'}",
        "runbook_step": primary.runbook_step
        if primary is not None and isinstance(primary.runbook_step, int)
        else "extra",
        "story": f"Imported from an evidence bundle collected at {bundle.get('collected_at', 'an unknown time')} "
        f"for {principal} calling kms:{operation}.",
        "sources": SOURCES,
        "setup": setup,
        "call": call,
        "expected": {"error": expected_error, "finding": finding},
        "fix": {"summary": fix_summary},
        "hints": [
            "Rebuilt from a bundle: compare the lab's evidence with the bundle's before trusting it."
        ],
    }
    if not observed:
        scenario["control"] = True
        scenario["expected"] = {"error": None, "finding": "NO_FAULT_FOUND"}
    validate(scenario, "the scenario built from the bundle")
    return scenario


def _identity(bundle: dict[str, Any], ptype: str, rename: Renamer) -> dict[str, Any]:
    inline_op = "GetRolePolicy" if ptype == "role" else "GetUserPolicy"
    policies = [rename(_doc(c["response"]["PolicyDocument"])) for c in _calls(bundle, inline_op)]
    versions = {
        c["params"].get("PolicyArn"): rename(_doc(c["response"]["PolicyVersion"]["Document"]))
        for c in _calls(bundle, "GetPolicyVersion")
    }
    holder = _first(bundle, "GetRole" if ptype == "role" else "GetUser") or {}
    entity = holder.get("Role") or holder.get("User") or {}
    boundary_arn = (entity.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    out: dict[str, Any] = {"policies": policies}
    managed = [doc for arn, doc in versions.items() if arn != boundary_arn]
    if managed:
        out["managed_policies"] = managed
    if boundary_arn and boundary_arn in versions:
        out["boundary"] = versions[boundary_arn]
    return out


def _unique(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item["name"] not in seen:
            seen.add(item["name"])
            out.append(item)
    return out
