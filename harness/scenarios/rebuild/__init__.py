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
import re
from typing import Any

from harness.errors import UsageError
from harness.scenarios.catalog import validate
from harness.scenarios.rebuild import expect
from harness.scenarios.rebuild.evidence import Evidence, document
from harness.scenarios.rebuild.identity import caller_identity, session_policy
from harness.scenarios.rebuild.keys import (
    ALIAS_ARN,
    KEY_ARN,
    Keys,
    deleted_principals,
    encrypting_key,
    key_policies,
    key_spec,
    logged_grants,
    logged_key_policy,
)
from harness.scenarios.rebuild.names import logical
from harness.scenarios.rebuild.org import organization, stand_in
from harness.scenarios.rebuild.principals import Book, parse_caller

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
DEFAULT_VPCE_POLICY_ACTIONS = {"*", "kms:*"}
WRONG_KEY_FINDINGS = {"INCORRECT_KEY", "ALIAS_WRONG_TARGET"}

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
    meta = _key_metadata(ev)
    key_arn = str(meta["Arn"]) if meta else _key_arn(ev)
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
            state = _state_from_error(ev)
            if state:
                spec["state"] = state
            book.gap(
                f"metadata of key {key_arn}",
                "DescribeKey was not read; rebuilt as a symmetric ENCRYPT_DECRYPT key in state "
                f"{state or 'Enabled'}" + (" (from the observed error's text)" if state else ""),
            )
        primary_arn = _multi_region(meta or {}, spec, ev)
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
            spec["policy"] = _stand_in_key_policy(ev, book, action, finding == expect.HEALTHY)
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
    grants = _grants(ev, book, keys)
    _trust(ev, book)
    vpces, vpce_names = _vpc_endpoints(ev, book, caller.account)
    identity = caller_identity(ev, book)
    if not identity["policies"] and not identity.get("managed_policies"):
        identity.update(_inferred_identity(ev, book, action))
    aliases = _aliases(ev, book, keys)
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
    data = _data(ev, book, keys, operation, context, finding)
    if data:
        setup["data"] = {"captured": data}
        call["ciphertext"] = {"data": "captured", **_damage(request, finding)}
    extra = request.get("context") or {}
    if extra.get("kms:ViaService"):
        call["via_service"] = str(extra["kms:ViaService"])
    if extra.get("aws:SourceVpce") and extra["aws:SourceVpce"] in vpce_names:
        call["vpc_endpoint"] = vpce_names[extra["aws:SourceVpce"]]

    tokens = int(request.get("grant_tokens") or 0)
    if tokens:
        mine = [g["name"] for g in grants if g["grantee"] in (caller.arn, _entity_arn(book))]
        chosen = mine[:tokens] if finding != "GRANT_TOKEN_INVALID" else []
        call["grant_tokens"] = chosen or ["kmslab-not-a-valid-grant-token"] * min(tokens, 1)
    if finding == "CREDENTIALS_INVALID":
        call["credentials"] = _spoiled(request, caller.session)
    controls = _controls(ev, book, finding, grants, caller.account)

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
    trails = _trails(ev, book)
    if trails:
        setup["trails"] = trails
    if controls:
        setup["controls"] = controls
    if finding == "INVESTIGATOR_ACCESS_DENIED":
        setup["investigator"] = _investigator(ev)
    _rename_all(setup, call, book, keys)

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
        "id": scenario_id or _default_id(keys, book),
        "title": f"Captured incident: kms:{operation} "
        + (f"fails with {error['code']}" if error else "succeeds"),
        "runbook_step": expect.runbook_step(primary.runbook_step if primary else None),
        "story": _story(bundle, source, caller.arn, operation, observed, finding),
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
        _delegates_to_account(h.get("policy"), key_account) for h in holders if "policy" in h
    ):
        # The lab's run investigator reads with the investigator policy only; a key policy that
        # names no account root would lock it out where the bundle's investigator read it.
        scenario["key_admin_reads"] = (
            "the bundle's investigator read the key policy; it names no account root, so in "
            "the lab only the key's administrators (the operator) can read it"
        )
    if call.get("credentials"):
        scenario["fix"]["call"] = {"credentials": None}  # fresh credentials fix it
    validate(scenario, "the scenario built from the bundle")
    return scenario


