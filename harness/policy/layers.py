"""The evaluator's layer names (contract section 2), and the two orders kmslab reads them in.

Every module that names layers imports them from here: the evaluator, AWS's AccessDenied wording,
and the finding-code registry (a code's ``layer``).
"""

from __future__ import annotations

# Contract section 2's names, in the order the evaluator lists the layers that deny.
LAYERS: tuple[str, ...] = (
    "key-policy",
    "grant",
    "identity",
    "permissions-boundary",
    "session",
    "scp",
    "rcp",
    "vpc-endpoint",
)

# When several layers deny, AWS's message names only one; the evaluator's message names the first
# of these (the organization's guardrails first, as IAM evaluates them;
# reference_policies_evaluation-logic.html). A grant is worded as the key policy, so it has no
# place of its own here.
MESSAGE_ORDER: tuple[str, ...] = (
    "scp",
    "rcp",
    "key-policy",
    "identity",
    "permissions-boundary",
    "session",
    "vpc-endpoint",
)
