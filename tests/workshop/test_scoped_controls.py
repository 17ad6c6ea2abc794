"""Lab controls scoped to a participant's accounts: a grant quota, a propagation delay or a
Health event set for one space applies to that space's accounts and to nobody else."""

from __future__ import annotations

import pytest

from harness.errors import UsageError
from harness.lab.controls import Controls
from harness.workshop.room import scoped_controls

MINE = ["700000010001", "700000010002"]
OTHER = "700000020001"


def test_scoped_update_reaches_only_the_space() -> None:
    controls = Controls()
    event = {"region": "us-east-1", "eventTypeCode": "AWS_KMS_OPERATIONAL_ISSUE"}
    controls.merge(
        scoped_controls(
            {
                "grant_quota": 2,
                "grant_propagation_seconds": 300,
                "health_events": [event],
                "throttle": {MINE[0]: 0},
            },
            MINE,
        )
    )
    for account in MINE:
        assert controls.grant_quota_for(account) == 2
        assert controls.grant_propagation_for(account) == 300
        assert controls.health_events(account) == [event]
    assert controls.grant_quota_for(OTHER) == 50000  # the default
    assert controls.grant_propagation_for(OTHER) == 0
    assert controls.health_events(OTHER) == []
    assert controls.throttled(MINE[0], crypto=True) and not controls.throttled(OTHER, True)


def test_one_field_of_an_account_changes_alone() -> None:
    controls = Controls()
    controls.merge(scoped_controls({"grant_quota": 2, "health_events": []}, MINE))
    controls.merge(scoped_controls({"grant_quota": 5}, MINE))
    assert controls.grant_quota_for(MINE[0]) == 5
    assert controls.snapshot()["accounts"][MINE[0]] == {"grant_quota": 5, "health_events": []}
    controls.merge({"accounts": {MINE[0]: None}})
    assert controls.grant_quota_for(MINE[0]) == 50000


@pytest.mark.parametrize(
    ("update", "words"),
    [
        ({"accounts": {"12": {"grant_quota": 1}}}, "12-digit"),
        ({"accounts": {MINE[0]: {"authorize_iam": False}}}, "cannot set 'authorize_iam'"),
        ({"accounts": {MINE[0]: {"grant_quota": -1}}}, "grant_quota"),
        ({"accounts": {MINE[0]: 3}}, "object or null"),
    ],
)
def test_bad_account_controls_are_named(update: dict, words: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(UsageError, match=words):
        Controls().merge(update)
