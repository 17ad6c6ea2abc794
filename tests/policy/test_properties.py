"""Properties every correct evaluator has (IAM reference_policies_evaluation-logic.html):
- an explicit Deny overrides any Allow, so adding one never turns a deny into an allow;
- Allows in a layer are ORed, so adding one never turns an allow into a deny;
- statements are unordered, so their order does not matter;
- action names and condition-key names are case-insensitive (reference_policies_elements_action.html,
  reference_policies_elements_condition.html).
"""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.policy import evaluate

KEY = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
CALLERS = [
    "arn:aws:sts::111111111111:assumed-role/app/i-0abc",
    "arn:aws:iam::111111111111:user/alice",
    "arn:aws:sts::222222222222:assumed-role/reader/job-1",
]
ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom"]
ACTION_PATTERNS = [
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:*",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
    "s3:*",
    "*",
]
RESOURCES = [
    "*",
    KEY,
    "arn:aws:kms:*:111111111111:key/*",
    "arn:aws:kms:us-east-1:111111111111:key/other",
]
PRINCIPALS: list[Any] = [
    "*",
    {"AWS": "arn:aws:iam::111111111111:root"},
    {"AWS": "222222222222"},
    {"AWS": "arn:aws:iam::111111111111:role/app"},
    {"AWS": "arn:aws:sts::111111111111:assumed-role/app/i-0abc"},
    {"AWS": "arn:aws:iam::111111111111:user/alice"},
    {"AWS": "arn:aws:iam::222222222222:role/reader"},
    {"AWS": "AROAEXAMPLEID1234567"},
]
CONDITIONS: list[dict[str, Any]] = [
    {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
    {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}},
    {"Bool": {"aws:SecureTransport": "true"}},
    {"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": ["Dept"]}},
    {"StringEquals": {"kms:EncryptionContext:Dept": "IT"}},
    {"StringEqualsIfExists": {"kms:CallerAccount": "111111111111"}},
    {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/app"}},
]


def statement(
    resource_policy: bool, effect: str | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    def build(
        eff: str, acts: list[str], res: str, pr: Any, cond: list[dict[str, Any]]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"Effect": eff, "Action": acts, "Resource": res}
        if resource_policy:
            out["Principal"] = pr
        if cond:
            merged: dict[str, Any] = {}
            for c in cond:
                for op, body in c.items():
                    merged.setdefault(op, {}).update(body)
            out["Condition"] = merged
        return out

    return st.builds(
        build,
        st.just(effect) if effect else st.sampled_from(["Allow", "Allow", "Deny"]),
        st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=3),
        st.sampled_from(RESOURCES),
        st.sampled_from(PRINCIPALS),
        st.lists(st.sampled_from(CONDITIONS), max_size=2),
    )


def policy(resource_policy: bool) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda s: {"Version": "2012-10-17", "Statement": s},
        st.lists(statement(resource_policy), min_size=1, max_size=4),
    )


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    ctx: dict[str, Any] = {}
    if draw(st.booleans()):
        ctx["kms:ViaService"] = "s3.us-east-1.amazonaws.com"
    if draw(st.booleans()):
        ctx["aws:PrincipalOrgID"] = "o-abc123"
    req: dict[str, Any] = {
        "principal": draw(st.sampled_from(CALLERS)),
        "action": draw(st.sampled_from(ACTIONS)),
        "resource": KEY,
        "context": ctx,
    }
    if draw(st.booleans()):
        req["encryption_context"] = {"Dept": draw(st.sampled_from(["IT", "it", "HR"]))}
    doc: dict[str, Any] = {"request": req, "key_policy": draw(policy(True))}
    doc["identity_policies"] = draw(st.lists(policy(False), max_size=2))
    if draw(st.booleans()):
        doc["permissions_boundary"] = draw(policy(False))
    if draw(st.booleans()):
        doc["session_policy"] = draw(policy(False))
    if draw(st.booleans()):
        doc["scps"] = draw(
            st.lists(st.lists(policy(False), min_size=1, max_size=2), min_size=1, max_size=2)
        )
    if draw(st.booleans()):
        doc["vpc_endpoint_policy"] = draw(policy(True))
    if draw(st.booleans()):
        doc["grants"] = [
            {
                "GranteePrincipal": draw(
                    st.sampled_from(
                        [
                            "arn:aws:iam::111111111111:role/app",
                            "arn:aws:iam::111111111111:user/alice",
                        ]
                    )
                ),
                "Operations": draw(
                    st.lists(
                        st.sampled_from(["Decrypt", "Encrypt", "GenerateDataKey"]),
                        min_size=1,
                        max_size=2,
                        unique=True,
                    )
                ),
            }
        ]
    return doc


