"""`kmslab diagnose --key --principal --action` live (contract section 1): collect from an
in-process lab, diagnose, print text, json or markdown; exit 3 and exit 2 with one line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.aws.clients import Target
from harness.cli import main

APP_ACCOUNT = "111111111111"
SESSION = f"arn:aws:sts::{APP_ACCOUNT}:assumed-role/app/i-0abc"


@pytest.fixture(scope="module")
def lab_endpoint() -> Iterator[str]:
    from harness.lab import LabServer

    with LabServer(upstream="moto", port=0) as server:
        yield server.endpoint


@dataclass
class LiveLab:
    endpoint: str

    def client(self, service: str) -> Any:
        # Operator credentials: access key id = the lab account id, any secret (contract section 5).
        return Target(
            endpoint_url=self.endpoint, region="us-east-1", access_key_id=APP_ACCOUNT,
            secret_access_key="lab-operator-secret",
        ).client(service, max_attempts=1)  # fmt: skip

    def app_role(self, *actions: str, resource: str = "*") -> None:
        trust = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{APP_ACCOUNT}:root"},
                 "Action": "sts:AssumeRole"}  # fmt: skip
        iam = self.client("iam")
        iam.create_role(RoleName="app", AssumeRolePolicyDocument=_doc(trust))
        allow = {"Effect": "Allow", "Action": list(actions), "Resource": resource}
        iam.put_role_policy(RoleName="app", PolicyName="app-kms", PolicyDocument=_doc(allow))

    def app_kms(self) -> Any:
        creds = self.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{APP_ACCOUNT}:role/app", RoleSessionName="i-0abc"
        )["Credentials"]
        return Target(
            endpoint_url=self.endpoint, region="us-east-1", access_key_id=creds["AccessKeyId"],
            secret_access_key=creds["SecretAccessKey"], session_token=creds["SessionToken"],
        ).client("kms", max_attempts=1)  # fmt: skip


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture
def lab(lab_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> LiveLab:
    from harness.lab import LabClient

    LabClient(lab_endpoint).reset()
    # The investigator's credentials come from the environment, as with the AWS CLI.
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION",
                 "AWS_SESSION_TOKEN"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", APP_ACCOUNT)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "lab-operator-secret")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    return LiveLab(lab_endpoint)


def diagnose_live(lab: LiveLab, key: str, *extra: str) -> list[str]:
    return ["diagnose", "--key", key, "--principal", SESSION, "--action", "kms:Decrypt",
            "--region", "us-east-1", "--endpoint-url", lab.endpoint, *extra]  # fmt: skip


def iam_denies_decrypt(lab: LiveLab) -> tuple[str, str]:
    """A key with the default key policy and a role whose IAM policy allows only Encrypt.

    The default key policy gives the account (arn:aws:iam::ACCOUNT:root) kms:* and so
    delegates to IAM policies (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html);
    with no IAM statement allowing kms:Decrypt the request is implicitly denied
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
    """
    key = lab.client("kms").create_key()["KeyMetadata"]["Arn"]
    lab.app_role("kms:Encrypt", resource=key)
    kms = lab.app_kms()
    blob = kms.encrypt(KeyId=key, Plaintext=b"payload")["CiphertextBlob"]
    with pytest.raises(Exception) as failed:
        kms.decrypt(CiphertextBlob=blob, KeyId=key)
    error = failed.value.response["Error"]  # type: ignore[attr-defined]
    assert error["Code"] == "AccessDeniedException"
    return key, f"{error['Code']}:{error['Message']}"


def test_json_names_the_missing_iam_permission(
    lab: LiveLab, capsys: pytest.CaptureFixture[str]
) -> None:
    key, observed = iam_denies_decrypt(lab)
    assert main(diagnose_live(lab, key, "--observed-error", observed, "--format", "json")) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert data["decision"] == "ImplicitDeny"
    assert data["primary"] == "IAM_NO_ALLOW"
    assert data["request"]["principal"] == SESSION and data["request"]["key"] == key
    primary = data["findings"][0]
    assert primary["code"] == "IAM_NO_ALLOW" and primary["runbook_step"] == 5
    calls = {item["call"] for item in primary["evidence"]}
    # Read live: the role's inline policy and the key policy that delegates to IAM.
    assert {"iam:GetRolePolicy", "kms:GetKeyPolicy"} <= calls, calls
    assert "kms:Decrypt" in primary["fix"]["cli"]
    assert data["unreadable"] == []


def test_json_reports_a_disabled_key_as_failed(
    lab: LiveLab, capsys: pytest.CaptureFixture[str]
) -> None:
    # A disabled key cannot be used in cryptographic operations
    # (https://docs.aws.amazon.com/kms/latest/developerguide/enabling-keys.html); contract
    # section 4: decision Failed for key-state failures.
    lab.app_role("kms:Decrypt", "kms:Encrypt")
    kms = lab.client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    kms.disable_key(KeyId=key)
    assert main(diagnose_live(lab, key, "--format", "json")) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["decision"], data["primary"]) == ("Failed", "KEY_DISABLED")
    assert f"aws kms enable-key --key-id {key}" in data["findings"][0]["fix"]["cli"]


def test_text_and_markdown(lab: LiveLab, capsys: pytest.CaptureFixture[str]) -> None:
    key, observed = iam_denies_decrypt(lab)
    assert main(diagnose_live(lab, key, "--observed-error", observed)) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0] == "Verdict: ImplicitDeny - IAM_NO_ALLOW"
    assert f"Request: {SESSION} kms:Decrypt on {key} in us-east-1" in text
    assert "Observed error agrees: AccessDeniedException" in text
    assert main(diagnose_live(lab, key, "--format", "markdown")) == 0
    markdown = capsys.readouterr().out
    assert markdown.startswith("## KMS diagnosis: ImplicitDeny - `IAM_NO_ALLOW`")
    assert "```mermaid" in markdown and "```bash" in markdown


def test_unreachable_endpoint_exits_3_with_one_line(
    lab: LiveLab, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = diagnose_live(lab, "alias/app-data")
    argv[argv.index(lab.endpoint)] = "http://127.0.0.1:9"  # nothing listens on discard
    assert main(argv) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and "endpoint unreachable" in err, err
    assert "http://127.0.0.1:9" in err and "Traceback" not in err


BAD = [
    (["--principal", "role/app"], "principal is not an IAM or STS ARN"),
    (["--action", "Decrypt"], "is not a KMS action"),
    (["--key", "arn:aws:s3:::bucket"], "not a KMS key or alias ARN"),
    (["--encryption-context", "novalue"], "--encryption-context expects KEY=VALUE"),
    (["--context", "=x"], "--context expects KEY=VALUE"),
    (["--observed-error", ":no code"], "--observed-error expects CODE:MESSAGE"),
    (["--format", "yaml"], "'--format'"),
    (["--grant-tokens", "-1"], "'--grant-tokens'"),
    (["--bundle", "b.json"], "either --bundle or --key/--principal/--action"),
]


@pytest.mark.parametrize(("extra", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_arguments_exit_2_with_one_line_before_any_call(
    extra: list[str], message: str, lab: LiveLab, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = diagnose_live(lab, "alias/app-data")
    # Unreachable: had anything been sent first, the exit would be 3.
    argv[argv.index(lab.endpoint)] = "http://127.0.0.1:9"
    for option, value in zip(extra[::2], extra[1::2], strict=True):
        if option in argv:
            argv[argv.index(option) + 1] = value
        else:
            argv += [option, value]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert err.startswith("kmslab") and "Traceback" not in err
