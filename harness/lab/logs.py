"""CloudWatch Logs FilterLogEvents with JSON filter patterns (the upstreams ignore them).

Syntax from "Filter pattern syntax for metric filters, subscription filters and filter log
events" (CloudWatch Logs User Guide, FilterAndPatternSyntax.html): `{ $.a = "x" }`,
`!=`, numeric `< > <= >=`, `&&`, `||`, parentheses, `*` wildcards in string values,
`IS NULL`, `IS TRUE`, `IS FALSE`, `NOT EXISTS`, and selectors with `.name` and `[n]`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Any

from harness.lab.errors import AwsError

TOKEN_RE = re.compile(
    r"""\s*(?:(?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\))|(?P<str>"(?:[^"\\]|\\.)*")|(?P<sel>\$(?:\.[A-Za-z0-9_@:-]+|\[\d+\])*)|(?P<word>[^\s()&|=!<>"]+))"""
)
_MISSING = object()
Predicate = Callable[[Any], bool]


def bad(detail: str) -> AwsError:
    return AwsError("InvalidParameterException", f"Invalid filter pattern: {detail}")


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = TOKEN_RE.match(text, pos)
        if m is None or m.end() == pos:
            raise bad(f"unexpected character at {pos}")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    return tokens


def select(doc: Any, selector: str) -> Any:
    value = doc
    for part in re.findall(r"\.([A-Za-z0-9_@:-]+)|\[(\d+)\]", selector):
        name, index = part
        if name:
            if not isinstance(value, dict) or name not in value:
                return _MISSING
            value = value[name]
        else:
            if not isinstance(value, list) or int(index) >= len(value):
                return _MISSING
            value = value[int(index)]
    return value


class Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise bad("unexpected end")
        self.pos += 1
        return tok

    def parse_or(self) -> Predicate:
        left = self.parse_and()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.parse_and()
            left = (lambda a, b: lambda d: a(d) or b(d))(left, right)
        return left

    def parse_and(self) -> Predicate:
        left = self.parse_unary()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.parse_unary()
            left = (lambda a, b: lambda d: a(d) and b(d))(left, right)
        return left

    def parse_unary(self) -> Predicate:
        tok = self.take()
        if tok == ("op", "("):
            inner = self.parse_or()
            if self.take() != ("op", ")"):
                raise bad("missing )")
            return inner
        if tok[0] != "sel":
            raise bad(f"expected a $ selector, got {tok[1]!r}")
        selector = tok[1]
        nxt = self.take()
        if nxt[0] == "word" and nxt[1].upper() == "IS":
            what = self.take()[1].upper()
            if what == "NULL":
                return lambda d: select(d, selector) is None
            if what in ("TRUE", "FALSE"):
                want = what == "TRUE"
                return lambda d: select(d, selector) is want
            raise bad(f"IS {what}")
        if nxt[0] == "word" and nxt[1].upper() == "NOT":
            if self.take()[1].upper() != "EXISTS":
                raise bad("NOT must be followed by EXISTS")
            return lambda d: select(d, selector) is _MISSING
        if nxt[0] == "word" and nxt[1].upper() == "EXISTS":
            return lambda d: select(d, selector) is not _MISSING
        if nxt[0] != "op" or nxt[1] in ("(", ")", "&&", "||"):
            raise bad(f"expected a comparison after {selector}")
        op = nxt[1]
        kind, raw = self.take()
        if kind == "str":
            value: Any = json.loads(raw)
            return _compare_text(selector, op, value)
        if kind != "word":
            raise bad(f"expected a value after {op}")
        try:
            number = float(raw)
        except ValueError:
            return _compare_text(selector, op, raw)
        return _compare_number(selector, op, number, raw)


def _text(value: Any) -> str | None:
    if value is _MISSING or value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _compare_text(selector: str, op: str, pattern: str) -> Predicate:
    if op not in ("=", "!="):
        raise bad(f"{op} needs a number")

    def pred(doc: Any) -> bool:
        text = _text(select(doc, selector))
        if text is None:
            return False
        hit = fnmatchcase(text, pattern) if "*" in pattern else text == pattern
        return hit if op == "=" else not hit

    return pred


def _compare_number(selector: str, op: str, number: float, raw: str) -> Predicate:
    def pred(doc: Any) -> bool:
        value = select(doc, selector)
        if isinstance(value, bool) or value is _MISSING or value is None:
            return False
        try:
            actual = float(value)
        except (TypeError, ValueError):
            text = _text(value)
            return (text == raw) if op == "=" else (op == "!=" and text is not None and text != raw)
        return {
            "=": actual == number,
            "!=": actual != number,
            "<": actual < number,
            ">": actual > number,
            "<=": actual <= number,
            ">=": actual >= number,
        }[op]

    return pred


def compile_pattern(pattern: str) -> Predicate:
    text = pattern.strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise bad("a JSON pattern is enclosed in { }")
    parser = Parser(tokenize(text[1:-1]))
    pred = parser.parse_or()
    if parser.peek() is not None:
        raise bad(f"unexpected {parser.peek()[1]!r}")  # type: ignore[index]
    return pred


def filter_log_events(logs: Any, params: dict[str, Any]) -> dict[str, Any]:
    """Read the group's events from the upstream unfiltered, then apply the JSON pattern."""
    pred = compile_pattern(str(params["filterPattern"]))
    args: dict[str, Any] = {
        k: params[k]
        for k in (
            "logGroupName",
            "logGroupIdentifier",
            "logStreamNames",
            "logStreamNamePrefix",
            "startTime",
            "endTime",
        )
        if params.get(k) is not None
    }
    limit = int(params.get("limit") or 10000)
    matched: list[dict[str, Any]] = []
    token = None
    import botocore.exceptions

    while True:
        call = dict(args)
        if token:
            call["nextToken"] = token
        try:
            page = logs.filter_log_events(**call)
        except botocore.exceptions.ClientError as exc:
            err = exc.response.get("Error", {})
            raise AwsError(str(err.get("Code")), str(err.get("Message", ""))) from exc
        for event in page.get("events", []):
            try:
                doc = json.loads(event.get("message", ""))
            except ValueError:
                continue
            if pred(doc):
                matched.append(event)
        token = page.get("nextToken")
        if not token or not page.get("events"):
            break
    return {"events": matched[:limit], "searchedLogStreams": []}
