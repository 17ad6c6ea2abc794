"""Key resolution as AWS does it: ids and alias names in the caller's account and Region,
ARNs in the owning account, with AWS's NotFound shapes for the wrong Region or account."""

from __future__ import annotations

import json
import uuid

from harness.aws import arns
from harness.aws.errors import AliasNotFound, InvalidArnNotFound, NotFound
from harness.aws.policies import AWS_MANAGED_SERVICES, aws_managed_policy
from harness.lab.errors import AwsError, not_found
from harness.lab.kms.crypto import Material
from harness.lab.kms.model import Alias, Key, KmsStore, alias_arn, key_arn


class ResolvedKey:
    """A resolved key and how the caller named it."""

    def __init__(self, key: Key, given: str, alias: str | None) -> None:
        self.key = key
        self.given = given
        self.alias = alias


def resolve(store: KmsStore, account: str, region: str, given: str) -> ResolvedKey:
    """Find the key `given` names for a caller in `account` calling `region`."""
    if not given:
        raise AwsError(
            "ValidationException",
            "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: "
            "Member must not be null",
        )
    if given.startswith("arn:"):
        parsed = arns.parse(given)
        if parsed is None or parsed.service != "kms":
            raise InvalidArnNotFound(arn=given)
        arn_region, owner, resource = parsed.region, parsed.account, parsed.resource
        if arn_region != region:
            raise InvalidArnNotFound(arn=arn_region)
        if resource.startswith("key/"):
            key = store.get(owner, region, resource[4:])
            if key is None:
                raise NotFound(arn=given)
            return ResolvedKey(key, given, None)
        if resource.startswith("alias/"):
            return _by_alias(store, owner, region, resource, given, create=owner == account)
        raise InvalidArnNotFound(arn=given)
    if given.startswith("alias/"):
        return _by_alias(store, account, region, given, given, create=True)
    if not arns.is_key_id(given):
        raise not_found(f"Invalid keyId '{given}'")
    key = store.get(account, region, given)
    if key is None:
        raise NotFound(arn=key_arn(region, account, given))
    return ResolvedKey(key, given, None)


def _by_alias(
    store: KmsStore, account: str, region: str, name: str, given: str, *, create: bool
) -> ResolvedKey:
    alias = store.aliases.get((account, region, name))
    # Only the account's own use brings its AWS managed key into being; naming another
    # account's alias/aws/... by ARN never creates a key there.
    service = name.removeprefix("alias/aws/")
    if alias is None and create and name != service and service in AWS_MANAGED_SERVICES:
        alias = create_aws_managed(store, account, region, service)
    if alias is None:
        raise AliasNotFound(arn=alias_arn(region, account, name))
    key = store.get(account, region, alias.target)
    if key is None:
        raise AliasNotFound(arn=alias_arn(region, account, name))
    return ResolvedKey(key, given, name)


def create_aws_managed(store: KmsStore, account: str, region: str, service: str) -> Alias:
    """AWS creates an AWS managed key the first time it is referenced (API_DescribeKey.html:
    "services use DescribeKey to create AWS managed keys from a predefined AWS alias");
    so does the lab."""
    key = Key(
        account=account,
        region=region,
        key_id=str(uuid.uuid4()),
        spec="SYMMETRIC_DEFAULT",
        usage="ENCRYPT_DECRYPT",
        origin="AWS_KMS",
        material=Material.generate("SYMMETRIC_DEFAULT"),
        description=f"Default key that protects my {service} data when no other key is defined",
        manager="AWS",
        rotation_enabled=True,
    )
    key.policy = json.dumps(aws_managed_policy(account, region, service))
    store.add_key(key)
    alias = Alias(f"alias/aws/{service}", key.key_id)
    store.aliases[(account, region, alias.name)] = alias
    return alias