# -- the key ---------------------------------------------------------------------------------


def _key_metadata(ev: Evidence) -> dict[str, Any] | None:
    wanted = str(ev.request.get("key") or "")
    found = None
    for read in ev.all("kms", "DescribeKey"):
        meta = read.response.get("KeyMetadata")
        if not isinstance(meta, dict) or not meta.get("Arn"):
            continue
        if read.params.get("KeyId") == wanted:
            return meta
        found = found or meta
    return found


def _key_arn(ev: Evidence) -> str | None:
    """The key's ARN when DescribeKey was not read: from the request or another key read."""
    candidates = [str(ev.request.get("key") or "")]
    candidates += [str(r.params.get("KeyId", "")) for r in ev.reads if r.service == "kms"]
    for value in candidates:
        if KEY_ARN.match(value):
            if any(
                s == "kms" and o == "DescribeKey" and code == "NotFoundException"
                for s, o, code in ev.refused
            ) and value == ev.request.get("key"):
                return None  # the key does not exist: the call names it literally
            return value
    return None


def _multi_region(meta: dict[str, Any], spec: dict[str, Any], ev: Evidence) -> str | None:
    """The primary key's ARN of a multi-Region key (replicas go into `spec`), else None."""
    config = meta.get("MultiRegionConfiguration") or {}
    if not meta.get("MultiRegion") or not config:
        return None
    primary = config.get("PrimaryKey") or {}
    states: dict[str, str] = {}
    for read in ev.all("kms", "DescribeKey"):
        other = read.response.get("KeyMetadata") or {}
        match = KEY_ARN.match(str(other.get("Arn", "")))
        if match:
            states[match.group(1)] = str(other.get("KeyState", "Enabled"))
    spec["multi_region"] = True
    replicas: dict[str, Any] = {}
    for replica in config.get("ReplicaKeys") or []:
        entry: dict[str, Any] = {}
        if states.get(replica.get("Region")) == "Disabled":
            entry["state"] = "Disabled"
        replicas[str(replica.get("Region"))] = entry
    if replicas:
        spec["replicas"] = replicas
    primary_region = primary.get("Region")
    if primary_region and primary_region in states:
        spec["state"] = (
            states[primary_region]
            if states[primary_region] in ("Enabled", "Disabled")
            else spec.get("state", "Enabled")
        )
    return str(primary.get("Arn")) if primary.get("Arn") else None


def _inferred_identity(ev: Evidence, book: Book, action: str) -> dict[str, Any]:
    """With no IAM reads, an error AWS returns only after authorization (key state, usage,
    ciphertext: key-state.html, API_Decrypt.html) shows that IAM allowed the call."""
    from harness.diagnosis import messages

    code = str((ev.request.get("observed_error") or {}).get("code", ""))
    if not code or messages.is_denied(code) or ev.all("iam", "GetRole") or ev.all("iam", "GetUser"):
        return {}
    book.gap(
        f"identity policies of {book.caller.arn}",
        f"not in the bundle; {code} comes after authorization, so the caller is rebuilt "
        f"with a policy allowing {action} on the key",
    )
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}],
    }
    return {"policies": [doc]}


def _state_from_error(ev: Evidence) -> str | None:
    """The key state an error message names ("<key ARN> is disabled.", key-state.html)."""
    from harness.diagnosis import messages

    observed = ev.request.get("observed_error") or {}
    signal = messages.parse(str(observed.get("code", "")), str(observed.get("message", "")))
    return signal.state if signal.state in ("Disabled", "PendingDeletion") else None


def _delegates_to_account(policy: Any, account: str) -> bool:
    from harness.scenarios.rebuild.evidence import aws_principals, statements

    roots = {account, f"arn:aws:iam::{account}:root", "arn:aws:iam::${account.app}:root"}
    roots |= {"arn:aws:iam::${account.owner}:root"}
    return any(
        st.get("Effect") == "Allow"
        and not st.get("Condition")
        and (
            st.get("Principal") == "*" or any(v in roots or v == "*" for _, v in aws_principals(st))
        )
        for st in statements(policy if isinstance(policy, dict) else None)
    )


