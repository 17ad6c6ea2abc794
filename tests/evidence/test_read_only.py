"""Read-only, proven: the guard refuses writes before they are sent, the declared permissions
are reads, and collection over many setups sends nothing but allow-listed reads."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from harness.aws.clients import Target
from harness.aws.operations import MUTATING_PREFIXES
from harness.evidence import READ_ONLY_OPERATIONS, InvestigationRequest, ReadOnlyViolation
from harness.evidence.calls import CallLog, Credentials
from harness.evidence.registered import collectors, investigator_policy

from .scenarios import World, allow, doc
from .support import MOTO_ACCOUNT, Collect

READ_VERBS = ("Get", "List", "Describe", "Lookup", "Filter")
FORBIDDEN = (
    "Create", "Put", "Update", "Delete", "Enable", "Disable", "Schedule", "Cancel", "Tag",
    "Untag", "Revoke", "Retire", "Import", "Replicate", "Connect", "Disconnect", "Attach", "Detach",
)  # fmt: skip


def test_allow_list_holds_only_reads() -> None:
    for name in READ_ONLY_OPERATIONS:
        operation = name.split(":", 1)[1]
        assert operation.startswith(READ_VERBS), name
        assert not operation.startswith(MUTATING_PREFIXES), name


def test_every_collector_declares_read_permissions_only() -> None:
    registered = collectors()
    assert registered
    for collector in registered:
        assert collector.permissions, f"{collector.name} declares no permissions"
        assert collector.doc, f"{collector.name} has no docstring"
        for permission in collector.permissions:
            assert permission in READ_ONLY_OPERATIONS, (collector.name, permission)


def test_every_playbook_step_has_a_collector() -> None:
    steps = {step for c in collectors() for step in c.steps}
    assert {str(n) for n in range(1, 9)} <= steps


def test_investigator_policy_is_the_union_of_declarations() -> None:
    policy = investigator_policy()
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Resource"] == "*"
    declared = {p for c in collectors() for p in c.permissions}
    assert set(statement["Action"]) == declared
    assert not any("*" in action for action in statement["Action"])


def test_guard_refuses_a_write_before_it_is_sent(target: Target) -> None:
    log = CallLog(max_attempts=1)
    client = log.client(Credentials("investigator", target), "kms", "us-east-1")
    with pytest.raises(ReadOnlyViolation, match="kms:CreateKey"):
        client.create_key()
    assert log.stats.http_requests == 0
    assert target.client("kms", max_attempts=1).list_keys()["Keys"] == []


def test_guard_refuses_through_the_collectors_call_path(target: Target) -> None:
    log = CallLog(max_attempts=1)
    creds = Credentials("investigator", target)
    with pytest.raises(ReadOnlyViolation):
        log.call(creds, "kms", "ScheduleKeyDeletion", "us-east-1", {"KeyId": "k"})
    assert log.stats.http_requests == 0


# -- collection over many setups sends only reads ------------------------------------------


def _basic(world: World) -> InvestigationRequest:
    world.role()
    world.client("iam").put_role_policy(
        RoleName="app", PolicyName="p", PolicyDocument=doc(allow("kms:*"))
    )
    key = world.key()
    world.alias("alias/app", key["KeyId"])
    return InvestigationRequest(principal=world.session(), action="kms:Decrypt", key="alias/app")


def _user(world: World) -> InvestigationRequest:
    iam = world.client("iam")
    iam.create_user(UserName="u")
    iam.create_group(GroupName="g")
    iam.add_user_to_group(GroupName="g", UserName="u")
    iam.put_group_policy(GroupName="g", PolicyName="gp", PolicyDocument=doc(allow("kms:*")))
    key = world.key()
    return InvestigationRequest(
        principal=f"arn:aws:iam::{world.account}:user/u", action="kms:Encrypt", key=key["Arn"]
    )


def _multi_region(world: World) -> InvestigationRequest:
    world.role()
    key = world.key(MultiRegion=True)
    world.client("kms").replicate_key(KeyId=key["KeyId"], ReplicaRegion="us-west-2")
    world.client("kms").create_grant(
        KeyId=key["KeyId"], GranteePrincipal=world.session(), Operations=["Decrypt"]
    )
    return InvestigationRequest(principal=world.session(), action="kms:Decrypt", key=key["Arn"])


def _org_and_logs(world: World) -> InvestigationRequest:
    org = world.client("organizations")
    org.create_organization(FeatureSet="ALL")
    created = org.create_account(AccountName="m", Email="m@example.com")["CreateAccountStatus"]
    member = org.describe_create_account_status(CreateAccountRequestId=created["Id"])
    world.client("logs").create_log_group(logGroupName="ct")
    world.client("s3").create_bucket(Bucket="ct-bucket-kmslab")
    world.client("cloudtrail").create_trail(
        Name="trail-1", S3BucketName="ct-bucket-kmslab",
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:us-east-1:{world.account}:log-group:ct:*",
        CloudWatchLogsRoleArn=f"arn:aws:iam::{world.account}:role/ct",
    )  # fmt: skip
    key = world.key()
    account = member["CreateAccountStatus"]["AccountId"]
    return InvestigationRequest(
        principal=f"arn:aws:sts::{account}:assumed-role/app/s", action="kms:Decrypt", key=key["Arn"]
    )


def _disabled_and_missing(world: World) -> InvestigationRequest:
    world.role()
    return InvestigationRequest(
        principal=world.session(), action="kms:Decrypt", key="alias/does-not-exist"
    )


SETUPS: dict[str, Callable[[World], InvestigationRequest]] = {
    "role-alias": _basic,
    "user-groups": _user,
    "multi-region-grants": _multi_region,
    "organization-logs": _org_and_logs,
    "missing-alias": _disabled_and_missing,
}


@pytest.mark.parametrize("setup", sorted(SETUPS))
def test_collection_sends_only_allow_listed_reads(setup: str, target: Target, run: Collect) -> None:
    req = SETUPS[setup](World(target, MOTO_ACCOUNT))
    sent: list[str] = []
    requests: list[Any] = []

    def spy(client: Any, service: str) -> None:
        # Independent of the guard: what botocore is actually asked to send.
        def record(model: Any, **_: Any) -> None:
            sent.append(f"{service}:{model.name}")

        client.meta.events.register("before-call.*.*", record)
        client.meta.events.register(
            "before-send.*.*", lambda request, **_: requests.append(request)
        )

    result = run(req, client_hook=spy)
    assert sent, "nothing was collected"
    assert len(requests) >= len(sent)
    for name in sent:
        assert name in READ_ONLY_OPERATIONS, name
        assert not name.split(":", 1)[1].startswith(FORBIDDEN), name
    # No repeated calls: every (operation, params) in the bundle is there once.
    seen = [
        (c["service"], c["operation"], c["region"], c.get("account"), json.dumps(c.get("params"), sort_keys=True))
        for c in result.bundle["calls"]
    ]  # fmt: skip
    assert len(seen) == len(set(seen))
    assert sorted(sent) == sorted(result.operations)
