"""Fixes a person can apply (issue 11), on hand-written bundles kmslab did not collect.

Expectations come from AWS documentation, not from kmslab's output:
- key-policy-default.html: the root statement delegates to the account's IAM policies; a principal
  named in the key policy needs no IAM policy; without any statement that allows changing the
  key policy, "the KMS key becomes unmanageable" and only AWS Support can restore access.
- API_PutKeyPolicy.html: the lockout safety check refuses a policy that would not let the caller
  call PutKeyPolicy again ("The new key policy will not allow you to update the key policy in the
  future").
- orgs_manage_policies_scps_evaluation.html: an SCP Deny applies unless its conditions exclude the
  principal; at every level from the root down some SCP must allow the action (allow-list).
- organizations action-reference.html: ListParents / ListPoliciesForTarget / DescribePolicy can be
  called only from the management account or a delegated administrator.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from harness.diagnosis import diagnose
from harness.diagnosis.appliers import key_applier, lockout_safe
from harness.diagnosis.facts import Facts
from harness.policy import evaluate

from . import cases
from .builder import (
    ACCT,
    KEY_ARN,
    OTHER,
    ROLE_ARN,
    SESSION_ARN,
    allow,
    healthy,
    policy,
    root_statement,
)

ADMIN = cases.ADMIN


def _arg(cli: str, flag: str) -> str:
    """The value of ``flag`` in a command line, as the shell would pass it."""
    for line in cli.splitlines():
        words = shlex.split(line, comments=True)
        if flag in words:
            return words[words.index(flag) + 1]
    raise AssertionError(f"{flag} not in {cli!r}")


def _decide(key_policy: dict[str, Any], principal: str = SESSION_ARN, **more: Any) -> str:
    doc = {
        "request": {"principal": principal, "action": "kms:Decrypt", "resource": KEY_ARN},
        "key_policy": key_policy,
        **more,
    }
    return str(evaluate(doc).decision)


def test_key_policy_fix_runs_as_the_named_key_administrator_and_keeps_its_statements() -> None:
    report = diagnose(cases.no_allow())
    fix = report.finding("KEY_POLICY_NO_ALLOW")
    assert fix is not None
    assert fix.fix.applied_by == ADMIN
    new = json.loads(_arg(fix.fix.cli, "--policy"))
    assert _arg(fix.fix.cli, "--key-id") == KEY_ARN
    sids = [s.get("Sid") for s in new["Statement"]]
    assert "Admins" in sids  # the administrators' statement survives
    # A role named in the key policy needs no IAM policy of its own (key-policy-default.html).
    assert _decide(new) == "Allowed"
    assert "<" not in fix.fix.cli


def test_root_statement_means_an_iam_administrator_of_the_key_account() -> None:
    report = diagnose(cases.iam_none())
    f = report.finding("IAM_NO_ALLOW")
    assert f is not None
    assert f.fix.applied_by == f"arn:aws:iam::{ACCT}:root"
    doc = json.loads(_arg(f.fix.cli, "--policy-document"))
    assert _arg(f.fix.cli, "--role-name") == "app"
    assert (
        _decide(policy(root_statement()), identity_policies=[doc]) == "Allowed"
    )  # root statement + IAM allow


def test_nobody_can_change_the_key_policy_means_aws_support() -> None:
    # Only the application's (wrong) role is named; no root statement, no administrator.
    other = f"arn:aws:iam::{ACCT}:role/batch"
    bundle = (
        cases._key_policy(healthy(), policy(allow(other, "kms:Decrypt", sid="Batch")))
        .denied("resource-based policy")
        .build()
    )
    f = diagnose(bundle).finding("KEY_POLICY_NO_ALLOW")
    assert f is not None
    text = " ".join(f.fix.notes) + f.fix.summary
    assert "AWS Support" in text
    assert key_applier(Facts(bundle)).nobody


def test_a_root_statement_with_a_deny_on_policy_changes_is_not_an_applier() -> None:
    deny = {
        "Sid": "NoPolicyChanges",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "kms:PutKeyPolicy",
        "Resource": "*",
    }
    bundle = cases._key_policy(healthy(), policy(root_statement(), deny)).build()
    assert key_applier(Facts(bundle)).nobody


def test_lockout_check_gives_the_safe_form() -> None:
    facts = Facts(cases.no_allow())
    applier = key_applier(facts)
    assert applier.arn == ADMIN
    # A proposed policy without the administrators' statement would lock them out.
    proposed = policy(allow(ROLE_ARN, "kms:Decrypt", sid="App"))
    safe, note = lockout_safe(facts, proposed, applier)
    assert "lockout" in note and "bypass" in note
    put = {"request": {"principal": ADMIN, "action": "kms:PutKeyPolicy", "resource": KEY_ARN}}
    assert evaluate({**put, "key_policy": proposed}).decision != "Allowed"
    assert evaluate({**put, "key_policy": safe}).decision == "Allowed"
    # A policy that keeps them needs no change and no note.
    kept, none = lockout_safe(facts, facts.key_policy or {}, applier)
    assert kept == facts.key_policy and none == ""


def test_key_ids_starting_with_a_digit_make_valid_terraform_names() -> None:
    f = diagnose(cases.disabled()).finding("KEY_DISABLED")
    assert f is not None
    name = f.fix.terraform.split('"aws_kms_key" "', 1)[1].split('"', 1)[0]
    assert name[0].isalpha(), name
    assert _arg(f.fix.cli, "--key-id") == KEY_ARN


FULL = policy({"Effect": "Allow", "Action": "*", "Resource": "*"})


def _scp_decision(levels: list[list[dict[str, Any]]]) -> str:
    return str(
        evaluate(
            {
                "request": {"principal": SESSION_ARN, "action": "kms:Decrypt", "resource": KEY_ARN},
                "key_policy": policy(root_statement()),
                "identity_policies": [
                    policy({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY_ARN})
                ],
                "scps": levels,
            }
        ).decision
    )


def test_scp_deny_fix_exempts_the_caller_in_that_policy_by_its_id() -> None:
    f = diagnose(cases.scp_blocks()).finding("SCP_BLOCKS")
    assert f is not None
    assert _arg(f.fix.cli, "--policy-id") == "p-nokms"
    new = json.loads(_arg(f.fix.cli, "--content"))
    assert _scp_decision([[FULL], [FULL, new], [FULL]]) == "Allowed"
    assert "denies" in f.fix.summary and "exempt" in f.fix.summary
    assert "<" not in f.fix.cli


def test_scp_allow_list_without_kms_gets_the_actions_added_not_an_exemption() -> None:
    allow_list = policy({"Sid": "OnlyS3", "Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    bundle = (
        healthy()
        .org(
            "SERVICE_CONTROL_POLICY",
            [("r-abcd", [("p-full", FULL)]), (ACCT, [("p-allowlist", allow_list)])],
        )
        .denied("service control policy", explicit=True)
        .build()
    )
    f = diagnose(bundle).finding("SCP_BLOCKS")
    assert f is not None
    assert _arg(f.fix.cli, "--policy-id") == "p-allowlist"
    new = json.loads(_arg(f.fix.cli, "--content"))
    assert "allow-list" in f.fix.summary
    assert all("Condition" not in s for s in new["Statement"])  # no Deny to exempt from
    assert _scp_decision([[FULL], [new]]) == "Allowed"


def _member_investigation(management: str) -> dict[str, Any]:
    b = healthy()
    org = {"Id": "o-abc", "MasterAccountId": management, "FeatureSet": "ALL"}
    b.call("organizations", "DescribeOrganization", {}, {"Organization": org})
    b.call(
        "sts", "GetCallerIdentity", {}, {"Account": ACCT, "Arn": f"arn:aws:iam::{ACCT}:role/inv"}
    )
    b.call(
        "organizations",
        "ListParents",
        {"ChildId": ACCT},
        error=("AccessDeniedException", "You don't have permissions to access this resource."),
    )
    return b.denied("service control policy", explicit=True).build()


def test_member_account_cannot_read_the_organization_and_that_is_information() -> None:
    report = diagnose(_member_investigation(management=OTHER))
    assert "INVESTIGATOR_ACCESS_DENIED" not in report.codes()
    [info] = [u for u in report.to_dict()["unreadable"] if u["call"] == "organizations:ListParents"]
    assert info["severity"] == "info" and OTHER in info["reason"]
    scp = report.finding("SCP_BLOCKS")
    assert scp is not None and scp.fix.applied_by == f"arn:aws:iam::{OTHER}:root"


def test_the_management_account_refused_is_still_a_missing_permission() -> None:
    report = diagnose(_member_investigation(management=ACCT))
    assert "INVESTIGATOR_ACCESS_DENIED" in report.codes()


def test_expired_session_is_renewed_by_whoever_assumed_the_role() -> None:
    # id_credentials_temp_request.html: new temporary credentials come from AssumeRole again,
    # made by a principal the role's trust policy allows; CloudTrail's AssumeRole record names it.
    assume = cases._assume("i-0abc", policy({"Effect": "Allow", "Action": "*", "Resource": "*"}))
    assume["requestParameters"].pop("policy")
    b = healthy().cloudtrail(assume)
    b.observed("ExpiredTokenException", "The security token included in the request is expired")
    f = diagnose(b.build()).finding("CREDENTIALS_INVALID")
    assert f is not None
    assert f.fix.applied_by == f"arn:aws:iam::{ACCT}:user/deployer"
    assert _arg(f.fix.cli, "--role-arn") == ROLE_ARN
    assert _arg(f.fix.cli, "--role-session-name") == "i-0abc"


def test_session_policy_fix_keeps_what_the_session_policy_allowed_and_adds_the_action() -> None:
    # IAM access_policies.html#policies_session: the session's permissions are the intersection
    # of the role's policies and the session policy passed to AssumeRole.
    f = diagnose(cases.session_blocks()).finding("SESSION_POLICY_BLOCKS")
    assert f is not None
    new = json.loads(_arg(f.fix.cli, "--policy"))
    assert _arg(f.fix.cli, "--role-arn") == ROLE_ARN
    assert f.fix.applied_by == f"arn:aws:iam::{ACCT}:user/deployer"  # who assumed it (CloudTrail)
    assert "s3:GetObject" in json.dumps(new)  # what the old session policy allowed is kept
    doc = {
        "request": {"principal": SESSION_ARN, "action": "kms:Decrypt", "resource": KEY_ARN},
        "key_policy": policy(root_statement()),
        "identity_policies": [
            policy({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY_ARN})
        ],
        "session_policy": new,
    }
    assert evaluate(doc).decision == "Allowed"
