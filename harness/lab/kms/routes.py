"""The lab's KMS API as a route table: each operation, its handler, the IAM action it needs,
how its key is found, and how it is authorized.

`KmsService.handle` serves every entry the same way: `prepare` (validation AWS does before
authorization, and the request's condition keys), then the key the `resource` names is
resolved, the one authorization step decides (`KmsService.authorize`), the key state is
checked, and only then the handler works. An operation without an entry is refused with
`UnknownOperationException`, as AWS's JSON front end refuses an unknown X-Amz-Target.

The authorization mode is not written per entry but read from the AWS fact tables, so it
cannot drift from them: IAM-only when the request names no key (kms-api-permissions-
reference.html: "Resources: *"), otherwise key policy + IAM, for a key of another account too
when AWS allows the operation across accounts (harness.aws.operations), and grants count when
the operation is a grant operation (the API model's GrantOperation enum).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.aws.operations import CROSS_ACCOUNT_OPERATIONS, GRANT_OPERATIONS, actions_of
from harness.lab.kms import aliases, cryptoops, grants, lifecycle, material

if TYPE_CHECKING:
    from harness.lab.kms.call import KmsCall
    from harness.lab.kms.model import Key
    from harness.lab.kms.service import KmsService

Handler = Callable[["KmsService", "KmsCall", "Key | None"], dict[str, Any]]
Prepare = Callable[["KmsService", "KmsCall"], dict[str, Any]]


class Resource(enum.Enum):
    """How the key of a request is found."""

    NONE = "none"  # the request names no key: the resource is "*"
    KEY = "key"  # a key id, key ARN, alias name or alias ARN in `key_param`
    CIPHERTEXT = "ciphertext"  # `key_param` when given, else the key the ciphertext names
    ALIAS = "alias"  # the key the existing alias `AliasName` points to
    GRANT = "grant"  # the key of a grant named by its token or by KeyId + GrantId (handler)


class Auth(enum.Enum):
    """Which policies decide."""

    IAM_ONLY = "iam-only"  # identity policies (and SCPs, boundary, session) on "*"
    KEY_POLICY = "key-policy+iam"  # the key policy with IAM; a key of the caller's account only
    CROSS_ACCOUNT = "key-policy+iam, cross-account"  # the same, and keys of other accounts
    RETIRING_PRINCIPAL = "retiring principal, else key-policy+iam"  # RetireGrant (grants.html)


@dataclass(frozen=True)
class Route:
    operation: str
    handler: Handler
    resource: Resource
    prepare: Prepare | None = None
    key_param: str = "KeyId"
    state_check: bool = True

    @property
    def actions(self) -> tuple[str, ...]:
        """The IAM actions the request needs (ReEncrypt: one per key)."""
        return tuple(f"kms:{name}" for name in actions_of(self.operation))

    @property
    def action(self) -> str:
        return self.actions[0]

    @property
    def auth(self) -> Auth:
        if self.resource is Resource.NONE:
            return Auth.IAM_ONLY
        if self.resource is Resource.GRANT:
            return Auth.RETIRING_PRINCIPAL
        if self.operation in CROSS_ACCOUNT_OPERATIONS:
            return Auth.CROSS_ACCOUNT
        return Auth.KEY_POLICY

    @property
    def grant_capable(self) -> bool:
        """Whether a grant can allow the request (then grants are part of the decision)."""
        return any(name in GRANT_OPERATIONS for name in actions_of(self.operation))


def _table(*routes: Route) -> dict[str, Route]:
    return {route.operation: route for route in routes}


K, N, C = Resource.KEY, Resource.NONE, Resource.CIPHERTEXT
ROUTES: dict[str, Route] = _table(
    # cryptographic operations (cryptoops.py)
    Route("Encrypt", cryptoops.encrypt, K, cryptoops.prepare_encrypt),
    Route("Decrypt", cryptoops.decrypt, C, cryptoops.prepare_decrypt),
    Route("ReEncrypt", cryptoops.reencrypt, C, cryptoops.prepare_reencrypt, "SourceKeyId"),
    Route("GenerateDataKey", cryptoops.data_key, K, cryptoops.prepare_data_key),
    Route("GenerateDataKeyWithoutPlaintext", cryptoops.data_key, K, cryptoops.prepare_data_key),
    Route("GenerateDataKeyPair", cryptoops.data_key_pair, K, cryptoops.prepare_data_key_pair),
    Route(
        "GenerateDataKeyPairWithoutPlaintext",
        cryptoops.data_key_pair,
        K,
        cryptoops.prepare_data_key_pair,
    ),
    Route("GenerateRandom", cryptoops.generate_random, N, cryptoops.prepare_generate_random),
    Route("Sign", cryptoops.sign, K, cryptoops.prepare_signing),
    Route("Verify", cryptoops.verify, K, cryptoops.prepare_signing),
    Route("GenerateMac", cryptoops.generate_mac, K, cryptoops.prepare_mac),
    Route("VerifyMac", cryptoops.verify_mac, K, cryptoops.prepare_mac),
    Route("GetPublicKey", cryptoops.get_public_key, K),
    # keys, key policies, rotation, replicas (lifecycle.py)
    Route("CreateKey", lifecycle.create_key, N, lifecycle.prepare_create_key),
    Route("DescribeKey", lifecycle.describe_key, K, lifecycle.prepare_tokens),
    Route("ListKeys", lifecycle.list_keys, N),
    Route("EnableKey", lifecycle.enable_key, K),
    Route("DisableKey", lifecycle.disable_key, K),
    Route("ScheduleKeyDeletion", lifecycle.schedule_deletion, K, lifecycle.prepare_deletion),
    Route("CancelKeyDeletion", lifecycle.cancel_deletion, K),
    Route("GetKeyPolicy", lifecycle.get_key_policy, K),
    Route("ListKeyPolicies", lifecycle.list_key_policies, K),
    Route("PutKeyPolicy", lifecycle.put_key_policy, K, lifecycle.prepare_put_key_policy),
    Route("UpdateKeyDescription", lifecycle.update_description, K),
    Route("EnableKeyRotation", lifecycle.enable_rotation, K, lifecycle.prepare_rotation),
    Route("DisableKeyRotation", lifecycle.disable_rotation, K),
    Route("GetKeyRotationStatus", lifecycle.rotation_status, K),
    Route("RotateKeyOnDemand", lifecycle.rotate_on_demand, K),
    Route("ListKeyRotations", lifecycle.list_rotations, K),
    Route("ReplicateKey", lifecycle.replicate_key, K, lifecycle.prepare_replicate),
    Route("UpdatePrimaryRegion", lifecycle.update_primary_region, K, lifecycle.prepare_primary),
    # aliases and tags (aliases.py)
    Route("ListAliases", aliases.list_aliases, N),
    Route("CreateAlias", aliases.create_alias, K, aliases.prepare_alias, "TargetKeyId"),
    Route("UpdateAlias", aliases.update_alias, K, aliases.prepare_existing_alias, "TargetKeyId"),
    Route("DeleteAlias", aliases.delete_alias, Resource.ALIAS, aliases.prepare_existing_alias),
    Route("TagResource", aliases.tag_resource, K, aliases.prepare_tag),
    Route("UntagResource", aliases.untag_resource, K, aliases.prepare_untag),
    Route("ListResourceTags", aliases.list_tags, K),
    # grants (grants.py)
    Route("CreateGrant", grants.create_grant, K, grants.prepare_create_grant),
    Route("ListGrants", grants.list_grants, K, lifecycle.prepare_tokens, state_check=False),
    Route("ListRetirableGrants", grants.list_retirable_grants, N),
    Route("RetireGrant", grants.retire_grant, Resource.GRANT),
    Route("RevokeGrant", grants.revoke_grant, K, state_check=False),
    # imported key material and custom key stores (material.py)
    Route("GetParametersForImport", material.parameters_for_import, K, material.prepare_params),
    Route("ImportKeyMaterial", material.import_material, K, material.prepare_import),
    Route("DeleteImportedKeyMaterial", material.delete_material, K),
    Route("CreateCustomKeyStore", material.create_store, N, material.prepare_create_store),
    Route("DescribeCustomKeyStores", material.describe_stores, N),
    Route("ConnectCustomKeyStore", material.connect_store, N),
    Route("DisconnectCustomKeyStore", material.disconnect_store, N),
    Route("DeleteCustomKeyStore", material.delete_store, N),
    Route("UpdateCustomKeyStore", material.update_store, N),
)
