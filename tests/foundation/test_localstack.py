"""LocalStack runs on the host without Docker and answers KMS calls (issue 2, item 5).

`make test` starts LocalStack before pytest and exports KMSLAB_LOCALSTACK_URL; run alone,
this test starts it itself through scripts/localstack.sh and stops it afterwards.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from harness.paths import repo_root

SCRIPT = repo_root() / "scripts" / "localstack.sh"


@pytest.fixture(scope="module")
def localstack_url() -> Iterator[str]:
    url = os.environ.get("KMSLAB_LOCALSTACK_URL")
    if url:
        yield url
        return
    up = subprocess.run([str(SCRIPT), "up"], capture_output=True, text=True, timeout=900)
    if up.returncode != 0:
        pytest.fail(f"LocalStack did not start: {up.stderr.strip() or up.stdout.strip()}")
    try:
        yield "http://127.0.0.1:4599"
    finally:
        subprocess.run([str(SCRIPT), "down"], capture_output=True, timeout=60)


@pytest.mark.localstack
def test_kms_round_trip_and_disabled_key_through_localstack(localstack_url: str) -> None:
    # Access key id of 12 digits selects that LocalStack account (tooling-facts).
    kms = boto3.client(
        "kms",
        endpoint_url=localstack_url,
        region_name="us-east-1",
        aws_access_key_id="111111111111",
        aws_secret_access_key="lab",
    )
    key = kms.create_key(Description="kmslab foundation test")["KeyMetadata"]
    assert key["Arn"].startswith("arn:aws:kms:us-east-1:111111111111:key/")
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"hello")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"hello"

    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(ClientError) as err:
        kms.decrypt(CiphertextBlob=blob)
    # key-state.html: "DisabledException: <key ARN> is disabled."
    assert err.value.response["Error"]["Code"] == "DisabledException"
    assert err.value.response["Error"]["Message"] == f"{key['Arn']} is disabled."


def test_localstack_script_refuses_unknown_verb() -> None:
    result = subprocess.run([str(SCRIPT), "sideways"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "usage" in result.stderr


def test_localstack_state_stays_inside_the_checkout() -> None:
    text = Path(SCRIPT).read_text()
    assert "GATEWAY_LISTEN=127.0.0.1:" in text  # loopback only
    assert "FILESYSTEM_ROOT=" in text
