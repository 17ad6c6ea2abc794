"""The lab's KMS model: keys, replicas, aliases, grants and custom key stores per account and Region.

The upstream emulators cannot hold what the lab must reproduce (key states, multi-Region
replicas that decrypt each other's ciphertext, imported material with expiry, custom key
stores), so KMS data lives here; backends are keyed by account and Region like AWS's.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from harness.aws import arns
from harness.lab.kms.crypto import Material


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def key_arn(region: str, account: str, key_id: str) -> str:
    return f"arn:aws:kms:{region}:{account}:key/{key_id}"


def alias_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:kms:{region}:{account}:{name}"


@dataclass
class LabGrant:
    grant_id: str
    key_arn: str
    grantee: str
    operations: list[str]
    issuing_account: str
    created: dt.datetime
    token: str
    name: str = ""
    retiring: str | None = None
    constraints: dict[str, Any] | None = None
    orphaned: bool = False  # its grantee was deleted; a recreated namesake is not the grantee

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "KeyId": self.key_arn,
            "GrantId": self.grant_id,
            "Name": self.name,
            "CreationDate": self.created,
            "GranteePrincipal": self.grantee,
            "IssuingAccount": arns.account_root(self.issuing_account),
            "Operations": list(self.operations),
        }
        if self.retiring:
            out["RetiringPrincipal"] = self.retiring
        if self.constraints:
            out["Constraints"] = self.constraints
        return out


@dataclass
class ImportParameters:
    token: bytes
    private_key: Any
    algorithm: str
    expires: dt.datetime


@dataclass
class MultiRegion:
    """What the primary and its replicas share (besides key material)."""

    primary_region: str
    regions: list[str]


@dataclass
class Key:
    account: str
    region: str
    key_id: str
    spec: str
    usage: str
    origin: str
    material: Material | None
    description: str = ""
    state: str = "Enabled"
    policy: str = ""
    created: dt.datetime = field(default_factory=now)
    manager: str = "CUSTOMER"
    tags: dict[str, str] = field(default_factory=dict)
    rotation_enabled: bool = False
    rotation_period: int = 365
    rotations: list[dt.datetime] = field(default_factory=list)
    deletion_date: dt.datetime | None = None
    pending_window: int | None = None
    multi_region: MultiRegion | None = None
    custom_key_store_id: str | None = None
    expiration_model: str | None = None
    valid_to: dt.datetime | None = None
    import_params: ImportParameters | None = None
    material_fingerprint: bytes | None = None
    grants: list[LabGrant] = field(default_factory=list)

    @property
    def arn(self) -> str:
        return key_arn(self.region, self.account, self.key_id)


@dataclass
class Alias:
    name: str
    target: str
    created: dt.datetime = field(default_factory=now)
    updated: dt.datetime = field(default_factory=now)


@dataclass
class CustomKeyStore:
    store_id: str
    account: str
    region: str
    name: str
    store_type: str
    cluster_id: str | None
    state: str = "DISCONNECTED"
    error_code: str | None = None
    created: dt.datetime = field(default_factory=now)
    extra: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "CustomKeyStoreId": self.store_id,
            "CustomKeyStoreName": self.name,
            "CustomKeyStoreType": self.store_type,
            "ConnectionState": self.state,
            "CreationDate": self.created,
        }
        if self.cluster_id:
            out["CloudHsmClusterId"] = self.cluster_id
            out["TrustAnchorCertificate"] = self.extra.get("TrustAnchorCertificate", "")
        if self.error_code and self.state in ("FAILED", "DISCONNECTED"):
            out["ConnectionErrorCode"] = self.error_code
        for name in ("XksProxyConfiguration",):
            if name in self.extra:
                out[name] = self.extra[name]
        return out


class KmsStore:
    """All KMS data of the lab, guarded by one lock (operations are short)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.keys: dict[tuple[str, str, str], Key] = {}
        self.aliases: dict[tuple[str, str, str], Alias] = {}
        self.stores: dict[str, CustomKeyStore] = {}
        self.grant_tokens: dict[str, LabGrant] = {}

    def reset(self) -> None:
        with self.lock:
            self.keys.clear()
            self.aliases.clear()
            self.stores.clear()
            self.grant_tokens.clear()

    def add_key(self, key: Key) -> None:
        self.keys[(key.account, key.region, key.key_id)] = key

    def get(self, account: str, region: str, key_id: str) -> Key | None:
        return self.keys.get((account, region, key_id))

    def keys_in(self, account: str, region: str) -> list[Key]:
        return [k for (a, r, _), k in self.keys.items() if a == account and r == region]

    def aliases_in(self, account: str, region: str) -> list[Alias]:
        return [al for (a, r, _), al in self.aliases.items() if a == account and r == region]

    def aliases_of(self, key: Key) -> list[str]:
        return [
            al.name
            for (a, r, _), al in self.aliases.items()
            if a == key.account and r == key.region and al.target == key.key_id
        ]


def new_key_id(multi_region: bool) -> str:
    return f"mrk-{secrets.token_hex(16)}" if multi_region else str(uuid.uuid4())


def new_grant_token(grant_id: str) -> str:
    # Opaque like AWS's; long enough that a guessed token is never valid.
    return "AQpAM" + secrets.token_urlsafe(48) + grant_id[:8]
