"""A workshop room: participants start exercises on one shared lab, ask for hints, check fixes.

Every participant's exercise lives in a space of its own (fresh lab accounts, see
`spaces`), is provisioned by the scenarios' native provisioner as those accounts'
operators, and is handed over with lab-issued credentials only (see `access`).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as dt
import json
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.exceptions

from harness.aws.clients import endpoint_errors
from harness.errors import KmslabError, UsageError
from harness.lab.controls import ACCOUNT_FIELDS
from harness.paths import state_dir
from harness.scenarios.call import (
    Outcome,
    credentials_of,
    issue_credentials,
    make_call,
    spoil_credentials,
)
from harness.scenarios.model import Scenario
from harness.scenarios.native import NativeProvisioner, controls_update, lab_targets
from harness.scenarios.refs import ResolvedRefs, substitute
from harness.workshop import access, app_config
from harness.workshop.exercises import Exercise, find_exercise
from harness.workshop.legitimacy import Rejection, analyse
from harness.workshop.spaces import OUTSIDER_ACCOUNT, map_scenario
from harness.workshop.store import WorkshopStore
from harness.workshop.views import actual_view, intended_view

DEFAULT_ENDPOINT = "http://127.0.0.1:4566"
MAX_SPACE_PROBES = 1000
# How long after `start` AWS "resolves" an exercise's service event (a fix only AWS can make).
AWS_EVENT_SECONDS = float(os.environ.get("KMSLAB_WORKSHOP_AWS_EVENT_SECONDS", "300"))
PARTICIPANT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@=,+-]{0,31}$")


def check_participant(name: str | None) -> str:
    if not name:
        raise UsageError("name the participant with --participant NAME or KMSLAB_PARTICIPANT")
    if not PARTICIPANT_RE.match(name):
        raise UsageError(
            f"participant name {name!r} must be 1-32 letters, digits or _.@=,+- "
            "(it becomes part of an STS session name)"
        )
    return name


@contextlib.contextmanager
def lab_errors(what: str) -> Iterator[None]:
    """Unreachable lab: exit 3; the lab refusing a provisioning call: one line, exit 1."""
    with endpoint_errors(what):
        try:
            yield
        except botocore.exceptions.ClientError as exc:
            error = exc.response.get("Error", {})
            raise KmslabError(
                f"{what}: the lab refused {exc.operation_name}: {error.get('Code')}: "
                f"{error.get('Message')}"
            ) from exc


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def resolved_to_dict(resolved: ResolvedRefs) -> dict[str, Any]:
    data = dataclasses.asdict(resolved)
    data["ciphertext"] = {k: base64.b64encode(v).decode() for k, v in resolved.ciphertext.items()}
    return data


def resolved_from_dict(data: dict[str, Any]) -> ResolvedRefs:
    values = dict(data)
    values["ciphertext"] = {k: base64.b64decode(v) for k, v in data.get("ciphertext", {}).items()}
    return ResolvedRefs(**values)


def cli_error(operation: str, code: str | None, message: str | None) -> str:
    """The AWS CLI's one-line rendering of a service error."""
    return f"An error occurred ({code}) when calling the {operation} operation: {message or ''}"


