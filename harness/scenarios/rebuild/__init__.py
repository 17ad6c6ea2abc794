"""A scenario file from a captured evidence bundle: the customer's incident, rebuilt in the lab.

Everything the bundle shows becomes setup: the key (metadata, policy, replicas, rotation,
custom key store, tags), every principal any policy or grant names, aliases in every account
and Region read, grants, the caller's identity policies, boundary and session policy, the
organization, VPC endpoints, trails and the lab controls that stand in for AWS-side
conditions. What cannot be rebuilt is listed under `not_rebuilt` with the reason.
Expectations come from the evidence: the observed error, or the diagnosis of the bundle.
"""

from __future__ import annotations

import copy
from typing import Any

from harness.errors import UsageError
from harness.scenarios.catalog import validate
from harness.scenarios.rebuild import expect
from harness.scenarios.rebuild.aliases import alias_specs
from harness.scenarios.rebuild.call import captured_data, damage, spoiled
from harness.scenarios.rebuild.environment import investigator_spec, lab_controls, trail_specs
from harness.scenarios.rebuild.evidence import Evidence
from harness.scenarios.rebuild.fix import NotDerived, fixed_setup_and_call, merge_patch
from harness.scenarios.rebuild.grants import grant_specs
from harness.scenarios.rebuild.identity import (
    caller_identity,
    inferred_identity,
    session_policy,
    trust_policies,
)
from harness.scenarios.rebuild.key_policy import delegates_to_account, stand_in_key_policy
from harness.scenarios.rebuild.key_read import (
    key_metadata,
    multi_region,
    named_key_arn,
    state_from_error,
)
from harness.scenarios.rebuild.keys import (
    KEY_ARN,
    Keys,
    deleted_principals,
    key_policies,
    key_spec,
    logged_key_policy,
)
from harness.scenarios.rebuild.network import vpc_endpoints
from harness.scenarios.rebuild.org import organization, stand_in
from harness.scenarios.rebuild.principals import Book, entity_arn, parse_caller
from harness.scenarios.rebuild.references import rename_all
from harness.scenarios.rebuild.story import default_id, story

SOURCES = [
    "https://docs.aws.amazon.com/kms/latest/developerguide/troubleshooting.html",
    "https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html",
]
# The operations a scenario's call can make (schema.json, call.operation).
OPERATIONS = {
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncrypt",
    "DescribeKey",
    "CreateGrant",
}

__all__ = ["scenario_from_bundle"]


