"""The fast provisioning path: boto3 calls with operator credentials, no Terraform.

`apply(before, after)` moves the lab from one setup to another, so building a scenario
is `apply(EMPTY, setup)` and applying its fix is `apply(setup, fixed setup)`: the fix is
verified by exactly the calls a person would make.

One module per resource kind (`org`, `principals`, `keys`, `network`, `aliases`, `data`,
`grants`, `trails`, `controls`), each a mixin over `base.ProvisionerBase`; `NativeProvisioner`
combines them and `apply` decides the order.
"""

from __future__ import annotations

from typing import Any

from harness.scenarios import org_units
from harness.scenarios.model import normalize_setup
from harness.scenarios.native.aliases import AliasProvisioning
from harness.scenarios.native.base import TargetFactory, lab_targets
from harness.scenarios.native.controls import ControlsProvisioning, controls_update
from harness.scenarios.native.data import PLAINTEXT, DataProvisioning
from harness.scenarios.native.grants import GrantProvisioning
from harness.scenarios.native.keys import KeyProvisioning, padded
from harness.scenarios.native.network import NetworkProvisioning
from harness.scenarios.native.org import OrgProvisioning
from harness.scenarios.native.principals import PrincipalProvisioning
from harness.scenarios.native.trails import TrailProvisioning
from harness.scenarios.refs import ResolvedRefs

__all__ = [
    "PLAINTEXT",
    "NativeProvisioner",
    "TargetFactory",
    "controls_update",
    "lab_targets",
    "padded",
]

EMPTY: dict[str, Any] = normalize_setup({"accounts": {}})


class NativeProvisioner(
    OrgProvisioning,
    PrincipalProvisioning,
    KeyProvisioning,
    NetworkProvisioning,
    AliasProvisioning,
    DataProvisioning,
    GrantProvisioning,
    TrailProvisioning,
    ControlsProvisioning,
):
    """Builds, changes and fixes a scenario's setup with boto3 as the accounts' operators."""

    # -- entry points -------------------------------------------------------------------

    def provision(self, setup: dict[str, Any]) -> ResolvedRefs:
        resolved = ResolvedRefs(
            region=setup["region"], account=dict(setup["accounts"]), prefix=self.prefix
        )
        self.apply(EMPTY, setup, resolved)
        return resolved

    def apply(self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs) -> None:
        resolved.account.update(after["accounts"])
        resolved.region = after["region"]
        self._org(before, after, resolved)
        org_units.build_units(self, before, after, resolved)
        self._principals(before, after, resolved)
        self._new_vpc_endpoints(before, after, resolved)
        self._keys(before, after, resolved)
        self._boundaries(before, after, resolved)  # after keys: a boundary may name the key
        self._recreate(before, after, resolved)
        self._aliases(before, after, resolved)
        self._vpc_endpoints(before, after, resolved)
        self._identity_policies(before, after, resolved)
        self._data(before, after, resolved)
        self._grants(before, after, resolved)
        self._org_policies(before, after, resolved)
        org_units.detach_full_access(self, before, after, resolved)
        self._trails(before, after, resolved)
        self._key_states(before, after, resolved)
        self._controls(before, after, resolved)
