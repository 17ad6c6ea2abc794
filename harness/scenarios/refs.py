"""`${kind.name.attr}` references in scenario data, resolved against what provisioning created."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from harness.errors import UsageError

REF = re.compile(r"\$\{([a-z_]+)\.([A-Za-z0-9_]+)(?:\.([a-z_]+))?\}")


@dataclass
class ResolvedRefs:
    """Names the lab gave to a scenario's logical resources (ARNs, ids, tokens)."""

    region: str = "us-east-1"
    account: dict[str, str] = field(default_factory=dict)
    key: dict[str, dict[str, str]] = field(default_factory=dict)
    principal: dict[str, dict[str, str]] = field(default_factory=dict)
    alias: dict[str, dict[str, str]] = field(default_factory=dict)
    vpce: dict[str, dict[str, str]] = field(default_factory=dict)
    grant: dict[str, dict[str, str]] = field(default_factory=dict)
    caller: dict[str, str] = field(default_factory=dict)
    org: dict[str, str] = field(default_factory=dict)
    ciphertext: dict[str, bytes] = field(default_factory=dict)
    # AWS managed keys the call used ("s3" for alias/aws/s3): AWS creates them, so their ids
    # are known only once the call has used them (Runner.attempt reads them as the operator).
    managed: dict[str, dict[str, str]] = field(default_factory=dict)
    prefix: str = ""

    def key_ref(self, value: str) -> str:
        """A literal alias name as the scenario wrote it, renamed by the name prefix."""
        if self.prefix and value.startswith("alias/") and not value.startswith("alias/aws/"):
            return "alias/" + self.prefix + value.removeprefix("alias/")
        return value

    def lookup(self, kind: str, name: str, attr: str | None) -> str:
        table = getattr(self, kind, None)
        if kind == "region":
            return self.region
        if (kind, name) == ("run", "prefix"):
            # The name prefix of this provisioning ("" unless names must stay apart).
            return self.prefix
        if not isinstance(table, dict) or kind == "ciphertext":
            raise UsageError(f"unknown reference kind ${{{kind}.{name}}}")
        if kind in ("account", "caller", "org"):
            value = table.get(name)
        else:
            entry = table.get(name)
            value = entry.get(attr or "arn") if entry else None
        if value is None:
            ref = ".".join(p for p in (kind, name, attr) if p)
            raise UsageError(f"reference ${{{ref}}} is not known in this setup")
        return str(value)


def substitute(value: Any, resolved: ResolvedRefs, *, regex: bool = False) -> Any:
    """Replace references in every string of `value`; in a regex the values are escaped."""
    if isinstance(value, str):

        def one(match: re.Match[str]) -> str:
            text = resolved.lookup(match.group(1), match.group(2), match.group(3))
            return re.escape(text) if regex else text

        return REF.sub(one, value)
    if isinstance(value, list):
        return [substitute(v, resolved, regex=regex) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, resolved, regex=regex) for k, v in value.items()}
    return value
