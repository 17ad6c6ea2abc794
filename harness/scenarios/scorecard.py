"""Bring your own diagnoser: hand each scenario's evidence bundle to an external command and
score its answers against the catalog's expected findings.

The command is a template split like a shell would (shlex, no shell runs): `{bundle}` in it
becomes the bundle's path (appended when absent). It answers on stdout with a finding code,
or JSON with `primary`, or a code of its own that a map file translates. Whatever goes
wrong with one answer (crash, hang, garbage) is a miss with its reason, never a failed run.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import UsageError

CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]*$")
BUNDLE = "{bundle}"


def known_codes() -> set[str]:
    """The finding codes kmslab knows (one rule module per code)."""
    from harness.diagnosis.registry import by_code

    return set(by_code())


@dataclass
class Diagnoser:
    argv: list[str]
    code_map: dict[str, str] = field(default_factory=dict)
    timeout: float = 30.0

    @classmethod
    def parse(
        cls, template: str, code_map: dict[str, str] | None = None, timeout: float = 30.0
    ) -> Diagnoser:
        try:
            argv = shlex.split(template)
        except ValueError as exc:
            raise UsageError(f"--diagnoser: cannot split the command ({exc})") from None
        if not argv:
            raise UsageError("--diagnoser: empty command")
        if shutil.which(argv[0]) is None:
            raise UsageError(f"--diagnoser: command not found: {argv[0]}")
        if not any(BUNDLE in arg for arg in argv):
            argv.append(BUNDLE)
        return cls(argv, dict(code_map or {}), timeout)

    def command(self, bundle: Path) -> list[str]:
        return [arg.replace(BUNDLE, str(bundle)) for arg in self.argv]

    def ask(self, bundle: Path) -> tuple[str | None, str | None]:
        """(finding code, None) or (None, why the answer is a miss)."""
        try:
            proc = subprocess.Popen(
                self.command(bundle),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # a hung command's children are stopped with it
            )
        except OSError as exc:
            return None, f"could not start: {exc.strerror or exc}"
        try:
            out, err = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return None, f"no answer within {self.timeout:g} s"
        if proc.returncode != 0:
            last = err.decode(errors="replace").strip().splitlines()
            tail = f": {last[-1][:200]}" if last else ""
            return None, f"exited with status {proc.returncode}{tail}"
        return self.interpret(out.decode(errors="replace"))

    def interpret(self, stdout: str) -> tuple[str | None, str | None]:
        text = stdout.strip()
        if not text:
            return None, "no answer on stdout"
        answer: Any = text.splitlines()[0].strip()
        if text.startswith("{"):
            try:
                doc = json.loads(text)
            except json.JSONDecodeError:
                return None, "answered malformed JSON"
            answer = doc.get("primary") if isinstance(doc, dict) else None
            if answer is None and isinstance(doc, dict) and "primary" in doc:
                # null primary: nothing is wrong (contract section 4)
                answer = "NO_FAULT_FOUND"
            if not isinstance(answer, str):
                return None, "answered JSON without a string `primary`"
        if not CODE.match(answer):
            return None, f"answered {_short(answer)}, not a finding code"
        code = self.code_map.get(answer, answer)
        if code not in known_codes():
            mapped = f" (mapped from {answer})" if answer in self.code_map else ""
            return None, f"answered {code}{mapped}, not a finding code kmslab knows"
        return code, None


def _short(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


def load_code_map(path: Path) -> dict[str, str]:
    """The map file: `their-code: FINDING_CODE` per line (YAML) or a JSON object."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise UsageError(f"--code-map: cannot read {path} ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise UsageError(f"--code-map: {path}{where}: not valid YAML or JSON") from None
    if not isinstance(data, dict):
        raise UsageError(f"--code-map: {path}: must map the diagnoser's codes to finding codes")
    known = known_codes()
    out: dict[str, str] = {}
    for theirs, ours in data.items():
        if str(ours) not in known:
            raise UsageError(f"--code-map: {path}: {theirs} maps to {ours}, not a finding code")
        out[str(theirs)] = str(ours)
    return out


