"""Shared sessions and clients never sign with credentials of another credentials file."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.aws.clients import Target


def _file(tmp_path: Path, name: str, key: str) -> Path:
    path = tmp_path / name
    path.write_text(f"[investigator]\naws_access_key_id = {key}\naws_secret_access_key = s\n")
    return path


def test_the_same_profile_name_in_another_credentials_file_is_other_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    signed = []
    for key in ("AKIAFIRSTFILE0000000", "AKIASECONDFILE000000"):
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(_file(tmp_path, key, key)))
        target = Target(profile="investigator", endpoint_url="http://127.0.0.1:9")
        client = target.shared_client("kms", "us-east-1")
        signed.append(client._request_signer._credentials.access_key)
        assert target.session().get_credentials().access_key == key
    assert signed == ["AKIAFIRSTFILE0000000", "AKIASECONDFILE000000"]
