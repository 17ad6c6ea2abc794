"""Playbook step 3: the alias used, every alias of the key, and where each points."""

from __future__ import annotations

from harness.aws import arns
from harness.evidence.calls import Credentials
from harness.evidence.investigation import Investigation
from harness.evidence.registry import collector


@collector("aliases", step="3", permissions=("kms:ListAliases",), needs_key=True)
def aliases(inv: Investigation) -> None:
    """ListAliases of the account and region (where an alias name resolves) and of the key.

    ListAliases lists only the caller's own account, so a cross-account alias is visible
    only with the key account's credentials.
    """
    jobs: list[tuple[Credentials, str, dict[str, str]]] = [(inv.investigator, inv.region, {})]
    if inv.cross_account:
        if inv.key_side is not None:
            jobs.append((inv.key_side, inv.key_region, {}))
        else:
            inv.unreadable("kms", "ListAliases", inv.key_region, {}, inv.key_account)
    if inv.key_arn is not None:
        by_key = {"KeyId": inv.key_arn}
        # An alias name may have resolved in the caller's account (catalog row 14): list the
        # aliases of the key it reached with credentials of that key's account.
        account = arns.account_of(inv.key_arn) or inv.key_account
        reader = inv.creds_for(account) if account != inv.key_account else inv.key_side
        if reader is not None:
            jobs.append((reader, inv.key_region, by_key))
        else:
            inv.unreadable("kms", "ListAliases", inv.key_region, by_key, account)
    inv.parallel(
        lambda job: inv.call(job[0], "kms", "ListAliases", job[1], job[2], paginate=True),
        jobs,
    )
