"""Admin routes of the saved lab state: `GET /_kmslab/state` (the whole state document) and
`GET|PUT|DELETE /_kmslab/state/sections/NAME` (one named JSON value, the extension point)."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from harness.lab import state

if TYPE_CHECKING:
    from harness.lab.gateway import LabGateway

SECTION_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MAX_SECTION_BYTES = 1024 * 1024


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status, content_type="application/json")


def state_route(lab: LabGateway, http: Request, route: str) -> Response:
    if route == "state" and http.method == "GET":
        return _json(state.snapshot(lab))
    parts = route.split("/")
    if len(parts) == 3 and parts[1] == "sections" and SECTION_NAME.match(parts[2]):
        name = parts[2]
        if http.method == "GET":
            if name not in lab.sections:
                return _json({"error": f"no state section {name!r}"}, 404)
            return _json(lab.sections[name])
        if http.method == "PUT":
            raw = http.get_data()
            if len(raw) > MAX_SECTION_BYTES:
                return _json({"error": f"state section over {MAX_SECTION_BYTES} bytes"}, 400)
            try:
                value = json.loads(raw or b"null")
            except (ValueError, RecursionError):
                return _json({"error": "state section: body is not JSON"}, 400)
            lab.sections[name] = value
            return _json({"section": name, "stored": True})
        if http.method == "DELETE":
            lab.sections.pop(name, None)
            return _json({"section": name, "deleted": True})
    return _json({"error": f"no admin route {http.method} {http.path}"}, 404)
