"""Every rule on hand-written bundles: positive, negative and near miss (cases.py cites AWS pages)."""

from __future__ import annotations

import pytest

from harness.diagnosis import diagnose

from .cases import CASES

PARAMS = [
    (code, kind)
    for code, kinds in sorted(CASES.items())
    for kind in ("positive", "negative", "near_miss")
]


@pytest.mark.parametrize(("code", "kind"), PARAMS, ids=[f"{c}-{k}" for c, k in PARAMS])
def test_rule(code: str, kind: str) -> None:
    build, expect = CASES[code][kind]
    report = diagnose(build())
    codes = report.codes()
    if expect == "primary":
        assert report.primary == code, (report.primary, codes)
    elif expect == "present":
        assert code in codes, codes
    else:
        assert code not in codes, (report.primary, codes)
    for f in report.findings:
        assert f.evidence and f.fix.cli and f.fix.terraform and f.summary
