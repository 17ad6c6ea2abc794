"""`kmslab diagnose`: diagnosis of a bundle (offline) or of a live request (contract section 4)."""

from __future__ import annotations

from typing import Any

import click

from harness.cli.collect import ACTION_HELP, checked_actions, live_request, request_options
from harness.errors import UsageError


def read_bundle(path: str) -> dict[str, Any]:
    """Load and validate a bundle (harness.evidence.bundle raises UsageError on bad input)."""
    from harness.evidence.bundle import load_bundle

    bundle: dict[str, Any] = load_bundle(path)
    return bundle


@click.command("diagnose")
@click.option(
    "--bundle",
    "bundle_path",
    type=click.Path(dir_okay=False),
    help="Evidence bundle to diagnose offline.",
)
@request_options
@click.option(
    "--action",
    "actions",
    multiple=True,
    default=("kms:Decrypt",),
    show_default=True,
    help=ACTION_HELP,
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
@click.pass_context
def diagnose(
    ctx: click.Context, bundle_path: str | None, actions: tuple[str, ...], fmt: str, **options: Any
) -> None:
    """Find the root cause of a KMS failure, the facts that prove it, and the exact fix."""
    from harness.diagnosis import diagnose as run_diagnosis
    from harness.diagnosis.render import render

    key, principal = options["key"], options["principal"]
    # kms:Decrypt when not given, as in `collect`; only a given --action conflicts with --bundle.
    action_given = ctx.get_parameter_source("actions") is not click.core.ParameterSource.DEFAULT
    if bundle_path and any((key, principal, action_given)):
        raise UsageError("use either --bundle or --key/--principal/--action, not both")
    if bundle_path:
        bundle = read_bundle(bundle_path)
    else:
        named = (("--key", key), ("--principal", principal), ("--action", actions))
        missing = [name for name, value in named if not value]
        if missing:
            raise UsageError(
                f"diagnose needs --bundle, or {', '.join(missing)} for a live diagnosis"
            )
        checked = checked_actions(actions)
        from harness.evidence import collect

        bundle = collect(*live_request(options, checked))
    click.echo(render(run_diagnosis(bundle), fmt), nl=False)
