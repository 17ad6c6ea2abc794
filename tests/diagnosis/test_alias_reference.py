"""Catalog row 14: an alias *name* (or bare key id) is resolved in the caller's own account and
Region (key-policy-modifying-external-accounts.html#cross-account-use: to use a KMS key in another
account, "you must use the key ARN or alias ARN"; alias-using.html). When the caller has an alias of
the same name, KMS uses the caller's own key: the failure (AccessDenied on that key, or
IncorrectKeyException for ciphertext of the other account's key) is caused by the reference, not
by the key policy or IAM of the key it happened to reach.
"""

from __future__ import annotations

from typing import Any

from harness.diagnosis import diagnose

from .builder import ACCT, OTHER, REGION, SESSION_ARN, Bundle, policy, root_statement

ALIAS = "alias/shared-data"
MINE_ID = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa"
MINE_ARN = f"arn:aws:kms:{REGION}:{ACCT}:key/{MINE_ID}"
THEIRS_ID = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb"
THEIRS_ARN = f"arn:aws:kms:{REGION}:{OTHER}:key/{THEIRS_ID}"


def _bundle(*, key_account: str = OTHER, read_theirs: bool = True) -> Bundle:
    b = Bundle(key=ALIAS, key_account=key_account)
    b.describe_key(KeyId=MINE_ID, Arn=MINE_ARN)
    b.key_policy(policy(root_statement()))
    # The role's IAM policy allows the other account's key, as the application intends.
    b.role().inline(
        "use-shared",
        policy({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": THEIRS_ARN}),
    )
    b.grants([]).aliases(
        [
            {
                "AliasName": ALIAS,
                "AliasArn": f"arn:aws:kms:{REGION}:{ACCT}:{ALIAS}",
                "TargetKeyId": MINE_ID,
            }
        ]
    )
    if read_theirs:
        b.call(
            "kms",
            "ListAliases",
            {},
            {"Aliases": [{"AliasName": ALIAS, "TargetKeyId": THEIRS_ID}], "Truncated": False},
            account=OTHER,
        )
    return b


def _denied_on_mine(b: Bundle) -> dict[str, Any]:
    return b.observed(
        "AccessDeniedException",
        f"User: {SESSION_ARN} is not authorized to perform: kms:Decrypt on resource: {MINE_ARN} "
        "because no identity-based policy allows the kms:Decrypt action",
    ).build()


def test_same_named_alias_in_the_callers_account_is_the_root_cause_not_iam() -> None:
    report = diagnose(_denied_on_mine(_bundle()))
    assert report.primary == "ALIAS_WRONG_TARGET", report.codes()
    f = report.finding("ALIAS_WRONG_TARGET")
    assert f is not None
    assert THEIRS_ARN in f.fix.cli and MINE_ARN in f.summary
    assert report.agreement is not None and report.agreement.agrees


def test_incorrect_key_for_the_other_accounts_ciphertext_names_the_alias_arn() -> None:
    b = _bundle(read_theirs=False).observed(
        "IncorrectKeyException",
        "The key ID in the request does not identify a KMS key that can perform this operation.",
    )
    report = diagnose(b.build())
    assert report.primary == "ALIAS_WRONG_TARGET", report.codes()
    f = report.finding("ALIAS_WRONG_TARGET")
    assert f is not None and f"arn:aws:kms:{REGION}:{OTHER}:{ALIAS}" in f.fix.cli


def test_near_miss_alias_of_the_callers_own_key_is_not_a_reference_problem() -> None:
    report = diagnose(_denied_on_mine(_bundle(key_account=ACCT, read_theirs=False)))
    assert "ALIAS_WRONG_TARGET" not in report.codes()
    assert report.primary == "IAM_RESOURCE_MISMATCH", report.codes()