@dataclass
class Case:
    """One scenario to score: its known answer and the evidence bundle the diagnoser sees."""

    id: str
    expected: str
    runbook_step: str
    bundle: dict[str, Any]


@dataclass
class Answer:
    id: str
    expected: str
    runbook_step: str
    answer: str | None
    reason: str | None = None

    @property
    def correct(self) -> bool:
        return self.answer == self.expected

    def why(self) -> str:
        return self.reason or f"answered {self.answer}, expected {self.expected}"


def ask_all(
    cases: Iterable[Case],
    diagnoser: Diagnoser,
    *,
    jobs: int = 2,
    on_answer: Callable[[Answer], None] | None = None,
) -> list[Answer]:
    """Each case's bundle to the diagnoser (`jobs` at a time); answers in the cases' order."""
    items = list(cases)
    with tempfile.TemporaryDirectory(prefix="kmslab-diagnoser-") as tmp:

        def one(case: Case) -> Answer:
            path = Path(tmp) / f"{case.id}.json"
            path.write_text(json.dumps(case.bundle, indent=1, default=str))
            code, reason = diagnoser.ask(path)
            answer = Answer(case.id, case.expected, case.runbook_step, code, reason)
            if on_answer is not None:
                on_answer(answer)
            return answer

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            return list(pool.map(one, items))


@dataclass
class Tally:
    total: int = 0
    correct: int = 0
    misses: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "correct": self.correct,
            "score": round(self.correct / self.total, 4) if self.total else None,
            "misses": self.misses,
        }


def _step_order(step: str) -> tuple[int, str]:
    return (int(step), "") if step.isdigit() else (99, step)


@dataclass
class Scorecard:
    answers: list[Answer]

    def _tally(self, key: Callable[[Answer], str]) -> dict[str, Tally]:
        out: dict[str, Tally] = {}
        for a in self.answers:
            t = out.setdefault(key(a), Tally())
            t.total += 1
            if a.correct:
                t.correct += 1
            else:
                t.misses.append({"id": a.id, "answer": a.answer or "", "reason": a.why()})
        return out

    def by_step(self) -> dict[str, Tally]:
        tallies = self._tally(lambda a: a.runbook_step)
        return {k: tallies[k] for k in sorted(tallies, key=_step_order)}

    def by_code(self) -> dict[str, Tally]:
        tallies = self._tally(lambda a: a.expected)
        return dict(sorted(tallies.items()))

    @property
    def correct(self) -> int:
        return sum(a.correct for a in self.answers)

    def to_dict(self) -> dict[str, Any]:
        total = len(self.answers)
        return {
            "total": total,
            "correct": self.correct,
            "score": round(self.correct / total, 4) if total else None,
            "by_runbook_step": {k: v.to_dict() for k, v in self.by_step().items()},
            "by_finding": {k: v.to_dict() for k, v in self.by_code().items()},
            "answers": [
                {
                    "id": a.id,
                    "runbook_step": a.runbook_step,
                    "expected": a.expected,
                    "answer": a.answer,
                    "correct": a.correct,
                    **({"reason": a.why()} if not a.correct else {}),
                }
                for a in self.answers
            ],
        }

    def render_text(self) -> str:
        lines = ["runbook step   correct / total"]
        for step, t in self.by_step().items():
            lines.append(f"  {step:<12} {t.correct:>3} / {t.total:<3}")
        lines.append("finding code                        correct / total")
        for code, t in self.by_code().items():
            lines.append(f"  {code:<34} {t.correct:>3} / {t.total:<3}")
        total = len(self.answers)
        lines.append(f"score: {self.correct}/{total}")
        misses = [a for a in self.answers if not a.correct]
        if misses:
            lines.append("misses:")
            lines.extend(f"  {a.id}: {a.why()}" for a in misses)
        return "\n".join(lines)
