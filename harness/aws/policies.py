"""Policy documents AWS itself writes."""

from __future__ import annotations

from typing import Any

from harness.aws import arns


def default_key_policy(account: str) -> dict[str, Any]:
    """The key policy KMS gives a key created without one (kms key-policy-default.html): the
    account's root principal may do everything, which lets IAM policies grant access."""
    return {
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": arns.account_root(account)},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


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
                "Principal": {"AWS": arns.account_root(account)},
                "Action": ["kms:Describe*", "kms:Get*", "kms:List*"],
                "Resource": "*",
            },
        ],
    }


def account_trust_policy(account: str) -> dict[str, Any]:
    """A role trust policy that lets the account's own principals assume the role: naming the
    account root delegates to the account's IAM policies (id_roles_create_for-user.html)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": arns.account_root(account)},
                "Action": "sts:AssumeRole",
            }
        ],
    }
