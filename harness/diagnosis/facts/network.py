"""Around the call: the VPC endpoint it came through and open AWS Health events for KMS."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from harness.diagnosis.facts.calls import BundleFacts


class NetworkFacts(BundleFacts):
    @cached_property
    def source_vpce(self) -> str | None:
        v = self.context.get("aws:SourceVpce") or self.context.get("aws:sourcevpce")
        return str(v) if v else None

    @cached_property
    def vpc_endpoint(self) -> dict[str, Any] | None:
        if not self.source_vpce:
            return None
        for call in self.find("ec2", "DescribeVpcEndpoints"):
            for ep in (call.response or {}).get("VpcEndpoints") or []:
                if isinstance(ep, dict) and ep.get("VpcEndpointId") == self.source_vpce:
                    return ep
        return None

    @cached_property
    def health_events(self) -> list[dict[str, Any]]:
        out = []
        for call in self.find("health", "DescribeEvents"):
            for ev in (call.response or {}).get("events") or []:
                if (
                    isinstance(ev, dict)
                    and str(ev.get("service", "")).upper() == "KMS"
                    and ev.get("region") in (None, "", self.region)
                    and ev.get("statusCode", "open") == "open"
                ):
                    out.append(ev)
        return out
