"""The StateStore contract, asserted identically for SqliteState and DynamoState (moto)."""

from __future__ import annotations

import threading

import pytest

from reconciler.ports import LockInfo, UnitRecord


@pytest.fixture(params=["sqlite", pytest.param("dynamodb", marks=pytest.mark.aws)])
def state_kind(request):
    return request.param


@pytest.fixture
def make_state(state_kind, tmp_path, request):
    """A factory of state stores over one backing store (each call: a new connection/client)."""
    opened = []
    if state_kind == "sqlite":
        from reconciler.adapters.sqlite_state import SqliteState

        def make():
            opened.append(SqliteState(tmp_path / "state" / "state.sqlite"))
            return opened[-1]

    else:
        url = request.getfixturevalue("moto_url")
        session = request.getfixturevalue("boto_session")
        from reconciler.adapters.dynamo_state import DynamoState

        def make():
            opened.append(DynamoState("cbbd_checkpoints", endpoint_url=url, session=session))
            return opened[-1]

    yield make
    for s in opened:
        s.close()


@pytest.fixture
def state(make_state):
    return make_state()


def _lock(owner, expires_at, lock_id="plays", created_at=100.0):
    return LockInfo(
        lock_id=lock_id,
        owner=owner,
        host="host-" + owner,
        pid=1234,
        command="reconcile apply --target plays",
        created_at=created_at,
        expires_at=expires_at,
    )


def test_units_round_trip(state):
    recs = [
        UnitRecord("plays", "1234", "done", rows=320, updated_at=1700000000.5, season=2025),
        UnitRecord("plays", "1235", "empty", season=2025, extra={"address": "plays[season=2025]"}),
        UnitRecord("plays", "1236", "failed", attempts=2, error="TransientApiError: 504", extra={"n": [1, 2]}),
        UnitRecord("lineups", "1234:72", "done", rows=31),
    ]
    state.record_units(recs)
    assert state.load_units("plays") == {r.unit: r for r in recs[:3]}
    assert state.load_units("lineups") == {"1234:72": recs[3]}
    assert state.load_units("substitutions") == {}


def test_record_units_overwrites_and_last_record_wins(state):
    state.record_units([UnitRecord("plays", "1", "failed", attempts=1, error="boom")])
    state.record_units([UnitRecord("plays", "1", "failed", attempts=2), UnitRecord("plays", "1", "done", rows=5)])
    assert state.load_units("plays") == {"1": UnitRecord("plays", "1", "done", rows=5)}


def test_many_units_in_one_call(state):
    recs = [UnitRecord("plays", str(i), "done", rows=i, season=2010 + i % 17) for i in range(130)]
    state.record_units(recs)
    state.record_units([])
    assert state.load_units("plays") == {r.unit: r for r in recs}


def test_load_units_for_reads_only_the_named_units(state):
    recs = [UnitRecord("plays", str(i), "done", rows=i, season=2010 + i % 17) for i in range(1200)]
    recs.append(UnitRecord("lineups", "5:72", "empty"))
    state.record_units(recs)
    # More keys than one IN list or one BatchGetItem takes; unknown keys and other targets left out.
    wanted = [str(i) for i in range(0, 1200, 2)] + ["nope", "5:72"]
    got = state.load_units_for("plays", wanted)
    assert got == {r.unit: r for r in recs if r.target == "plays" and int(r.unit) % 2 == 0}
    assert state.load_units_for("lineups", ["5:72", "5:72"]) == {"5:72": recs[-1]}
    assert state.load_units_for("plays", []) == {}


def test_meta(state):
    assert state.get_meta("x_calllimit_remaining") is None
    state.set_meta("x_calllimit_remaining", "2999")
    state.set_meta("x_calllimit_remaining", "2998")
    state.set_meta("other", "")
    assert state.get_meta("x_calllimit_remaining") == "2998"
    assert state.get_meta("other") == ""


