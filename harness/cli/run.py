"""`kmslab run` and `kmslab reproduce`: scenarios end to end against a lab."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from harness.errors import KmslabError, UsageError

UPSTREAM_HELP = "moto (embedded, default), localstack (on the host), or the URL of a running lab"


@contextmanager
def lab_endpoint(upstream: str, endpoint_url: str | None) -> Iterator[str]:
    """A lab to run against: the one at --endpoint-url, or one started here for the run.

    The lab started here runs in a child process: the investigation's concurrent calls and
    the lab that answers them then use both cores instead of sharing one interpreter lock
    (a third faster over the catalog, see `make bench`).
    """
    if endpoint_url:
        yield endpoint_url
        return
    from harness.lab.child import child_lab

    with child_lab(upstream) as endpoint:
        yield endpoint


def select(ids: tuple[str, ...], run_all: bool) -> list:  # type: ignore[type-arg]
    from harness.scenarios.catalog import find, load_catalog

    if run_all and ids:
        raise UsageError("give scenario ids or --all, not both")
    if run_all:
        return load_catalog()
    if not ids:
        raise UsageError("name at least one scenario id or file, or pass --all")
    return [find(ref) for ref in ids]


@click.command()
@click.argument("ids", nargs=-1)
@click.option("--all", "run_all", is_flag=True, help="the whole catalog")
@click.option(
    "--via", type=click.Choice(["native", "terraform"]), default="native", show_default=True
)
@click.option("--upstream", default="moto", show_default=True, help=UPSTREAM_HELP)
@click.option("--endpoint-url", help="use an already running lab at this URL")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def run(
    ids: tuple[str, ...], run_all: bool, via: str, upstream: str, endpoint_url: str | None, fmt: str
) -> None:
    """Provision, reproduce, diagnose, fix and verify each scenario; one row each.

    Exit status: 0 when every scenario is ok (or fails only as its declared `lab_gap`, a
    lab behaviour known to be missing); 1 when any other scenario is not ok; 2 bad input;
    3 the lab or its upstream could not be reached.
    """
    from harness.scenarios.batch import run_batch
    from harness.scenarios.report import progress, render_table

    chosen = select(ids, run_all)
    with (
        lab_endpoint(upstream, endpoint_url) as endpoint,
        progress(len(chosen), fmt == "text") as tick,
    ):
        results = run_batch(chosen, endpoint, via=via, on_result=tick)
    if fmt == "json":
        click.echo(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        render_table(results, sys.stdout)
    failed = [r.id for r in results if not r.ok and not r.lab_gap]
    if failed:
        raise KmslabError(f"{len(failed)} scenario(s) not ok: {', '.join(failed)}")


@click.command()
@click.argument("ref")
@click.option("--upstream", default="moto", show_default=True, help=UPSTREAM_HELP)
@click.option("--endpoint-url", help="use an already running lab at this URL (left provisioned)")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def reproduce(ref: str, upstream: str, endpoint_url: str | None, fmt: str) -> None:
    """Provision one scenario and make its failing call; print what the caller sees."""
    from harness.scenarios.call import issue_credentials, make_call
    from harness.scenarios.catalog import find
    from harness.scenarios.runner import Runner

    scenario = find(ref)
    with lab_endpoint(upstream, endpoint_url) as endpoint:
        runner = Runner.for_lab(endpoint)
        provisioner, resolved = runner.provision(scenario)
        caller = issue_credentials(provisioner, scenario.call, scenario.setup, resolved)
        outcome = make_call(caller, scenario.call, resolved)
    if fmt == "json":
        click.echo(
            json.dumps({"id": scenario.id, "caller": caller.arn, **outcome.to_dict()}, indent=2)
        )
        return
    click.echo(f"{scenario.id}: {caller.arn} calls kms:{scenario.call['operation']}")
    if outcome.ok:
        click.echo("  succeeded")
    else:
        click.echo(f"  {outcome.code}: {outcome.message}")
