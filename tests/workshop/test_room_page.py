"""The lab's room page renders only the fields it knows, escaped; a malformed snapshot is bad
input with one line naming the field."""

from __future__ import annotations

import pytest

from harness.errors import UsageError
from harness.lab.room_page import RoomBoard

TOKEN = "t" * 24


def row(**extra: object) -> dict[str, object]:
    return {
        "participant": "ann",
        "exercise": "key-disabled",
        "result": "failed",
        "checks": 2,
        "hints_used": 1,
        "hints_total": 3,
        "started_at": "2026-12-06T10:00:00Z",
        "finished_at": None,
        **extra,
    }


def test_only_known_fields_reach_the_page_escaped() -> None:
    board = RoomBoard()
    board.publish(
        {
            "token": TOKEN,
            "participants": [
                row(
                    participant="<script>x</script>",
                    credentials={"access_key_id": "ASIASECRETKEY"},
                    accounts={"app": "700000010001"},
                )
            ],
        }
    )
    page = board.page()
    assert "&lt;script&gt;" in page and "<script>" not in page
    assert "ASIASECRETKEY" not in page and "700000010001" not in page and TOKEN not in page
    assert "NOT YET" in page and "1/3" in page


def test_the_token_opens_the_page_and_nothing_else() -> None:
    board = RoomBoard()
    assert not board.opens(TOKEN)  # nothing published yet
    board.publish({"token": TOKEN, "participants": []})
    assert board.opens(TOKEN) and not board.opens("u" * 24) and not board.opens(None)


@pytest.mark.parametrize(
    ("snapshot", "words"),
    [
        ([], "JSON object"),
        ({"token": "short", "participants": []}, "token"),
        ({"token": TOKEN, "participants": {}}, "participants must be a list"),
        ({"token": TOKEN, "participants": [row(checks="2")]}, r"participants\[0\].checks"),
        ({"token": TOKEN, "participants": [row(result="won")]}, "result must be one of"),
    ],
)
def test_malformed_snapshots_are_named(snapshot: object, words: str) -> None:
    with pytest.raises(UsageError, match=words):
        RoomBoard().publish(snapshot)
