"""The facilitator's live view of a workshop room, served by the lab at `/_kmslab/room`.

The lab knows nothing of workshops (it never imports `harness.workshop`): the workshop pushes
a snapshot of its room with an operator-authenticated `POST /_kmslab/room`, and the lab keeps
the latest one in memory and renders it for `GET /_kmslab/room?token=<page token>`. The page
token comes with the snapshot; it opens this page and nothing else, so it can sit on a
projector. Only the fields below are ever rendered, so whatever a snapshot carries, the page
shows no credentials, accounts or endpoints.
"""

from __future__ import annotations

import datetime as dt
import hmac
import html
import threading
from typing import Any

from harness.errors import UsageError

REFRESH_SECONDS = 5
RESULTS = ("started", "failed", "rejected", "passed")
VERDICT = {
    "started": "started",
    "failed": "NOT YET",
    "rejected": "REJECTED",
    "passed": "PASSED",
}
ROW_FIELDS: dict[str, Any] = {
    "participant": str,
    "exercise": str,
    "title": str,
    "hints_used": int,
    "hints_total": int,
    "solution_shown": bool,
    "checks": int,
    "result": str,
    "reasons": list,
    "started_at": str,
    "finished_at": (str, type(None)),
}


# Optional row fields and their value when a snapshot leaves them out.
DEFAULTS: dict[str, Any] = {
    "title": "",
    "hints_used": 0,
    "hints_total": 0,
    "solution_shown": False,
    "checks": 0,
    "reasons": [],
    "started_at": "",
    "finished_at": None,
}


def _time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def validate(snapshot: Any) -> dict[str, Any]:
    """Keep only what the page shows; a malformed snapshot is a UsageError (HTTP 400)."""
    if not isinstance(snapshot, dict):
        raise UsageError("room: expected a JSON object")
    token = snapshot.get("token")
    if not isinstance(token, str) or len(token) < 16:
        raise UsageError("room: token must be a string of 16 characters or more")
    rows = snapshot.get("participants")
    if not isinstance(rows, list):
        raise UsageError("room: participants must be a list")
    clean = []
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise UsageError(f"room: participants[{index}] must be an object")
        out: dict[str, Any] = {}
        for name, kind in ROW_FIELDS.items():
            value = row.get(name, DEFAULTS.get(name))
            if not isinstance(value, kind):
                raise UsageError(f"room: participants[{index}].{name} has the wrong type")
            out[name] = value
        if out["result"] not in RESULTS:
            raise UsageError(f"room: participants[{index}].result must be one of {RESULTS}")
        out["reasons"] = [str(r) for r in out["reasons"]]
        clean.append(out)
    title = snapshot.get("title")
    return {"token": token, "title": str(title) if title else "kmslab workshop", "rows": clean}


def _elapsed(row: dict[str, Any], now: dt.datetime) -> str:
    start = _time(row["started_at"])
    if start is None:
        return ""
    end = _time(row["finished_at"]) or now
    seconds = max(0, int((end - start).total_seconds()))
    return f"{seconds // 60}:{seconds % 60:02d}"


STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; background: #fff; color: #111; }
h1 { font-size: 2rem; margin: 0 0 .25rem; }
p.meta { color: #444; margin: 0 0 1rem; font-size: 1.1rem; }
table { border-collapse: collapse; width: 100%; font-size: 1.35rem; }
th, td { text-align: left; padding: .45rem .7rem; border-bottom: 2px solid #ddd; }
th { background: #222; color: #fff; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { font-weight: 700; padding: .1rem .5rem; border-radius: .3rem; }
.passed { background: #1b7f3b; color: #fff; }
.failed { background: #f0c419; color: #111; }
.rejected { background: #c0392b; color: #fff; }
.started { background: #ccc; color: #111; }
.reasons { font-size: 1rem; color: #555; }
.solution { font-size: .9rem; color: #8a4b00; }
"""


class RoomBoard:
    """The latest snapshot a workshop pushed, and its page."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._room: dict[str, Any] | None = None
        self._at: dt.datetime | None = None

    def reset(self) -> None:
        with self._lock:
            self._room, self._at = None, None

    def publish(self, snapshot: Any) -> dict[str, Any]:
        room = validate(snapshot)
        with self._lock:
            self._room, self._at = room, dt.datetime.now(dt.UTC)
        return {"participants": len(room["rows"])}

    def opens(self, token: str | None) -> bool:
        with self._lock:
            room = self._room
        return bool(
            room is not None
            and token
            and hmac.compare_digest(token.encode(), str(room["token"]).encode())
        )

    def page(self) -> str:
        with self._lock:
            room, at = self._room, self._at
        assert room is not None
        now = dt.datetime.now(dt.UTC)
        esc = html.escape
        rows = []
        for row in room["rows"]:
            result = row["result"]
            reasons = ", ".join(row["reasons"])
            rows.append(
                "<tr class='participant'>"
                f"<td class='who'>{esc(row['participant'])}</td>"
                f"<td class='exercise'>{esc(row['exercise'])}"
                + (f"<div class='reasons'>{esc(row['title'])}</div>" if row["title"] else "")
                + "</td>"
                f"<td class='num hints'>{row['hints_used']}/{row['hints_total']}"
                + (" <span class='solution'>+solution</span>" if row["solution_shown"] else "")
                + "</td>"
                f"<td class='num checks'>{row['checks']}</td>"
                f"<td class='result'><span class='verdict {esc(result)}'>"
                f"{esc(VERDICT[result])}</span>"
                + (f"<div class='reasons'>{esc(reasons)}</div>" if reasons else "")
                + "</td>"
                f"<td class='num time'>{_elapsed(row, now)}</td>"
                "</tr>"
            )
        passed = sum(r["result"] == "passed" for r in room["rows"])
        updated = at.strftime("%H:%M:%S UTC") if at else ""
        return (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta http-equiv='refresh' content='{REFRESH_SECONDS}'>"
            "<meta name='referrer' content='no-referrer'>"
            f"<title>{esc(room['title'])}</title><style>{STYLE}</style></head><body>"
            f"<h1>{esc(room['title'])}</h1>"
            f"<p class='meta'>{len(room['rows'])} participants, {passed} passed. "
            f"Updated {updated}; this page refreshes every {REFRESH_SECONDS} s. "
            "</p>"
            "<table id='room'><thead><tr><th>participant</th><th>exercise</th>"
            "<th>hints</th><th>checks</th><th>verdict</th><th>time</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></body></html>"
        )
