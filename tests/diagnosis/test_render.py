"""Renderers (text tree, contract JSON, Markdown with Mermaid) and the `kmslab diagnose` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.diagnosis import diagnose
from harness.diagnosis.render import render
from harness.errors import UsageError

from . import cases


def test_text_verdict_then_tree_with_the_blocking_branch() -> None:
    out = render(diagnose(cases.iam_none()), "text")
    lines = out.splitlines()
    assert lines[0] == "Verdict: ImplicitDeny - IAM_NO_ALLOW"
    blocking = [line for line in lines if "<== blocking" in line]
    assert len(blocking) == 1 and "IAM policies allow" in blocking[0]
    tree = [line for line in lines if line.startswith(("|-- ", "`-- "))]
    labels = [line.split("] ", 1)[1] for line in tree]
    # AWS's order: guards, then key trust, then IAM, then key state (policy-evaluation.html).
    assert labels.index("Key policy or a grant allows the caller (key trust)") < labels.index(
        "IAM policies allow (when the key policy delegates, or cross-account)  <== blocking"
    )
    assert labels[-1].startswith("Ciphertext")


def test_json_is_contract_section_4() -> None:
    data = json.loads(render(diagnose(cases.no_allow()), "json"))
    assert set(data) >= {"request", "decision", "primary", "findings", "unreadable"}
    assert data["decision"] in ("Allowed", "ExplicitDeny", "ImplicitDeny", "Failed", "Unknown")
    f = data["findings"][0]
    assert set(f) == {"code", "runbook_step", "severity", "summary", "evidence", "fix"}
    assert f["code"] == data["primary"] == "KEY_POLICY_NO_ALLOW" and f["runbook_step"] == 3
    assert all(set(e) == {"call", "detail"} for e in f["evidence"]) and f["evidence"]
    assert set(f["fix"]) >= {"summary", "cli", "terraform"}
    assert f["fix"]["applied_by"].startswith("arn:aws:iam::")


def test_markdown_has_mermaid_flow_with_blocking_node() -> None:
    out = render(diagnose(cases.key_policy_deny()), "markdown")
    assert out.startswith("## KMS diagnosis: ExplicitDeny - `KEY_POLICY_EXPLICIT_DENY`")
    block = out.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert block.startswith("flowchart TD")
    assert (
        'key_trust["Key policy or a grant allows the caller (key trust) (BLOCKING)"]:::fail'
        in block
    )
    assert "```bash" in out and "```hcl" in out


def test_unknown_format() -> None:
    with pytest.raises(UsageError):
        render(diagnose(cases.healthy_bundle()), "yaml")


def test_not_a_bundle_is_usage_error() -> None:
    with pytest.raises(UsageError):
        diagnose({"calls": []})


def test_cli_bundle_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(cases.disabled()))
    assert main(["diagnose", "--bundle", str(path), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["primary"] == "KEY_DISABLED" and data["decision"] == "Failed"


def test_cli_markdown_and_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(cases.healthy_bundle()))
    assert main(["diagnose", "--bundle", str(path)]) == 0
    assert capsys.readouterr().out.startswith("Verdict: Allowed - no fault found")
    assert main(["diagnose", "--bundle", str(path), "--format", "markdown"]) == 0
    assert "```mermaid" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["diagnose"],
        ["diagnose", "--bundle", "/nonexistent/bundle.json"],
        ["diagnose", "--bundle", "x.json", "--key", "alias/x"],
        ["diagnose", "--key", "alias/x", "--principal", "arn:aws:iam::111111111111:role/app"],
    ],
)
def test_cli_bad_input_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("kmslab") and "Traceback" not in err and len(err.strip().splitlines()) == 1
    )


def test_cli_malformed_bundle_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    assert main(["diagnose", "--bundle", str(path)]) == 2
