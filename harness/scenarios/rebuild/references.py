"""Literals to references (`${principal.app.arn}`, ...) across the rebuilt setup and call."""

from __future__ import annotations

import copy
from typing import Any

from harness.scenarios.rebuild.keys import Keys
from harness.scenarios.rebuild.principals import Book


def rename_all(setup: dict[str, Any], call: dict[str, Any], book: Book, keys: Keys) -> None:
    """Literals to references everywhere but the account table; key policies cannot name
    their own key (it does not exist when CreateKey takes the policy)."""
    rename = book.rename
    key_refs = [v for v in rename.pairs.values() if v.startswith("${key.")]
    no_keys = rename.without(*key_refs)
    for name, spec in setup["keys"].items():
        own = keys.arns.get(name)
        for holder in [spec, *spec.get("replicas", {}).values()]:
            if "policy" in holder:
                doc = book.with_orphans(own_resource(holder["policy"], own))
                holder["policy"] = no_keys(doc)
                if own and own in str(holder["policy"]):
                    book.gap(
                        f"the key policy's mention of {own}",
                        "kept literal: the new key has another ARN",
                    )
    for section in (
        "principals",
        "grants",
        "aliases",
        "organization",
        "vpc_endpoints",
        "data",
        "investigator",
    ):
        if section in setup:
            setup[section] = rename(setup[section])
    for grant in setup.get("grants", []):
        if grant["grantee"] == "${principal.app.arn}":
            grant["grantee"] = "app"
    call.update(rename(call))


def own_resource(policy: dict[str, Any], own: str | None) -> dict[str, Any]:
    """In a key policy, Resource naming the key itself means this key, as "*" does
    (key-policy-overview.html: Resource "*" in a key policy is the key it is attached to)."""
    if not own:
        return policy
    doc = copy.deepcopy(policy)
    items = doc.get("Statement")
    for st in items if isinstance(items, list) else [items]:
        if isinstance(st, dict) and st.get("Resource") in (own, [own]):
            st["Resource"] = "*"
    return doc
