"""Each runbook Playbook step's evidence, against moto: what the bundle must hold, and what
it records when the investigator lacks that step's permission.

Response shapes asserted here are AWS's, from the API references:
DescribeKey https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html,
GetKeyPolicy .../API_GetKeyPolicy.html, ListAliases .../API_ListAliases.html,
ListGrants .../API_ListGrants.html, GetKeyRotationStatus .../API_GetKeyRotationStatus.html,
GetRole https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRole.html,
GetPolicyVersion .../API_GetPolicyVersion.html, FilterLogEvents
https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html,
DescribeVpcEndpoints https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVpcEndpoints.html,
ListPoliciesForTarget https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListPoliciesForTarget.html.
"""

from __future__ import annotations

import json
import time

import pytest

from harness.aws.clients import Target
from harness.evidence import InvestigationRequest

from .scenarios import World, allow, doc
from .support import MOTO_ACCOUNT, Collect, calls, deny_with, one

ACCESS_DENIED = "AccessDeniedException"


@pytest.fixture
def world(target: Target) -> World:
    return World(target, MOTO_ACCOUNT)


def request(world: World, key: str, principal: str | None = None) -> InvestigationRequest:
    return InvestigationRequest(
        principal=principal or world.session(), action="kms:Decrypt", key=key, region="us-east-1"
    )


def denied(*operations: str) -> dict[str, object]:
    return {
        "client_hook": deny_with(
            ACCESS_DENIED, "User: investigator is not authorized", set(operations)
        )
    }


# -- step 1 and 6: key existence, state, deletion date; service health -----------------------


def test_step1_pending_deletion_key_has_state_and_deletion_date(world: World, run: Collect) -> None:
    world.role()
    key = world.key()
    world.client("kms").schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    bundle = run(request(world, key["KeyId"])).bundle
    meta = one(bundle, "kms", "DescribeKey", KeyId=key["KeyId"])["response"]["KeyMetadata"]
    assert meta["KeyState"] == "PendingDeletion"
    assert meta["DeletionDate"]  # ISO-8601 string (contract section 3)
    assert meta["Arn"] == key["Arn"]


def test_step6_disabled_key_state_and_usage(world: World, run: Collect) -> None:
    world.role()
    key = world.key(KeyUsage="ENCRYPT_DECRYPT")
    world.client("kms").disable_key(KeyId=key["KeyId"])
    meta = one(run(request(world, key["Arn"])).bundle, "kms", "DescribeKey")["response"]
    assert meta["KeyMetadata"]["KeyState"] == "Disabled"
    assert meta["KeyMetadata"]["Enabled"] is False
    assert meta["KeyMetadata"]["KeyUsage"] == "ENCRYPT_DECRYPT"


def test_step1_health_is_asked_for_kms_in_the_region_from_us_east_1(
    world: World, run: Collect
) -> None:
    world.role()
    key = world.key()
    req = InvestigationRequest(
        principal=world.session(), action="kms:Decrypt", key=key["Arn"], region="us-east-1"
    )
    call = one(run(req).bundle, "health", "DescribeEvents")
    assert call["region"] == "us-east-1"
    assert call["params"]["filter"] == {
        "services": ["KMS"], "regions": ["us-east-1"], "eventStatusCodes": ["open"]
    }  # fmt: skip
    # moto has no AWS Health: a missing API is that call's error, the rest continues.
    assert "error" in call
    assert "response" in one(run(req).bundle, "kms", "GetKeyPolicy")


def test_step1_without_describe_key_permission_the_rest_is_still_collected(
    world: World, run: Collect
) -> None:
    world.role()
    key = world.key()
    bundle = run(request(world, key["Arn"]), **denied("kms:DescribeKey")).bundle
    assert one(bundle, "kms", "DescribeKey")["error"]["code"] == ACCESS_DENIED
    # A key named by ARN still keys the other calls.
    assert "response" in one(bundle, "kms", "GetKeyPolicy")
    assert "response" in one(bundle, "iam", "GetRole")


def test_step1_without_health_permission_records_the_refusal(world: World, run: Collect) -> None:
    world.role()
    key = world.key()
    bundle = run(request(world, key["Arn"]), **denied("health:DescribeEvents")).bundle
    assert one(bundle, "health", "DescribeEvents")["error"]["code"] == ACCESS_DENIED


# -- step 2: key policy --------------------------------------------------------------------


