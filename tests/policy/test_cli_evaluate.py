"""`kmslab evaluate --request FILE [--format text|json]` (contract sections 1 and 2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main

KEY = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SESSION = "arn:aws:sts::111111111111:assumed-role/app/i-0abc"
DOC: dict[str, Any] = {
    "request": {"principal": SESSION, "action": "kms:Decrypt", "resource": KEY},
    "key_policy": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EnableIAM",
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


def write(tmp_path: Path, content: str) -> str:
    path = tmp_path / "req.json"
    path.write_text(content)
    return str(path)


def test_json_output_is_the_contract_shape(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["evaluate", "--request", write(tmp_path, json.dumps(DOC)), "--format", "json"]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"decision", "blocked_by", "allowed_by", "message", "trace"}
    # Root statement present, no identity policy allows: catalog A2, IAM troubleshoot_access-denied.
    assert out["decision"] == "ImplicitDeny"
    assert out["blocked_by"] == ["identity"]
    assert out["message"] == (
        f"User: {SESSION} is not authorized to perform: kms:Decrypt on resource: {KEY} "
        "because no identity-based policy allows the kms:Decrypt action"
    )
    layers = [e["layer"] for e in out["trace"]]
    assert layers == ["key-policy", "identity"]
    stmt = out["trace"][0]["statements"][0]
    assert stmt["matched"] is True
    assert stmt["principal"]["kind"] == "account"
    assert out["trace"][1]["statements"][0]["action"] == {
        "matched": False,
        "patterns": ["s3:*"],
        "value": "kms:Decrypt",
    }


def test_text_output_shows_decision_message_and_trace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["evaluate", "--request", write(tmp_path, json.dumps(DOC))]) == 0
    out = capsys.readouterr().out
    assert "decision: ImplicitDeny" in out
    assert "because no identity-based policy allows the kms:Decrypt action" in out
    assert "[key-policy] key-policy: Allow" in out
    assert "statement 0 'EnableIAM' Allow: matched" in out
    assert "[identity] identity_policies[0]: NoMatch" in out


def test_text_output_lists_lint_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = json.loads(json.dumps(DOC))
    doc["identity_policies"][0]["Statement"][0]["Action"] = "kms:Decrpyt"
    assert main(["evaluate", "--request", write(tmp_path, json.dumps(doc))]) == 0
    assert "warning: unknown action kms:Decrpyt in statement 0" in capsys.readouterr().out


def test_missing_file_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["evaluate", "--request", str(tmp_path / "nope.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "not found" in err


def test_malformed_json_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["evaluate", "--request", write(tmp_path, '{"request": ')]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "malformed JSON" in err


def test_bad_policy_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads(json.dumps(DOC))
    doc["key_policy"]["Statement"][0]["Condition"] = {"StringEqualz": {"kms:ViaService": "x"}}
    assert (
        main(["evaluate", "--request", write(tmp_path, json.dumps(doc)), "--format", "json"]) == 2
    )
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert len(err.splitlines()) == 1
    assert "key_policy" in err and "statement 0" in err and "StringEqualz" in err


def test_input_that_is_not_an_object(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "--request", write(tmp_path, "[1, 2]")]) == 2
    assert "JSON object" in capsys.readouterr().err