def scenario_from_bundle(
    bundle: dict[str, Any], scenario_id: str | None = None, source: str | None = None
) -> dict[str, Any]:
    """The scenario that rebuilds `bundle`'s incident; `source` names where the bundle came from."""
    if not isinstance(bundle, dict) or bundle.get("kind") != "kms-evidence-bundle":
        raise UsageError("not a kms-evidence-bundle (contract section 3)")
    ev = Evidence(bundle)
    request = ev.request
    caller = parse_caller(str(request.get("principal", "")))
    action = str(request.get("action", "kms:Decrypt"))
    operation = action.split(":", 1)[-1]
    if operation not in OPERATIONS:
        raise UsageError(
            f"cannot rebuild a call of {action}: the lab reproduces "
            + ", ".join(f"kms:{o}" for o in sorted(OPERATIONS))
        )
    region = str(request.get("region") or "us-east-1")
    meta = key_metadata(ev)
    key_arn = str(meta["Arn"]) if meta else named_key_arn(ev)
    key_match = KEY_ARN.match(key_arn or "")
    key_account = (
        key_match.group(2) if key_match else str(request.get("key_account") or caller.account)
    )
    book = Book(caller, key_account)
    keys = Keys(book, region)
    replica_policies: dict[str, Any] = {}
    read_policy = False  # the bundle's investigator could read the key policy
    from harness.diagnosis import diagnose

    diagnosis = diagnose(bundle)
    finding = str(diagnosis.primary or expect.HEALTHY)
    primary = diagnosis.finding(finding)
    managed = bool(meta and meta.get("KeyManager") == "AWS")
    if managed and key_match:
        # AWS creates its managed keys (aws/s3, ...); the lab serves its own under the alias.
        book.gap(
            f"AWS managed key {key_arn}",
            "AWS managed keys cannot be created; the call names it as the bundle did and "
            "the lab's own AWS managed key answers",
        )
    elif key_arn and key_match:
        spec = key_spec(ev, meta or {}, book)
        if not meta:
            state = state_from_error(ev)
            if state:
                spec["state"] = state
            book.gap(
                f"metadata of key {key_arn}",
                "DescribeKey was not read; rebuilt as a symmetric ENCRYPT_DECRYPT key in state "
                f"{state or 'Enabled'}" + (" (from the observed error's text)" if state else ""),
            )
        primary_arn = multi_region(meta or {}, spec, ev)
        keys.add("data", primary_arn or key_arn, spec)
        spec = keys.keys["data"]  # the stored spec, with its account and Region first
        main_policy, replica_policies = key_policies(ev, keys.keys["data"]["region"])
        if main_policy is None and replica_policies and primary_arn:
            main_policy = next(iter(replica_policies.values()))
        logged = logged_key_policy(ev, str(keys.arns["data"]))
        read_policy = main_policy is not None
        if main_policy is None and logged is not None:
            main_policy = logged
            book.gap(
                "key policy",
                "GetKeyPolicy was not read or was refused; rebuilt from the policy of the "
                "latest CreateKey/PutKeyPolicy event in CloudTrail",
            )
        if main_policy is not None:
            spec["policy"] = main_policy
            if logged is not None:
                book.deleted.update(deleted_principals(main_policy, logged))
            book.principal_values(main_policy, "the key policy")
        else:
            spec["policy"] = stand_in_key_policy(ev, book, action, finding == expect.HEALTHY)
            book.gap(
                "key policy",
                "GetKeyPolicy was not read or was refused (it cannot be read from another "
                "account); rebuilt as a stand-in that fails as the observed error shows: "
                + ", ".join(str(st["Sid"]) for st in spec["policy"]["Statement"]),
            )
        for replica_region, replica in spec.get("replicas", {}).items():
            doc = replica_policies.get(replica_region)
            if doc is not None and doc != main_policy:
                replica["policy"] = doc
                book.principal_values(doc, f"the key policy in {replica_region}")
    grants = grant_specs(ev, book, keys)
    trust_policies(ev, book)
    vpces, vpce_names = vpc_endpoints(ev, book, caller.account)
    identity = caller_identity(ev, book)
    if not identity["policies"] and not identity.get("managed_policies"):
        identity.update(inferred_identity(ev, book, action))
    aliases = alias_specs(ev, book, keys)
    setup: dict[str, Any] = {"region": keys.keys.get("data", {}).get("region", region)}
    call: dict[str, Any] = {"principal": "app", "operation": operation, "region": region}
    if caller.session:
        call["session_name"] = caller.session
    policy = session_policy(ev, caller)
    if policy is not None:
        call["session_policy"] = policy
    if request.get("key"):
        call["key"] = str(request["key"])
    context = {str(k): str(v) for k, v in (request.get("encryption_context") or {}).items()}
    if context:
        call["encryption_context"] = context
    data = captured_data(ev, book, keys, operation, context, finding)
    if data:
        setup["data"] = {"captured": data}
        call["ciphertext"] = {"data": "captured", **damage(request, finding)}
    extra = request.get("context") or {}
    if extra.get("kms:ViaService"):
        call["via_service"] = str(extra["kms:ViaService"])
    if extra.get("aws:SourceVpce") and extra["aws:SourceVpce"] in vpce_names:
        call["vpc_endpoint"] = vpce_names[extra["aws:SourceVpce"]]

    tokens = int(request.get("grant_tokens") or 0)
    if tokens:
        mine = [g["name"] for g in grants if g["grantee"] in (caller.arn, entity_arn(book))]
        chosen = mine[:tokens] if finding != "GRANT_TOKEN_INVALID" else []
        call["grant_tokens"] = chosen or ["kmslab-not-a-valid-grant-token"] * min(tokens, 1)
    if finding == "CREDENTIALS_INVALID":
        call["credentials"] = spoiled(request, caller.session)
    controls = lab_controls(ev, book, finding, grants, caller.account)

    org = stand_in(ev, book, organization(ev, book), action)
    principals = {**book.principals}
    principals["app"] = {**principals["app"], **identity}
    setup.update(
        {
            "accounts": dict(book.accounts),
            "keys": keys.keys,
            "aliases": aliases,
            "principals": principals,
            "grants": grants,
        }
    )
    if org.get("scps") or org.get("rcps") or org.get("units") or org.get("detached"):
        setup["organization"] = org
    if vpces:
        setup["vpc_endpoints"] = vpces
    trails = trail_specs(ev, book)
    if trails:
        setup["trails"] = trails
    if controls:
        setup["controls"] = controls
    if finding == "INVESTIGATOR_ACCESS_DENIED":
        setup["investigator"] = investigator_spec(ev)
    fixed: tuple[dict[str, Any], dict[str, Any]] | None = None
    if finding == "KEY_POLICY_TOO_LARGE":
        book.gap(
            "fix",
            "not derived from the diagnosis (KEY_POLICY_TOO_LARGE): a grant makes the call work, "
            "but the key policy stays at the size limit; consolidating it is a judgement over "
            "every statement",
        )
    elif primary is not None and finding != "CREDENTIALS_INVALID":
        try:
            fixed = fixed_setup_and_call(
                primary.fix.to_dict(),
                setup,
                call,
                keys,
                {caller.arn, entity_arn(book), "app"},
                vpce_names,
            )
        except NotDerived as exc:
            book.gap("fix", f"not derived from the diagnosis ({finding}): {exc}")
    rename_all(setup, call, book, keys)
    if fixed is not None:
        rename_all(*fixed, book, keys)

    observed = request.get("observed_error")
    message_rename = copy.deepcopy(book.rename)
    message_rename.pairs = {caller.arn: "${caller.arn}", **message_rename.pairs}
    if observed:
        error: dict[str, str] | None = {
            "code": str(observed.get("code", "")),
            "message": expect.message_pattern(
                str(observed.get("message", "")),
                message_rename,
                {key_match.group(3): "[0-9a-f-]{36}"} if managed and key_match else None,
            ),
        }
    elif finding == expect.HEALTHY:
        error = None
    else:
        error = expect.expected_error(finding, diagnosis.evaluator_message, message_rename)
    scenario: dict[str, Any] = {
        "id": scenario_id or default_id(keys, book),
        "title": f"Captured incident: kms:{operation} "
        + (f"fails with {error['code']}" if error else "succeeds"),
        "runbook_step": expect.runbook_step(primary.runbook_step if primary else None),
        "story": story(bundle, source, caller.arn, operation, observed, finding),
        "sources": SOURCES,
        "setup": setup,
        "call": call,
        "expected": {"error": error, "finding": finding},
        "fix": {"summary": primary.fix.summary if primary is not None else "Nothing to fix."},
        "hints": [
            "Rebuilt from a bundle: compare the lab's evidence with the bundle's before "
            "trusting it, and read not_rebuilt for what the lab could not recreate."
        ],
        "not_rebuilt": book.not_rebuilt,
    }
    if error is None:
        scenario["control"] = True
    data_key = keys.keys.get("data", {})
    holders = [data_key, *data_key.get("replicas", {}).values()]
    if read_policy and not all(
        delegates_to_account(h.get("policy"), key_account) for h in holders if "policy" in h
    ):
        # The lab's run investigator reads with the investigator policy only; a key policy that
        # names no account root would lock it out where the bundle's investigator read it.
        scenario["key_admin_reads"] = (
            "the bundle's investigator read the key policy; it names no account root, so in "
            "the lab only the key's administrators (the operator) can read it"
        )
    if call.get("credentials"):
        scenario["fix"]["call"] = {"credentials": None}  # fresh credentials fix it
    elif fixed is not None:
        # The diagnosis's fix as a patch of this setup and call (docs/scenarios.md, Fixes).
        for part, before, after in (("setup", setup, fixed[0]), ("call", call, fixed[1])):
            patch = merge_patch(before, after)
            if patch:
                scenario["fix"][part] = patch
        if not set(scenario["fix"]) - {"summary"}:
            book.gap(
                "fix",
                f"not derived from the diagnosis ({finding}): as the rebuild holds the setup, "
                "the fix changes nothing in it",
            )
    validate(scenario, "the scenario built from the bundle")
    return scenario


# -- the key ---------------------------------------------------------------------------------


# -- references, story ---------------------------------------------------------------------