def _stand_in_key_policy(ev: Evidence, book: Book, action: str, healthy: bool) -> dict[str, Any]:
    """The default key policy; for a caller in another account whose AccessDenied names a
    layer other than the key policy, also an allow for that account: AWS names the key
    policy ("resource-based policy") when it is what refused (catalog section 3)."""
    from harness.diagnosis import messages

    statements: list[dict[str, Any]] = [
        {
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{book.key_account}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    observed = ev.request.get("observed_error") or {}
    signal = messages.parse(str(observed.get("code", "")), str(observed.get("message", "")))
    if not observed and healthy:
        # The call was not seen failing and nothing is wrong: the key policy let the caller in (a statement naming
        # it; without one, this stand-in would also need an IAM allow the bundle may lack).
        statements.append(
            {
                "Sid": "CallerInferredFromTheSuccess",
                "Effect": "Allow",
                "Principal": {"AWS": _entity_arn(book)},
                "Action": action,
                "Resource": "*",
            }
        )
    elif signal.layer == "key-policy" and signal.explicit:
        statements.append(
            {
                "Sid": "DenyInferredFromTheError",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": action,
                "Resource": "*",
            }
        )
    elif signal.layer == "key-policy":
        # "no resource-based policy allows": the policy names neither the caller nor, through
        # the root statement, its account; it names someone else, an administrator.
        admin = book.entity(
            book.key_account, "role", "/", "kmslab-stand-in-key-admin", "a stand-in"
        )
        statements = [
            {
                "Sid": "StandInKeyAdministrator",
                "Effect": "Allow",
                "Principal": {
                    "AWS": f"arn:aws:iam::{book.key_account}:role/kmslab-stand-in-key-admin"
                },
                "Action": "kms:*",
                "Resource": "*",
            }
        ]
        assert admin is not None
    elif book.caller.account != book.key_account and signal.layer is not None:
        statements.append(
            {
                "Sid": "CallerAccountInferredFromTheError",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{book.caller.account}:root"},
                "Action": action,
                "Resource": "*",
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def _grants(ev: Evidence, book: Book, keys: Keys) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    taken: set[str] = set()
    listed = [g for read in ev.all("kms", "ListGrants") for g in read.response.get("Grants") or []]
    if not ev.all("kms", "ListGrants") and "data" in keys.arns:
        listed = logged_grants(ev, keys.arns["data"])
        if listed:
            book.gap(
                "grants",
                "ListGrants was not read or was refused; rebuilt from CreateGrant events in "
                "CloudTrail (less the revoked and retired ones)",
            )
    for grant in listed:
        key_name = keys.ids.get(str(grant.get("KeyId", "")).rsplit("/", 1)[-1], "data")
        if key_name not in keys.keys:
            continue
        grantee = str(grant.get("GranteePrincipal", ""))
        book.value(
            grantee, f"grant {grant.get('GrantId', '')}"
        ) if "amazonaws.com" not in grantee else None
        item: dict[str, Any] = {
            "name": logical(str(grant.get("Name") or f"grant_{len(out) + 1}"), taken, "g"),
            "key": key_name,
            "grantee": grantee,
            "operations": list(grant.get("Operations") or []),
        }
        if not item["operations"]:
            continue
        constraints = grant.get("Constraints") or {}
        kept = {
            k: v
            for k, v in constraints.items()
            if k in ("EncryptionContextSubset", "EncryptionContextEquals")
        }
        if kept:
            item["constraints"] = kept
        if grant.get("RetiringPrincipal"):
            retiring = str(grant["RetiringPrincipal"])
            if "amazonaws.com" not in retiring:
                book.value(retiring, "a grant's retiring principal")
            item["retiring_principal"] = retiring
        issuing = str(grant.get("IssuingAccount", "")).split(":")[-1]
        issuing = issuing if re.fullmatch(r"\d{12}", issuing) else ""
        if (
            issuing
            and issuing != keys.keys[key_name].get("account")
            and issuing in book.accounts.values()
        ):
            item["account"] = book.account(issuing)
        out.append(item)
    return out


def _entity_arn(book: Book) -> str:
    c = book.caller
    return f"arn:aws:iam::{c.account}:{c.kind}{c.path}{c.name}"


def _trust(ev: Evidence, book: Book) -> None:
    for read in ev.all("iam", "GetRole"):
        role = read.response.get("Role") or {}
        doc = document(role.get("AssumeRolePolicyDocument"))
        if doc is None:
            continue
        book.principal_values(doc, f"the trust policy of {role.get('RoleName', 'the role')}")
        book.gap(
            f"trust policy of role {role.get('RoleName', '')}",
            "the lab's roles trust their own account; the caller's credentials are issued "
            "by the lab (every principal it names is rebuilt)",
        )


def _vpc_endpoints(ev: Evidence, book: Book, account: str) -> tuple[dict[str, Any], dict[str, str]]:
    wanted = str((ev.request.get("context") or {}).get("aws:SourceVpce") or "")
    found: dict[str, dict[str, Any]] = {}
    for read in ev.all("ec2", "DescribeVpcEndpoints"):
        for endpoint in read.response.get("VpcEndpoints") or []:
            if endpoint.get("VpcEndpointId"):
                found[str(endpoint["VpcEndpointId"])] = {**endpoint, "_region": read.region}
    ids = sorted(found) if found else []
    if wanted and wanted not in found:
        ids.append(wanted)
        book.gap(
            f"VPC endpoint {wanted}",
            "the call came through it but DescribeVpcEndpoints did not show it; rebuilt "
            "with the default (full access) policy",
        )
    out: dict[str, Any] = {}
    names: dict[str, str] = {}
    for vpce_id in ids:
        endpoint = found.get(vpce_id, {})
        name = logical(f"vpce_{len(out) + 1}", set(out))
        owner = str(endpoint.get("OwnerId") or account)
        spec: dict[str, Any] = {"account": book.account(owner)}
        if endpoint.get("_region"):
            spec["region"] = endpoint["_region"]
        policy = document(endpoint.get("PolicyDocument"))
        if policy is not None and not _full_access(policy):
            spec["policy"] = policy
            book.principal_values(policy, f"the policy of VPC endpoint {vpce_id}")
        out[name] = spec
        names[vpce_id] = name
        book.rename.add(vpce_id, "${vpce." + name + ".id}")
    return out, names


def _full_access(policy: dict[str, Any]) -> bool:
    items = policy.get("Statement")
    items = items if isinstance(items, list) else [items]
    return (
        len(items) == 1
        and isinstance(items[0], dict)
        and items[0].get("Effect") == "Allow"
        and items[0].get("Principal") in ("*", {"AWS": "*"})
        and str(items[0].get("Action")) in DEFAULT_VPCE_POLICY_ACTIONS
        and items[0].get("Resource") == "*"
        and "Condition" not in items[0]
    )


def _aliases(ev: Evidence, book: Book, keys: Keys) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()
    for read in ev.all("kms", "ListAliases"):
        for alias in read.response.get("Aliases") or []:
            name, target = str(alias.get("AliasName", "")), alias.get("TargetKeyId")
            if not name.startswith("alias/") or name.startswith("alias/aws/") or not target:
                continue
            match = ALIAS_ARN.match(str(alias.get("AliasArn", "")))
            region = match.group(1) if match else (read.region or keys.region)
            account = match.group(2) if match else (read.account or book.caller.account)
            if (account, region, name) in seen:
                continue
            seen.add((account, region, name))
            key_name = keys.ids.get(str(target))
            if key_name is not None:
                spec = keys.keys[key_name]
                if (book.accounts[spec["account"]], spec["region"]) != (account, region):
                    key_name = None
            if key_name is None:
                arn = f"arn:aws:kms:{region}:{account}:key/{target}"
                key_name = keys.stand_in(arn, f"the target of {name} in {account} {region}")
            if key_name is None or not re.fullmatch(r"alias/[A-Za-z0-9/_-]+", name):
                book.gap(
                    f"alias {name} in {account} {region}", "its name or target cannot be rebuilt"
                )
                continue
            out.append({"name": name, "key": key_name})
    return out


def _data(
    ev: Evidence, book: Book, keys: Keys, operation: str, context: dict[str, str], finding: str
) -> dict[str, Any] | None:
    if operation not in ("Decrypt", "ReEncrypt"):
        return None
    arn, encrypted_with = encrypting_key(ev)
    key_name = None
    if arn:
        key_name = keys.stand_in(arn, "the key that encrypted the data (CloudTrail)")
    elif finding in WRONG_KEY_FINDINGS and "data" in keys.keys:
        # IncorrectKeyException: the ciphertext was made under another key than the one
        # named (API_Decrypt.html), one the bundle does not show.
        spec = keys.keys["data"]
        key_name = "encrypting"
        keys.keys[key_name] = {"account": spec["account"], "region": spec["region"]}
        book.gap(
            "the key that encrypted the data",
            "not in the bundle (no CloudTrail event of the encryption); rebuilt as another "
            "key of the same account and Region, as the error shows",
        )
    if key_name is None:
        key_name = "data" if "data" in keys.keys else None
    if key_name is None:
        book.gap(
            "the ciphertext",
            "neither DescribeKey nor CloudTrail shows the key that encrypted it; the call "
            "is rebuilt without ciphertext",
        )
        return None
    out: dict[str, Any] = {"key": key_name}
    ctx = encrypted_with if encrypted_with is not None else context
    if ctx:
        out["encryption_context"] = {str(k): str(v) for k, v in ctx.items()}
    return out


def _damage(request: dict[str, Any], finding: str) -> dict[str, str]:
    """How the caller's ciphertext differed from what KMS returned (request.ciphertext facts)."""
    facts = request.get("ciphertext") or {}
    if facts.get("base64_of_kms_blob"):
        return {"damage": "base64"}
    if facts.get("kms_blob") is False:
        return {"damage": "not-kms"}
    if finding == "CIPHERTEXT_INVALID":
        return {"damage": "truncate"}  # a KMS blob KMS refused: damaged after it was made
    return {}


def _controls(
    ev: Evidence, book: Book, finding: str, grants: list[dict[str, Any]], account: str
) -> dict[str, Any]:
    """Lab controls standing in for what AWS resources cannot show (README, lab controls)."""
    controls: dict[str, Any] = {}
    events = []
    for read in ev.all("health", "DescribeEvents"):
        for event in read.response.get("events") or []:
            if (
                str(event.get("service", "")).upper() == "KMS"
                and event.get("statusCode", "open") == "open"
            ):
                events.append(
                    {
                        k: event[k]
                        for k in ("region", "service", "eventTypeCode", "statusCode")
                        if k in event
                    }
                )
    if events:
        controls["health_events"] = events
    observed = (ev.request.get("observed_error") or {}).get("code")
    if observed == "ThrottlingException" or finding == "THROTTLED":
        controls["throttle"] = {account: 0}
    if finding in ("GRANT_TOKEN_NEEDED",):
        controls["grant_propagation_seconds"] = 300
    if finding == "GRANT_LIMIT_REACHED":
        controls["grant_quota"] = max(1, len(grants))
    return controls


def _trails(ev: Evidence, book: Book) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    taken: set[str] = set()
    for read in ev.all("cloudtrail", "DescribeTrails"):
        for trail in read.response.get("trailList") or []:
            arn = str(trail.get("TrailARN", ""))
            parts = arn.split(":")
            account = (
                parts[4] if len(parts) > 4 and parts[4] else (read.account or book.caller.account)
            )
            item: dict[str, Any] = {
                "name": logical(str(trail.get("Name", "trail")), taken, "t"),
                "account": book.account(account),
            }
            if trail.get("CloudWatchLogsLogGroupArn"):
                item["cloudwatch_logs"] = True
            out.append(item)
    return out


def _investigator(ev: Evidence) -> dict[str, Any]:
    """An investigator refused exactly the reads the bundle's investigator was refused."""
    from harness.diagnosis.facts import permission_for

    refused = sorted(
        {
            permission_for(s, o)
            for s, o, code in ev.refused
            if "AccessDenied" in code or code == "AuthorizationError"
        }
    )
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadOnlyInvestigation",
            "Effect": "Allow",
            "Action": [
                "kms:Describe*",
                "kms:Get*",
                "kms:List*",
                "iam:Get*",
                "iam:List*",
                "organizations:Describe*",
                "organizations:List*",
                "ec2:DescribeVpcEndpoints",
                "cloudtrail:LookupEvents",
                "cloudtrail:DescribeTrails",
                "logs:FilterLogEvents",
                "health:DescribeEvents",
            ],
            "Resource": "*",
        }
    ]
    if refused:
        statements.append(
            {"Sid": "RefusedInTheBundle", "Effect": "Deny", "Action": refused, "Resource": "*"}
        )
    out: dict[str, Any] = {"policies": [{"Version": "2012-10-17", "Statement": statements}]}
    if not ev.request.get("observed_error"):
        out["sees_error"] = False
    return out


# -- references, story ---------------------------------------------------------------------


def _spoiled(request: dict[str, Any], session: str | None) -> str:
    """How the rebuilt call's credentials fail like the captured ones (call.credentials)."""
    from harness.diagnosis.rules.credentials_invalid import EXPIRED, UNKNOWN

    code = str((request.get("observed_error") or {}).get("code") or "")
    if code in EXPIRED and session:
        return "expired"
    if code in UNKNOWN:
        return "unknown-token"
    return "wrong-secret"


def _rename_all(setup: dict[str, Any], call: dict[str, Any], book: Book, keys: Keys) -> None:
    """Literals to references everywhere but the account table; key policies cannot name
    their own key (it does not exist when CreateKey takes the policy)."""
    rename = book.rename
    key_refs = [v for v in rename.pairs.values() if v.startswith("${key.")]
    no_keys = rename.without(*key_refs)
    for name, spec in setup["keys"].items():
        own = keys.arns.get(name)
        for holder in [spec, *spec.get("replicas", {}).values()]:
            if "policy" in holder:
                doc = book.with_orphans(_own_resource(holder["policy"], own))
                holder["policy"] = no_keys(doc)
                if own and own in str(holder["policy"]):
                    book.gap(
                        f"the key policy's mention of {own}",
                        "kept literal: the new key has another ARN",
                    )
    for section in (
        "principals",
        "grants",
        "aliases",
        "organization",
        "vpc_endpoints",
        "data",
        "investigator",
    ):
        if section in setup:
            setup[section] = rename(setup[section])
    for grant in setup.get("grants", []):
        if grant["grantee"] == "${principal.app.arn}":
            grant["grantee"] = "app"
    call.update(rename(call))


def _own_resource(policy: dict[str, Any], own: str | None) -> dict[str, Any]:
    """In a key policy, Resource naming the key itself means this key, as "*" does
    (key-policy-overview.html: Resource "*" in a key policy is the key it is attached to)."""
    if not own:
        return policy
    doc = copy.deepcopy(policy)
    items = doc.get("Statement")
    for st in items if isinstance(items, list) else [items]:
        if isinstance(st, dict) and st.get("Resource") in (own, [own]):
            st["Resource"] = "*"
    return doc


def _default_id(keys: Keys, book: Book) -> str:
    arn = keys.arns.get("data", "")
    tail = arn.rsplit("/", 1)[-1][:8].lower() if arn else book.caller.name.lower()
    return "incident-" + (re.sub(r"[^a-z0-9-]", "-", tail).strip("-") or "bundle")[:30]


def _story(
    bundle: dict[str, Any],
    source: str | None,
    principal: str,
    operation: str,
    observed: dict[str, Any] | None,
    finding: str,
) -> str:
    origin = f"the evidence bundle {source}" if source else "an evidence bundle"
    collected = bundle.get("collected_at") or "an unknown time"
    redacted = (
        " The bundle was redacted: ids are consistent pseudonyms." if bundle.get("redacted") else ""
    )
    seen = (
        f"The caller saw {observed.get('code')}."
        if observed
        else "No error was recorded; the expectation comes from the bundle's diagnosis."
    )
    return (
        f"Rebuilt from {origin}, collected at {collected}, for {principal} calling "
        f"kms:{operation}. {seen} The bundle's diagnosis names {finding}.{redacted}"
    )
