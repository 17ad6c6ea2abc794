"""`kmslab scenarios list|from-bundle|new|validate`: the catalog, customer incidents, authoring."""

from __future__ import annotations

import json
from pathlib import Path

import click

from harness.errors import UsageError


@click.group()
def scenarios() -> None:
    """The scenario catalog (scenarios/<runbook-branch>/<id>.yaml)."""


@scenarios.command("list")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def list_(fmt: str) -> None:
    """Every scenario: id, title, runbook step, expected error and finding."""
    from harness.scenarios.catalog import load_catalog

    rows = [s.summary() for s in load_catalog()]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    width = max((len(r["id"]) for r in rows), default=10)
    for row in rows:
        error = row["expected_error"] or "(succeeds)"
        click.echo(
            f"{row['id']:<{width}}  step {row['runbook_step']!s:<5}  {error:<28}  "
            f"{row['expected_finding']:<34}  {row['title']}"
        )
    click.echo(f"{len(rows)} scenarios, {sum(r['control'] for r in rows)} healthy controls")


def _no_anchors() -> type:
    import yaml

    class NoAnchorsDumper(yaml.SafeDumper):
        """Repeated values written out in full: a scenario file is read by people."""

        def ignore_aliases(self, data: object) -> bool:
            return True

    return NoAnchorsDumper


@scenarios.command("from-bundle")
@click.argument("bundle", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="write here (default: stdout)"
)
@click.option("--id", "scenario_id", help="id of the new scenario (default: from the bundle)")
def from_bundle(bundle: Path, out: Path | None, scenario_id: str | None) -> None:
    """A scenario file that rebuilds a captured incident (evidence bundle) in the lab."""
    import yaml

    from harness.scenarios.from_bundle import scenario_from_bundle

    try:
        data = json.loads(bundle.read_text())
    except OSError as exc:
        raise UsageError(f"cannot read bundle {bundle} ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise UsageError(f"{bundle}: not JSON ({exc.msg} at line {exc.lineno})") from exc
    try:
        scenario = scenario_from_bundle(data, scenario_id=scenario_id, source=bundle.name)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        # A bundle that is JSON but not the shape contract section 3 describes.
        raise UsageError(f"{bundle}: not a bundle kmslab can rebuild ({exc!r})") from exc
    text = yaml.dump(scenario, Dumper=_no_anchors(), sort_keys=False, width=110, allow_unicode=True)
    if out is None:
        click.echo(text, nl=False)
    else:
        partial = out.with_name(out.name + ".partial")
        partial.write_text(text)
        partial.replace(out)  # never a half-written scenario file
        click.echo(f"wrote {out}", err=True)
        for item in scenario.get("not_rebuilt", []):
            click.echo(f"not rebuilt: {item['what']}: {item['reason']}", err=True)


@scenarios.command("new")
@click.argument("scenario_id", metavar="ID")
@click.option("--like", "like", required=True, help="an existing scenario id or file to start from")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="where to write (default: next to --like in the catalog, as ID.yaml)",
)
def new(scenario_id: str, like: str, out: Path | None) -> None:
    """Scaffold scenario ID from an existing one (then edit it and run `scenarios validate`)."""
    import yaml

    from harness.scenarios.authoring import scaffold
    from harness.scenarios.catalog import find, load_catalog

    model = find(like)
    data = scaffold(scenario_id, model)
    if out is None:
        if any(s.id == scenario_id for s in load_catalog()):
            raise UsageError(f"scenario id {scenario_id!r} is already in the catalog")
        assert model.path is not None
        out = model.path.with_name(f"{scenario_id}.yaml")
    if out.exists():
        raise UsageError(f"{out} already exists; not overwritten")
    try:
        out.write_text(yaml.safe_dump(data, sort_keys=False, width=100, allow_unicode=True))
    except OSError as exc:
        raise UsageError(f"cannot write {out} ({exc.strerror})") from exc
    click.echo(
        f"wrote {out} (from {model.id}); edit the TODOs, then: kmslab scenarios validate {out}"
    )


@scenarios.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--no-build",
    is_flag=True,
    help="skip the dry build (schema, references and Terraform generation only)",
)
def validate(files: tuple[Path, ...], no_build: bool) -> None:
    """Check scenario files: YAML, schema, references, Terraform generation and a dry build
    on a throwaway embedded lab; every problem with its line number (exit 2 if any)."""
    from harness.scenarios.authoring import validate_file

    bad = 0
    for path in files:
        problems = validate_file(path, build=not no_build)
        for problem in problems:
            click.echo(problem.render(str(path)), err=True)
        if problems:
            bad += 1
        else:
            checks = "schema, references, terraform" + ("" if no_build else ", build")
            click.echo(f"{path}: ok ({checks})")
    if bad:
        raise UsageError(f"{bad} of {len(files)} scenario file(s) have problems")
