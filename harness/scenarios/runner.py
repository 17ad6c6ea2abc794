"""The full loop for one scenario: provision, fail, collect, diagnose, fix, verify.

reset lab -> provision (native or Terraform) -> issue the principal's credentials -> failing
call -> collect evidence -> diagnose -> compare with the expectations -> apply the fix ->
call again -> diagnose again -> one row.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError

from harness.aws import arns
from harness.aws.clients import Target
from harness.errors import UsageError
from harness.evidence.collect import CollectOptions
from harness.evidence.request import InvestigationRequest
from harness.scenarios.call import (
    credentials_of,
    issue_credentials,
    make_call,
)
from harness.scenarios.investigators import Investigators
from harness.scenarios.model import Scenario
from harness.scenarios.native import NativeProvisioner, lab_targets
from harness.scenarios.refs import ResolvedRefs
from harness.scenarios.results import (
    Attempt,
    BuildError,
    RunResult,
    error_matches,
    evidence_calls,
    lookback_since,
    rests_on_history,
)
from harness.scenarios.wire import investigation_request, needs_trail, recorded_key

# Who reads the evidence in `kmslab run`: lab-issued investigator roles holding exactly the
# policy `kmslab collect --print-iam-policy` prints (default), or the operators.
READ_AS = ("investigator", "operator")

# Applies a scenario's fix to what was provisioned and returns the fixed scenario
# (Runner.apply_fix natively, TerraformProvisioner.fix with Terraform).
Fixer = Callable[[Scenario, NativeProvisioner, ResolvedRefs], Scenario]


class Runner:
    """Runs scenarios against one lab endpoint."""

    def __init__(
        self,
        endpoint: str,
        *,
        reset: Callable[[], object] | None = None,
        set_controls: Callable[[dict[str, Any]], object] | None = None,
        targets: Callable[[str, str], Target] | None = None,
        unique_names: bool = False,
        read_as: str = "investigator",
    ) -> None:
        if read_as not in READ_AS:
            raise UsageError(f"read_as must be one of {', '.join(READ_AS)}, not {read_as!r}")
        self.endpoint = endpoint
        self.read_as = read_as
        self.investigators = Investigators()
        self.targets = targets or lab_targets(endpoint)
        self._reset = reset
        self.set_controls = set_controls
        # An upstream whose IAM and EC2 state a lab reset cannot clear (LocalStack) keeps
        # every scenario's principals: each provisioning then gets a name prefix of its own.
        self.unique_names = unique_names
        self._provisioned = 0
        self._run_token = secrets.token_hex(2)  # runs sharing one upstream stay apart
        self.stage_seconds: dict[str, float] = {}

    @classmethod
    def for_lab(
        cls, endpoint: str, *, unique_names: bool = False, read_as: str = "investigator"
    ) -> Runner:
        from harness.lab import LabClient

        client = LabClient(endpoint)
        return cls(
            endpoint,
            reset=client.reset,
            set_controls=client.set_controls,
            unique_names=unique_names,
            read_as=read_as,
        )

    def provisioner(self) -> NativeProvisioner:
        prefix = ""
        if self.unique_names:
            self._provisioned += 1
            prefix = f"r{self._run_token}{self._provisioned:03d}-"
        provisioner = NativeProvisioner(self.targets, prefix=prefix)
        provisioner.on_controls = self.set_controls
        return provisioner

    def reset(self) -> None:
        if self._reset is not None:
            self._reset()
        # A reset lab has forgotten the investigator roles and their sessions.
        self.investigators.forget()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Add the block's wall time to `stage_seconds[name]` (bench: where a loop's time goes)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.stage_seconds[name] = (
                self.stage_seconds.get(name, 0.0) + time.perf_counter() - start
            )

    # -- the steps ----------------------------------------------------------------------

    def provision(self, scenario: Scenario) -> tuple[NativeProvisioner, ResolvedRefs]:
        """Reset the lab and build the scenario natively."""
        with self.stage("provision"):
            self.reset()
            provisioner = self.provisioner()
            try:
                resolved = provisioner.provision(scenario.setup)
            except (ClientError, UsageError) as exc:
                self.reset()  # nothing half-built stays on the lab
                raise BuildError(scenario.id, exc) from exc
        return provisioner, resolved

    def attempt(
        self,
        provisioner: NativeProvisioner,
        scenario: Scenario,
        resolved: ResolvedRefs,
        *,
        since: float | None = None,
    ) -> Attempt:
        """Make the call as the principal, then investigate it.

        `since` (a time.time()) limits CloudTrail and CloudWatch Logs to what happened after
        it: a fix is verified on what the account does now, not on its history.
        """
        with self.stage("call"):
            caller = issue_credentials(provisioner, scenario.call, scenario.setup, resolved)
            outcome = make_call(caller, scenario.call, resolved)
        self.note_managed_key(provisioner, scenario, resolved)
        sees_error = scenario.setup.get("investigator", {}).get("sees_error", True)
        recorded = None
        if needs_trail(outcome):
            # The wire names no key: find the call's own CloudTrail record in the caller's
            # account, as the investigator (cloudtrail:LookupEvents is in its policy).
            caller_account = arns.account_of(caller.arn) or ""
            reader = (
                self.targets(caller_account, outcome.sent.region)  # type: ignore[union-attr]
                if self.read_as == "operator"
                else self.investigators.target(
                    provisioner,
                    caller_account,
                    outcome.sent.region,  # type: ignore[union-attr]
                )
            )
            recorded = recorded_key(outcome, reader)
        request = investigation_request(
            caller.arn, outcome, sees_error=sees_error, recorded=recorded
        )
        with self.stage("investigators"):
            target, key_target = self.readers(provisioner, scenario, resolved, request)
        options = CollectOptions()
        if since is not None:
            options.lookback_hours = lookback_since(since) / 3600
        from harness.evidence import collect

        with self.stage("collect"):
            bundle: dict[str, Any] = collect(request, target, key_target, options=options)
        from harness.diagnosis import diagnose

        with self.stage("diagnose"):
            diagnosis = diagnose(bundle).to_dict()
        return Attempt(outcome=outcome, bundle=bundle, diagnosis=diagnosis)

    def note_managed_key(
        self, provisioner: NativeProvisioner, scenario: Scenario, resolved: ResolvedRefs
    ) -> None:
        """Record the AWS managed key an `alias/aws/...` call used, for `${managed.NAME.arn}`
        in expectations (never for the investigation, which reads the wire only)."""
        key = str(scenario.call.get("key") or "")
        if not key.startswith("alias/aws/"):
            return
        caller = resolved.principal[scenario.call["principal"]]["account"]
        kms = provisioner.client("kms", caller, scenario.call["region"])
        metadata = kms.describe_key(KeyId=key)["KeyMetadata"]
        resolved.managed[key.removeprefix("alias/aws/")] = {
            "arn": metadata["Arn"],
            "id": metadata["KeyId"],
        }

    def attempt_after_fix(
        self,
        provisioner: NativeProvisioner,
        fixed: Scenario,
        resolved: ResolvedRefs,
        fix_started: float,
    ) -> Attempt:
        """The call and its diagnosis after a fix applied from `fix_started` (a time.time())."""
        after = self.attempt(provisioner, fixed, resolved)
        if after.outcome.ok and not after.healthy and rests_on_history(after):
            # What is left is the account's history from before the fix (CloudTrail, Logs):
            # verify on what happened since the fix, as a person checking a fix would.
            after = self.attempt(provisioner, fixed, resolved, since=fix_started)
        return after

    def readers(
        self,
        provisioner: NativeProvisioner,
        scenario: Scenario,
        resolved: ResolvedRefs,
        request: InvestigationRequest,
    ) -> tuple[Target, Target | None]:
        """Who reads the evidence: (caller's account, key's account when it is another).

        A setup's own `investigator` reads alone, as a person investigating with one role
        would. Otherwise the lab-issued investigator roles of `harness.scenarios.investigators`
        (`read_as="investigator"`, the default) or the operators (`read_as="operator"`),
        in the accounts the wire names: the caller's, and the key's when it is another.
        """
        region = request.region or scenario.call["region"]
        if scenario.investigator:
            session = {
                "principal": scenario.investigator,
                "region": region,
                "session_name": "kmslab-investigation",
            }
            return credentials_of(provisioner, session, scenario.setup, resolved).target, None
        caller_account = request.parsed_principal.account
        key_account = request.key_ref.account or request.key_account or caller_account
        if self.read_as == "operator":
            key_reader = self.targets(key_account, region)
            return self.targets(caller_account, region), (
                key_reader if key_account != caller_account else None
            )
        target = self.investigators.target(provisioner, caller_account, region)
        if scenario.key_admin_reads:
            # Declared in the scenario, shown in the row (`read_as`), and checked by a test
            # to be a lock-out AWS would impose too.
            return target, self.targets(key_account, region)
        if key_account == caller_account:
            return target, None
        return target, self.investigators.target(provisioner, key_account, region)

    def readers_label(self, scenario: Scenario) -> str:
        """Who read the evidence, as a row shows it."""
        if scenario.investigator:
            return "scenario-investigator"
        if self.read_as == "operator":
            return "operator"
        return "investigator+key-admin" if scenario.key_admin_reads else "investigator"

    def apply_fix(
        self, scenario: Scenario, provisioner: NativeProvisioner, resolved: ResolvedRefs
    ) -> Scenario:
        """Apply the scenario's fix natively; the fixed scenario."""
        fixed = scenario.fixed()
        provisioner.apply(scenario.setup, fixed.setup, resolved)
        return fixed

    # -- the loop -----------------------------------------------------------------------

    def run(self, scenario: Scenario) -> RunResult:
        start = time.perf_counter()
        provisioner, resolved = self.provision(scenario)
        return self.run_provisioned(scenario, provisioner, resolved, start)

    def run_provisioned(
        self,
        scenario: Scenario,
        provisioner: NativeProvisioner,
        resolved: ResolvedRefs,
        start: float | None = None,
        fixer: Fixer | None = None,
    ) -> RunResult:
        """The loop after provisioning; `fixer` applies the fix (natively when None)."""
        start = time.perf_counter() if start is None else start
        before = self.attempt(provisioner, scenario, resolved)
        problems = error_matches(scenario, before.outcome, resolved)
        reproduced = not problems
        finding = before.primary
        if finding != scenario.expected_finding:
            problems.append(f"primary finding {finding}, expected {scenario.expected_finding}")
        missing = set(scenario.expected.get("evidence", [])) - evidence_calls(
            before.finding(finding or "")
        )
        if missing:
            problems.append(f"primary finding lacks evidence from {sorted(missing)}")
            finding = f"{finding} (no evidence)"
        fix_started = time.time()
        with self.stage("provision"):
            fixed = (fixer or self.apply_fix)(scenario, provisioner, resolved)
        after = self.attempt_after_fix(provisioner, fixed, resolved, fix_started)
        fix_verified = after.outcome.ok and after.healthy
        if not after.outcome.ok:
            problems.append(
                f"after the fix the call fails: {after.outcome.code}: {after.outcome.message}"
            )
        elif not after.healthy:
            problems.append(f"after the fix the diagnosis says {after.primary}")
        return RunResult(
            id=scenario.id,
            reproduced=reproduced,
            error=None if before.outcome.ok else before.outcome.code,
            message=before.outcome.message,
            finding=finding,
            expected_finding=scenario.expected_finding,
            fix_verified=fix_verified,
            seconds=time.perf_counter() - start,
            problems=problems,
            before=before,
            after=after,
            resolved=resolved,
            lab_gap=scenario.lab_gap,
            read_as=self.readers_label(scenario),
        )
