"""Key policies the bundle does not show: the stand-in that fails as the observed error
shows, and whether a read policy delegates to the key's account."""

from __future__ import annotations

from typing import Any

from harness.aws import arns
from harness.aws.policies import default_key_policy
from harness.scenarios.rebuild.evidence import Evidence, aws_principals, statements
from harness.scenarios.rebuild.principals import Book, entity_arn


def delegates_to_account(policy: Any, account: str) -> bool:
    roots = {account, arns.account_root(account), "arn:aws:iam::${account.app}:root"}
    roots |= {"arn:aws:iam::${account.owner}:root"}
    return any(
        st.get("Effect") == "Allow"
        and not st.get("Condition")
        and (
            st.get("Principal") == "*" or any(v in roots or v == "*" for _, v in aws_principals(st))
        )
        for st in statements(policy if isinstance(policy, dict) else None)
    )


def stand_in_key_policy(ev: Evidence, book: Book, action: str, healthy: bool) -> dict[str, Any]:
    """The default key policy; for a caller in another account whose AccessDenied names a
    layer other than the key policy, also an allow for that account: AWS names the key
    policy ("resource-based policy") when it is what refused (catalog section 3)."""
    from harness.diagnosis import messages

    statements: list[dict[str, Any]] = list(default_key_policy(book.key_account)["Statement"])
    observed = ev.request.get("observed_error") or {}
    signal = messages.parse(str(observed.get("code", "")), str(observed.get("message", "")))
    if not observed and healthy:
        # The call was not seen failing and nothing is wrong: the key policy let the caller in (a statement naming
        # it; without one, this stand-in would also need an IAM allow the bundle may lack).
        statements.append(
            {
                "Sid": "CallerInferredFromTheSuccess",
                "Effect": "Allow",
                "Principal": {"AWS": entity_arn(book)},
                "Action": action,
                "Resource": "*",
            }
        )
    elif signal.layer == "key-policy" and signal.explicit:
        statements.append(
            {
                "Sid": "DenyInferredFromTheError",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": action,
                "Resource": "*",
            }
        )
    elif signal.layer == "key-policy":
        # "no resource-based policy allows": the policy names neither the caller nor, through
        # the root statement, its account; it names someone else, an administrator.
        admin = book.entity(
            book.key_account, "role", "/", "kmslab-stand-in-key-admin", "a stand-in"
        )
        statements = [
            {
                "Sid": "StandInKeyAdministrator",
                "Effect": "Allow",
                "Principal": {
                    "AWS": f"arn:aws:iam::{book.key_account}:role/kmslab-stand-in-key-admin"
                },
                "Action": "kms:*",
                "Resource": "*",
            }
        ]
        assert admin is not None
    elif book.caller.account != book.key_account and signal.layer is not None:
        statements.append(
            {
                "Sid": "CallerAccountInferredFromTheError",
                "Effect": "Allow",
                "Principal": {"AWS": arns.account_root(book.caller.account)},
                "Action": action,
                "Resource": "*",
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}
