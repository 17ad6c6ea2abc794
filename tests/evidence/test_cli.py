"""`kmslab collect` (contract section 1): options, exit codes, bundles on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.evidence import investigator_policy
from harness.evidence.bundle import load_bundle

from .lab_world import APP_ACCOUNT, KEY_ACCOUNT, LabWorld
from .scenarios import allow
from .support import calls, one

PRINCIPAL = f"arn:aws:sts::{APP_ACCOUNT}:assumed-role/app/i-0abc"


def kmslab(*argv: str) -> int:
    return main(list(argv))


@pytest.fixture
def env_creds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", APP_ACCOUNT)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "lab-operator-secret")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))


def test_print_iam_policy(capsys: pytest.CaptureFixture[str]) -> None:
    assert kmslab("collect", "--print-iam-policy") == 0
    assert json.loads(capsys.readouterr().out) == investigator_policy()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--principal", PRINCIPAL, "--out", "x.json"], "needs --key"),
        (["--key", "alias/a", "--principal", "role/app", "--out", "x.json"], "principal is not an IAM or STS ARN"),
        (["--key", "alias/a", "--principal", PRINCIPAL, "--out", "x.json", "--encryption-context", "novalue"],
         "--encryption-context expects KEY=VALUE"),
        (["--key", "alias/a", "--principal", PRINCIPAL, "--out", "x.json", "--action", "Decrypt"], "is not a KMS action"),
        (["--key", "arn:aws:s3:::bucket", "--principal", PRINCIPAL, "--out", "x.json"], "not a KMS key or alias ARN"),
    ],
)  # fmt: skip
def test_bad_arguments_exit_2_with_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    assert kmslab("collect", *argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.json").exists()


def test_unreachable_endpoint_exits_3_and_writes_nothing(
    env_creds: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "b.json"
    code = kmslab("collect", "--key", "alias/a", "--principal", PRINCIPAL, "--out", str(out),
                  "--endpoint-url", "http://127.0.0.1:9")  # fmt: skip
    assert code == 3
    err = capsys.readouterr().err.strip()
    assert "endpoint unreachable" in err and len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_collect_against_the_lab_writes_a_valid_bundle(
    lab: LabWorld, env_creds: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lab.role("app", {"Version": "2012-10-17", "Statement": [allow("kms:Encrypt")]})
    key = lab.key()
    lab.client("kms").create_alias(AliasName="alias/app-data", TargetKeyId=key["KeyId"])
    out = tmp_path / "bundle.json"
    code = kmslab(
        "collect", "--key", "alias/app-data", "--principal", PRINCIPAL, "--action", "kms:Decrypt",
        "--region", "us-east-1", "--encryption-context", "app=billing", "--encryption-context", "env=prod",
        "--via-service", "s3.us-east-1.amazonaws.com", "--source-vpce", "vpce-0abc",
        "--observed-error", "AccessDeniedException: User: x is not authorized", "--grant-tokens", "1",
        "--endpoint-url", lab.endpoint, "--out", str(out),
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    bundle = load_bundle(out)
    request = bundle["request"]
    assert request["encryption_context"] == {"app": "billing", "env": "prod"}
    assert request["context"] == {
        "kms:ViaService": "s3.us-east-1.amazonaws.com",
        "aws:SourceVpce": "vpce-0abc",
    }
    assert request["observed_error"] == {
        "code": "AccessDeniedException",
        "message": "User: x is not authorized",
    }
    assert request["grant_tokens"] == 1
    assert one(bundle, "kms", "DescribeKey")["response"]["KeyMetadata"]["Arn"] == key["Arn"]
    assert f"wrote {out}" in capsys.readouterr().err


def test_redact_leaves_no_account_id_or_name(
    lab: LabWorld, env_creds: None, tmp_path: Path
) -> None:
    lab.role("payments-app", {"Version": "2012-10-17", "Statement": [allow("kms:Encrypt")]})
    key = lab.key()
    lab.client("kms").create_alias(AliasName="alias/payments-data", TargetKeyId=key["KeyId"])
    out = tmp_path / "bundle.json"
    principal = f"arn:aws:sts::{APP_ACCOUNT}:assumed-role/payments-app/worker-1"
    assert kmslab("collect", "--key", "alias/payments-data", "--principal", principal, "--redact",
                  "--endpoint-url", lab.endpoint, "--out", str(out)) == 0  # fmt: skip
    text = out.read_text()
    for real in (APP_ACCOUNT, "payments-app", "payments-data", "worker-1"):
        assert real not in text, real
    bundle = load_bundle(out)
    # Still consistent: the role read is the principal's role.
    role = one(bundle, "iam", "GetRole")["params"]["RoleName"]
    assert f"assumed-role/{role}/" in bundle["request"]["principal"]


def test_profiles_and_key_profile_read_both_accounts(
    lab: LabWorld, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    lab.role("app", {"Version": "2012-10-17", "Statement": [allow("kms:*")]})
    key = lab.key(lab.root_policy(account=KEY_ACCOUNT), account=KEY_ACCOUNT)
    credentials = tmp_path / "credentials"
    credentials.write_text(
        f"[investigator]\naws_access_key_id = {APP_ACCOUNT}\naws_secret_access_key = s\n"
        f"[key-owner]\naws_access_key_id = {KEY_ACCOUNT}\naws_secret_access_key = s\n"
    )
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", lab.endpoint)  # honoured like the AWS CLI
    out = tmp_path / "bundle.json"
    assert kmslab("collect", "--key", key["Arn"], "--principal", PRINCIPAL, "--region", "us-east-1",
                  "--profile", "investigator", "--key-profile", "key-owner", "--out", str(out)) == 0  # fmt: skip
    bundle = load_bundle(out)
    assert one(bundle, "kms", "GetKeyPolicy")["account"] == KEY_ACCOUNT
    assert {c["account"] for c in calls(bundle, "sts", "GetCallerIdentity")} == {
        APP_ACCOUNT,
        KEY_ACCOUNT,
    }


def test_unknown_profile_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    code = kmslab("collect", "--key", "alias/a", "--principal", PRINCIPAL, "--profile", "nope",
                  "--region", "us-east-1", "--out", str(tmp_path / "b.json"))  # fmt: skip
    assert code == 2
    assert "profile not found: nope" in capsys.readouterr().err


def test_collectors_know_nothing_of_the_lab() -> None:
    # Real AWS works the same: no lab headers, admin routes, accounts or operator credentials.
    root = Path(__file__).resolve().parents[2] / "harness" / "evidence"
    for path in root.rglob("*.py"):
        text = path.read_text()
        for marker in ("X-Lab", "_kmslab", "harness.lab", "111111111111", "222222222222", "moto"):
            assert marker not in text, f"{path.name} mentions {marker}"
