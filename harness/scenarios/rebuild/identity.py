"""The caller's identity side: inline and managed policies, groups, boundary, session policy,
the identity inferred from an error AWS returns only after authorization, and trust policies.

The IAM reads are the collectors' (docs/architecture.md, playbook step 4); group policies of
a user apply as the user's own do (reference_policies_evaluation-logic.html), so they are
rebuilt onto the user, and the session policy is the `policy` an AssumeRole event passed
(CloudTrail records it in requestParameters, cloudtrail-event-reference-record-contents.html).
"""

from __future__ import annotations

from typing import Any

from harness.scenarios.rebuild.evidence import Evidence, document
from harness.scenarios.rebuild.principals import Book, IncidentCaller


def caller_identity(ev: Evidence, book: Book) -> dict[str, Any]:
    kind = book.caller.kind
    inline_op = "GetRolePolicy" if kind == "role" else "GetUserPolicy"
    policies = [
        doc for r in ev.all("iam", inline_op) if (doc := document(r.response.get("PolicyDocument")))
    ]
    groups = [r for r in ev.all("iam", "GetGroupPolicy")]
    for read in groups:
        doc = document(read.response.get("PolicyDocument"))
        if doc is not None:
            policies.append(doc)
            book.gap(
                f"group {read.response.get('GroupName') or read.params.get('GroupName')}",
                "rebuilt as the user's own inline policy (it applies to the user the same way)",
            )
    versions: dict[str, dict[str, Any]] = {}
    for read in ev.all("iam", "GetPolicyVersion"):
        doc = document((read.response.get("PolicyVersion") or {}).get("Document"))
        if doc is not None and read.params.get("PolicyArn"):
            versions[str(read.params["PolicyArn"])] = doc
    holder = ev.first("iam", "GetRole" if kind == "role" else "GetUser") or {}
    entity = holder.get("Role") or holder.get("User") or {}
    boundary_arn = (entity.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    attached: list[str] = []
    for op in ("ListAttachedRolePolicies", "ListAttachedUserPolicies", "ListAttachedGroupPolicies"):
        for read in ev.all("iam", op):
            attached += [
                str(p.get("PolicyArn")) for p in read.response.get("AttachedPolicies") or []
            ]
    managed = []
    for arn in dict.fromkeys(attached):
        if arn == boundary_arn:
            continue
        if arn in versions:
            managed.append(versions[arn])
            if ":aws:policy/" in arn:
                book.gap(
                    f"AWS managed policy {arn}",
                    "rebuilt as a customer managed copy of the version read",
                )
        else:
            book.gap(
                f"managed policy {arn}", "its document was not read (GetPolicyVersion missing)"
            )
    for arn, doc in versions.items():
        if arn not in attached and arn != boundary_arn:
            managed.append(doc)  # read, though the attachment list was not
    out: dict[str, Any] = {"policies": policies}
    if managed:
        out["managed_policies"] = managed
    if boundary_arn:
        if boundary_arn in versions:
            out["boundary"] = versions[boundary_arn]
        else:
            book.gap(f"permissions boundary {boundary_arn}", "its document was not read")
    if not entity and not policies:
        book.gap(
            f"identity policies of {book.caller.arn}",
            "the bundle holds no IAM reads of the caller; rebuilt without identity policies",
        )
    return out


def session_policy(ev: Evidence, caller: IncidentCaller) -> dict[str, Any] | None:
    """The session policy of the caller's session, from the latest AssumeRole event of it."""
    if not caller.session:
        return None
    for read in ev.all("cloudtrail", "LookupEvents"):
        for event in read.response.get("Events") or []:
            detail = document(event.get("CloudTrailEvent")) or {}
            if not str(detail.get("eventName", "")).startswith("AssumeRole") or detail.get(
                "errorCode"
            ):
                continue
            params = detail.get("requestParameters") or {}
            if params.get("roleSessionName") != caller.session:
                continue
            if not str(params.get("roleArn", "")).endswith(f"/{caller.name}"):
                continue
            return document(params.get("policy"))
    return None


def inferred_identity(ev: Evidence, book: Book, action: str) -> dict[str, Any]:
    """With no IAM reads, an error AWS returns only after authorization (key state, usage,
    ciphertext: key-state.html, API_Decrypt.html) shows that IAM allowed the call."""
    from harness.diagnosis import messages

    code = str((ev.request.get("observed_error") or {}).get("code", ""))
    if not code or messages.is_denied(code) or ev.all("iam", "GetRole") or ev.all("iam", "GetUser"):
        return {}
    book.gap(
        f"identity policies of {book.caller.arn}",
        f"not in the bundle; {code} comes after authorization, so the caller is rebuilt "
        f"with a policy allowing {action} on the key",
    )
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}],
    }
    return {"policies": [doc]}


def trust_policies(ev: Evidence, book: Book) -> None:
    for read in ev.all("iam", "GetRole"):
        role = read.response.get("Role") or {}
        doc = document(role.get("AssumeRolePolicyDocument"))
        if doc is None:
            continue
        book.principal_values(doc, f"the trust policy of {role.get('RoleName', 'the role')}")
        book.gap(
            f"trust policy of role {role.get('RoleName', '')}",
            "the lab's roles trust their own account; the caller's credentials are issued "
            "by the lab (every principal it names is rebuilt)",
        )