def kebab(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", operation).lower()


def cli_command(call: dict[str, Any], resolved: ResolvedRefs, files: dict[str, Path]) -> str:
    """The application's call, written as the AWS CLI command that makes it."""
    parts = ["aws", "kms", kebab(call["operation"])]
    op = call["operation"]
    if call.get("key"):
        key = resolved.key_ref(str(substitute(call["key"], resolved)))
        parts += ["--source-key-id" if op == "ReEncrypt" else "--key-id", key]
    if call.get("ciphertext"):
        parts += ["--ciphertext-blob", f"fileb://{files[call['ciphertext']['data']]}"]
    context = call.get("encryption_context") or {}
    if context and op not in ("DescribeKey", "CreateGrant"):
        flag = "--source-encryption-context" if op == "ReEncrypt" else "--encryption-context"
        parts += [flag, ",".join(f"{k}={v}" for k, v in context.items())]
    if op == "Encrypt":
        parts += ["--plaintext", "fileb://<(printf kmslab)"]
    elif op.startswith("GenerateDataKey"):
        parts += ["--key-spec", "AES_256"]
    elif op == "ReEncrypt":
        dest = resolved.key_ref(
            str(substitute(call.get("destination_key") or call["key"], resolved))
        )
        parts += ["--destination-key-id", dest]
    elif op == "CreateGrant":
        parts += [
            "--grantee-principal",
            resolved.caller.get("arn", "<caller>"),
            "--operations",
            "Decrypt",
        ]
    return " ".join(parts)


class Room:
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
                "ok": outcome.ok,
                "code": outcome.code,
                "message": outcome.message,
                "error": None
                if outcome.ok
                else cli_error(live.call["operation"], outcome.code, outcome.message),
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

    def _grant_log(self, folder: Path, resolved: ResolvedRefs) -> Path | None:
        """What the deployment that created the grants logged: CreateGrant's output per grant
        (the only place a grant token ever appears, API_CreateGrant.html)."""
        if not resolved.grant:
            return None
        path = folder / "create-grant-output.json"
        log = [
            {"grant": name, "GrantId": g.get("id"), "GrantToken": g.get("token")}
            for name, g in sorted(resolved.grant.items())
        ]
        path.write_text(json.dumps(log, indent=2) + "\n", encoding="utf-8")
        return path

    def _ciphertext_files(
        self, participant: str, exercise_id: str, resolved: ResolvedRefs
    ) -> dict[str, Path]:
        folder = self.workdir / participant / exercise_id
        folder.mkdir(parents=True, exist_ok=True)
        files = {}
        for name, blob in resolved.ciphertext.items():
            path = folder / f"{name}.bin"
            path.write_bytes(blob)
            files[name] = path
        return files

    # -- hints and solution -----------------------------------------------------------------

    def hint(self, participant: str, exercise_id: str | None = None) -> dict[str, Any]:
        """The next hint (the last one again once all are shown)."""
        participant = check_participant(participant)
        record = self.record(participant, exercise_id)
        hints = self.exercise(record["exercise"]).hints
        if not hints:
            raise UsageError(f"exercise {record['exercise']!r} has no hints")
        with self.store.transaction() as data:
            stored = data["participants"][participant]["exercises"][record["exercise"]]
            used = min(int(stored.get("hints_used", 0)) + 1, len(hints))
            stored["hints_used"] = used
        self.publish()
        return {
            "exercise": record["exercise"],
            "number": used,
            "total": len(hints),
            "hint": hints[used - 1],
            "more": used < len(hints),
        }

    def solution(self, participant: str, exercise_id: str | None = None) -> dict[str, Any]:
        """The fix and why; the facilitator sees that it was shown."""
        participant = check_participant(participant)
        record = self.record(participant, exercise_id)
        exercise = self.exercise(record["exercise"])
        with self.store.transaction() as data:
            data["participants"][participant]["exercises"][record["exercise"]]["solution_shown"] = (
                True
            )
        self.publish()
        live, intended, _ = self.scenarios(exercise, int(record["space"]))
        resolved = resolved_from_dict(record["resolved"])
        out = solution_of(exercise, live, intended, resolved)
        before, after = self._app_configs(record, live, intended, resolved)
        out["app_config"] = record.get("app_config")
        out["app_changes"] = {k: v for k, v in after.items() if before.get(k) != v}
        out["aws_side"] = record.get("aws_resolves_at") is not None
        return out

    def _app_configs(
        self, record: dict[str, Any], live: Scenario, intended: Scenario, resolved: ResolvedRefs
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The application configuration the exercise started with, and the fixed one."""
        files = {k: Path(v).name for k, v in record.get("files", {}).items()}
        return (
            app_config.from_call(live.call, resolved, files),
            app_config.from_call(intended.call, resolved, files),
        )

    def play_solution(self, participant: str, exercise_id: str | None = None) -> None:
        """Make the exercise's intended fix (setup as the operator, app.yaml as written by the
        solution): what the facilitator demonstrates, and what the tests play."""
        participant = check_participant(participant)
        record = self.record(participant, exercise_id)
        exercise = self.exercise(record["exercise"])
        live, intended, accounts = self.scenarios(exercise, int(record["space"]))
        resolved = resolved_from_dict(record["resolved"])
        with lab_errors(f"workshop solution at {record['endpoint']}"):
            provisioner = self.provisioner(record["endpoint"], accounts)
            if "setup" in exercise.fixed_in:
                setup = {k: v for k, v in intended.setup.items() if k != "controls"}
                provisioner.apply(
                    live.setup, {**setup, "controls": live.setup["controls"]}, resolved
                )
        _, fixed = self._app_configs(record, live, intended, resolved)
        app_config.write(Path(record["app_config"]), fixed, live.call["operation"])

    # -- check ------------------------------------------------------------------------------

    def check(self, participant: str, exercise_id: str | None = None) -> dict[str, Any]:
        """Call again as the affected principal; pass only if it succeeds and the fix is legitimate."""
        participant = check_participant(participant)
        record = self.record(participant, exercise_id)
        exercise = self.exercise(record["exercise"])
        live, intended, accounts = self.scenarios(exercise, int(record["space"]))
        resolved = resolved_from_dict(record["resolved"])
        endpoint = record["endpoint"]
        provisioner = self.provisioner(endpoint, accounts)
        app_path = Path(
            record.get("app_config") or self.workdir / participant / exercise.id / "app.yaml"
        )
        call, headers, blobs = app_config.as_call(
            app_config.read(app_path), live.call, app_path.parent
        )
        # The call's own grant and ciphertext names must not stand for the real ones.
        as_app = dataclasses.replace(resolved, grant={}, ciphertext=blobs or resolved.ciphertext)
        reasons: list[Rejection] = []
        t0 = dt.datetime.now(dt.UTC).timestamp()
        try:
            from harness.lab import LabClient

            LabClient(endpoint, timeout=5).health()
        except KmslabError:
            raise self._unreachable(endpoint, record) from None
        with lab_errors(f"workshop check at {endpoint}"):
            self._aws_resolves(record, live, intended, resolved, provisioner)
            try:
                caller = credentials_of(provisioner, call, live.setup, as_app, headers)
                as_app.caller = resolved.caller = {"arn": caller.arn}
                account = as_app.principal[call["principal"]]["account"]
                caller = spoil_credentials(caller, call, account)
            except botocore.exceptions.ClientError as exc:
                # The fix deleted or broke the application's principal: the call cannot happen.
                error = exc.response.get("Error", {})
                outcome = Outcome(
                    ok=False,
                    code=error.get("Code"),
                    message=f"the application's principal cannot get credentials: {error.get('Message')}",
                )
            else:
                outcome = make_call(caller, call, as_app)
            if outcome.ok:
                try:
                    actual = actual_view(intended, provisioner, resolved)
                except botocore.exceptions.ClientError as exc:
                    error = exc.response.get("Error", {})
                    reasons.append(
                        Rejection(
                            "SETUP_UNREADABLE",
                            f"the setup could not be read after the fix: {error.get('Code')}: "
                            f"{error.get('Message')}",
                        )
                    )
                else:
                    reasons = analyse(
                        intended_view(intended, provisioner, resolved),
                        actual,
                        affected=resolved.principal[live.call["principal"]]["arn"],
                        space_accounts=list(accounts.values()),
                        outsider_account=OUTSIDER_ACCOUNT,
                        call_action=f"kms:{live.call['operation']}",
                    )
                if not reasons:
                    reasons = self._unhealthy(provisioner, caller.arn, outcome, t0)
        result = "failed" if not outcome.ok else "rejected" if reasons else "passed"
        entry = {
            "at": now(),
            "result": result,
            "call": {
                "ok": outcome.ok,
                "code": outcome.code,
                "message": outcome.message,
                "error": None
                if outcome.ok
                else cli_error(live.call["operation"], outcome.code, outcome.message),
            },
            "reasons": [r.to_dict() for r in reasons],
        }
        with self.store.transaction() as data:
            stored = data["participants"][participant]["exercises"][record["exercise"]]
            stored.setdefault("checks", []).append(entry)
            stored["result"] = result
            if result == "passed" and not stored.get("finished_at"):
                stored["finished_at"] = entry["at"]
        self.publish()
        return {"exercise": record["exercise"], "participant": participant, **entry}

    def _unhealthy(
        self,
        provisioner: NativeProvisioner,
        caller_arn: str,
        outcome: Outcome,
        since: float,
    ) -> list[Rejection]:
        """The one meaning of healthy (`harness.diagnosis.verdict`): a call that succeeds is
        accepted only when the diagnosis of that very call, on what happened since the check
        began, finds nothing (an open Health event, say, is not healthy). Read as the operator:
        the facilitator's judgement, not the participant's investigation."""
        from harness.diagnosis import diagnose
        from harness.diagnosis.verdict import headline, is_healthy
        from harness.evidence import collect
        from harness.evidence.collect import CollectOptions
        from harness.scenarios.runner import lookback_since
        from harness.scenarios.wire import investigation_request

        request = investigation_request(caller_arn, outcome)
        region = request.region or "us-east-1"
        caller_account = request.parsed_principal.account
        key_account = request.key_ref.account or request.key_account or caller_account
        target = provisioner.targets(caller_account, region)
        key_target = (
            provisioner.targets(key_account, region) if key_account != caller_account else None
        )
        options = CollectOptions()
        options.lookback_hours = lookback_since(since) / 3600
        diagnosis = diagnose(collect(request, target, key_target, options=options)).to_dict()
        if is_healthy(diagnosis):
            return []
        return [
            Rejection(
                "DIAGNOSIS_NOT_HEALTHY",
                f"the call succeeds, but the diagnosis of it still finds {headline(diagnosis)}",
            )
        ]

    def _aws_resolves(
        self,
        record: dict[str, Any],
        live: Scenario,
        intended: Scenario,
        resolved: ResolvedRefs,
        provisioner: NativeProvisioner,
    ) -> None:
        """An exercise whose fix only AWS makes (a service event) ends when its time is up."""
        due = record.get("aws_resolves_at")
        if due is None or dt.datetime.now(dt.UTC).timestamp() < float(due):
            return
        update = controls_update(
            provisioner.controls(live.setup, resolved),
            provisioner.controls(intended.setup, resolved),
        )
        if update and provisioner.on_controls is not None:
            provisioner.on_controls(update)

    # -- Terraform --------------------------------------------------------------------------

    def terraform_kit(
        self,
        participant: str,
        out: Path | None = None,
        *,
        exercise_id: str | None = None,
        account_name: str | None = None,
    ) -> Path:
        """Write a Terraform directory that adopts the participant's policies for editing."""
        from harness.workshop.terraform_kit import write_kit

        participant = check_participant(participant)
        record = self.record(participant, exercise_id)
        exercise = self.exercise(record["exercise"])
        live, _, accounts = self.scenarios(exercise, int(record["space"]))
        if account_name is not None and account_name not in accounts:
            raise UsageError(
                f"no account {account_name!r} in this exercise (have: {', '.join(accounts)})"
            )
        account_id = accounts[account_name] if account_name else record["caller_account"]
        target = out or self.workdir / participant / exercise.id / "terraform"
        with lab_errors(f"workshop terraform at {record['endpoint']}"):
            return write_kit(
                self.provisioner(record["endpoint"]),
                live.setup,
                resolved_from_dict(record["resolved"]),
                account_id,
                record["endpoint"],
                target,
            )

    # -- facilitator ------------------------------------------------------------------------

    def page_token(self) -> str:
        """The token that opens the facilitator's page (made once per room, kept in the state)."""
        with self.store.transaction() as data:
            token = data.get("page_token")
            if not token:
                token = data["page_token"] = secrets.token_urlsafe(24)
        return str(token)

    def page_url(self) -> str:
        return f"{self.endpoint}/_kmslab/room?token={self.page_token()}"

    def snapshot(self) -> dict[str, Any]:
        """What the facilitator's page shows: no credentials, accounts or endpoints."""
        keep = (
            "participant", "exercise", "title", "hints_used", "hints_total", "solution_shown",
            "checks", "result", "reasons", "started_at", "finished_at",
        )  # fmt: skip
        rows = [{k: row[k] for k in keep} for row in self.status() if row["current"]]
        return {"token": self.page_token(), "title": "kmslab workshop", "participants": rows}

    def publish(self) -> bool:
        """Push the room to the lab's facilitator page; a lab that cannot take it (down, or
        an older lab) never fails a participant's command, the next push catches up."""
        from harness.lab import LabClient

        try:
            LabClient(self.endpoint, timeout=5).publish_room(self.snapshot())
        except KmslabError:
            return False
        return True

    def status(self) -> list[dict[str, Any]]:
        """One row per participant and exercise started."""
        rows = []
        for name, state in sorted(self.store.load()["participants"].items()):
            for exercise_id, record in sorted(state.get("exercises", {}).items()):
                checks = record.get("checks", [])
                last = checks[-1] if checks else None
                rows.append(
                    {
                        "participant": name,
                        "exercise": exercise_id,
                        "current": state.get("current") == exercise_id,
                        "accounts": record.get("accounts", {}),
                        "started_at": record.get("started_at"),
                        "resets": record.get("resets", 0),
                        "hints_used": record.get("hints_used", 0),
                        "hints_total": record.get("hints_total", 0),
                        "solution_shown": bool(record.get("solution_shown")),
                        "checks": len(checks),
                        "title": record.get("title", ""),
                        "finished_at": record.get("finished_at"),
                        "result": record.get("result", "started"),
                        "reasons": [r["code"] for r in (last or {}).get("reasons", [])],
                    }
                )
        return rows


def aws_side_fix(scenario: Scenario) -> bool:
    """True when the fix is only lab controls and no call change: AWS's to make, not yours."""
    fix = scenario.fix
    setup = fix.get("setup") or {}
    return bool(setup) and set(setup) == {"controls"} and not fix.get("call")


def scoped_controls(update: dict[str, Any], accounts: list[str]) -> dict[str, Any]:
    """A controls update whose lab-wide fields reach only `accounts` (the participant's)."""
    if not accounts:
        return update
    out = {k: v for k, v in update.items() if k not in ACCOUNT_FIELDS}
    mine = {k: v for k, v in update.items() if k in ACCOUNT_FIELDS}
    if mine:
        out["accounts"] = {account: dict(mine) for account in accounts}
    return out


def solution_of(
    exercise: Exercise, live: Scenario, intended: Scenario, resolved: ResolvedRefs
) -> dict[str, Any]:
    """The fix (summary, what changes in the participant's names) and why."""
    from harness.workshop.handouts import finding_title

    patch = live.raw.get("fix", {}).get("setup") or {}
    return {
        "exercise": exercise.id,
        "summary": str(exercise.scenario.fix["summary"]),
        "changes": substitute_safely(patch, resolved),
        "finding": exercise.scenario.expected_finding,
        "why": finding_title(exercise.scenario.expected_finding),
        "runbook_step": exercise.scenario.runbook_step,
        "sources": list(exercise.scenario.raw.get("sources", [])),
    }


def substitute_safely(value: Any, resolved: ResolvedRefs) -> Any:
    try:
        return substitute(value, resolved)
    except UsageError:
        return value
