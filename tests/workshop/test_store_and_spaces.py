"""The room's state file under concurrent participants, and the accounts of their spaces."""

from __future__ import annotations

import json
import multiprocessing
import re
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.scenarios.catalog import load_file
from harness.workshop.spaces import OUTSIDER_ACCOUNT, map_scenario, space_accounts
from harness.workshop.store import WorkshopStore

CATALOG = Path(__file__).resolve().parent / "catalog"


def _allocate(path: str, count: int, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    store = WorkshopStore(Path(path))
    queue.put([store.allocate_space() for _ in range(count)])


def test_spaces_allocated_by_concurrent_processes_are_unique(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    workers = [
        multiprocessing.Process(target=_allocate, args=(str(path), 25, queue)) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    got = [n for _ in workers for n in queue.get(timeout=60)]
    for worker in workers:
        worker.join(10)
    assert sorted(got) == list(range(1, 101))
    assert json.loads(path.read_text())["next_space"] == 101


def test_concurrent_transactions_lose_no_update(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    store = WorkshopStore(path)
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_add_participant, args=(str(path), f"p{i}")) for i in range(6)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(30)
    assert sorted(store.load()["participants"]) == [f"p{i}" for i in range(6)]


def _add_participant(path: str, name: str) -> None:
    store = WorkshopStore(Path(path))
    for i in range(10):
        with store.transaction() as data:
            state = data["participants"].setdefault(name, {"exercises": {}, "n": 0})
            state["n"] = i + 1


def test_a_failed_change_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    store = WorkshopStore(tmp_path / "state.json")
    store.allocate_space()
    before = store.path.read_text()
    with pytest.raises(RuntimeError), store.transaction() as data:
        data["next_space"] = 99
        raise RuntimeError("interrupted")
    assert store.path.read_text() == before


def test_a_damaged_state_file_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("{not json")
    with pytest.raises(UsageError, match="workshop state is not valid JSON"):
        WorkshopStore(path).load()


def test_space_accounts_are_twelve_digits_and_disjoint() -> None:
    # Account ids are 12 digits (reference_identifiers.html, "AWS account ID").
    seen: set[str] = {OUTSIDER_ACCOUNT}
    for space in (1, 2, 3, 9_999_999):
        ids = space_accounts(space, ["app", "data", "audit"])
        assert all(re.fullmatch(r"\d{12}", i) for i in ids.values())
        assert seen.isdisjoint(ids.values())
        seen |= set(ids.values())
    assert not {"111111111111", "222222222222", "333333333333"} & seen


def test_map_scenario_moves_literal_ids_and_references(tmp_path: Path) -> None:
    scenario = load_file(CATALOG / "key-state" / "ws-key-disabled.yaml")
    raw = json.loads(json.dumps(scenario.raw))
    raw["setup"]["accounts"] = {"app": "111111111111", "other": "222222222222"}
    raw["setup"]["principals"]["app"]["policies"][0]["Statement"].append(
        {
            "Effect": "Deny",
            "Action": "kms:*",
            "Resource": "arn:aws:kms:us-east-1:222222222222:key/*",
        }
    )
    raw["setup"]["organization"] = {
        "scps": [
            {
                "name": "deny_all",
                "target": "root",
                "document": {"Statement": [{"Effect": "Deny", "Action": "kms:*", "Resource": "*"}]},
            }
        ]
    }
    from harness.scenarios.model import Scenario

    mapped, accounts = map_scenario(Scenario(raw), 7)
    assert accounts == {"app": "700000070001", "other": "700000070002"}
    text = json.dumps(mapped.raw)
    assert "111111111111" not in text and "222222222222" not in text
    assert "arn:aws:kms:us-east-1:700000070002:key/*" in text
    # The organization root is shared by the room: the SCP goes to each of the space's accounts.
    scps = mapped.setup["organization"]["scps"]
    assert sorted(p["target"] for p in scps) == ["app", "other"]
    assert len({p["name"] for p in scps}) == 2 and all(
        p["name"].endswith(("_0", "_1")) for p in scps
    )
