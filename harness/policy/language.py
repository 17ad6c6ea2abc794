"""Policy documents compiled once into statements that match requests quickly.

Elements and their rules: IAM User Guide reference_policies_elements_*.html and
reference_policies_grammar.html. Action names and service prefixes are case-insensitive; ARNs in
Resource are case-sensitive; a statement must have exactly one of Action/NotAction and of
Resource/NotResource to have any effect (a KMS key policy statement without Resource is accepted by
PutKeyPolicy but has no effect: kms key-policy-overview.html#key-policy-elements).

Over 400 lines because: it is one grammar, the policy language's elements compiled into one
statement type; split by element, each part would need the others' private matchers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from harness.aws import arns
from harness.policy import principals as P
from harness.policy.conditions import Condition, Context, compile_block, substitute
from harness.policy.errors import PolicyError
from harness.policy.patterns import PatternSet

_STATEMENT_KEYS = {
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "Condition",
}
_PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")

# Strength of a principal match for an Allow: the strongest match of a statement counts.
RANK = {
    P.SESSION: 5,
    P.USER: 5,
    P.FEDERATED_USER: 5,
    P.ROOT: 5,
    P.SERVICE: 5,
    P.ROLE: 4,
    P.WILDCARD: 5,
    P.ACCOUNT: 1,
    P.NONE: 0,
}


@dataclass(frozen=True, slots=True)
class Request:
    """What statements are matched against; built once per evaluation."""

    action: str
    action_lower: str
    resource: str
    caller: P.PolicyCaller
    ctx: Context
    has_boundary: bool = False


def _str_list(value: Any, *, policy: str, index: int, sid: str | None, field: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) and v for v in items):
        raise PolicyError(
            "must be a non-empty string or a list of non-empty strings",
            policy=policy,
            statement=index,
            sid=sid,
            field=field,
        )
    return list(items)


@dataclass(slots=True)
class Statement:
    index: int
    sid: str | None
    effect: str
    actions: PatternSet | None
    not_action: bool
    resources: PatternSet | None
    not_resource: bool
    resource_vars: bool
    principals: list[tuple[str, str]] | None  # (type, value); None: no principal element
    not_principal: bool
    conditions: list[Condition]
    effective: bool
    warnings: list[str] = field(default_factory=list)
    # Principal matching depends only on the statement and the caller's ARN: memoised per ARN.
    _principal_memo: dict[str, str] = field(default_factory=dict)

    # -- fast path -------------------------------------------------------------------------
    def match_action(self, req: Request) -> bool:
        assert self.actions is not None
        hit = self.actions.match(req.action, req.action_lower)
        return not hit if self.not_action else hit

    def match_resource(self, req: Request) -> bool:
        assert self.resources is not None
        if self.resource_vars:
            hit = False
            for pat in self.resources.patterns:
                resolved = resolve_resource(pat, req.ctx) if "${" in pat else pat
                if resolved is not None and PatternSet(
                    [resolved], ignore_case=False, arn=True
                ).match(req.resource):
                    hit = True
                    break
        else:
            hit = self.resources.match(req.resource)
        return not hit if self.not_resource else hit

    def match_principal(self, req: Request) -> tuple[str, list[str]]:
        """(kind, reasons). Identity statements (no principal element) return "identity"."""
        if self.principals is None:
            return "identity", []
        caller = req.caller
        if self.not_principal:
            reasons = []
            for ptype, value in self.principals:
                kind, why = _match_one(ptype, value, caller, negated=True)
                if kind != P.NONE:
                    return P.NONE, [f"NotPrincipal {value}: {why}"]
                reasons.append(why)
            return P.WILDCARD, ["the caller is not among the NotPrincipal values"]
        best = P.NONE
        reasons = []
        for ptype, value in self.principals:
            kind, why = _match_one(ptype, value, caller, negated=False)
            reasons.append(f"{value}: {why}")
            if RANK[kind] > RANK[best]:
                best = kind
        return best, reasons

    def applies(self, req: Request) -> str:
        """The principal kind under which the statement applies, or "" if it does not."""
        if not self.effective:
            return P.NONE
        acts = self.actions
        assert acts is not None
        hit = (
            acts.any
            or req.action_lower in acts.exact
            or (acts.regex is not None and acts.regex.fullmatch(req.action) is not None)
        )
        if hit == self.not_action:
            return P.NONE
        if self.resource_vars:
            if not self.match_resource(req):
                return P.NONE
        else:
            res = self.resources
            assert res is not None
            hit = (
                res.any
                or req.resource in res.exact
                or (res.regex is not None and res.regex.fullmatch(req.resource) is not None)
            )
            if hit == self.not_resource:
                return P.NONE
        if self.principals is None:
            kind = "identity"
        else:
            arn = req.caller.arn
            memo = self._principal_memo.get(arn)
            if memo is None:
                memo = self.match_principal(req)[0]
                if len(self._principal_memo) < 256:
                    self._principal_memo[arn] = memo
            kind = memo
            if kind == P.NONE:
                # A Deny with NotPrincipal denies every principal that has a permissions
                # boundary (access_policies_boundaries.html, "Important").
                if self.effect == "Deny" and self.not_principal and req.has_boundary:
                    kind = P.WILDCARD
                else:
                    return P.NONE
        ctx = req.ctx
        for c in self.conditions:
            if not c.evaluate(ctx):
                return P.NONE
        return kind

    # -- explanation -----------------------------------------------------------------------
    def explain(self, req: Request) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "sid": self.sid, "effect": self.effect}
        if not self.effective:
            out["matched"] = False
            out["reason"] = "; ".join(self.warnings) or "statement has no effect"
            return out
        act_ok = self.match_action(req)
        out["action"] = {
            "matched": act_ok,
            "patterns": list(self.actions.patterns) if self.actions else [],
            "value": req.action,
            **({"negated": True} if self.not_action else {}),
        }
        res_ok = self.match_resource(req)
        out["resource"] = {
            "matched": res_ok,
            "patterns": list(self.resources.patterns) if self.resources else [],
            "value": req.resource,
            **({"negated": True} if self.not_resource else {}),
        }
        ok = act_ok and res_ok
        if self.principals is not None:
            kind, reasons = self.match_principal(req)
            if kind == P.NONE and self.effect == "Deny" and self.not_principal and req.has_boundary:
                kind = P.WILDCARD
                reasons.append(
                    "a Deny with NotPrincipal applies to every principal with a permissions boundary"
                )
            out["principal"] = {
                "matched": kind != P.NONE,
                "patterns": [f"{t}:{v}" if t != "AWS" else v for t, v in self.principals],
                "value": req.caller.arn,
                "kind": kind or None,
                "reason": "; ".join(reasons),
                **({"negated": True} if self.not_principal else {}),
            }
            ok = ok and kind != P.NONE
        conds = [c.explain(req.ctx) for c in self.conditions]
        out["conditions"] = conds
        ok = ok and all(c["matched"] for c in conds)
        out["matched"] = ok
        return out


def resolve_resource(pattern: str, ctx: Context) -> str | None:
    """A Resource value with its policy variables replaced, only after the fifth colon: "You
    can't use a variable to replace parts of the ARN before the fifth colon, such as the service
    or account" (reference_policies_variables.html), so a variable there stays literal text."""
    parts = pattern.split(":", 5)
    if len(parts) < 6:
        return substitute(pattern, ctx)
    tail = substitute(parts[5], ctx) if "${" in parts[5] else parts[5]
    return None if tail is None else ":".join(parts[:5]) + ":" + tail


