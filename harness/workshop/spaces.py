"""A participant's isolated space on a shared lab: its own lab accounts.

The lab keeps KMS, IAM and every other service's data per account, so giving each
participant fresh account ids isolates them without renaming any resource: two people on
the same exercise both have `alias/billing-data` and a role `app`, in different accounts.

`map_scenario` moves a catalog scenario onto a space: every logical account gets the
space's id (literal ids in policies and controls included), and organization policies,
which live in the one lab organization, get names unique to the space and are attached to
the space's accounts instead of the organization root, which every participant shares.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from harness.scenarios.model import Scenario

ACCOUNT_PREFIX = "7"
MAX_SPACE = 9_999_999
# Space 0 is never handed out: its first account is the "someone else" of legitimacy checks.
OUTSIDER_ACCOUNT = f"{ACCOUNT_PREFIX}{0:07d}{0:04d}"


def space_accounts(space: int, names: list[str]) -> dict[str, str]:
    """Logical account name -> a 12-digit id that belongs to `space` alone."""
    if not 1 <= space <= MAX_SPACE:
        raise ValueError(f"space {space} out of range")
    return {name: f"{ACCOUNT_PREFIX}{space:07d}{i + 1:04d}" for i, name in enumerate(names)}


def logical_accounts(scenario: Scenario) -> dict[str, str]:
    """The scenario's logical accounts and the ids the catalog gives them."""
    return dict(scenario.setup["accounts"])


def _replace_ids(value: Any, ids: dict[str, str]) -> Any:
    text = json.dumps(value)
    # One pass over all ids so a mapping never rewrites an id another mapping produced.
    for old, new in ids.items():
        text = text.replace(old, f"\x00{new}\x00")
    return json.loads(text.replace("\x00", ""))


def _org_policies(setup: dict[str, Any], space: int) -> None:
    org = setup.get("organization") or {}
    accounts = list((setup.get("accounts") or {}).keys())
    for section in ("scps", "rcps"):
        out = []
        for policy in org.get(section, []):
            base = f"{policy['name'][:22]}_s{space}"
            if policy["target"] == "root":
                # Each account gets the root policy, named apart, so the effect is the same
                # for this participant and nobody else's accounts are touched.
                for i, account in enumerate(accounts):
                    out.append({**policy, "name": f"{base}_{i}", "target": account})
            else:
                out.append({**policy, "name": base})
        if section in org:
            org[section] = out


def map_scenario(scenario: Scenario, space: int) -> tuple[Scenario, dict[str, str]]:
    """The scenario moved onto `space`, and its logical account -> id mapping."""
    logical = logical_accounts(scenario)
    mapping = space_accounts(space, list(logical))
    ids = {old: mapping[name] for name, old in logical.items()}
    raw = _replace_ids(copy.deepcopy(scenario.raw), ids)
    setup = raw.setdefault("setup", {})
    setup["accounts"] = dict(mapping)
    _org_policies(setup, space)
    fix_setup = raw.get("fix", {}).get("setup")
    if isinstance(fix_setup, dict) and "organization" in fix_setup:
        fix_setup["accounts"] = dict(mapping)
        _org_policies(fix_setup, space)
    return Scenario(raw, scenario.path), mapping
