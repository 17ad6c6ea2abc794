"""The lab endpoint (contract section 5): an AWS-compatible gateway in front of moto or
LocalStack that fails the way AWS fails.

    from harness.lab import LabServer, LabClient
    with LabServer(upstream="moto", port=0) as server:      # binds 127.0.0.1 only
        client = LabClient(server.endpoint)
        client.reset(); client.set_controls({"grant_propagation_seconds": 30})

What the lab serves itself and what it forwards:

- KMS: the lab's own model (harness/lab/kms), so key states, multi-Region replicas,
  imported material, custom key stores, grants and ciphertexts behave as in AWS on either
  upstream. Every call with issued credentials is authorized by harness.policy over the key
  policy, identity policies and boundary (read from the upstream's IAM), the session policy,
  SCPs of the caller's account and RCPs of the key owner's account (the lab organization;
  neither applies to the management account, as in AWS), the VPC endpoint policy (upstream EC2
  DescribeVpcEndpoints) and the grants effective for the request (propagation delay and grant
  tokens, lab controls). Then key state, key usage and ciphertext checks apply to everyone.
- STS AssumeRole / GetSessionToken / GetCallerIdentity: the lab issues and knows credentials.
  The role must exist; trust policies are not evaluated (operators provision and assume).
- IAM, EC2, CloudWatch Logs and anything else: forwarded to the upstream, re-signed as the
  caller's account operator; IAM CreateAccessKey results become enforced user credentials;
  deleting a role or user orphans it in key policies (unique id) and grants.
- Organizations (management account 111111111111, members 222222222222 and
  333333333333, SCP and RCP enabled), CloudTrail (events, LookupEvents, trails and delivery
  to CloudWatch Logs), Health (from controls) and JSON filter patterns of FilterLogEvents.

Controls: harness/lab/controls.py. Embedded moto keeps its state per process: one embedded
lab per process at a time (tests share one for the session and reset it).
"""

from __future__ import annotations

from harness.lab.client import LabClient
from harness.lab.server import LabServer

DEFAULT_ACCOUNTS = ("111111111111", "222222222222", "333333333333")
DEFAULT_REGION = "us-east-1"

__all__ = ["DEFAULT_ACCOUNTS", "DEFAULT_REGION", "LabClient", "LabServer"]
