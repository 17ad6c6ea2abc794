"""What the workshop room's parts share: participant names, records' timestamps and
resolved names, lab errors as one line, CLI commands and the solution handed out.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.exceptions

from harness.aws.clients import endpoint_errors
from harness.errors import KmslabError, UsageError
from harness.lab.controls import ACCOUNT_FIELDS
from harness.scenarios.call import Outcome
from harness.scenarios.model import Scenario
from harness.scenarios.refs import ResolvedRefs, substitute
from harness.workshop.exercises import Exercise

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


def call_record(operation: str, outcome: Outcome) -> dict[str, Any]:
    """What a participant's call did, as the room stores and shows it (with the CLI's error line)."""
    return {
        "ok": outcome.ok,
        "code": outcome.code,
        "message": outcome.message,
        "error": None if outcome.ok else cli_error(operation, outcome.code, outcome.message),
    }


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
