"""What every part of the native provisioner shares: the operators' targets and their clients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.aws.clients import Target
from harness.lab.operator import operator_credentials

TargetFactory = Callable[[str, str], Target]


def lab_targets(endpoint: str) -> TargetFactory:
    """Operator credentials of the lab (harness.lab.operator; room mode included)."""

    def make(account_id: str, region: str) -> Target:
        creds = operator_credentials(endpoint, account_id)
        return Target(
            endpoint_url=endpoint,
            region=region,
            access_key_id=creds.access_key_id,
            secret_access_key=creds.secret_access_key,
        )

    return make


class ProvisionerBase:
    """The operators' boto3 clients, per service, account and Region."""

    def __init__(self, targets: TargetFactory, prefix: str = "") -> None:
        self.targets = targets
        self.prefix = prefix
        self._clients: dict[tuple[str, str, str], Any] = {}
        self.on_controls: Callable[[dict[str, Any]], object] | None = None

    def client(self, service: str, account_id: str, region: str) -> Any:
        cache_key = (service, account_id, region)
        if cache_key not in self._clients:
            # Shared across provisionings: the operators' credentials stay the same.
            self._clients[cache_key] = self.targets(account_id, region).shared_client(
                service, max_attempts=3
            )
        return self._clients[cache_key]
