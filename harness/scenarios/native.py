"""The fast provisioning path: boto3 calls with operator credentials, no Terraform.

`apply(before, after)` moves the lab from one setup to another, so building a scenario
is `apply(EMPTY, setup)` and applying its fix is `apply(setup, fixed setup)`: the fix is
verified by exactly the calls a person would make.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import os
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from harness.aws.clients import Target
from harness.aws.policies import default_key_policy
from harness.lab.operator import operator_credentials
from harness.scenarios import org_units
from harness.scenarios.model import normalize_setup
from harness.scenarios.refs import ResolvedRefs, substitute

EMPTY: dict[str, Any] = normalize_setup({"accounts": {}})
PLAINTEXT = b"kmslab scenario data"
TRUST_POLICY_TEMPLATE = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::{account}:root"},
            "Action": "sts:AssumeRole",
        }
    ],
}

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


def padded(policy: dict[str, Any], size: int) -> dict[str, Any]:
    """Grow a policy to `size` bytes with a statement that matches nothing real."""
    if size <= 0:
        return policy
    out = copy.deepcopy(policy)
    statements = out["Statement"] if isinstance(out["Statement"], list) else [out["Statement"]]
    filler: dict[str, Any] = {
        "Sid": "Padding",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
        "Action": "kms:DescribeKey",
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:EncryptionContext:padding": ""}},
    }
    statements.append(filler)
    out["Statement"] = statements
    missing = size - len(json.dumps(out))
    if missing > 0:
        filler["Condition"]["StringEquals"]["kms:EncryptionContext:padding"] = "x" * missing
    return out


SCALAR_CONTROL_DEFAULTS: dict[str, Any] = {
    "grant_propagation_seconds": 0,
    "grant_quota": 50000,
    "health_events": [],
}


def controls_update(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The lab controls update (merged by the lab) that turns `old` into `new`; null unsets."""
    update: dict[str, Any] = {}
    for name in set(old) | set(new):
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        if isinstance(before, dict) or isinstance(after, dict):
            before, after = before or {}, after or {}
            update[name] = {
                k: after.get(k) for k in set(before) | set(after) if before.get(k) != after.get(k)
            }
        else:
            update[name] = after if after is not None else SCALAR_CONTROL_DEFAULTS.get(name)
    return update


