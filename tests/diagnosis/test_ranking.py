"""Ranking, the observed error's agreement, AWS's message text as evidence, honest uncertainty."""

from __future__ import annotations

from harness.diagnosis import diagnose

from . import cases
from .builder import ACCT, KEY_ARN, SESSION_ARN, Bundle, healthy, policy, root_statement


def _disabled_and_no_allow() -> Bundle:
    b = Bundle()
    b.describe_key(KeyState="Disabled", Enabled=False)
    b.key_policy(
        policy(cases.allow(cases.ADMIN, "kms:*", sid="Admins"))
    ).role().no_identity_policies()
    return b


def test_unconfirmed_order_authorization_before_key_state() -> None:
    # [V] catalog section 8 item 3: our documented choice (harness/diagnosis/ranking.py) is that
    # authorization is reported before key state when no observed error says otherwise.
    report = diagnose(_disabled_and_no_allow().build())
    assert report.primary == "KEY_POLICY_NO_ALLOW"
    assert "KEY_DISABLED" in report.codes()
    assert report.decision == "ImplicitDeny"


def test_observed_error_decides_the_order_when_present() -> None:
    # key-state.html: "DisabledException: <key ARN> is disabled." — AWS reported state first.
    report = diagnose(
        _disabled_and_no_allow().observed("DisabledException", f"{KEY_ARN} is disabled.").build()
    )
    assert report.primary == "KEY_DISABLED"
    assert report.decision == "Failed"
    assert report.agreement is not None and report.agreement.agrees


def test_access_denied_agrees_with_the_policy_finding() -> None:
    report = diagnose(_disabled_and_no_allow().denied("resource-based policy").build())
    assert report.primary == "KEY_POLICY_NO_ALLOW"
    assert report.agreement is not None and report.agreement.agrees


def test_disagreement_is_reported() -> None:
    # The key policy names nobody for the caller, but the error says identity-based policy.
    b = _disabled_and_no_allow()
    b.calls = [c for c in b.calls if c["operation"] != "DescribeKey"]
    b.describe_key()
    report = diagnose(b.denied("identity-based policy").build())
    assert report.primary == "KEY_POLICY_NO_ALLOW"
    assert report.agreement is not None and not report.agreement.agrees
    assert "identity" in report.agreement.note
    assert report.to_dict()["observed_error"]["agrees"] is False


def test_scp_from_message_text_when_organizations_is_unreadable() -> None:
    # IAM troubleshoot_access-denied.html: "with an explicit deny in a service control policy".
    report = diagnose(cases.scp_message_only())
    assert report.primary == "SCP_BLOCKS"
    scp = report.finding("SCP_BLOCKS")
    assert scp is not None
    assert any("explicit deny in a service control policy" in e.detail for e in scp.evidence)
    assert any("not readable" in e.detail for e in scp.evidence)
    assert "INVESTIGATOR_ACCESS_DENIED" in report.codes()


def test_key_policy_from_message_when_unreadable() -> None:
    b = (
        Bundle()
        .describe_key()
        .key_policy_error()
        .role()
        .no_identity_policies()
        .denied("resource-based policy")
    )
    report = diagnose(b.build())
    assert report.primary == "KEY_POLICY_NO_ALLOW"
    assert report.decision == "ImplicitDeny"
    assert "INVESTIGATOR_ACCESS_DENIED" in report.codes()


def test_unreadable_key_policy_without_message_is_unknown() -> None:
    report = diagnose(cases.investigator_denied())
    assert report.decision == "Unknown"
    assert report.primary == "INVESTIGATOR_ACCESS_DENIED"
    f = report.finding("INVESTIGATOR_ACCESS_DENIED")
    assert f is not None and "kms:GetKeyPolicy" in f.summary
    assert report.to_dict()["unreadable"] == [
        {"call": "kms:GetKeyPolicy", "error": "AccessDeniedException"}
    ]


def test_ambiguous_ciphertext_message_with_key_policy_evidence() -> None:
    # catalog section 3: the ciphertext-only message lumps no key / wrong Region / no permission.
    b = healthy()
    b.calls = [c for c in b.calls if c["operation"] != "GetKeyPolicy"]
    b.key_policy(policy(cases.allow(cases.ADMIN, "kms:*", sid="Admins")))
    b.observed(
        "AccessDeniedException",
        "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.",
    )
    report = diagnose(b.build())
    assert report.primary == "KEY_POLICY_NO_ALLOW"
    assert report.agreement is not None and report.agreement.agrees


def test_ambiguous_message_in_another_region() -> None:
    report = diagnose(cases.wrong_region_ciphertext())
    assert report.primary == "WRONG_REGION"
    assert report.decision == "Failed"


def test_cloudtrail_accepts_access_denied_without_exception_suffix() -> None:
    # catalog section 3: CloudTrail records "AccessDenied" where the API says AccessDeniedException.
    b = Bundle()
    b.describe_key().key_policy(policy(root_statement())).role().no_identity_policies()
    msg = f"User: {SESSION_ARN} is not authorized to perform: kms:Decrypt on resource: {KEY_ARN} because no identity-based policy allows the kms:Decrypt action"
    b.cloudtrail(cases.ct_event("Decrypt", error=("AccessDenied", msg)))
    report = diagnose(b.build())
    assert report.primary == "IAM_NO_ALLOW"
    assert any(e.call == "kmslab evaluate" for e in report.findings[0].evidence)


def test_nothing_wrong_is_no_fault_found_with_next_checks() -> None:
    report = diagnose(cases.healthy_bundle())
    assert report.primary is None and report.decision == "Allowed"
    assert report.headline == "NO_FAULT_FOUND"
    f = report.finding("NO_FAULT_FOUND")
    assert f is not None and "VPC endpoint" in f.summary and "1 hour" in f.summary


