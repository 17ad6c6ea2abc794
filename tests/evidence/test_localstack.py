"""Against LocalStack (`make test` starts it and sets KMSLAB_LOCALSTACK_URL): the same
collectors work on another AWS-compatible endpoint, and what it lacks is that call's error."""

from __future__ import annotations

import os
import uuid

import pytest

from harness.aws.clients import Target
from harness.evidence import InvestigationRequest, run_collection
from harness.evidence.calls import make_client
from harness.evidence.collect import CollectOptions

from .support import calls, one

pytestmark = pytest.mark.localstack


@pytest.fixture
def localstack(monkeypatch: pytest.MonkeyPatch) -> Target:
    url = os.environ.get("KMSLAB_LOCALSTACK_URL")
    if not url:
        pytest.skip("KMSLAB_LOCALSTACK_URL is not set (make test starts LocalStack)")
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    # LocalStack's default account; state is shared with other tests, so names are unique.
    return Target(endpoint_url=url, region="us-east-1", access_key_id="000000000000",
                  secret_access_key="test")  # fmt: skip


def test_collection_through_localstack(localstack: Target) -> None:
    role = f"app-{uuid.uuid4().hex[:8]}"
    iam = make_client(localstack, "iam", "us-east-1", 1)
    iam.create_role(
        RoleName=role, AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[]}'
    )
    kms = make_client(localstack, "kms", "us-east-1", 1)
    key = kms.create_key()["KeyMetadata"]
    kms.disable_key(KeyId=key["KeyId"])
    try:
        principal = f"arn:aws:sts::000000000000:assumed-role/{role}/s1"
        result = run_collection(
            InvestigationRequest(principal=principal, action="kms:Decrypt", key=key["Arn"]),
            localstack,
            options=CollectOptions(max_attempts=1, timeout=30),
        )
    finally:
        iam.delete_role(RoleName=role)
        kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    bundle = result.bundle
    assert one(bundle, "kms", "DescribeKey")["response"]["KeyMetadata"]["KeyState"] == "Disabled"
    assert one(bundle, "iam", "GetRole", RoleName=role)["response"]["Role"]["RoleName"] == role
    assert "response" in one(bundle, "kms", "GetKeyPolicy")
    # Whatever LocalStack does not serve is recorded per call; every collector still ran.
    assert set(bundle["collection"]["collectors"].values()) == {"ok"}
    assert calls(bundle, "health", "DescribeEvents")