def test_step2_key_policy_and_its_names(world: World, run: Collect) -> None:
    world.role()
    statement = {
        "Sid": "AllowApp",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{world.account}:role/app"},
        "Action": "kms:Decrypt",
        "Resource": "*",
    }
    key = world.key(world.root_policy(statement))
    bundle = run(request(world, key["KeyId"])).bundle
    got = one(bundle, "kms", "GetKeyPolicy", KeyId=key["Arn"], PolicyName="default")
    assert [s.get("Sid") for s in json.loads(got["response"]["Policy"])["Statement"]] == [
        "EnableIAM", "AllowApp"
    ]  # fmt: skip
    assert one(bundle, "kms", "ListKeyPolicies")["response"]["PolicyNames"] == ["default"]


def test_step2_without_get_key_policy_permission(world: World, run: Collect) -> None:
    world.role()
    key = world.key()
    bundle = run(request(world, key["KeyId"]), **denied("kms:GetKeyPolicy")).bundle
    assert one(bundle, "kms", "GetKeyPolicy")["error"]["code"] == ACCESS_DENIED
    assert "response" in one(bundle, "kms", "ListKeyPolicies")


# -- step 3: aliases -----------------------------------------------------------------------


def test_step3_alias_pointing_at_another_key(world: World, run: Collect) -> None:
    world.role()
    intended, other = world.key(), world.key()
    world.alias("alias/app-data", other["KeyId"])
    world.alias("alias/app-data-old", intended["KeyId"])
    bundle = run(request(world, "alias/app-data")).bundle
    described = one(bundle, "kms", "DescribeKey", KeyId="alias/app-data")["response"]
    assert described["KeyMetadata"]["Arn"] == other["Arn"]
    every = [c for c in calls(bundle, "kms", "ListAliases") if "KeyId" not in c["params"]]
    assert len(every) == 1
    by_name = {a["AliasName"]: a.get("TargetKeyId") for a in every[0]["response"]["Aliases"]}
    assert by_name["alias/app-data"] == other["KeyId"]
    assert by_name["alias/app-data-old"] == intended["KeyId"]
    of_key = one(bundle, "kms", "ListAliases", KeyId=other["Arn"])["response"]["Aliases"]
    assert [a["AliasName"] for a in of_key] == ["alias/app-data"]


def test_step3_without_list_aliases_permission(world: World, run: Collect) -> None:
    world.role()
    key = world.key()
    world.alias("alias/app-data", key["KeyId"])
    bundle = run(request(world, "alias/app-data"), **denied("kms:ListAliases")).bundle
    aliases = calls(bundle, "kms", "ListAliases")
    assert len(aliases) == 2
    assert {c["error"]["code"] for c in aliases} == {ACCESS_DENIED}
    assert "response" in one(bundle, "kms", "GetKeyPolicy")


# -- step 4: the principal's IAM -----------------------------------------------------------


def test_step4_role_with_path_inline_attached_default_version_and_boundary(
    world: World, run: Collect
) -> None:
    world.role("app", path="/team/")
    iam = world.client("iam")
    iam.put_role_policy(
        RoleName="app", PolicyName="inline-kms", PolicyDocument=doc(allow("kms:Decrypt"))
    )
    managed = iam.create_policy(PolicyName="kms-managed", PolicyDocument=doc(allow("kms:Encrypt")))
    arn = managed["Policy"]["Arn"]
    iam.create_policy_version(
        PolicyArn=arn, PolicyDocument=doc(allow("kms:ReEncrypt*")), SetAsDefault=True
    )
    iam.attach_role_policy(RoleName="app", PolicyArn=arn)
    boundary = iam.create_policy(PolicyName="boundary", PolicyDocument=doc(allow("s3:*")))[
        "Policy"
    ]["Arn"]
    iam.put_role_permissions_boundary(RoleName="app", PermissionsBoundary=boundary)
    key = world.key()
    # The session ARN carries no path; GetRole by name finds the role anyway.
    bundle = run(request(world, key["KeyId"], world.session("app", "worker-1"))).bundle
    role = one(bundle, "iam", "GetRole", RoleName="app")["response"]["Role"]
    assert role["Path"] == "/team/"
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    inline = one(bundle, "iam", "GetRolePolicy", RoleName="app", PolicyName="inline-kms")
    assert inline["response"]["PolicyDocument"]["Statement"][0]["Action"] == "kms:Decrypt"
    version = one(bundle, "iam", "GetPolicyVersion", PolicyArn=arn)
    assert version["params"]["VersionId"] == "v2"
    assert version["response"]["PolicyVersion"]["IsDefaultVersion"] is True
    bounded = one(bundle, "iam", "GetPolicyVersion", PolicyArn=boundary)
    assert bounded["response"]["PolicyVersion"]["Document"]["Statement"][0]["Action"] == "s3:*"
    assert one(bundle, "sts", "GetCallerIdentity")["response"]["Account"] == world.account


