"""NotPrincipal exempts exactly the principals it names, for every principal form.

IAM User Guide, reference_policies_elements_notprincipal.html:
- "When you use NotPrincipal in the same policy statement as "Effect": "Deny", the actions specified
  in the policy statement are explicitly denied to all principals except for the ones specified."
- Its examples exempt a user by listing "the ARN of both the user Bob and the AWS account that Bob
  belongs to", and an assumed-role session by listing "the ARN of the assumed-role user ..., the
  role ..., and the AWS account that the role belongs to": the account ARN alone exempts the
  account principal (the root user), not the account's users, roles or sessions, and a role ARN
  does not exempt the role's sessions.
- "When you specify an assumed-role session in a NotPrincipal element, you cannot use a wildcard
  (*) to mean "all sessions". Principals must always name a specific session."

The property: a key policy Deny with NotPrincipal ends in ExplicitDeny for a caller exactly when no
listed value names that caller itself (same account and partition, same kind, same name).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.policy import evaluate

A = "111111111111"
B = "222222222222"
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def forms(acct: str) -> dict[str, str]:
    """One caller of each principal form in `acct`, by form name."""
    return {
        "root": f"arn:aws:iam::{acct}:root",
        "role": f"arn:aws:iam::{acct}:role/app",
        "session": f"arn:aws:sts::{acct}:assumed-role/app/job-1",
        "other-session": f"arn:aws:sts::{acct}:assumed-role/app/job-2",
        "user": f"arn:aws:iam::{acct}:user/alice",
        "pathed-user": f"arn:aws:iam::{acct}:user/ops/bob",
        "federated": f"arn:aws:sts::{acct}:federated-user/carol",
    }


CALLERS = [arn for acct in (A, B) for arn in forms(acct).values()] + [
    "s3.amazonaws.com",
    "logs.us-east-1.amazonaws.com",
]

# (Principal type, value, the one caller it names or None). An account ARN or bare account id
# names the account principal, which is the account's root user as a caller.
VALUES: list[tuple[str, str, str | None]] = []
for _acct in (A, B):
    for _form, _arn in forms(_acct).items():
        VALUES.append(("AWS", _arn, _arn))
    VALUES.append(("AWS", _acct, f"arn:aws:iam::{_acct}:root"))
VALUES += [
    ("Service", "s3.amazonaws.com", "s3.amazonaws.com"),
    ("Service", "ec2.amazonaws.com", "ec2.amazonaws.com"),
    # S3's canonical user ids name no IAM principal; a KMS caller is never one.
    ("CanonicalUser", "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be", None),
]


def deny_doc(caller: str, not_principal: Any) -> dict[str, Any]:
    return {
        "request": {"principal": caller, "action": "kms:Decrypt", "resource": KEY},
        "key_policy": {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"},
                {
                    "Effect": "Deny",
                    "NotPrincipal": not_principal,
                    "Action": "kms:*",
                    "Resource": "*",
                },
            ],
        },
    }


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(CALLERS),
    st.lists(st.sampled_from(VALUES), min_size=1, max_size=4, unique=True),
)
def test_notprincipal_exempts_only_the_named_principals(
    caller: str, listed: list[tuple[str, str, str | None]]
) -> None:
    element: dict[str, list[str]] = {}
    for ptype, value, _ in listed:
        element.setdefault(ptype, []).append(value)
    exempt = any(named == caller for _, _, named in listed)
    decision = evaluate(deny_doc(caller, element)).decision
    if exempt:
        assert decision != "ExplicitDeny", (caller, element)
    else:
        assert decision == "ExplicitDeny", (caller, element)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([c for c in CALLERS if not c.endswith(".amazonaws.com")]))
def test_notprincipal_wildcard_exempts_every_aws_principal(caller: str) -> None:
    # "*" names every principal (reference_policies_elements_principal.html, "All principals"),
    # so a Deny that exempts "*" denies no AWS principal.
    assert evaluate(deny_doc(caller, {"AWS": "*"})).decision != "ExplicitDeny"
    assert evaluate(deny_doc(caller, "*")).decision != "ExplicitDeny"


def test_account_arn_exempts_the_root_user_but_not_the_account_role_session() -> None:
    # The case the issue names, spelled out once beside the property.
    for value in (f"arn:aws:iam::{A}:root", A):
        assert evaluate(deny_doc(forms(A)["root"], {"AWS": value})).decision == "Allowed"
        for form in ("role", "session", "user", "federated"):
            result = evaluate(deny_doc(forms(A)[form], {"AWS": value}))
            assert result.decision == "ExplicitDeny", (form, value)
            assert result.blocked_by == ["key-policy"]


def test_doc_example_role_role_session_and_account_exempts_the_session() -> None:
    # The page's role example lists the session, the role and the account: the session is exempt.
    listed = [forms(A)["session"], forms(A)["role"], f"arn:aws:iam::{A}:root"]
    assert evaluate(deny_doc(forms(A)["session"], {"AWS": listed})).decision == "Allowed"
    assert evaluate(deny_doc(forms(A)["other-session"], {"AWS": listed})).decision == (
        "ExplicitDeny"
    )
