"""Done-when of issue 11: a finding's CLI fix, run with the real AWS CLI as the principal the fix
names, makes the failing call succeed in the lab.

For each finding code whose fix changes configuration, one catalog scenario is built with the
native provisioner, its failing call is made and diagnosed; the primary finding's `fix.cli` runs
in bash with the `aws` of this virtualenv, with lab credentials of `fix.applied_by` (the lab's
operator credentials for an account's root ARN, which contract section 5 makes that account's
administrator; an AssumeRole session for a role ARN). Then the scenario's own call is made again,
unchanged, and must succeed.

SCPs and RCPs are readable only from the management account (organizations action-reference.html),
so for those two codes the investigation adds the management account's organization reads, as
`kmslab collect --profile <management>` would, before the fix is taken.

Codes whose fix is not a configuration change are listed in NOT_RUN_HERE with the reason; their
fixes are checked in test_fix_commands.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.scenarios.catalog import load_catalog
from harness.scenarios.runner import Runner

# code -> a catalog scenario whose primary finding it is
RUN_HERE = {
    "KEY_POLICY_NO_ALLOW": "key-policy-no-root-statement",
    "KEY_POLICY_PRINCIPAL_MISMATCH": "principal-session-arn-listed",
    "KEY_POLICY_EXPLICIT_DENY": "key-policy-explicit-deny",
    "CROSS_ACCOUNT_KEY_POLICY_MISSING": "cross-account-key-policy-missing",
    "IAM_NO_ALLOW": "iam-user-no-allow",
    "IAM_RESOURCE_MISMATCH": "iam-resource-alias-arn",
    "IAM_EXPLICIT_DENY": "iam-explicit-deny",
    "CROSS_ACCOUNT_IAM_MISSING": "cross-account-iam-missing",
    "PERMISSIONS_BOUNDARY_BLOCKS": "boundary-blocks-named-role",
    "SCP_BLOCKS": "scp-denies-decrypt",
    "RCP_BLOCKS": "rcp-denies-external",
    "VPC_ENDPOINT_POLICY_BLOCKS": "vpce-policy-explicit-deny",
    "KEY_DISABLED": "key-disabled",
    "KEY_PENDING_DELETION": "key-pending-deletion",
    "GRANT_OPERATION_MISSING": "grant-operation-missing",
    "MULTI_REGION_REPLICA_DIVERGED": "multi-region-replica-diverged",
    "KEY_POLICY_CONDITION_UNMET": "condition-caller-account",
}

AWS = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")
LAB_SECRET = "lab-operator-secret"


@pytest.fixture(scope="module")
def runner() -> Iterator[Runner]:
    from harness.lab import LabServer

    server = LabServer(upstream="moto", port=0)
    server.start()
    try:
        yield Runner.for_lab(server.endpoint)
    finally:
        server.stop()


def run_cli(cli: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The fix's command as a person runs it: bash, stopping at the first failing step."""
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", cli],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"{cli}\n{done.stderr}"
    return done