def test_step4_user_with_group_policies(world: World, run: Collect) -> None:
    iam = world.client("iam")
    iam.create_user(UserName="alice")
    iam.create_group(GroupName="devs")
    iam.add_user_to_group(GroupName="devs", UserName="alice")
    iam.put_group_policy(
        GroupName="devs", PolicyName="devs-kms", PolicyDocument=doc(allow("kms:Decrypt"))
    )
    managed = iam.create_policy(
        PolicyName="group-managed", PolicyDocument=doc(allow("kms:Encrypt"))
    )
    iam.attach_group_policy(GroupName="devs", PolicyArn=managed["Policy"]["Arn"])
    key = world.key()
    principal = f"arn:aws:iam::{world.account}:user/alice"
    bundle = run(request(world, key["KeyId"], principal)).bundle
    assert (
        one(bundle, "iam", "GetUser", UserName="alice")["response"]["User"]["UserName"] == "alice"
    )
    groups = one(bundle, "iam", "ListGroupsForUser")["response"]["Groups"]
    assert [g["GroupName"] for g in groups] == ["devs"]
    assert "response" in one(
        bundle, "iam", "GetGroupPolicy", GroupName="devs", PolicyName="devs-kms"
    )
    assert "response" in one(bundle, "iam", "GetPolicyVersion", PolicyArn=managed["Policy"]["Arn"])
    assert not calls(bundle, "iam", "GetRole")


def test_step4_without_iam_read_permission(world: World, run: Collect) -> None:
    world.role()
    world.client("iam").put_role_policy(
        RoleName="app", PolicyName="inline-kms", PolicyDocument=doc(allow("kms:Decrypt"))
    )
    key = world.key()
    bundle = run(request(world, key["KeyId"]), **denied("iam:GetRolePolicy")).bundle
    assert one(bundle, "iam", "GetRolePolicy")["error"]["code"] == ACCESS_DENIED
    assert one(bundle, "iam", "ListRolePolicies")["response"]["PolicyNames"] == ["inline-kms"]
    assert "response" in one(bundle, "iam", "GetRole")


# -- step 5: the principal against the key policy's principals -----------------------------


def test_step5_principals_named_by_the_key_policy_are_looked_up(world: World, run: Collect) -> None:
    world.role("app", path="/team/")
    world.role("app-admin")
    named = {
        "Sid": "AllowNamed",
        "Effect": "Allow",
        "Principal": {"AWS": [
            f"arn:aws:iam::{world.account}:role/app-admin",
            f"arn:aws:sts::{world.account}:assumed-role/app/i-0abc",
        ]},
        "Action": "kms:Decrypt",
        "Resource": "*",
    }  # fmt: skip
    key = world.key(world.root_policy(named))
    bundle = run(request(world, key["KeyId"])).bundle
    admin = one(bundle, "iam", "GetRole", RoleName="app-admin")["response"]["Role"]
    assert admin["Arn"] == f"arn:aws:iam::{world.account}:role/app-admin"
    # The caller's role, named through a session ARN in the policy, is read once, not twice.
    caller = one(bundle, "iam", "GetRole", RoleName="app")["response"]["Role"]
    assert caller["Arn"] == f"arn:aws:iam::{world.account}:role/team/app"


def test_step5_without_get_role_permission(world: World, run: Collect) -> None:
    world.role("app")
    world.role("app-admin")
    named = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{world.account}:role/app-admin"},
        "Action": "kms:Decrypt",
        "Resource": "*",
    }
    key = world.key(world.root_policy(named))
    bundle = run(request(world, key["KeyId"]), **denied("iam:GetRole")).bundle
    assert one(bundle, "iam", "GetRole", RoleName="app-admin")["error"]["code"] == ACCESS_DENIED
    assert "response" in one(bundle, "kms", "GetKeyPolicy")


# -- step 7: grants, rotation, multi-Region, custom key store ------------------------------


def test_step7_grants_and_rotation(world: World, run: Collect) -> None:
    app = world.role()
    key = world.key()
    kms = world.client("kms")
    kms.create_grant(
        KeyId=key["KeyId"],
        GranteePrincipal=app,
        Operations=["Decrypt"],
        Constraints={"EncryptionContextSubset": {"Dept": "IT"}},
    )
    kms.enable_key_rotation(KeyId=key["KeyId"])
    bundle = run(request(world, key["KeyId"])).bundle
    grants = one(bundle, "kms", "ListGrants", KeyId=key["Arn"])["response"]["Grants"]
    assert [(g["GranteePrincipal"], g["Operations"]) for g in grants] == [(app, ["Decrypt"])]
    assert grants[0]["Constraints"] == {"EncryptionContextSubset": {"Dept": "IT"}}
    status = one(bundle, "kms", "GetKeyRotationStatus", KeyId=key["Arn"])["response"]
    assert status["KeyRotationEnabled"] is True
    assert "ListKeyRotations" in {c["operation"] for c in bundle["calls"]}


