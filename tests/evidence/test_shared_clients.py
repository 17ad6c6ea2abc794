"""Collections share their guarded clients, and nothing else.

`kmslab run` collects twice a scenario with the same credentials, and with the operators' every
scenario: the read-only guarded clients are made once and shared (harness.evidence.calls.GUARDED).
What a collection counts, the breakers it opens and the throttling botocore's adaptive retries
remember stay with that collection.
"""

from __future__ import annotations

import threading

import botocore.exceptions
import pytest

from harness.aws.clients import CredentialSlot, Target
from harness.evidence import InvestigationRequest
from harness.evidence.calls import CallLog, Credentials
from harness.evidence.guard import ReadOnlyViolation
from harness.lab import LabClient

from .lab_world import APP_ACCOUNT, LabWorld
from .scenarios import allow
from .support import Collect


def setup(lab: LabWorld) -> InvestigationRequest:
    lab.role("app", {"Version": "2012-10-17", "Statement": [allow("kms:*")]})
    _, principal = lab.assume("app", "s1")
    key = lab.key()
    return InvestigationRequest(principal=principal, action="kms:Decrypt", key=key["Arn"])


def test_a_shared_client_is_still_read_only(lab: LabWorld) -> None:
    creds = Credentials("investigator", lab.op())
    first = CallLog().client(creds, "kms", "us-east-1")
    second = CallLog().client(creds, "kms", "us-east-1")
    assert first is second  # made once for both logs
    for client in (first, second):
        with pytest.raises(ReadOnlyViolation):
            client.schedule_key_deletion(KeyId="alias/anything", PendingWindowInDays=7)


def test_each_collection_counts_its_own_calls(lab: LabWorld, lab_run: Collect) -> None:
    request = setup(lab)
    results = [lab_run(request) for _ in range(2)]
    for result in results:
        # One operation per recorded call that was sent, counted by this collection's hooks only.
        sent = [c for c in result.bundle["calls"] if "response" in c or "error" in c]
        assert result.bundle["collection"]["api_calls"] == len(result.operations)
        assert len(result.operations) == len(sent)
    assert results[0].operations and sorted(results[0].operations) == sorted(results[1].operations)


def test_collections_at_once_keep_their_counts_apart(lab: LabWorld, lab_run: Collect) -> None:
    request = setup(lab)
    alone = len(lab_run(request).operations)
    counts: list[int] = []

    def run() -> None:
        counts.append(len(lab_run(request).operations))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counts == [alone] * 3


def test_throttling_stays_with_the_collection_that_saw_it(lab: LabWorld, lab_run: Collect) -> None:
    request = setup(lab)
    creds = Credentials("investigator", lab.op())
    before = CallLog(max_attempts=2).client(creds, "kms", "us-east-1")
    # Every KMS call of the account throttled (harness/lab/controls.py).
    LabClient(lab.endpoint).set_controls({"throttle": {APP_ACCOUNT: 0}})
    throttled = lab_run(request).bundle
    assert throttled["collection"]["throttled_not_sent"] > 0
    LabClient(lab.endpoint).set_controls({"throttle": {APP_ACCOUNT: None}})
    # The client whose adaptive retries saw throttling is not handed to the next collection,
    # and the next collection's breakers start closed: all of its KMS reads are answered.
    assert CallLog(max_attempts=2).client(creds, "kms", "us-east-1") is not before
    calm = lab_run(request).bundle
    kms = [c for c in calm["calls"] if c["service"] == "kms"]
    assert kms and all("response" in c for c in kms), [c.get("error") for c in kms]
    assert calm["collection"]["throttled_not_sent"] == 0


def test_a_slot_client_signs_with_the_credentials_issued_last(lab: LabWorld) -> None:
    # Two sessions, as `kmslab run` issues a new investigator session for every scenario.
    lab.role("first", {"Version": "2012-10-17", "Statement": [allow("sts:GetCallerIdentity")]})
    lab.role("second", {"Version": "2012-10-17", "Statement": [allow("sts:GetCallerIdentity")]})
    first, first_arn = lab.assume("first", "s1")
    second, second_arn = lab.assume("second", "s2")
    slot = CredentialSlot()
    target = Target(endpoint_url=lab.endpoint, region="us-east-1", slot=slot)
    sts = target.shared_client("sts")
    for issued, arn in ((first, first_arn), (second, second_arn), (first, first_arn)):
        assert issued.access_key_id and issued.secret_access_key
        slot.fill(issued.access_key_id, issued.secret_access_key, issued.session_token)
        assert target.shared_client("sts") is sts  # one client for every session
        assert sts.get_caller_identity()["Arn"] == arn
    # Credentials the lab never issued are refused: the slot's are the ones sent.
    slot.fill("ASIAKMSLABNOTISSUED1", "not-a-secret", "not-a-token")
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        sts.get_caller_identity()
    assert refused.value.response["Error"]["Code"] in ("InvalidClientTokenId", "AccessDenied")