def _applier_env(runner: Runner, applier: str, region: str, home: Path) -> dict[str, str]:
    account = applier.split(":")[4]
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(home / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-credentials"),
        "AWS_ENDPOINT_URL": runner.endpoint,
        "AWS_DEFAULT_REGION": region,
        "AWS_PAGER": "",
        "AWS_ACCESS_KEY_ID": account,
        "AWS_SECRET_ACCESS_KEY": LAB_SECRET,
    }
    if applier.endswith(":root"):
        return env
    # A role the key policy names: a session of that role, issued by the lab.
    assert ":role/" in applier, applier
    from harness.evidence.calls import make_client

    sts = make_client(runner.targets(account, region), "sts", region, 1)
    creds = sts.assume_role(RoleArn=applier, RoleSessionName="kmslab-fixer")["Credentials"]
    env.update(
        AWS_ACCESS_KEY_ID=creds["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
        AWS_SESSION_TOKEN=creds["SessionToken"],
    )
    return env


def _with_management_reads(runner: Runner, scenario: Any, resolved: Any, attempt: Any) -> Any:
    """The bundle plus the organization reads of the management account, re-diagnosed."""
    from harness.diagnosis import diagnose
    from harness.evidence import InvestigationRequest, collect

    bundle = attempt.bundle
    orgs = [
        c["response"]["Organization"]
        for c in bundle["calls"]
        if c["operation"] == "DescribeOrganization" and "response" in c
    ]
    # A caller outside the organization (an RCP's external partner) cannot see it: the lab's
    # organization is managed by 111111111111 (docs/architecture.md, lab API).
    management = orgs[0]["MasterAccountId"] if orgs else "111111111111"
    mgmt = runner.targets(management, scenario.call["region"])
    req = bundle["request"]
    extra = collect(
        InvestigationRequest(
            principal=req["principal"],
            action=req["action"],
            key=req["key"],
            region=req["region"],
            key_account=req.get("key_account"),
        ),
        mgmt,
    )
    org_calls = [c for c in extra["calls"] if c["service"] == "organizations"]
    calls = [c for c in bundle["calls"] if c["service"] != "organizations"] + org_calls
    return diagnose(dict(bundle, calls=calls)).to_dict()


@pytest.mark.skipif(AWS is None, reason="the AWS CLI (awscli) is not installed")
@pytest.mark.parametrize(("code", "scenario_id"), sorted(RUN_HERE.items()))
def test_cli_fix_run_as_its_applier_makes_the_call_succeed(
    code: str, scenario_id: str, runner: Runner, tmp_path: Path
) -> None:
    scenario = next(s for s in load_catalog() if s.id == scenario_id)
    provisioner, resolved = runner.provision(scenario)
    _fix_with_the_cli(code, scenario, provisioner, resolved, runner, tmp_path)


def _fix_with_the_cli(
    code: str, scenario: Any, provisioner: Any, resolved: Any, runner: Runner, tmp_path: Path
) -> str:
    """Diagnose the failing call, run the primary finding's CLI fix as its applier with the
    real `aws`, and check that the call then succeeds; the fix's commands."""
    before = runner.attempt(provisioner, scenario, resolved)
    assert not before.outcome.ok and before.primary == code
    diagnosis = before.diagnosis
    if code in ("SCP_BLOCKS", "RCP_BLOCKS"):
        diagnosis = _with_management_reads(runner, scenario, resolved, before)
    finding = next(f for f in diagnosis["findings"] if f["code"] == code)
    fix = finding["fix"]
    assert fix.get("applied_by"), fix
    assert "<" not in fix["cli"], f"placeholder left in {fix['cli']!r}"
    env = _applier_env(runner, fix["applied_by"], scenario.call["region"], tmp_path)
    run_cli(fix["cli"], env, tmp_path)
    after = runner.attempt(provisioner, scenario, resolved)
    assert after.outcome.ok, f"after {fix['cli']!r}: {after.outcome.code}: {after.outcome.message}"
    return str(fix["cli"])


@pytest.mark.skipif(AWS is None, reason="the AWS CLI (awscli) is not installed")
@pytest.mark.parametrize(
    ("code", "scenario_id"),
    [("KEY_DISABLED", "key-disabled"), ("KEY_POLICY_NO_ALLOW", "key-policy-no-root-statement")],
)
def test_cli_fix_for_a_key_id_that_starts_with_a_digit(
    code: str, scenario_id: str, runner: Runner, tmp_path: Path
) -> None:
    """Key ids are UUIDs (about 5 in 8 start with a digit): build the scenario until its key's id
    starts with one, then its CLI fix must still run and make the call succeed."""
    scenario = next(s for s in load_catalog() if s.id == scenario_id)
    for _ in range(40):  # (3/8)**40: never in practice
        provisioner, resolved = runner.provision(scenario)
        key_id = str(resolved.key["data"]["id"])
        if key_id[0].isdigit():
            break
    else:
        pytest.fail("40 keys and none with an id starting with a digit")
    cli = _fix_with_the_cli(code, scenario, provisioner, resolved, runner, tmp_path)
    assert key_id in cli, cli
