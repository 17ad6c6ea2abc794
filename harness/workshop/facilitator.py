"""The facilitator's side of a room: status rows, the page token, the snapshot pushed to the
lab's page.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from harness.errors import KmslabError
from harness.workshop.store import WorkshopStore


class RoomFacilitator:
    """The facilitator part of a `Room` (mixed in; the room holds the state)."""

    if TYPE_CHECKING:
        endpoint: str
        store: WorkshopStore

    # -- facilitator ------------------------------------------------------------------------

    def page_token(self) -> str:
        """The token that opens the facilitator's page (made once per room, kept in the state)."""
        with self.store.transaction() as data:
            token = data.get("page_token")
            if not token:
                token = data["page_token"] = secrets.token_urlsafe(24)
        return str(token)

    def page_url(self) -> str:
        return f"{self.endpoint}/_kmslab/room?token={self.page_token()}"

    def snapshot(self) -> dict[str, Any]:
        """What the facilitator's page shows: no credentials, accounts or endpoints."""
        keep = (
            "participant", "exercise", "title", "hints_used", "hints_total", "solution_shown",
            "checks", "result", "reasons", "started_at", "finished_at",
        )  # fmt: skip
        rows = [{k: row[k] for k in keep} for row in self.status() if row["current"]]
        return {"token": self.page_token(), "title": "kmslab workshop", "participants": rows}

    def publish(self) -> bool:
        """Push the room to the lab's facilitator page; a lab that cannot take it (down, or
        an older lab) never fails a participant's command, the next push catches up."""
        from harness.lab import LabClient

        try:
            LabClient(self.endpoint, timeout=5).publish_room(self.snapshot())
        except KmslabError:
            return False
        return True

    def status(self) -> list[dict[str, Any]]:
        """One row per participant and exercise started."""
        rows = []
        for name, state in sorted(self.store.load()["participants"].items()):
            for exercise_id, record in sorted(state.get("exercises", {}).items()):
                checks = record.get("checks", [])
                last = checks[-1] if checks else None
                rows.append(
                    {
                        "participant": name,
                        "exercise": exercise_id,
                        "current": state.get("current") == exercise_id,
                        "accounts": record.get("accounts", {}),
                        "started_at": record.get("started_at"),
                        "resets": record.get("resets", 0),
                        "hints_used": record.get("hints_used", 0),
                        "hints_total": record.get("hints_total", 0),
                        "solution_shown": bool(record.get("solution_shown")),
                        "checks": len(checks),
                        "title": record.get("title", ""),
                        "finished_at": record.get("finished_at"),
                        "result": record.get("result", "started"),
                        "reasons": [r["code"] for r in (last or {}).get("reasons", [])],
                    }
                )
        return rows
