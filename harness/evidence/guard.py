"""The read-only guard: a botocore hook that refuses any operation outside an allow-list.

Installed on every client the collectors use, before anything is sent, so a bug or a
future collector cannot change an account under investigation.
"""

from __future__ import annotations

from typing import Any

from harness.aws.operations import READ_ONLY_OPERATIONS
from harness.errors import KmslabError


class ReadOnlyViolation(KmslabError):
    """A collector tried to call an operation that is not on the read-only allow-list."""


def operation_name(service: str, operation: str) -> str:
    return f"{service}:{operation}"


def install_guard(client: Any, service: str) -> None:
    """Refuse non-allow-listed operations on `client` before they are serialised or sent."""

    def refuse(model: Any, **_: Any) -> None:
        name = operation_name(service, model.name)
        if name not in READ_ONLY_OPERATIONS:
            raise ReadOnlyViolation(f"refused {name}: evidence collection is read-only")

    client.meta.events.register_first("before-parameter-build.*.*", refuse)
