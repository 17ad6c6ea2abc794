"""Several actions per incident (contract section 6) on hand-written bundles.

AWS decides each KMS action on its own (policy-evaluation.html: the key policy, IAM and grants must
allow *the action* requested); a disabled key fails every cryptographic operation (key-state.html);
explicit denies are evaluated before any allow (IAM reference_policies_evaluation-logic.html).
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from harness.diagnosis import diagnose
from harness.diagnosis.render import render
from harness.policy import evaluate

from . import cases
from .builder import KEY_ARN, SESSION_ARN, deny, healthy, identity_allow, policy, root_statement

ACTIONS = ["kms:Decrypt", "kms:Encrypt"]


def _several(bundle: dict[str, Any], actions: list[str] = ACTIONS) -> dict[str, Any]:
    bundle["request"]["action"] = actions[0]
    bundle["request"]["actions"] = list(actions)
    return bundle


def _per_action(report: Any) -> dict[str, dict[str, Any]]:
    return {a["action"]: a for a in report.to_dict()["actions"]}


def _policy_arg(cli: str, flag: str) -> dict[str, Any]:
    for line in cli.splitlines():
        words = shlex.split(line, comments=True)
        if flag in words:
            doc: dict[str, Any] = json.loads(words[words.index(flag) + 1])
            return doc
    raise AssertionError(cli)


def test_one_action_allowed_the_other_not_and_the_fix_covers_both() -> None:
    b = healthy()
    b.calls = [c for c in b.calls if c["operation"] != "GetRolePolicy"]
    b.inline("use-key", policy(identity_allow("kms:Decrypt")))
    report = diagnose(_several(b.build()))
    per = _per_action(report)
    assert per["kms:Decrypt"]["decision"] == "Allowed" and per["kms:Decrypt"]["primary"] is None
    assert per["kms:Encrypt"]["primary"] == "IAM_NO_ALLOW"
    assert per["kms:Encrypt"]["decision"] == "ImplicitDeny"
    assert report.primary == "IAM_NO_ALLOW"  # the first action has none: the other's decides
    finding = report.finding("IAM_NO_ALLOW")
    assert finding is not None
    doc = _policy_arg(finding.fix.cli, "--policy-document")
    for action in ACTIONS:
        decision = evaluate(
            {
                "request": {"principal": SESSION_ARN, "action": action, "resource": KEY_ARN},
                "key_policy": policy(root_statement()),
                "identity_policies": [doc],
            }
        ).decision
        assert decision == "Allowed", action


def test_key_policy_fix_makes_every_action_work() -> None:
    report = diagnose(_several(cases.no_allow(), ["kms:Decrypt", "kms:GenerateDataKey"]))
    assert report.primary == "KEY_POLICY_NO_ALLOW"
    assert {a["primary"] for a in _per_action(report).values()} == {"KEY_POLICY_NO_ALLOW"}
    f = report.finding("KEY_POLICY_NO_ALLOW")
    assert f is not None
    new = _policy_arg(f.fix.cli, "--policy")
    for action in ("kms:Decrypt", "kms:GenerateDataKey"):
        req = {"principal": SESSION_ARN, "action": action, "resource": KEY_ARN}
        assert evaluate({"request": req, "key_policy": new}).decision == "Allowed", action


def test_a_more_fundamental_cause_of_a_later_action_is_the_overall_primary() -> None:
    # Decrypt lacks an IAM allow; Encrypt is explicitly denied by the key policy. Explicit denies
    # come first in AWS's evaluation, so the Deny is what to fix first.
    b = cases._key_policy(healthy(), policy(root_statement(), deny("kms:Encrypt", sid="NoEncrypt")))
    b.calls = [c for c in b.calls if c["operation"] != "GetRolePolicy"]
    b.inline("use-key", policy(identity_allow("kms:GenerateDataKey")))
    report = diagnose(_several(b.build()))
    per = _per_action(report)
    assert per["kms:Decrypt"]["primary"] == "IAM_NO_ALLOW"
    assert per["kms:Encrypt"]["primary"] == "KEY_POLICY_EXPLICIT_DENY"
    assert report.primary == "KEY_POLICY_EXPLICIT_DENY"
    assert {"IAM_NO_ALLOW", "KEY_POLICY_EXPLICIT_DENY"} <= set(report.codes())
    text = render(report, "text")
    assert "kms:Decrypt: ImplicitDeny - IAM_NO_ALLOW" in text
    assert "kms:Encrypt: ExplicitDeny - KEY_POLICY_EXPLICIT_DENY" in text


def test_disabled_key_fails_every_action_alike() -> None:
    bundle = cases.disabled()
    for call in bundle["calls"]:
        if call["operation"] == "GetRolePolicy":
            call["response"]["PolicyDocument"] = policy(identity_allow(ACTIONS))
    report = diagnose(_several(bundle))
    assert report.primary == "KEY_DISABLED"
    assert [a["primary"] for a in report.to_dict()["actions"]] == ["KEY_DISABLED"] * 2


def test_single_action_bundles_read_as_before() -> None:
    report = diagnose(cases.no_allow())
    out = report.to_dict()
    assert "actions" not in out and out["primary"] == "KEY_POLICY_NO_ALLOW"
