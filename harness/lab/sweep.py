"""Reset for upstreams without a reset route (LocalStack community): delete, through public
APIs, what lab users can have created in the upstream (IAM, Logs, EC2 VPC endpoints)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import botocore.exceptions

if TYPE_CHECKING:
    from harness.lab.gateway import LabGateway

DEFAULT_ACCOUNTS = ("111111111111", "222222222222", "333333333333")


def _quiet(fn: Any, **kwargs: Any) -> None:
    with contextlib.suppress(botocore.exceptions.ClientError):
        fn(**kwargs)


def sweep(lab: LabGateway) -> None:
    accounts = sorted(set(DEFAULT_ACCOUNTS) | lab.accounts_seen)
    regions = sorted(lab.regions_seen | {"us-east-1"})
    for account in accounts:
        _sweep_iam(lab.upstream.client("iam", account))
        for region in regions:
            _sweep_logs(lab.upstream.client("logs", account, region))
            _sweep_ec2(lab.upstream.client("ec2", account, region))


def _sweep_iam(iam: Any) -> None:
    for role in iam.list_roles().get("Roles", []):
        name = role["RoleName"]
        if role.get("Path", "/").startswith("/aws-service-role/"):
            continue
        for p in iam.list_attached_role_policies(RoleName=name).get("AttachedPolicies", []):
            _quiet(iam.detach_role_policy, RoleName=name, PolicyArn=p["PolicyArn"])
        for pname in iam.list_role_policies(RoleName=name).get("PolicyNames", []):
            _quiet(iam.delete_role_policy, RoleName=name, PolicyName=pname)
        for prof in iam.list_instance_profiles_for_role(RoleName=name).get("InstanceProfiles", []):
            _quiet(
                iam.remove_role_from_instance_profile,
                InstanceProfileName=prof["InstanceProfileName"],
                RoleName=name,
            )
        _quiet(iam.delete_role, RoleName=name)
    for user in iam.list_users().get("Users", []):
        name = user["UserName"]
        for k in iam.list_access_keys(UserName=name).get("AccessKeyMetadata", []):
            _quiet(iam.delete_access_key, UserName=name, AccessKeyId=k["AccessKeyId"])
        for p in iam.list_attached_user_policies(UserName=name).get("AttachedPolicies", []):
            _quiet(iam.detach_user_policy, UserName=name, PolicyArn=p["PolicyArn"])
        for pname in iam.list_user_policies(UserName=name).get("PolicyNames", []):
            _quiet(iam.delete_user_policy, UserName=name, PolicyName=pname)
        for g in iam.list_groups_for_user(UserName=name).get("Groups", []):
            _quiet(iam.remove_user_from_group, GroupName=g["GroupName"], UserName=name)
        _quiet(iam.delete_user, UserName=name)
    for group in iam.list_groups().get("Groups", []):
        name = group["GroupName"]
        for p in iam.list_attached_group_policies(GroupName=name).get("AttachedPolicies", []):
            _quiet(iam.detach_group_policy, GroupName=name, PolicyArn=p["PolicyArn"])
        for pname in iam.list_group_policies(GroupName=name).get("PolicyNames", []):
            _quiet(iam.delete_group_policy, GroupName=name, PolicyName=pname)
        _quiet(iam.delete_group, GroupName=name)
    for pol in iam.list_policies(Scope="Local").get("Policies", []):
        arn = pol["Arn"]
        for v in iam.list_policy_versions(PolicyArn=arn).get("Versions", []):
            if not v["IsDefaultVersion"]:
                _quiet(iam.delete_policy_version, PolicyArn=arn, VersionId=v["VersionId"])
        _quiet(iam.delete_policy, PolicyArn=arn)


def _sweep_logs(logs: Any) -> None:
    for group in logs.describe_log_groups().get("logGroups", []):
        _quiet(logs.delete_log_group, logGroupName=group["logGroupName"])


def _sweep_ec2(ec2: Any) -> None:
    try:
        ids = [e["VpcEndpointId"] for e in ec2.describe_vpc_endpoints().get("VpcEndpoints", [])]
    except botocore.exceptions.ClientError:
        return
    if ids:
        _quiet(ec2.delete_vpc_endpoints, VpcEndpointIds=ids)
