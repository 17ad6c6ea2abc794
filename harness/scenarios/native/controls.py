"""Lab controls: what a scenario sets that AWS resources cannot show."""

from __future__ import annotations

import copy
from typing import Any

from harness.scenarios.native.base import ProvisionerBase
from harness.scenarios.refs import ResolvedRefs, substitute

SCALAR_CONTROL_DEFAULTS: dict[str, Any] = {
    "grant_propagation_seconds": 0,
    "grant_quota": 50000,
    "health_events": [],
}


def controls_update(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The lab controls update (merged by the lab) that turns `old` into `new`; null unsets."""
    update: dict[str, Any] = {}
    for name in set(old) | set(new):
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        if isinstance(before, dict) or isinstance(after, dict):
            before, after = before or {}, after or {}
            update[name] = {
                k: after.get(k) for k in set(before) | set(after) if before.get(k) != after.get(k)
            }
        else:
            update[name] = after if after is not None else SCALAR_CONTROL_DEFAULTS.get(name)
    return update


class ControlsProvisioning(ProvisionerBase):
    def controls(self, setup: dict[str, Any], resolved: ResolvedRefs) -> dict[str, Any]:
        """Lab controls of a setup, references resolved, with transient key states added."""
        controls: dict[str, Any] = substitute(copy.deepcopy(setup["controls"]), resolved)
        states = {
            resolved.key[name]["arn"]: spec["state"]
            for name, spec in setup["keys"].items()
            if spec["state"] in ("Creating", "Updating")
        }
        if states:
            controls["key_states"] = {**controls.get("key_states", {}), **states}
        return controls

    def _controls(
        self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs
    ) -> None:
        old = self.controls(before, resolved) if before["keys"] or before["controls"] else {}
        update = controls_update(old, self.controls(after, resolved))
        if update and self.on_controls is not None:
            self.on_controls(update)
