"""`kmslab diagnose`: diagnosis of a bundle (offline) or of a live request (contract section 4)."""

from __future__ import annotations

from typing import Any

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
@click.option(
    "--key", help="Key id, alias/NAME, or key or alias ARN, as the failing call named it."
)
@click.option("--principal", help="ARN of the principal that made the failing call.")
@click.option("--action", help="The failing action, e.g. kms:Decrypt.")
@click.option("--region", help="Region of the failing call (default: the AWS CLI's).")
@click.option("--encryption-context", "encryption_context", multiple=True, metavar="K=V")
@click.option(
    "--context",
    "extra_context",
    multiple=True,
    metavar="KEY=VALUE",
    help="Other request context keys.",
)
@click.option("--via-service", help="kms:ViaService of the failing call.")
@click.option("--source-vpce", help="aws:SourceVpce: the VPC endpoint the call came through.")
@click.option("--observed-error", metavar="CODE:MESSAGE", help="The error the caller saw.")
@click.option(
    "--grant-tokens",
    type=click.IntRange(min=0),
    default=0,
    help="How many grant tokens the failing call passed.",
)
@click.option("--key-account", help="Account that owns the key, when the key is not named by ARN.")
@click.option("--profile", help="AWS profile of the investigator.")
@click.option("--key-profile", help="AWS profile acting in the key's account (cross-account keys).")
@click.option("--endpoint-url", help="AWS-compatible endpoint (default: AWS, or AWS_ENDPOINT_URL).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
def diagnose(
    bundle_path: str | None,
    key: str | None,
    principal: str | None,
    action: str | None,
    region: str | None,
    encryption_context: tuple[str, ...],
    extra_context: tuple[str, ...],
    via_service: str | None,
    source_vpce: str | None,
    observed_error: str | None,
    grant_tokens: int,
    key_account: str | None,
    profile: str | None,
    key_profile: str | None,
    endpoint_url: str | None,
    fmt: str,
) -> None:
    """Find the root cause of a KMS failure, the facts that prove it, and the exact fix."""
    from harness.diagnosis import diagnose as run_diagnosis
    from harness.diagnosis.render import render

    live = any((key, principal, action))
    if bundle_path and live:
        raise UsageError("use either --bundle or --key/--principal/--action, not both")
    if bundle_path:
        bundle = read_bundle(bundle_path)
    else:
        missing = [
            n
            for n, v in (("--key", key), ("--principal", principal), ("--action", action))
            if not v
        ]
        if missing:
            raise UsageError(
                f"diagnose needs --bundle, or {', '.join(missing)} for a live diagnosis"
            )
        assert key and principal and action
        from harness.aws import Target
        from harness.evidence import InvestigationRequest, collect

        context: dict[str, Any] = _pairs(extra_context, "--context")
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
        bundle = collect(request, target, key_target)
    click.echo(render(run_diagnosis(bundle), fmt), nl=False)
