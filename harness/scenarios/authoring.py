"""Writing scenarios: scaffold one from an existing one, and validate a file with line numbers.

Validation reports every problem as `FILE:LINE: where: what`, in the order a person fixes
them: YAML syntax, schema, references between names, Terraform generation, then a dry build
(provision, fail, diagnose, fix, verify) on a throwaway embedded lab.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from harness.errors import UsageError

ID = re.compile(r"^[a-z][a-z0-9-]{2,47}$")
PATH_PART = re.compile(r"\.([A-Za-z0-9_$-]+)|\[(\d+)\]")


@dataclass
class Problem:
    line: int | None
    where: str
    message: str
    stage: str

    def render(self, file: str) -> str:
        at = f"{file}:{self.line}" if self.line else file
        return f"{at}: {self.stage}: {self.where}: {self.message}"


def parse_path(path: str) -> list[str | int]:
    """ "$.setup.grants[0].key" -> ["setup", "grants", 0, "key"]."""
    return [int(i) if i else name for name, i in PATH_PART.findall(path.removeprefix("$"))]


def line_of(root: yaml.Node | None, parts: Sequence[str | int]) -> int | None:
    """The 1-based line of the value at `parts` (or of its deepest existing parent)."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for part in parts:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    child = value
                    line = key.start_mark.line + 1
                    break
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            return line
        node = child
    return line


def read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """The data and its node tree; a syntax error is a UsageError with line and column."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read scenario file ({exc.strerror})") from None
    try:
        return yaml.safe_load(text), yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        raise UsageError(f"{path}{where}: not valid YAML: {problem}") from None


def validate_file(path: Path, *, build: bool = True, upstream: str = "moto") -> list[Problem]:
    """Every problem of a scenario file, each with its line; empty when it is ready."""
    from harness.scenarios.catalog import cross_reference_problems, json_path, schema

    data, root = read_yaml(path)
    if not isinstance(data, dict):
        return [
            Problem(1, "$", "a scenario file is a YAML mapping (id, title, setup, ...)", "yaml")
        ]
    problems = []
    validator = jsonschema.Draft202012Validator(schema())
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        parts = list(error.absolute_path)
        problems.append(Problem(line_of(root, parts), json_path(parts), error.message, "schema"))
    if problems:
        return problems  # references and builds assume the shape is right
    for where, message in cross_reference_problems(data):
        problems.append(Problem(line_of(root, parse_path(where)), where, message, "references"))
    if problems:
        return problems
    if path.stem != data["id"]:
        problems.append(
            Problem(
                line_of(root, ["id"]), "$.id", f"file name must be the id ({data['id']}.yaml)", "id"
            )
        )
    from harness.scenarios.model import Scenario

    scenario = Scenario(data, path)
    problems += terraform_problems(scenario, root)
    if build and not problems:
        problems += build_problems(scenario, root, upstream)
    return problems


def terraform_problems(scenario: Any, root: yaml.Node | None) -> list[Problem]:
    """Generate the Terraform variables of the setup and of the fixed setup (no apply)."""
    from harness.scenarios.terraform import terraform_view, tf_setup, unsupported_reason

    if unsupported_reason(scenario):
        return []  # built natively; `terraform.supported: false` or the reason says why
    problems = []
    for label, item, at in (("setup", scenario, ["setup"]), ("fix", scenario.fixed(), ["fix"])):
        for stage in ("prepare", "final"):
            try:
                tf_setup(item, terraform_view(item.setup, stage=stage))
            except (KeyError, TypeError, ValueError) as exc:
                problems.append(
                    Problem(
                        line_of(root, at),
                        f"$.{label}",
                        f"Terraform variables cannot be generated ({type(exc).__name__}: {exc})",
                        "terraform",
                    )
                )
                break
    return problems


def build_problems(scenario: Any, root: yaml.Node | None, upstream: str) -> list[Problem]:
    """Build, fail, diagnose, fix and verify on a throwaway embedded lab."""
    from harness.lab import LabServer
    from harness.scenarios.runner import Runner

    server = LabServer(upstream=upstream, port=0)
    server.start()
    try:
        result = Runner.for_lab(server.endpoint).run(scenario)
    except UsageError as exc:
        return [Problem(line_of(root, ["setup"]), "$.setup", str(exc), "build")]
    finally:
        server.stop()
    out = []
    for problem in result.problems:
        if problem.startswith("primary finding"):
            at = ["expected", "finding"]
        elif problem.startswith("after the fix"):
            at = ["fix"]
        else:
            at = ["expected", "error"]
        where = "$." + ".".join(map(str, at))
        out.append(Problem(line_of(root, at), where, problem, "build"))
    return out


def scaffold(new_id: str, like: Any) -> dict[str, Any]:
    """A new scenario's data: a copy of `like` (a Scenario) with its own id and TODOs to write."""
    if not ID.match(new_id):
        raise UsageError(
            f"scenario id {new_id!r} must be 3-48 lower-case letters, digits and dashes, "
            "starting with a letter"
        )
    data = copy.deepcopy(like.raw)
    data["id"] = new_id
    data["title"] = f"TODO: what fails, in one line (copied from {like.id})"
    data["story"] = "TODO: the incident as a person lived it: who called what, and what they saw."
    data.pop("lab_gap", None)
    data.pop("not_rebuilt", None)
    return data
