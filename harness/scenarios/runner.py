"""The full loop for one scenario: provision, fail, collect, diagnose, fix, verify.

reset lab -> provision (native or Terraform) -> issue the principal's credentials -> failing
call -> collect evidence -> diagnose -> compare with the expectations -> apply the fix ->
call again -> diagnose again -> one row.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from harness.aws import Target
from harness.errors import UsageError
from harness.evidence.ciphertext import ciphertext_facts as from_bytes
from harness.scenarios.call import (
    Caller,
    Outcome,
    credentials_of,
    damaged,
    issue_credentials,
    make_call,
)
from harness.scenarios.model import Scenario
from harness.scenarios.native import NativeProvisioner, lab_targets
from harness.scenarios.refs import Resolved, substitute

HEALTHY = "NO_FAULT_FOUND"


class BuildError(UsageError):
    """A scenario's setup the lab refused to build: one line naming the call and AWS's error."""

    def __init__(self, scenario_id: str, exc: Exception) -> None:
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            what = f"{exc.operation_name} failed: {error.get('Code')}: {error.get('Message')}"
        else:
            what = str(exc)
        super().__init__(f"scenario {scenario_id} could not be built ({what}); the lab was reset")


# Applies a scenario's fix to what was provisioned and returns the fixed scenario
# (Runner.apply_fix natively, TerraformProvisioner.fix with Terraform).
Fixer = Callable[[Scenario, NativeProvisioner, Resolved], Scenario]


@dataclass
class Attempt:
    """One call as the principal and what the investigation made of it."""

    outcome: Outcome
    bundle: dict[str, Any]
    diagnosis: dict[str, Any]

    @property
    def primary(self) -> str | None:
        primary = self.diagnosis.get("primary")
        if primary:
            return str(primary)
        codes = [f.get("code") for f in self.diagnosis.get("findings", [])]
        return HEALTHY if HEALTHY in codes or not codes else str(codes[0])

    def finding(self, code: str) -> dict[str, Any] | None:
        for finding in self.diagnosis.get("findings", []):
            if finding.get("code") == code:
                found: dict[str, Any] = finding
                return found
        return None


@dataclass
class RunResult:
    """A row of `kmslab run` (contract section 1) plus what explains it."""

    id: str
    reproduced: bool
    error: str | None
    finding: str | None
    expected_finding: str
    fix_verified: bool
    seconds: float
    message: str | None = None
    problems: list[str] = field(default_factory=list)
    before: Attempt | None = None
    after: Attempt | None = None
    resolved: Resolved | None = None
    lab_gap: str | None = None

    @property
    def ok(self) -> bool:
        return self.reproduced and self.finding == self.expected_finding and self.fix_verified

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reproduced": self.reproduced,
            "error": self.error,
            "finding": self.finding,
            "expected_finding": self.expected_finding,
            "fix_verified": self.fix_verified,
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
        }


def expected_message(scenario: Scenario, resolved: Resolved) -> re.Pattern[str] | None:
    error = scenario.expected_error
    if error is None:
        return None
    return re.compile(str(substitute(error["message"], resolved, regex=True)), re.DOTALL)


def error_matches(scenario: Scenario, outcome: Outcome, resolved: Resolved) -> list[str]:
    """Why the outcome is not the expected one (empty when it is)."""
    error = scenario.expected_error
    if error is None:
        return [] if outcome.ok else [f"expected success, got {outcome.code}: {outcome.message}"]
    if outcome.ok:
        return [f"expected {error['code']}, but the call succeeded"]
    problems = []
    if outcome.code != error["code"]:
        problems.append(f"expected {error['code']}, got {outcome.code}: {outcome.message}")
    pattern = expected_message(scenario, resolved)
    if pattern is not None and not pattern.fullmatch(outcome.message or ""):
        problems.append(f"message {outcome.message!r} does not match {pattern.pattern!r}")
    return problems


# The request's ciphertext facts (harness.evidence.request accepts only these).
REQUEST_CIPHERTEXT_FACTS = ("length", "kms_blob")


def ciphertext_facts(call: dict[str, Any], resolved: Resolved) -> dict[str, Any] | None:
    """Length and form of the ciphertext the caller passed, read from the bytes it sent."""
    if not call.get("ciphertext"):
        return None
    blob = damaged(
        resolved.ciphertext[call["ciphertext"]["data"]], call["ciphertext"].get("damage")
    )
    facts = from_bytes(blob)
    return {k: facts[k] for k in REQUEST_CIPHERTEXT_FACTS}


def evidence_calls(finding: dict[str, Any] | None) -> set[str]:
    if not finding:
        return set()
    return {str(item.get("call", "")) for item in finding.get("evidence", [])}


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
    ) -> None:
        self.endpoint = endpoint
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
    def for_lab(cls, endpoint: str, *, unique_names: bool = False) -> Runner:
        from harness.lab import LabClient

        client = LabClient(endpoint)
        return cls(
            endpoint,
            reset=client.reset,
            set_controls=client.set_controls,
            unique_names=unique_names,
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

    def provision(self, scenario: Scenario) -> tuple[NativeProvisioner, Resolved]:
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
        self, provisioner: NativeProvisioner, scenario: Scenario, resolved: Resolved
    ) -> Attempt:
        with self.stage("call"):
            caller = issue_credentials(provisioner, scenario.call, scenario.setup, resolved)
            outcome = make_call(caller, scenario.call, resolved)
        investigator = None
        if scenario.investigator:
            session = {
                "principal": scenario.investigator,
                "region": scenario.call["region"],
                "session_name": "kmslab-investigation",
            }
            investigator = credentials_of(provisioner, session, scenario.setup, resolved).target
        with self.stage("collect"):
            bundle = self.collect(scenario, resolved, caller, outcome, investigator)
        from harness.diagnosis import diagnose

        with self.stage("diagnose"):
            diagnosis = diagnose(bundle).to_dict()
        return Attempt(outcome=outcome, bundle=bundle, diagnosis=diagnosis)

    def investigation_key(self, scenario: Scenario, resolved: Resolved) -> str:
        """The key as the caller named it, or the ciphertext's key when the call named none."""
        call = scenario.call
        if call.get("key"):
            return resolved.key_ref(str(substitute(call["key"], resolved)))
        data = scenario.setup["data"][call["ciphertext"]["data"]]
        return resolved.key[data["key"]]["arn"]

    def key_account(self, scenario: Scenario, resolved: Resolved) -> str | None:
        call = scenario.call
        if call.get("ciphertext"):
            data = scenario.setup["data"][call["ciphertext"]["data"]]
            return resolved.key[data["key"]]["account"]
        key = str(substitute(call.get("key", ""), resolved))
        match = re.match(r"^arn:aws:kms:[^:]+:(\d{12}):", key)
        return match.group(1) if match else None

    def collect(
        self,
        scenario: Scenario,
        resolved: Resolved,
        caller: Caller,
        outcome: Outcome,
        investigator: Target | None = None,
    ) -> dict[str, Any]:
        """The evidence bundle, read as the operators, or as `investigator` when given.

        A restricted investigator reads only with its own credentials (no key-account
        operator), as a person investigating with one role would.
        """
        from harness.evidence import InvestigationRequest, collect

        call = scenario.call
        context: dict[str, str] = {}
        if call.get("via_service"):
            context["kms:ViaService"] = str(substitute(call["via_service"], resolved))
        if call.get("vpc_endpoint"):
            context["aws:SourceVpce"] = resolved.vpce[call["vpc_endpoint"]]["id"]
        observed = None
        if not outcome.ok and scenario.setup.get("investigator", {}).get("sees_error", True):
            observed = {"code": outcome.code or "", "message": outcome.message or ""}
        caller_account = resolved.principal[call["principal"]]["account"]
        request = InvestigationRequest(
            principal=caller.arn,
            action=f"kms:{call['operation']}",
            key=self.investigation_key(scenario, resolved),
            region=call["region"],
            encryption_context=dict(call.get("encryption_context") or {}),
            context=context,
            observed_error=observed,
            grant_tokens=len(call.get("grant_tokens") or []),
            key_account=self.key_account(scenario, resolved),
            ciphertext=ciphertext_facts(call, resolved),
        )
        target = self.targets(caller_account, call["region"])
        key_account = self.key_account(scenario, resolved)
        key_target = None
        if investigator is not None:
            target = investigator
        elif key_account and key_account != caller_account:
            key_target = self.targets(key_account, call["region"])
        bundle: dict[str, Any] = collect(request, target, key_target)
        return bundle

    def apply_fix(
        self, scenario: Scenario, provisioner: NativeProvisioner, resolved: Resolved
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
        resolved: Resolved,
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
        with self.stage("provision"):
            fixed = (fixer or self.apply_fix)(scenario, provisioner, resolved)
        after = self.attempt(provisioner, fixed, resolved)
        fix_verified = after.outcome.ok and after.primary == HEALTHY
        if not after.outcome.ok:
            problems.append(
                f"after the fix the call fails: {after.outcome.code}: {after.outcome.message}"
            )
        elif after.primary != HEALTHY:
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
        )
