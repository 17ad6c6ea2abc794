"""terraform-compliance over ONE plan of a catalog sample: the plan really encodes each break.

One `terraform plan` of five scenarios (each under a readable name prefix) is checked by
every feature in terraform/compliance/catalog; the plan of their fixed twins must fail each
feature, so the features see the break and not just any plan.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.paths import terraform_dir
from harness.scenarios.catalog import find
from harness.scenarios.model import Scenario
from harness.scenarios.terraform import TerraformRun

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

FEATURES = terraform_dir() / "compliance" / "catalog"
# scenario id -> the name prefix the features filter on
SAMPLE = {
    "key-disabled": "dis-",
    "principal-role-not-listed": "miss-",
    "key-policy-explicit-deny": "deny-",
    "boundary-blocks-named-role": "bnd-",
    "grant-operation-missing": "grt-",
}


def compliance(plan: Path, features: Path) -> subprocess.CompletedProcess[str]:
    tool = Path(sys.executable).with_name("terraform-compliance")
    return subprocess.run(
        [str(tool), "-p", str(plan), "-f", str(features), "--no-ansi"],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH")
    out = tmp_path_factory.mktemp("plans")
    run = TerraformRun("http://127.0.0.1:9", workdir=tmp_path_factory.mktemp("tf"))
    run.prepare()
    broken: dict[str, tuple[Scenario, str]] = {i: (find(i), p) for i, p in SAMPLE.items()}
    fixed = {i: (s.fixed(), p) for i, (s, p) in broken.items()}
    files = {}
    for name, batch in (("broken", broken), ("fixed", fixed)):
        files[name] = out / f"{name}.json"
        files[name].write_text(run.plan_json(batch))  # single line, as terraform-compliance needs
    return files


def test_sample_plan_encodes_every_break(plans: dict[str, Path]) -> None:
    result = compliance(plans["broken"], FEATURES)
    assert result.returncode == 0, result.stdout[-3000:]
    assert f"{len(list(FEATURES.glob('*.feature')))} features (" in result.stdout


@pytest.mark.parametrize("feature", sorted(p.name for p in FEATURES.glob("*.feature")))
def test_fixed_plan_fails_each_break_check(
    plans: dict[str, Path], feature: str, tmp_path: Path
) -> None:
    (tmp_path / feature).write_text((FEATURES / feature).read_text())
    result = compliance(plans["fixed"], tmp_path)
    assert result.returncode != 0, f"{feature} passes on the fixed plan:\n{result.stdout[-2000:]}"
