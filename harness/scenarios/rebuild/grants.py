"""The key's grants: from ListGrants, else from CreateGrant events in CloudTrail."""

from __future__ import annotations

from typing import Any

from harness.aws import arns
from harness.scenarios.rebuild.evidence import Evidence
from harness.scenarios.rebuild.keys import Keys, logged_grants
from harness.scenarios.rebuild.names import logical
from harness.scenarios.rebuild.principals import Book


def grant_specs(ev: Evidence, book: Book, keys: Keys) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    taken: set[str] = set()
    listed = [g for read in ev.all("kms", "ListGrants") for g in read.response.get("Grants") or []]
    if not ev.all("kms", "ListGrants") and "data" in keys.arns:
        listed = logged_grants(ev, keys.arns["data"])
        if listed:
            book.gap(
                "grants",
                "ListGrants was not read or was refused; rebuilt from CreateGrant events in "
                "CloudTrail (less the revoked and retired ones)",
            )
    for grant in listed:
        key_name = keys.ids.get(str(grant.get("KeyId", "")).rsplit("/", 1)[-1], "data")
        if key_name not in keys.keys:
            continue
        grantee = str(grant.get("GranteePrincipal", ""))
        book.value(
            grantee, f"grant {grant.get('GrantId', '')}"
        ) if "amazonaws.com" not in grantee else None
        item: dict[str, Any] = {
            "name": logical(str(grant.get("Name") or f"grant_{len(out) + 1}"), taken, "g"),
            "key": key_name,
            "grantee": grantee,
            "operations": list(grant.get("Operations") or []),
        }
        if not item["operations"]:
            continue
        constraints = grant.get("Constraints") or {}
        kept = {
            k: v
            for k, v in constraints.items()
            if k in ("EncryptionContextSubset", "EncryptionContextEquals")
        }
        if kept:
            item["constraints"] = kept
        if grant.get("RetiringPrincipal"):
            retiring = str(grant["RetiringPrincipal"])
            if "amazonaws.com" not in retiring:
                book.value(retiring, "a grant's retiring principal")
            item["retiring_principal"] = retiring
        issuing = str(grant.get("IssuingAccount", "")).split(":")[-1]
        issuing = issuing if arns.is_account_id(issuing) else ""
        if (
            issuing
            and issuing != keys.keys[key_name].get("account")
            and issuing in book.accounts.values()
        ):
            item["account"] = book.account(issuing)
        out.append(item)
    return out
