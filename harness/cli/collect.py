"""`kmslab collect`: read-only evidence collection into a bundle (contract sections 1 and 3)."""

from __future__ import annotations

import json

import click

from harness.errors import UsageError


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


@click.command("collect")
@click.option(
    "--key", help="Key id, alias/NAME, or key or alias ARN, as the failing call named it."
)
@click.option("--principal", help="ARN of the principal that made the failing call.")
@click.option("--action", default="kms:Decrypt", show_default=True, help="The failing action.")
@click.option("--region", help="Region of the failing call (default: the AWS CLI's).")
@click.option("--encryption-context", "encryption_context", multiple=True, metavar="K=V")
@click.option("--context", "extra_context", multiple=True, metavar="KEY=VALUE",
              help="Other request context keys, e.g. aws:PrincipalOrgID=o-abc.")  # fmt: skip
@click.option(
    "--via-service", help="kms:ViaService of the failing call (an AWS service called KMS)."
)
@click.option("--source-vpce", help="aws:SourceVpce: the VPC endpoint the call came through.")
@click.option("--observed-error", metavar="CODE:MESSAGE", help="The error the caller saw.")
@click.option("--grant-tokens", type=click.IntRange(min=0), default=0,
              help="How many grant tokens the failing call passed (the count, never the tokens).")  # fmt: skip
@click.option("--key-account", help="Account that owns the key, when the key is not named by ARN.")
@click.option("--endpoint-url", help="AWS-compatible endpoint (default: AWS, or AWS_ENDPOINT_URL).")
@click.option("--profile", help="AWS profile of the investigator.")
@click.option("--key-profile", help="AWS profile acting in the key's account (cross-account keys).")
@click.option("--out", "out", type=click.Path(dir_okay=False), help="Bundle file to write.")
@click.option("--redact", is_flag=True, help="Pseudonymise account ids, ARNs and names.")
@click.option("--timeout", type=click.FloatRange(min=1), default=60.0, show_default=True,
              help="Seconds the whole collection may take.")  # fmt: skip
@click.option("--lookback-hours", type=click.FloatRange(min=0.1), default=24.0, show_default=True,
              help="CloudTrail and CloudWatch Logs window.")  # fmt: skip
@click.option("--print-iam-policy", is_flag=True,
              help="Print the least-privilege IAM policy collection needs, and exit.")  # fmt: skip
def collect(
    key: str | None,
    principal: str | None,
    action: str,
    region: str | None,
    encryption_context: tuple[str, ...],
    extra_context: tuple[str, ...],
    via_service: str | None,
    source_vpce: str | None,
    observed_error: str | None,
    grant_tokens: int,
    key_account: str | None,
    endpoint_url: str | None,
    profile: str | None,
    key_profile: str | None,
    out: str | None,
    redact: bool,
    timeout: float,
    lookback_hours: float,
    print_iam_policy: bool,
) -> None:
    """Collect the runbook's evidence for a failing KMS call, read-only, into a bundle."""
    from harness.evidence import investigator_policy

    if print_iam_policy:
        click.echo(json.dumps(investigator_policy(), indent=2))
        return
    missing = [
        name
        for name, value in (("--key", key), ("--principal", principal), ("--out", out))
        if not value
    ]
    if missing:
        raise UsageError(f"collect needs {', '.join(missing)} (or --print-iam-policy)")
    assert key and principal and out

    from harness.aws import Target
    from harness.evidence import CollectOptions, InvestigationRequest, run_collection
    from harness.evidence.bundle import redact_bundle, write_bundle

    context: dict[str, str] = _pairs(extra_context, "--context")
    if via_service:
        context["kms:ViaService"] = via_service
    if source_vpce:
        context["aws:SourceVpce"] = source_vpce
    request = InvestigationRequest(
        principal=principal,
        action=action,
        key=key,
        region=region,
        encryption_context=_pairs(encryption_context, "--encryption-context"),
        context=context,
        observed_error=_observed(observed_error),
        grant_tokens=grant_tokens,
        key_account=key_account,
    )
    target = Target(endpoint_url=endpoint_url, region=region, profile=profile)
    key_target = (
        Target(endpoint_url=endpoint_url, region=region, profile=key_profile)
        if key_profile
        else None
    )
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
