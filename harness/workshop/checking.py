"""Checking a participant's fix: the call again as the affected principal, the fix's
legitimacy, the diagnosis of that call, and fixes only AWS makes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import botocore.exceptions

from harness.errors import KmslabError
from harness.scenarios.call import (
    Outcome,
    credentials_of,
    make_call,
    spoil_credentials,
)
from harness.scenarios.model import Scenario
from harness.scenarios.native import NativeProvisioner, controls_update
from harness.scenarios.refs import ResolvedRefs
from harness.workshop import app_config
from harness.workshop.legitimacy import Rejection, analyse
from harness.workshop.roomhelpers import (
    call_record,
    check_participant,
    lab_errors,
    now,
    resolved_from_dict,
)
from harness.workshop.roomparts import RoomPart
from harness.workshop.spaces import OUTSIDER_ACCOUNT
from harness.workshop.views import actual_view, intended_view


class RoomChecking(RoomPart):
    """The `check` part of a `Room` (mixed in; the room holds the state)."""

    if TYPE_CHECKING:

        def _unreachable(self, endpoint: str, record: dict[str, Any]) -> KmslabError: ...

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
            "call": call_record(live.call["operation"], outcome),
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
        from harness.scenarios.results import lookback_since
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
