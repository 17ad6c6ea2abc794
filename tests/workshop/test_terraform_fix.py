"""Fixing with Terraform: the kit adopts the participant's policies, an edit plus `terraform apply`
with the fixer settings is a fix `check` accepts (or rejects, when it is over-broad).

Expectations: policy-evaluation.html (with the key policy's root statement, the role's IAM
policy must allow kms:Decrypt on the key) and key-policy-overview.html (Principal "*")."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from harness import tfcli
from harness.errors import UsageError
from harness.lab import LabServer
from harness.workshop import Room, WorkshopStore
from harness.workshop.settings import env_dict
from workshop.conftest import CATALOG

pytestmark = [pytest.mark.slow, pytest.mark.terraform]


def terraform(room: Room, record: dict, kit: Path, *args: str) -> subprocess.CompletedProcess[str]:  # type: ignore[type-arg]
    try:
        setup = tfcli.setup()
    except UsageError as exc:
        pytest.skip(str(exc))
    env = setup.env({k: v for k, v in os.environ.items() if not k.startswith("AWS_")})
    env.update(
        env_dict(record["endpoint"], record["region"], record["credentials"]["fixer"]["app"])
    )
    return subprocess.run(
        [setup.binary, *args, "-no-color"],
        cwd=kit.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_iam_fix_by_editing_the_terraform_kit(lab: LabServer, tmp_path: Path) -> None:
    room = Room(
        lab.endpoint,
        store=WorkshopStore(tmp_path / "state.json"),
        catalog_root=CATALOG,
        workdir=tmp_path,
    )
    record = room.start("tess", "ws-iam-no-allow")
    kit = room.terraform_kit("tess", tmp_path / "tf")
    text = kit.read_text()
    key_arn = record["resolved"]["key"]["data"]["arn"]
    assert 'resource "aws_iam_role_policy" "app_inline_0"' in text
    assert 'resource "aws_kms_key_policy" "data"' in text
    assert f'id = "{record["resolved"]["key"]["data"]["id"]}"' in text
    # The participant's edit: the role's inline policy allows Decrypt on the key.
    broken = '"Action": "s3:GetObject",\n          "Resource": "*"'
    assert text.count(broken) == 1
    kit.write_text(
        text.replace(broken, f'"Action": "kms:Decrypt",\n          "Resource": "{key_arn}"')
    )
    init = terraform(room, record, kit, "init")
    if init.returncode != 0 and "registry.terraform.io" in init.stderr:
        pytest.skip("no offline provider mirror and no registry access")
    assert init.returncode == 0, init.stderr
    applied = terraform(room, record, kit, "apply", "-auto-approve")
    assert applied.returncode == 0, applied.stdout[-2000:] + applied.stderr
    assert "2 imported, 0 added, 1 changed, 0 destroyed" in applied.stdout
    result = room.check("tess")
    assert result["result"] == "passed", result
    # Terraform sees no drift afterwards: the lab holds exactly the edited policy.
    again = terraform(room, record, kit, "plan", "-detailed-exitcode")
    assert again.returncode == 0, again.stdout[-2000:]
