"""Every case file row: the decision, layers, message and warnings AWS documents for it."""

from __future__ import annotations

import pytest

from harness.policy import PolicyError, evaluate

from .case_files import Case, load_cases

CASES = load_cases()


def test_enough_cases_and_catalog_section_a_covered() -> None:
    assert len(CASES) >= 150
    covered = {c.catalog for c in CASES if c.catalog}
    # Section A modes the evaluator decides (the rest are PutKeyPolicy-time or account settings).
    for mode in (
        "A1",
        "A2",
        "A3",
        "A4",
        "A5",
        "A6",
        "A7",
        "A8",
        "A9",
        "A10",
        "A11",
        "A12",
        "A16",
        "A17",
        "A22",
        "A23",
    ):
        assert mode in covered, f"no case for catalog {mode}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case) -> None:
    expect = case.expect
    if "error_contains" in expect:
        with pytest.raises(PolicyError) as exc:
            evaluate(case.input)
        text = str(exc.value)
        assert "\n" not in text
        for part in expect["error_contains"]:
            assert part in text, f"{case.id}: {part!r} not in {text!r}"
        return
    result = evaluate(case.input)
    assert result.decision == expect["decision"], f"{case.id}: {result.blocked_by} {result.message}"
    if "blocked_by" in expect:
        assert result.blocked_by == expect["blocked_by"]
    if "allowed_by" in expect:
        assert result.allowed_by == expect["allowed_by"]
    if "message" in expect:
        assert result.message == expect["message"]
    if "message_tail" in expect:
        assert result.message.endswith(expect["message_tail"]), result.message
    if result.decision == "Allowed":
        assert result.message == ""
        assert result.blocked_by == []
    else:
        assert result.message.startswith(
            f"User: {result.trace and case.input['request']['principal']}"
        )
    warnings = result.warnings
    for part in expect.get("warnings_contain", []):
        assert any(part in w for w in warnings), f"{case.id}: no warning with {part!r}: {warnings}"
    if expect.get("no_warnings"):
        assert warnings == []
    data = result.to_dict()
    assert data["decision"] == result.decision
    assert bool(data.get("unconfirmed")) == case.unconfirmed, "unconfirmed message marker differs"
