"""What the lab must enforce for workshop credentials to mean what they say.

- The investigator's credentials are read-only: IAM refuses a change its policy does not
  allow (reference_policies_evaluation-logic.html: no Allow, implicit deny).
- Another participant cannot take over a space's fixer role: STS AssumeRole needs the role's
  trust policy to allow the caller (id_roles_terms-and-concepts.html, "trust policy";
  API_AssumeRole.html: "the role's trust policy must allow the caller").
"""

from __future__ import annotations

from pathlib import Path

import boto3
import botocore.exceptions
import pytest

from harness.lab import LabServer
from harness.workshop import Room, WorkshopStore
from harness.workshop.access import FIXER_ROLE, role_arn
from workshop.conftest import CATALOG

pytestmark = pytest.mark.slow


def client(endpoint: str, creds: dict[str, str], service: str) -> object:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=creds["access_key_id"],
        aws_secret_access_key=creds["secret_access_key"],
        aws_session_token=creds["session_token"],
    )


@pytest.fixture(scope="module")
def room(lab: LabServer, tmp_path_factory: pytest.TempPathFactory) -> Room:
    tmp = tmp_path_factory.mktemp("room")
    return Room(
        lab.endpoint, store=WorkshopStore(tmp / "state.json"), catalog_root=CATALOG, workdir=tmp
    )


def test_investigator_cannot_change_kms(room: Room, lab: LabServer) -> None:
    record = room.start("ivan", "ws-key-disabled")
    kms = client(lab.endpoint, record["credentials"]["investigator"]["app"], "kms")
    key = record["resolved"]["key"]["data"]["arn"]
    with pytest.raises(botocore.exceptions.ClientError) as denied:
        kms.enable_key(KeyId=key)  # type: ignore[attr-defined]
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"


def test_investigator_cannot_change_iam(room: Room, lab: LabServer) -> None:
    record = room.start("ivan", "ws-iam-no-allow")
    iam = client(lab.endpoint, record["credentials"]["investigator"]["app"], "iam")
    with pytest.raises(botocore.exceptions.ClientError) as denied:
        iam.put_role_policy(  # type: ignore[attr-defined]
            RoleName="app",
            PolicyName="inline-0",
            PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}',
        )
    assert denied.value.response["Error"]["Code"] == "AccessDenied"


def test_a_participant_cannot_assume_another_participants_fixer_role(
    room: Room, lab: LabServer
) -> None:
    mine = room.start("mona", "ws-key-disabled")
    theirs = room.start("nils", "ws-key-disabled")
    sts = client(lab.endpoint, mine["credentials"]["fixer"]["app"], "sts")
    target = role_arn(theirs["accounts"]["app"], FIXER_ROLE)
    with pytest.raises(botocore.exceptions.ClientError) as denied:
        sts.assume_role(RoleArn=target, RoleSessionName="takeover")  # type: ignore[attr-defined]
    assert denied.value.response["Error"]["Code"] == "AccessDenied"


def test_check_is_recorded_per_exercise(room: Room, tmp_path: Path) -> None:
    room.start("olga", "ws-key-disabled")
    first = room.check("olga")
    assert first["result"] == "failed" and first["call"]["code"] == "DisabledException"
    rows = [r for r in room.status() if r["participant"] == "olga"]
    assert [(r["exercise"], r["checks"], r["result"]) for r in rows] == [
        ("ws-key-disabled", 1, "failed")
    ]