class NativeProvisioner:
    """Builds, changes and fixes a scenario's setup with boto3 as the accounts' operators."""

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

    # -- entry points -------------------------------------------------------------------

    def provision(self, setup: dict[str, Any]) -> ResolvedRefs:
        resolved = ResolvedRefs(
            region=setup["region"], account=dict(setup["accounts"]), prefix=self.prefix
        )
        self.apply(EMPTY, setup, resolved)
        return resolved

    def apply(self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs) -> None:
        resolved.account.update(after["accounts"])
        resolved.region = after["region"]
        self._org(before, after, resolved)
        org_units.build_units(self, before, after, resolved)
        self._principals(before, after, resolved)
        self._new_vpc_endpoints(before, after, resolved)
        self._keys(before, after, resolved)
        self._boundaries(before, after, resolved)  # after keys: a boundary may name the key
        self._recreate(before, after, resolved)
        self._aliases(before, after, resolved)
        self._vpc_endpoints(before, after, resolved)
        self._identity_policies(before, after, resolved)
        self._data(before, after, resolved)
        self._grants(before, after, resolved)
        self._org_policies(before, after, resolved)
        org_units.detach_full_access(self, before, after, resolved)
        self._trails(before, after, resolved)
        self._key_states(before, after, resolved)
        self._controls(before, after, resolved)

    # -- organization -------------------------------------------------------------------

    def _management(self, after: dict[str, Any]) -> str:
        return os.environ.get("KMSLAB_ORG_MANAGEMENT_ACCOUNT", "111111111111")

    def _org(self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs) -> None:
        org = after["organization"]
        needs = org["scps"] or org["rcps"] or org.get("units") or org.get("detached")
        needs = needs or "${org." in json.dumps(after)
        if not needs or resolved.org:
            return
        orgs = self.client("organizations", self._management(after), after["region"])
        try:
            desc = orgs.describe_organization()["Organization"]
        except orgs.exceptions.AWSOrganizationsNotInUseException:
            desc = orgs.create_organization(FeatureSet="ALL")["Organization"]
        roots = orgs.list_roots()["Roots"]
        resolved.org = {"id": desc["Id"], "root": roots[0]["Id"]}
        for policy_type in ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"):
            enabled = {
                p["Type"] for p in roots[0].get("PolicyTypes", []) if p["Status"] == "ENABLED"
            }
            if policy_type not in enabled:
                # Some upstreams enable every type without listing it; enabling twice fails there.
                with contextlib.suppress(ClientError):
                    orgs.enable_policy_type(RootId=roots[0]["Id"], PolicyType=policy_type)
        known = set()
        for page in orgs.get_paginator("list_accounts").paginate():
            known |= {a["Id"] for a in page["Accounts"]}
        # Accounts that SCPs or RCPs target join the organization so the policies reach them;
        # the others stay where they are, so a partner outside the organization stays outside.
        targets = {p["target"] for p in org["scps"] + org["rcps"]}
        for name, account_id in after["accounts"].items():
            if account_id not in known and name in targets:
                with contextlib.suppress(ClientError):
                    orgs.invite_account_to_organization(
                        Target={"Id": account_id, "Type": "ACCOUNT"}
                    )

    # -- principals ---------------------------------------------------------------------

    def _principals(
        self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs
    ) -> None:
        for name, spec in after["principals"].items():
            old = before["principals"].get(name)
            account_id = after["accounts"][spec["account"]]
            iam = self.client("iam", account_id, after["region"])
            if old is None:
                self._create_principal(iam, name, spec, account_id, resolved)

    def _boundaries(
        self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs
    ) -> None:
        for name, spec in after["principals"].items():
            old = before["principals"].get(name)
            if spec.get("boundary") != (old or {}).get("boundary"):
                account_id = after["accounts"][spec["account"]]
                iam = self.client("iam", account_id, after["region"])
                self._set_boundary(iam, name, spec, account_id, resolved)

    def _create_principal(
        self, iam: Any, name: str, spec: dict[str, Any], account_id: str, resolved: ResolvedRefs
    ) -> None:
        if spec["type"] == "role":
            trust = json.loads(json.dumps(TRUST_POLICY_TEMPLATE).replace("{account}", account_id))
            role = iam.create_role(
                RoleName=self.prefix + spec["name"],
                Path=spec["path"],
                AssumeRolePolicyDocument=json.dumps(trust),
            )["Role"]
            resolved.principal[name] = {
                "arn": role["Arn"],
                "name": role["RoleName"],
                "unique_id": role["RoleId"],
                "account": account_id,
                "type": "role",
            }
        else:
            user = iam.create_user(UserName=self.prefix + spec["name"], Path=spec["path"])["User"]
            resolved.principal[name] = {
                "arn": user["Arn"],
                "name": user["UserName"],
                "unique_id": user["UserId"],
                "account": account_id,
                "type": "user",
            }

    def _set_boundary(
        self, iam: Any, name: str, spec: dict[str, Any], account_id: str, resolved: ResolvedRefs
    ) -> None:
        ident = self.prefix + spec["name"]
        is_role = spec["type"] == "role"
        boundary = spec.get("boundary")
        if boundary is None:
            if is_role:
                iam.delete_role_permissions_boundary(RoleName=ident)
            else:
                iam.delete_user_permissions_boundary(UserName=ident)
            return
        doc = json.dumps(substitute(boundary, resolved))
        count = len(resolved.principal[name].get("boundaries", "")) + 1
        # The first one has Terraform's name (modules/account), so both paths show the same
        # evidence; a changed boundary is a new policy here, a new version in Terraform.
        policy_name = f"{ident}-boundary" if count == 1 else f"{ident}-boundary-{count}"
        arn = iam.create_policy(PolicyName=policy_name, PolicyDocument=doc)["Policy"]["Arn"]
        resolved.principal[name]["boundaries"] = "x" * count
        if is_role:
            iam.put_role_permissions_boundary(RoleName=ident, PermissionsBoundary=arn)
        else:
            iam.put_user_permissions_boundary(UserName=ident, PermissionsBoundary=arn)

    def _recreate(
        self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs
    ) -> None:
        """Delete and recreate principals whose key policy entries should be orphaned ids."""
        for name, spec in after["principals"].items():
            if not spec.get("recreated") or before["principals"].get(name, {}).get("recreated"):
                continue
            account_id = after["accounts"][spec["account"]]
            iam = self.client("iam", account_id, after["region"])
            previous = resolved.principal[name]["unique_id"]
            ident = self.prefix + spec["name"]
            if spec["type"] == "role":
                if spec.get("boundary") is not None:
                    iam.delete_role_permissions_boundary(RoleName=ident)
                iam.delete_role(RoleName=ident)
            else:
                if spec.get("boundary") is not None:
                    iam.delete_user_permissions_boundary(UserName=ident)
                iam.delete_user(UserName=ident)
            self._create_principal(iam, name, spec, account_id, resolved)
            resolved.principal[name]["previous_unique_id"] = previous
            if spec.get("boundary") is not None:
                self._set_boundary(iam, name, spec, account_id, resolved)

    def _identity_policies(
        self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs
    ) -> None:
        for name, spec in after["principals"].items():
            old = before["principals"].get(name, {})
            account_id = after["accounts"][spec["account"]]
            iam = self.client("iam", account_id, after["region"])
            ident = self.prefix + spec["name"]
            is_role = spec["type"] == "role"
            fresh = old.get("recreated") != spec.get("recreated")
            if fresh or old.get("policies") != spec["policies"]:
                old_count = 0 if fresh else len(old.get("policies", []))
                for i, doc in enumerate(spec["policies"]):
                    text = json.dumps(substitute(doc, resolved))
                    if is_role:
                        iam.put_role_policy(
                            RoleName=ident, PolicyName=f"inline-{i}", PolicyDocument=text
                        )
                    else:
                        iam.put_user_policy(
                            UserName=ident, PolicyName=f"inline-{i}", PolicyDocument=text
                        )
                for i in range(len(spec["policies"]), old_count):
                    if is_role:
                        iam.delete_role_policy(RoleName=ident, PolicyName=f"inline-{i}")
                    else:
                        iam.delete_user_policy(UserName=ident, PolicyName=f"inline-{i}")
            if fresh or old.get("managed_policies") != spec["managed_policies"]:
                attached = json.loads(resolved.principal[name].get("managed", "[]"))
                for arn in attached:
                    if is_role:
                        iam.detach_role_policy(RoleName=ident, PolicyArn=arn)
                    else:
                        iam.detach_user_policy(UserName=ident, PolicyArn=arn)
                arns = []
                base = len(attached)
                for i, doc in enumerate(spec["managed_policies"]):
                    text = json.dumps(substitute(doc, resolved))
                    arn = iam.create_policy(
                        PolicyName=f"{ident}-managed-{base + i}", PolicyDocument=text
                    )["Policy"]["Arn"]
                    if is_role:
                        iam.attach_role_policy(RoleName=ident, PolicyArn=arn)
                    else:
                        iam.attach_user_policy(UserName=ident, PolicyArn=arn)
                    arns.append(arn)
                resolved.principal[name]["managed"] = json.dumps(arns)

    # -- keys ---------------------------------------------------------------------------

    def key_policy(self, spec: dict[str, Any], account_id: str, resolved: ResolvedRefs) -> str:
        policy = spec.get("policy") or default_key_policy(account_id)
        policy = padded(substitute(policy, resolved), spec.get("policy_padding_bytes", 0))
        return json.dumps(policy)

    def _keys(self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs) -> None:
        for name, spec in after["keys"].items():
            old = before["keys"].get(name)
            account_id = after["accounts"][spec["account"]]
            kms = self.client("kms", account_id, spec["region"])
            if old is None:
                self._create_key(kms, name, spec, account_id, resolved)
            elif (old.get("policy"), old.get("policy_padding_bytes")) != (
                spec.get("policy"),
                spec.get("policy_padding_bytes"),
            ):
                kms.put_key_policy(
                    KeyId=resolved.key[name]["arn"],
                    PolicyName="default",
                    Policy=self.key_policy(spec, account_id, resolved),
                    BypassPolicyLockoutSafetyCheck=True,
                )
            old_replicas = (old or {}).get("replicas", {})
            for region, replica in spec.get("replicas", {}).items():
                policy = self.key_policy({**spec, **replica}, account_id, resolved)
                if region not in old_replicas:
                    kms.replicate_key(
                        KeyId=resolved.key[name]["arn"],
                        ReplicaRegion=region,
                        Policy=policy,
                        BypassPolicyLockoutSafetyCheck=True,
                    )
                    arn = resolved.key[name]["arn"].replace(f":{spec['region']}:", f":{region}:")
                    resolved.key[f"{name}_{region.replace('-', '_')}"] = {
                        "arn": arn,
                        "id": resolved.key[name]["id"],
                        "account": account_id,
                        "region": region,
                    }
                elif old_replicas[region].get("policy") != replica.get("policy"):
                    self.client("kms", account_id, region).put_key_policy(
                        KeyId=resolved.key[name]["id"],
                        PolicyName="default",
                        Policy=policy,
                        BypassPolicyLockoutSafetyCheck=True,
                    )

    def _create_key(
        self, kms: Any, name: str, spec: dict[str, Any], account_id: str, resolved: ResolvedRefs
    ) -> None:
        params: dict[str, Any] = {
            "Policy": self.key_policy(spec, account_id, resolved),
            "KeySpec": spec["spec"],
            "KeyUsage": spec["usage"],
            "Description": spec.get("description", f"kmslab {name}"),
            "MultiRegion": bool(spec.get("multi_region")),
            "BypassPolicyLockoutSafetyCheck": True,
        }
        store = spec.get("custom_key_store")
        if spec.get("tags"):
            params["Tags"] = [{"TagKey": k, "TagValue": v} for k, v in spec["tags"].items()]
        if spec["origin"] != "AWS_KMS":
            params["Origin"] = spec["origin"]
        if store:
            params["CustomKeyStoreId"] = self._key_store(kms, store)
        meta = kms.create_key(**params)["KeyMetadata"]
        resolved.key[name] = {
            "arn": meta["Arn"],
            "id": meta["KeyId"],
            "account": account_id,
            "region": spec["region"],
        }
        if spec["origin"] == "EXTERNAL":
            self._import_material(kms, meta["Arn"], resolved, name)
        if spec.get("rotation"):
            kms.enable_key_rotation(KeyId=meta["Arn"])

    def _key_store(self, kms: Any, store: dict[str, Any]) -> str:
        name = store.get("name", "kmslab-store")
        for existing in kms.describe_custom_key_stores().get("CustomKeyStores", []):
            if existing["CustomKeyStoreName"] == name:
                return str(existing["CustomKeyStoreId"])
        created = kms.create_custom_key_store(
            CustomKeyStoreName=name,
            CloudHsmClusterId="cluster-kmslabxyzab",
            TrustAnchorCertificate="kmslab-trust-anchor",
            KeyStorePassword="kmslab-password",
        )
        store_id = str(created["CustomKeyStoreId"])
        kms.connect_custom_key_store(CustomKeyStoreId=store_id)
        return store_id

    def _import_material(self, kms: Any, arn: str, resolved: ResolvedRefs, name: str) -> None:
        """Wrap 32 random bytes with the import public key and import them (RSAES_OAEP_SHA_256)."""
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        params = kms.get_parameters_for_import(
            KeyId=arn, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048"
        )
        public = serialization.load_der_public_key(params["PublicKey"])
        assert isinstance(public, rsa.RSAPublicKey)
        material = resolved.key[name].get("material")
        raw = base64.b64decode(material) if material else os.urandom(32)
        resolved.key[name]["material"] = base64.b64encode(raw).decode()
        wrapped = public.encrypt(
            raw,
            padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
        )
        kms.import_key_material(
            KeyId=arn,
            ImportToken=params["ImportToken"],
            EncryptedKeyMaterial=wrapped,
            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
        )

    def _key_states(
        self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs
    ) -> None:
        for name, spec in after["keys"].items():
            old_state = before["keys"].get(name, {}).get("state", "Enabled")
            new_state = spec["state"]
            account_id = after["accounts"][spec["account"]]
            kms = self.client("kms", account_id, spec["region"])
            arn = resolved.key[name]["arn"]
            if old_state != new_state:
                self._leave_state(kms, arn, old_state, spec, resolved, name)
                self._enter_state(kms, arn, new_state, spec)
            old_replicas = before["keys"].get(name, {}).get("replicas", {})
            for region, replica in spec.get("replicas", {}).items():
                was = old_replicas.get(region, {}).get("state", "Enabled")
                now = replica.get("state", "Enabled")
                if was != now:
                    regional = self.client("kms", account_id, region)
                    rarn = arn.replace(f":{spec['region']}:", f":{region}:")
                    if now == "Disabled":
                        regional.disable_key(KeyId=rarn)
                    else:
                        regional.enable_key(KeyId=rarn)

    def _leave_state(
        self,
        kms: Any,
        arn: str,
        state: str,
        spec: dict[str, Any],
        resolved: ResolvedRefs,
        name: str,
    ) -> None:
        if state == "PendingDeletion":
            kms.cancel_key_deletion(KeyId=arn)  # the key comes back Disabled (deleting-keys.html)
            kms.enable_key(KeyId=arn)
        elif state == "Disabled":
            kms.enable_key(KeyId=arn)
        elif state == "PendingImport":
            self._import_material(kms, arn, resolved, name)
        elif state == "Unavailable":
            store_id = kms.describe_key(KeyId=arn)["KeyMetadata"]["CustomKeyStoreId"]
            kms.connect_custom_key_store(CustomKeyStoreId=store_id)

    def _enter_state(self, kms: Any, arn: str, state: str, spec: dict[str, Any]) -> None:
        if state == "Disabled":
            kms.disable_key(KeyId=arn)
        elif state == "PendingDeletion":
            kms.schedule_key_deletion(
                KeyId=arn, PendingWindowInDays=spec.get("deletion_window_days", 7)
            )
        elif state == "PendingImport":
            kms.delete_imported_key_material(KeyId=arn)
        elif state == "Unavailable":
            store_id = kms.describe_key(KeyId=arn)["KeyMetadata"]["CustomKeyStoreId"]
            kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
        # Creating and Updating are transient in AWS; the lab holds them through its controls.

    # -- aliases, endpoints, data, grants -----------------------------------------------

    def _aliases(
        self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs
    ) -> None:
        # An alias name is unique per account and Region only: the same name may exist in
        # several accounts (catalog row 14), so an alias is (name, account, Region).
        def where(aliases: list[dict[str, Any]]) -> dict[tuple[str, str, str], str]:
            out = {}
            for a in aliases:
                key = resolved.key[a["key"]]
                out[(resolved.key_ref(a["name"]), key["account"], key["region"])] = a["key"]
            return out

        old, new = where(before["aliases"]), where(after["aliases"])
        for (alias, account, region), key_name in new.items():
            key = resolved.key[key_name]
            kms = self.client("kms", account, region)
            if (alias, account, region) not in old:
                kms.create_alias(AliasName=alias, TargetKeyId=key["id"])
            elif old[(alias, account, region)] != key_name:
                kms.update_alias(AliasName=alias, TargetKeyId=key["id"])
            short = alias.removeprefix("alias/").removeprefix(self.prefix)
            resolved.alias[short.replace("-", "_").replace("/", "_")] = {
                "arn": f"arn:aws:kms:{key['region']}:{key['account']}:{alias}",
                "name": alias,
            }
        for alias, account, region in old:
            if (alias, account, region) not in new:
                self.client("kms", account, region).delete_alias(AliasName=alias)

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

    def _data(self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs) -> None:
        for name, spec in after["data"].items():
            if name in before["data"]:
                continue
            key = resolved.key[spec["key"]]
            kms = self.client("kms", key["account"], key["region"])
            params: dict[str, Any] = {
                "KeyId": key["arn"],
                "Plaintext": spec.get("plaintext", "").encode() or PLAINTEXT,
            }
            if spec.get("encryption_context"):
                params["EncryptionContext"] = spec["encryption_context"]
            if spec.get("algorithm"):
                params["EncryptionAlgorithm"] = spec["algorithm"]
            resolved.ciphertext[name] = kms.encrypt(**params)["CiphertextBlob"]

    def grantee(self, value: str, resolved: ResolvedRefs) -> str:
        if value in resolved.principal:
            return resolved.principal[value]["arn"]
        return str(substitute(value, resolved))

    def _grants(
        self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs
    ) -> None:
        old = {g["name"]: g for g in before["grants"]}
        new = {g["name"]: g for g in after["grants"]}
        for name, spec in old.items():
            if name not in new or new[name] != spec:
                key = resolved.key[spec["key"]]
                account_id = after["accounts"].get(spec["account"], key["account"])
                kms = self.client("kms", account_id, key["region"])
                kms.revoke_grant(KeyId=key["arn"], GrantId=resolved.grant[name]["id"])
        for name, spec in new.items():
            if name in old and old[name] == spec:
                continue
            key = resolved.key[spec["key"]]
            account_id = after["accounts"].get(spec["account"], key["account"])
            kms = self.client("kms", account_id, key["region"])
            params: dict[str, Any] = {
                "KeyId": key["arn"],
                "GranteePrincipal": self.grantee(spec["grantee"], resolved),
                "Operations": spec["operations"],
                "Name": f"kmslab-{name}",
            }
            if spec.get("constraints"):
                params["Constraints"] = spec["constraints"]
            if spec.get("retiring_principal"):
                params["RetiringPrincipal"] = self.grantee(spec["retiring_principal"], resolved)
            created = kms.create_grant(**params)
            resolved.grant[name] = {"id": created["GrantId"], "token": created["GrantToken"]}

    # -- organization policies, trails, controls ----------------------------------------

    def _org_policies(
        self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs
    ) -> None:
        kinds = (("scps", "SERVICE_CONTROL_POLICY"), ("rcps", "RESOURCE_CONTROL_POLICY"))
        for section, policy_type in kinds:
            old = {p["name"]: p for p in before["organization"][section]}
            new = {p["name"]: p for p in after["organization"][section]}
            if not old and not new:
                continue
            orgs = self.client("organizations", self._management(after), after["region"])
            for name, spec in new.items():
                doc = json.dumps(substitute(spec["document"], resolved))
                ref = f"{section}_{name}"
                if name not in old:
                    policy_id = orgs.create_policy(
                        Name=f"kmslab-{name}", Description="kmslab", Type=policy_type, Content=doc
                    )["Policy"]["PolicySummary"]["Id"]
                    target = self._org_target(spec["target"], after, resolved)
                    orgs.attach_policy(PolicyId=policy_id, TargetId=target)
                    resolved.org[ref] = policy_id
                elif old[name] != spec:
                    orgs.update_policy(PolicyId=resolved.org[ref], Content=doc)
            for name, spec in old.items():
                if name not in new:
                    ref = f"{section}_{name}"
                    target = self._org_target(spec["target"], before, resolved)
                    orgs.detach_policy(PolicyId=resolved.org[ref], TargetId=target)
                    orgs.delete_policy(PolicyId=resolved.org[ref])

    def _org_target(self, target: str, setup: dict[str, Any], resolved: ResolvedRefs) -> str:
        if target == "root":
            return resolved.org["root"]
        if org_units.unit_ref(target) in resolved.org:
            return resolved.org[org_units.unit_ref(target)]
        return str(setup["accounts"].get(target, target))

    def _trails(
        self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs
    ) -> None:
        old = {t["name"] for t in before["trails"]}
        for trail in after["trails"]:
            if trail["name"] in old:
                continue
            account_id = after["accounts"][trail["account"]]
            region = after["region"]
            bucket = f"kmslab-trail-{account_id}-{trail['name']}".replace("_", "-")
            self.client("s3", account_id, region).create_bucket(Bucket=bucket)
            params: dict[str, Any] = {"Name": f"kmslab-{trail['name']}", "S3BucketName": bucket}
            if trail.get("cloudwatch_logs"):
                logs = self.client("logs", account_id, region)
                group = f"/kmslab/trail/{trail['name']}"
                logs.create_log_group(logGroupName=group)
                group_arn = f"arn:aws:logs:{region}:{account_id}:log-group:{group}:*"
                params["CloudWatchLogsLogGroupArn"] = group_arn
                params["CloudWatchLogsRoleArn"] = f"arn:aws:iam::{account_id}:role/kmslab-trail"
            cloudtrail = self.client("cloudtrail", account_id, region)
            cloudtrail.create_trail(**params)
            if trail.get("exclude_kms_events"):
                cloudtrail.put_event_selectors(
                    TrailName=params["Name"],
                    EventSelectors=[
                        {
                            "ReadWriteType": "All",
                            "IncludeManagementEvents": True,
                            "ExcludeManagementEventSources": ["kms.amazonaws.com"],
                        }
                    ],
                )
            cloudtrail.start_logging(Name=params["Name"])

    def controls(self, setup: dict[str, Any], resolved: ResolvedRefs) -> dict[str, Any]:
        """Lab controls of a setup, references resolved, with transient key states added."""
        controls: dict[str, Any] = substitute(copy.deepcopy(setup["controls"]), resolved)
        states = {
            resolved.key[name]["arn"]: spec["state"]
            for name, spec in setup["keys"].items()
            if spec["state"] in ("Creating", "Updating")
        }
        if states:
            controls["key_states"] = {**controls.get("key_states", {}), **states}
        return controls

    def _controls(
        self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs
    ) -> None:
        old = self.controls(before, resolved) if before["keys"] or before["controls"] else {}
        update = controls_update(old, self.controls(after, resolved))
        if update and self.on_controls is not None:
            self.on_controls(update)
