"""Core layering rules, each from an AWS page (cited per test)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.errors import UsageError
from harness.policy import PolicyError, evaluate

KEY = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SESSION = "arn:aws:sts::111111111111:assumed-role/app/i-0abc"
ROLE = "arn:aws:iam::111111111111:role/app"
ROOT_STATEMENT = {
    "Sid": "EnableIAM",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
    "Action": "kms:*",
    "Resource": "*",
}


def pol(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: str = "kms:Decrypt", resource: str = KEY, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def doc(**kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "request": {"principal": SESSION, "action": "kms:Decrypt", "resource": KEY}
    }
    out.update(kw)
    return out


def test_iam_allow_counts_only_with_root_statement() -> None:
    # kms key-policy-default.html#key-policy-default-allow-root-enable-iam: without the account
    # statement, IAM policies have no effect; catalog row 1 message.
    r = evaluate(
        doc(
            key_policy=pol({**ROOT_STATEMENT, "Principal": {"AWS": ROLE}, "Action": "kms:Encrypt"}),
            identity_policies=[pol(allow())],
        )
    )
    assert r.decision == "ImplicitDeny"
    assert r.blocked_by == ["key-policy"]
    assert r.message.endswith("because no resource-based policy allows the kms:Decrypt action")
    r = evaluate(doc(key_policy=pol(ROOT_STATEMENT), identity_policies=[pol(allow())]))
    assert r.decision == "Allowed"
    assert r.allowed_by == ["key-policy", "identity"]


def test_role_named_in_key_policy_is_limited_by_boundary() -> None:
    # IAM reference_policies_evaluation-logic.html: a resource-based policy that grants to a role ARN
    # is limited by an implicit deny in a permissions boundary.
    kp = pol(
        {"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "kms:Decrypt", "Resource": "*"}
    )
    assert evaluate(doc(key_policy=kp)).decision == "Allowed"
    r = evaluate(doc(key_policy=kp, permissions_boundary=pol(allow("s3:*", "*"))))
    assert r.decision == "ImplicitDeny"
    assert r.blocked_by == ["permissions-boundary"]
    assert "because no permissions boundary allows the kms:Decrypt action" in r.message


def test_session_named_in_key_policy_is_not_limited_by_boundary() -> None:
    # Same page: a role-session ARN is not limited by an implicit deny in a boundary or session policy.
    kp = pol(
        {"Effect": "Allow", "Principal": {"AWS": SESSION}, "Action": "kms:Decrypt", "Resource": "*"}
    )
    r = evaluate(
        doc(
            key_policy=kp,
            permissions_boundary=pol(allow("s3:*", "*")),
            session_policy=pol(allow("s3:*", "*")),
        )
    )
    assert r.decision == "Allowed"


def test_explicit_deny_in_identity_wins_over_key_policy() -> None:
    # IAM evaluation logic: an explicit deny in any policy overrides any allow; message from
    # troubleshoot_access-denied.html.
    kp = pol({"Effect": "Allow", "Principal": {"AWS": SESSION}, "Action": "kms:*", "Resource": "*"})
    r = evaluate(
        doc(
            key_policy=kp,
            identity_policies=[pol({"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"})],
        )
    )
    assert r.decision == "ExplicitDeny"
    assert r.message.endswith("with an explicit deny in an identity-based policy")


def test_grant_subset_constraint_keys_case_insensitive_values_exact() -> None:
    # kms API_GrantConstraints.html: keys not case sensitive, values case sensitive.
    grant = {
        "GranteePrincipal": ROLE,
        "Operations": ["Decrypt"],
        "Constraints": {"EncryptionContextSubset": {"Dept": "IT"}},
    }
    base = doc(key_policy=pol(ROOT_STATEMENT), grants=[grant])
    base["request"]["encryption_context"] = {"dept": "IT"}
    assert evaluate(base).decision == "Allowed"
    base["request"]["encryption_context"] = {"Dept": "it"}
    assert evaluate(base).decision == "ImplicitDeny"


def test_malformed_policy_is_an_error_naming_the_place() -> None:
    with pytest.raises(PolicyError) as exc:
        evaluate(
            doc(
                key_policy=pol(
                    {**ROOT_STATEMENT, "Condition": {"StringEqualz": {"kms:ViaService": "x"}}}
                )
            )
        )
    assert isinstance(exc.value, UsageError)
    text = str(exc.value)
    assert "key_policy" in text and "statement 0" in text and "StringEqualz" in text


def test_parse_cache_never_carries_a_decision_between_requests() -> None:
    # Same policy texts, different grants and principals: each decision is made afresh
    # (kms grants.html: a grant allows only its grantee).
    import json

    kp = json.dumps(
        pol(
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111111111111:role/admin"},
                "Action": "kms:*",
                "Resource": "*",
            }
        )
    )
    grant = {"GranteePrincipal": ROLE, "Operations": ["Decrypt"]}
    assert evaluate(doc(key_policy=kp, grants=[grant])).decision == "Allowed"
    assert evaluate(doc(key_policy=kp)).decision == "ImplicitDeny"
    other = doc(key_policy=kp, grants=[grant])
    other["request"]["principal"] = "arn:aws:sts::111111111111:assumed-role/other/s"
    assert evaluate(other).decision == "ImplicitDeny"
