"""ARN helpers for principals and keys (IAM reference_policies_identifiers.html shapes)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_ARN = re.compile(
    r"^arn:(?P<partition>[^:]*):(?P<service>[^:]*):(?P<region>[^:]*):(?P<account>[^:]*):(?P<resource>.*)$"
)
_ACCOUNT = re.compile(r"^\d{12}$")
_KEY_ID = re.compile(
    r"^(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)


@dataclass(frozen=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str

    @property
    def resource_type(self) -> str:
        return self.resource.split("/", 1)[0].split(":", 1)[0]

    @property
    def resource_id(self) -> str:
        if "/" in self.resource:
            return self.resource.split("/", 1)[1]
        return self.resource.split(":", 1)[1] if ":" in self.resource else self.resource


def parse(text: str | None) -> Arn | None:
    if not text or not isinstance(text, str):
        return None
    m = _ARN.match(text)
    if not m:
        return None
    return Arn(**m.groupdict())


def is_account_id(text: str) -> bool:
    return bool(_ACCOUNT.match(text))


def is_key_id(text: str) -> bool:
    return bool(_KEY_ID.match(text))


def account_of(text: str | None) -> str | None:
    if text and is_account_id(text):
        return text
    arn = parse(text)
    return arn.account or None if arn else None


def region_of(text: str | None) -> str | None:
    arn = parse(text)
    return arn.region or None if arn else None


@dataclass(frozen=True)
class Principal:
    """A caller as IAM names it: kind is role, assumed-role, user, root, federated or other."""

    arn: str
    account: str
    kind: str
    name: str
    session: str = ""
    path: str = "/"

    @property
    def role_arn(self) -> str | None:
        """The IAM role ARN behind an assumed-role session (path unknown from the session ARN)."""
        if self.kind == "assumed-role":
            return f"arn:aws:iam::{self.account}:role/{self.name}"
        if self.kind == "role":
            return self.arn
        return None


def principal(text: str) -> Principal:
    arn = parse(text)
    if arn is None:
        if is_account_id(text):
            return Principal(text, text, "root", "root")
        return Principal(text, "", "other", text)
    res = arn.resource
    if arn.service == "sts" and res.startswith("assumed-role/"):
        parts = res.split("/")
        name = parts[1] if len(parts) > 1 else ""
        session = "/".join(parts[2:])
        return Principal(text, arn.account, "assumed-role", name, session=session)
    if arn.service == "iam" and res == "root":
        return Principal(text, arn.account, "root", "root")
    if arn.service == "iam" and res.startswith(("role/", "user/")):
        kind, _, rest = res.partition("/")
        name = rest.rsplit("/", 1)[-1]
        path = "/" + rest[: -len(name)] if "/" in rest else "/"
        return Principal(text, arn.account, kind, name, path=path)
    if arn.service == "sts" and res.startswith("federated-user/"):
        return Principal(text, arn.account, "federated", res.partition("/")[2])
    return Principal(text, arn.account, "other", res)
