"""Key state applies to every caller, with AWS's exception and message per state.

Expectations: KMS Developer Guide, "Key states of AWS KMS keys"
(https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html) footnotes —
`DisabledException: <key ARN> is disabled.`, `KMSInvalidStateException: <key ARN> is pending
deletion.` / `is pending import.` / `is unavailable.` / `is creating.` / `is updating.` — and
API_CancelKeyDeletion.html (a cancelled key comes back Disabled).
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from lab.labkit import LabKit, allow, error


def test_disabled_key_fails_for_operator_and_issued_credentials(lab: LabKit) -> None:
    key = lab.key()
    kms = lab.client("kms")
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    app = lab.assume(lab.role("app", policy=allow()))
    kms.disable_key(KeyId=key["KeyId"])
    for client in (kms, lab.client("kms", creds=app)):
        with pytest.raises(ClientError) as exc:
            client.decrypt(CiphertextBlob=blob)
        assert error(exc) == ("DisabledException", f"{key['Arn']} is disabled.")
        with pytest.raises(ClientError) as exc:
            client.encrypt(KeyId=key["Arn"], Plaintext=b"x")
        assert error(exc) == ("DisabledException", f"{key['Arn']} is disabled.")
        with pytest.raises(ClientError) as exc:
            client.generate_data_key(KeyId=key["Arn"], KeySpec="AES_256")
        assert error(exc)[0] == "DisabledException"
    meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
    assert (meta["KeyState"], meta["Enabled"]) == ("Disabled", False)
    kms.enable_key(KeyId=key["KeyId"])
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"


def test_pending_deletion_then_cancel_comes_back_disabled(lab: LabKit) -> None:
    key = lab.key()
    kms = lab.client("kms")
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    out = kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    assert out["KeyState"] == "PendingDeletion" and out["PendingWindowInDays"] == 7
    with pytest.raises(ClientError) as exc:
        kms.decrypt(CiphertextBlob=blob)
    assert error(exc) == ("KMSInvalidStateException", f"{key['Arn']} is pending deletion.")
    with pytest.raises(ClientError) as exc:
        kms.enable_key(KeyId=key["KeyId"])
    assert error(exc)[0] == "KMSInvalidStateException"
    meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
    assert meta["KeyState"] == "PendingDeletion" and "DeletionDate" in meta
    kms.cancel_key_deletion(KeyId=key["KeyId"])
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "Disabled"
    with pytest.raises(ClientError) as exc:
        kms.decrypt(CiphertextBlob=blob)
    assert error(exc)[0] == "DisabledException"


def test_external_key_without_material_is_pending_import(lab: LabKit) -> None:
    key = lab.key(Origin="EXTERNAL")
    assert key["KeyState"] == "PendingImport" and key["Origin"] == "EXTERNAL"
    with pytest.raises(ClientError) as exc:
        lab.client("kms").encrypt(KeyId=key["KeyId"], Plaintext=b"x")
    assert error(exc) == ("KMSInvalidStateException", f"{key['Arn']} is pending import.")


@pytest.mark.parametrize(("state", "word"), [("Creating", "creating"), ("Updating", "updating")])
def test_transient_states_from_controls(lab: LabKit, state: str, word: str) -> None:
    key = lab.key()
    lab.admin.set_controls({"key_states": {key["Arn"]: state}})
    kms = lab.client("kms")
    assert kms.describe_key(KeyId=key["Arn"])["KeyMetadata"]["KeyState"] == state
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=key["Arn"], Plaintext=b"x")
    assert error(exc) == ("KMSInvalidStateException", f"{key['Arn']} is {word}.")
    lab.admin.set_controls({"key_states": {key["Arn"]: None}})
    kms.encrypt(KeyId=key["Arn"], Plaintext=b"x")


def test_disabled_key_blocks_create_grant_but_not_metadata(lab: LabKit) -> None:
    key = lab.key()
    kms = lab.client("kms")
    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(ClientError) as exc:
        kms.create_grant(
            KeyId=key["KeyId"],
            GranteePrincipal="arn:aws:iam::111111111111:root",
            Operations=["Decrypt"],
        )
    assert error(exc) == ("DisabledException", f"{key['Arn']} is disabled.")
    assert kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"]
    assert kms.list_grants(KeyId=key["KeyId"])["Grants"] == []
