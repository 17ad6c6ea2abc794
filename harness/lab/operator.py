"""Operator credentials for a lab: the one place kmslab's own code gets them.

Outside room mode (contract section 5) any secret works for an operator, so kmslab signs with
a fixed one. A lab started with `kmslab lab up --room` generates a secret at start and writes
it to a 0600 file in the state directory, keyed by the lab's port; every kmslab component
that acts as an operator (LabClient, the native and Terraform provisioners, the runner, the
workshop) asks `operator_credentials(endpoint, account)` and so keeps working in both modes.

Lookup order for the secret of `endpoint`: the room file of its port (written by the lab that
listens there), then `KMSLAB_OPERATOR_SECRET` (a lab on another machine or state directory),
then the default secret.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from harness.paths import state_dir

SECRET_ENV = "KMSLAB_OPERATOR_SECRET"
# Any secret is accepted outside room mode; this one only makes kmslab's signatures stable.
DEFAULT_SECRET = "kmslab-operator"


@dataclass(frozen=True)
class OperatorCredentials:
    """What boto3, Terraform or the AWS CLI need to act as a lab account's administrator."""

    access_key_id: str
    secret_access_key: str

    def as_boto3(self) -> dict[str, str]:
        return {
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
        }


def _port(endpoint: str) -> int:
    parts = urlsplit(endpoint if "//" in endpoint else f"http://{endpoint}")
    return parts.port or (443 if parts.scheme == "https" else 80)


def room_secret_file(endpoint: str) -> Path:
    """Where a room lab listening at `endpoint` keeps its operator secret (mode 0600)."""
    return state_dir() / "rooms" / f"operator-secret-{_port(endpoint)}"


def operator_secret(endpoint: str) -> str:
    """The operator secret the lab at `endpoint` accepts (see the module doc for the order)."""
    path = room_secret_file(endpoint)
    try:
        secret = path.read_text().strip()
    except OSError:
        secret = ""
    return secret or os.environ.get(SECRET_ENV) or DEFAULT_SECRET


def operator_credentials(endpoint: str, account: str = "111111111111") -> OperatorCredentials:
    """Operator credentials of `account` for the lab at `endpoint`, in room mode or not."""
    return OperatorCredentials(access_key_id=account, secret_access_key=operator_secret(endpoint))


def new_room_secret() -> str:
    return secrets.token_urlsafe(32)


def write_room_secret(endpoint: str, secret: str) -> Path:
    """Write the room secret readable by its owner only; created 0600, never world-readable."""
    path = room_secret_file(endpoint)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, (secret + "\n").encode())
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def remove_room_secret(endpoint: str, secret: str) -> None:
    """Remove the file if it still holds this lab's secret (another lab may have replaced it)."""
    path = room_secret_file(endpoint)
    try:
        if path.read_text().strip() == secret:
            path.unlink()
    except OSError:
        return
