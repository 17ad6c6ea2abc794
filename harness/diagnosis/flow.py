"""The evaluation path drawn by the renderers, in the order of AWS's KMS authorization flowchart.

The KMS guide's "Troubleshooting key access" flowchart (policy-evaluation.html) has a key-trust
half (key policy, grants) and an IAM half; IAM's evaluation logic puts explicit denies and the
organization and network guards first. Key state, usage and the ciphertext are checked once the
request is authorized.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from harness.diagnosis.model import Diagnosis, PathStep
from harness.diagnosis.registry import Loaded, RegistryError, current

if TYPE_CHECKING:
    from harness.diagnosis.context import Context

# The flowchart's steps: (id, label, evaluator layers). Which finding codes fail a step is
# declared by each rule (META.node); nodes() joins the two.
NODE_STEPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("credentials", "Caller's credentials accepted (signature, session token, expiry)", ()),
    ("service", "KMS service in the Region (health, request rate)", ()),
    ("resolve", "Key found in the account and Region called", ()),
    ("rcp", "Resource control policies allow", ("rcp",)),
    ("scp", "Service control policies allow", ("scp",)),
    ("vpce", "VPC endpoint policy allows", ("vpc-endpoint",)),
    ("key-trust", "Key policy or a grant allows the caller (key trust)", ("key-policy", "grant")),
    (
        "iam",
        "IAM policies allow (when the key policy delegates, or cross-account)",
        ("identity",),
    ),
    ("boundary", "Permissions boundary allows", ("permissions-boundary",)),
    ("session", "Session policy allows", ("session",)),
    ("state", "Key state allows the operation", ()),
    ("usage", "Key usage and spec fit the operation", ()),
    ("crypto", "Ciphertext, encryption context and key match", ()),
)

Node = tuple[str, str, tuple[str, ...], tuple[str, ...]]


def nodes() -> tuple[Node, ...]:
    """(id, label, evaluator layers, finding codes): the flowchart, codes in ranking order."""
    return _nodes(current())


@cache
def _nodes(loaded: Loaded) -> tuple[Node, ...]:
    ids = {node_id for node_id, _, _ in NODE_STEPS}
    order = loaded.order
    node_of = {code: rule.meta.node for code, rule in loaded.by_code.items()}
    for code, node in node_of.items():
        if node is not None and node not in ids:
            raise RegistryError(f"{code}: unknown flowchart node {node!r}")
    return tuple(
        (node_id, label, layers, tuple(c for c in order if node_of[c] == node_id))
        for node_id, label, layers in NODE_STEPS
    )


# Nodes only DescribeKey can pass: unreadable, they stay unknown rather than "ok".
_FROM_DESCRIBE_KEY = {"resolve", "state", "usage"}


def evaluation_path(ctx: Context, report: Diagnosis) -> list[PathStep]:
    by_code = {f.code: f for f in report.findings}
    steps = []
    for node_id, label, layers, codes in nodes():
        hits = [
            by_code[c]
            for c in codes
            if c in by_code and by_code[c].severity in ("critical", "error")
        ]
        blocking = report.primary in codes
        if hits:
            status = "fail"
            detail = "; ".join(f"{f.code}: {f.evidence[0].detail}" for f in hits)
        elif node_id in _FROM_DESCRIBE_KEY and _describe_key_unreadable(ctx):
            status, detail = "unknown", _describe_key_unreadable(ctx)
        elif any(layer in ctx.ev.unknown_layers for layer in layers):
            status, detail = "unknown", "evidence not readable"
        elif layers and not ctx.ev.ran:
            status, detail = "unknown", ctx.ev.error or "not evaluated"
        elif layers and _absent(ctx, node_id):
            status, detail = "skipped", _absent(ctx, node_id)
        else:
            status = "pass"
            allowed = [layer for layer in layers if layer in ctx.ev.allowed_by]
            detail = f"allowed by {', '.join(allowed)}" if allowed else ""
        steps.append(PathStep(node_id, label, status, detail, blocking))
    return steps


def _describe_key_unreadable(ctx: Context) -> str:
    call = next((c for c in ctx.facts.unreadable if c.name == "kms:DescribeKey"), None)
    if call is None or ctx.facts.key_metadata is not None:
        return ""
    return f"kms:DescribeKey unreadable: {call.unreadable_reason}"


def _absent(ctx: Context, node_id: str) -> str:
    """Why a guard layer does not take part in this request ("" when it does)."""
    doc = ctx.ev.input
    if node_id == "scp" and "scps" not in doc:
        return "no SCPs collected (not in an organization, or not readable from this account)"
    if node_id == "rcp" and "rcps" not in doc:
        return "no RCPs collected"
    if node_id == "vpce" and "vpc_endpoint_policy" not in doc:
        return "the call did not come through a VPC endpoint"
    if node_id == "boundary" and "permissions_boundary" not in doc:
        return "the principal has no permissions boundary"
    if node_id == "session" and "session_policy" not in doc:
        return "no session policy was passed"
    return ""
