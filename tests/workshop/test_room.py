"""A room that holds, and the facilitator's live view, on a lab in room mode.

What a participant holds is what `start` printed: their investigator and fixer sessions. With
those, and with the operator-credential convention (access key id = account id) that room mode
closes, they try to read and change another participant's accounts, the lab controls and the
facilitator's page. AWS's rules the refusals rest on:
- key-policy-modifying-external-accounts.html: another account's key is reachable only if its
  key policy allows the caller; EnableKey and PutKeyPolicy are not cross-account operations.
- id_roles_terms-and-concepts.html / API_AssumeRole.html: AssumeRole needs the role's trust
  policy to allow the caller.
- IAM API calls act in the caller's own account (IAM is per account; there is no account
  parameter), so ListRoles shows only the caller's roles.
- contract 6: `/_kmslab/*` admin routes need operator authentication; in room mode operator
  credentials need the secret the lab generated.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.exceptions
import pytest

from harness.lab import LabServer
from harness.workshop import Room, WorkshopStore
from harness.workshop.access import FIXER_ROLE, role_arn
from workshop.browser import chromium, screenshot
from workshop.conftest import CATALOG

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def room_lab() -> Iterator[LabServer]:
    server = LabServer(upstream="moto", port=0, room=True).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def room(room_lab: LabServer, tmp_path_factory: pytest.TempPathFactory) -> Room:
    tmp = tmp_path_factory.mktemp("room-mode")
    return Room(
        room_lab.endpoint,
        store=WorkshopStore(tmp / "state.json"),
        catalog_root=CATALOG,
        workdir=tmp,
    )


def aws(endpoint: str, creds: dict[str, str], service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=creds["access_key_id"],
        aws_secret_access_key=creds["secret_access_key"],
        aws_session_token=creds.get("session_token"),
    )


def code_of(call: Any, **params: Any) -> str:
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        call(**params)
    return str(refused.value.response["Error"]["Code"])


def http(
    method: str, url: str, body: Any = None, creds: dict[str, str] | None = None
) -> tuple[int, str]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if creds is not None:
        request = botocore.awsrequest.AWSRequest(
            method=method, url=url, data=data or b"", headers=headers
        )
        botocore.auth.SigV4Auth(
            botocore.credentials.Credentials(
                creds["access_key_id"], creds["secret_access_key"], creds.get("session_token")
            ),
            "kmslab",
            "us-east-1",
        ).add_auth(request)
        headers = dict(request.headers.items())
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, data=data, method=method, headers=headers), timeout=30
        ) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_a_participant_cannot_reach_another_participant_or_the_room(
    room: Room, room_lab: LabServer
) -> None:
    mallory = room.start("mallory", "ws-key-disabled")
    victim = room.start("victor", "ws-key-disabled")
    endpoint = room_lab.endpoint
    key = victim["resolved"]["key"]["data"]["arn"]
    for role in ("investigator", "fixer"):
        creds = mallory["credentials"][role]["app"]
        kms = aws(endpoint, creds, "kms")
        # Read and change the victim's key.
        assert code_of(kms.describe_key, KeyId=key) == "AccessDeniedException"
        assert code_of(kms.get_key_policy, KeyId=key) == "AccessDeniedException"
        assert code_of(kms.enable_key, KeyId=key) == "AccessDeniedException"
        # IAM is per account: only mallory's own roles are visible.
        roles = aws(endpoint, creds, "iam").list_roles()["Roles"]
        assert roles and {r["Arn"].split(":")[4] for r in roles} == {mallory["accounts"]["app"]}
        # Take over the victim's fixer role.
        sts = aws(endpoint, creds, "sts")
        target = role_arn(victim["accounts"]["app"], FIXER_ROLE)
        assert code_of(sts.assume_role, RoleArn=target, RoleSessionName="takeover") == (
            "AccessDenied"
        )
        # The controls and the facilitator's page, with the participant's own credentials.
        status, _ = http("POST", f"{endpoint}/_kmslab/controls", {"throttle": {}}, creds)
        assert status == 403
        status, _ = http("GET", f"{endpoint}/_kmslab/controls", None, creds)
        assert status == 403
        snapshot = {"token": "x" * 20, "participants": []}
        assert http("POST", f"{endpoint}/_kmslab/room", snapshot, creds)[0] == 403
        assert http("POST", f"{endpoint}/_kmslab/reset", {}, creds)[0] == 403
    # The operator convention without the room's secret: access key id = the victim's account.
    forged = {"access_key_id": victim["accounts"]["app"], "secret_access_key": "guess"}
    assert code_of(aws(endpoint, forged, "kms").enable_key, KeyId=key)
    assert http("POST", f"{endpoint}/_kmslab/controls", {"throttle": {}}, forged)[0] == 403
    # The page needs its token; a participant does not have it.
    assert http("GET", f"{endpoint}/_kmslab/room")[0] == 403
    assert http("GET", f"{endpoint}/_kmslab/room?token={'y' * 32}")[0] == 403
    # Nothing of the victim's changed: the key is still disabled.
    after = room.check("victor")
    assert after["result"] == "failed" and after["call"]["code"] == "DisabledException"


def test_facilitator_page_in_a_real_browser(
    room: Room, room_lab: LabServer, tmp_path: Path
) -> None:
    room.start("ada", "ws-key-disabled")
    room.start("ben", "ws-iam-no-allow")
    room.start("cy", "ws-role-not-listed")
    room.hint("ben")
    hints = len(room.exercise("ws-iam-no-allow").hints)
    # ada fixes it: enable the key with her fixer session.
    ada = room.record("ada")
    aws(room_lab.endpoint, ada["credentials"]["fixer"]["app"], "kms").enable_key(
        KeyId=ada["resolved"]["key"]["data"]["arn"]
    )
    assert room.check("ada")["result"] == "passed"
    assert room.check("cy")["result"] == "failed"
    secrets_in_state = [
        value
        for name in ("ada", "ben", "cy")
        for role in ("investigator", "fixer")
        for creds in room.record(name)["credentials"][role].values()
        for value in (creds["access_key_id"], creds["secret_access_key"], creds["account"])
    ]
    with chromium(tmp_path / "profile") as browser:
        browser.get(room.page_url())
        rows = {
            tr.find_element("css selector", ".who").text: tr
            for tr in browser.find_elements("css selector", "#room tbody tr")
        }
        assert {"ada", "ben", "cy"} <= set(rows)
        cell = lambda who, css: rows[who].find_element("css selector", css).text  # noqa: E731
        assert cell("ada", ".verdict") == "PASSED"
        assert cell("cy", ".verdict") == "NOT YET"
        assert cell("ben", ".verdict") == "started"
        assert cell("ben", ".hints") == f"1/{hints}"
        assert cell("ada", ".checks") == "1" and cell("ben", ".checks") == "0"
        assert cell("ada", ".exercise").startswith("ws-key-disabled")
        assert ":" in cell("cy", ".time")
        refresh = browser.find_element("css selector", "meta[http-equiv='refresh']")
        assert int(refresh.get_attribute("content")) > 0
        source = browser.page_source
        assert not [s for s in secrets_in_state if s in source]
        assert room.page_token() not in source
        shot = screenshot(browser, tmp_path, "facilitator-page")
        assert shot.stat().st_size > 5000


def test_start_after_a_restart_never_prints_dead_credentials(tmp_path: Path) -> None:
    """The lab at the old address is gone: `start` says where to re-bind (exit 3); a new lab
    started without the saved state does not hold the exercise: `start` says so (exit 2)."""
    from harness.errors import EndpointError, UsageError

    store = WorkshopStore(tmp_path / "state.json")
    first = LabServer(upstream="moto", port=0).start()
    old = first.endpoint
    try:
        Room(old, store=store, catalog_root=CATALOG, workdir=tmp_path).start(
            "rita", "ws-key-disabled"
        )
    finally:
        first.stop()
    with pytest.raises(EndpointError, match="--endpoint-url NEW-URL"):
        Room(old, store=store, catalog_root=CATALOG, workdir=tmp_path).start(
            "rita", "ws-key-disabled"
        )
    fresh = LabServer(upstream="moto", port=0).start()
    try:
        # Embedded moto keeps its data per process: a reset makes this lab really new.
        from harness.lab import LabClient

        LabClient(fresh.endpoint).reset()
        room = Room(fresh.endpoint, store=store, catalog_root=CATALOG, workdir=tmp_path)
        with pytest.raises(UsageError, match="without the room's saved state"):
            room.start("rita", "ws-key-disabled")
        with pytest.raises(EndpointError, match="re-bind"):
            room.check("rita")  # the record still names the lab that is gone
    finally:
        fresh.stop()
