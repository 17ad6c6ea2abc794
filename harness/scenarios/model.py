"""A scenario as loaded from its file: the validated data plus defaults, and its fixed twin."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNTS = {"app": "111111111111"}
# The principal name a setup's `investigator` section is built under.
INVESTIGATOR = "investigator"


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch: objects merge, null removes, everything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merge_patch(result.get(name), value)
    return result


def normalize_setup(setup: dict[str, Any]) -> dict[str, Any]:
    """Fill in the defaults the schema documents, so provisioners never guess."""
    out = copy.deepcopy(setup)
    region = out.setdefault("region", DEFAULT_REGION)
    accounts = out.setdefault("accounts", dict(DEFAULT_ACCOUNTS))
    home = "app" if "app" in accounts or not accounts else next(iter(accounts))
    for key in out.setdefault("keys", {}).values():
        key.setdefault("account", home)
        key.setdefault("region", region)
        key.setdefault("spec", "SYMMETRIC_DEFAULT")
        key.setdefault("usage", "ENCRYPT_DECRYPT")
        key.setdefault("origin", "AWS_KMS")
        key.setdefault("state", "Enabled")
        key.setdefault("multi_region", bool(key.get("replicas")))
    investigator = out.get("investigator")
    if investigator is not None:
        # Built like any role, so both provisioners and the fix's merge patch reach it.
        out.setdefault("principals", {})[INVESTIGATOR] = {
            "type": "role",
            "account": investigator.get("account", home),
            "name": investigator.get("name", "kmslab-investigator"),
            "policies": investigator.get("policies", []),
            "managed_policies": investigator.get("managed_policies", []),
            **({"boundary": investigator["boundary"]} if "boundary" in investigator else {}),
        }
    for name, principal in out.setdefault("principals", {}).items():
        principal.setdefault("type", "role")
        principal.setdefault("account", home)
        principal.setdefault("name", name)
        principal.setdefault("path", "/")
        principal.setdefault("policies", [])
        principal.setdefault("managed_policies", [])
    out.setdefault("aliases", [])
    for grant in out.setdefault("grants", []):
        grant.setdefault("account", out["keys"].get(grant["key"], {}).get("account", home))
    org = out.setdefault("organization", {})
    org.setdefault("scps", [])
    org.setdefault("rcps", [])
    for vpce in out.setdefault("vpc_endpoints", {}).values():
        vpce.setdefault("account", home)
        vpce.setdefault("region", region)
    for trail in out.setdefault("trails", []):
        trail.setdefault("account", home)
    out.setdefault("data", {})
    out.setdefault("controls", {})
    return out


def normalize_call(call: dict[str, Any], setup: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(call)
    out.setdefault("region", setup["region"])
    out.setdefault("session_name", f"kmslab-{out['principal']}")
    out.setdefault("encryption_context", {})
    out.setdefault("grant_tokens", [])
    out.setdefault("attempts", 1)
    return out


@dataclass
class Scenario:
    """A validated scenario; `setup` and `call` carry defaults, `raw` is the file's data."""

    raw: dict[str, Any]
    path: Path | None = None
    setup: dict[str, Any] = field(init=False)
    call: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.setup = normalize_setup(self.raw.get("setup", {}))
        self.call = normalize_call(self.raw["call"], self.setup)

    @property
    def id(self) -> str:
        return str(self.raw["id"])

    @property
    def title(self) -> str:
        return str(self.raw["title"])

    @property
    def runbook_step(self) -> int | str:
        value: int | str = self.raw["runbook_step"]
        return value

    @property
    def control(self) -> bool:
        return bool(self.raw.get("control", False))

    @property
    def expected(self) -> dict[str, Any]:
        value: dict[str, Any] = self.raw["expected"]
        return value

    @property
    def expected_error(self) -> dict[str, str] | None:
        value: dict[str, str] | None = self.expected.get("error")
        return value

    @property
    def expected_finding(self) -> str:
        return str(self.expected["finding"])

    @property
    def fix(self) -> dict[str, Any]:
        value: dict[str, Any] = self.raw["fix"]
        return value

    @property
    def branch(self) -> str:
        """The catalog folder (runbook branch) the file lives in."""
        return self.path.parent.name if self.path is not None else "imported"

    @property
    def unconfirmed(self) -> list[str]:
        return list(self.raw.get("unconfirmed", []))

    @property
    def not_rebuilt(self) -> list[dict[str, str]]:
        """What a scenario rebuilt from an evidence bundle could not recreate, and why."""
        return [dict(item) for item in self.raw.get("not_rebuilt", [])]

    @property
    def lab_gap(self) -> str | None:
        gap = self.raw.get("lab_gap")
        return str(gap) if gap else None

    @property
    def key_admin_reads(self) -> str | None:
        """Why the key's side is read by its administrators rather than the investigator."""
        why = self.raw.get("key_admin_reads")
        return str(why) if why else None

    @property
    def investigator(self) -> str | None:
        """The principal evidence is collected as, when the setup restricts the investigator."""
        return INVESTIGATOR if "investigator" in self.setup else None

    @property
    def terraform_supported(self) -> bool:
        return bool(self.raw.get("terraform", {}).get("supported", True))

    def fixed(self) -> Scenario:
        """The scenario after its fix: setup and call patched, and the call expected to succeed."""
        raw = copy.deepcopy(self.raw)
        raw["setup"] = merge_patch(raw.get("setup", {}), self.fix.get("setup", {}))
        raw["call"] = merge_patch(raw["call"], self.fix.get("call", {}))
        raw["expected"] = {"error": None, "finding": "NO_FAULT_FOUND"}
        return Scenario(raw, self.path)

    def summary(self) -> dict[str, Any]:
        """The contract's `scenarios list --format json` entry."""
        error = self.expected_error
        return {
            "id": self.id,
            "title": self.title,
            "runbook_step": self.runbook_step,
            "expected_error": error["code"] if error else None,
            "expected_finding": self.expected_finding,
            "control": self.control,
        }
