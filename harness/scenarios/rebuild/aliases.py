"""Aliases in every account and Region the bundle read."""

from __future__ import annotations

import re
from typing import Any

from harness.scenarios.rebuild.evidence import Evidence
from harness.scenarios.rebuild.keys import ALIAS_ARN, Keys
from harness.scenarios.rebuild.principals import Book


def alias_specs(ev: Evidence, book: Book, keys: Keys) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()
    for read in ev.all("kms", "ListAliases"):
        for alias in read.response.get("Aliases") or []:
            name, target = str(alias.get("AliasName", "")), alias.get("TargetKeyId")
            if not name.startswith("alias/") or name.startswith("alias/aws/") or not target:
                continue
            match = ALIAS_ARN.match(str(alias.get("AliasArn", "")))
            region = match.group(1) if match else (read.region or keys.region)
            account = match.group(2) if match else (read.account or book.caller.account)
            if (account, region, name) in seen:
                continue
            seen.add((account, region, name))
            key_name = keys.ids.get(str(target))
            if key_name is not None:
                spec = keys.keys[key_name]
                if (book.accounts[spec["account"]], spec["region"]) != (account, region):
                    key_name = None
            if key_name is None:
                arn = f"arn:aws:kms:{region}:{account}:key/{target}"
                key_name = keys.stand_in(arn, f"the target of {name} in {account} {region}")
            if key_name is None or not re.fullmatch(r"alias/[A-Za-z0-9/_-]+", name):
                book.gap(
                    f"alias {name} in {account} {region}", "its name or target cannot be rebuilt"
                )
                continue
            out.append({"name": name, "key": key_name})
    return out
