"""Multi-Region keys and imported key material.

Multi-Region (multi-region-keys-overview.html, multi-region-keys-auth.html): key ids start
`mrk-`; a replica decrypts ciphertext of its primary; policies, grants and enabled state are
independent per Region; ReplicateKey on a replica fails (UnsupportedOperationException).
Imported material (importing-keys.html, API_GetParametersForImport.html,
API_ImportKeyMaterial.html, API_DeleteImportedKeyMaterial.html): EXTERNAL keys start
PendingImport; material wrapped with the public key enables them; expired or deleted material
returns the key to PendingImport ("<key ARN> is pending import."); re-importing different
material fails with IncorrectKeyMaterialException.
"""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from lab.labkit import APP, LabKit, allow, error


def test_replica_decrypts_primary_ciphertext_with_independent_state(lab: LabKit) -> None:
    primary = lab.key(MultiRegion=True)
    assert primary["KeyId"].startswith("mrk-") and primary["MultiRegion"] is True
    east = lab.client("kms")
    west = lab.client("kms", region="us-west-2")
    replica = east.replicate_key(KeyId=primary["Arn"], ReplicaRegion="us-west-2")[
        "ReplicaKeyMetadata"
    ]
    assert replica["Arn"] == primary["Arn"].replace("us-east-1", "us-west-2")
    assert replica["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
    config = east.describe_key(KeyId=primary["Arn"])["KeyMetadata"]["MultiRegionConfiguration"]
    assert config["MultiRegionKeyType"] == "PRIMARY"
    assert [r["Region"] for r in config["ReplicaKeys"]] == ["us-west-2"]
    blob = east.encrypt(KeyId=primary["Arn"], Plaintext=b"x", EncryptionContext={"a": "b"})[
        "CiphertextBlob"
    ]
    assert (
        west.decrypt(CiphertextBlob=blob, EncryptionContext={"a": "b"})["KeyId"] == replica["Arn"]
    )
    west.disable_key(KeyId=replica["Arn"])
    with pytest.raises(ClientError) as exc:
        west.decrypt(CiphertextBlob=blob, EncryptionContext={"a": "b"})
    assert error(exc) == ("DisabledException", f"{replica['Arn']} is disabled.")
    assert east.decrypt(CiphertextBlob=blob, EncryptionContext={"a": "b"})["Plaintext"] == b"x"
    with pytest.raises(ClientError) as exc:
        west.replicate_key(KeyId=replica["Arn"], ReplicaRegion="eu-west-1")
    assert error(exc)[0] == "UnsupportedOperationException"
    with pytest.raises(ClientError) as exc:
        lab.client("kms", region="eu-west-1").decrypt(
            CiphertextBlob=blob, EncryptionContext={"a": "b"}
        )
    assert error(exc)[0] == "AccessDeniedException"


def test_replica_policy_is_independent(lab: LabKit) -> None:
    role = lab.role("app", policy=allow())
    primary = lab.key(MultiRegion=True)
    lockout_free = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::'
        + APP
        + ':root"},"Action":["kms:PutKeyPolicy","kms:GetKeyPolicy","kms:DescribeKey"],"Resource":"*"}]}'
    )
    lab.client("kms").replicate_key(
        KeyId=primary["Arn"], ReplicaRegion="us-west-2", Policy=lockout_free
    )
    creds = lab.assume(role)
    lab.client("kms", creds=creds).encrypt(KeyId=primary["Arn"], Plaintext=b"x")
    west = lab.client("kms", region="us-west-2", creds=creds)
    with pytest.raises(ClientError) as exc:
        west.encrypt(KeyId=primary["KeyId"], Plaintext=b"x")
    assert error(exc)[1].endswith("because no resource-based policy allows the kms:Encrypt action")


def _wrap(params: dict[str, bytes], material: bytes) -> bytes:
    public = serialization.load_der_public_key(params["PublicKey"])
    assert isinstance(public, rsa.RSAPublicKey)  # GetParametersForImport gives an RSA wrapping key
    return public.encrypt(
        material, padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None)
    )


def test_imported_material_lifecycle(lab: LabKit) -> None:
    kms = lab.client("kms")
    key = lab.key(Origin="EXTERNAL")
    material = os.urandom(32)
    params = kms.get_parameters_for_import(
        KeyId=key["Arn"], WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048"
    )
    valid_to = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
    kms.import_key_material(
        KeyId=key["Arn"],
        ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=_wrap(params, material),
        ExpirationModel="KEY_MATERIAL_EXPIRES",
        ValidTo=valid_to,
    )
    meta = kms.describe_key(KeyId=key["Arn"])["KeyMetadata"]
    assert (meta["KeyState"], meta["ExpirationModel"]) == ("Enabled", "KEY_MATERIAL_EXPIRES")
    blob = kms.encrypt(KeyId=key["Arn"], Plaintext=b"x")["CiphertextBlob"]
    time.sleep(2.1)
    with pytest.raises(ClientError) as exc:
        kms.decrypt(CiphertextBlob=blob)
    assert error(exc) == ("KMSInvalidStateException", f"{key['Arn']} is pending import.")
    assert kms.describe_key(KeyId=key["Arn"])["KeyMetadata"]["KeyState"] == "PendingImport"
    names = [e["EventName"] for e in lab.client("cloudtrail").lookup_events()["Events"]]
    assert "DeleteExpiredKeyMaterial" in names
    params = kms.get_parameters_for_import(
        KeyId=key["Arn"], WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048"
    )
    with pytest.raises(ClientError) as exc:
        kms.import_key_material(
            KeyId=key["Arn"],
            ImportToken=params["ImportToken"],
            EncryptedKeyMaterial=_wrap(params, os.urandom(32)),
            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
        )
    assert error(exc)[0] == "IncorrectKeyMaterialException"
    kms.import_key_material(
        KeyId=key["Arn"],
        ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=_wrap(params, material),
        ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
    )
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
    kms.delete_imported_key_material(KeyId=key["Arn"])
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=key["Arn"], Plaintext=b"x")
    assert error(exc)[1] == f"{key['Arn']} is pending import."
    other = lab.key()
    with pytest.raises(ClientError) as exc:
        kms.get_parameters_for_import(
            KeyId=other["Arn"], WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048"
        )
    assert error(exc)[0] == "UnsupportedOperationException"
