"""kmslab writes its own Terraform CLI config and ignores the machine's preset one."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness import tfcli
from harness.errors import UsageError


def make_mirror(root: Path) -> Path:
    (root / "registry.terraform.io" / "hashicorp" / "aws").mkdir(parents=True)
    return root


def test_named_mirror_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mirror = make_mirror(tmp_path / "mirror")
    monkeypatch.setenv(tfcli.MIRROR_ENV, str(mirror))
    monkeypatch.setenv("KMSLAB_STATE_DIR", str(tmp_path / "state"))
    setup = tfcli.setup()
    text = setup.config_file.read_text()
    assert setup.mirror == mirror
    assert f'path    = "{mirror}"' in text
    assert 'exclude = ["registry.terraform.io/*/*"]' in text


def test_named_mirror_without_provider_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(tfcli.MIRROR_ENV, str(tmp_path))
    with pytest.raises(UsageError, match=r"holds no registry\.terraform\.io/hashicorp/aws"):
        tfcli.find_mirror()


def test_no_mirror_means_public_registry() -> None:
    text = tfcli.render_config(None)
    assert "provider_installation" not in text
    assert "disable_checkpoint = true" in text


def test_env_overrides_preset_cli_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KMSLAB_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", "/nonexistent/terraformrc")
    setup = tfcli.setup()
    env = setup.env()
    assert env["TF_CLI_CONFIG_FILE"] == str(setup.config_file)
    assert Path(env["TF_CLI_CONFIG_FILE"]).is_file()


@pytest.mark.terraform
def test_terraform_init_works_offline_with_detected_mirror(tmp_path: Path) -> None:
    setup = tfcli.setup()
    if setup.mirror is None:
        pytest.skip("no local provider mirror on this machine; init would use the registry")
    (tmp_path / "main.tf").write_text(
        'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n'
    )
    result = subprocess.run(
        [setup.binary, "init", "-input=false", "-no-color"],
        cwd=tmp_path,
        env=setup.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "hashicorp/aws" in result.stdout
