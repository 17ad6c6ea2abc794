"""Each reason `check` gives for rejecting a fix that works, decided on policies alone.

Expectations from AWS documentation:
- key-policy-overview.html (Principal element): `"Principal": "*"` or `{"AWS": "*"}` in an Allow
  gives every principal of every AWS account access unless a condition limits it.
- key-policy-default.html: `kms:*` lets a principal administer the key (PutKeyPolicy,
  ScheduleKeyDeletion); the account's root statement with kms:* is the default key policy.
- conditions-kms.html#conditions-kms-caller-account: kms:CallerAccount limits a statement to
  callers of one account; aws:PrincipalArn (reference_policies_condition-keys.html) to one
  principal.
- reference_policies_evaluation-logic.html: an explicit Deny overrides any Allow; negated
  operators (StringNotEquals) match when the value differs, so they never narrow an Allow.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from harness.workshop.legitimacy import SetupView, analyse

ACCOUNT = "700000420001"
OTHER = "222222222222"
APP = f"arn:aws:iam::{ACCOUNT}:role/app"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/admin"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROOT = {
    "Sid": "EnableIam",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
    "Action": "kms:*",
    "Resource": "*",
}
APP_DECRYPT = {
    "Sid": "App",
    "Effect": "Allow",
    "Principal": {"AWS": APP},
    "Action": "kms:Decrypt",
    "Resource": "*",
}
ADMINS = {
    "Sid": "Admins",
    "Effect": "Allow",
    "Principal": {"AWS": ADMIN},
    "Action": "kms:*",
    "Resource": "*",
}
PROTECT = {
    "Sid": "OnlyAppDecrypts",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "kms:Decrypt",
    "Resource": "*",
    "Condition": {"ArnNotEquals": {"aws:PrincipalArn": [APP]}},
}
APP_IAM = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY}],
}


def view(statements: list[dict[str, Any]], app_policies: list[Any] | None = None) -> SetupView:
    return SetupView(
        key_policies={"data": {"Version": "2012-10-17", "Statement": copy.deepcopy(statements)}},
        key_arns={"data": KEY},
        identity={"app": app_policies if app_policies is not None else [APP_IAM], "admin": []},
        principal_arns={"app": APP, "admin": ADMIN},
    )


INTENDED = view([ROOT, APP_DECRYPT, ADMINS, PROTECT])


def codes(actual: SetupView, intended: SetupView = INTENDED) -> list[str]:
    found = analyse(
        intended,
        actual,
        affected=APP,
        space_accounts=[ACCOUNT],
        outsider_account="700000000000",
        call_action="kms:Decrypt",
    )
    return sorted({r.code for r in found})


def plus(statement: dict[str, Any], *, base: list[dict[str, Any]] | None = None) -> SetupView:
    return view((base or [ROOT, ADMINS, PROTECT]) + [statement])


def test_the_intended_fix_passes() -> None:
    assert codes(view([ROOT, APP_DECRYPT, ADMINS, PROTECT])) == []


def test_an_equivalent_fix_written_differently_passes() -> None:
    # Same meaning as the intended statement: the role in a list, another Sid, Resource list.
    other = {
        "Sid": "LetTheAppRead",
        "Effect": "Allow",
        "Principal": {"AWS": [APP]},
        "Action": ["kms:Decrypt"],
        "Resource": ["*"],
    }
    assert codes(plus(other)) == []


@pytest.mark.parametrize(
    "principal",
    ["*", {"AWS": "*"}, {"AWS": [APP, "*"]}],
    ids=["star", "aws-star", "list-with-star"],
)
def test_principal_star_without_condition_is_rejected(principal: Any) -> None:
    statement = {
        "Effect": "Allow",
        "Principal": principal,
        "Action": "kms:Decrypt",
        "Resource": "*",
    }
    assert codes(plus(statement)) == ["KEY_POLICY_OPEN_TO_EVERYONE"]


def test_a_negated_condition_does_not_narrow_principal_star() -> None:
    statement = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:PrincipalAccount": OTHER}},
    }
    assert "KEY_POLICY_OPEN_TO_EVERYONE" in codes(plus(statement))


def test_principal_star_limited_to_the_app_role_passes() -> None:
    statement = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"ArnEquals": {"aws:PrincipalArn": APP}},
    }
    assert codes(plus(statement)) == []


def test_principal_star_limited_to_the_account_opens_it_to_every_principal_there() -> None:
    # Without the Deny, kms:CallerAccount lets any principal of the account decrypt, even one
    # whose IAM policies allow nothing.
    statement = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:CallerAccount": ACCOUNT}},
    }
    intended = view([ROOT, APP_DECRYPT, ADMINS])
    assert codes(view([ROOT, ADMINS, statement]), intended) == ["OPEN_TO_ACCOUNT_PRINCIPALS"]


def test_a_wildcard_arn_condition_is_caught_by_the_outsider_probe() -> None:
    statement = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}},
    }
    intended = view([ROOT, APP_DECRYPT, ADMINS])
    assert "OPEN_TO_OTHER_ACCOUNTS" in codes(view([ROOT, ADMINS, statement]), intended)


def test_every_kms_action_to_everyone_in_the_organization_is_rejected() -> None:
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "kms:*",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abcdef1234"}},
    }
    assert "ALL_KMS_ACTIONS_TO_EVERYONE" in codes(plus(statement))
    assert "KEY_POLICY_OPEN_TO_EVERYONE" not in codes(plus(statement))


@pytest.mark.parametrize("action", ["kms:*", "*", ["kms:Decrypt", "kms:*"]])
def test_every_kms_action_to_an_account_root_is_rejected(action: Any) -> None:
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
        "Action": action,
        "Resource": "*",
    }
    assert codes(plus(statement)) == ["ALL_KMS_ACTIONS_TO_ACCOUNT"]


def test_the_default_root_statement_is_not_flagged_when_the_intent_has_it() -> None:
    assert codes(view([ROOT, APP_DECRYPT, ADMINS, PROTECT])) == []


def test_adding_the_root_kms_star_statement_the_intent_lacks_is_rejected() -> None:
    intended = view([APP_DECRYPT, ADMINS, PROTECT])
    assert codes(view([APP_DECRYPT, ADMINS, PROTECT, ROOT]), intended) == [
        "ALL_KMS_ACTIONS_TO_ACCOUNT"
    ]


def test_kms_star_in_the_roles_identity_policy_is_rejected() -> None:
    broad = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}],
    }
    assert codes(view([ROOT, APP_DECRYPT, ADMINS, PROTECT], [broad])) == ["IAM_ALL_KMS_ACTIONS"]


def test_removing_a_deny_that_protects_other_principals_is_rejected() -> None:
    found = analyse(
        INTENDED,
        view([ROOT, APP_DECRYPT, ADMINS]),
        affected=APP,
        space_accounts=[ACCOUNT],
        outsider_account="700000000000",
        call_action="kms:Decrypt",
    )
    assert {r.code for r in found} == {"DENY_PROTECTION_REMOVED"}
    assert any("'OnlyAppDecrypts'" in r.reason and ADMIN in r.reason for r in found)


def test_narrowing_the_deny_only_for_the_affected_principal_passes() -> None:
    # The intent exempts the app from the Deny; exempting it with another operator is equivalent.
    rewritten = copy.deepcopy(PROTECT)
    rewritten["Condition"] = {"StringNotEquals": {"aws:PrincipalArn": [APP]}}
    assert codes(view([ROOT, APP_DECRYPT, ADMINS, rewritten])) == []


def test_exempting_everyone_from_the_deny_is_rejected() -> None:
    weakened = copy.deepcopy(PROTECT)
    weakened["Condition"] = {"ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:*"]}}
    assert "DENY_PROTECTION_REMOVED" in codes(view([ROOT, APP_DECRYPT, ADMINS, weakened]))
