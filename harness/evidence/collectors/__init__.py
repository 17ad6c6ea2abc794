"""One module per runbook Playbook step; importing this package registers every collector."""

from harness.evidence.collectors import (  # noqa: F401
    aliases,
    cloudtrail,
    health,
    identity,
    key,
    key_policy,
    key_store,
    logs,
    multi_region,
    organizations,
    policy_principals,
    rotation_grants,
    vpc_endpoints,
)
