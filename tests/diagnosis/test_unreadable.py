"""Unreadable evidence: throttled is not denied, and only the caller's own IAM reads are identity.

KMS quotas are shared per account and Region by every caller, the investigator's reads included
(https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html); a throttled
request fails with ThrottlingException, HTTP 400, "You have exceeded the rate at which you may
call KMS. Reduce the frequency of your calls." (throttling.html, APIReference/CommonErrors.html),
and succeeds when retried later. AccessDenied, in contrast, names a missing permission
(https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).
The key policy names other principals; the collector reads their roles too (playbook step 5),
and GetRole identifies a role by RoleName (https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRole.html).
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.diagnosis import diagnose
from harness.diagnosis.facts import Facts
from harness.diagnosis.model import Diagnosis
from harness.diagnosis.render import render

from . import cases
from .builder import ACCT, KEY_ARN, OTHER, THROTTLED_MESSAGE, Bundle, healthy
from .test_facts import DENIED

POLICY_PARAMS = {"KeyId": KEY_ARN, "PolicyName": "default"}
ASK = "ask for these read-only permissions"


def _everything(report: Diagnosis) -> str:
    return render(report, "text") + render(report, "markdown") + json.dumps(report.to_dict())


def _key_policy_throttled(b: Bundle, *, not_sent: bool = False) -> Bundle:
    cases._without(b, "GetKeyPolicy")
    return b.throttled("kms", "GetKeyPolicy", POLICY_PARAMS, not_sent=not_sent)


def _path(report: Diagnosis) -> dict[str, str]:
    return {s.id: s.status for s in report.path}


# -- throttled evidence ----------------------------------------------------------------------


def test_throttled_key_policy_is_not_a_permission_problem() -> None:
    # An AccessDenied message without a because-clause names no layer (troubleshoot_access-denied).
    report = diagnose(_key_policy_throttled(healthy()).denied(None).build())
    assert "INVESTIGATOR_ACCESS_DENIED" not in report.codes()
    assert ASK not in _everything(report)
    assert report.to_dict()["unreadable"] == [
        {
            "call": "kms:GetKeyPolicy",
            "error": "ThrottlingException",
            "reason": "throttled, retry later",
        }
    ]
    # Without the key policy nothing is decided; AWS's AccessDenied stays unexplained.
    assert report.decision == "Unknown"
    assert report.primary == "THROTTLED"
    assert "NO_FAULT_FOUND" not in report.codes()
    assert report.agreement is not None and not report.agreement.agrees
    assert "could not be read" in report.agreement.note
    assert _path(report)["key-trust"] == "unknown"
    throttled = report.finding("THROTTLED")
    assert throttled is not None
    assert "kms:GetKeyPolicy" in {e.call for e in throttled.evidence}
    assert "retry later" in " ".join(e.detail for e in throttled.evidence)


def test_breaker_not_sent_records_read_as_throttled() -> None:
    report = diagnose(_key_policy_throttled(healthy(), not_sent=True).denied(None).build())
    assert "INVESTIGATOR_ACCESS_DENIED" not in report.codes()
    assert report.decision == "Unknown"
    assert report.to_dict()["unreadable"][0]["reason"] == "throttled, retry later"


def test_a_not_sent_note_alone_marks_a_read_throttled() -> None:
    # Whatever code a breaker-skipped call carries, it was never sent: nothing was refused.
    b = healthy()
    b.call("organizations", "ListParents", {"ChildId": ACCT}, error=("Error", "not sent"))
    b.calls[-1]["note"] = "not sent: organizations calls were throttled; sending more would ..."
    facts = Facts(b.build())
    assert [c.name for c in facts.throttled_reads] == ["organizations:ListParents"]
    assert facts.refused_reads == []


def test_aws_message_still_names_the_layer_when_the_key_policy_is_throttled() -> None:
    # "because no resource-based policy allows": the key policy (troubleshoot_access-denied).
    report = diagnose(_key_policy_throttled(healthy()).denied("resource-based policy").build())
    assert report.primary == "KEY_POLICY_NO_ALLOW"
    assert "THROTTLED" in report.codes()
    assert "INVESTIGATOR_ACCESS_DENIED" not in report.codes()
    assert ASK not in _everything(report)


def test_observed_throttling_with_throttled_evidence_ranks_throttled() -> None:
    b = _key_policy_throttled(healthy()).observed("ThrottlingException", THROTTLED_MESSAGE)
    report = diagnose(b.build())
    assert report.primary == "THROTTLED"
    assert report.decision == "Failed"
    assert report.agreement is not None and report.agreement.agrees
    assert "INVESTIGATOR_ACCESS_DENIED" not in report.codes()
    f = report.finding("THROTTLED")
    assert f is not None and "kms:GetKeyPolicy" in f.summary


def test_denied_and_throttled_reads_are_told_apart() -> None:
    b = cases._without(healthy(), "GetKeyPolicy", "ListGrants").key_policy_error()
    b.throttled("kms", "ListGrants", {"KeyId": KEY_ARN})
    report = diagnose(b.denied(None).build())
    denied = report.finding("INVESTIGATOR_ACCESS_DENIED")
    assert denied is not None and report.primary == "INVESTIGATOR_ACCESS_DENIED"
    assert "kms:GetKeyPolicy" in denied.summary and "kms:ListGrants" not in denied.summary
    assert "kms:ListGrants" not in denied.fix.cli
    assert {e.call for e in denied.evidence} == {"kms:GetKeyPolicy"}
    throttled = report.finding("THROTTLED")
    assert throttled is not None and {e.call for e in throttled.evidence} == {"kms:ListGrants"}
    assert report.decision == "Unknown"
    assert report.to_dict()["unreadable"] == [
        {"call": "kms:GetKeyPolicy", "error": "AccessDeniedException"},
        {
            "call": "kms:ListGrants",
            "error": "ThrottlingException",
            "reason": "throttled, retry later",
        },
    ]


def test_throttled_describe_key_leaves_resolution_and_state_unknown() -> None:
    b = cases._without(healthy(), "DescribeKey").throttled("kms", "DescribeKey", {"KeyId": KEY_ARN})
    report = diagnose(b.denied("resource-based policy").build())
    path = _path(report)
    assert path["resolve"] == path["state"] == path["usage"] == "unknown"
    assert "KEY_NOT_FOUND" not in report.codes()
    assert report.decision == "Unknown"


def test_throttled_read_a_decision_does_not_need_leaves_it_allowed() -> None:
    # ListAliases is not needed to authorize Decrypt by key ARN: the call is still allowed.
    b = cases._without(healthy(), "ListAliases").throttled("kms", "ListAliases", {})
    report = diagnose(b.build())
    assert report.decision == "Allowed"
    assert report.primary is None
    assert "INVESTIGATOR_ACCESS_DENIED" not in report.codes()


def test_recorded_throttled_scenario_asks_for_no_permission() -> None:
    # tests/diagnosis/catalog/throttled.json: the lab throttles KMS for the workload and for the
    # investigator alike; the collector's breaker stops sending after two throttled reads.
    record = json.loads((Path(__file__).parent / "catalog" / "throttled.json").read_text())
    calls = record["bundle"]["calls"]
    assert any(str(c.get("note", "")).startswith("not sent:") for c in calls)
    report = diagnose(record["bundle"])
    assert report.primary == "THROTTLED"
    assert "INVESTIGATOR_ACCESS_DENIED" not in report.codes()
    assert ASK not in _everything(report)
    unreadable = report.to_dict()["unreadable"]
    assert unreadable and all(u["reason"] == "throttled, retry later" for u in unreadable)


# -- only the caller's own identity reads are identity evidence ------------------------------


def _other_role_denied(b: Bundle, account: str = ACCT, first: bool = False) -> Bundle:
    """Step 5's GetRole of a role the key policy names, refused."""
    b.call("iam", "GetRole", {"RoleName": "admin"}, error=DENIED, account=account)
    if first:
        b.calls.insert(0, b.calls.pop())
    return b


