"""Where the project's data lives, found from the package location or KMSLAB_HOME."""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """The checkout root: scenarios/, terraform/ and features/ live here."""
    env = os.environ.get("KMSLAB_HOME")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parent.parent


def scenarios_dir() -> Path:
    return repo_root() / "scenarios"


def terraform_dir() -> Path:
    return repo_root() / "terraform"


def state_dir() -> Path:
    """Runtime state (pid files, Terraform work dirs, caches); ignored by git."""
    path = Path(os.environ.get("KMSLAB_STATE_DIR", repo_root() / ".kmslab"))
    path.mkdir(parents=True, exist_ok=True)
    return path
