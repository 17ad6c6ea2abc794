"""VPC endpoints and their policies."""

from __future__ import annotations

import json
from typing import Any

from harness.scenarios.native.base import ProvisionerBase
from harness.scenarios.refs import ResolvedRefs, substitute


class NetworkProvisioning(ProvisionerBase):
    def _new_vpc_endpoints(
        self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs
    ) -> None:
        """Endpoints exist before keys (key policies may name them); policies come later."""
        for name, spec in after["vpc_endpoints"].items():
            if name in before["vpc_endpoints"]:
                continue
            account_id = after["accounts"][spec["account"]]
            ec2 = self.client("ec2", account_id, spec["region"])
            vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
            endpoint = ec2.create_vpc_endpoint(
                VpcEndpointType="Interface",
                VpcId=vpc,
                ServiceName=f"com.amazonaws.{spec['region']}.kms",
            )["VpcEndpoint"]
            resolved.vpce[name] = {"id": endpoint["VpcEndpointId"], "vpc": vpc}

    def _vpc_endpoints(
        self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs
    ) -> None:
        for name, spec in after["vpc_endpoints"].items():
            old = before["vpc_endpoints"].get(name, {})
            account_id = after["accounts"][spec["account"]]
            ec2 = self.client("ec2", account_id, spec["region"])
            policy = (
                json.dumps(substitute(spec["policy"], resolved)) if spec.get("policy") else None
            )
            if old.get("policy") != spec.get("policy"):
                vpce_id = resolved.vpce[name]["id"]
                if policy:
                    ec2.modify_vpc_endpoint(VpcEndpointId=vpce_id, PolicyDocument=policy)
                else:
                    ec2.modify_vpc_endpoint(VpcEndpointId=vpce_id, ResetPolicy=True)
