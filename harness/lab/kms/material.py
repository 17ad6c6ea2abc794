"""Imported key material (importing-keys.html) and custom key stores (fix-keystore.html)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from harness.lab.errors import AwsError, validation
from harness.lab.kms.call import KmsCall
from harness.lab.kms.crypto import Material
from harness.lab.kms.model import CustomKeyStore, ImportParameters, Key, now
from harness.lab.kms.specs import b64, ts

if TYPE_CHECKING:
    from harness.lab.kms.service import KmsService

WRAPPING = {
    "RSAES_OAEP_SHA_1": hashes.SHA1,
    "RSAES_OAEP_SHA_256": hashes.SHA256,
    "RSAES_PKCS1_V1_5": None,
}
INCORRECT_MATERIAL = (
    "The key material in the request is, expired, invalid, or is not the same key material "
    "that was previously imported into this customer master key (CMK)."
)
_wrapping_keys: dict[int, Any] = {}


def _wrapping_key(bits: int) -> Any:
    # One wrapping key pair per size for the lab's lifetime: generating RSA keys is slow
    # and each import token still binds the key it was issued for.
    if bits not in _wrapping_keys:
        _wrapping_keys[bits] = rsa.generate_private_key(65537, bits)
    return _wrapping_keys[bits]


def _external(key: Key | None) -> Key:
    if key is None:
        raise AssertionError("no key")
    if key.origin != "EXTERNAL":
        raise AwsError(
            "UnsupportedOperationException",
            f"{key.arn} origin is {key.origin} which is not valid for this operation.",
        )
    return key


def prepare_params(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    algorithm = call.params.get("WrappingAlgorithm") or ""
    spec = call.params.get("WrappingKeySpec") or "RSA_2048"
    if algorithm not in WRAPPING:
        raise validation(
            f"1 validation error detected: Value '{algorithm}' at 'wrappingAlgorithm' failed to "
            f"satisfy constraint: Member must satisfy enum value set: [{', '.join(WRAPPING)}]"
        )
    if spec not in ("RSA_2048", "RSA_3072", "RSA_4096"):
        raise validation(f"Invalid WrappingKeySpec {spec}")
    return {}


def parameters_for_import(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    key = _external(found)
    algorithm = str(call.params["WrappingAlgorithm"])
    spec = call.params.get("WrappingKeySpec") or "RSA_2048"
    private = _wrapping_key(int(spec.split("_")[1]))
    token = secrets.token_bytes(32) + key.key_id.encode()
    expires = now() + dt.timedelta(hours=24)
    with svc.store.lock:
        key.import_params = ImportParameters(token, private, algorithm, expires)
    public = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "KeyId": key.arn,
        "ImportToken": b64(token),
        "PublicKey": b64(public),
        "ParametersValidTo": ts(expires),
    }


def _expiration(call: KmsCall) -> str:
    valid_to = call.params.get("ValidTo")
    model = call.params.get("ExpirationModel") or (
        "KEY_MATERIAL_EXPIRES" if valid_to is not None else "KEY_MATERIAL_DOES_NOT_EXPIRE"
    )
    if model == "KEY_MATERIAL_EXPIRES" and valid_to is None:
        raise validation(
            "A ValidTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES"
        )
    if model == "KEY_MATERIAL_DOES_NOT_EXPIRE" and valid_to is not None:
        raise validation(
            "ValidTo must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE"
        )
    return str(model)


def prepare_import(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    call.blob("ImportToken")
    call.blob("EncryptedKeyMaterial")
    _expiration(call)
    return {}


def import_material(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    key = _external(found)
    token = call.blob("ImportToken")
    wrapped = call.blob("EncryptedKeyMaterial")
    valid_to = call.params.get("ValidTo")
    model = _expiration(call)
    params = key.import_params
    if params is None or params.token != token:
        raise AwsError("InvalidImportTokenException", "Import token is invalid.")
    if params.expires <= now():
        raise AwsError("ExpiredImportTokenException", "The import token has expired.")
    h = WRAPPING[params.algorithm]
    pad = padding.PKCS1v15() if h is None else padding.OAEP(padding.MGF1(h()), h(), None)
    try:
        material = params.private_key.decrypt(wrapped, pad)
    except ValueError as exc:
        raise AwsError("InvalidCiphertextException", "") from exc
    if key.spec == "SYMMETRIC_DEFAULT" and len(material) != 32:
        raise AwsError("IncorrectKeyMaterialException", INCORRECT_MATERIAL)
    fingerprint = hashlib.sha256(material).digest()
    if key.material_fingerprint is not None and key.material_fingerprint != fingerprint:
        raise AwsError("IncorrectKeyMaterialException", INCORRECT_MATERIAL)
    expiry = None
    if valid_to is not None:
        try:
            expiry = dt.datetime.fromtimestamp(float(valid_to), dt.UTC)
        except (TypeError, ValueError) as exc:
            raise validation("ValidTo is not a timestamp") from exc
        if expiry <= now():
            raise validation("ValidTo must be in the future")
    with svc.store.lock:
        key.material = (
            Material("SYMMETRIC_DEFAULT", [material])
            if key.spec == "SYMMETRIC_DEFAULT"
            else Material(key.spec)
        )
        key.material_fingerprint = fingerprint
        key.expiration_model = model
        key.valid_to = expiry
        key.import_params = None
        if key.state == "PendingImport":
            key.state = "Enabled"
    return {}


def delete_material(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    key = _external(found)
    with svc.store.lock:
        key.material = None
        key.valid_to = None
        key.expiration_model = None
        if key.state in ("Enabled", "Disabled"):
            key.state = "PendingImport"
    return {}


# custom key stores ---------------------------------------------------------------------------
def _store(svc: KmsService, call: KmsCall) -> CustomKeyStore:
    store_id = call.params.get("CustomKeyStoreId")
    store = svc.store.stores.get(store_id or "")
    if store is None or store.account != call.principal.account or store.region != call.region:
        raise AwsError(
            "CustomKeyStoreNotFoundException",
            f"Custom key store {store_id} does not exist in this account and Region.",
        )
    return store


def prepare_create_store(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    p = call.params
    if not p.get("CustomKeyStoreName"):
        raise validation("CustomKeyStoreName is required.")
    store_type = p.get("CustomKeyStoreType") or "AWS_CLOUDHSM"
    if store_type == "AWS_CLOUDHSM" and not p.get("CloudHsmClusterId"):
        raise validation("CloudHsmClusterId is required for an AWS_CLOUDHSM key store.")
    return {}


def create_store(svc: KmsService, call: KmsCall, _: Key | None) -> dict[str, Any]:
    p = call.params
    name = p.get("CustomKeyStoreName")
    store_type = p.get("CustomKeyStoreType") or "AWS_CLOUDHSM"
    with svc.store.lock:
        for existing in svc.store.stores.values():
            if (existing.account, existing.region, existing.name) == (
                call.principal.account,
                call.region,
                name,
            ):
                raise AwsError(
                    "CustomKeyStoreNameInUseException", f"Custom key store name {name} is in use."
                )
        store = CustomKeyStore(
            store_id="cks-" + secrets.token_hex(9)[:17],
            account=call.principal.account,
            region=call.region,
            name=str(name),
            store_type=store_type,
            cluster_id=p.get("CloudHsmClusterId"),
            extra={k: v for k, v in p.items() if k in ("TrustAnchorCertificate",)},
        )
        if store_type == "EXTERNAL_KEY_STORE":
            store.extra["XksProxyConfiguration"] = {
                "Connectivity": p.get("XksProxyConnectivity", "PUBLIC_ENDPOINT"),
                "UriEndpoint": p.get("XksProxyUriEndpoint", ""),
                "UriPath": p.get("XksProxyUriPath", ""),
            }
        svc.store.stores[store.store_id] = store
    return {"CustomKeyStoreId": store.store_id}


def describe_stores(svc: KmsService, call: KmsCall, _: Key | None) -> dict[str, Any]:
    wanted_id = call.params.get("CustomKeyStoreId")
    wanted_name = call.params.get("CustomKeyStoreName")
    with svc.store.lock:
        stores = [
            s
            for s in svc.store.stores.values()
            if s.account == call.principal.account
            and s.region == call.region
            and (not wanted_id or s.store_id == wanted_id)
            and (not wanted_name or s.name == wanted_name)
        ]
    if (wanted_id or wanted_name) and not stores:
        raise AwsError(
            "CustomKeyStoreNotFoundException",
            f"Custom key store {wanted_id or wanted_name} does not exist in this account and Region.",
        )
    out = []
    for s in stores:
        entry = s.describe()
        conn = svc.connection(s)
        entry["ConnectionState"] = conn["ConnectionState"]
        entry.pop("ConnectionErrorCode", None)
        if conn.get("ConnectionErrorCode"):
            entry["ConnectionErrorCode"] = conn["ConnectionErrorCode"]
        out.append(entry)
    return {"CustomKeyStores": out, "Truncated": False}


def connect_store(svc: KmsService, call: KmsCall, _: Key | None) -> dict[str, Any]:
    store = _store(svc, call)
    if svc.connection(store)["ConnectionState"] == "FAILED":
        raise AwsError(
            "CustomKeyStoreInvalidStateException",
            f"Custom key store {store.store_id} is in the FAILED state; disconnect it first.",
        )
    svc.controls.clear_store_override(store.store_id, store.name)
    store.state, store.error_code = "CONNECTED", None
    return {}


def disconnect_store(svc: KmsService, call: KmsCall, _: Key | None) -> dict[str, Any]:
    store = _store(svc, call)
    svc.controls.clear_store_override(store.store_id, store.name)
    store.state, store.error_code = "DISCONNECTED", None
    return {}


def delete_store(svc: KmsService, call: KmsCall, _: Key | None) -> dict[str, Any]:
    store = _store(svc, call)
    if svc.connection(store)["ConnectionState"] != "DISCONNECTED":
        raise AwsError(
            "CustomKeyStoreInvalidStateException",
            f"Custom key store {store.store_id} must be disconnected before it is deleted.",
        )
    with svc.store.lock:
        if any(k.custom_key_store_id == store.store_id for k in svc.store.keys.values()):
            raise AwsError(
                "CustomKeyStoreHasCMKsException",
                f"Custom key store {store.store_id} still has KMS keys.",
            )
        svc.store.stores.pop(store.store_id, None)
    return {}


def update_store(svc: KmsService, call: KmsCall, _: Key | None) -> dict[str, Any]:
    store = _store(svc, call)
    if call.params.get("NewCustomKeyStoreName"):
        store.name = str(call.params["NewCustomKeyStoreName"])
    if call.params.get("CloudHsmClusterId"):
        store.cluster_id = str(call.params["CloudHsmClusterId"])
    return {}
