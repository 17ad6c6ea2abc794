"""`kmslab run --via terraform` means Terraform: built and fixed by it, or refused in one line.

Terraform is slow against the lab (the provider waits after creating and after disabling a
key), so one scenario takes the whole path and the refusal is tested without Terraform.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import cli, main
from harness.scenarios.batch import run_batch
from harness.scenarios.catalog import find
from harness.scenarios.runner import Runner
from harness.scenarios.terraform import TerraformRun

UNREACHABLE = "http://127.0.0.1:9"


def test_unbuildable_scenarios_are_refused_before_the_lab_is_touched(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Nothing listens on port 9: a run that reached for the lab would exit 3, not 2.
    argv = ["run", "key-disabled", "scp-denies-decrypt", "key-pending-deletion", "--via",
            "terraform", "--endpoint-url", UNREACHABLE]  # fmt: skip
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert captured.out == "" and len(lines) == 1, captured
    assert "Traceback" not in captured.err
    # organizations: SCPs are AWS resources terraform/catalog does not declare
    assert "scp-denies-decrypt (organization policies" in lines[0]
    # deleting-keys.html: a key pending deletion is read by the provider as gone
    assert "key-pending-deletion (key data is PendingDeletion" in lines[0]
    assert "key-disabled" not in lines[0].replace("key-disabled-", "")


def test_native_rows_say_so(lab_runner: Runner) -> None:
    result = CliRunner().invoke(
        cli, ["run", "key-disabled", "--endpoint-url", lab_runner.endpoint, "--format", "json"]
    )
    row = json.loads(result.output)[0]
    assert (row["built_via"], row["fixed_via"], row["read_as"]) == (
        "native",
        "native",
        "investigator",
    )


@pytest.mark.terraform
@pytest.mark.slow
def test_iam_no_allow_is_built_and_fixed_by_terraform(lab_runner: Runner, tmp_path: Path) -> None:
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH")
    workdir = tmp_path / "tf"
    [row] = run_batch(
        [find("iam-no-allow")], lab_runner.endpoint, via="terraform", runner=lab_runner,
        workdir=workdir,
    )  # fmt: skip
    assert row.ok, row.problems
    assert (row.built_via, row.fixed_via) == ("terraform", "terraform")
    # The fix adds kms:Decrypt to the role's inline policy (troubleshoot_access-denied.html:
    # no identity-based policy allowed it). Terraform's own state holds the fixed policy, so
    # the fix went through Terraform, not around it.
    policies = TerraformRun(lab_runner.endpoint, workdir=workdir).resources("aws_iam_role_policy")
    assert any("kms:Decrypt" in p["policy"] for p in policies), policies
