"""The reference provisioning path: terraform/catalog applied from the same scenario data.

Terraform builds what it can express (keys with their policies and enabled flag, aliases,
roles and users with their policies and boundaries, grants, VPC endpoints, replicas); the
rest of a setup (ciphertexts made before the break, states Terraform cannot hold such as
PendingDeletion, organization policies, trails, lab controls) is applied afterwards by the
native provisioner as the difference between "what Terraform built" and the setup.

A key that is Disabled and encrypts data takes two applies: the first with every key
enabled (the data is encrypted in between), the second with the real states.

A fix can go the same way (`TerraformProvisioner.fix`): the fixed setup applied with Terraform,
the rest natively, as a team that keeps its keys in Terraform would repair them.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.aws.policies import default_key_policy
from harness.errors import EndpointError, UsageError
from harness.lab.operator import operator_secret
from harness.paths import state_dir, terraform_dir
from harness.scenarios import tfprogress
from harness.scenarios.model import Scenario
from harness.scenarios.native import (
    NativeProvisioner,
    TargetFactory,
    lab_targets,
    padded,
)
from harness.scenarios.refs import ResolvedRefs

LAB_ACCOUNTS = ["111111111111", "222222222222", "333333333333"]
REGIONS = ["us-east-1", "us-west-2"]
TF_STATES = ("Enabled", "Disabled")


def unsupported_reason(scenario: Scenario) -> str | None:
    """Why terraform/catalog cannot build this setup, or None."""
    declared = scenario.raw.get("terraform", {})
    if declared.get("supported") is False:
        return str(declared.get("reason", "declared unsupported"))
    setup = scenario.setup
    accounts = set(setup["accounts"].values())
    if not accounts <= set(LAB_ACCOUNTS):
        return "accounts outside the three lab accounts"
    if any(p.get("recreated") for p in setup["principals"].values()):
        return "a principal deleted and recreated needs two applies with a destroy between"
    if any(k.get("custom_key_store") for k in setup["keys"].values()):
        return "custom key stores need a CloudHSM cluster"
    regions = {k["region"] for k in setup["keys"].values()} | {setup["region"]}
    for key in setup["keys"].values():
        regions |= set(key.get("replicas", {}))
    if not regions <= set(REGIONS):
        return f"regions outside {REGIONS}"
    # AWS resources terraform/catalog does not declare: building them natively under
    # `--via terraform` would be a silent fallback.
    org = setup.get("organization", {})
    if org.get("scps") or org.get("rcps"):
        return "organization policies (SCPs, RCPs) are not in terraform/catalog"
    if setup.get("trails"):
        return "CloudTrail trails are not in terraform/catalog"
    return None


def refusals(scenarios: list[Scenario]) -> list[str]:
    """`id (reason)` for each scenario Terraform cannot build or whose fix it cannot apply."""
    out = []
    for scenario in scenarios:
        reason = unsupported_reason(scenario) or fix_unsupported_reason(scenario)
        if reason:
            out.append(f"{scenario.id} ({reason})")
    return out


def fix_unsupported_reason(scenario: Scenario) -> str | None:
    """Why the fix of this scenario cannot be applied with Terraform, or None."""
    reason = unsupported_reason(scenario) or unsupported_reason(scenario.fixed())
    if reason:
        return reason
    for setup in (scenario.setup, scenario.fixed().setup):
        for name, key in setup["keys"].items():
            if key["state"] not in TF_STATES:
                # The provider reads a key pending deletion as gone and would plan a new one.
                return f"key {name} is {key['state']}, a state Terraform does not hold"
    return None


def exclusive(scenario: Scenario) -> bool:
    """Setups that change the whole lab (organization policies, controls) cannot share it."""
    org = scenario.setup["organization"]
    return bool(org["scps"] or org["rcps"] or scenario.setup["controls"])


def terraform_view(setup: dict[str, Any], *, stage: str) -> dict[str, Any]:
    """The part of `setup` Terraform builds in `stage` ("prepare": every key enabled, no data)."""
    view = copy.deepcopy(setup)
    for key in view["keys"].values():
        if stage == "prepare" or key["state"] not in TF_STATES:
            key["state"] = "Enabled"
        for replica in key.get("replicas", {}).values():
            if stage == "prepare":
                replica["state"] = "Enabled"
    if stage == "prepare":
        view["data"] = {}
    view["organization"] = {"scps": [], "rcps": []}
    view["trails"] = []
    view["controls"] = {}
    return view


def material(scenario_id: str, key: str) -> str:
    """Key material for EXTERNAL keys, stable across applies so the key is not replaced."""
    return base64.b64encode(hashlib.sha256(f"{scenario_id}/{key}".encode()).digest()).decode()


def tf_setup(scenario: Scenario, view: dict[str, Any]) -> dict[str, Any]:
    """The setup as terraform/modules/scenario reads it: policies as JSON strings, flags set."""
    out = copy.deepcopy(view)
    for name, key in out["keys"].items():
        account_ref = "${account." + key["account"] + "}"
        policy = key.get("policy") or default_key_policy(account_ref)
        key["policy_json"] = json.dumps(padded(policy, key.get("policy_padding_bytes", 0)))
        key["is_enabled"] = key["state"] != "Disabled"
        if key["origin"] == "EXTERNAL":
            key["material_base64"] = material(scenario.id, name)
        for replica in key.get("replicas", {}).values():
            replica["policy_json"] = json.dumps(replica.get("policy") or policy)
        key.setdefault("replicas", {})
    for principal in out["principals"].values():
        principal["policies_json"] = [json.dumps(p) for p in principal["policies"]]
        principal["managed_policies_json"] = [json.dumps(p) for p in principal["managed_policies"]]
        if principal.get("boundary"):
            principal["boundary_json"] = json.dumps(principal["boundary"])
    for endpoint in out["vpc_endpoints"].values():
        if endpoint.get("policy"):
            endpoint["policy_json"] = json.dumps(endpoint["policy"])
    return out


def step_label(args: tuple[str, ...]) -> str:
    """ "apply (prepare)" for `apply ... -var-file=prepare.tfvars.json`."""
    stages = [a.rsplit("/", 1)[-1].split(".")[0] for a in args if a.startswith("-var-file=")]
    return f"{args[0]} ({stages[0]})" if stages else args[0]


@dataclass
class TerraformRun:
    """One working copy of terraform/ with its state, variables and logs."""

    endpoint: str | None
    workdir: Path = field(default_factory=lambda: state_dir() / "terraform" / "catalog-run")
    account_ids: list[str] = field(default_factory=lambda: list(LAB_ACCOUNTS))
    regions: list[str] = field(default_factory=lambda: list(REGIONS))
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.workdir / "terraform" / "catalog"

    def prepare(self, fresh: bool = True) -> None:
        if fresh and self.workdir.exists():
            shutil.rmtree(self.workdir)
        shutil.copytree(
            terraform_dir(),
            self.workdir / "terraform",
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", "compliance"),
        )
        self.terraform("init", "-input=false", "-no-color", "-backend=false")

    def terraform(self, *args: str) -> str:
        from harness.tfcli import setup

        tf = setup()
        start = time.perf_counter()
        env = tf.env()
        if self.endpoint:
            # In the environment, not the tfvars file: a room's secret is never written twice.
            env["TF_VAR_operator_secret"] = operator_secret(self.endpoint)
        progress = tfprogress.active()
        if progress is not None and args[0] in ("init", "plan", "apply", "destroy"):
            code, out, err = progress.run(
                [tf.binary, *args], cwd=self.root, env=env, label=step_label(args)
            )
            proc = subprocess.CompletedProcess(args, code, out, err)
        else:
            proc = subprocess.run(
                [tf.binary, *args],
                cwd=self.root,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
        self.timings[args[0]] = self.timings.get(args[0], 0.0) + time.perf_counter() - start
        if proc.returncode != 0:
            tail = " | ".join(
                line for line in proc.stderr.strip().splitlines()[-6:] if line.strip()
            )
            if "connection refused" in proc.stderr.lower():
                raise EndpointError(f"terraform {args[0]}: endpoint unreachable: {tail}")
            raise UsageError(f"terraform {args[0]} failed: {tail}")
        return proc.stdout

    def write_vars(self, scenarios: dict[str, tuple[Scenario, str]], stage: str) -> Path:
        data: dict[str, Any] = {
            "scenarios": {
                sid: {
                    "setup_json": json.dumps(tf_setup(s, terraform_view(s.setup, stage=stage))),
                    "prefix": prefix,
                }
                for sid, (s, prefix) in scenarios.items()
            },
            "account_ids": self.account_ids,
            "regions": self.regions,
        }
        if self.endpoint:
            data["endpoint"] = self.endpoint
        path = self.root / f"{stage}.tfvars.json"
        path.write_text(json.dumps(data))
        return path

    def plan_json(self, scenarios: dict[str, tuple[Scenario, str]]) -> str:
        """`terraform show -json` of the final-stage plan, on one line (terraform-compliance)."""
        vars_file = self.write_vars(scenarios, "final")
        self.terraform(
            "plan",
            "-input=false",
            "-no-color",
            "-refresh=false",
            f"-var-file={vars_file}",
            "-out=plan.bin",
        )
        return self.terraform("show", "-json", "plan.bin").strip()

    def apply(self, scenarios: dict[str, tuple[Scenario, str]], stage: str) -> dict[str, Any]:
        vars_file = self.write_vars(scenarios, stage)
        self.terraform(
            "apply",
            "-input=false",
            "-no-color",
            "-auto-approve",
            "-parallelism=20",
            f"-var-file={vars_file}",
        )
        outputs: dict[str, Any] = json.loads(self.terraform("output", "-json", "scenarios"))
        return outputs

    def state(self) -> dict[str, Any]:
        """`terraform show -json` of the state: what Terraform believes it built."""
        shown: dict[str, Any] = json.loads(self.terraform("show", "-json", "-no-color"))
        return shown

    def resources(self, kind: str) -> list[dict[str, Any]]:
        """The `values` of every resource of type `kind` in the state, in any module."""
        found: list[dict[str, Any]] = []
        pending = [self.state().get("values", {}).get("root_module", {})]
        while pending:
            module = pending.pop()
            found += [r["values"] for r in module.get("resources", []) if r["type"] == kind]
            pending += module.get("child_modules", [])
        return found


def resolved_from_outputs(scenario: Scenario, prefix: str, out: dict[str, Any]) -> ResolvedRefs:
    resolved = ResolvedRefs(
        region=scenario.setup["region"], account=dict(scenario.setup["accounts"]), prefix=prefix
    )
    resolved.key = {n: dict(v) for n, v in out.get("keys", {}).items()}
    resolved.principal = {n: dict(v) for n, v in out.get("principals", {}).items()}
    resolved.grant = {n: dict(v) for n, v in out.get("grants", {}).items()}
    resolved.vpce = {n: {"id": v} for n, v in out.get("vpce_ids", {}).items()}
    for alias, value in out.get("aliases", {}).items():
        short = alias.removeprefix("alias/").replace("-", "_").replace("/", "_")
        resolved.alias[short] = {"arn": value["arn"], "name": value["name"]}
    return resolved


class TerraformProvisioner:
    """Applies a set of scenarios in one Terraform run, then finishes each natively."""

    def __init__(
        self, endpoint: str | None, targets: TargetFactory, run: TerraformRun | None = None
    ) -> None:
        self.run = run or TerraformRun(endpoint)
        self.targets = targets
        self.on_controls: Any = None
        # What the last apply built: scenario id -> (scenario as applied, name prefix).
        self.batch: dict[str, tuple[Scenario, str]] = {}

    def prefixes(self, scenarios: list[Scenario]) -> dict[str, tuple[Scenario, str]]:
        if len(scenarios) == 1:
            return {scenarios[0].id: (scenarios[0], "")}
        return {s.id: (s, f"k{i:02d}-") for i, s in enumerate(scenarios)}

    def provision(
        self, scenarios: list[Scenario]
    ) -> dict[str, tuple[NativeProvisioner, ResolvedRefs]]:
        for scenario in scenarios:
            reason = unsupported_reason(scenario)
            if reason:
                raise UsageError(f"{scenario.id}: Terraform cannot build this setup ({reason})")
        batch = self.prefixes(scenarios)
        self.run.prepare()
        out: dict[str, tuple[NativeProvisioner, ResolvedRefs]] = {}
        needs_prepare = any(
            spec["state"] != "Enabled" and any(d["key"] == name for d in s.setup["data"].values())
            for s in scenarios
            for name, spec in s.setup["keys"].items()
        ) or any(
            r.get("state") == "Disabled"
            for s in scenarios
            for k in s.setup["keys"].values()
            for r in k.get("replicas", {}).values()
        )
        if needs_prepare:
            outputs = self.run.apply(batch, "prepare")
            for sid, (scenario, prefix) in batch.items():
                provisioner = self.native(prefix)
                resolved = resolved_from_outputs(scenario, prefix, outputs[sid])
                before = terraform_view(scenario.setup, stage="prepare")
                provisioner.apply(before, {**before, "data": scenario.setup["data"]}, resolved)
                out[sid] = (provisioner, resolved)
        outputs = self.run.apply(batch, "final")
        for sid, (scenario, prefix) in batch.items():
            provisioner, resolved = out.get(sid) or (self.native(prefix), None)  # type: ignore[assignment]
            fresh = resolved_from_outputs(scenario, prefix, outputs[sid])
            if resolved is None:
                resolved = fresh
                built = {**terraform_view(scenario.setup, stage="final"), "data": {}}
            else:
                resolved.key.update(fresh.key)
                resolved.grant.update(fresh.grant)
                built = terraform_view(scenario.setup, stage="final")
            provisioner.apply(built, scenario.setup, resolved)
            out[sid] = (provisioner, resolved)
        self.batch = batch
        return out

    def fix(
        self, scenario: Scenario, provisioner: NativeProvisioner, resolved: ResolvedRefs
    ) -> Scenario:
        """Apply `scenario`'s fix: one Terraform apply of the batch with the fixed setup, then
        natively what Terraform does not build. Returns the fixed scenario."""
        reason = fix_unsupported_reason(scenario)
        if reason:
            raise UsageError(f"{scenario.id}: Terraform cannot apply this fix ({reason})")
        if scenario.id not in self.batch:
            raise UsageError(f"{scenario.id}: not provisioned by this Terraform run")
        fixed = scenario.fixed()
        prefix = self.batch[scenario.id][1]
        batch = {**self.batch, scenario.id: (fixed, prefix)}
        outputs = self.run.apply(batch, "final")
        self.batch = batch
        fresh = resolved_from_outputs(fixed, prefix, outputs[scenario.id])
        for table in ("key", "principal", "grant", "vpce", "alias"):
            mine, theirs = getattr(resolved, table), getattr(fresh, table)
            for name, entry in theirs.items():
                mine.setdefault(name, {}).update(entry)
        # The lab now holds Terraform's view of the fixed setup and, for everything else,
        # what the native provisioner built before the fix.
        built = terraform_view(fixed.setup, stage="final")
        for part in ("data", "organization", "trails", "controls"):
            built[part] = copy.deepcopy(scenario.setup[part])
        provisioner.apply(built, fixed.setup, resolved)
        return fixed

    def native(self, prefix: str) -> NativeProvisioner:
        provisioner = NativeProvisioner(self.targets, prefix=prefix)
        provisioner.on_controls = self.on_controls
        return provisioner


def lab_target_factory(endpoint: str) -> TargetFactory:
    return lab_targets(endpoint)
