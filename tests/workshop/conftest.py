"""A lab in this process for the workshop tests, and the two command lines a participant uses:
`kmslab` and the real AWS CLI (.venv/bin/aws), both as subprocesses."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.lab import LabServer

ROOT = Path(__file__).resolve().parents[2]
CATALOG = Path(__file__).resolve().parent / "catalog"
AWS_CLI = ROOT / ".venv" / "bin" / "aws"


@pytest.fixture(scope="module")
def lab() -> Iterator[LabServer]:
    server = LabServer(upstream="moto", port=0).start()
    yield server
    server.stop()


@dataclass
class Shell:
    """A participant's terminal: environment for kmslab, and pasted AWS settings."""

    endpoint: str
    state_dir: Path
    home: Path

    def base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "KMSLAB_"))}
        env["KMSLAB_STATE_DIR"] = str(self.state_dir)
        env["KMSLAB_WORKSHOP_CATALOG"] = str(CATALOG)
        # No participant's own AWS configuration may leak into the run.
        env["AWS_CONFIG_FILE"] = str(self.home / "aws-config")
        env["AWS_SHARED_CREDENTIALS_FILE"] = str(self.home / "aws-credentials")
        env["AWS_EC2_METADATA_DISABLED"] = "true"
        return env

    def kmslab(
        self, *args: str, participant: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = self.base_env()
        if participant:
            env["KMSLAB_PARTICIPANT"] = participant
        return subprocess.run(
            [sys.executable, "-m", "harness", "workshop", *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def aws(self, settings: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
        env = self.base_env()
        env.update(settings)
        return subprocess.run(
            [str(AWS_CLI), *args, "--output", "json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )


@pytest.fixture()
def shell(lab: LabServer, tmp_path: Path) -> Shell:
    home = tmp_path / "home"
    home.mkdir()
    return Shell(endpoint=lab.endpoint, state_dir=tmp_path / "state", home=home)


def pasted_settings(output: str) -> dict[str, dict[str, str]]:
    """The `export` blocks printed by `workshop start`, by block title, as a shell would set them."""
    blocks: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in output.splitlines():
        if line.startswith("# "):
            current = blocks.setdefault(line[2:], {})
        elif line.startswith("export ") and current is not None:
            name, _, value = line.removeprefix("export ").partition("=")
            current[name] = shlex.split(value)[0]
    return blocks


def block(blocks: dict[str, dict[str, str]], prefix: str) -> dict[str, str]:
    found = [v for k, v in blocks.items() if k.startswith(prefix)]
    assert len(found) == 1, f"expected one settings block starting {prefix!r}, got {list(blocks)}"
    return found[0]


def ok_json(proc: subprocess.CompletedProcess[str]) -> Any:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout) if proc.stdout.strip() else {}
