"""`kmslab lab save FILE` and `kmslab lab up --state FILE` as a user runs them: a detached lab,
keys, IAM, issued credentials, an organization policy, CloudTrail and a named section survive
`lab down` / `lab up --state`; bad state files are one line and exit 2, and nothing is
half-written."""

from __future__ import annotations

import base64
import json
import os
import pickle
from pathlib import Path
from typing import Any

import pytest

from harness.lab import LabClient
from lab.labkit import APP, LabKit, allow
from lab.test_cli import free_port, kmslab


def _client(endpoint: str, service: str, creds: dict[str, str] | None = None) -> Any:
    import boto3

    if creds:
        kw = {
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        }
    else:
        kw = {"aws_access_key_id": APP, "aws_secret_access_key": "operator"}
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", **kw)


@pytest.mark.slow
def test_state_survives_lab_down_and_up(tmp_path: Path) -> None:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    state_file = tmp_path / "lab.json"
    up = kmslab(tmp_path, "lab", "up", "--detach", "--port", str(port), "--state", str(state_file))
    assert up.returncode == 0, up.stderr
    try:
        iam = _client(endpoint, "iam")
        trust = json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{APP}:root"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        )
        role = iam.create_role(RoleName="app", AssumeRolePolicyDocument=trust)["Role"]
        iam.put_role_policy(RoleName="app", PolicyName="p", PolicyDocument=allow())
        creds = _client(endpoint, "sts").assume_role(RoleArn=role["Arn"], RoleSessionName="s1")[
            "Credentials"
        ]
        kms = _client(endpoint, "kms")
        key = kms.create_key(Description="kept")["KeyMetadata"]
        kms.create_alias(AliasName="alias/kept", TargetKeyId=key["KeyId"])
        grant = kms.create_grant(
            KeyId=key["Arn"], GranteePrincipal=role["Arn"], Operations=["Decrypt"]
        )
        blob = _client(endpoint, "kms", creds).encrypt(KeyId="alias/kept", Plaintext=b"p")[
            "CiphertextBlob"
        ]
        LabClient(endpoint).put_section("workshop", {"participants": ["ann", "bo"]})
        LabClient(endpoint).set_controls({"grant_quota": 7})

        saved = kmslab(
            tmp_path, "lab", "save", str(tmp_path / "snap.json"), "--endpoint-url", endpoint
        )
        assert saved.returncode == 0, saved.stderr
        assert "1 keys" in saved.stdout and "1 grants" in saved.stdout
        assert (tmp_path / "snap.json").stat().st_mode & 0o777 == 0o600

        down = kmslab(tmp_path, "lab", "down")
        assert down.returncode == 0, down.stderr
        assert state_file.exists()  # written when the lab stopped
        again = kmslab(
            tmp_path, "lab", "up", "--detach", "--port", str(port), "--state", str(state_file)
        )
        assert again.returncode == 0, again.stderr

        # the session issued before the restart still decrypts what it encrypted
        plain = _client(endpoint, "kms", creds).decrypt(CiphertextBlob=blob)["Plaintext"]
        assert plain == b"p"
        kms = _client(endpoint, "kms")
        assert kms.describe_key(KeyId="alias/kept")["KeyMetadata"]["Description"] == "kept"
        grants = kms.list_grants(KeyId=key["Arn"])["Grants"]
        assert [g["GrantId"] for g in grants] == [grant["GrantId"]]
        got = _client(endpoint, "iam").get_role(RoleName="app")["Role"]
        assert got["RoleId"] == role["RoleId"]  # the same unique id, not a namesake
        events = _client(endpoint, "cloudtrail").lookup_events(
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateGrant"}]
        )["Events"]
        assert len(events) == 1
        assert LabClient(endpoint).get_section("workshop") == {"participants": ["ann", "bo"]}
        assert LabClient(endpoint).get_controls()["grant_quota"] == 7
    finally:
        kmslab(tmp_path, "lab", "down")


def _doc(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@pytest.fixture
def saved_state(moto_lab: LabKit, tmp_path: Path) -> Path:
    from harness.lab import state

    moto_lab.key()
    path = tmp_path / "state.json"
    state.write(path, moto_lab.admin.state())
    return path


def test_bad_state_files_are_one_line_and_exit_2(saved_state: Path, tmp_path: Path) -> None:
    port = str(free_port())
    cases: dict[str, str] = {
        "not-json.json": "{half",
        "other-kind.json": json.dumps({"kind": "kms-evidence-bundle", "version": 1}),
    }
    doc = _doc(saved_state)
    cases["future.json"] = json.dumps({**doc, "version": 99})
    cases["other-moto.json"] = json.dumps({**doc, "versions": {**doc["versions"], "moto": "0.1"}})
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text)
        result = kmslab(tmp_path, "lab", "up", "--port", port, "--state", str(path))
        assert result.returncode == 2, (name, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.stderr, (name, result.stderr)


def test_a_state_file_cannot_run_code(saved_state: Path, tmp_path: Path) -> None:
    """A state file is loaded with an allow-list: naming os.system is refused, not run."""
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self) -> tuple[Any, ...]:
            return (os.system, (f"touch {marker}",))

    doc = _doc(saved_state)
    doc["lab"] = base64.b64encode(pickle.dumps({"identities": Evil()})).decode()
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(doc))
    result = kmslab(tmp_path, "lab", "up", "--port", str(free_port()), "--state", str(path))
    assert result.returncode == 2, result.stderr
    assert "not allowed" in result.stderr
    assert not marker.exists()


def test_save_into_a_missing_directory_writes_nothing(moto_lab: LabKit, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "state.json"
    result = kmslab(tmp_path, "lab", "save", str(target), "--endpoint-url", moto_lab.endpoint)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert not target.parent.exists()


def test_save_replaces_a_file_atomically(moto_lab: LabKit, tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_text("previous")
    result = kmslab(tmp_path, "lab", "save", str(target), "--endpoint-url", moto_lab.endpoint)
    assert result.returncode == 0, result.stderr
    assert _doc(target)["kind"] == "kmslab-lab-state"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".state")) == []


def test_a_state_file_in_a_missing_directory_is_refused_at_start(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "lab.json"
    result = kmslab(tmp_path, "lab", "up", "--port", str(free_port()), "--state", str(missing))
    assert result.returncode == 2 and "does not exist" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
