"""One call of the policy evaluator (harness.policy) built from the bundle's evidence.

Layers whose evidence could not be read are left out of the evaluator input and marked unknown,
so a missing document never turns into a confident "this layer blocks".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.aws import arns
from harness.diagnosis.facts import Facts


# Stands in for an unreadable key policy so the other layers can still be evaluated; only
# explicit denies from other layers are trusted from such a run.
def _placeholder_key_policy(account: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "kmslab-placeholder-unreadable-key-policy",
                "Effect": "Allow",
                "Principal": {"AWS": arns.account_root(account)},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


@dataclass
class Evaluation:
    input: dict[str, Any]
    decision: str | None = None
    blocked_by: list[str] = field(default_factory=list)
    allowed_by: list[str] = field(default_factory=list)
    message: str = ""
    trace: list[dict[str, Any]] = field(default_factory=list)
    unknown_layers: set[str] = field(default_factory=set)
    error: str = ""
    available: bool = True
    placeholder_key_policy: bool = False
    names: dict[str, str] = field(default_factory=dict)

    @property
    def ran(self) -> bool:
        return self.decision is not None

    def entries(self, layer: str) -> list[dict[str, Any]]:
        return [t for t in self.trace if isinstance(t, dict) and t.get("layer") == layer]

    def statements(self, layer: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(trace entry, statement explanation) pairs of a layer."""
        out = []
        for entry in self.entries(layer):
            for st in entry.get("statements") or []:
                if isinstance(st, dict):
                    out.append((entry, st))
        return out

    def matched(self, layer: str, effect: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        return [
            (e, s)
            for e, s in self.statements(layer)
            if s.get("matched") and s.get("effect") == effect
        ]

    def blocks(self, layer: str) -> bool:
        return self.ran and layer in self.blocked_by and layer not in self.unknown_layers


def context_keys(facts: Facts) -> dict[str, Any]:
    ctx: dict[str, Any] = dict(facts.context)
    for k, v in facts.encryption_context.items():
        ctx.setdefault(f"kms:EncryptionContext:{k}", v)
    if facts.encryption_context:
        ctx.setdefault("kms:EncryptionContextKeys", sorted(facts.encryption_context))
    if facts.request_key.startswith("alias/") or ":alias/" in facts.request_key:
        ctx.setdefault("kms:RequestAlias", facts.request_key.rsplit(":", 1)[-1])
    if facts.grant_tokens:
        ctx.setdefault("kms:GrantTokens", facts.grant_tokens)
    return ctx


def build_input(facts: Facts) -> tuple[dict[str, Any], set[str], bool]:
    unknown: set[str] = set()
    names: dict[str, str] = {}
    resource = facts.key_arn or (
        f"arn:aws:kms:{facts.region}:{facts.key_account}:key/{facts.key_id}" if facts.key_id else ""
    )
    doc: dict[str, Any] = {
        "request": {
            "principal": facts.principal_arn,
            "action": facts.action,
            "resource": resource,
            "context": context_keys(facts),
        }
    }
    placeholder = False
    if facts.key_policy is not None:
        doc["key_policy"] = facts.key_policy
    else:
        unknown.add("key-policy")
        placeholder = True
        doc["key_policy"] = _placeholder_key_policy(facts.key_account or facts.principal_account)

    if not facts.identity_collected or facts.identity_unreadable or facts.identity_entity is None:
        unknown.add("identity")
    doc["identity_policies"] = [d for _, d in facts.identity_policies]
    for i, (name, _d, call) in enumerate(facts.identity_policy_sources):
        names[f"identity_policies[{i}]"] = name
        names[f"identity_policies[{i}]#call"] = call

    if facts.boundary is False:
        unknown.add("permissions-boundary")
    elif isinstance(facts.boundary, dict):
        doc["permissions_boundary"] = facts.boundary

    sp = facts.session_policy
    if sp is not None:
        doc["session_policy"] = sp[0]

    for key, filt, account in (
        ("scps", "SERVICE_CONTROL_POLICY", facts.principal_account),
        ("rcps", "RESOURCE_CONTROL_POLICY", facts.key_account),
    ):
        layer = key[:-1]
        levels = facts.org_levels(account, filt) if account else None
        if levels is not None:
            doc[key] = [[d for _, d in level] for level in levels]
            for i, level in enumerate(levels):
                for j, (pname, _d) in enumerate(level):
                    names[f"{key}[{i}][{j}]"] = pname
        elif any(c.service == "organizations" for c in facts.unreadable):
            unknown.add(layer)

    if facts.source_vpce:
        ep = facts.vpc_endpoint
        pol = None
        if ep is not None:
            from harness.diagnosis.facts import parse_policy

            pol = parse_policy(ep.get("PolicyDocument"))
        if pol is not None:
            doc["vpc_endpoint_policy"] = pol
        else:
            unknown.add("vpc-endpoint")

    if facts.grants is not None:
        doc["grants"] = facts.grants
    elif facts.collected("kms", "ListGrants"):
        unknown.add("grant")

    md = facts.key_metadata or {}
    doc["key_metadata"] = {
        k: md[k] for k in ("KeyManager", "KeySpec", "KeyUsage", "Arn") if k in md
    }
    if not doc["key_metadata"].get("Arn") and resource:
        doc["key_metadata"]["Arn"] = resource
    doc["_names"] = names
    return doc, unknown, placeholder


def evaluate(facts: Facts) -> Evaluation:
    doc, unknown, placeholder = build_input(facts)
    names = doc.pop("_names")
    ev = Evaluation(
        input=doc, names=names, unknown_layers=unknown, placeholder_key_policy=placeholder
    )
    if not facts.principal_arn or not facts.action or not doc["request"]["resource"]:
        ev.error = "the request lacks a principal, an action or a resolvable key"
        return ev
    try:
        from harness.policy import PolicyError
        from harness.policy import evaluate as policy_evaluate
    except ImportError:  # the evaluator package is optional for offline rules that do not need it
        ev.available = False
        ev.error = "policy evaluator not installed"
        return ev
    try:
        result = policy_evaluate(doc)
    except PolicyError as exc:
        ev.error = str(exc)
        return ev
    ev.decision = str(result.decision)
    ev.blocked_by = list(result.blocked_by or [])
    ev.allowed_by = list(result.allowed_by or [])
    ev.message = str(result.message or "")
    ev.trace = [t for t in (result.trace or []) if isinstance(t, dict)]
    for entry in ev.trace:
        # Name policies as the bundle does (inline:NAME, a policy ARN, an SCP id), not by index.
        entry["source"] = names.get(f"{entry.get('policy')}#call", "")
        entry["policy"] = names.get(str(entry.get("policy")), entry.get("policy"))
    if placeholder and ev.decision != "ExplicitDeny":
        # Only another layer's explicit deny is meaningful when the key policy was a stand-in.
        ev.decision = None
        ev.blocked_by = []
        ev.allowed_by = []
        ev.message = ""
        ev.error = "the key policy could not be read: no authorization decision"
    return ev
