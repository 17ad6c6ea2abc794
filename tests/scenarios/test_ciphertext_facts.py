"""Ciphertext facts come from the bytes (harness.evidence.ciphertext), not from a damage label.

The expected header is the public shape of raw symmetric KMS blobs quoted in the KMS failure
catalog, row 54 and open item 8.6 ([V]: "01 0x 0y 00 78 ...", base64 "AQECAH...", "AQICAH...",
"AQIDAH..."); the double-encoding case is aws/aws-cli#1043 (the CLI/SDK base64-encodes the blob
itself, https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html).
"""

from __future__ import annotations

import base64
import os

import pytest

from harness.evidence.ciphertext import ciphertext_facts, looks_like_kms_blob
from harness.scenarios.call import damaged

HEADS = {
    "AQECAH": b"\x01\x01\x02\x00\x78",
    "AQICAH": b"\x01\x02\x02\x00\x78",
    "AQIDAH": b"\x01\x02\x03\x00\x78",
}


def raw_blob(prefix_b64: str, body: int = 150) -> bytes:
    """A blob with the header behind one of the catalog's public base64 prefixes."""
    return HEADS[prefix_b64] + os.urandom(body)


@pytest.mark.parametrize("prefix", ["AQECAH", "AQICAH", "AQIDAH"])
def test_public_blob_prefixes_look_like_kms_blobs(prefix: str) -> None:
    blob = raw_blob(prefix)
    assert base64.b64encode(blob).decode().startswith(prefix)
    facts = ciphertext_facts(blob)
    assert facts == {"length": len(blob), "kms_blob": True, "base64_of_kms_blob": False}


def test_base64_text_of_a_blob_is_double_encoded() -> None:
    blob = raw_blob("AQICAH")
    text = base64.b64encode(blob)
    facts = ciphertext_facts(text)
    assert facts["kms_blob"] is False
    assert facts["base64_of_kms_blob"] is True
    assert facts["length"] == len(text)
    # with the trailing newline `base64` and `aws ... --output text` leave behind
    assert ciphertext_facts(text + b"\n")["base64_of_kms_blob"] is True


def test_truncated_blob_keeps_its_header() -> None:
    blob = raw_blob("AQECAH")
    facts = ciphertext_facts(blob[:60])
    assert facts == {"length": 60, "kms_blob": True, "base64_of_kms_blob": False}


def test_header_alone_is_not_a_blob() -> None:
    assert not looks_like_kms_blob(raw_blob("AQECAH")[:5])


@pytest.mark.parametrize(
    "blob",
    [
        # AWS Encryption SDK message format version 2 starts with 0x02 0x05 (message-format.html)
        b"\x02\x05\x78" + os.urandom(200),
        # version 1 message: 0x01 0x80 (version, type)
        b"\x01\x80\x00\x78" + os.urandom(200),
        b"",
        b"not a ciphertext at all, just some text somebody pasted",
        base64.b64encode(b"\x02\x05\x78" + os.urandom(60)),  # base64 of a non-KMS message
    ],
    ids=["esdk-v2", "esdk-v1", "empty", "text", "base64-esdk"],
)
def test_other_bytes_are_neither(blob: bytes) -> None:
    facts = ciphertext_facts(blob)
    assert facts["kms_blob"] is False
    assert facts["base64_of_kms_blob"] is False


def test_lab_ciphertext_through_each_damage(lab_runner) -> None:  # type: ignore[no-untyped-def]
    """The lab's real ciphertext, damaged as the scenarios damage it, gives the facts above."""
    from harness.scenarios.catalog import find

    scenario = find("ciphertext-truncated")
    _, resolved = lab_runner.provision(scenario)
    blob = resolved.ciphertext["record"]
    assert ciphertext_facts(blob)["kms_blob"] is True
    assert ciphertext_facts(damaged(blob, "truncate"))["kms_blob"] is True
    assert ciphertext_facts(damaged(blob, "flip"))["kms_blob"] is True
    assert ciphertext_facts(damaged(blob, "base64"))["base64_of_kms_blob"] is True
    assert ciphertext_facts(damaged(blob, "not-kms"))["kms_blob"] is False


def test_runner_request_carries_the_facts_of_the_bytes_sent(lab_runner) -> None:  # type: ignore[no-untyped-def]
    from harness.scenarios.catalog import find

    scenario = find("ciphertext-double-base64")
    provisioner, resolved = lab_runner.provision(scenario)
    attempt = lab_runner.attempt(provisioner, scenario, resolved)
    facts = attempt.bundle["request"]["ciphertext"]
    sent = base64.b64encode(resolved.ciphertext["record"])
    assert facts == {"length": len(sent), "kms_blob": False}
