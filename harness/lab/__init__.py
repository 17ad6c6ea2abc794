"""The lab endpoint (contract section 5): an AWS-compatible gateway in front of moto or
LocalStack that fails the way AWS fails.

    from harness.lab import LabServer, LabClient
    with LabServer(upstream="moto", port=0) as server:
        client = LabClient(server.endpoint)
        client.reset(); client.set_controls({"grant_propagation_seconds": 30})
"""

from __future__ import annotations

from harness.lab.client import LabClient
from harness.lab.server import LabServer

DEFAULT_ACCOUNTS = ("111111111111", "222222222222", "333333333333")
DEFAULT_REGION = "us-east-1"

__all__ = ["DEFAULT_ACCOUNTS", "DEFAULT_REGION", "LabClient", "LabServer"]
