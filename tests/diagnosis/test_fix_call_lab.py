"""Done-when of issue 11, for the finding codes whose fix is not a configuration change alone: the
application's call corrected (Region, key ARN, encryption context, grant token, ciphertext bytes,
a new session or access key), a change to AWS state the evidence names (an alias, imported key
material, a new key, a revoked grant, a grant instead of a full key policy), or a retry once a
condition AWS imposes has cleared.

Each case builds a catalog scenario in the lab, makes its failing call and diagnoses it; then the
primary finding's `fix.cli` runs in bash with the real `aws`, as the principal `fix.applied_by`
names (an account root is that account's lab operator, contract section 5; a role is a session of
it; a user gets a new access key). What no bundle can hold is put where the command expects it,
from what the lab test holds: the stored ciphertext (ciphertext.bin, or ciphertext.b64 as the
application sent it), a plaintext (plaintext.bin), the grant's token ($GRANT_TOKEN), the original
key material (key-material.bin), the multi-Region primary's Region ($PRIMARY_REGION). Then the call must succeed:

- `fix`: the fix is the corrected call itself; it must exit 0, and a Decrypt must return the
  scenario's plaintext (the data really came back, not just any answer);
- `call`: the scenario's own call, unchanged, is made again as the scenario's caller;
- `new-key`: the scenario's call with the key the fix created (new-key-arn.txt): the fix's
  summary says the application must use it;
- `retry`: the condition AWS imposed clears (the lab control is lifted), then the fix, the same
  call with the CLI's adaptive retries, must work as in `fix`;
- `recollect`: the investigator's permissions: after the fix the same investigation reads what
  was refused, and the diagnosis no longer names the investigator.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness.scenarios.catalog import load_catalog
from harness.scenarios.model import Scenario
from harness.scenarios.runner import Runner

from .test_fix_cli_lab import AWS, _applier_env, run_cli
from .test_fix_cli_lab import runner as runner  # the same module-scoped lab fixture

# code -> (catalog scenario whose primary finding it is, how success is shown)
CASES: dict[str, tuple[str, str]] = {
    "WRONG_REGION": ("wrong-region", "fix"),
    "ALIAS_WRONG_TARGET": ("alias-name-same-named-local", "fix"),
    "ENCRYPTION_CONTEXT_MISMATCH": ("encryption-context-mismatch", "fix"),
    "CIPHERTEXT_INVALID": ("ciphertext-double-base64", "fix"),
    "INCORRECT_KEY": ("incorrect-key-id", "fix"),
    "GRANT_CONSTRAINT_UNMET": ("grant-constraint-unmet", "fix"),
    "GRANT_TOKEN_NEEDED": ("grant-token-needed", "fix"),
    "GRANT_TOKEN_INVALID": ("grant-token-invalid", "fix"),
    "SESSION_POLICY_BLOCKS": ("session-policy-blocks", "fix"),
    "CREDENTIALS_INVALID": ("credentials-expired", "fix"),
    "KEY_NOT_FOUND": ("key-not-found", "fix"),
    "ALIAS_NOT_FOUND": ("alias-typo", "call"),
    "GRANT_LIMIT_REACHED": ("grant-limit-reached", "call"),
    "KEY_POLICY_TOO_LARGE": ("key-policy-too-large", "call"),
    "KEY_PENDING_IMPORT": ("key-pending-import", "call"),
    "KEY_UNAVAILABLE": ("key-unavailable-custom-store", "call"),
    "MULTI_REGION_REPLICA_MISSING": ("multi-region-replica-missing", "call"),
    "KEY_USAGE_MISMATCH": ("key-usage-sign-verify", "new-key"),
    "AWS_MANAGED_KEY_MISUSE": ("aws-managed-key-direct", "new-key"),
    "KMS_SERVICE_EVENT": ("kms-service-event", "retry"),
    "THROTTLED": ("throttled", "retry"),
    "KEY_STATE_TRANSITION": ("key-creating", "retry"),
    "INVESTIGATOR_ACCESS_DENIED": ("investigator-no-key-policy-read", "recollect"),
}
# More scenarios of the same codes: other shapes of the same fix.
MORE = [
    ("ALIAS_WRONG_TARGET", "alias-wrong-target", "fix"),
    ("CIPHERTEXT_INVALID", "ciphertext-truncated", "fix"),
    ("KEY_NOT_FOUND", "cross-account-key-id-not-arn", "fix"),
]
RUN_HERE = set(CASES)


def _inputs(scenario: Any, resolved: Any, workdir: Path) -> dict[str, str]:
    """What only the application holds, where the fix's commands expect it; extra environment."""
    from harness.scenarios.call import damaged
    from harness.scenarios.native import PLAINTEXT

    (workdir / "plaintext.bin").write_bytes(PLAINTEXT)
    cipher = scenario.call.get("ciphertext")
    if cipher:
        blob = resolved.ciphertext[cipher["data"]]
        (workdir / "ciphertext.bin").write_bytes(blob)
        # The text the application sent where bytes belong (base64 once more).
        (workdir / "ciphertext.b64").write_bytes(damaged(blob, "base64"))
    env: dict[str, str] = {}
    caller = scenario.call["principal"]
    for grant in scenario.setup.get("grants") or []:
        if grant.get("grantee") == caller and grant["name"] in resolved.grant:
            env["GRANT_TOKEN"] = resolved.grant[grant["name"]]["token"]
    for name, key in resolved.key.items():
        if str(key.get("id", "")).startswith("mrk-"):
            # A bundle read in the Region without a replica cannot show where the primary is;
            # the person looks it up, as the fix's $PRIMARY_REGION says.
            env["PRIMARY_REGION"] = key["arn"].split(":")[3]
        if key.get("material"):
            (workdir / "key-material.bin").write_bytes(base64.b64decode(key["material"]))
            env.setdefault("KEY_MATERIAL_OF", name)
    return env