def test_step7_multi_region_replicas_read_in_their_regions(world: World, run: Collect) -> None:
    world.role()
    key = world.key(MultiRegion=True)
    replica = world.client("kms").replicate_key(KeyId=key["KeyId"], ReplicaRegion="eu-west-1")
    replica_arn = replica["ReplicaKeyMetadata"]["Arn"]
    bundle = run(request(world, key["Arn"])).bundle
    for operation in ("DescribeKey", "GetKeyPolicy", "ListGrants"):
        call = one(bundle, "kms", operation, KeyId=replica_arn)
        assert call["region"] == "eu-west-1", operation


def test_step7_without_grant_and_rotation_permissions(world: World, run: Collect) -> None:
    world.role()
    key = world.key()
    bundle = run(
        request(world, key["KeyId"]),
        **denied("kms:ListGrants", "kms:GetKeyRotationStatus", "kms:ListKeyRotations"),
    ).bundle
    for operation in ("ListGrants", "GetKeyRotationStatus", "ListKeyRotations"):
        assert one(bundle, "kms", operation)["error"]["code"] == ACCESS_DENIED, operation
    assert "response" in one(bundle, "kms", "GetKeyPolicy")


# -- step 8: CloudTrail and CloudWatch Logs ------------------------------------------------


def _trail_to_logs(world: World, group: str = "cloudtrail-kms") -> None:
    world.client("logs").create_log_group(logGroupName=group)
    world.client("s3").create_bucket(Bucket="trail-bucket-kmslab")
    world.client("cloudtrail").create_trail(
        Name="org-trail",
        S3BucketName="trail-bucket-kmslab",
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:us-east-1:{world.account}:log-group:{group}:*",
        CloudWatchLogsRoleArn=f"arn:aws:iam::{world.account}:role/ct-logs",
    )


def _ct_event(key_arn: str, error: str | None, source: str = "kms.amazonaws.com") -> str:
    # CloudTrail record shape: https://docs.aws.amazon.com/kms/latest/developerguide/ct-decrypt.html
    event = {
        "eventVersion": "1.08",
        "eventSource": source,
        "eventName": "Decrypt",
        "awsRegion": "us-east-1",
        "requestParameters": {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"},
        "resources": [
            {"accountId": key_arn.split(":")[4], "type": "AWS::KMS::Key", "ARN": key_arn}
        ],
        "eventType": "AwsApiCall",
    }
    if error:
        event["errorCode"] = error
        event["errorMessage"] = "User: ... is not authorized to perform: kms:Decrypt"
    return json.dumps(event)


def test_step8_log_groups_of_trails_are_searched_for_this_keys_failures(
    world: World, run: Collect
) -> None:
    world.role()
    key, other = world.key(), world.key()
    _trail_to_logs(world)
    logs = world.client("logs")
    logs.create_log_stream(logGroupName="cloudtrail-kms", logStreamName="s")
    now = int(time.time() * 1000)
    messages = [
        _ct_event(key["Arn"], "AccessDenied"),  # the one to keep
        _ct_event(key["Arn"], None),  # success
        _ct_event(other["Arn"], "AccessDenied"),  # another key
        _ct_event(key["Arn"], "AccessDenied", source="s3.amazonaws.com"),
    ]
    logs.put_log_events(
        logGroupName="cloudtrail-kms",
        logStreamName="s",
        logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(messages)],
    )
    bundle = run(request(world, key["KeyId"])).bundle
    trails = one(bundle, "cloudtrail", "DescribeTrails")["response"]["trailList"]
    assert trails[0]["Name"] == "org-trail"
    search = one(bundle, "logs", "FilterLogEvents", logGroupName="cloudtrail-kms")
    assert "kms.amazonaws.com" in search["params"]["filterPattern"]
    kept = [json.loads(e["message"]) for e in search["response"]["events"]]
    assert [(e["eventSource"], e.get("errorCode"), e["resources"][0]["ARN"]) for e in kept] == [
        ("kms.amazonaws.com", "AccessDenied", key["Arn"])
    ]


