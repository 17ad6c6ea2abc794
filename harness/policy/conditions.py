"""Condition operators (IAM User Guide, reference_policies_elements_condition_operators.html).

A request context maps lower-cased condition keys (key names are case-insensitive) to a tuple of
string values; a key that is absent is not in the map. Rules implemented here:
- values listed for one key are ORed; keys and operators in one block are ANDed;
- a positive operator on an absent key is false, a negated one (`...Not...`, `NotIpAddress`) is true;
- `...IfExists` is true when the key is absent;
- `ForAllValues:` is true when every request value matches (and when the key is absent or empty),
  `ForAnyValue:` when at least one does (false when absent)
  (reference_policies_condition-single-vs-multi-valued-context-keys.html);
- `Null` with true means the key is absent, with false that it is present.

Over 400 lines because: it is the table of IAM's condition operators and their shared value
comparisons (strings, numbers, dates, booleans, IP ranges, ARNs), one operator per entry.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from harness.policy.errors import PolicyError
from harness.policy.patterns import arn_regex, glob_regex

Context = dict[str, tuple[str, ...]]

_VAR = re.compile(r"\$\{([^}]*)\}")


def _parse_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def parse_date(text: str) -> float | None:
    """ISO 8601 (date or date-time, with or without zone) or epoch seconds."""
    t = text.strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", t):
        return float(t)
    try:
        d = datetime.fromisoformat(t.replace("Z", "+00:00"))
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    return d.timestamp()


def _parse_net(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def _b64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


# base operator (lower-case) -> (kind, negated)
_OPS: dict[str, tuple[str, bool]] = {
    "stringequals": ("str_eq", False),
    "stringnotequals": ("str_eq", True),
    "stringequalsignorecase": ("str_eq_ci", False),
    "stringnotequalsignorecase": ("str_eq_ci", True),
    "stringlike": ("str_like", False),
    "stringnotlike": ("str_like", True),
    "numericequals": ("num_eq", False),
    "numericnotequals": ("num_eq", True),
    "numericlessthan": ("num_lt", False),
    "numericlessthanequals": ("num_le", False),
    "numericgreaterthan": ("num_gt", False),
    "numericgreaterthanequals": ("num_ge", False),
    "dateequals": ("date_eq", False),
    "datenotequals": ("date_eq", True),
    "datelessthan": ("date_lt", False),
    "datelessthanequals": ("date_le", False),
    "dategreaterthan": ("date_gt", False),
    "dategreaterthanequals": ("date_ge", False),
    "bool": ("bool", False),
    "binaryequals": ("binary", False),
    "ipaddress": ("ip", False),
    "notipaddress": ("ip", True),
    "arnequals": ("arn", False),
    "arnlike": ("arn", False),
    "arnnotequals": ("arn", True),
    "arnnotlike": ("arn", True),
    "null": ("null", False),
}

# Operators whose values may carry policy variables (reference_policies_variables.html: "with
# string operators and ARN operators").
_VARIABLE_KINDS = {"str_eq", "str_eq_ci", "str_like", "arn"}

# lower-case -> AWS spelling, for messages
_CANONICAL: dict[str, str] = {}
for _name in [
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
]:
    _CANONICAL[_name.lower()] = _name


def _value_str(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return None


Pred = Callable[[str], bool]


def _make_pred(kind: str, pv: str) -> Pred | None:
    """A predicate over one request value for one policy value; None if the value is invalid."""
    if kind == "str_eq":
        return pv.__eq__
    if kind == "str_eq_ci":
        low = pv.lower()
        return lambda v: v.lower() == low
    if kind == "str_like":
        rx = glob_regex(pv)
        return lambda v: rx.fullmatch(v) is not None
    if kind == "arn":
        rx = arn_regex(pv)
        return lambda v: rx.fullmatch(v) is not None
    if kind.startswith("num_"):
        n = _parse_number(pv)
        if n is None:
            return None
        cmp = _CMP[kind[4:]]
        return lambda v: (x := _parse_number(v)) is not None and cmp(x, n)
    if kind.startswith("date_"):
        d = parse_date(pv)
        if d is None:
            return None
        cmp = _CMP[kind[5:]]
        return lambda v: (x := parse_date(v)) is not None and cmp(x, d)
    if kind == "bool":
        low = pv.lower()
        if low not in ("true", "false"):
            return None
        return lambda v: v.lower() == low
    if kind == "binary":
        b = _b64(pv)
        if b is None:
            return None
        return lambda v: _b64(v) == b
    if kind == "ip":
        net = _parse_net(pv)
        if net is None:
            return None

        def ip_pred(v: str) -> bool:
            try:
                return ipaddress.ip_address(v.strip()) in net
            except ValueError:
                return False

        return ip_pred
    raise AssertionError(kind)


_CMP: dict[str, Callable[[float, float], bool]] = {
    "eq": lambda a, b: a == b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
}


def substitute(text: str, ctx: Context) -> str | None:
    """Resolve ${...} policy variables; None when one cannot be resolved and has no default.

    Special characters ${*}, ${?}, ${$} stand for the literal characters; `${key, 'default'}`
    supplies a default (reference_policies_variables.html).
    """
    failed = False

    def repl(m: re.Match[str]) -> str:
        nonlocal failed
        inner = m.group(1)
        if inner in ("*", "?", "$"):
            return inner
        name, sep, default = inner.partition(",")
        vals = ctx.get(name.strip().lower())
        if vals and len(vals) == 1:
            return vals[0]
        if sep:
            d = default.strip()
            if len(d) >= 2 and d[0] == d[-1] == "'":
                return d[1:-1]
        failed = True
        return ""

    out = _VAR.sub(repl, text)
    return None if failed else out


@dataclass(slots=True)
class Condition:
    operator: str  # as written
    kind: str
    negated: bool
    qualifier: str  # "", "forallvalues", "foranyvalue"
    if_exists: bool
    key: str  # lower-case
    key_written: str
    values: list[str]
    preds: list[Pred] | None  # None when values carry policy variables

    def _policy_preds(self, ctx: Context) -> list[Pred]:
        if self.preds is not None:
            return self.preds
        out: list[Pred] = []
        for pv in self.values:
            resolved = substitute(pv, ctx) if "${" in pv else pv
            if resolved is None:
                continue
            pred = _make_pred(self.kind, resolved)
            if pred is not None:
                out.append(pred)
        return out

    def evaluate(self, ctx: Context) -> bool:
        actual = ctx.get(self.key)
        if self.kind == "null":
            want_absent = self.values[0].lower() == "true"
            return (actual is None or len(actual) == 0) == want_absent
        if actual is None:
            if self.if_exists:
                return True
            if self.qualifier == "forallvalues":
                return True
            if self.qualifier == "foranyvalue":
                return False
            return self.negated
        preds = self._policy_preds(ctx)
        if not preds and self.preds is None:
            # Every value names a variable the request cannot supply: "any attempt to match it
            # fails and causes the statement to be invalid" (reference_policies_variables.html,
            # principal key values), so the statement applies neither as an Allow nor as a
            # Deny, even under a negated operator.
            return False
        if self.qualifier == "forallvalues":
            if self.negated:
                return all(not any(p(v) for p in preds) for v in actual)
            return all(any(p(v) for p in preds) for v in actual)
        if self.qualifier == "foranyvalue":
            if self.negated:
                return any(not any(p(v) for p in preds) for v in actual)
            return any(any(p(v) for p in preds) for v in actual)
        hit = any(p(v) for v in actual for p in preds)
        return not hit if self.negated else hit

    def explain(self, ctx: Context) -> dict[str, Any]:
        actual = ctx.get(self.key)
        return {
            "operator": self.operator,
            "key": self.key_written,
            "expected": list(self.values),
            "actual": list(actual) if actual is not None else [],
            "present": actual is not None,
            "matched": self.evaluate(ctx),
        }


def compile_block(block: Any, *, policy: str, index: int, sid: str | None) -> list[Condition]:
    """A statement's Condition element; raises PolicyError naming the operator or key."""
    if not isinstance(block, dict):
        raise PolicyError(
            f"Condition must be an object, not {type(block).__name__}",
            policy=policy,
            statement=index,
            sid=sid,
            field="Condition",
        )
    out: list[Condition] = []
    for op_written, keys in block.items():
        field = f"Condition.{op_written}"
        if not isinstance(op_written, str):
            raise PolicyError(
                "operator must be a string",
                policy=policy,
                statement=index,
                sid=sid,
                field="Condition",
            )
        low = op_written.lower()
        qualifier = ""
        for q in ("forallvalues:", "foranyvalue:"):
            if low.startswith(q):
                qualifier = q[:-1]
                low = low[len(q) :]
        if_exists = low.endswith("ifexists")
        if if_exists:
            low = low[: -len("ifexists")]
        spec = _OPS.get(low)
        if spec is None or (low == "null" and (if_exists or qualifier)):
            raise PolicyError(
                f"unknown condition operator {op_written!r}",
                policy=policy,
                statement=index,
                sid=sid,
                field=field,
            )
        canonical = _CANONICAL[low]
        kind, negated = spec
        if not isinstance(keys, dict) or not keys:
            raise PolicyError(
                "an operator must map condition keys to values",
                policy=policy,
                statement=index,
                sid=sid,
                field=field,
            )
        for key, raw in keys.items():
            kfield = f"{field}.{key}"
            if not isinstance(key, str) or not key:
                raise PolicyError(
                    "condition key must be a non-empty string",
                    policy=policy,
                    statement=index,
                    sid=sid,
                    field=field,
                )
            raw_list = raw if isinstance(raw, list) else [raw]
            values: list[str] = []
            for item in raw_list:
                sv = _value_str(item)
                if sv is None:
                    raise PolicyError(
                        f"condition value must be a string, number or boolean, not {type(item).__name__}",
                        policy=policy,
                        statement=index,
                        sid=sid,
                        field=kfield,
                    )
                values.append(sv)
            if not values:
                raise PolicyError(
                    "condition has no values", policy=policy, statement=index, sid=sid, field=kfield
                )
            if kind == "null":
                if len(values) != 1 or values[0].lower() not in ("true", "false"):
                    raise PolicyError(
                        "Null takes true or false",
                        policy=policy,
                        statement=index,
                        sid=sid,
                        field=kfield,
                    )
                preds: list[Pred] | None = []
            elif kind in _VARIABLE_KINDS and any("${" in v for v in values):
                preds = None
            else:
                preds = []
                for v in values:
                    p = _make_pred(kind, v)
                    if p is None:
                        raise PolicyError(
                            f"{v!r} is not a valid value for {canonical}",
                            policy=policy,
                            statement=index,
                            sid=sid,
                            field=kfield,
                        )
                    preds.append(p)
            out.append(
                Condition(
                    operator=op_written,
                    kind=kind,
                    negated=negated,
                    qualifier=qualifier,
                    if_exists=if_exists,
                    key=key.lower(),
                    key_written=key,
                    values=values,
                    preds=preds,
                )
            )
    return out
