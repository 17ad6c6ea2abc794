"""Which finding is the primary one, the decision, and whether AWS's own error agrees.

Order (the order in which AWS would report the failure), generated from each rule's declared
precedence (``META.phase``, ``after``, ``before``; ``registry.precedence``, ``ORDER`` here):
1. request admission: throttling, AWS-side service issues;
2. key resolution in the Region called (NotFound) — a key must be found before it is authorized;
3. grant-token validation;
4. authorization, in IAM's evaluation order (reference_policies_evaluation-logic.html): explicit
   denies, then RCP, SCP, VPC endpoint policy, the key policy (with grants: the "key trust" half
   of the KMS flowchart, policy-evaluation.html), identity policies, permissions boundary,
   session policy;
5. after authorization: key state, key usage, then the cryptographic checks.

[V] Which of authorization and key state AWS reports first is not documented (catalog section 8,
item 3). We choose authorization first: the catalog's section 1 lists key state "after
authorization", and KMS does not reveal a key's state to a caller it would not authorize. When the
bundle holds the observed error, it decides instead: a finding that agrees with what AWS actually
returned is primary, and the disagreement with the modelled order is reported.
"""

from __future__ import annotations

from typing import Any

from harness.diagnosis import messages
from harness.diagnosis.model import Agreement, Finding
from harness.diagnosis.registry import by_code, precedence

# AWS names a grant's denial as it names the key policy's: "resource-based policy"
# (harness.policy.messages words both layers alike).
_MESSAGE_LAYER = {"grant": "key-policy"}


def __getattr__(name: str) -> Any:
    # ORDER is generated from the rules' declared precedence (registry.precedence); read it
    # late so that a code added by an entry point ranks where it declares.
    if name == "ORDER":
        return precedence()
    raise AttributeError(name)


def message_layer(layer: str | None) -> str | None:
    """The layer AWS's AccessDenied names when ``layer`` (an evaluator layer) denies."""
    return _MESSAGE_LAYER.get(layer, layer) if layer is not None else None


def explains_denial(code: str) -> bool:
    """Whether AWS reports ``code`` as an AccessDenied (naming its layer, or any)."""
    rule = by_code().get(code)
    return rule is not None and (rule.meta.layer is not None or rule.meta.explains.any_denial)


def agrees(code: str, sig: messages.Signal) -> bool:
    """Whether AWS returning ``sig`` is consistent with ``code`` being the first failure."""
    rule = by_code().get(code)
    if rule is None:
        return False
    explains, layer = rule.meta.explains, rule.meta.layer
    if sig.ambiguous:
        return explains.ambiguous
    if sig.state is not None:
        return explains.any_state or sig.state in explains.states
    if sig.denied:
        if explains.any_denial:
            # Denied on the key the alias reached, whatever layer that key's policies name.
            return True
        if layer is None:
            return False
        if layer == "grant" and sig.layer == "identity":
            # A grant-based caller whose key policy delegates to IAM is told "no identity-based
            # policy allows" when its grant does not apply.
            return True
        # The SCP phrase can appear even when the denial is implicit (IAM troubleshooting page);
        # messages without a because-clause name no layer.
        return sig.layer in (None, message_layer(layer))
    return sig.code in explains.errors


def rank(code: str | None) -> int:
    """A code's place in the ranking order (unknown codes and None after every code)."""
    order = precedence()
    return order.index(code) if code in order else len(order)


def _rank(f: Finding) -> int:
    return rank(f.code)


_SEVERITY = {"critical": 0, "error": 0, "warning": 1, "info": 2}


def order(findings: list[Finding], observed: messages.Signal | None) -> list[Finding]:
    """Findings, most important first."""

    def key(f: Finding) -> tuple[int, int, int]:
        agree = 0 if observed is not None and agrees(f.code, observed) else 1
        return (_SEVERITY.get(f.severity, 1), agree, _rank(f))

    return sorted(findings, key=key)


def choose_primary(ranked: list[Finding]) -> Finding | None:
    for f in ranked:
        if f.code == "NO_FAULT_FOUND":
            return None
        if f.severity in ("critical", "error"):
            return f
    # Only warnings: a warning becomes primary when nothing graver explains the request.
    for f in ranked:
        if f.severity == "warning" and f.code != "NO_FAULT_FOUND":
            return f
    return None


def agreement(
    primary: Finding | None, observed: messages.Signal | None, evaluator_message: str
) -> Agreement | None:
    if observed is None:
        return None
    label = observed.describe()
    if primary is None:
        return Agreement(
            label,
            False,
            "AWS returned an error but the collected evidence shows no fault; collect more evidence (see NO_FAULT_FOUND)",
        )
    if agrees(primary.code, observed):
        note = f"AWS's error is consistent with {primary.code}"
        if observed.denied and evaluator_message and observed.layer and observed.message:
            note += "; the evaluator's message: " + evaluator_message
        return Agreement(label, True, note)
    if primary.implies == "Unknown":
        return Agreement(
            label, False, "the evidence needed to explain AWS's error could not be read"
        )
    return Agreement(
        label,
        False,
        f"AWS returned {observed.code}{' naming the ' + observed.layer + ' layer' if observed.layer else ''}, but the evidence "
        f"points to {primary.code} first; the evidence may be newer or older than the failure, or AWS's order differs here",
    )


def decide(
    primary: Finding | None, evaluation_decision: str | None, unknown: bool, observed: bool
) -> str:
    if primary is not None:
        return primary.implies
    if evaluation_decision == "Allowed" and not unknown and not observed:
        return "Allowed"
    # An unexplained error, an unreadable layer or no evaluation: never a confident "Allowed".
    return "Unknown"
