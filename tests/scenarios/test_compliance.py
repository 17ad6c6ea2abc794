"""terraform plan of a scenario + terraform-compliance: the plan really encodes the break."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.paths import terraform_dir
from harness.scenarios.catalog import find
from harness.scenarios.terraform import TerraformRun

pytestmark = [pytest.mark.terraform, pytest.mark.slow]


def compliance(plan: str, features: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(plan)
    tool = Path(sys.executable).with_name("terraform-compliance")
    return subprocess.run(
        [str(tool), "-p", str(plan_file), "-f", str(features), "--no-ansi"],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH")
    run = TerraformRun("http://127.0.0.1:9", workdir=tmp_path_factory.mktemp("tf"))
    run.prepare()
    broken = find("key-disabled")
    fixed = broken.fixed()
    return {
        "broken": run.plan_json({broken.id: (broken, "")}),
        "fixed": run.plan_json({fixed.id: (fixed, "")}),
    }


def test_disabled_key_plan_has_is_enabled_false(plans: dict[str, str], tmp_path: Path) -> None:
    result = compliance(plans["broken"], terraform_dir() / "compliance" / "key-disabled", tmp_path)
    assert result.returncode == 0, result.stdout[-2000:]


def test_fixed_plan_fails_the_break_check(plans: dict[str, str], tmp_path: Path) -> None:
    result = compliance(plans["fixed"], terraform_dir() / "compliance" / "key-disabled", tmp_path)
    assert result.returncode != 0
    assert "is_enabled" in result.stdout
