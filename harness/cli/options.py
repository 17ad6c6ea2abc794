"""Options shared by several commands, so the same flag means the same thing everywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


class PrimaryNameOption(click.Option):
    """An option whose help shows only its first name; the others are kept aliases
    (`--endpoint` stays accepted where it existed before `--endpoint-url`)."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        aliases = self.opts
        self.opts = aliases[:1]
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts = aliases


def endpoint_url_option(
    help: str, *, alias: bool = False, dest: str = "endpoint_url"
) -> Callable[[F], F]:
    """`--endpoint-url URL`, defaulting to AWS_ENDPOINT_URL as in the AWS CLI; `alias` keeps
    the older `--endpoint` working (not shown in help)."""
    names = ["--endpoint-url", "--endpoint"] if alias else ["--endpoint-url"]
    return click.option(
        *names,
        dest,
        cls=PrimaryNameOption,
        envvar="AWS_ENDPOINT_URL",
        metavar="URL",
        default=None,
        help=f"{help} (default: AWS_ENDPOINT_URL)",
    )
