"""The response spool: entries read back as written, damaged or stale ones are dropped, and the
executor keeps requesting while spooled responses wait for the writer, then replays what a stopped
apply left there instead of asking the API again."""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path
from typing import Any

import anyio
import pytest

from reconciler.adapters.sqlite_state import SqliteState
from reconciler.apply import executor as executor_module
from reconciler.apply.materialize import Response
from reconciler.apply.spool import Spool, spool_key
from reconciler.core.plan import Plan
from tests.apply.test_fetch_write_overlap import _action, _BlockingWrites, _Client, executor, run_while_blocked

BODY = json.dumps([{"gameId": 7, "id": "a"}, {"gameId": 7, "id": "b"}]).encode()


def _response(packed: bool = True) -> Response:
    params = {"gameId": 7}
    if packed:
        return Response.pack(params, BODY, "/plays/game/7")
    return Response(params=params, body=BODY, where="/plays/game/7")


@pytest.mark.parametrize("packed", [True, False])
def test_an_entry_reads_back_as_it_was_written(tmp_path: Path, packed: bool) -> None:
    spool = Spool(tmp_path / "spool")
    key = spool_key("plays", "/plays/game/7", {})
    assert spool.put(key, "plays", _response(packed)) > len(BODY) // 10
    got = spool.get(key, "plays")
    assert got is not None
    assert (got.params, got.where, got.packed, got.raw_body()) == ({"gameId": 7}, "/plays/game/7", packed, BODY)
    assert list(got.iter_records()) == json.loads(BODY)
    assert spool.keys() == {key}
    spool.drop(key)
    assert spool.keys() == set() and spool.get(key, "plays") is None


def test_keys_name_the_target_the_path_and_the_parameters() -> None:
    k = spool_key("plays", "/plays/date", {"date": "2016-01-02"})
    assert k == spool_key("plays", "/plays/date", {"date": "2016-01-02"})
    assert len({k, spool_key("substitutions", "/plays/date", {"date": "2016-01-02"}),
                spool_key("plays", "/plays/team", {"date": "2016-01-02"}),
                spool_key("plays", "/plays/date", {"date": "2016-01-03"})}) == 4  # fmt: skip


@pytest.mark.parametrize("damage", ["truncated", "flipped", "no_header", "bad_json", "other_target", "old_version"])
def test_a_damaged_entry_is_dropped_not_replayed(tmp_path: Path, damage: str) -> None:
    spool = Spool(tmp_path / "spool")
    key = spool_key("plays", "/plays/game/7", {})
    spool.put(key, "plays", _response())
    path = tmp_path / "spool" / f"{key}.resp"
    data = path.read_bytes()
    head, body = data.split(b"\n", 1)
    header = json.loads(head)
    if damage == "truncated":
        data = data[:-3]
    elif damage == "flipped":
        data = head + b"\n" + bytes([body[0] ^ 0xFF]) + body[1:]
    elif damage == "no_header":
        data = b"x" * 10
    elif damage == "bad_json":
        data = b"{not json\n" + body
    elif damage == "old_version":
        data = json.dumps({**header, "v": 0}).encode() + b"\n" + body
    path.write_bytes(data)
    target = "substitutions" if damage == "other_target" else "plays"
    assert spool.get(key, target) is None
    assert not path.exists()


def test_stale_entries_and_partial_writes_are_removed_when_opened(tmp_path: Path) -> None:
    now = [1_000_000.0]
    spool = Spool(tmp_path / "spool", max_age=3600, clock=lambda: now[0])
    old, fresh = spool_key("plays", "/a", {}), spool_key("plays", "/b", {})
    spool.put(old, "plays", _response())
    os.utime(tmp_path / "spool" / f"{old}.resp", (now[0] - 7200, now[0] - 7200))
    now[0] += 10
    spool.put(fresh, "plays", _response())
    (tmp_path / "spool" / "junk.resp.part").write_bytes(b"half a respo")
    reopened = Spool(tmp_path / "spool", max_age=3600, clock=lambda: now[0])
    assert reopened.keys() == {fresh}
    assert not (tmp_path / "spool" / "junk.resp.part").exists()
    # An entry older than max_age by its own header is not replayed either.
    now[0] += 4000
    assert reopened.get(fresh, "plays") is None and reopened.keys() == set()


def test_parameters_that_would_not_read_back_equal_are_refused(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    bad = Response(params={"when": (1, 2)}, body=zlib.compress(BODY), where="/x", packed=True)
    with pytest.raises(ValueError, match="not plain JSON"):
        spool.put("k", "plays", bad)
    assert spool.keys() == set()


def test_requests_go_on_while_spooled_responses_wait_for_the_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = _BlockingWrites()
    monkeypatch.setattr(executor_module, "materialize_fetch", writes)
    client, state, spool = _Client(), SqliteState(tmp_path / "s.sqlite"), Spool(tmp_path / "spool")
    ex = executor(tmp_path, client, state, concurrency=3, writers=1, spool=spool, backlog=8)
    actions = [_action(g) for g in range(1, 13)]
    seen: dict[str, Any] = {}

    def snapshot() -> None:
        seen["requests"], seen["spooled"] = client.requests_started, len(spool.keys())

    try:
        # The first write is blocked; the others' responses fill the spool up to the backlog.
        run_while_blocked(ex, actions, writes, lambda: writes.writing >= 1 and len(spool.keys()) >= 8, snapshot)
    finally:
        state.close()
    # Without a spool only `concurrency` (3) actions get past the queue while one writes; with
    # one, the bound is the backlog: 8 responses fetched and durable, one of them being written.
    assert seen == {"requests": 8, "spooled": 8}
    assert writes.most_writing == 1
    assert sorted(writes.written) == sorted(a.address for a in actions)
    assert client.requests_started == 12 and ex.result.replayed == 0
    assert spool.keys() == set()  # every entry dropped once written and checkpointed


def test_a_stopped_applys_spooled_responses_are_replayed_not_fetched_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = _BlockingWrites()
    monkeypatch.setattr(executor_module, "materialize_fetch", writes)
    state, spool = SqliteState(tmp_path / "s.sqlite"), Spool(tmp_path / "spool")
    first = _Client()
    ex = executor(tmp_path, first, state, concurrency=3, writers=1, spool=spool, backlog=6)
    actions = [_action(g) for g in range(1, 11)]

    def stop() -> None:
        # Stop, abandoning what waits for the writer (as a second Ctrl-C does); the write already
        # running is then let go and finishes.
        ex.request_stop("stopped by the test", abandon=True)

    try:
        run_while_blocked(ex, actions, writes, lambda: len(spool.keys()) >= 6, stop)
        written_first = list(writes.written)
        assert len(written_first) == 1 and first.requests_started == 6
        # The write the stop let finish was checkpointed too (a stop does not leave written data unrecorded).
        (done,) = [a for a in actions if a.address == written_first[0]]
        assert set(state.load_units("plays")) == set(done.units)
        left = spool.keys()
        assert len(left) == 5

        second = _Client()
        again = executor(tmp_path, second, state, concurrency=3, writers=1, spool=Spool(tmp_path / "spool"))
        todo = [a for a in actions if a.address not in written_first]
        anyio.run(again.run, Plan.model_construct(), todo)
    finally:
        writes.release.set()
        state.close()
    # The five spooled responses were written from the spool; only the four never fetched were asked for.
    assert again.result.replayed == 5
    assert second.requests_started == 4
    assert sorted(written_first + writes.written[1:]) == sorted(a.address for a in actions)
    assert again.result.actions_done == 9
    assert spool.keys() == set()
