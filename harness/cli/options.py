"""Options shared by several commands, so the same flag means the same thing everywhere."""

from __future__ import annotations

import functools
import os
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


# --region and --profile ------------------------------------------------------------------------
# As in the AWS CLI: --region, else AWS_REGION, else AWS_DEFAULT_REGION, else the profile's region;
# --profile, else AWS_PROFILE, else the default credential chain. A Region botocore's endpoint data
# does not list, or a profile the shared config and credentials files do not hold, is bad input
# (exit 2, one line) in every command, whether it came from the flag or from the environment.

REGION_ENV = ("AWS_REGION", "AWS_DEFAULT_REGION")


@functools.lru_cache(maxsize=1)
def known_regions() -> tuple[str, ...]:
    """Every Region of every partition in botocore's endpoint data."""
    import botocore.loaders

    data = botocore.loaders.create_loader().load_data("endpoints")
    return tuple(sorted({r for p in data["partitions"] for r in p.get("regions", {})}))


def region_problem(name: str, source: str) -> str | None:
    """Why `name` (given as `source`, a flag or a variable) is not a Region, or None."""
    regions = known_regions()
    if name in regions:
        return None
    import difflib

    close = difflib.get_close_matches(name.strip().lower().replace("_", "-"), regions, n=1)
    hint = f"did you mean {close[0]}?" if close else "for example us-east-1, eu-west-1"
    return f"{source} {name!r} is not an AWS Region ({hint})"


def profile_problem(name: str, source: str) -> str | None:
    """Why `name` is not a usable profile (botocore's ProfileNotFound), or None."""
    import botocore.session

    session = botocore.session.Session()
    if name in session.available_profiles:
        return None
    return f"{source}: profile not found: {name} (`aws configure list-profiles` lists them)"


def check_aws_environment(*, region: bool = True, profile: bool = True) -> None:
    """AWS_PROFILE (when `profile`: no --profile overrides it) and AWS_REGION/AWS_DEFAULT_REGION
    (when `region`: the command uses a Region and no --region overrides it) name a profile and a
    Region that exist; else a usage error, as a bad --profile or --region is."""
    problems = []
    if region:
        name = next((var for var in REGION_ENV if os.environ.get(var)), None)
        if name is not None:
            problems.append(region_problem(os.environ[name], name))
    if profile and os.environ.get("AWS_PROFILE"):
        problems.append(profile_problem(os.environ["AWS_PROFILE"], "AWS_PROFILE"))
    problem = next((p for p in problems if p), None)
    if problem:
        raise click.UsageError(problem, click.get_current_context(silent=True))


def _region_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        problem = region_problem(value, "--region")
        if problem:
            raise click.UsageError(problem, ctx)
    return value


def _profile_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        problem = profile_problem(value, param.opts[0])
        if problem:
            raise click.UsageError(problem, ctx)
    return value


def region_option(help: str) -> Callable[[F], F]:
    """`--region NAME`: checked against botocore's endpoint data."""
    return click.option(
        "--region", metavar="REGION", default=None, callback=_region_callback, help=help
    )


def profile_option(help: str, *, name: str = "--profile") -> Callable[[F], F]:
    """`--profile NAME` (or another profile flag): a profile of the shared config files."""
    return click.option(
        name, metavar="PROFILE", default=None, callback=_profile_callback, help=help
    )
