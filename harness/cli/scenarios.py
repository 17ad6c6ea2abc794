"""`kmslab scenarios list|from-bundle|tfvars`: the catalog and customer incidents as scenarios."""

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
