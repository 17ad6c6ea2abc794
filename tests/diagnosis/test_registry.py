"""Meta-tests over the rule registry (style-anchors: prowler's id = file name, c7n's declared reads)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.diagnosis import diagnose
from harness.diagnosis.registry import by_code, rules

from .cases import CASES

# Contract section 4's finding-code table: code -> runbook step ("extra" or None for "—").
CONTRACT = {
    "KMS_SERVICE_EVENT": 1,
    "KEY_DISABLED": 2,
    "KEY_PENDING_DELETION": 2,
    "KEY_PENDING_IMPORT": 2,
    "KEY_UNAVAILABLE": 2,
    "KEY_STATE_TRANSITION": 2,
    "KEY_NOT_FOUND": 2,
    "KEY_POLICY_NO_ALLOW": 3,
    "KEY_POLICY_PRINCIPAL_MISMATCH": 3,
    "KEY_POLICY_CONDITION_UNMET": 4,
    "KEY_POLICY_EXPLICIT_DENY": 4,
    "IAM_NO_ALLOW": 5,
    "IAM_RESOURCE_MISMATCH": 5,
    "IAM_EXPLICIT_DENY": 5,
    "PERMISSIONS_BOUNDARY_BLOCKS": 5,
    "SESSION_POLICY_BLOCKS": 5,
    "SCP_BLOCKS": 5,
    "RCP_BLOCKS": 5,
    "ALIAS_WRONG_TARGET": 6,
    "ALIAS_NOT_FOUND": 6,
    "CROSS_ACCOUNT_KEY_POLICY_MISSING": 7,
    "CROSS_ACCOUNT_IAM_MISSING": 7,
    "GRANT_OPERATION_MISSING": 7,
    "GRANT_CONSTRAINT_UNMET": 7,
    "GRANT_TOKEN_NEEDED": 7,
    "GRANT_TOKEN_INVALID": 7,
    "VPC_ENDPOINT_POLICY_BLOCKS": 8,
    "MULTI_REGION_REPLICA_MISSING": "extra",
    "MULTI_REGION_REPLICA_DIVERGED": "extra",
    "WRONG_REGION": "extra",
    "KEY_USAGE_MISMATCH": "extra",
    "ENCRYPTION_CONTEXT_MISMATCH": "extra",
    "CIPHERTEXT_INVALID": "extra",
    "INCORRECT_KEY": "extra",
    "AWS_MANAGED_KEY_MISUSE": "extra",
    "KEY_POLICY_TOO_LARGE": "extra",
    "GRANT_LIMIT_REACHED": "extra",
    "THROTTLED": "extra",
    "CREDENTIALS_INVALID": "extra",
    "INVESTIGATOR_ACCESS_DENIED": None,
    "NO_FAULT_FOUND": None,
}
CONTRACT_FILE = Path("/work/shared/contract/README.md")
CATALOG_ROW = re.compile(r"^[A-G]\d{1,2}$")
READ_ONLY = re.compile(r"^[a-z0-9-]+:(Get|List|Describe|Lookup|Filter)[A-Za-z]*$")


def test_every_contract_code_has_exactly_one_rule() -> None:
    assert set(by_code()) == set(CONTRACT)
    assert len(rules()) == len(CONTRACT)


@pytest.mark.skipif(not CONTRACT_FILE.exists(), reason="shared contract not mounted")
def test_contract_table_matches_this_list() -> None:
    text = CONTRACT_FILE.read_text()
    codes = set(re.findall(r"^\| `([A-Z_]+)` \|", text, re.M))
    assert codes == set(CONTRACT)


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r.meta.code)
def test_rule_metadata(rule) -> None:  # type: ignore[no-untyped-def]
    meta = rule.meta
    assert rule.id == meta.code.lower()  # the module is named after its code
    assert meta.runbook_step == CONTRACT[meta.code]
    assert meta.severity in ("critical", "error", "warning", "info")
    assert meta.title
    assert meta.catalog, "every rule names at least one failure-catalog row"
    for row in meta.catalog:
        assert CATALOG_ROW.match(row) or row == "section-6", row
    if not meta.final:
        assert meta.reads, "a rule declares the read calls it needs"
    for call in meta.reads:
        assert READ_ONLY.match(call), f"{meta.code} declares a non-read call {call}"


def test_every_rule_has_positive_negative_and_near_miss_cases() -> None:
    assert set(CASES) == set(CONTRACT)
    for code, kinds in CASES.items():
        assert set(kinds) == {"positive", "negative", "near_miss"}, code


def test_every_rule_has_a_catalog_scenario() -> None:
    from harness.scenarios.catalog import load_catalog

    expected = {s.expected_finding for s in load_catalog()}
    unknown = expected - set(CONTRACT)
    assert not unknown, f"scenarios expect findings no rule produces: {unknown}"
    # The one the lab cannot stage as a failing call yet is covered by bundle cases (cases.py).
    missing = set(CONTRACT) - expected - {"AWS_MANAGED_KEY_MISUSE"}
    assert not missing, f"rules without a catalog scenario: {sorted(missing)}"


def _statements(text: str) -> list[dict[str, object]]:
    """Every JSON policy statement embedded in a fix."""
    out = []
    for match in re.finditer(r"\{.*\}", text):
        try:
            doc = json.loads(match.group(0))
        except ValueError:
            continue
        items = doc.get("Statement", [doc]) if isinstance(doc, dict) else []
        out += [s for s in (items if isinstance(items, list) else [items]) if isinstance(s, dict)]
    return out


POSITIVES = [(code, kinds["positive"][0]) for code, kinds in sorted(CASES.items())]


@pytest.mark.parametrize(("code", "build"), POSITIVES, ids=[c for c, _ in POSITIVES])
def test_fixes_never_open_the_key_to_everyone(code: str, build) -> None:  # type: ignore[no-untyped-def]
    report = diagnose(build())
    for f in report.findings:
        text = f.fix.cli + "\n" + f.fix.terraform
        assert 'identifiers = ["*"]' not in text
        for st in _statements(text):
            principal = st.get("Principal")
            everyone = principal == "*" or (
                isinstance(principal, dict) and principal.get("AWS") in ("*", ["*"])
            )
            if everyone:
                assert st.get("Condition"), f"{f.code}: Principal * without a condition"
            action = st.get("Action")
            if st.get("Effect") == "Allow" and "kms:*" in (
                action if isinstance(action, list) else [action]
            ):
                assert not everyone, f"{f.code}: kms:* for everyone"


def test_the_safety_check_catches_an_open_statement() -> None:
    open_statement = json.dumps(
        {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}
    )
    assert (
        _statements("aws kms put-key-policy --policy '" + open_statement + "'")[0]["Principal"]
        == "*"
    )
