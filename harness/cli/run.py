"""`kmslab run` and `kmslab reproduce`: scenarios end to end against a lab."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from harness.cli.options import check_aws_environment, endpoint_url_option
from harness.errors import KmslabError, UsageError

if TYPE_CHECKING:
    from harness.scenarios.model import Scenario
    from harness.scenarios.results import RunResult

UPSTREAM_HELP = "moto (embedded, default), localstack (on the host), or the URL of a running lab"


@contextmanager
def lab_endpoint(
    upstream: str, endpoint_url: str | None, *, upstream_given: bool = False
) -> Iterator[str]:
    """A lab to run against: the one at --endpoint-url (or AWS_ENDPOINT_URL), else the one
    `kmslab lab up --detach` started for this checkout, else one started here for the run.

    The lab started here runs in a child process: the investigation's concurrent calls and
    the lab that answers them then use both cores instead of sharing one interpreter lock
    (a third faster over the catalog, see `make bench`).

    The lab's calls are signed with lab-issued credentials, but botocore still reads
    AWS_PROFILE: a profile that does not exist is bad input here as for `collect --profile`.
    """
    check_aws_environment(region=False)
    if endpoint_url:
        yield endpoint_url
        return
    running = running_lab(upstream if upstream_given else None)
    if running is not None:
        click.echo(f"kmslab: using the lab `kmslab lab up` started: {running}", err=True)
        yield running
        return
    from harness.lab.child import child_lab

    with child_lab(upstream) as endpoint:
        yield endpoint


def running_lab(upstream: str | None) -> str | None:
    """The endpoint of a healthy lab that `lab up --detach` started for this checkout (and of
    `upstream`, when the user asked for one), or None."""
    from harness.cli.lab import alive, read_pid
    from harness.errors import EndpointError
    from harness.lab import LabClient

    info = read_pid()
    if info is None or not alive(info["pid"]):
        return None
    if upstream is not None and info.get("upstream") != upstream:
        return None
    endpoint = str(info.get("endpoint") or "")
    try:
        LabClient(endpoint, timeout=2.0).health()
    except EndpointError:
        return None
    return endpoint


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
@endpoint_url_option("use an already running lab at this URL")
@click.option(
    "--read-as",
    type=click.Choice(["investigator", "operator"]),
    default="investigator",
    show_default=True,
    help="read evidence as lab-issued roles holding `collect --print-iam-policy`, or as operators",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "junit", "markdown"]),
    default="text",
    show_default=True,
    help="text table, JSON rows, JUnit XML or a Markdown summary",
)
@click.option(
    "--diagnoser",
    metavar="'CMD {bundle}'",
    help="score this command on the scenarios: it gets each evidence bundle, answers a finding code",
)
@click.option(
    "--code-map",
    type=click.Path(dir_okay=False, path_type=Path),
    help="with --diagnoser: YAML/JSON map of the command's own codes to finding codes",
)
@click.option(
    "--diagnoser-timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="with --diagnoser: seconds to wait for each answer",
)
@click.pass_context
def run(
    ctx: click.Context,
    ids: tuple[str, ...],
    run_all: bool,
    via: str,
    upstream: str,
    endpoint_url: str | None,
    read_as: str,
    fmt: str,
    diagnoser: str | None,
    code_map: Path | None,
    diagnoser_timeout: float,
) -> None:
    """Provision, reproduce, diagnose, fix and verify each scenario; one row each.

    Evidence is read as lab-issued investigator roles holding exactly the policy
    `kmslab collect --print-iam-policy` prints (in the caller's account and the key's);
    `--read-as operator` reads as the lab operators instead. The investigation request is
    built only from what the call sent and what AWS answered.

    With --diagnoser, score an external diagnosis command instead: each scenario's
    evidence bundle goes to the command, and its answers are scored per runbook step and
    finding code (exit 0 whatever the score).

    Exit status: 0 when every scenario is ok (or fails only as its declared `lab_gap`, a
    lab behaviour known to be missing); 1 when any other scenario is not ok; 2 bad input;
    3 the lab or its upstream could not be reached; 130 interrupted (the finished rows
    are printed).
    """
    from harness.scenarios.batch import run_batch
    from harness.scenarios.report import progress
    from harness.scenarios.runner import Runner

    given = ctx.get_parameter_source("upstream") is not click.core.ParameterSource.DEFAULT
    chosen = select(ids, run_all)
    if diagnoser is not None:
        score_diagnoser(chosen, diagnoser, code_map, diagnoser_timeout, fmt, upstream, given)
        return
    if code_map is not None:
        raise UsageError("--code-map needs --diagnoser")
    if via == "terraform":
        from harness.scenarios.batch import refuse_what_terraform_cannot

        refuse_what_terraform_cannot(chosen)  # before any lab starts
    from harness.scenarios import tfprogress

    if via == "terraform":
        # Terraform's steps report themselves; one live display at a time on a terminal.
        tfprogress.enable()
    finished: list[RunResult] = []
    try:
        with (
            lab_endpoint(upstream, endpoint_url, upstream_given=given) as endpoint,
            progress(len(chosen), fmt == "text" and via != "terraform") as tick,
        ):

            def done(result: RunResult) -> None:
                finished.append(result)
                tick(result)

            runner = Runner.for_lab(endpoint, read_as=read_as)
            results = run_batch(chosen, endpoint, via=via, on_result=done, runner=runner)
    except KeyboardInterrupt:
        if finished:
            emit(finished, fmt, chosen)
        click.echo(
            f"kmslab: interrupted after {len(finished)} of {len(chosen)} scenario(s)", err=True
        )
        ctx.exit(130)
    finally:
        tfprogress.disable()
    emit(results, fmt, chosen)
    if fmt == "text":
        print_not_rebuilt(chosen)
    failed = [r.id for r in results if not r.ok and not r.lab_gap]
    if failed:
        raise KmslabError(f"{len(failed)} scenario(s) not ok: {', '.join(failed)}")


def print_not_rebuilt(chosen: list[Scenario]) -> None:
    """What scenarios rebuilt from evidence bundles could not recreate (their `not_rebuilt`)."""
    for scenario in chosen:
        items = scenario.not_rebuilt
        if items:
            click.echo(f"{scenario.id}: not rebuilt from the bundle ({len(items)}):")
            for item in items:
                click.echo(f"  - {item['what']}: {item['reason']}")


def emit(results: list[RunResult], fmt: str, chosen: list[Scenario] | None = None) -> None:
    from harness.scenarios.report import render_table

    if fmt == "json":
        # additive: a scenario rebuilt from a bundle (`scenarios from-bundle`) carries what
        # could not be rebuilt, possibly nothing; other rows have no `not_rebuilt`
        rebuilt = {s.id: s.not_rebuilt for s in chosen or [] if "not_rebuilt" in s.raw}
        rows = [
            r.to_dict() | ({"not_rebuilt": rebuilt[r.id]} if r.id in rebuilt else {})
            for r in results
        ]
        click.echo(json.dumps(rows, indent=2))
    elif fmt == "junit":
        from harness.scenarios.ci_formats import junit

        click.echo(junit(results))
    elif fmt == "markdown":
        from harness.scenarios.ci_formats import markdown

        click.echo(markdown(results), nl=False)
    else:
        render_table(results, sys.stdout)


def score_diagnoser(
    chosen: list[Scenario],
    command: str,
    code_map: Path | None,
    timeout: float,
    fmt: str,
    upstream: str,
    upstream_given: bool,
) -> None:
    """Reproduce each scenario, hand its evidence bundle to `command`, print the scorecard."""
    from harness.scenarios.runner import Runner
    from harness.scenarios.scorecard import Case, Diagnoser, Scorecard, ask_all, load_code_map

    if fmt not in ("text", "json"):
        raise UsageError("--diagnoser prints its scorecard as text or json")
    mapping = load_code_map(code_map) if code_map is not None else {}
    diagnoser = Diagnoser.parse(command, mapping, timeout)
    cases: list[Case] = []
    endpoint_url = click.get_current_context().params.get("endpoint_url")
    with lab_endpoint(upstream, endpoint_url, upstream_given=upstream_given) as endpoint:
        runner = Runner.for_lab(endpoint)
        for scenario in chosen:
            provisioner, resolved = runner.provision(scenario)
            attempt = runner.attempt(provisioner, scenario, resolved)
            step = str(scenario.runbook_step)
            cases.append(Case(scenario.id, scenario.expected_finding, step, attempt.bundle))
    card = Scorecard(ask_all(cases, diagnoser))
    if fmt == "json":
        click.echo(json.dumps(card.to_dict(), indent=2))
    else:
        click.echo(card.render_text())


@click.command()
@click.argument("ref")
@click.option("--upstream", default="moto", show_default=True, help=UPSTREAM_HELP)
@endpoint_url_option("use an already running lab at this URL (left provisioned)")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_context
def reproduce(
    ctx: click.Context, ref: str, upstream: str, endpoint_url: str | None, fmt: str
) -> None:
    """Provision one scenario and make its failing call; print what the caller sees."""
    from harness.scenarios.call import issue_credentials, make_call
    from harness.scenarios.catalog import find
    from harness.scenarios.runner import Runner

    scenario = find(ref)
    given = ctx.get_parameter_source("upstream") is not click.core.ParameterSource.DEFAULT
    with lab_endpoint(upstream, endpoint_url, upstream_given=given) as endpoint:
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
