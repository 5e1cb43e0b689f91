"""The observation cache end to end: a warm plan equals a cold one, and any lake change is seen."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.adapters.factory import cache_path
from reconciler.adapters.local_store import LocalStore
from reconciler.adapters.obs_cache import CachedFooter, ObservationCache
from reconciler.config import load_profile
from reconciler.core.layout_observed import FileObs
from reconciler.observe.layout_files import files_from_table, files_table, read_footers
from tests.e2e_helpers import make_sandbox, plan_json
from tests.text_edits import replaced


def _comparable(plan: dict[str, Any]) -> str:
    out = {k: v for k, v in plan.items() if k not in ("created_at", "plan_id", "digest")}
    return json.dumps(out, sort_keys=True)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cfg, _, _ = make_sandbox(tmp_path_factory.mktemp("cache") / "sb", seasons="2015-2016", scale=0.003)
    return cfg


def test_a_warm_plan_is_the_cold_plan_and_a_new_file_is_seen(sandbox: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "sb" / "config.yaml"
    shutil.copytree(sandbox.parent, cfg.parent)
    cache = cache_path(load_profile(cfg))
    assert not cache.exists()
    cold = plan_json(cfg, "2015-2016")
    assert list((cache / "results").glob("*.arrow")), "the first plan fills the cache"
    assert (cache / "footers.sqlite").is_file()
    warm = plan_json(cfg, "2015-2016")
    assert _comparable(warm) == _comparable(cold)
    # A second copy of one silver plays file doubles its rows: the next plan must see duplicates.
    lake = cfg.parent / "lake"
    victim = sorted((lake / "silver" / "fct_plays").rglob("*.parquet"))[0]
    shutil.copy(victim, victim.with_name("part-copied0.parquet"))
    after = plan_json(cfg, "2015-2016")
    dedupes = [a for t in after["targets"] for a in t["actions"] if a["type"] == "dedupe"]
    assert _comparable(after) != _comparable(cold)
    assert dedupes, "the copy's duplicate rows are planned away"
    # Emptying the cache changes nothing but the time a plan takes.
    shutil.rmtree(cache)
    assert _comparable(plan_json(cfg, "2015-2016")) == _comparable(after)


def test_the_cache_can_be_disabled(sandbox: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "sb" / "config.yaml"
    shutil.copytree(sandbox.parent, cfg.parent)
    cfg.write_text(replaced(cfg.read_text(), "    engine:\n", "    cache:\n      enabled: false\n    engine:\n", 1))
    assert load_profile(cfg).cache.enabled is False
    plan_json(cfg, "2015-2016")
    assert not cache_path(load_profile(cfg)).exists()


def test_the_cache_path_is_resolved_against_the_config(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "profiles:\n  local:\n    store: {kind: local, path: lake}\n    state: {kind: sqlite, path: st/state.sqlite}\n"
        "    cache: {path: my-cache, max_mb: 8}\n"
    )
    prof = load_profile(cfg)
    assert cache_path(prof) == tmp_path / "my-cache"
    assert prof.cache.max_mb == 8
    cfg.write_text(
        "profiles:\n  local:\n    store: {kind: local, path: lake}\n    state: {kind: sqlite, path: st/state.sqlite}\n"
    )
    assert cache_path(load_profile(cfg)) == tmp_path / "st" / "cache"


def _parquet(store: LocalStore, key: str, n: int) -> FileObs:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"id": pa.array(range(n), pa.int64())}), sink)
    store.put(key, sink.getvalue().to_pybytes())
    info = next(o for o in store.list_objects(key) if o.key == key)
    return FileObs(key=info.key, size=info.size, mtime=info.mtime, partition=())


def test_footers_are_read_once_and_again_when_the_object_changes(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "lake", create=True)
    cache = ObservationCache(tmp_path / "cache")
    a = _parquet(store, "silver/t/part-a.parquet", 3)
    store.put("silver/t/part-bad.parquet", b"not parquet")
    bad_info = next(o for o in store.list_objects("silver/t/part-bad.parquet"))
    bad = FileObs(key=bad_info.key, size=bad_info.size, mtime=bad_info.mtime, partition=())
    first = read_footers(store, [a, bad], cache)
    assert first[0].rows == 3 and first[0].columns == (("id", "int64"),)
    assert first[1].unreadable
    assert (cache.hits, cache.misses) == (0, 2)
    # The good footer is a hit; the unreadable one is read again (its failure may have passed).
    assert read_footers(store, [a, bad], cache) == first
    assert (cache.hits, cache.misses) == (1, 3)
    # The same key with other content (size and mtime differ) is read again.
    a2 = _parquet(store, "silver/t/part-a.parquet", 5)
    assert read_footers(store, [a2], cache)[0].rows == 5
    # An ETag that differs is a miss even when size and mtime match.
    lake = store.uri("")
    cache.put_footers(lake, [(("silver/t/x.parquet", 1, 1.0, "e1"), CachedFooter(7, ()))])
    assert cache.footers(lake, [("silver/t/x.parquet", 1, 1.0, "e1")])["silver/t/x.parquet"].rows == 7
    assert cache.footers(lake, [("silver/t/x.parquet", 1, 1.0, "e2")]) == {}


def test_results_beyond_the_size_limit_are_pruned_oldest_first(tmp_path: Path) -> None:
    cache = ObservationCache(tmp_path / "cache", max_bytes=6000)
    table = pa.table({"x": pa.array(range(300), pa.int64())})
    for i in range(5):
        cache.put_result(f"k{i}", table)
    kept = sorted(p.stem for p in (tmp_path / "cache" / "results").glob("*.arrow"))
    assert kept and "k4" in kept and "k0" not in kept
    assert cache.result("k4") is not None and cache.result("k0") is None


def test_an_unusable_cache_directory_only_costs_time(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache = ObservationCache(blocker / "cache")  # cannot be created
    store = LocalStore(tmp_path / "lake", create=True)
    a = _parquet(store, "silver/t/part-a.parquet", 3)
    assert read_footers(store, [a], cache)[0].rows == 3
    assert read_footers(store, [a], cache)[0].rows == 3
    cache.put_result("k", pa.table({"x": [1]}))
    assert cache.result("k") is None


def test_a_copy_of_a_lake_does_not_answer_from_the_original_s_results(tmp_path: Path) -> None:
    from reconciler.adapters.duckdb_engine import DuckDBEngine

    store = LocalStore(tmp_path / "lake", create=True)
    _parquet(store, "silver/fct_games/season=2025/part-a.parquet", 3)
    cache = ObservationCache(tmp_path / "cache")
    q = "SELECT count(*) AS n FROM cbbd_silver.fct_games"
    assert DuckDBEngine(store, cache=cache).query(q).table.to_pylist() == [{"n": 3}]
    shutil.copytree(tmp_path / "lake", tmp_path / "copy")  # same keys, sizes and mtimes
    copy = LocalStore(tmp_path / "copy")
    _parquet(copy, "silver/fct_games/season=2025/part-a.parquet", 5)  # same key, other content
    assert DuckDBEngine(copy, cache=cache).query(q).table.to_pylist() == [{"n": 5}]
    assert cache.hits == 0


_names = st.text(alphabet="abcdefgh=-_0123456789", min_size=1, max_size=8)


@settings(max_examples=80, deadline=None, print_blob=True)
@given(
    files=st.lists(
        st.builds(
            FileObs,
            key=_names.map(lambda s: f"silver/t/{s}.parquet"),
            size=st.integers(0, 2**40),
            mtime=st.floats(0, 2e9, allow_nan=False),
            partition=st.lists(st.tuples(_names, _names), max_size=3).map(tuple),
            rows=st.integers(0, 2**31),
            columns=st.lists(st.tuples(_names, _names), max_size=4).map(tuple),
            unreadable=st.sampled_from(["", "not Parquet"]),
            superseded_by=st.sampled_from(["", "layout.relayout[x]"]),
            replacements=st.lists(_names, max_size=2).map(tuple),
            ranges=st.lists(st.tuples(_names, _names, _names), max_size=2).map(tuple),
        ),
        max_size=6,
    )
)
def test_a_table_s_objects_read_back_from_the_cache_as_they_were(files: list[FileObs]) -> None:
    assert files_from_table(files_table(files)) == files


def test_a_table_s_objects_are_cached_whole_and_any_change_is_a_miss(tmp_path: Path) -> None:
    from reconciler.core.layout_observed import TableDecl
    from reconciler.observe.layout import LayoutObserver
    from reconciler.observe.layout_superseded import Superseded

    store = LocalStore(tmp_path / "lake", create=True)
    for i, season in enumerate((2015, 2016)):
        _parquet(store, f"silver/t/season={season}/part-{i}.parquet", 3 + i)
    cache = ObservationCache(tmp_path / "cache")
    observer = LayoutObserver(store=store, catalog=None, engine=None, state=None, cache=cache)  # type: ignore[arg-type]
    decl = TableDecl(layer="silver", database="cbbd_silver", table="t", layout="season={season}")
    first = observer._files(decl, {2015, 2016}, {})
    assert [f.rows for f in first] == [3, 4]
    hits = cache.hits
    assert observer._files(decl, {2015, 2016}, {}) == first
    assert cache.hits == hits + 1  # the whole table, one hit
    # Another season selection, a superseded record, a new object: each is read afresh.
    assert [f.rows for f in observer._files(decl, {2016}, {})] == [4]
    info = next(iter(store.list_objects("silver/t/season=2015/")))
    rec = Superseded(key=info.key, size=info.size, mtime=info.mtime, by="layout.relayout[x]", replacements=())
    marked = observer._files(decl, {2015, 2016}, {info.key: rec})
    assert [f.superseded_by for f in marked] == ["layout.relayout[x]", ""]
    _parquet(store, "silver/t/season=2016/part-9.parquet", 9)
    assert [f.rows for f in observer._files(decl, {2015, 2016}, {})] == [3, 4, 9]
