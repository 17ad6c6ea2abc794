"""The organization as the bundle read it: OUs, where each account sits, SCPs and RCPs per level.

Organizations attaches FullAWSAccess (and RCPFullAWSAccess) to the root, every OU and every
account when the policy type is enabled (orgs_manage_policies_scps.html, rcps); the lab does
the same, so those are rebuilt by leaving them in place, and a level where the bundle shows
them missing (an allow-list strategy) is rebuilt by detaching them there.
"""

from __future__ import annotations

from typing import Any

from harness.aws.organizations import FULL_ACCESS_NAME, RCP, SCP
from harness.scenarios.rebuild.evidence import Evidence, document
from harness.scenarios.rebuild.names import logical
from harness.scenarios.rebuild.principals import Book

FULL_ACCESS = FULL_ACCESS_NAME
SECTION = {SCP: "scps", RCP: "rcps"}


def organization(ev: Evidence, book: Book) -> dict[str, Any]:
    parents: dict[str, str] = {}
    for read in ev.all("organizations", "ListParents"):
        found = read.response.get("Parents") or []
        if found and read.params.get("ChildId"):
            parents[str(read.params["ChildId"])] = str(found[0].get("Id"))
    if not parents:
        if ev.was_refused("organizations", "ListParents"):
            book.gap(
                "organization structure",
                "ListParents was refused, so where the account sits (and its SCPs and RCPs "
                "per level) is unknown",
            )
        return {}
    units: dict[str, dict[str, Any]] = {}
    ou_names: dict[str, str] = {}
    taken: set[str] = set()

    def target_name(target: str) -> str:
        if target.startswith("r-"):
            return "root"
        if target.startswith("ou-"):
            if target not in ou_names:
                ou_names[target] = logical(f"ou_{len(ou_names) + 1}", taken)
            return ou_names[target]
        return book.account(target)

    for child, parent in parents.items():
        name = target_name(child)
        if child.startswith("ou-"):
            units.setdefault(name, {"accounts": []})["parent"] = target_name(parent)
        elif parent.startswith("ou-"):
            units.setdefault(target_name(parent), {"accounts": []})["accounts"].append(name)
    for unit in units.values():
        unit.setdefault("parent", "root")
    contents: dict[str, str] = {}
    for read in ev.all("organizations", "DescribePolicy"):
        policy = read.response.get("Policy") or {}
        pid = read.params.get("PolicyId") or (policy.get("PolicySummary") or {}).get("Id")
        if pid and policy.get("Content"):
            contents[str(pid)] = str(policy["Content"])
    out: dict[str, Any] = {"scps": [], "rcps": [], "detached": []}
    if units:
        out["units"] = units
    seen: set[tuple[str, str]] = set()
    for read in ev.all("organizations", "ListPoliciesForTarget"):
        target, ptype = str(read.params.get("TargetId", "")), str(read.params.get("Filter", ""))
        if ptype not in SECTION or (target, ptype) in seen:
            continue
        seen.add((target, ptype))
        where = target_name(target)
        listed = read.response.get("Policies") or []
        if not any(p.get("Name") == FULL_ACCESS[ptype] and p.get("AwsManaged") for p in listed):
            out["detached"].append({"policy": FULL_ACCESS[ptype], "target": where})
        for pol in listed:
            if pol.get("AwsManaged") and pol.get("Name") == FULL_ACCESS[ptype]:
                continue
            doc = document(contents.get(str(pol.get("Id"))))
            label = (
                f"{ptype.lower().replace('_', ' ')} {pol.get('Name') or pol.get('Id')} on {target}"
            )
            if doc is None:
                book.gap(label, "its content was not read (DescribePolicy missing or refused)")
                continue
            names = {p["name"] for p in out[SECTION[ptype]]}
            out[SECTION[ptype]].append(
                {
                    "name": logical(str(pol.get("Name") or pol.get("Id")), names),
                    "document": doc,
                    "target": where,
                }
            )
    if not out["detached"]:
        del out["detached"]
    return out


# The AccessDenied phrases that name an organization policy (IAM troubleshoot_access-denied.html).
_ORG_PHRASES = {
    "explicit deny in a service control policy": ("scps", "Deny"),
    "no service control policy allows": ("scps", "NoAllow"),
    "explicit deny in a resource control policy": ("rcps", "Deny"),
    "no resource control policy allows": ("rcps", "NoAllow"),
}


def stand_in(ev: Evidence, book: Book, org: dict[str, Any], action: str) -> dict[str, Any]:
    """When the error names an SCP or RCP the bundle could not read (a member account cannot
    call ListParents), a stand-in policy at the account's own level that fails the same way."""
    observed = ev.request.get("observed_error") or {}
    text = str(observed.get("message", "")).lower()
    for phrase, (section, effect) in _ORG_PHRASES.items():
        if phrase not in text or org.get(section):
            continue
        # SCPs limit the caller's account; RCPs limit the resource's (the key's) account.
        account = book.caller.account if section == "scps" else book.key_account
        target = book.account(account)
        if effect == "Deny":
            statement = {"Sid": "StandInForObservedDeny", "Effect": "Deny", "Action": action}
        else:
            statement = {"Sid": "StandInAllowList", "Effect": "Allow", "NotAction": action}
            full = "FullAWSAccess" if section == "scps" else "RCPFullAWSAccess"
            org.setdefault("detached", []).append({"policy": full, "target": target})
        if section == "rcps":
            statement["Principal"] = "*"
        statement["Resource"] = "*"
        org.setdefault(section, []).append(
            {
                "name": "observed_" + section[:-1],
                "document": {"Version": "2012-10-17", "Statement": [statement]},
                "target": target,
            }
        )
        book.gap(
            f"the {section[:-1].upper()}s that apply to account {account}",
            "the bundle could not read them; rebuilt as a stand-in policy at the account's "
            f"level that matches the observed error ({phrase})",
        )
    return org
