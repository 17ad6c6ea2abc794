"""The evaluator's one error type: malformed input, named down to policy, statement and field."""

from __future__ import annotations

from harness.errors import UsageError


class PolicyError(UsageError):
    """A policy or request the evaluator cannot read (exit 2).

    Raised instead of guessing: a document that cannot be parsed never contributes an Allow.
    """

    def __init__(
        self,
        message: str,
        *,
        policy: str | None = None,
        statement: int | None = None,
        sid: str | None = None,
        field: str | None = None,
    ) -> None:
        where = []
        if policy:
            where.append(f"policy {policy}")
        if statement is not None:
            where.append(f"statement {statement}" + (f" (Sid {sid!r})" if sid else ""))
        if field:
            where.append(f"field {field}")
        text = (", ".join(where) + ": " + message) if where else message
        super().__init__(" ".join(text.split()))
        self.policy = policy
        self.statement = statement
        self.field = field
