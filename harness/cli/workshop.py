"""`kmslab workshop list|start|env|hint|check|solution|reset|status|page|rebind|handout`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from harness.cli.options import endpoint_url_option
from harness.errors import UsageError

FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")


def participant_option(fn: Any) -> Any:
    return click.option(
        "--participant",
        envvar="KMSLAB_PARTICIPANT",
        help="Your name in the room (or KMSLAB_PARTICIPANT).",
    )(fn)


def exercise_option(fn: Any) -> Any:
    return click.option(
        "--exercise",
        "exercise_id",
        default=None,
        help="Another exercise you started (default: the current one).",
    )(fn)


def _room(ctx: click.Context, endpoint: str | None = None) -> Any:
    from harness.workshop import DEFAULT_ENDPOINT, Room

    root = ctx.obj.get("catalog") if ctx.obj else None
    url = endpoint or os.environ.get("AWS_ENDPOINT_URL") or DEFAULT_ENDPOINT
    return Room(url, catalog_root=Path(root) if root else None)


def _emit(fmt: str, data: Any, text: str) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True) if fmt == "json" else text.rstrip("\n"))


@click.group()
@click.option(
    "--catalog",
    envvar="KMSLAB_WORKSHOP_CATALOG",
    type=click.Path(file_okay=False),
    default=None,
    help="Exercise folder (default: the scenario catalog).",
)
@click.pass_context
def workshop(ctx: click.Context, catalog: str | None) -> None:
    """Hands-on exercises: each participant fixes a broken KMS setup of their own on the lab."""
    ctx.obj = {"catalog": catalog}


@workshop.command("list")
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="Also catalog scenarios that are not exercises, and why.",
)
@FORMAT
@click.pass_context
def list_(ctx: click.Context, show_all: bool, fmt: str) -> None:
    """The exercises."""
    from harness.workshop import catalog_exercises

    root = ctx.obj.get("catalog")
    found, skipped = catalog_exercises(Path(root) if root else None)
    rows = [e.summary() for e in found]
    lines = [
        f"{r['id']:<36} step {r['runbook_step']!s:<6} hints {r['hints']}  {r['title']}"
        for r in rows
    ]
    data: Any = rows
    if show_all:
        data = {"exercises": rows, "not_exercises": skipped}
        lines += [f"(not an exercise) {k}: {v}" for k, v in sorted(skipped.items())]
    _emit(fmt, data, "\n".join(lines) or "no exercises in the catalog")


def render_start(record: dict[str, Any]) -> str:
    from harness.workshop.settings import settings_text

    call = record["failing_call"]
    outcome = call["error"] or "the call succeeds (nothing to fix?)"
    accounts = ", ".join(f"{k}={v}" for k, v in record["accounts"].items())
    return "\n".join(
        [
            f"Exercise {record['exercise']}: {record['title']}",
            f"Participant {record['participant']}, your lab accounts: {accounts}",
            "",
            record["story"],
            "",
            f"The application ({call['principal']}) makes this call:",
            f"  {call['command']}",
            "and gets:",
            f"  {outcome}",
            "",
            "Paste one of these blocks into your shell (AWS CLI, or Terraform's AWS provider):",
            "",
            settings_text(record),
            "When you think it is fixed: kmslab workshop check   (stuck? kmslab workshop hint)",
        ]
    )


def _public(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "resolved"}


@workshop.command()
@click.argument("exercise_id")
@participant_option
@click.option(
    "--endpoint-url",
    default=None,
    help="The lab endpoint (default: AWS_ENDPOINT_URL or http://127.0.0.1:4566).",
)
@FORMAT
@click.pass_context
def start(
    ctx: click.Context,
    exercise_id: str,
    participant: str | None,
    endpoint_url: str | None,
    fmt: str,
) -> None:
    """Provision EXERCISE_ID in your own accounts; print the story, the failing call, settings."""
    room = _room(ctx, endpoint_url)
    if endpoint_url is None and not os.environ.get("AWS_ENDPOINT_URL"):
        # An exercise already started stays on its lab unless a new address is given.
        started = (room.store.participant(participant or "") or {}).get("exercises", {})
        if exercise_id in started:
            room.endpoint = started[exercise_id]["endpoint"]
    record = room.start(participant or "", exercise_id)
    _emit(fmt, _public(record), render_start(record))


@workshop.command()
@participant_option
@exercise_option
@endpoint_url_option("the room's lab (else the one your exercise started on)")
@FORMAT
@click.pass_context
def reset(
    ctx: click.Context,
    participant: str | None,
    exercise_id: str | None,
    endpoint_url: str | None,
    fmt: str,
) -> None:
    """Start your exercise over, in fresh accounts (hints already seen stay counted)."""
    room = _room(ctx, endpoint_url)
    if endpoint_url is None:
        room.endpoint = (
            room.record(participant or "", exercise_id)["endpoint"]
            if participant
            else room.endpoint
        )
    record = room.reset(participant or "", exercise_id)
    _emit(fmt, _public(record), render_start(record))


@workshop.command()
@participant_option
@exercise_option
@click.option("--as", "role", type=click.Choice(["investigator", "fixer"]), default="investigator")
@click.option(
    "--account", "account_name", default=None, help="Logical account (default: the application's)."
)
@click.pass_context
def env(
    ctx: click.Context,
    participant: str | None,
    exercise_id: str | None,
    role: str,
    account_name: str | None,
) -> None:
    """Print `export` lines for your investigator or fixer credentials (use with eval)."""
    from harness.workshop.room import check_participant
    from harness.workshop.settings import env_lines

    record = _room(ctx).record(check_participant(participant), exercise_id)
    by_account = record["credentials"][role]
    if account_name is None:
        account_name = next(
            (n for n, c in by_account.items() if c["account"] == record["caller_account"]),
            next(iter(by_account)),
        )
    if account_name not in by_account:
        raise UsageError(
            f"no account {account_name!r} in this exercise (have: {', '.join(by_account)})"
        )
    click.echo("\n".join(env_lines(record["endpoint"], record["region"], by_account[account_name])))


@workshop.command()
@participant_option
@exercise_option
@FORMAT
@click.pass_context
def hint(ctx: click.Context, participant: str | None, exercise_id: str | None, fmt: str) -> None:
    """Reveal the next hint."""
    result = _room(ctx).hint(participant or "", exercise_id)
    more = (
        ""
        if result["more"]
        else "  (that was the last one; `kmslab workshop solution` shows the fix)"
    )
    _emit(fmt, result, f"Hint {result['number']}/{result['total']}: {result['hint']}{more}")


@workshop.command()
@participant_option
@exercise_option
@FORMAT
@click.pass_context
def solution(
    ctx: click.Context, participant: str | None, exercise_id: str | None, fmt: str
) -> None:
    """Show the fix and why (the facilitator sees that you looked)."""
    import yaml

    result = _room(ctx).solution(participant or "", exercise_id)
    lines = [
        f"Fix: {result['summary']}",
        f"Why: {result['finding']} ({result['why']}), runbook step {result['runbook_step']}.",
    ]
    if result["changes"]:
        lines += [
            "What changes in your setup:",
            yaml.safe_dump(result["changes"], sort_keys=False).rstrip(),
        ]
    lines += [f"Source: {s}" for s in result["sources"]]
    _emit(fmt, result, "\n".join(lines))


@workshop.command()
@participant_option
@exercise_option
@FORMAT
@click.pass_context
def check(ctx: click.Context, participant: str | None, exercise_id: str | None, fmt: str) -> None:
    """Make the application's call again and judge the fix.

    \b
    Exit 0 when the fix is accepted (PASSED), 1 when the call still fails (NOT YET) or the fix
    is rejected (REJECTED); `--format json` prints the verdict for tools.
    """
    result = _room(ctx).check(participant or "", exercise_id)
    call = result["call"]
    if result["result"] == "passed":
        text = "PASSED: the application's call succeeds and the fix is legitimate."
    elif result["result"] == "failed":
        text = f"NOT YET: the application's call still fails:\n  {call['error']}"
    else:
        text = "REJECTED: the call succeeds, but the fix is not acceptable:\n" + "\n".join(
            f"  - [{r['code']}] {r['reason']}" for r in result["reasons"]
        )
    _emit(fmt, result, text)
    ctx.exit(0 if result["result"] == "passed" else 1)


@workshop.command()
@participant_option
@exercise_option
@click.option(
    "--account", "account_name", default=None, help="Logical account (default: the application's)."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Directory (default: under the state dir).",
)
@click.pass_context
def terraform(
    ctx: click.Context,
    participant: str | None,
    exercise_id: str | None,
    account_name: str | None,
    out: str | None,
) -> None:
    """Write a Terraform directory holding your key and role policies, to fix by editing."""
    path = _room(ctx).terraform_kit(
        participant or "",
        Path(out) if out else None,
        exercise_id=exercise_id,
        account_name=account_name,
    )
    click.echo(
        "\n".join(
            [
                f"wrote {path}",
                "edit a policy there, then with the fixer settings in your shell:",
                f'  eval "$(kmslab workshop env --as fixer)" && cd {path.parent} && terraform init && terraform apply',
                "then: kmslab workshop check",
            ]
        )
    )


@workshop.command()
@FORMAT
@click.pass_context
def status(ctx: click.Context, fmt: str) -> None:
    """Facilitator view: every participant's exercises, hints used and results."""
    rows = _room(ctx).status()
    header = (
        f"{'participant':<16} {'exercise':<32} {'hints':<6} {'solution':<9} {'checks':<7} result"
    )
    lines = [header]
    for r in rows:
        mark = "*" if r["current"] else " "
        result = r["result"] + (f" ({', '.join(r['reasons'])})" if r["reasons"] else "")
        lines.append(
            f"{r['participant']:<16} {mark}{r['exercise']:<31} {r['hints_used']}/{r['hints_total']:<4} "
            f"{'yes' if r['solution_shown'] else 'no':<9} {r['checks']:<7} {result}"
        )
    _emit(fmt, rows, "\n".join(lines) if rows else "no participant has started an exercise")


