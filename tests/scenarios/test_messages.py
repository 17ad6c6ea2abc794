"""Every scenario's expected message is exact: AWS's documented text, or the lab's own text
listed under `unconfirmed` (issue 13, "precise messages").

Documented message shapes, and where AWS documents them:
- AccessDenied: "User: <principal> is not authorized to perform: <action> on resource: <ARN>
  because no <type> policy allows the <action> action" / "... with an explicit deny in a <type>
  policy", with the policy types IAM lists
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).
- Key states: "<key ARN> is disabled.", "... is pending deletion.", "... is pending import.",
  "... is unavailable.", "... is creating.", "... is updating."
  (https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html, table footnotes).
- Throttling: "You have exceeded the rate at which you may call KMS. Reduce the frequency of
  your calls." (https://docs.aws.amazon.com/kms/latest/developerguide/throttling.html).
- Expired session credentials: "The security token included in the request is expired."
  (https://docs.aws.amazon.com/awsconsolehelpdocs/latest/gsg/common-errors.html,
  ExpiredTokenException; the page ends each description with a period, services may not).
"""

from __future__ import annotations

import re

import pytest

from harness.scenarios.catalog import load_catalog
from harness.scenarios.model import Scenario
from harness.scenarios.refs import REF

METACHARACTERS = set(".^$*+?{}[]|()")
# The policy types the IAM page names in AccessDenied messages ("sessions policy" sic).
POLICY_TYPES = (
    "resource-based policy|identity-based policy|permissions boundary|session policy"
    "|sessions policy|service control policy|VPC endpoint policy"
)
ARN = r"(\$\{[a-z_]+\.[A-Za-z0-9_]+(\.[a-z_]+)?\}|arn:aws:[^ ]+)"
DOCUMENTED = [
    re.compile(
        rf"User: {ARN} is not authorized to perform: (kms:\w+) on resource: {ARN} "
        rf"(because no ({POLICY_TYPES}) allows the \3 action"
        rf"|with an explicit deny in an? ({POLICY_TYPES}))"
    ),
    re.compile(
        rf"{ARN} is (disabled|pending deletion|pending import|unavailable|creating|updating)\."
    ),
    re.compile(
        re.escape(
            "You have exceeded the rate at which you may call KMS. "
            "Reduce the frequency of your calls."
        )
    ),
    re.compile(r"The security token included in the request is expired\.?"),
]

FAILING = [s for s in load_catalog() if s.expected_error is not None]


def unescaped_metacharacters(pattern: str) -> list[str]:
    """Regex metacharacters not escaped, outside ${...} references."""
    text = REF.sub("", pattern)
    found, escaped = [], False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in METACHARACTERS:
            found.append(char)
    return found


def literal_text(pattern: str) -> str:
    """The pattern as the text it matches (escapes removed; references kept as written)."""
    refs = {m.group(0): f"\x00{i}\x00" for i, m in enumerate(REF.finditer(pattern))}
    text = pattern
    for ref, token in refs.items():
        text = text.replace(ref, token)
    text = re.sub(r"\\(.)", r"\1", text)
    for ref, token in refs.items():
        text = text.replace(token, ref)
    return text


def documented(message: str) -> bool:
    return any(shape.fullmatch(message) for shape in DOCUMENTED)


def test_shapes_tell_documented_from_not() -> None:
    assert documented(
        "User: ${caller.arn} is not authorized to perform: kms:Decrypt on resource: "
        "${key.data.arn} because no resource-based policy allows the kms:Decrypt action"
    )
    # catalog section 3: the RCP phrase is not in the IAM guide [V]
    assert not documented(
        "User: ${caller.arn} is not authorized to perform: kms:Decrypt on resource: "
        "${key.data.arn} with an explicit deny in a resource control policy"
    )
    assert not documented("The grant token is invalid.")
    assert documented("${key.data.arn} is pending deletion.")
    assert unescaped_metacharacters(r"Invalid arn.*") == [".", "*"]
    assert unescaped_metacharacters(r"a\.b ${key.data.arn} c\(d\)") == []


@pytest.mark.parametrize("scenario", FAILING, ids=[s.id for s in FAILING])
def test_message_is_exact_and_documented_or_unconfirmed(scenario: Scenario) -> None:
    error = scenario.expected_error
    assert error is not None
    pattern = str(error["message"])
    assert not unescaped_metacharacters(pattern), (
        f"{scenario.id}: the message pattern must be literal text, got {pattern!r}"
    )
    if documented(literal_text(pattern)):
        return
    assert any(u.lower().startswith("message") for u in scenario.unconfirmed), (
        f"{scenario.id}: {literal_text(pattern)!r} is no message AWS documents: it must be the "
        "lab's exact text and the scenario must list it under `unconfirmed` ('message: ...')"
    )