def _match_one(ptype: str, value: str, caller: P.PolicyCaller, negated: bool) -> tuple[str, str]:
    if ptype == "AWS":
        return P.match_aws_value(value, caller, negated)
    if ptype == "Service":
        return P.match_service_value(value, caller)
    if ptype == "Federated":
        return P.NONE, (
            f"Federated principal {value} is for role trust policies; "
            "a KMS request comes from the assumed-role session"
        )
    return P.NONE, f"{ptype} principals do not apply to KMS"


@dataclass(slots=True)
class Policy:
    statements: list[Statement]
    warnings: list[str]
    has_vars: bool


def _compile_principal(
    value: Any, *, policy: str, index: int, sid: str | None, field: str
) -> list[tuple[str, str]]:
    if value == "*":
        return [("AWS", "*")]
    if not isinstance(value, dict) or not value:
        raise PolicyError(
            'must be "*" or an object such as {"AWS": [...]}',
            policy=policy,
            statement=index,
            sid=sid,
            field=field,
        )
    out = []
    for ptype, vals in value.items():
        if ptype not in _PRINCIPAL_TYPES:
            raise PolicyError(
                f"unknown principal type {ptype!r} (expected one of {', '.join(_PRINCIPAL_TYPES)})",
                policy=policy,
                statement=index,
                sid=sid,
                field=field,
            )
        for v in _str_list(vals, policy=policy, index=index, sid=sid, field=f"{field}.{ptype}"):
            out.append((ptype, v))
    return out


