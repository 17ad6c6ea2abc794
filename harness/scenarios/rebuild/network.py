"""VPC endpoints the call came through or the bundle described, with their policies."""

from __future__ import annotations

from typing import Any

from harness.scenarios.rebuild.evidence import Evidence, document
from harness.scenarios.rebuild.names import logical
from harness.scenarios.rebuild.principals import Book

DEFAULT_VPCE_POLICY_ACTIONS = {"*", "kms:*"}


def vpc_endpoints(ev: Evidence, book: Book, account: str) -> tuple[dict[str, Any], dict[str, str]]:
    wanted = str((ev.request.get("context") or {}).get("aws:SourceVpce") or "")
    found: dict[str, dict[str, Any]] = {}
    for read in ev.all("ec2", "DescribeVpcEndpoints"):
        for endpoint in read.response.get("VpcEndpoints") or []:
            if endpoint.get("VpcEndpointId"):
                found[str(endpoint["VpcEndpointId"])] = {**endpoint, "_region": read.region}
    ids = sorted(found) if found else []
    if wanted and wanted not in found:
        ids.append(wanted)
        book.gap(
            f"VPC endpoint {wanted}",
            "the call came through it but DescribeVpcEndpoints did not show it; rebuilt "
            "with the default (full access) policy",
        )
    out: dict[str, Any] = {}
    names: dict[str, str] = {}
    for vpce_id in ids:
        endpoint = found.get(vpce_id, {})
        name = logical(f"vpce_{len(out) + 1}", set(out))
        owner = str(endpoint.get("OwnerId") or account)
        spec: dict[str, Any] = {"account": book.account(owner)}
        if endpoint.get("_region"):
            spec["region"] = endpoint["_region"]
        policy = document(endpoint.get("PolicyDocument"))
        if policy is not None and not full_access(policy):
            spec["policy"] = policy
            book.principal_values(policy, f"the policy of VPC endpoint {vpce_id}")
        out[name] = spec
        names[vpce_id] = name
        book.rename.add(vpce_id, "${vpce." + name + ".id}")
    return out, names


def full_access(policy: dict[str, Any]) -> bool:
    items = policy.get("Statement")
    items = items if isinstance(items, list) else [items]
    return (
        len(items) == 1
        and isinstance(items[0], dict)
        and items[0].get("Effect") == "Allow"
        and items[0].get("Principal") in ("*", {"AWS": "*"})
        and str(items[0].get("Action")) in DEFAULT_VPCE_POLICY_ACTIONS
        and items[0].get("Resource") == "*"
        and "Condition" not in items[0]
    )
