"""The KMS authorization evaluator (contract section 2).

from harness.policy import evaluate, PolicyError
result = evaluate(doc)
result.decision, result.blocked_by, result.allowed_by, result.message, result.trace
result.to_dict()
"""

from __future__ import annotations

from typing import Any

from harness.policy.errors import PolicyError
from harness.policy.evaluator import Decision, Inputs, compile_inputs, decide
from harness.policy.request import Parsed, parse_request

__all__ = ["EvaluationResult", "PolicyError", "evaluate"]


class EvaluationResult:
    """A decision; the trace is built on first access."""

    __slots__ = ("_decision", "_inputs", "_parsed", "_trace")

    def __init__(self, decision: Decision, inputs: Inputs, parsed: Parsed) -> None:
        self._decision = decision
        self._inputs = inputs
        self._parsed = parsed
        self._trace: list[dict[str, Any]] | None = None

    @property
    def decision(self) -> str:
        return self._decision.decision

    @property
    def blocked_by(self) -> list[str]:
        return list(self._decision.blocked_by)

    @property
    def allowed_by(self) -> list[str]:
        return list(self._decision.allowed_by)

    @property
    def message(self) -> str:
        return self._decision.message

    @property
    def allowed(self) -> bool:
        return self._decision.decision == "Allowed"

    @property
    def notes(self) -> dict[str, str]:
        """Extra facts: which layer the message names, whether its text is unconfirmed, ..."""
        return dict(self._decision.notes)

    @property
    def warnings(self) -> list[str]:
        """Lint warnings: the request's action, then every policy's, in trace order."""
        return self._request_warnings() + [
            w for entry in self.trace for w in entry.get("warnings", [])
        ]

    def _request_warnings(self) -> list[str]:
        from harness.policy.lint import unknown_action

        action = self._parsed.req.action
        return [f"unknown action {action} in the request"] if unknown_action(action) else []

    @property
    def trace(self) -> list[dict[str, Any]]:
        if self._trace is None:
            from harness.policy.trace import build

            self._trace = build(self._inputs, self._parsed)
        return self._trace

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "decision": self.decision,
            "blocked_by": self.blocked_by,
            "allowed_by": self.allowed_by,
            "message": self.message,
            "trace": self.trace,
        }
        if self._decision.notes.get("unconfirmed"):
            out["unconfirmed"] = True
        request_warnings = self._request_warnings()
        if request_warnings:
            out["warnings"] = request_warnings
        return out

    def __repr__(self) -> str:
        return f"EvaluationResult({self.decision!r}, blocked_by={self.blocked_by!r})"


def evaluate(doc: Any) -> EvaluationResult:
    """Evaluate one request (contract section 2 input). Raises PolicyError on malformed input."""
    if not isinstance(doc, dict):
        raise PolicyError(f"the evaluator input must be a JSON object, not {type(doc).__name__}")
    inputs = compile_inputs(doc)
    parsed = parse_request(doc, has_boundary=inputs.boundary is not None)
    return EvaluationResult(decide(inputs, parsed), inputs, parsed)