def compile_statement(raw: Any, index: int, *, policy: str, resource_policy: bool) -> Statement:
    if not isinstance(raw, dict):
        raise PolicyError(
            f"statement must be an object, not {type(raw).__name__}", policy=policy, statement=index
        )
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyError("Sid must be a string", policy=policy, statement=index, field="Sid")
    for key in raw:
        if key not in _STATEMENT_KEYS:
            raise PolicyError(
                f"unknown element {key!r}", policy=policy, statement=index, sid=sid, field=key
            )
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(
            f'Effect must be "Allow" or "Deny", not {effect!r}',
            policy=policy,
            statement=index,
            sid=sid,
            field="Effect",
        )
    warnings: list[str] = []
    effective = True

    def pair(name: str, neg: str) -> tuple[list[str] | None, bool]:
        nonlocal effective
        if name in raw and neg in raw:
            raise PolicyError(
                f"has both {name} and {neg}", policy=policy, statement=index, sid=sid, field=neg
            )
        if name in raw:
            return _str_list(raw[name], policy=policy, index=index, sid=sid, field=name), False
        if neg in raw:
            return _str_list(raw[neg], policy=policy, index=index, sid=sid, field=neg), True
        effective = False
        warnings.append(f"statement {index} has neither {name} nor {neg}: it has no effect")
        return None, False

    acts, not_action = pair("Action", "NotAction")
    ress, not_resource = pair("Resource", "NotResource")
    principals = None
    not_principal = False
    if "Principal" in raw and "NotPrincipal" in raw:
        raise PolicyError(
            "has both Principal and NotPrincipal",
            policy=policy,
            statement=index,
            sid=sid,
            field="NotPrincipal",
        )
    if "Principal" in raw or "NotPrincipal" in raw:
        fname = "Principal" if "Principal" in raw else "NotPrincipal"
        if not resource_policy:
            raise PolicyError(
                f"{fname} is not allowed in this kind of policy (only in resource-based policies)",
                policy=policy,
                statement=index,
                sid=sid,
                field=fname,
            )
        principals = _compile_principal(
            raw[fname], policy=policy, index=index, sid=sid, field=fname
        )
        not_principal = fname == "NotPrincipal"
        for ptype, v in principals:
            if ptype == "AWS" and arns.unique_id_kind(v):
                warnings.append(
                    f"statement {index} names the unique id {v}: the principal was deleted, "
                    "so it matches no current principal"
                )
    elif resource_policy:
        effective = False
        warnings.append(
            f"statement {index} has no Principal: in a resource-based policy it has no effect"
        )
    conditions = (
        compile_block(raw["Condition"], policy=policy, index=index, sid=sid)
        if "Condition" in raw
        else []
    )
    return Statement(
        index=index,
        sid=sid,
        effect=effect,
        actions=PatternSet(acts, ignore_case=True, arn=False) if acts else None,
        not_action=not_action,
        resources=PatternSet(ress, ignore_case=False, arn=True) if ress else None,
        not_resource=not_resource,
        resource_vars=bool(ress) and any("${" in r for r in ress or []),
        principals=principals,
        not_principal=not_principal,
        conditions=conditions,
        effective=effective,
        warnings=warnings,
    )


_CACHE: dict[tuple[Any, ...], Policy] = {}
_CACHE_MAX = 4096


def _parse_text(doc: str, policy: str) -> Any:
    try:
        return json.loads(doc)
    except json.JSONDecodeError as exc:
        raise PolicyError(
            f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", policy=policy
        ) from None


def compile_policy(doc: Any, *, policy: str, resource_policy: bool) -> Policy:
    """Compile (or fetch from the cache, keyed by document text) one policy document.

    A dict is keyed by its repr, which is as exact as its JSON text for JSON data and cheaper;
    it is serialised once on a miss to be sure it is JSON.
    """
    if isinstance(doc, str):
        key: tuple[Any, ...] = (resource_policy, doc)
        hit = _CACHE.get(key)
        if hit is not None:
            return hit
        data = _parse_text(doc, policy)
    elif isinstance(doc, dict):
        key = (resource_policy, None, repr(doc))
        hit = _CACHE.get(key)
        if hit is not None:
            return hit
        try:
            json.dumps(doc)
        except (TypeError, ValueError) as exc:
            raise PolicyError(f"not a JSON document: {exc}", policy=policy) from None
        data = doc
    else:
        raise PolicyError(
            f"a policy must be a JSON object or string, not {type(doc).__name__}", policy=policy
        )
    compiled = _compile_data(data, policy=policy, resource_policy=resource_policy)
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[key] = compiled
    return compiled


def _compile_data(data: Any, *, policy: str, resource_policy: bool) -> Policy:
    if not isinstance(data, dict):
        raise PolicyError(
            f"a policy must be a JSON object, not {type(data).__name__}", policy=policy
        )
    for key in data:
        if key not in ("Version", "Id", "Statement"):
            raise PolicyError(f"unknown top-level element {key!r}", policy=policy, field=key)
    version = data.get("Version")
    if version is not None and version not in ("2012-10-17", "2008-10-17"):
        raise PolicyError(f"unknown Version {version!r}", policy=policy, field="Version")
    if "Statement" not in data:
        raise PolicyError("missing Statement", policy=policy, field="Statement")
    raw = data["Statement"]
    items = raw if isinstance(raw, list) else [raw]
    statements = [
        compile_statement(s, i, policy=policy, resource_policy=resource_policy)
        for i, s in enumerate(items)
    ]
    if version != "2012-10-17":
        # Policy variables exist only in version 2012-10-17; before it ${...} is literal text
        # (reference_policies_elements_version.html).
        for st in statements:
            st.resource_vars = False
            for c in st.conditions:
                if c.preds is None:
                    c.preds = [p for p in (_literal_pred(c, v) for v in c.values) if p is not None]
    warnings = [w for st in statements for w in st.warnings]
    from harness.policy.lint import lint_statement

    for st, rawst in zip(statements, items, strict=True):
        extra = lint_statement(rawst, st.index)
        st.warnings.extend(extra)
        warnings.extend(extra)
    return Policy(statements=statements, warnings=warnings, has_vars=False)


def _literal_pred(c: Condition, v: str) -> Any:
    from harness.policy.conditions import _make_pred

    return _make_pred(c.kind, v)