def test_unexplained_observed_error_is_unknown_not_allowed() -> None:
    report = diagnose(cases.healthy_but_denied())
    assert report.primary is None
    assert report.decision == "Unknown"
    assert report.agreement is not None and not report.agreement.agrees


def test_principal_mismatch_names_the_kind_of_mismatch() -> None:
    reasons = {
        "session": (cases.mismatch_session, "role-session ARN"),
        "account": (cases.mismatch_account, f"account {cases.OTHER}"),
        "unique id": (cases.mismatch_unique_id, "deleted and recreated"),
        "type": (cases.mismatch_type, "names an IAM user"),
    }
    for label, (build, text) in reasons.items():
        report = diagnose(build())
        assert report.primary == "KEY_POLICY_PRINCIPAL_MISMATCH", label
        f = report.finding("KEY_POLICY_PRINCIPAL_MISMATCH")
        assert f is not None, label
        assert any(text in e.detail for e in f.evidence), (label, f.evidence)
        assert cases.ROLE_ARN in f.fix.summary  # replace with the role ARN, never the session


def test_cross_account_alias_name() -> None:
    report = diagnose(cases.alias_cross_account())
    assert report.primary == "ALIAS_NOT_FOUND"
    f = report.finding("ALIAS_NOT_FOUND")
    assert f is not None and cases.OTHER in f.summary and "key ARN" in f.summary


def test_condition_unmet_names_the_condition() -> None:
    f = diagnose(cases.condition_unmet()).finding("KEY_POLICY_CONDITION_UNMET")
    assert f is not None
    assert "kms:ViaService" in f.summary and "s3.us-east-1.amazonaws.com" in f.summary


def test_replica_divergence_is_the_cause_of_the_missing_statement() -> None:
    # multi-region-keys-auth.html: related keys' policies are never synchronized; the drifted
    # replica is what to fix (align it), the missing statement is its symptom.
    report = diagnose(cases.mrk_diverged())
    assert report.primary == "MULTI_REGION_REPLICA_DIVERGED"
    assert "KEY_POLICY_NO_ALLOW" in report.codes()
    f = report.finding("MULTI_REGION_REPLICA_DIVERGED")
    assert f is not None and "us-east-1" in f.summary


def test_decisions_by_kind() -> None:
    assert diagnose(cases.pending_deletion()).decision == "Failed"
    assert diagnose(cases.key_policy_deny()).decision == "ExplicitDeny"
    assert diagnose(cases.iam_none()).decision == "ImplicitDeny"
    assert diagnose(cases.context_mismatch()).decision == "Failed"


def test_fix_names_this_key_and_principal() -> None:
    for build, code in (
        (cases.no_allow, "KEY_POLICY_NO_ALLOW"),
        (cases.iam_none, "IAM_NO_ALLOW"),
        (cases.disabled, "KEY_DISABLED"),
    ):
        f = diagnose(build()).finding(code)
        assert f is not None
        assert KEY_ARN in f.fix.cli and f.fix.cli.startswith("aws ")
        assert KEY_ARN in f.summary and (SESSION_ARN in f.summary or "app" in f.summary)
    f = diagnose(cases.no_allow()).finding("KEY_POLICY_NO_ALLOW")
    assert f is not None and f"arn:aws:iam::{ACCT}:role/app" in f.fix.cli


def test_cloudtrail_failure_followed_by_success_is_history() -> None:
    # After a fix the same call succeeds; the older failed event must not be diagnosed again.
    b = healthy()
    b.cloudtrail(
        cases.ct_event(
            "Decrypt",
            error=("DisabledException", f"{KEY_ARN} is disabled."),
            time="2026-11-29T11:50:00Z",
        ),
        cases.ct_event("Decrypt", time="2026-11-29T11:59:00Z"),
    )
    report = diagnose(b.build())
    assert report.primary is None and report.decision == "Allowed"


def test_describe_key_state_overrides_an_old_cloudtrail_message() -> None:
    b = healthy()
    b.cloudtrail(cases.ct_event("Decrypt", error=("DisabledException", f"{KEY_ARN} is disabled.")))
    assert "KEY_DISABLED" not in diagnose(b.build()).codes()


def test_grant_used_within_the_second_it_was_created() -> None:
    # CloudTrail eventTime has whole seconds; CreationDate has fractions (grants.html, ct events).
    b = cases._grant_bundle(
        cases._grant(["Decrypt"], created="2026-11-29T11:59:00.600Z"), grant_tokens=0
    )
    b.cloudtrail(
        cases.ct_event(
            "Decrypt", error=("AccessDeniedException", "denied"), time="2026-11-29T11:59:00Z"
        )
    )
    report = diagnose(b.denied("resource-based policy").build())
    assert report.primary == "GRANT_TOKEN_NEEDED"


def test_latest_assume_role_of_the_session_decides() -> None:
    # LookupEvents returns newest first (awscloudtrail API_LookupEvents.html); two AssumeRole calls
    # in the same second: the later one (with kms:Decrypt) is the session in use.
    narrow = cases._assume(
        "i-0abc", policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    )
    wide = cases._assume(
        "i-0abc",
        policy({"Effect": "Allow", "Action": ["s3:GetObject", "kms:Decrypt"], "Resource": "*"}),
    )
    wide["eventID"] = "later"
    b = healthy().cloudtrail(wide, narrow)  # newest first, as LookupEvents lists them
    report = diagnose(b.build())
    assert "SESSION_POLICY_BLOCKS" not in report.codes()
    assert report.decision == "Allowed"
