"""The Terraform CLI configuration kmslab writes for itself.

Terraform reads provider-installation settings from `TF_CLI_CONFIG_FILE`; machines
may preset that variable to anything (this image points it at a file that does not
exist). kmslab never relies on it: every Terraform process it starts gets a config
of kmslab's own, using a local provider mirror when one exists (offline) and the
public registry otherwise.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from harness.errors import UsageError
from harness.paths import state_dir

MIRROR_ENV = "KMSLAB_TF_PLUGIN_MIRROR"
# Places where machine images and packagers put a filesystem mirror of providers.
MIRROR_CANDIDATES = (
    "/opt/tf-plugins",
    "~/.terraform.d/plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
)


@dataclass(frozen=True)
class TerraformSetup:
    binary: str
    config_file: Path
    mirror: Path | None

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """Environment for a terraform subprocess: our CLI config, no prompts, no telemetry."""
        env = dict(os.environ if base is None else base)
        env["TF_CLI_CONFIG_FILE"] = str(self.config_file)
        env["TF_IN_AUTOMATION"] = "1"
        env["TF_INPUT"] = "0"
        env["CHECKPOINT_DISABLE"] = "1"
        env.setdefault("TF_PLUGIN_CACHE_DIR", str(plugin_cache_dir()))
        return env


def plugin_cache_dir() -> Path:
    path = state_dir() / "tf-plugin-cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def has_aws_provider(path: Path) -> bool:
    return (path / "registry.terraform.io" / "hashicorp" / "aws").is_dir()


def find_mirror() -> Path | None:
    """The provider mirror named by KMSLAB_TF_PLUGIN_MIRROR, else the first one found."""
    named = os.environ.get(MIRROR_ENV)
    if named:
        path = Path(named).expanduser()
        if not has_aws_provider(path):
            raise UsageError(
                f"{MIRROR_ENV}={named} holds no registry.terraform.io/hashicorp/aws provider"
            )
        return path
    for candidate in MIRROR_CANDIDATES:
        path = Path(candidate).expanduser()
        if has_aws_provider(path):
            return path
    return None


def render_config(mirror: Path | None) -> str:
    lines = ["disable_checkpoint = true", ""]
    if mirror is not None:
        lines += [
            "provider_installation {",
            "  filesystem_mirror {",
            f'    path    = "{mirror}"',
            '    include = ["registry.terraform.io/*/*"]',
            "  }",
            "  direct {",
            '    exclude = ["registry.terraform.io/*/*"]',
            "  }",
            "}",
        ]
    return "\n".join(lines) + "\n"


def setup() -> TerraformSetup:
    """Find terraform and write kmslab's CLI config; raises UsageError when terraform is missing."""
    binary = shutil.which("terraform")
    if binary is None:
        raise UsageError("terraform is not on PATH (install Terraform >= 1.5)")
    mirror = find_mirror()
    config = state_dir() / "terraformrc"
    text = render_config(mirror)
    if not config.exists() or config.read_text() != text:
        tmp = config.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(config)
    return TerraformSetup(binary=binary, config_file=config, mirror=mirror)
