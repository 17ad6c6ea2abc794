"""AWS Organizations policy types and the full-access policies AWS attaches everywhere."""

from __future__ import annotations

from typing import Any

SCP = "SERVICE_CONTROL_POLICY"
RCP = "RESOURCE_CONTROL_POLICY"
# The policy types the lab's organization knows (API_PolicyTypeSummary.html, Type).
POLICY_TYPES = (SCP, RCP, "TAG_POLICY", "BACKUP_POLICY", "AISERVICES_OPT_OUT_POLICY")
# The evaluator's layer names ("scp", "rcp") to the policy type Organizations filters by.
POLICY_TYPE_OF_LAYER = {"scp": SCP, "rcp": RCP}

# The AWS managed policy attached to the root, every OU and every account when a type is enabled
# (orgs_manage_policies_scps.html: FullAWSAccess; orgs_manage_policies_rcps.html:
# RCPFullAWSAccess, which cannot be detached). RCP statements must name Principal "*".
FULL_ACCESS_NAME = {SCP: "FullAWSAccess", RCP: "RCPFullAWSAccess"}
FULL_ACCESS_DOCUMENT: dict[str, dict[str, Any]] = {
    SCP: {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    },
    RCP: {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
    },
}
