"""On a remote store the layout observation lists every table at once; the observation is the same."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import reconciler.observe.layout as layout_observe
from reconciler.config import load_profile
from reconciler.seasons import parse_seasons
from reconciler.service import Session
from tests.e2e_helpers import make_sandbox


def _layout(cfg: Path) -> str:
    session = Session.open(load_profile(cfg))
    try:
        plan, _ = session.plan_layout(parse_seasons("2015-2016"))
    finally:
        session.close()
    return plan.model_dump_json()


def test_tables_listed_at_once_give_the_same_layout_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg, _, _ = make_sandbox(tmp_path / "sb", seasons="2015-2016", scale=0.003, drift=True)
    sequential = _layout(cfg)
    threads: set[str] = set()
    real = layout_observe.list_table

    def listing(store, decl, prefix=None):  # type: ignore[no-untyped-def]
        threads.add(threading.current_thread().name)
        return real(store, decl, prefix)

    monkeypatch.setattr(layout_observe, "is_remote", lambda store: True)
    monkeypatch.setattr(layout_observe, "list_table", listing)
    assert _layout(cfg) == sequential
    assert any(name != threading.main_thread().name for name in threads), "listed by the pool"
