"""Signature Version 4 verification of incoming requests, as AWS's front end does it.

The canonical request, string to sign and signing key follow the SigV4 specification
(https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html): the signed
headers are the ones the caller listed in `SignedHeaders`, the payload hash is the SHA-256 of
the body actually received, and the URI path is encoded once more, as for every service but S3.

Refusal texts are the ones AWS returns (IAM User Guide, "Troubleshoot signature errors",
reference_sigv-troubleshooting.html, and the Alexa Web Information Service page on SigV4
authentication errors): "The request signature we calculated does not match ...",
"Signature expired: ... is now earlier than ...", "Date in Credential scope does not match ...",
"Credential should be scoped to a valid region.", "Credential should be scoped to correct
service: '...'". The protocol-specific error code is chosen by the gateway (see `refusal`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import quote

from werkzeug.wrappers import Request

from harness.lab.errors import AwsError

ALGORITHM = "AWS4-HMAC-SHA256"
# SigV4 signatures are valid for five minutes either side of the server's clock
# (reference_sigv-troubleshooting.html, "Signature expired" / "Signature not yet current").
MAX_SKEW = dt.timedelta(minutes=5)
AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<cred>[^,\s]+)\s*,\s*"
    r"SignedHeaders=(?P<headers>[^,\s]+)\s*,\s*Signature=(?P<sig>[0-9a-f]{64})\s*$"
)
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)


class Refusal(Exception):
    """Why a signature is refused: `kind` picks the protocol's code (see gateway.refusal)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind  # "signature" | "incomplete" | "missing" | "expired-request"
        self.message = message


@dataclass(frozen=True)
class Signed:
    """The parts of a SigV4 Authorization header (or presigned query) the lab checks."""

    access_key: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str
    presigned: bool = False


def parse(http: Request) -> Signed:
    """Read the signature parts; Refusal("incomplete") when they are malformed."""
    auth = http.headers.get("Authorization")
    if auth is None and "X-Amz-Signature" in http.args:
        return _parse_presigned(http)
    if not auth:
        raise Refusal("missing", "Missing Authentication Token")
    match = AUTH_RE.match(auth.strip())
    if match is None:
        raise Refusal(
            "incomplete",
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
            "parameters of the AWS4-HMAC-SHA256 algorithm.",
        )
    amz_date = http.headers.get("X-Amz-Date") or _from_http_date(http.headers.get("Date", ""))
    if not amz_date:
        raise Refusal(
            "incomplete",
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        )
    return _signed(match.group("cred"), match.group("headers"), match.group("sig"), amz_date)


def _parse_presigned(http: Request) -> Signed:
    if http.args.get("X-Amz-Algorithm") != ALGORITHM:
        raise Refusal("incomplete", "X-Amz-Algorithm only supports AWS4-HMAC-SHA256.")
    signed = _signed(
        http.args.get("X-Amz-Credential", ""),
        http.args.get("X-Amz-SignedHeaders", ""),
        http.args.get("X-Amz-Signature", ""),
        http.args.get("X-Amz-Date", ""),
    )
    return Signed(**{**signed.__dict__, "presigned": True})


def _signed(credential: str, headers: str, signature: str, amz_date: str) -> Signed:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not re.fullmatch(r"\d{8}", parts[1]):
        raise Refusal(
            "incomplete",
            f"Credential must have exactly 5 slash-delimited elements, e.g. "
            f"keyid/date/region/service/term, got '{credential}'",
        )
    if not re.fullmatch(r"\d{8}T\d{6}Z", amz_date):
        raise Refusal("incomplete", f"Invalid X-Amz-Date '{amz_date}': use yyyyMMdd'T'HHmmss'Z'")
    if not re.fullmatch(r"[0-9a-f]{64}", signature):
        raise Refusal("incomplete", "Signature must be 64 lowercase hexadecimal characters.")
    names = tuple(headers.split(";"))
    if "host" not in names:
        raise Refusal("incomplete", "'Host' must be a 'SignedHeader' in the AWS Authorization.")
    return Signed(parts[0], parts[1], parts[2], parts[3], names, signature, amz_date)


