"""Which finding is the primary one, the decision, and whether AWS's own error agrees.

Order (the order in which AWS would report the failure):
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

from harness.diagnosis import messages
from harness.diagnosis.model import Agreement, Finding

ORDER: tuple[str, ...] = (
    # AWS authenticates the request before anything else (no policy is read on refusal).
    "CREDENTIALS_INVALID",
    "KMS_SERVICE_EVENT",
    "THROTTLED",
    "WRONG_REGION",
    "MULTI_REGION_REPLICA_MISSING",
    "ALIAS_NOT_FOUND",
    # an alias resolves before anything is authorized: a wrong target explains a denial on the
    # key it reached (catalog #14)
    "ALIAS_WRONG_TARGET",
    "KEY_NOT_FOUND",
    "GRANT_TOKEN_INVALID",
    # explicit denies
    "RCP_BLOCKS",
    "SCP_BLOCKS",
    "VPC_ENDPOINT_POLICY_BLOCKS",
    "KEY_POLICY_EXPLICIT_DENY",
    "IAM_EXPLICIT_DENY",
    "PERMISSIONS_BOUNDARY_BLOCKS",
    "SESSION_POLICY_BLOCKS",
    # key trust: key policy and grants. Causes behind a missing statement come first: a replica
    # whose policy drifted, a policy too large to take the statement, a grant meant for this call.
    "MULTI_REGION_REPLICA_DIVERGED",
    "AWS_MANAGED_KEY_MISUSE",
    "KEY_POLICY_TOO_LARGE",
    "GRANT_TOKEN_NEEDED",
    "GRANT_CONSTRAINT_UNMET",
    "GRANT_OPERATION_MISSING",
    "KEY_POLICY_PRINCIPAL_MISMATCH",
    "KEY_POLICY_CONDITION_UNMET",
    "CROSS_ACCOUNT_KEY_POLICY_MISSING",
    "KEY_POLICY_NO_ALLOW",
    # IAM permissions
    "IAM_RESOURCE_MISMATCH",
    "CROSS_ACCOUNT_IAM_MISSING",
    "IAM_NO_ALLOW",
    # after authorization
    "KEY_PENDING_DELETION",
    "KEY_DISABLED",
    "KEY_PENDING_IMPORT",
    "KEY_UNAVAILABLE",
    "KEY_STATE_TRANSITION",
    "KEY_USAGE_MISMATCH",
    "INCORRECT_KEY",
    "ENCRYPTION_CONTEXT_MISMATCH",
    "CIPHERTEXT_INVALID",
    "GRANT_LIMIT_REACHED",
    "INVESTIGATOR_ACCESS_DENIED",
    "NO_FAULT_FOUND",
)


def _credential_codes() -> frozenset[str]:
    from harness.diagnosis.rules.credentials_invalid import CODES

    return CODES


_EXPLICIT_GUARDS = {
    "RCP_BLOCKS",
    "SCP_BLOCKS",
    "VPC_ENDPOINT_POLICY_BLOCKS",
    "PERMISSIONS_BOUNDARY_BLOCKS",
    "SESSION_POLICY_BLOCKS",
}

_STATE_OF = {
    "KEY_DISABLED": {"Disabled"},
    "KEY_PENDING_DELETION": {"PendingDeletion"},
    "KEY_PENDING_IMPORT": {"PendingImport"},
    "KEY_UNAVAILABLE": {"Unavailable"},
    "KEY_STATE_TRANSITION": {"Creating", "Updating"},
}
_CODES_OF = {
    "KEY_NOT_FOUND": {"NotFoundException"},
    "WRONG_REGION": {"NotFoundException", "InvalidArnException"},
    "ALIAS_NOT_FOUND": {"NotFoundException"},
    "MULTI_REGION_REPLICA_MISSING": {"NotFoundException"},
    "KEY_USAGE_MISMATCH": {"InvalidKeyUsageException"},
    "ENCRYPTION_CONTEXT_MISMATCH": {"InvalidCiphertextException"},
    "CIPHERTEXT_INVALID": {"InvalidCiphertextException"},
    "INCORRECT_KEY": {"IncorrectKeyException", "InvalidCiphertextException"},
    "ALIAS_WRONG_TARGET": {"IncorrectKeyException", "InvalidCiphertextException"},
    "GRANT_TOKEN_INVALID": {"InvalidGrantTokenException"},
    "KEY_POLICY_TOO_LARGE": {"LimitExceededException"},
    "GRANT_LIMIT_REACHED": {"LimitExceededException"},
    "THROTTLED": {"ThrottlingException"},
    "CREDENTIALS_INVALID": set(_credential_codes()),
    "KMS_SERVICE_EVENT": messages.RETRYABLE | {"ThrottlingException"},
    "KEY_UNAVAILABLE": {"KMSInvalidStateException"},
    "MULTI_REGION_REPLICA_DIVERGED": {"DisabledException", "KMSInvalidStateException"},
}
# Codes whose finding AWS would report as an AccessDenied naming this layer.
_LAYER_OF = {
    "KEY_POLICY_NO_ALLOW": "key-policy",
    "KEY_POLICY_PRINCIPAL_MISMATCH": "key-policy",
    "KEY_POLICY_CONDITION_UNMET": "key-policy",
    "KEY_POLICY_EXPLICIT_DENY": "key-policy",
    "CROSS_ACCOUNT_KEY_POLICY_MISSING": "key-policy",
    "AWS_MANAGED_KEY_MISUSE": "key-policy",
    "GRANT_OPERATION_MISSING": "key-policy",
    "GRANT_CONSTRAINT_UNMET": "key-policy",
    "GRANT_TOKEN_NEEDED": "key-policy",
    "MULTI_REGION_REPLICA_DIVERGED": "key-policy",
    "ALIAS_WRONG_TARGET": "key-policy",
    "KEY_POLICY_TOO_LARGE": "key-policy",
    "IAM_NO_ALLOW": "identity",
    "IAM_RESOURCE_MISMATCH": "identity",
    "IAM_EXPLICIT_DENY": "identity",
    "CROSS_ACCOUNT_IAM_MISSING": "identity",
    "PERMISSIONS_BOUNDARY_BLOCKS": "permissions-boundary",
    "SESSION_POLICY_BLOCKS": "session",
    "SCP_BLOCKS": "scp",
    "RCP_BLOCKS": "rcp",
    "VPC_ENDPOINT_POLICY_BLOCKS": "vpc-endpoint",
}
# The ambiguous ciphertext message lumps these together (catalog section 6).
_AMBIGUOUS = {
    "KEY_POLICY_NO_ALLOW",
    "KEY_POLICY_PRINCIPAL_MISMATCH",
    "KEY_POLICY_CONDITION_UNMET",
    "CROSS_ACCOUNT_KEY_POLICY_MISSING",
    "IAM_NO_ALLOW",
    "IAM_RESOURCE_MISMATCH",
    "CROSS_ACCOUNT_IAM_MISSING",
    "WRONG_REGION",
    "KEY_NOT_FOUND",
    "ALIAS_WRONG_TARGET",
    "INCORRECT_KEY",
}


def agrees(code: str, sig: messages.Signal) -> bool:
    """Whether AWS returning ``sig`` is consistent with ``code`` being the first failure."""
    if sig.ambiguous:
        return code in _AMBIGUOUS
    if sig.state is not None:
        return sig.state in _STATE_OF.get(code, set()) or code == "MULTI_REGION_REPLICA_DIVERGED"
    if sig.denied:
        if code == "ALIAS_WRONG_TARGET":
            # Denied on the key the alias reached, whatever layer that key's policies name.
            return True
        layer = _LAYER_OF.get(code)
        if layer is None:
            return False
        if code.startswith("GRANT_") and sig.layer == "identity":
            # A grant-based caller whose key policy delegates to IAM is told "no identity-based
            # policy allows" when its grant does not apply.
            return True
        # The SCP phrase can appear even when the denial is implicit (IAM troubleshooting page);
        # messages without a because-clause name no layer.
        return sig.layer in (None, layer)
    return sig.code in _CODES_OF.get(code, set())


def _rank(f: Finding) -> int:
    return ORDER.index(f.code) if f.code in ORDER else len(ORDER)


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
