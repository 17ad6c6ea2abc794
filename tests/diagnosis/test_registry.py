"""Meta-tests over the rule registry (style-anchors: prowler's id = file name, c7n's declared reads)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.diagnosis import diagnose
from harness.diagnosis.registry import by_code, finding_table, rules

from .cases import CASES

CONTRACT_FILE = Path("/work/shared/contract/README.md")
ADDITIONS_FILE = Path(__file__).parents[2] / "docs" / "contract-additions.md"
# A finding-code row: | `CODE` | meaning | runbook step (1-8, extra, or an em dash) |
_ROW = re.compile(r"^\| `([A-Z][A-Z0-9_]*)` \| (.+?) \| ([1-8]|extra|—) \|$", re.M)
needs_contract = pytest.mark.skipif(
    not CONTRACT_FILE.exists(), reason="shared contract not mounted"
)


def contract_table() -> dict[str, tuple[str, int | str | None]]:
    """code -> (meaning, runbook step): the contract's section 4 table plus the codes that
    docs/contract-additions.md adds (rounds two and later)."""
    out: dict[str, tuple[str, int | str | None]] = {}
    for text in (CONTRACT_FILE.read_text(), ADDITIONS_FILE.read_text()):
        for code, meaning, step in _ROW.findall(text):
            out[code] = (meaning, int(step) if step.isdigit() else None if step == "—" else step)
    return out


CONTRACT = contract_table() if CONTRACT_FILE.exists() else {}
CATALOG_ROW = re.compile(r"^[A-G]\d{1,2}$")
READ_ONLY = re.compile(r"^[a-z0-9-]+:(Get|List|Describe|Lookup|Filter)[A-Za-z]*$")


@needs_contract
def test_every_contract_code_has_exactly_one_rule() -> None:
    assert set(by_code()) == set(CONTRACT)
    assert len(rules()) == len(CONTRACT)


@needs_contract
def test_the_contract_parser_reads_every_row_of_section_4() -> None:
    # The parser is strict about the step cell; it must not lose a row of the table.
    text = CONTRACT_FILE.read_text()
    assert set(re.findall(r"^\| `([A-Z_]+)` \|", text, re.M)) <= set(CONTRACT)
    assert CONTRACT["KEY_DISABLED"] == ("key state Disabled", 2)
    assert CONTRACT["NO_FAULT_FOUND"][1] is None


@needs_contract
def test_the_generated_finding_table_is_the_contracts() -> None:
    generated = {
        code: (meaning, int(step) if step.isdigit() else None if step == "—" else step)
        for code, meaning, step in _ROW.findall(finding_table())
    }
    assert generated == CONTRACT


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r.meta.code)
def test_rule_metadata(rule) -> None:  # type: ignore[no-untyped-def]
    meta = rule.meta
    assert rule.id == meta.code.lower()  # the module is named after its code
    if CONTRACT:
        assert meta.runbook_step == CONTRACT[meta.code][1]
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
    assert set(CASES) == set(by_code())
    for code, kinds in CASES.items():
        assert set(kinds) == {"positive", "negative", "near_miss"}, code


def test_every_rule_has_a_catalog_scenario() -> None:
    from harness.scenarios.catalog import load_catalog

    expected = {s.expected_finding for s in load_catalog()}
    unknown = expected - set(by_code())
    assert not unknown, f"scenarios expect findings no rule produces: {unknown}"
    missing = set(by_code()) - expected
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
