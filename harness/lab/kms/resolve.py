"""Key resolution as AWS does it: ids and alias names in the caller's account and Region,
ARNs in the owning account, with AWS's NotFound shapes for the wrong Region or account."""

from __future__ import annotations

import json
import re
import uuid

from harness.aws import arns
from harness.aws.errors import AliasNotFound, InvalidArnNotFound, NotFound
from harness.lab.errors import AwsError, not_found
from harness.lab.kms.crypto import Material
from harness.lab.kms.model import Alias, Key, KmsStore, alias_arn, key_arn

KEY_ID_RE = re.compile(
    r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$"
)
# AWS managed keys the lab creates on first reference, and the service whose requests their
# policy allows (kms:ViaService "<service>.<region>.amazonaws.com"): EBS calls KMS as EC2.
AWS_MANAGED_SERVICES = {
    "s3": "s3",
    "ebs": "ec2",
    "rds": "rds",
    "lambda": "lambda",
    "ssm": "ssm",
    "secretsmanager": "secretsmanager",
    "dynamodb": "dynamodb",
    "sns": "sns",
    "sqs": "sqs",
    "backup": "backup",
    "kinesis": "kinesis",
    "logs": "logs",
    "elasticfilesystem": "elasticfilesystem",
    "redshift": "redshift",
    "glue": "glue",
    "acm": "acm",
}


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
    if not KEY_ID_RE.match(given):
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


def aws_managed_policy(account: str, region: str, service: str) -> dict[str, object]:
    """The policy AWS writes on an AWS managed key (concepts.html#aws-managed-cmk): every
    principal of the account, but only through the service (kms:ViaService) and only from this
    account (kms:CallerAccount); direct access to metadata for the account. Nobody can change
    it (key-policy-modifying.html). aws/s3's policy has no kms:CreateGrant."""
    via = f"{AWS_MANAGED_SERVICES[service]}.{region}.amazonaws.com"
    actions = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"]
    if service != "s3":
        actions.append("kms:CreateGrant")
    label = service.upper() if len(service) <= 3 else service
    return {
        "Version": "2012-10-17",
        "Id": f"auto-{service}-2",
        "Statement": [
            {
                "Sid": f"Allow access through {label} for all principals in the account that "
                f"are authorized to use {label}",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": [*actions, "kms:DescribeKey"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"kms:CallerAccount": account, "kms:ViaService": via}
                },
            },
            {
                "Sid": "Allow direct access to key metadata to the account",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": ["kms:Describe*", "kms:Get*", "kms:List*"],
                "Resource": "*",
            },
        ],
    }
