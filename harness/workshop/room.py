"""A workshop room: participants start exercises on one shared lab, ask for hints, check fixes.

Every participant's exercise lives in a space of its own (fresh lab accounts, see
`spaces`), is provisioned by the scenarios' native provisioner as those accounts'
operators, and is handed over with lab-issued credentials only (see `access`).
This module keeps participant records and provisioning; checking (`checking`), hints,
solutions and the Terraform kit (`coaching`) and the facilitator's page (`facilitator`) are
mixed in, and what they share lives in `roomhelpers`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import botocore.exceptions

from harness.errors import KmslabError, UsageError
from harness.paths import state_dir
from harness.scenarios.call import (
    issue_credentials,
    make_call,
)
from harness.scenarios.model import Scenario
from harness.scenarios.native import NativeProvisioner, lab_targets
from harness.workshop import access, app_config
from harness.workshop.checking import RoomChecking
from harness.workshop.coaching import RoomCoaching
from harness.workshop.exercises import Exercise, find_exercise
from harness.workshop.facilitator import RoomFacilitator
from harness.workshop.roomhelpers import (
    AWS_EVENT_SECONDS,
    DEFAULT_ENDPOINT,
    MAX_SPACE_PROBES,
    aws_side_fix,
    call_record,
    check_participant,
    cli_command,
    lab_errors,
    now,
    resolved_to_dict,
    scoped_controls,
)
from harness.workshop.spaces import map_scenario
from harness.workshop.store import WorkshopStore

__all__ = ["DEFAULT_ENDPOINT", "Room", "check_participant", "scoped_controls"]


class Room(RoomChecking, RoomCoaching, RoomFacilitator):
    """The workshop operations; state in a `WorkshopStore`, exercises from the catalog."""

    def __init__(
        self,
        endpoint: str = DEFAULT_ENDPOINT,
        *,
        store: WorkshopStore | None = None,
        catalog_root: Path | None = None,
        workdir: Path | None = None,
        aws_event_seconds: float | None = None,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.aws_event_seconds = (
            AWS_EVENT_SECONDS if aws_event_seconds is None else aws_event_seconds
        )
        self.store = store or WorkshopStore()
        self.catalog_root = catalog_root
        self.workdir = workdir or state_dir() / "workshop" / "participants"

    # -- scenario plumbing ------------------------------------------------------------------

    def exercise(self, exercise_id: str) -> Exercise:
        return find_exercise(exercise_id, self.catalog_root)

    def scenarios(
        self, exercise: Exercise, space: int
    ) -> tuple[Scenario, Scenario, dict[str, str]]:
        """(what the participant gets, what the fix intends, logical account -> id)."""
        mapped, accounts = map_scenario(exercise.scenario, space)
        live = access.with_workshop_access(mapped, list(accounts.values()))
        return live, live.fixed(), accounts

    def provisioner(
        self, endpoint: str, accounts: dict[str, str] | None = None
    ) -> NativeProvisioner:
        provisioner = NativeProvisioner(lab_targets(endpoint))
        space = sorted(set((accounts or {}).values()))

        def set_controls(update: dict[str, Any]) -> None:
            from harness.lab import LabClient

            LabClient(endpoint).set_controls(scoped_controls(update, space))

        provisioner.on_controls = set_controls
        return provisioner

    def record(self, participant: str, exercise_id: str | None = None) -> dict[str, Any]:
        state = self.store.participant(participant)
        if not state or not state.get("current"):
            raise UsageError(
                f"participant {participant!r} has not started an exercise "
                "(kmslab workshop start ID)"
            )
        wanted = exercise_id or state["current"]
        record: dict[str, Any] | None = state["exercises"].get(wanted)
        if record is None:
            raise UsageError(f"participant {participant!r} has not started exercise {wanted!r}")
        return record

    def _save(self, participant: str, record: dict[str, Any], *, current: bool = True) -> None:
        with self.store.transaction() as data:
            state = data["participants"].setdefault(participant, {"exercises": {}})
            state["exercises"][record["exercise"]] = record
            if current:
                state["current"] = record["exercise"]

    # -- start / reset ----------------------------------------------------------------------

    def start(self, participant: str, exercise_id: str, *, fresh: bool = False) -> dict[str, Any]:
        """Provision the exercise in a new space (or return the one already started)."""
        participant = check_participant(participant)
        exercise = self.exercise(exercise_id)
        existing = (self.store.participant(participant) or {}).get("exercises", {})
        previous = existing.get(exercise.id)
        if previous is not None and not fresh:
            # Never hand out settings that no longer work: after a lab restart (another port,
            # or the same one) the exercise is re-bound to the lab at this endpoint first.
            if not self._credentials_work(previous):
                previous = self._rebind_record(previous)
            self._save(participant, previous)
            self.publish()
            return previous
        with lab_errors(f"workshop start at {self.endpoint}"):
            space = self._free_space(exercise)
            live, _, accounts = self.scenarios(exercise, space)
            record = self._provision(participant, exercise, live, accounts, space)
        if previous is not None:
            record["hints_used"] = previous.get("hints_used", 0)
            record["solution_shown"] = previous.get("solution_shown", False)
            record["checks"] = previous.get("checks", [])
            record["resets"] = previous.get("resets", 0) + 1
        self._save(participant, record)
        self.publish()
        return record

    def reset(self, participant: str, exercise_id: str | None = None) -> dict[str, Any]:
        """Start the exercise over in a fresh space; hints seen stay seen."""
        record = self.record(check_participant(participant), exercise_id)
        return self.start(participant, record["exercise"], fresh=True)

    def _free_space(self, exercise: Exercise) -> int:
        """A new space whose accounts the lab has not seen used (the state file may be younger
        than the lab, e.g. after a facilitator cleared it)."""
        provisioner = self.provisioner(self.endpoint)
        for _ in range(MAX_SPACE_PROBES):
            space = self.store.allocate_space()
            _, _, accounts = self.scenarios(exercise, space)
            iam = provisioner.client("iam", next(iter(accounts.values())), "us-east-1")
            try:
                iam.get_role(RoleName=access.INVESTIGATOR_ROLE)
            except iam.exceptions.NoSuchEntityException:
                return space
        raise KmslabError(f"no free participant space found after {MAX_SPACE_PROBES} tries")

    def _provision(
        self,
        participant: str,
        exercise: Exercise,
        live: Scenario,
        accounts: dict[str, str],
        space: int,
    ) -> dict[str, Any]:
        provisioner = self.provisioner(self.endpoint, accounts)
        region = live.setup["region"]
        for account_id in accounts.values():
            access.create_roles(provisioner.client("iam", account_id, region), account_id)
        resolved = provisioner.provision(live.setup)
        caller = issue_credentials(provisioner, live.call, live.setup, resolved)
        outcome = make_call(caller, live.call, resolved)
        files = self._ciphertext_files(participant, exercise.id, resolved)
        folder = self.workdir / participant / exercise.id
        app_path = folder / app_config.FILE_NAME
        app_config.write(
            app_path,
            app_config.from_call(live.call, resolved, {k: v.name for k, v in files.items()}),
            live.call["operation"],
        )
        grant_log = self._grant_log(folder, resolved)
        credentials: dict[str, dict[str, dict[str, str]]] = {"investigator": {}, "fixer": {}}
        for name, account_id in accounts.items():
            sts = provisioner.client("sts", account_id, region)
            for role, title in (
                (access.INVESTIGATOR_ROLE, "investigator"),
                (access.FIXER_ROLE, "fixer"),
            ):
                creds = access.issue(sts, account_id, name, role, f"{participant}-{title}"[:64])
                credentials[title][name] = creds.to_dict()
        return {
            "participant": participant,
            "exercise": exercise.id,
            "title": exercise.title,
            "space": space,
            "accounts": accounts,
            "caller_account": resolved.principal[live.call["principal"]]["account"],
            "endpoint": self.endpoint,
            "region": region,
            "started_at": now(),
            "resets": 0,
            "hints_used": 0,
            "hints_total": len(exercise.hints),
            "solution_shown": False,
            "story": exercise.story,
            "failing_call": {
                "principal": caller.arn,
                "command": cli_command(live.call, resolved, files),
                **call_record(live.call["operation"], outcome),
            },
            "files": {k: str(v) for k, v in files.items()},
            "app_config": str(app_path),
            "grant_log": str(grant_log) if grant_log else None,
            "aws_resolves_at": (
                (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.aws_event_seconds)).timestamp()
                if aws_side_fix(exercise.scenario)
                else None
            ),
            "credentials": credentials,
            "resolved": resolved_to_dict(resolved),
            "checks": [],
            "result": "started",
        }

    # -- lab restarts ---------------------------------------------------------------------

    def _credentials_work(self, record: dict[str, Any]) -> bool:
        """True when the exercise's lab is this room's endpoint and accepts its credentials."""
        if record.get("endpoint") != self.endpoint:
            return False
        from harness.aws.clients import Target

        creds = next(iter(record["credentials"]["investigator"].values()))
        target = Target(
            endpoint_url=self.endpoint,
            region=record["region"],
            access_key_id=creds["access_key_id"],
            secret_access_key=creds["secret_access_key"],
            session_token=creds["session_token"],
        )
        try:
            target.client("sts", max_attempts=1).get_caller_identity()
        except botocore.exceptions.ClientError:
            return False
        except (botocore.exceptions.BotoCoreError, OSError):
            raise self._unreachable(self.endpoint, record) from None
        return True

    def _unreachable(self, endpoint: str, record: dict[str, Any]) -> KmslabError:
        from harness.errors import EndpointError

        return EndpointError(
            f"the lab at {endpoint} is not reachable. If the facilitator restarted it at another "
            f"address, re-bind your exercise there: kmslab workshop start {record['exercise']} "
            "--endpoint-url NEW-URL (same accounts, new credentials)"
        )

    def _rebind_record(self, record: dict[str, Any]) -> dict[str, Any]:
        """The exercise re-bound to the lab at this room's endpoint: same accounts (the lab was
        restored from its saved state), freshly issued credentials."""
        record = dict(record)
        accounts: dict[str, str] = record["accounts"]
        region = record["region"]
        try:
            provisioner = self.provisioner(self.endpoint, accounts)
            iam = provisioner.client("iam", record["caller_account"], region)
            try:
                iam.get_role(RoleName=access.INVESTIGATOR_ROLE)
            except iam.exceptions.NoSuchEntityException:
                raise UsageError(
                    f"the lab at {self.endpoint} does not hold exercise {record['exercise']!r} "
                    f"of {record['participant']} (accounts {', '.join(accounts.values())}): it "
                    "was started without the room's saved state. Restart it with `kmslab lab up "
                    "--state FILE`, or start over in fresh accounts: kmslab workshop reset "
                    f"--endpoint-url {self.endpoint}"
                ) from None
            credentials: dict[str, dict[str, dict[str, str]]] = {"investigator": {}, "fixer": {}}
            for name, account_id in accounts.items():
                sts = provisioner.client("sts", account_id, region)
                for role, title in (
                    (access.INVESTIGATOR_ROLE, "investigator"),
                    (access.FIXER_ROLE, "fixer"),
                ):
                    session = f"{record['participant']}-{title}"[:64]
                    creds = access.issue(sts, account_id, name, role, session)
                    credentials[title][name] = creds.to_dict()
        except (botocore.exceptions.BotoCoreError, OSError):
            raise self._unreachable(self.endpoint, record) from None
        except botocore.exceptions.ClientError as exc:
            error = exc.response.get("Error", {})
            raise KmslabError(
                f"re-binding to {self.endpoint}: the lab refused {exc.operation_name}: "
                f"{error.get('Code')}: {error.get('Message')}"
            ) from exc
        record["credentials"] = credentials
        record["endpoint"] = self.endpoint
        record["rebound_at"] = now()
        return record

    def rebind(self) -> list[dict[str, str]]:
        """Facilitator: re-bind every participant's exercises to the lab at this endpoint."""
        rows = []
        data = self.store.load()
        for name, state in sorted(data["participants"].items()):
            for exercise_id, record in sorted(state.get("exercises", {}).items()):
                try:
                    fresh = self._rebind_record(record)
                except KmslabError as exc:
                    rows.append({"participant": name, "exercise": exercise_id, "error": str(exc)})
                    continue
                with self.store.transaction() as current:
                    current["participants"][name]["exercises"][exercise_id] = fresh
                rows.append({"participant": name, "exercise": exercise_id, "error": ""})
        self.publish()
        return rows
