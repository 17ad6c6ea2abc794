"""A read-only view of an evidence bundle (contract section 3) shaped for the rules.

Calls are looked up by (service, operation, region) and tolerated when absent. Nothing here
decides anything; it only parses AWS response shapes once so that rules stay small. One module
per API family (`principal`, `key`, `iam`, `trail`, `org`, `network`), each a class of cached
properties over `calls.BundleFacts`; `Facts` is all of them, the interface the rules use.
"""

from __future__ import annotations

from harness.diagnosis.facts.calls import is_access_denied, parse_policy, parse_time, permission_for
from harness.diagnosis.facts.iam import IamFacts
from harness.diagnosis.facts.key import KeyFacts
from harness.diagnosis.facts.network import NetworkFacts
from harness.diagnosis.facts.org import OrgFacts

__all__ = ["Facts", "is_access_denied", "parse_policy", "parse_time", "permission_for"]


class Facts(KeyFacts, IamFacts, OrgFacts, NetworkFacts):
    """Every family of facts of one bundle."""
