"""What a participant pastes into a shell: the lab endpoint and lab-issued credentials."""

from __future__ import annotations

import shlex
from typing import Any

ROLE_TITLES = {
    "investigator": "Investigate (read-only)",
    "fixer": "Change the setup (fix)",
}


def env_lines(endpoint: str, region: str, creds: dict[str, str]) -> list[str]:
    """`export` lines for the AWS CLI (and Terraform's AWS provider, which reads the same)."""
    values = [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_REGION", region),
        ("AWS_DEFAULT_REGION", region),
        ("AWS_ACCESS_KEY_ID", creds["access_key_id"]),
        ("AWS_SECRET_ACCESS_KEY", creds["secret_access_key"]),
        ("AWS_SESSION_TOKEN", creds["session_token"]),
    ]
    # A profile or a config file of the participant's own would override nothing of these,
    # but an AWS_PROFILE left set makes the CLI prefer the profile: clear it.
    return [f"export {name}={shlex.quote(value)}" for name, value in values] + ["unset AWS_PROFILE"]


def env_dict(endpoint: str, region: str, creds: dict[str, str]) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": creds["access_key_id"],
        "AWS_SECRET_ACCESS_KEY": creds["secret_access_key"],
        "AWS_SESSION_TOKEN": creds["session_token"],
    }


def settings_text(
    record: dict[str, Any], roles: tuple[str, ...] = ("investigator", "fixer")
) -> str:
    """Every credential block of a participant's exercise, one per role and account."""
    out: list[str] = []
    for role in roles:
        for name, creds in record["credentials"][role].items():
            account = creds["account"]
            out.append(f"# {ROLE_TITLES[role]}: account {name} ({account}) as {creds['arn']}")
            out += env_lines(record["endpoint"], record["region"], creds)
            out.append("")
    return "\n".join(out).rstrip() + "\n"
