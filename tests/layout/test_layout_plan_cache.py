"""The layout plan kept in the observation cache: answered while nothing it depends on changed, never after."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from reconciler.config import load_profile
from reconciler.core.layout_planner import LAYOUT_TARGET
from reconciler.core.plan import TargetPlan
from reconciler.layout.observe import LayoutObserver
from reconciler.layout.superseded import Superseded, record_superseded
from reconciler.service import Session
from tests.e2e_helpers import make_sandbox

SEASONS = [2015, 2016]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cfg, _, _ = make_sandbox(tmp_path_factory.mktemp("layout-cache") / "sb", seasons="2015-2016", scale=0.003)
    return cfg.parent


@pytest.fixture
def lake(built: Path, tmp_path: Path) -> Path:
    """A copy of the sandbox of its own (config, lake, catalog, state, empty cache)."""
    shutil.copytree(built, tmp_path / "sb")
    return tmp_path / "sb"


@pytest.fixture
def observed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the layout observations made (each reads footers and runs the duplicate census)."""
    calls: list[int] = []
    real = LayoutObserver.observe

    def counting(self: LayoutObserver, *args: Any, **kw: Any) -> Any:
        calls.append(1)
        return real(self, *args, **kw)

    monkeypatch.setattr(LayoutObserver, "observe", counting)
    return calls


def _layout(sb: Path, targets: tuple[str, ...] = ()) -> TargetPlan:
    """One plan's layout target, as ``reconcile plan`` makes it (a session of its own)."""
    session = Session.open(load_profile(sb / "config.yaml"))
    try:
        plan, _ = session.plan(SEASONS, targets)
    finally:
        session.close()
    return next(t for t in plan.targets if t.target == LAYOUT_TARGET)


def test_an_unchanged_lake_s_layout_plan_is_answered_without_observing_it(lake: Path, observed: list[int]) -> None:
    cold = _layout(lake)
    assert len(observed) == 1
    assert _layout(lake) == cold
    assert len(observed) == 1, "the second plan observed the lake again"
    # Another selection is another plan.
    partitions = _layout(lake, ("partitions",))
    assert len(observed) == 2
    assert _layout(lake, ("partitions",)) == partitions
    assert len(observed) == 2


def test_a_copied_object_is_seen_at_once(lake: Path, observed: list[int]) -> None:
    cold = _layout(lake)
    assert not [a for a in cold.actions if a.type == "dedupe"]
    victim = sorted((lake / "lake" / "silver" / "fct_plays").rglob("*.parquet"))[0]
    shutil.copy(victim, victim.with_name("part-copied0.parquet"))
    after = _layout(lake)
    assert len(observed) == 2
    assert [a for a in after.actions if a.type == "dedupe"], "the copy's duplicate rows are planned away"


def test_a_catalog_change_is_seen_at_once(lake: Path, observed: list[int]) -> None:
    cold = _layout(lake)
    assert not [a for a in cold.actions if a.type == "register"]
    session = Session.open(load_profile(lake / "config.yaml"))
    try:
        catalog: Any = session.backends.catalog  # type: ignore[attr-defined]
        part = catalog.list_partitions("cbbd_silver", "fct_plays")[0]
        catalog.delete_partitions("cbbd_silver", "fct_plays", [part])
    finally:
        session.close()
    after = _layout(lake)
    assert len(observed) == 2
    registers = [a for a in after.actions if a.type == "register"]
    assert registers and all("fct_plays" in a.address for a in registers)


def test_a_superseded_record_is_seen_at_once(lake: Path, observed: list[int]) -> None:
    _layout(lake)
    session = Session.open(load_profile(lake / "config.yaml"))
    try:
        b: Any = session.backends
        info = next(iter(b.store.list_objects("silver/fct_plays/")))
        rec = Superseded(key=info.key, size=info.size, mtime=info.mtime, by="layout.relayout[x]", replacements=())
        record_superseded(b.state, [rec], time.time())
    finally:
        session.close()
    after = _layout(lake)
    assert len(observed) == 2
    assert f"{LAYOUT_TARGET}.delete[{info.key}]" in {a.address for a in after.actions}


def test_a_malformed_entry_is_a_miss(lake: Path, observed: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    cold = _layout(lake)
    keys: list[str] = []
    real = LayoutObserver.inputs_key

    def spying(self: LayoutObserver, *args: Any) -> str | None:
        got = real(self, *args)
        assert got is not None
        keys.append(got)
        return got

    monkeypatch.setattr(LayoutObserver, "inputs_key", spying)
    session = Session.open(load_profile(lake / "config.yaml"))
    try:
        session.plan(SEASONS)
        cache: Any = session.backends.cache  # type: ignore[attr-defined]
        for bad in (pa.table({"other": ["x"]}), pa.table({"layout_plan": ["{not json"]})):
            cache.put_result(keys[-1], bad)
            assert _layout(lake) == cold
    finally:
        session.close()
    assert len(observed) == 3  # the cold plan, then once per malformed entry


def test_a_plan_with_an_unreadable_object_is_not_kept(lake: Path, observed: list[int]) -> None:
    table = lake / "lake" / "silver" / "fct_plays"
    broken = next(table.rglob("*.parquet")).with_name("part-broken.parquet")
    broken.write_bytes(b"not parquet at all")
    first = _layout(lake)
    assert [a for a in first.actions if a.details.get("kind") == "unreadable object"]
    assert _layout(lake) == first
    assert len(observed) == 2, "a plan over an unreadable object is made afresh each time"
