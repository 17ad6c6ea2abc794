"""Bad input never produces a traceback or an Allow: only PolicyError or a decision.

Contract section 1 (exit 2, one line) and the evaluator issue ("never an Allow because something
could not be parsed").
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.policy import PolicyError, evaluate

KEY = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
# Allows only through the key policy naming the session; anything broken elsewhere must not help.
BASE: dict[str, Any] = {
    "request": {
        "principal": "arn:aws:sts::111111111111:assumed-role/app/i-0abc",
        "action": "kms:Decrypt",
        "resource": KEY,
    },
    "key_policy": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    },
    "identity_policies": [
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
        }
    ],
}

junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = [
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "Condition",
    "Sid",
]
PLACES = [
    ("key_policy",),
    ("identity_policies",),
    ("identity_policies", 0),
    ("identity_policies", 0, "Statement"),
    ("permissions_boundary",),
    ("scps",),
    ("grants",),
    ("request", "context"),
    ("request", "principal"),
    ("request", "action"),
    ("request",),
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PLACES), junk)
def test_junk_anywhere_is_an_error_or_a_denial(place: tuple[Any, ...], value: Any) -> None:
    doc = copy.deepcopy(BASE)
    node: Any = doc
    for p in place[:-1]:
        node = node[p]
    node[place[-1]] = value
    try:
        result = evaluate(doc)
    except PolicyError as exc:
        assert "\n" not in str(exc)
        return
    assert result.decision != "Allowed"
    result.to_dict()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FIELDS), junk)
def test_junk_in_an_identity_statement_never_allows(field: str, value: Any) -> None:
    doc = copy.deepcopy(BASE)
    doc["identity_policies"][0]["Statement"][0][field] = value
    try:
        result = evaluate(doc)
    except PolicyError as exc:
        assert "identity_policies[0]" in str(exc)
        return
    # Only a well-formed Allow of kms:Decrypt on the key could allow; junk never is one.
    if result.decision == "Allowed":
        stmt = doc["identity_policies"][0]["Statement"][0]
        assert field in ("Action", "Resource", "Condition", "Sid", "NotAction", "NotResource"), stmt


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(junk)
def test_junk_as_the_whole_input(value: Any) -> None:
    try:
        result = evaluate(value)
    except PolicyError as exc:
        assert "\n" not in str(exc)
        return
    assert result.decision != "Allowed"
