"""Authorization of KMS calls made with lab-issued credentials, by the evaluator.

Gathers every layer the way AWS would see it — the key policy (lab model), the
principal's identity policies and boundary (upstream IAM), the session policy (from
AssumeRole), SCPs of the caller's account and RCPs of the key owner's account (lab
organization), the VPC endpoint policy (upstream EC2) and the grants effective for this
request — and raises AccessDeniedException with the evaluator's AWS message.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

import botocore.exceptions

from harness.aws import arns
from harness.aws.errors import KnownAwsError, QueryAccessDenied
from harness.aws.organizations import RCP, SCP
from harness.lab import validate
from harness.lab.decisions import DecisionLog
from harness.lab.errors import AwsError
from harness.lab.identity import LabPrincipal
from harness.lab.kms.call import KmsCall
from harness.lab.kms.model import Key
from harness.policy import PolicyError, evaluate

if TYPE_CHECKING:
    from harness.lab.gateway import LabGateway


def _policy(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


class Authorizer:
    def __init__(self, lab: LabGateway) -> None:
        self.lab = lab
        self._vpce: dict[str, tuple[str, str]] = {}
        self._vpce_docs: dict[str, Any] = {}
        self._lock = threading.Lock()
        # Opt-in recording for the test oracle (harness/lab/decisions.py); None costs nothing.
        self.decision_log: DecisionLog | None = None

    def reset(self) -> None:
        with self._lock:
            self._vpce.clear()
            self._vpce_docs.clear()

    # VPC endpoints ---------------------------------------------------------------------------
    def register_vpce(self, vpce_id: str, account: str, region: str) -> None:
        with self._lock:
            self._vpce[vpce_id] = (account, region)
            self._vpce_docs.clear()

    def vpce_home(self, vpce_id: str) -> tuple[str, str] | None:
        """(account, Region) where the lab saw `vpce_id` created, if it did."""
        with self._lock:
            return self._vpce.get(vpce_id)

    def invalidate_vpce(self) -> None:
        with self._lock:
            self._vpce_docs.clear()

    def vpce(self, vpce_id: str, account: str, region: str) -> dict[str, Any] | None:
        """DescribeVpcEndpoints entry of `vpce_id` (owner found from CreateVpcEndpoint calls)."""
        with self._lock:
            if vpce_id in self._vpce_docs:
                cached: dict[str, Any] | None = self._vpce_docs[vpce_id]
                return cached
            where = self._vpce.get(vpce_id)
        candidates = [where] if where else [(account, region)]
        found = None
        for acct, reg in candidates:
            try:
                resp = self.lab.upstream.client("ec2", acct, reg).describe_vpc_endpoints(
                    VpcEndpointIds=[vpce_id]
                )
            except botocore.exceptions.ClientError:
                continue
            if resp.get("VpcEndpoints"):
                found = dict(resp["VpcEndpoints"][0])
                break
        with self._lock:
            self._vpce_docs[vpce_id] = found
        return found

    # the decision -----------------------------------------------------------------------------
    def principal_layers(self, p: LabPrincipal) -> tuple[list[Any], Any, dict[str, str]]:
        if p.kind == "AssumedRole" and p.role_name:
            return self.lab.iam.policies_of("role", p.account, p.role_name)
        if p.kind == "IAMUser" and p.user_name:
            return self.lab.iam.policies_of("user", p.account, p.user_name)
        return [], None, {}

    def document(
        self,
        call: KmsCall,
        key: Key | None,
        action: str,
        ctx: dict[str, Any],
        key_policy: Any = None,
    ) -> dict[str, Any]:
        p = call.principal
        lab = self.lab
        identity, boundary, tags = self.principal_layers(p)
        context: dict[str, Any] = {
            k: v for k, v in ctx.items() if not k.startswith("_") and v is not None
        }
        if p.role_arn:
            context.setdefault("aws:PrincipalArn", p.role_arn)
        context.setdefault("aws:RequestedRegion", call.region)
        context.setdefault("aws:userid", p.user_id)
        if lab.orgs.member(p.account):
            context.setdefault("aws:PrincipalOrgID", lab.orgs.org_id)
            context.setdefault("aws:PrincipalOrgPaths", [lab.orgs.org_paths(p.account)])
        for k, v in tags.items():
            context.setdefault(f"aws:PrincipalTag/{k}", v)
        if call.via_service:
            context.setdefault("kms:ViaService", call.via_service)
            context.setdefault("aws:CalledVia", [call.via_service.split(".")[0] + ".amazonaws.com"])
        vpce_policy = None
        if call.source_vpce:
            context.setdefault("aws:SourceVpce", call.source_vpce)
            endpoint = self.vpce(call.source_vpce, p.account, call.region)
            if endpoint is not None:
                if endpoint.get("VpcId"):
                    context.setdefault("aws:SourceVpc", endpoint["VpcId"])
                raw = endpoint.get("PolicyDocument")
                if raw:
                    vpce_policy = _policy(raw) if isinstance(raw, str) else raw
        doc: dict[str, Any] = {
            "request": {
                "principal": p.arn,
                "action": action,
                "resource": key.arn if key else "*",
                "context": context,
            },
            "identity_policies": identity,
        }
        if boundary is not None:
            doc["permissions_boundary"] = boundary
        if p.session_policy is not None:
            doc["session_policy"] = p.session_policy
        scps = lab.orgs.levels(p.account, SCP)
        if scps:
            doc["scps"] = scps
        if vpce_policy is not None:
            doc["vpc_endpoint_policy"] = vpce_policy
        if key is None:
            # No key: only IAM decides (an account-wide statement stands in for "no resource policy").
            doc["key_policy"] = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": arns.account_root(p.account)},
                        "Action": "*",
                        "Resource": "*",
                    }
                ],
            }
            return doc
        doc["request"]["key_account"] = key.account
        if "_encryption_context" in ctx:
            doc["request"]["encryption_context"] = ctx["_encryption_context"]
        if ctx.get("kms:RequestAlias"):
            doc["request"]["key"] = ctx["kms:RequestAlias"]
        for k, v in key.tags.items():
            context.setdefault(f"aws:ResourceTag/{k}", v)
        with lab.kms_store.lock:
            aliases = lab.kms_store.aliases_of(key)
        if aliases:
            context.setdefault("kms:ResourceAliases", aliases)
        doc["key_policy"] = key_policy if key_policy is not None else _policy(key.policy)
        rcps = lab.orgs.levels(key.account, RCP)
        if rcps and key.manager == "CUSTOMER":
            doc["rcps"] = rcps
        grants = lab.kms.effective_grants(key, list(ctx.get("_grant_tokens") or []))
        # A grant stored with a shape the evaluator cannot read (from an older lab or a state
        # file) must not turn every caller's decision on this key into an error: it is left
        # out, so it grants nothing, which is the safe reading of a constraint not understood.
        grants = [g for g in grants if validate.grant_constraints_ok(g.constraints)]
        if grants:
            doc["grants"] = [g.describe() | {"CreationDate": g.created.isoformat()} for g in grants]
        doc["key_metadata"] = {
            "KeyManager": key.manager,
            "KeySpec": key.spec,
            "KeyUsage": key.usage,
            "Arn": key.arn,
            "Origin": key.origin,
            "MultiRegion": key.multi_region is not None,
        }
        return doc

    def __call__(
        self, call: KmsCall, key: Any, action: str, context: dict[str, Any], *, by_ciphertext: bool
    ) -> None:
        if call.principal.operator and (key is None or key.manager != "AWS"):
            return
        doc = self.document(call, key, action, context)
        if call.principal.operator:
            # AWS writes an AWS managed key's policy and nobody can change it
            # (key-policy-modifying.html): operators are held to it as the account's root user.
            doc.pop("scps", None)
        try:
            result = evaluate(doc)
        except PolicyError as exc:
            # A policy AWS would have stored but the evaluator cannot read: deny, and say why.
            raise AwsError(
                "AccessDeniedException",
                f"User: {call.principal.arn} is not authorized to perform: {action} (lab: {exc})",
            ) from exc
        if self.decision_log is not None:
            self.decision_log.record("kms", doc, result.decision)
        if result.decision == "Allowed":
            return
        message = result.message
        if by_ciphertext and key is not None:
            message = message.replace(
                f"on resource: {key.arn}", "on the resource associated with this ciphertext"
            )
        call.additional["denied_by"] = result.blocked_by
        raise AwsError("AccessDeniedException", message)

    def authorize_other(
        self,
        principal: LabPrincipal,
        region: str,
        action: str,
        resource: str,
        resource_policy: Any = None,
        denied: type[KnownAwsError] = QueryAccessDenied,
    ) -> None:
        """Non-KMS calls of issued credentials: identity, boundary, session and SCP layers, and
        the role's trust policy for sts:AssumeRole; raises `denied`, the refusal in the
        service's own shape (IAM/STS: AccessDenied, 403)."""
        if principal.operator:
            return
        call = KmsCall(principal, region, action.split(":", 1)[1], {})
        doc = self.document(call, None, action, {})
        doc["request"]["resource"] = resource
        if resource_policy is not None:
            doc["key_policy"] = resource_policy
            doc["request"]["key_account"] = arns.account_of(resource) or ""
        try:
            result = evaluate(doc)
        except PolicyError as exc:
            raise denied(
                reason=f"User: {principal.arn} is not authorized to perform: {action} on resource: {resource} (lab: {exc})",
            ) from exc
        if self.decision_log is not None:
            self.decision_log.record("other", doc, result.decision)
        if result.decision != "Allowed":
            message = result.message
            if action == "sts:AssumeRole":
                # API_AssumeRole.html errors: the message names the caller and the role only.
                message = f"User: {principal.arn} is not authorized to perform: {action} on resource: {resource}"
            raise denied(reason=message)

    def lockout_allows(self, principal: LabPrincipal, policy: dict[str, Any], key_arn: str) -> bool:
        """The lockout safety check (API_PutKeyPolicy.html): could the caller make a subsequent
        PutKeyPolicy request on this key under the new policy? Decided as that request would
        be: on the key ARN, through the IAM policies when the policy delegates to the account;
        operators as the account's root user."""
        parsed = arns.parse(key_arn)
        region, account = (parsed.region, parsed.account) if parsed else ("", "")
        call = KmsCall(principal, region, "PutKeyPolicy", {})
        doc = self.document(call, None, "kms:PutKeyPolicy", {})
        doc["request"]["resource"] = key_arn
        doc["request"]["key_account"] = account
        doc["key_policy"] = policy
        if principal.operator:
            doc.pop("scps", None)
        try:
            decision = evaluate(doc).decision
        except PolicyError:
            return False
        if self.decision_log is not None:
            self.decision_log.record("lockout", doc, decision)
        return decision == "Allowed"