def test_another_roles_denied_get_role_is_not_missing_caller_evidence() -> None:
    for account in (ACCT, OTHER):
        b = _other_role_denied(healthy(), account)
        facts = Facts(b.build())
        assert facts.identity_unreadable == []
        report = diagnose(b.build())
        assert report.decision == "Allowed", account
        f = report.finding("INVESTIGATOR_ACCESS_DENIED")
        assert f is not None and f.severity == "warning"  # still reported, but not blocking


def test_another_roles_denied_get_role_keeps_the_identity_layer_decided() -> None:
    b = Bundle().describe_key().key_policy(cases.policy(cases.root_statement()))
    b.role().no_identity_policies()
    report = diagnose(_other_role_denied(b).denied(None).build())
    assert report.primary == "IAM_NO_ALLOW"
    assert report.decision == "ImplicitDeny"
    assert _path(report)["iam"] == "fail"


def test_the_callers_own_denied_get_role_is_missing_identity_evidence() -> None:
    b = cases._without(healthy(), "GetRole")
    b.call("iam", "GetRole", {"RoleName": "app"}, error=DENIED)
    report = diagnose(b.build())
    assert [c.params for c in Facts(b.build()).identity_unreadable] == [{"RoleName": "app"}]
    f = report.finding("INVESTIGATOR_ACCESS_DENIED")
    assert f is not None and f.severity == "error"
    assert report.decision == "Unknown"


def test_the_callers_denied_get_role_counts_behind_another_roles() -> None:
    # The report lists iam:GetRole once; the caller's own failure must not hide behind it.
    b = cases._without(healthy(), "GetRole")
    b.call("iam", "GetRole", {"RoleName": "app"}, error=DENIED)
    _other_role_denied(b, first=True)
    facts = Facts(b.build())
    assert [c.params["RoleName"] for c in facts.identity_unreadable] == ["app"]
    assert diagnose(b.build()).decision == "Unknown"


def test_throttled_own_identity_read_leaves_identity_unknown() -> None:
    b = cases._without(healthy(), "GetRolePolicy")
    b.throttled("iam", "GetRolePolicy", {"RoleName": "app", "PolicyName": "use-key"})
    report = diagnose(b.denied(None).build())
    assert "INVESTIGATOR_ACCESS_DENIED" not in report.codes()
    assert "IAM_NO_ALLOW" not in report.codes()
    assert report.decision == "Unknown"


def test_ec2_unauthorized_operation_is_a_refused_read() -> None:
    # EC2 refuses with Client.UnauthorizedOperation, an HTTP 403
    # (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html), not with
    # AccessDenied: the investigator still lacks ec2:DescribeVpcEndpoints and must be told so.
    b = healthy().call(
        "ec2",
        "DescribeVpcEndpoints",
        {},
        error=("UnauthorizedOperation", "You are not authorized to perform this operation."),
    )
    report = diagnose(b.build())
    denied = report.finding("INVESTIGATOR_ACCESS_DENIED")
    assert denied is not None and "ec2:DescribeVpcEndpoints" in denied.summary
    (unread,) = [u for u in report.unreadable if u.call == "ec2:DescribeVpcEndpoints"]
    assert unread.reason == "access denied: needs ec2:DescribeVpcEndpoints"
