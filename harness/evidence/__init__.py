"""Read-only evidence collection for a failing KMS call (contract section 3).

from harness.evidence import collect, InvestigationRequest
bundle = collect(InvestigationRequest(principal=..., action="kms:Decrypt", key=...), target)
"""

from harness.aws.operations import READ_ONLY_OPERATIONS
from harness.evidence.collect import CollectionResult, CollectOptions, collect, run_collection
from harness.evidence.guard import ReadOnlyViolation
from harness.evidence.registered import collectors, investigator_policy
from harness.evidence.request import InvestigationRequest

__all__ = [
    "READ_ONLY_OPERATIONS",
    "CollectOptions",
    "CollectionResult",
    "InvestigationRequest",
    "ReadOnlyViolation",
    "collect",
    "collectors",
    "investigator_policy",
    "run_collection",
]