def test_free_lock_is_acquired_and_listed(state):
    mine = _lock("me", 200.0)
    assert state.acquire_lock(mine, now=150.0) is None
    assert state.list_locks() == [mine]


def test_held_lock_returns_the_holder(state):
    mine = _lock("me", 200.0)
    state.acquire_lock(mine, now=150.0)
    assert state.acquire_lock(_lock("you", 300.0), now=160.0) == mine
    # re-acquiring our own lock refreshes it
    again = _lock("me", 400.0)
    assert state.acquire_lock(again, now=170.0) is None
    assert state.list_locks() == [again]


def test_expired_lock_is_taken_over(state):
    state.acquire_lock(_lock("me", 200.0), now=150.0)
    yours = _lock("you", 500.0, created_at=250.0)
    assert state.acquire_lock(yours, now=250.0) is None
    assert state.list_locks() == [yours]
    assert state.renew_lock("plays", "me", 900.0) is False


def test_renew(state):
    state.acquire_lock(_lock("me", 200.0), now=150.0)
    assert state.renew_lock("plays", "you", 900.0) is False
    assert state.renew_lock("plays", "me", 600.0) is True
    assert state.list_locks()[0].expires_at == 600.0
    assert state.renew_lock("nothing", "me", 600.0) is False


def test_release(state):
    state.acquire_lock(_lock("me", 200.0), now=150.0)
    state.acquire_lock(_lock("me", 200.0, lock_id="lake"), now=150.0)
    assert state.release_lock("plays", "you") is False
    assert state.release_lock("plays", "me") is True
    assert state.release_lock("plays", "me") is False
    assert [lk.lock_id for lk in state.list_locks()] == ["lake"]
    assert state.release_lock("lake", None) is True  # forced
    assert state.release_lock("lake", None) is False
    assert state.list_locks() == []


@pytest.mark.parametrize("expired", [False, True])
def test_two_racing_acquirers_exactly_one_wins(make_state, expired):
    setup = make_state()
    if expired:
        setup.acquire_lock(_lock("old", 100.0), now=50.0)
    contenders = [make_state() for _ in range(4)]
    barrier = threading.Barrier(len(contenders))
    results = {}

    def run(i, st):
        barrier.wait()
        results[i] = st.acquire_lock(_lock(f"p{i}", 1000.0), now=500.0)

    threads = [threading.Thread(target=run, args=(i, st)) for i, st in enumerate(contenders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [i for i, r in results.items() if r is None]
    assert len(winners) == 1
    holder = setup.list_locks()[0]
    assert holder.owner == f"p{winners[0]}"
    assert all(r == holder for r in results.values() if r is not None)


def test_empty_digests_aggregate_the_empty_records_per_season(state):
    from reconciler.core.empties import EmptyDigest, SetDigest

    state.record_units(
        [
            UnitRecord("plays", "1", "empty", updated_at=50.0, season=2015),
            UnitRecord("plays", "2", "empty", updated_at=500.0, season=2015),
            UnitRecord("plays", "3", "empty", updated_at=40.0, season=2016),
            UnitRecord("plays", "4", "done", rows=9, updated_at=10.0, season=2016),
            UnitRecord("plays", "5", "failed", attempts=1, updated_at=10.0, season=2016),
            UnitRecord("plays", "6", "empty", updated_at=10.0),  # no season: left out
            UnitRecord("lineups", "1:2", "empty", updated_at=10.0, season=2015),
        ]
    )
    # A unit recorded again with another status leaves the aggregate.
    state.record_units([UnitRecord("plays", "3", "done", rows=2, updated_at=60.0, season=2016)])
    got = state.empty_digests("plays", young_since=100.0)
    assert got == {2015: EmptyDigest(SetDigest.of(["1", "2"]), oldest_old=50.0)}
    assert state.empty_digests("plays", young_since=10.0) == {2015: EmptyDigest(SetDigest.of(["1", "2"]), None)}
    assert state.empty_digests("games", young_since=0.0) == {}
