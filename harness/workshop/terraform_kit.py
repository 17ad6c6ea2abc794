"""A Terraform working directory over a participant's current setup, to fix it by editing.

The setup was built with boto3, so the kit adopts it with `import` blocks (Terraform >= 1.5):
one `aws_kms_key_policy` per key and one `aws_iam_role_policy` / `aws_iam_user_policy` per
inline policy of the exercise's principals, each holding the policy as it is now. The
participant edits a policy, then `terraform init && terraform apply` with the fixer settings
in the environment (the provider reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
AWS_SESSION_TOKEN like the AWS CLI). Key state (EnableKey) stays a CLI fix: an imported
`aws_kms_key` would also manage every other attribute of the key.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from harness.scenarios.native import NativeProvisioner
from harness.scenarios.refs import ResolvedRefs
from harness.workshop.views import _all, _doc

SERVICES = ("kms", "iam", "sts")


def _name(*parts: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", "_".join(parts).lower())


def _heredoc(policy: Any) -> str:
    text = json.dumps(policy, indent=2)
    return "<<-EOT\n" + "\n".join("    " + line for line in text.splitlines()) + "\n  EOT"


def provider_block(endpoint: str, region: str) -> str:
    endpoints = "\n".join(f"    {s} = {json.dumps(endpoint)}" for s in SERVICES)
    return f"""terraform {{
  required_version = ">= 1.5"
  required_providers {{
    aws = {{ source = "hashicorp/aws" }}
  }}
}}

# Credentials: paste the fixer settings (`kmslab workshop env --as fixer`) into this shell.
provider "aws" {{
  region                      = {json.dumps(region)}
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {{
{endpoints}
  }}
}}
"""


def resource(kind: str, name: str, import_id: str, attrs: dict[str, str], policy: Any) -> str:
    lines = [f"import {{\n  to = {kind}.{name}\n  id = {json.dumps(import_id)}\n}}\n"]
    lines.append(f'resource "{kind}" "{name}" {{')
    for attr, value in attrs.items():
        lines.append(f"  {attr} = {json.dumps(value)}")
    lines.append(f"  policy = {_heredoc(policy)}")
    lines.append("}\n")
    return "\n".join(lines)


def render(
    provisioner: NativeProvisioner,
    setup: dict[str, Any],
    resolved: ResolvedRefs,
    account_id: str,
    endpoint: str,
) -> str:
    """main.tf for what the exercise has in `account_id`, as the lab holds it now."""
    parts = [provider_block(endpoint, setup["region"])]
    for name in setup["keys"]:
        key = resolved.key.get(name)
        if key is None or key["account"] != account_id:
            continue
        kms = provisioner.client("kms", account_id, key["region"])
        policy = json.loads(kms.get_key_policy(KeyId=key["arn"], PolicyName="default")["Policy"])
        parts.append(f"# Key {name!r}: {key['arn']}")
        parts.append(
            resource("aws_kms_key_policy", _name(name), key["id"], {"key_id": key["id"]}, policy)
        )
    for name in setup["principals"]:
        info = resolved.principal.get(name)
        if info is None or info["account"] != account_id:
            continue
        iam = provisioner.client("iam", account_id, setup["region"])
        kind = info["type"]
        method, arg = (
            ("list_role_policies", "RoleName")
            if kind == "role"
            else ("list_user_policies", "UserName")
        )
        for policy_name in _all(iam, method, "PolicyNames", **{arg: info["name"]}):
            if kind == "role":
                got = iam.get_role_policy(RoleName=info["name"], PolicyName=policy_name)
            else:
                got = iam.get_user_policy(UserName=info["name"], PolicyName=policy_name)
            parts.append(f"# Inline policy {policy_name!r} of {kind} {info['arn']}")
            parts.append(
                resource(
                    f"aws_iam_{kind}_policy",
                    _name(name, policy_name),
                    f"{info['name']}:{policy_name}",
                    {"name": policy_name, kind: info["name"]},
                    _doc(got["PolicyDocument"]),
                )
            )
    return "\n".join(parts)


def write_kit(
    provisioner: NativeProvisioner,
    setup: dict[str, Any],
    resolved: ResolvedRefs,
    account_id: str,
    endpoint: str,
    out: Path,
) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "main.tf"
    path.write_text(render(provisioner, setup, resolved, account_id, endpoint), encoding="utf-8")
    return path
