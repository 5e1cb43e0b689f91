"""Budgets stop apply cleanly at a checkpoint: --max-requests, --max-duration, the quota reserve."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from reconciler.adapters.sqlite_state import SqliteState
from tests.apply_helpers import duplicates
from tests.e2e_helpers import cli, make_sandbox, request_log, simulator
from tests.text_edits import replaced

SEASON = "2016"


@pytest.fixture
def sandbox(tmp_path):
    cfg, port, _ = make_sandbox(tmp_path / "sb", seasons=SEASON)
    return cfg, port, tmp_path / "req.jsonl"


def _apply(cfg, *extra):
    return cli(["apply", "--config", str(cfg), "--seasons", SEASON, "--auto-approve", *extra])


def _recorded(cfg) -> int:
    state = SqliteState(cfg.parent / ".reconcile" / "state.sqlite")
    try:
        return sum(len(state.load_units(t)) for t in ("plays", "substitutions", "lineups"))
    finally:
        state.close()


def _no_request_twice(log) -> None:
    ok = Counter((e["path"], json.dumps(e["query"], sort_keys=True)) for e in request_log(log) if e["status"] == 200)
    assert [k for k, n in ok.items() if n > 1] == []


def test_max_requests_stops_at_n_then_the_next_apply_finishes(sandbox):
    cfg, port, log = sandbox
    with simulator(cfg, port, request_log=log):
        r = _apply(cfg, "--max-requests", "5")
        assert r.exit_code == 0, r.output
        assert "Stopped: request budget of 5 reached" in r.output
        assert "run apply again to resume" in r.output
        assert len(request_log(log)) == 5
        assert _recorded(cfg) >= 5  # every request's units are checkpointed
        rest = _apply(cfg)
    assert rest.exit_code == 0, rest.output
    assert "Apply complete" in rest.output
    _no_request_twice(log)
    assert duplicates(cfg.parent / "lake") == {}


def test_max_duration_stops_starting_work_then_the_next_apply_finishes(sandbox):
    cfg, port, log = sandbox
    with simulator(cfg, port, request_log=log, latency_ms=400):
        r = _apply(cfg, "--max-duration", "1")
    assert r.exit_code == 0, r.output
    assert "Stopped: --max-duration of 1 s reached" in r.output
    n = len(request_log(log))
    with simulator(cfg, port, request_log=log):
        rest = _apply(cfg)
    assert rest.exit_code == 0, rest.output
    assert len(request_log(log)) > n
    _no_request_twice(log)
    assert duplicates(cfg.parent / "lake") == {}


def test_the_quota_reserve_stops_before_the_quota_reaches_it(sandbox):
    cfg, port, log = sandbox
    text = cfg.read_text()
    cfg.write_text(replaced(text, "      max_concurrency: 3\n", "      max_concurrency: 3\n      quota_reserve: 12\n"))
    with simulator(cfg, port, request_log=log, quota=20) as sim:
        r = _apply(cfg)
        assert r.exit_code == 0, r.output
        assert "Stopped: quota reserve reached" in r.output
        assert "run apply again to resume" in r.output
        assert sim.quota_remaining is not None and sim.quota_remaining >= 12
        assert all(e["status"] == 200 for e in request_log(log))  # stopped before, never refused
    assert _recorded(cfg) >= 20 - 12 - 3  # what was fetched is kept
    assert duplicates(cfg.parent / "lake") == {}
