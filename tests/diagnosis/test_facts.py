"""Facts: the principal's own IAM entity among the GetRole/GetUser calls of a bundle.

A collection also reads the roles and users the key policy names (playbook step 5), so a bundle
can hold GetRole for principals other than the caller, even in another account. GetRole and
GetUser identify the entity by RoleName / UserName (https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRole.html,
API_GetUser.html); IAM names are unique only within an account
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html).
"""

from __future__ import annotations

from typing import Any

from harness.diagnosis import diagnose
from harness.diagnosis.facts import Facts

from .builder import ACCT, OTHER, ROLE_ARN, ROLE_ID, Bundle, healthy, policy
from .cases import ADMIN, allow

ADMIN_ID = "AROAEXAMPLEADMINRL01"
DENIED = (
    "AccessDenied",
    f"User: arn:aws:sts::{ACCT}:assumed-role/investigator/x is not authorized to perform: "
    f"iam:GetRole on resource: role app",
)


def admin_role(b: Bundle, account: str = ACCT, name: str = "admin") -> Bundle:
    arn = ADMIN if account == ACCT else f"arn:aws:iam::{account}:role/{name}"
    role = {"RoleName": name, "RoleId": ADMIN_ID, "Arn": arn, "Path": "/",
            "CreateDate": "2026-01-01T00:00:00Z",
            "PermissionsBoundary": {"PermissionsBoundaryType": "Policy",
                                    "PermissionsBoundaryArn": f"arn:aws:iam::{account}:policy/b"}}  # fmt: skip
    return b.call("iam", "GetRole", {"RoleName": name}, {"Role": role}, account=account)


def own_role_denied() -> Bundle:
    """The caller's GetRole refused, the key policy's other role (step 5) read."""
    b = Bundle().describe_key()
    b.key_policy(
        policy(
            allow(ADMIN, "kms:*", sid="Admins"),
            allow("AROAOLDDELETEDROLE01", "kms:Decrypt", sid="AppDecrypt"),
        )
    )
    b.call("iam", "GetRole", {"RoleName": "app"}, error=DENIED)
    return admin_role(b).denied("resource-based policy")


def test_another_principals_role_is_not_the_callers() -> None:
    facts = Facts(own_role_denied().build())
    assert facts.role is None
    assert facts.identity_entity is None
    assert facts.boundary_arn is None  # admin's boundary is not the caller's
    assert facts.role_arn == ROLE_ARN  # from the session ARN, not admin's


def test_the_report_never_calls_another_role_the_callers_identity() -> None:
    report = diagnose(own_role_denied().build())
    text = " ".join(
        [f.summary for f in report.findings]
        + [e.detail for f in report.findings for e in f.evidence]
    )
    assert ADMIN_ID not in text
    assert f"the caller's identity is {ADMIN}" not in text
    assert "iam:GetRole" in {u.call for u in report.unreadable}


def test_the_callers_role_is_found_whatever_the_order() -> None:
    b = admin_role(Bundle())
    b.role()  # the caller's own GetRole, recorded after step 5's
    facts = Facts(b.build())
    assert facts.role is not None and facts.role["RoleId"] == ROLE_ID
    assert facts.role_arn == ROLE_ARN


def test_a_role_of_the_same_name_in_another_account_is_not_the_callers() -> None:
    b = Bundle().call("iam", "GetRole", {"RoleName": "app"}, error=DENIED)
    admin_role(b, account=OTHER, name="app")
    assert Facts(b.build()).role is None


def test_users_are_matched_by_user_name_and_have_no_role() -> None:
    principal = f"arn:aws:iam::{ACCT}:user/alice"
    b = admin_role(Bundle(principal=principal))

    def user(name: str, user_id: str) -> dict[str, Any]:
        return {"User": {"UserName": name, "UserId": user_id, "Path": "/",
                         "Arn": f"arn:aws:iam::{ACCT}:user/{name}",
                         "CreateDate": "2026-01-01T00:00:00Z"}}  # fmt: skip

    b.call("iam", "GetUser", {"UserName": "bob"}, user("bob", "AIDAEXAMPLEBOB000001"))
    b.call("iam", "GetUser", {"UserName": "alice"}, user("alice", "AIDAEXAMPLEALICE0001"))
    facts = Facts(b.build())
    assert facts.user is not None and facts.user["UserId"] == "AIDAEXAMPLEALICE0001"
    assert facts.role is None and facts.role_arn is None


def test_healthy_bundle_still_reads_the_callers_role() -> None:
    facts = Facts(healthy().build())
    assert facts.identity_entity is not None and facts.identity_entity["Arn"] == ROLE_ARN
