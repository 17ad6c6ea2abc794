"""Every fix's CLI text is a command a person can run as written (issue 11): shell syntax that bash
accepts, no `<placeholder>` (values only the person has are shell variables such as
"$GRANT_TOKEN" or files such as ciphertext.bin), and every `aws SERVICE COMMAND --flag` names an
operation and parameters the AWS CLI has (from the botocore service models the CLI itself uses).

test_fix_cli_lab.py runs the fixes that change configuration against the lab, test_fix_call_lab.py
the corrected calls, state changes and retries. The codes below are the others, with why their fix
cannot be proven there; this module checks what can be checked.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import botocore.session
from botocore import xform_name

from harness.diagnosis import diagnose
from harness.diagnosis.registry import rules

from . import cases
from .test_fix_call_lab import RUN_HERE as RUN_AS_CALLS
from .test_fix_cli_lab import RUN_HERE

NOT_RUN_HERE = {
    # ReplicateKey runs in the primary key's Region, which a bundle collected in the Region without
    # a replica does not show (the fix leaves "$PRIMARY_REGION" to the person).
    "NO_FAULT_FOUND": "nothing to fix: the next checks to make",
}

# Options of the AWS CLI itself (not of an operation).
GLOBAL = {"--region", "--query", "--output", "--endpoint-url", "--profile", "--no-paginate"}
RECORDS = sorted((Path(__file__).parent / "catalog").glob("*.json"))


def test_every_code_is_run_in_the_lab_or_says_why_not() -> None:
    codes = {r.meta.code for r in rules()}
    assert set(RUN_HERE) | RUN_AS_CALLS | set(NOT_RUN_HERE) == codes
    assert not (set(RUN_HERE) | RUN_AS_CALLS) & set(NOT_RUN_HERE)
    assert not set(RUN_HERE) & RUN_AS_CALLS


def _fixes() -> list[tuple[str, dict[str, Any]]]:
    bundles = [json.loads(p.read_text())["bundle"] for p in RECORDS]
    for name in dir(cases):
        fn = getattr(cases, name)
        if callable(fn) and not name.startswith("_") and fn.__module__ == cases.__name__:
            try:
                bundle = fn()
            except TypeError:
                continue
            if isinstance(bundle, dict) and "request" in bundle:
                bundles.append(bundle)
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for bundle in bundles:
        for finding in diagnose(bundle).findings:
            out.setdefault(finding.fix.cli, (finding.code, finding.fix.to_dict()))
    return list(out.values())


@cache
def _operations(service: str) -> dict[str, set[str]]:
    """CLI command name -> its parameter flags, from the botocore model the AWS CLI uses."""
    model = botocore.session.get_session().get_service_model(service)
    ops: dict[str, set[str]] = {}
    for name in model.operation_names:
        op = model.operation_model(name)
        members = op.input_shape.members if op.input_shape is not None else {}
        flags = {"--" + xform_name(m, "-") for m in members}
        flags |= {"--no-" + f[2:] for f in flags}
        ops[xform_name(name, "-")] = flags | {"--cli-input-json", "--generate-cli-skeleton"}
    return ops


def test_every_fix_command_is_valid_shell_and_names_real_cli_operations() -> None:
    fixes = _fixes()
    assert len(fixes) >= 40
    problems = []
    for code, fix in fixes:
        cli = fix["cli"]
        if re.search(r"<[a-z][a-z-]*>", cli):
            problems.append(f"{code}: placeholder in {cli!r}")
        parsed = subprocess.run(["bash", "-n", "-c", cli], capture_output=True, text=True)
        if parsed.returncode != 0:
            problems.append(f"{code}: bash rejects {cli!r}: {parsed.stderr.strip()}")
            continue
        for line in cli.splitlines():
            words = shlex.split(line, comments=True)
            for i, word in enumerate(words):
                if word != "aws" or i + 2 >= len(words) + 1:
                    continue
                service, command = words[i + 1], words[i + 2]
                known = _operations(service)
                if command not in known:
                    problems.append(f"{code}: aws {service} {command} is no AWS CLI command")
                    continue
                for flag in (w for w in words[i + 3 :] if w.startswith("--")):
                    flag = flag.split("=", 1)[0]
                    if flag not in known[command] and flag not in GLOBAL:
                        problems.append(f"{code}: aws {service} {command} has no {flag}")
    assert not problems, "\n".join(problems)
