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
    # The other account's aliases were not read, but the caller's IAM policy names the one key of
    # that account it may decrypt with: the fix is the Decrypt naming it by key ARN.
    assert f is not None and THEIRS_ARN in f.fix.cli and f.fix.cli.startswith("aws kms decrypt ")


def test_near_miss_alias_of_the_callers_own_key_is_not_a_reference_problem() -> None:
    report = diagnose(_denied_on_mine(_bundle(key_account=ACCT, read_theirs=False)))
    assert "ALIAS_WRONG_TARGET" not in report.codes()
    assert report.primary == "IAM_RESOURCE_MISMATCH", report.codes()


def test_lab_collect_with_the_key_account_records_both_resolutions_of_the_alias_name() -> None:
    """Catalog scenario alias-name-same-named-local, investigated as `kmslab collect --key-account
    <owner>` would: the alias name is resolved (DescribeKey, ListAliases) in the caller's account
    and in the key's, the aliases of the key the name reached are listed with that key's account's
    credentials (no refused read), and the fix names the owner's key by ARN."""
    import dataclasses

    from harness.evidence import collect
    from harness.lab import LabServer
    from harness.scenarios.catalog import load_catalog
    from harness.scenarios.runner import Runner, investigation_request, issue_credentials, make_call

    scenario = next(s for s in load_catalog() if s.id == "alias-name-same-named-local")
    server = LabServer(upstream="moto", port=0)
    server.start()
    try:
        runner = Runner.for_lab(server.endpoint)
        provisioner, resolved = runner.provision(scenario)
        caller = issue_credentials(provisioner, scenario.call, scenario.setup, resolved)
        outcome = make_call(caller, scenario.call, resolved)
        assert outcome.code == "IncorrectKeyException"
        app, owner = (resolved.account[n] for n in ("app", "owner"))
        request = dataclasses.replace(investigation_request(caller.arn, outcome), key_account=owner)
        bundle = collect(
            request,
            runner.investigators.target(provisioner, app, request.region),
            runner.investigators.target(provisioner, owner, request.region),
        )
    finally:
        server.stop()
    alias = resolved.key_ref("alias/app-data")
    reads = {
        (c["operation"], c["account"], bool(c.get("params")))
        for c in bundle["calls"]
        if c["operation"] in ("DescribeKey", "ListAliases") and "response" in c
    }
    assert {("DescribeKey", app, True), ("DescribeKey", owner, True)} <= reads, reads
    assert {("ListAliases", app, False), ("ListAliases", owner, False)} <= reads, reads
    report = diagnose(bundle)
    assert report.primary == "ALIAS_WRONG_TARGET", report.codes()
    assert "INVESTIGATOR_ACCESS_DENIED" not in report.codes()
    f = report.finding("ALIAS_WRONG_TARGET")
    assert f is not None and alias in f.summary
    assert resolved.key["data"]["arn"] in f.fix.cli
