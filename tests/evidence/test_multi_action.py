"""Several actions per incident (contract section 6): `collect --action` more than once, unknown
action names refused as bad input before anything is contacted or written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.evidence.bundle import load_bundle

from .lab_world import APP_ACCOUNT, LabWorld
from .scenarios import allow

PRINCIPAL = f"arn:aws:sts::{APP_ACCOUNT}:assumed-role/app/i-0abc"


@pytest.fixture
def env_creds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", APP_ACCOUNT)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "lab-operator-secret")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))


# Names the Service Authorization Reference does not list for KMS (a typo, another service's
# action, an API operation name that is not an IAM action, a wildcard).
@pytest.mark.parametrize(
    "bad", ["kms:Decrpyt", "s3:GetObject", "kms:ListKeysForRole", "kms:*", "Decrypt"]
)
@pytest.mark.parametrize("command", ["collect", "diagnose"])
def test_unknown_action_is_bad_input_before_any_call(
    bad: str, command: str, env_creds: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bundle.json"
    argv = [command, "--key", "alias/app-data", "--principal", PRINCIPAL,
            "--action", "kms:Decrypt", "--action", bad,
            # unreachable: a command that contacted it would exit 3, not 2
            "--endpoint-url", "http://127.0.0.1:9"]  # fmt: skip
    if command == "collect":
        argv += ["--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "is not a KMS action" in err and bad in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == [] or not out.exists()


def test_collect_records_every_action_and_diagnose_answers_each(
    lab: LabWorld, env_creds: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The role may Decrypt but not Encrypt (IAM allows only kms:Decrypt on the key; the key
    # policy delegates to IAM: key-policy-default.html, policy-evaluation.html example 1).
    key = lab.key(lab.root_policy())
    lab.role("app", {"Version": "2012-10-17", "Statement": [allow("kms:Decrypt", key["Arn"])]})
    out = tmp_path / "bundle.json"
    code = main(["collect", "--key", key["Arn"], "--principal", PRINCIPAL,
                 "--action", "kms:decrypt", "--action", "kms:Encrypt", "--region", "us-east-1",
                 "--endpoint-url", lab.endpoint, "--out", str(out)])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    request = load_bundle(out)["request"]
    assert request["action"] == "kms:Decrypt"  # spelled as AWS spells it
    assert request["actions"] == ["kms:Decrypt", "kms:Encrypt"]
    capsys.readouterr()
    assert main(["diagnose", "--bundle", str(out), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    per_action = {a["action"]: a for a in report["actions"]}
    assert per_action["kms:Decrypt"]["decision"] == "Allowed"
    assert per_action["kms:Decrypt"]["primary"] is None
    assert per_action["kms:Encrypt"]["primary"] == "IAM_NO_ALLOW"
    assert report["primary"] == "IAM_NO_ALLOW"