def _from_http_date(value: str) -> str:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return ""
    return when.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def check_time(signed: Signed, now: dt.datetime) -> None:
    """Scope date must be the request date; the request date within five minutes of now."""
    if signed.amz_date[:8] != signed.date:
        raise Refusal(
            "signature",
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{signed.date}' != '{signed.amz_date[:8]}', from '{signed.amz_date}'.",
        )
    when = dt.datetime.strptime(signed.amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    if when < now - MAX_SKEW:
        earliest = (now - MAX_SKEW).strftime("%Y%m%dT%H%M%SZ")
        raise Refusal(
            "expired-request",
            f"Signature expired: {signed.amz_date} is now earlier than {earliest} "
            f"({stamp} - 5 min.)",
        )
    if when > now + MAX_SKEW:
        latest = (now + MAX_SKEW).strftime("%Y%m%dT%H%M%SZ")
        raise Refusal(
            "expired-request",
            f"Signature not yet current: {signed.amz_date} is still later than {latest} "
            f"({stamp} + 5 min.)",
        )


def canonical_request(http: Request, signed: Signed, body: bytes) -> str:
    raw_path = _raw_path(http)
    # S3 signs the path as sent; every other service encodes it once more.
    s3 = signed.service == "s3"
    canonical_uri = raw_path if s3 else quote(_normalize(raw_path), safe="/~")
    raw_query = http.environ.get("QUERY_STRING", "")
    pairs = []
    for pair in raw_query.split("&") if raw_query else []:
        key, _, value = pair.partition("=")
        if signed.presigned and key == "X-Amz-Signature":
            continue
        pairs.append((key, value))
    query = "&".join(f"{k}={v}" for k, v in sorted(pairs))
    headers = "".join(
        f"{name}:{','.join(' '.join(v.split()) for v in http.headers.getlist(name))}\n"
        for name in signed.signed_headers
    )
    payload = hashlib.sha256(body).hexdigest()
    if signed.presigned or (s3 and http.headers.get("X-Amz-Content-SHA256") == "UNSIGNED-PAYLOAD"):
        payload = "UNSIGNED-PAYLOAD"
    return "\n".join(
        [
            http.method.upper(),
            canonical_uri,
            query,
            headers,
            ";".join(signed.signed_headers),
            payload,
        ]
    )


def _raw_path(http: Request) -> str:
    raw = http.environ.get("RAW_URI") or http.environ.get("REQUEST_URI")
    if raw:
        return raw.split("?", 1)[0] or "/"
    return quote(http.environ.get("PATH_INFO", "/") or "/", safe="/~!$&'()*+,;=:@%")


def _normalize(path: str) -> str:
    """RFC 3986 dot-segment removal, keeping a trailing slash, as SigV4 signers do."""
    if not path:
        return "/"
    out: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if out:
                out.pop()
            continue
        out.append(segment)
    normalized = "/" + "/".join(out)
    if path.endswith("/") and normalized != "/":
        normalized += "/"
    return normalized


@lru_cache(maxsize=1024)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(("AWS4" + secret).encode(), date)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return key


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def verify(http: Request, signed: Signed, secret: str, body: bytes) -> None:
    """Refusal("signature") unless `signed.signature` is the one `secret` makes."""
    request = canonical_request(http, signed, body)
    scope = f"{signed.date}/{signed.region}/{signed.service}/aws4_request"
    to_sign = "\n".join(
        [ALGORITHM, signed.amz_date, scope, hashlib.sha256(request.encode()).hexdigest()]
    )
    key = signing_key(secret, signed.date, signed.region, signed.service)
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signed.signature):
        raise Refusal("signature", SIGNATURE_MISMATCH)


# Codes and statuses per protocol. JSON protocols (KMS, Logs, CloudTrail, Organizations,
# Health): the exception names the SDKs model (e.g. CloudWatchLogs UnrecognizedClientException,
# DynamoDB's error handling page: InvalidSignatureException, HTTP 400). Query protocols (IAM,
# STS): IAM and STS CommonErrors pages (InvalidClientTokenId 403, ExpiredToken 403 [V] for the
# status, SignatureDoesNotMatch 403 [V]). EC2: its own list (errors-overview.html):
# AuthFailure, RequestExpired; which one EC2 returns for an expired session token is not
# documented [V] (RequestExpired is what the AWS CLI shows in practice).
CODES: dict[str, dict[str, tuple[str, int]]] = {
    "json": {
        "signature": ("InvalidSignatureException", 400),
        "expired-request": ("InvalidSignatureException", 400),
        "incomplete": ("IncompleteSignatureException", 400),
        "missing": ("MissingAuthenticationTokenException", 403),
        "unknown-key": ("UnrecognizedClientException", 400),
        "expired-token": ("ExpiredTokenException", 400),
    },
    "query": {
        "signature": ("SignatureDoesNotMatch", 403),
        "expired-request": ("SignatureDoesNotMatch", 403),
        "incomplete": ("IncompleteSignature", 400),
        "missing": ("MissingAuthenticationToken", 403),
        "unknown-key": ("InvalidClientTokenId", 403),
        "expired-token": ("ExpiredToken", 403),
    },
    "ec2": {
        "signature": ("AuthFailure", 401),
        "expired-request": ("RequestExpired", 400),
        "incomplete": ("IncompleteSignature", 400),
        "missing": ("MissingAuthenticationToken", 401),
        "unknown-key": ("AuthFailure", 401),
        "expired-token": ("RequestExpired", 400),
    },
}
CODES["cbor"] = CODES["json"]
INVALID_TOKEN = "The security token included in the request is invalid."
EXPIRED_TOKEN = "The security token included in the request is expired"
EC2_AUTH_FAILURE = "AWS was not able to validate the provided access credentials"


def refusal(protocol: str, kind: str, message: str) -> AwsError:
    """The AwsError the caller's protocol uses for a refusal of this kind."""
    code, status = CODES.get(protocol, CODES["json"])[kind]
    if protocol == "ec2" and code == "AuthFailure":
        message = EC2_AUTH_FAILURE
    elif protocol == "ec2" and kind == "expired-token":
        message = "Request has expired."
    return AwsError(code, message, status)