def test_step8_cloudtrail_lookups_for_key_and_principal(world: World, run: Collect) -> None:
    world.role()
    key = world.key()
    bundle = run(request(world, key["KeyId"], world.session("app", "worker-7"))).bundle
    lookups = {
        c["params"]["LookupAttributes"][0]["AttributeKey"]: c["params"]["LookupAttributes"][0]["AttributeValue"]
        for c in calls(bundle, "cloudtrail", "LookupEvents")
    }  # fmt: skip
    assert lookups == {
        "ResourceName": key["Arn"],
        "Username": "worker-7",
        "EventName": "AssumeRole",
    }


def test_step8_without_logs_and_trail_permissions(world: World, run: Collect) -> None:
    world.role()
    key = world.key()
    _trail_to_logs(world)
    bundle = run(
        request(world, key["KeyId"]), **denied("logs:FilterLogEvents", "cloudtrail:LookupEvents")
    ).bundle
    assert one(bundle, "logs", "FilterLogEvents")["error"]["code"] == ACCESS_DENIED
    assert {c["error"]["code"] for c in calls(bundle, "cloudtrail", "LookupEvents")} == {
        ACCESS_DENIED
    }
    assert "response" in one(bundle, "cloudtrail", "DescribeTrails")


# -- beyond the steps: VPC endpoints, SCPs and RCPs ----------------------------------------


def test_vpc_endpoint_policies_of_the_regions_kms_endpoints(world: World, run: Collect) -> None:
    world.role()
    key = world.key()
    ec2 = world.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    endpoint_policy = doc(
        {"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}
    )
    ec2.create_vpc_endpoint(
        VpcId=vpc, ServiceName="com.amazonaws.us-east-1.kms", VpcEndpointType="Interface",
        PolicyDocument=endpoint_policy,
    )  # fmt: skip
    bundle = run(request(world, key["KeyId"])).bundle
    endpoints = one(bundle, "ec2", "DescribeVpcEndpoints")["response"]["VpcEndpoints"]
    assert [e["ServiceName"] for e in endpoints] == ["com.amazonaws.us-east-1.kms"]
    assert json.loads(endpoints[0]["PolicyDocument"])["Statement"][0]["Effect"] == "Deny"


def test_scps_on_the_member_accounts_path(world: World, run: Collect) -> None:
    org = world.client("organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    member = org.create_account(AccountName="app", Email="app@example.com")
    member_id = org.describe_create_account_status(
        CreateAccountRequestId=member["CreateAccountStatus"]["Id"]
    )["CreateAccountStatus"]["AccountId"]
    scp = org.create_policy(
        Name="deny-kms", Description="", Type="SERVICE_CONTROL_POLICY",
        Content=doc({"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}),
    )["Policy"]["PolicySummary"]["Id"]  # fmt: skip
    org.attach_policy(PolicyId=scp, TargetId=member_id)
    key = world.key()
    principal = f"arn:aws:sts::{member_id}:assumed-role/app/s"
    bundle = run(request(world, key["Arn"], principal)).bundle
    assert (
        one(bundle, "organizations", "ListParents", ChildId=member_id)["response"]["Parents"][0][
            "Id"
        ]
        == root
    )
    listed = one(bundle, "organizations", "ListPoliciesForTarget", TargetId=member_id)
    assert listed["params"]["Filter"] == "SERVICE_CONTROL_POLICY"
    assert scp in {p["Id"] for p in listed["response"]["Policies"]}
    assert "response" in one(bundle, "organizations", "ListPoliciesForTarget", TargetId=root)
    described = one(bundle, "organizations", "DescribePolicy", PolicyId=scp)["response"]
    assert json.loads(described["Policy"]["Content"])["Statement"][0]["Effect"] == "Deny"
    # The principal's account is not the investigator's: its IAM is recorded as unreadable.
    assert one(bundle, "iam", "GetRole")["error"]["code"] == "CrossAccountUnreadable"


def test_management_account_path_is_not_walked(world: World, run: Collect) -> None:
    # SCPs do not affect principals in the management account, nor RCPs its resources
    # (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html).
    world.client("organizations").create_organization(FeatureSet="ALL")
    world.role()
    key = world.key()
    bundle = run(request(world, key["KeyId"])).bundle
    org = one(bundle, "organizations", "DescribeOrganization")["response"]["Organization"]
    assert org["MasterAccountId"] == world.account
    assert not calls(bundle, "organizations", "ListParents")


def test_without_organizations_access_the_walk_stops_at_the_refusal(
    world: World, run: Collect
) -> None:
    world.role()
    key = world.key()
    bundle = run(
        request(world, key["KeyId"]), **denied("organizations:DescribeOrganization")
    ).bundle
    assert one(bundle, "organizations", "DescribeOrganization")["error"]["code"] == ACCESS_DENIED
    assert not calls(bundle, "organizations", "ListParents")
