"""Helpers for end-to-end tests: a sandbox lake, the simulator on loopback, the CLI."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
from typer.testing import CliRunner

from reconciler.api.pacing import busiest_window
from reconciler.cli.app import app
from tests.text_edits import subbed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_sandbox(
    root: Path, seasons: str = "2015-2016", scale: float = 0.005, seed: int = 7, rate: int = 20, **kw: Any
):
    """A sandbox with the simulator's port chosen; the API rate raised for test speed unless given."""
    from reconciler.sandbox import init_sandbox
    from reconciler.seasons import parse_seasons

    port = free_port()
    manifest = init_sandbox(root, seasons=parse_seasons(seasons), scale=scale, seed=seed, api_port=port, **kw)
    cfg = root / "config.yaml"
    fast_config(cfg, rate)
    return cfg, port, manifest


def fast_config(cfg: Path, rate: int = 20) -> None:
    """Raise the API rate, widen the pacing margin, shorten retries and timeouts in a sandbox config."""
    text = cfg.read_text()
    # The client and the simulator share this process, so the GIL can delay the server's stamp of
    # a request by more than the default pacing margin; the tests keep the wider margin of 0.05 s.
    text = subbed(
        r"( *)rate_limit_per_sec: \d+",
        lambda m: f"{m[1]}rate_limit_per_sec: {rate}\n{m[1]}pacing_margin_seconds: 0.05",
        text,
    )
    text = subbed(r"base_delay_seconds: [\d.]+", "base_delay_seconds: 0.05", text)
    text = subbed(r"max_delay_seconds: [\d.]+", "max_delay_seconds: 0.2", text)
    text = subbed(r"(?<!query_)timeout_seconds: [\d.]+", "timeout_seconds: 2", text)
    cfg.write_text(text)


def see_through_catalog(cfg: Path) -> None:
    """Make a sandbox's DuckDB engine read registered partitions only, as Athena does (``sees: catalog``)."""
    text = cfg.read_text()
    new, n = re.subn(r"(\n( *)engine:\n\2  kind: duckdb\n)", r"\1\2  sees: catalog\n", text)
    assert n == 1, text
    cfg.write_text(new)


def plays_units(engine: Any, season: int) -> dict[str, int]:
    """The fct_plays units an engine sees in one season, with their row counts (the observer's coverage query)."""
    from reconciler.observe.queries import coverage_query

    sql = coverage_query("cbbd_silver", "fct_plays", ["gameId"])
    t = engine.query(sql, {"season_start": season, "season_end": season}).table
    return dict(zip(t.column("u0").to_pylist(), t.column("n").to_pylist(), strict=True))


@contextmanager
def simulator(cfg: Path, port: int, data: Any = None, **kw: Any) -> Iterator[Any]:
    """The simulator in a thread of this process, serving the sandbox's universe."""
    from reconciler.sandbox import serve_sandbox

    with serve_sandbox(cfg, port, data, **kw) as server:
        yield server


def cli(args: Sequence[str], input: str | None = None):
    runner = CliRunner()
    return runner.invoke(app, list(args), input=input, catch_exceptions=False)


def plan_json(cfg: Path, seasons: str, *extra: str) -> dict[str, Any]:
    r = cli(["plan", "--config", str(cfg), "--seasons", seasons, "--format", "json", *extra])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def read_silver(lake: Path, table: str, columns: Sequence[str] | None = None):
    root = lake / "silver" / table
    if not root.exists():
        return None
    files = [str(p) for p in root.rglob("*.parquet")]
    return ds.dataset(files, format="parquet").to_table(columns=list(columns) if columns else None)


def duplicate_keys(lake: Path, table: str, key: Sequence[str]) -> int:
    t = read_silver(lake, table, key)
    if t is None:
        return 0
    rows = list(zip(*(t.column(c).to_pylist() for c in key), strict=True))
    return len(rows) - len(set(rows))


def request_log(path: Path) -> list[Mapping[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


max_in_window = busiest_window