@workshop.command()
@click.option(
    "--endpoint-url",
    default=None,
    help="The lab endpoint (default: AWS_ENDPOINT_URL or http://127.0.0.1:4566).",
)
@click.pass_context
def page(ctx: click.Context, endpoint_url: str | None) -> None:
    """Facilitator: publish the room to the lab and print the live page's address."""
    from harness.errors import EndpointError

    room = _room(ctx, endpoint_url)
    if not room.publish():
        raise EndpointError(
            f"the lab at {room.endpoint} did not take the room (is it up, and is this the "
            "facilitator's machine with its operator secret?)"
        )
    click.echo(room.page_url())


@workshop.command()
@click.option("--endpoint-url", required=True, help="Where the restarted lab listens now.")
@FORMAT
@click.pass_context
def rebind(ctx: click.Context, endpoint_url: str, fmt: str) -> None:
    """Facilitator: after a lab restart (`lab up --state FILE`), move every participant's
    exercise to the lab at --endpoint-url with freshly issued credentials."""
    rows = _room(ctx, endpoint_url).rebind()
    lines = [
        f"{r['participant']:<16} {r['exercise']:<36} "
        + (f"NOT re-bound: {r['error']}" if r["error"] else f"re-bound to {endpoint_url}")
        for r in rows
    ]
    _emit(fmt, rows, "\n".join(lines) or "no participant has started an exercise")
    if any(r["error"] for r in rows):
        ctx.exit(1)


@workshop.command()
@click.argument("exercise_id")
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md")
@click.option("--out", type=click.Path(dir_okay=False), default=None)
@click.option("--endpoint-url", default=None, help="Endpoint written into the start commands.")
@click.pass_context
def handout(
    ctx: click.Context, exercise_id: str, fmt: str, out: str | None, endpoint_url: str | None
) -> None:
    """A printable handout of EXERCISE_ID (story, goals, start, hints; solution apart)."""
    from harness.workshop import DEFAULT_ENDPOINT, find_exercise
    from harness.workshop import handout as render

    root = ctx.obj.get("catalog")
    text = render(
        find_exercise(exercise_id, Path(root) if root else None),
        fmt,
        endpoint_url or DEFAULT_ENDPOINT,
    )
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror}") from None
    click.echo(f"wrote {out}")
