"""The caller's credentials were refused before any policy was read: an expired session, a wrong
secret or signature, an unknown access key id or session token.

The codes are the ones AWS's front end returns per protocol: JSON services (KMS)
`ExpiredTokenException`, `UnrecognizedClientException`, `InvalidSignatureException`,
`IncompleteSignatureException`, `MissingAuthenticationTokenException`; query services (IAM, STS)
`ExpiredToken`, `InvalidClientTokenId`, `SignatureDoesNotMatch`, `IncompleteSignature`,
`MissingAuthenticationToken`; EC2 `AuthFailure`, `RequestExpired` (CommonErrors pages of the
IAM and EC2 API references; reference_sigv-troubleshooting.html). Catalog row C38 is the
best-known case (Lambda: "UnrecognizedClientException ... The security token included in the
request is invalid").
"""

from __future__ import annotations

from harness.diagnosis.appliers import iam_applier
from harness.diagnosis.callfixes import cli_call, cli_new_session
from harness.diagnosis.context import Context
from harness.diagnosis.fixes import sh
from harness.diagnosis.model import Evidence, Finding, Fix
from harness.diagnosis.registry import Explains, RuleMeta

EXPIRED = frozenset({"ExpiredTokenException", "ExpiredToken", "RequestExpired"})
UNKNOWN = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "MissingAuthenticationToken",
        "MissingAuthenticationTokenException",
    }
)
SIGNATURE = frozenset(
    {
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "IncompleteSignatureException",
        "AuthFailure",
    }
)
CODES = EXPIRED | UNKNOWN | SIGNATURE

META = RuleMeta(
    code="CREDENTIALS_INVALID",
    runbook_step="extra",
    severity="error",
    title="Credentials refused",
    reads=("cloudtrail:LookupEvents",),
    catalog=("C38",),
    meaning="the caller's credentials were refused before any policy was read: expired session, wrong secret or signature, unknown session token",
    phase="admission",
    node="credentials",
    fixes=(
        "aws sts get-caller-identity",
        "aws sts assume-role",
        "aws iam list-access-keys",
        "aws iam create-access-key",
        "aws kms {operation}",
    ),
    explains=Explains(errors=CODES),
)


def _session_evidence(ctx: Context) -> list[Evidence]:
    """When the bundle holds the AssumeRole of the caller's session, when it was issued and for
    how long: the expiry a person can check against the failure's time."""
    session = ctx.facts.principal_arn.rsplit("/", 1)[-1] if ctx.facts.principal_arn else ""
    out = []
    for event in ctx.facts.cloudtrail_events:
        if event.get("eventName") != "AssumeRole":
            continue
        params = event.get("requestParameters") or {}
        if not session or params.get("roleSessionName") != session:
            continue
        out.append(
            Evidence(
                "cloudtrail:LookupEvents",
                f"AssumeRole of session {session} at {event.get('eventTime')} with "
                f"durationSeconds {params.get('durationSeconds', 3600)}",
            )
        )
    return out[-1:]


def _assumer(ctx: Context) -> str:
    """Who assumed the caller's role for this session, from its AssumeRole event, if recorded."""
    p = ctx.facts.principal
    for event in reversed(ctx.facts.cloudtrail_events):
        params = event.get("requestParameters") or {}
        same = params.get("roleSessionName") == p.session and str(
            params.get("roleArn", "")
        ).endswith(f"/{p.name}")
        if same and event.get("eventName") == "AssumeRole" and not event.get("errorCode"):
            return str((event.get("userIdentity") or {}).get("arn") or "")
    return ""


def _fix(ctx: Context, summary: str) -> Fix:
    """New credentials, issued by whoever may issue them: the role's assumer (its trust policy
    decides) for a session, an IAM administrator for a user's access key."""
    f = ctx.facts
    p = f.principal
    check_cmd = "aws sts get-caller-identity"
    if p.kind == "assumed-role" and f.role_arn:
        assumer = _assumer(ctx)
        return Fix(
            summary=summary,
            # A new session, then the application's call made with it.
            cli=f"{cli_new_session(f.role_arn, p.session or 'kmslab')}\n{check_cmd}\n{cli_call(f)}",
            terraform=_TF,
            applied_by=assumer,
            applied_by_reason=(
                f"{assumer} assumed {f.role_arn} for this session (CloudTrail AssumeRole)"
                if assumer
                else f"a principal the trust policy of {f.role_arn} allows to assume it"
            ),
        )
    if p.kind == "user" and p.name:
        applier = iam_applier(f.principal_account, "iam:CreateAccessKey")
        return Fix(
            summary=summary,
            cli=f"aws iam list-access-keys --user-name {sh(p.name)}\n"
            f"aws iam create-access-key --user-name {sh(p.name)} "
            "--query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text > access-key.txt\n"
            "read -r AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY < access-key.txt\n"
            "export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY\nunset AWS_SESSION_TOKEN\n"
            # A new access key is usable after IAM's eventual consistency (a few seconds).
            f"{check_cmd}\n{cli_call(f)}",
            terraform=_TF,
            applied_by=applier.arn,
            applied_by_reason=applier.how,
            notes=("deactivate the access key that no longer works once the new one is in use",),
        )
    return Fix(summary=summary, cli=check_cmd, terraform=_TF)


_TF = (
    "# Credentials are not Terraform resources: refresh the provider's credentials\n"
    "# (profile, environment or assume_role { duration = ... }) and run again."
)


def check(ctx: Context) -> Finding | None:
    signal = ctx.signal_code(*CODES)
    if signal is None:
        return None
    evidence = [ctx.signal_evidence()]
    if signal.code in EXPIRED:
        evidence += _session_evidence(ctx)
        summary = (
            f"The credentials of {ctx.who} had expired when it called {ctx.action}: AWS refused "
            "them before reading any policy; get new ones (refresh the session) and retry."
        )
        fix_summary = (
            "Get fresh credentials: let the SDK's credential provider refresh them, assume the "
            "role again, or ask for a longer DurationSeconds (up to the role's MaxSessionDuration)."
        )
    elif signal.code in UNKNOWN:
        summary = (
            f"AWS does not recognise the access key id or session token {ctx.who} signed with "
            f"(deleted key, a temporary key id without its session token, or one copied from "
            "elsewhere); no policy was read. Use the credentials issued to this principal."
        )
        fix_summary = (
            "Configure the credentials actually issued to the principal (key id, secret and, "
            "for temporary credentials, the session token together)."
        )
    else:
        summary = (
            f"The request signature of {ctx.who} did not verify (wrong secret access key, a "
            "proxy that changed the request, or a clock more than 5 minutes off); no policy "
            "was read. Fix the secret or the clock and retry."
        )
        fix_summary = (
            "Check the secret access key that goes with the access key id, and the machine's "
            "clock (SigV4 allows 5 minutes of skew)."
        )
    return ctx.finding(
        META,
        summary,
        evidence,
        _fix(ctx, fix_summary),
    )
