"""A workshop room in progress survives a lab restart from saved state (issue 12).

Two participants have started exercises on a room-mode lab; the lab's state is saved, the lab
stops and a new one starts from the state on the same port. The sessions the participants were
handed still work, each exercise still fails the way its scenario documents, and the solution
is then accepted by `check`. The workshop's own store is a file and is not restarted.
"""

from __future__ import annotations

import socket
from pathlib import Path

import boto3
import pytest

from harness.lab import LabClient, LabServer
from harness.lab import state as lab_state
from harness.workshop import Room, WorkshopStore


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_a_room_in_progress_survives_a_restart(tmp_path: Path) -> None:
    port = free_port()
    path = tmp_path / "lab-state.json"
    server = LabServer(upstream="moto", port=port, room=True).start()
    try:
        room = Room(
            server.endpoint,
            store=WorkshopStore(tmp_path / "workshop.json"),
            workdir=tmp_path,
            aws_event_seconds=0,
        )
        started = {
            "ann": room.start("ann", "key-disabled"),
            "bo": room.start("bo", "alias-typo"),
        }
        expected = {
            who: room.exercise(r["exercise"]).scenario.expected_error for who, r in started.items()
        }
        for who, record in started.items():
            assert record["failing_call"]["code"] == expected[who]["code"]  # type: ignore[index]

        lab_state.write(path, LabClient(server.endpoint).state())
        server.stop()
        server = LabServer(upstream="moto", port=port, room=True, state_file=str(path)).start()

        # What ann was handed before the restart still works, and her key is still disabled.
        creds = started["ann"]["credentials"]["investigator"]["app"]
        kms = boto3.client(
            "kms",
            endpoint_url=server.endpoint,
            region_name="us-east-1",
            aws_access_key_id=creds["access_key_id"],
            aws_secret_access_key=creds["secret_access_key"],
            aws_session_token=creds.get("session_token"),
        )
        key = started["ann"]["resolved"]["key"]["data"]["arn"]
        assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Disabled"

        for who in started:
            first = room.check(who)
            assert first["result"] == "failed", first
            assert first["call"]["code"] == expected[who]["code"], first  # type: ignore[index]
            room.play_solution(who)
            final = room.check(who)
            assert final["result"] == "passed", final
    finally:
        server.stop()