# Where a statement can be added: (path to a policy, resource-based?).
def policy_slots(doc: dict[str, Any]) -> list[tuple[tuple[Any, ...], bool]]:
    slots: list[tuple[tuple[Any, ...], bool]] = [(("key_policy",), True)]
    slots += [(("identity_policies", i), False) for i in range(len(doc["identity_policies"]))]
    for name, res in (
        ("permissions_boundary", False),
        ("session_policy", False),
        ("vpc_endpoint_policy", True),
    ):
        if name in doc:
            slots.append(((name,), res))
    for i, level in enumerate(doc.get("scps", [])):
        slots += [(("scps", i, j), False) for j in range(len(level))]
    return slots


def get(doc: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    node: Any = doc
    for p in path:
        node = node[p]
    return node  # type: ignore[no-any-return]


SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(documents(), st.data())
def test_adding_a_deny_never_allows(doc: dict[str, Any], data: st.DataObject) -> None:
    before = evaluate(doc).decision
    path, res = data.draw(st.sampled_from(policy_slots(doc)))
    extra = data.draw(statement(res, "Deny"))
    changed = copy.deepcopy(doc)
    get(changed, path)["Statement"].append(extra)
    after = evaluate(changed).decision
    if before != "Allowed":
        assert after != "Allowed"
    assert not (before == "ExplicitDeny" and after != "ExplicitDeny")


@SETTINGS
@given(documents(), st.data())
def test_adding_an_allow_never_denies(doc: dict[str, Any], data: st.DataObject) -> None:
    before = evaluate(doc).decision
    path, res = data.draw(st.sampled_from(policy_slots(doc)))
    extra = data.draw(statement(res, "Allow"))
    changed = copy.deepcopy(doc)
    get(changed, path)["Statement"].append(extra)
    after = evaluate(changed).decision
    if before == "Allowed":
        assert after == "Allowed"
    if before == "ExplicitDeny":
        assert after == "ExplicitDeny"


@SETTINGS
@given(documents(), st.randoms(use_true_random=False))
def test_statement_order_does_not_matter(doc: dict[str, Any], rnd: random.Random) -> None:
    before = evaluate(doc)
    changed = copy.deepcopy(doc)
    for path, _ in policy_slots(changed):
        rnd.shuffle(get(changed, path)["Statement"])
    rnd.shuffle(changed["identity_policies"])
    after = evaluate(changed)
    assert (after.decision, after.blocked_by) == (before.decision, before.blocked_by)


def _recase(text: str, rnd: random.Random) -> str:
    return "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in text)


@pytest.mark.slow
@SETTINGS
@given(documents(), st.randoms(use_true_random=False))
def test_case_of_actions_and_condition_keys_does_not_matter(
    doc: dict[str, Any], rnd: random.Random
) -> None:
    before = evaluate(doc)
    changed = copy.deepcopy(doc)
    changed["request"]["action"] = _recase(changed["request"]["action"], rnd)
    changed["request"]["context"] = {
        _recase(k, rnd): v for k, v in changed["request"]["context"].items()
    }
    for path, _ in policy_slots(changed):
        for stmt in get(changed, path)["Statement"]:
            stmt["Action"] = [_recase(a, rnd) for a in stmt["Action"]]
            if "Condition" in stmt:
                stmt["Condition"] = {
                    op: {_recase(k, rnd): v for k, v in body.items()}
                    for op, body in stmt["Condition"].items()
                }
    after = evaluate(changed)
    assert (after.decision, after.blocked_by) == (before.decision, before.blocked_by)
