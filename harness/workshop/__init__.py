"""Workshop mode: hands-on KMS debugging exercises for a room sharing one lab.

from harness.workshop import Room, catalog_exercises, handout
room = Room("http://127.0.0.1:4566")
record = room.start("alice", "key-disabled")   # story, failing call, credentials
room.hint("alice"); room.solution("alice")
result = room.check("alice")                   # {"result": "passed"|"rejected"|"failed", ...}
room.status()                                  # one row per participant and exercise
handout(find_exercise("key-disabled"), "html")
"""

from harness.workshop.exercises import Exercise, catalog_exercises, find_exercise, unsuitable
from harness.workshop.handouts import handout
from harness.workshop.legitimacy import Rejection, SetupView, analyse
from harness.workshop.room import DEFAULT_ENDPOINT, Room
from harness.workshop.store import WorkshopStore

__all__ = [
    "DEFAULT_ENDPOINT",
    "Exercise",
    "Rejection",
    "Room",
    "SetupView",
    "WorkshopStore",
    "analyse",
    "catalog_exercises",
    "find_exercise",
    "handout",
    "unsuitable",
]
