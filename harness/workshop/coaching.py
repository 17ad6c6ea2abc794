"""What a participant is handed: ciphertext and grant files, hints, the solution (shown or
played) and the Terraform kit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.errors import UsageError
from harness.scenarios.model import Scenario
from harness.scenarios.refs import ResolvedRefs
from harness.workshop import app_config
from harness.workshop.roomhelpers import (
    check_participant,
    lab_errors,
    resolved_from_dict,
    solution_of,
)
from harness.workshop.roomparts import RoomPart


class RoomCoaching(RoomPart):
    """The hint, solution and kit part of a `Room` (mixed in; the room holds the state)."""

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