def _env_of(
    runner: Runner, provisioner: Any, scenario: Any, resolved: Any, arn: str, home: Path
) -> dict[str, str]:
    """Lab credentials of `arn`: the operator for a root, a session for a role, a new access key
    for a user (as its IAM administrator would hand out)."""
    region = scenario.call["region"]
    if ":user/" not in arn:
        return _applier_env(runner, arn, region, home)
    env = _applier_env(runner, f"arn:aws:iam::{arn.split(':')[4]}:root", region, home)
    name = next(n for n, p in resolved.principal.items() if p.get("arn") == arn)
    from harness.scenarios.call import credentials_of

    caller = credentials_of(
        provisioner, {**scenario.call, "principal": name}, scenario.setup, resolved
    )
    env.update(
        AWS_ACCESS_KEY_ID=str(caller.target.access_key_id),
        AWS_SECRET_ACCESS_KEY=str(caller.target.secret_access_key),
    )
    return env


def _run_fix(
    code: str, scenario_id: str, how: str, runner: Runner, tmp_path: Path
) -> tuple[dict[str, Any], subprocess.CompletedProcess[str], Any]:
    scenario = next(s for s in load_catalog() if s.id == scenario_id)
    provisioner, resolved = runner.provision(scenario)
    before = runner.attempt(provisioner, scenario, resolved)
    assert not before.outcome.ok and before.primary == code, (before.primary, before.outcome)
    fix = next(f for f in before.diagnosis["findings"] if f["code"] == code)["fix"]
    assert fix.get("applied_by"), fix
    assert not re.search(r"<[a-z][a-z-]*>", fix["cli"]), f"placeholder left in {fix['cli']!r}"
    env = _env_of(runner, provisioner, scenario, resolved, fix["applied_by"], tmp_path)
    env.update(_inputs(scenario, resolved, tmp_path))
    if how == "retry":
        # The condition AWS imposed (an event, a rate, a transition) clears by itself: in the lab,
        # the scenario's own fix lifts the control; the fix is the same call, retried.
        runner.apply_fix(scenario, provisioner, resolved)
    done = run_cli(fix["cli"], env, tmp_path)
    if how in ("fix", "retry"):
        _assert_the_call_worked(scenario, fix["cli"], done.stdout)
    elif how == "recollect":
        # The investigator's own reads were refused: after the fix the same investigation reads
        # them, and the diagnosis no longer stops at the investigator.
        after = runner.attempt(provisioner, scenario, resolved)
        codes = [f["code"] for f in after.diagnosis["findings"]]
        assert code not in codes, codes
        refused = [
            c["operation"]
            for c in after.bundle["calls"]
            if (c.get("error") or {}).get("code") in ("AccessDenied", "AccessDeniedException")
        ]
        assert "GetKeyPolicy" not in refused, refused
    else:
        fixed = scenario
        if how == "new-key":
            new_key = (tmp_path / "new-key-arn.txt").read_text().strip()
            assert new_key.startswith("arn:aws:kms:"), new_key
            raw = copy.deepcopy(scenario.raw)
            raw["call"]["key"] = new_key
            fixed = Scenario(raw, scenario.path)
        after = runner.attempt(provisioner, fixed, resolved)
        assert after.outcome.ok, (
            f"after {fix['cli']!r}: {after.outcome.code}: {after.outcome.message}"
        )
    return fix, done, resolved


def _assert_the_call_worked(scenario: Any, cli: str, stdout: str) -> None:
    """The fix's last command is the scenario's operation, and its answer is that operation's."""
    from harness.scenarios.native import PLAINTEXT

    op = scenario.call["operation"]
    command = "".join("-" + c.lower() if c.isupper() else c for c in op).lstrip("-")
    last = [line for line in cli.splitlines() if "aws kms " in line][-1]
    assert f"aws kms {command} " in last, (op, last)
    answer = json.loads(stdout[stdout.rindex("\n{") + 1 :] if "\n{" in stdout else stdout)
    assert answer.get("KeyId", "").startswith("arn:aws:kms:"), answer
    if op == "Decrypt":
        assert base64.b64decode(answer["Plaintext"]) == PLAINTEXT
    elif op == "Encrypt":
        assert answer["CiphertextBlob"]


@pytest.mark.skipif(AWS is None, reason="the AWS CLI (awscli) is not installed")
@pytest.mark.parametrize(
    ("code", "scenario_id", "how"),
    [(code, sid, how) for code, (sid, how) in sorted(CASES.items())] + MORE,
)
def test_fix_run_as_its_applier_makes_the_call_work(
    code: str, scenario_id: str, how: str, runner: Runner, tmp_path: Path
) -> None:
    fix, _, resolved = _run_fix(code, scenario_id, how, runner, tmp_path)
    if scenario_id == "alias-name-same-named-local":
        # Catalog row 14 in a plain lab run (no --key-account): the fix names the data account's
        # key ARN the application meant, and the caller's own key the alias name reached.
        assert resolved.key["data"]["arn"] in fix["cli"]
        assert resolved.key["data"]["arn"] in fix["summary"]
        assert resolved.key["mine"]["arn"] in fix["summary"]
        assert "alias/app-data" in fix["summary"]
