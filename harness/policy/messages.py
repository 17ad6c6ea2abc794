"""AWS's AccessDenied text per layer (IAM User Guide, troubleshoot_access-denied.html).

Format: `User: <principal> is not authorized to perform: <action> on resource: <resource> <tail>`.
Implicit: `because no <type> policy allows the <action> action`; explicit:
`with an explicit deny in a <type> policy`. Quirks kept on purpose, as documented:
- an explicit session-policy deny says "sessions policy";
- an SCP denial always says "with an explicit deny in a service control policy", even when it is
  implicit;
- a permissions boundary is "permissions boundary", without "policy".
If several layers deny, AWS names only one; the evaluator names the first in layers.MESSAGE_ORDER.
"""

from __future__ import annotations

from harness.policy.layers import MESSAGE_ORDER

_IMPLICIT = {
    "key-policy": "because no resource-based policy allows the {a} action",
    "grant": "because no resource-based policy allows the {a} action",
    "identity": "because no identity-based policy allows the {a} action",
    "permissions-boundary": "because no permissions boundary allows the {a} action",
    "session": "because no session policy allows the {a} action",
    "scp": "with an explicit deny in a service control policy",
    # Unconfirmed [V] (catalog row 7): the 2023 IAM guide has no RCP example.
    "rcp": "because no resource control policy allows the {a} action",
    "vpc-endpoint": "because no VPC endpoint policy allows the {a} action",
}
_EXPLICIT = {
    "key-policy": "with an explicit deny in a resource-based policy",
    "identity": "with an explicit deny in an identity-based policy",
    "permissions-boundary": "with an explicit deny in a permissions boundary",
    "session": "with an explicit deny in a sessions policy",
    "scp": "with an explicit deny in a service control policy",
    # Unconfirmed [V] (catalog row 7).
    "rcp": "with an explicit deny in a resource control policy",
    "vpc-endpoint": "with an explicit deny in a VPC endpoint policy",
}
UNCONFIRMED = frozenset({"rcp"})


def first_layer(layers: list[str]) -> str:
    for layer in MESSAGE_ORDER:
        if layer in layers:
            return layer
    return layers[0]


def access_denied(principal: str, action: str, resource: str, layer: str, explicit: bool) -> str:
    tail = (_EXPLICIT if explicit else _IMPLICIT)[layer].format(a=action)
    return (
        f"User: {principal} is not authorized to perform: {action} on resource: {resource} {tail}"
    )
