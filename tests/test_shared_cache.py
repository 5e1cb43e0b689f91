"""The observation cache's shared tier (``cache.shared``): a fresh machine starts where the last plan left off.

Each "machine" below is a local cache directory of its own over the same lake; the shared tier is
a prefix of the lake's store. Footer reads are counted where the layout observation makes them.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

import reconciler.observe.layout_files as layout_files
import reconciler.observe.layout_plan_cache as plan_cache
from reconciler.adapters.local_store import LocalStore
from reconciler.adapters.obs_cache import CachedFooter, ObservationCache
from reconciler.adapters.shared_cache import SharedCache
from reconciler.config import ConfigError, load_profile
from reconciler.errors import BackendError
from reconciler.seasons import parse_seasons
from reconciler.service import Session
from tests.e2e_helpers import make_sandbox

SHARED = "meta/cbbd-reconciler/cache/"
READ_FOOTER = layout_files.read_footer
NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cfg, _, _ = make_sandbox(tmp_path_factory.mktemp("shared") / "sb", seasons="2015-2016", scale=0.003)
    return cfg


def _machine(cfg: Path, name: str, shared: str | None = SHARED) -> Path:
    """A config over the same lake with a local cache of its own (another machine)."""
    doc = yaml.safe_load(cfg.read_text())
    prof = doc["profiles"][doc["default_profile"]]
    prof["cache"] = {"path": f"caches/{name}", **({"shared": shared} if shared else {})}
    out = cfg.with_name(f"{name}.yaml")
    out.write_text(yaml.safe_dump(doc))
    return out


def _plan(cfg: Path, counter: list[str], monkeypatch: pytest.MonkeyPatch) -> str:
    """The JSON plan at a fixed clock, without its ids; the footers read are appended to ``counter``."""

    def counting(fs: Any, path: str, size: int | None) -> Any:
        counter.append(path)
        return READ_FOOTER(fs, path, size)

    monkeypatch.setattr(layout_files, "read_footer", counting)
    session = Session.open(load_profile(cfg))
    try:
        plan, _ = session.plan(parse_seasons("2015-2016"), now=NOW)
    finally:
        session.close()
    out = {k: v for k, v in json.loads(plan.to_json()).items() if k not in ("created_at", "plan_id", "digest")}
    return json.dumps(out, sort_keys=True)


def _observe_always(monkeypatch: pytest.MonkeyPatch) -> None:
    """Never answer the layout plan whole from the cache, so that its table and footer entries are read."""
    monkeypatch.setattr(plan_cache, "cached_plan", lambda cache, key: None)


def _copy(sandbox: Path, tmp_path: Path) -> Path:
    cfg = tmp_path / "sb" / "config.yaml"
    shutil.copytree(sandbox.parent, cfg.parent)
    return cfg


def test_a_fresh_machine_reads_no_footer_another_plan_has_read(
    sandbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = _copy(sandbox, tmp_path)
    alone: list[str] = []
    baseline = _plan(_machine(cfg, "alone", shared=None), alone, monkeypatch)
    first: list[str] = []
    assert _plan(_machine(cfg, "a"), first, monkeypatch) == baseline
    assert len(first) == len(alone) > 0, "the first machine reads every footer, as without a shared tier"
    lake = cfg.parent / "lake"
    tier = sorted(p.relative_to(lake).as_posix() for p in (lake / SHARED).rglob("*") if p.is_file())
    assert any(k.startswith(SHARED + "footers/") for k in tier)
    assert any(k.startswith(SHARED + "results/") for k in tier)
    assert all(k.endswith(".arrow") for k in tier)
    # A second machine, its local cache empty: the same plan, and not one footer read, whether the
    # layout plan comes whole from the tier or is made again from the tier's table entries.
    second: list[str] = []
    assert _plan(_machine(cfg, "b"), second, monkeypatch) == baseline
    assert second == []
    _observe_always(monkeypatch)
    third: list[str] = []
    assert _plan(_machine(cfg, "c"), third, monkeypatch) == baseline
    assert third == []


def test_a_changed_table_is_read_again_only_where_it_changed(
    sandbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = _copy(sandbox, tmp_path)
    _observe_always(monkeypatch)
    _plan(_machine(cfg, "a"), [], monkeypatch)
    lake = cfg.parent / "lake"
    victim = sorted((lake / "silver" / "fct_plays").rglob("*.parquet"))[0]
    copy = victim.with_name("part-copied0.parquet")
    shutil.copy(victim, copy)
    alone = _plan(_machine(cfg, "alone", shared=None), [], monkeypatch)
    fresh: list[str] = []
    assert _plan(_machine(cfg, "b"), fresh, monkeypatch) == alone
    assert [Path(p).name for p in fresh] == [copy.name], "only the new object's footer is read"
    # The tier's entry now holds it: a third machine reads nothing.
    third: list[str] = []
    assert _plan(_machine(cfg, "c"), third, monkeypatch) == alone
    assert third == []


def test_a_broken_shared_entry_is_a_miss(sandbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _copy(sandbox, tmp_path)
    baseline = _plan(_machine(cfg, "a"), [], monkeypatch)
    lake = cfg.parent / "lake"
    broken = sorted((lake / SHARED).rglob("*.arrow"))
    for p in broken:
        p.write_bytes(b"not parquet at all")
    reads: list[str] = []
    assert _plan(_machine(cfg, "b"), reads, monkeypatch) == baseline
    assert reads, "nothing could be trusted: every footer is read again"


class _DenyingStore(LocalStore):
    """A lake whose shared prefix refuses writes (a plan role without s3:PutObject there)."""

    def put(self, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        if key.startswith(SHARED):
            raise BackendError(f"{key}: AccessDenied")
        return super().put(key, data, if_absent=if_absent)


def test_a_tier_that_refuses_writes_costs_only_time(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = _DenyingStore(tmp_path / "lake", create=True)
    cache = ObservationCache(tmp_path / "cache", shared=SharedCache(store, SHARED))
    table = pa.table({"x": [1, 2]})
    cache.put_result("k1", table)
    cache.put_result("k2", table)
    assert cache.result("k1") == table  # the local tier still answers
    assert cache.shared is not None and cache.shared.writes == 0
    warned = [r for r in caplog.records if "shared observation cache" in r.getMessage()]
    assert len(warned) == 1 and "not written" in warned[0].getMessage()


def test_footer_entries_are_checked_object_by_object(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "lake", create=True)
    lake = store.uri("")
    a = ObservationCache(tmp_path / "a", shared=SharedCache(store, SHARED))
    one = ("silver/t/part-1.parquet", 10, 1.0, "e1")
    two = ("silver/t/part-2.parquet", 20, 2.0, "e2")
    gone = ("silver/t/part-3.parquet", 30, 3.0, "e3")
    footer = CachedFooter(4, (("id", "int64"),), ranges=(("season", "2015", "2015"),))
    assert a.footers(lake, [one, two, gone], "silver/t/") == {}  # read by this machine: a miss everywhere
    a.share_footers(lake, "silver/t/", [(one, footer), (two, footer), (gone, footer)], [one[0], two[0], gone[0]])
    b = ObservationCache(tmp_path / "b", shared=SharedCache(store, SHARED))
    changed = (two[0], 21, 2.0, "e2")
    got = b.footers(lake, [one, changed], "silver/t/")
    assert got == {one[0]: footer}, "a size that differs is a miss"
    # Replacing the entry keeps the objects still listed and drops the deleted one.
    b.share_footers(lake, "silver/t/", [(changed, footer)], [one[0], two[0]])
    c = ObservationCache(tmp_path / "c", shared=SharedCache(store, SHARED))
    assert set(c.footers(lake, [one, changed, gone], "silver/t/")) == {one[0], two[0]}
    # Another table's entry is another object.
    d = ObservationCache(tmp_path / "d", shared=SharedCache(store, SHARED))
    assert d.footers(lake, [one], "silver/u/") == {}


@pytest.mark.parametrize(
    "prefix",
    ["silver/_cache/", "bronze/", "/abs/", "meta/../silver/", "", "./silver/fct_plays/", ".//silver/", "Silver/x/"],
)
def test_a_prefix_inside_the_tables_is_refused(tmp_path: Path, prefix: str) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "profiles:\n  local:\n    store: {kind: local, path: lake}\n    state: {kind: sqlite, path: st/state.sqlite}\n"
        f"    cache: {{shared: '{prefix}'}}\n"
    )
    with pytest.raises(ConfigError, match=r"cache\.shared"):
        load_profile(cfg)


def test_results_come_back_with_the_types_they_were_stored_with(tmp_path: Path) -> None:
    """Types Parquet cannot hold or would coerce (intervals, unions, second timestamps) round-trip exactly."""
    store = LocalStore(tmp_path / "lake", create=True)
    writer = ObservationCache(tmp_path / "a", shared=SharedCache(store, SHARED))
    table = pa.table(
        {
            "ts": pa.array([1, 2], pa.timestamp("s")),
            "dur": pa.array([pa.scalar((0, 1, 5), pa.month_day_nano_interval())] * 2),
            "u": pa.UnionArray.from_sparse(
                pa.array([0, 1], pa.int8()), [pa.array([1, 2], pa.int64()), pa.array(["a", "b"])]
            ),
        }
    )
    writer.put_result("d", table)
    assert writer.shared is not None and writer.shared.writes == 1
    got = ObservationCache(tmp_path / "b", shared=SharedCache(store, SHARED)).result("d")
    assert got is not None and got.schema == table.schema and got.equals(table)


class _FailingReads(LocalStore):
    """A lake whose shared prefix answers reads with a passing failure (throttling, a 503)."""

    def get(self, key: str) -> bytes:
        if key.startswith(SHARED):
            raise BackendError(f"{key}: SlowDown")
        return super().get(key)


def test_a_tier_that_cannot_be_read_keeps_its_entries(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "lake", create=True)
    lake = store.uri("")
    objs = [(f"silver/t/season={s}/part-{s}.parquet", 10, 1.0, "e") for s in (2015, 2016)]
    footer = CachedFooter(4, (("id", "int64"),))
    a = ObservationCache(tmp_path / "a", shared=SharedCache(store, SHARED))
    a.footers(lake, objs, "silver/t/")
    a.share_footers(lake, "silver/t/", [(o, footer) for o in objs], [o[0] for o in objs])
    # A machine that cannot read the tier plans one season: the entry must not shrink to it.
    b = ObservationCache(tmp_path / "b", shared=SharedCache(_FailingReads(tmp_path / "lake"), SHARED))
    assert b.footers(lake, objs[:1], "silver/t/") == {}
    b.share_footers(lake, "silver/t/", [(objs[0], footer)], [o[0] for o in objs])
    c = ObservationCache(tmp_path / "c", shared=SharedCache(store, SHARED))
    assert set(c.footers(lake, objs, "silver/t/")) == {o[0] for o in objs}


def test_an_entry_the_store_cannot_open_is_a_miss(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = LocalStore(tmp_path / "lake", create=True)
    (tmp_path / "lake" / SHARED / "results" / "d.arrow").mkdir(parents=True)  # not a file: an OSError
    cache = ObservationCache(tmp_path / "a", shared=SharedCache(store, SHARED))
    assert cache.result("d") is None
    assert any("not read" in r.getMessage() for r in caplog.records)


def test_a_malformed_table_entry_is_read_again(sandbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _copy(sandbox, tmp_path)
    baseline = _plan(_machine(cfg, "a", shared=None), [], monkeypatch)
    real = ObservationCache.result

    def junk(self: ObservationCache, digest: str) -> pa.Table | None:
        got = real(self, digest)
        return pa.table({"key": ["x"]}) if got is not None and "partition" in got.column_names else got

    monkeypatch.setattr(ObservationCache, "result", junk)
    _observe_always(monkeypatch)
    reads: list[str] = []
    assert _plan(_machine(cfg, "a", shared=None), reads, monkeypatch) == baseline
    assert reads == [], "the footers are still cached object by object"


def test_shared_needs_the_cache(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "profiles:\n  local:\n    store: {kind: local, path: lake}\n    state: {kind: sqlite, path: st/state.sqlite}\n"
        "    cache: {enabled: false, shared: meta/x/}\n"
    )
    with pytest.raises(ConfigError, match=r"cache\.shared needs the cache"):
        load_profile(cfg)
