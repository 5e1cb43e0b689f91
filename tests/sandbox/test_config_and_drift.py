from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reconciler.config import load_profile
from reconciler.errors import ConfigError, InputError
from reconciler.sandbox import init_sandbox, load_manifest, load_universe_from_config, sandbox_settings

from .conftest import SCALE, SEASONS, SEED, Sandbox


def test_config_loads_as_the_local_profile(sandbox: Sandbox) -> None:
    profile = load_profile(sandbox.dest / "config.yaml")
    assert profile.name == "local"
    assert profile.store.kind == "local" and Path(profile.store.path or "") == sandbox.lake.resolve()
    assert profile.engine.kind == "duckdb" and profile.catalog.kind == "local"
    assert profile.state.kind == "sqlite"
    assert Path(profile.state.path or "") == (sandbox.dest / ".reconcile/state.sqlite").resolve()
    assert profile.api.base_url == "http://127.0.0.1:8899"
    assert profile.api.rate_limit_per_sec == 3 and profile.api.max_concurrency == 3
    assert profile.api.retry.max_attempts == 5
    assert Path(profile.specs_dir) == (sandbox.dest / "specs").resolve()
    assert (sandbox.dest / "specs" / "plays.yaml").is_file()
    assert profile.waivers is not None and Path(profile.waivers).is_file()


def test_universe_rebuilt_from_the_config(sandbox: Sandbox) -> None:
    settings = sandbox_settings(sandbox.dest / "config.yaml")
    assert (settings["seed"], settings["scale"], settings["seasons"]) == (SEED, SCALE, SEASONS)
    for source in (sandbox.dest / "config.yaml", load_profile(sandbox.dest / "config.yaml")):
        universe = load_universe_from_config(source)
        assert list(universe.games()) == list(sandbox.universe.games())


def test_manifest_file_round_trips(sandbox: Sandbox) -> None:
    assert load_manifest(sandbox.dest) == sandbox.manifest
    assert load_manifest(sandbox.dest / "manifest.json").to_json() == (sandbox.dest / "manifest.json").read_text()


def test_drift_objects(sandbox: Sandbox) -> None:
    drift = sandbox.manifest.drift
    dup = drift["fct_games_asof_duplicates"]
    assert dup["season"] == 2025 and dup["keys"]
    ids: list[int] = []
    for key in dup["keys"]:
        assert "/asof=" in key
        ids.extend(pq.read_table(sandbox.lake / key)["gameId"].to_pylist())
    assert sorted(ids) == sorted(sandbox.universe.season_games(2025).game_id.tolist())
    schema = drift["fct_games_excitement_int64"]
    table = pq.read_table(sandbox.lake / schema["key"])
    assert table.schema.field("excitement").type == pa.int64()
    assert table.num_rows == schema["rows"] > 0


def test_init_refuses_an_existing_sandbox_and_bad_arguments(sandbox: Sandbox, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="already holds a sandbox"):
        init_sandbox(sandbox.dest, seasons=(2020,), scale=0.001)
    with pytest.raises(InputError, match="scale"):
        init_sandbox(tmp_path / "x", scale=0)
    with pytest.raises(InputError, match="season"):
        init_sandbox(tmp_path / "y", seasons=())
    assert not (tmp_path / "x").exists() or not any((tmp_path / "x").iterdir())


def test_config_without_sandbox_section(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("profiles:\n  local:\n    store: {kind: local, path: lake}\n    state: {kind: sqlite, path: s}\n")
    with pytest.raises(ConfigError, match="sandbox"):
        load_universe_from_config(cfg)
