"""Every bad input of issue 18, walked from a table: one red line, exit 1, no traceback, nothing written.

Each row is a command as a user would type it, with the setup that makes it bad (an edited
config, an unwritable path, a busy port). A row passes when the command exits 1 and prints
exactly one line, which names the cause (``needle``), without ``--debug``; the same command with
``--debug`` is allowed its traceback. Rows that reach a sandbox's lake also check that nothing
was written: no object added to the lake and no unit recorded in the state store.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli.app import app
from tests.e2e_helpers import make_sandbox
from tests.text_edits import replaced, subbed

runner = CliRunner()
SEASON = "2016"


@dataclass(frozen=True)
class Row:
    """One bad input: how to make it, the command, and what its one line must say."""

    name: str
    args: Callable[[Path], list[str]]
    needle: str
    setup: Callable[[Path, pytest.MonkeyPatch], None] = lambda sb, mp: None
    env: dict[str, str] = field(default_factory=dict)


def _cfg(sb: Path) -> str:
    return str(sb / "config.yaml")


def _edit(sb: Path, old: str, new: str) -> None:
    cfg = sb / "config.yaml"
    text = cfg.read_text()
    assert old in text, old
    cfg.write_text(replaced(text, old, new, 1))


def _waiver_bad_date(sb: Path, mp: pytest.MonkeyPatch) -> None:
    (sb / "specs" / "waivers.yaml").write_text(
        "version: 1\nwaivers:\n  - {address: 'plays[season=2016][gameId=1]', reason: x, expires: 2026-13-45}\n"
    )


def _json_array(sb: Path, mp: pytest.MonkeyPatch) -> None:
    (sb / "array.json").write_text("[1, 2]\n")


def _wrong_typed_plan(sb: Path, mp: pytest.MonkeyPatch) -> None:
    """A plan file with its digest right and one field of the wrong type (edited, then re-digested)."""
    from reconciler.core.plan import plan_digest

    r = runner.invoke(app, ["plan", "--config", _cfg(sb), "--seasons", SEASON, "--out", str(sb / "p.json")])
    assert r.exit_code == 0, r.output
    data = json.loads((sb / "p.json").read_text())
    data["seasons"] = SEASON
    data["digest"] = plan_digest(data)
    (sb / "p.json").write_text(json.dumps(data))


def _a_directory(sb: Path, mp: pytest.MonkeyPatch) -> None:
    (sb / "out").mkdir()


def _read_only_lake(sb: Path, mp: pytest.MonkeyPatch) -> None:
    lake = sb / "lake"
    if os.geteuid() != 0:
        for d, _, _ in os.walk(lake):
            os.chmod(d, 0o555)
        return
    # root ignores permissions: the lake's directories answer as a read-only mount would.
    import reconciler.adapters.local_store as local_store

    real = os.access
    mp.setattr(local_store.os, "access", lambda p, mode: False if str(p).startswith(str(lake)) else real(p, mode))


def _busy_port(sb: Path, mp: pytest.MonkeyPatch) -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    text = (sb / "config.yaml").read_text()

    (sb / "config.yaml").write_text(subbed(r"http://127\.0\.0\.1:\d+", f"http://127.0.0.1:{port}", text))
    _SOCKETS.append(s)


_SOCKETS: list[socket.socket] = []

ROWS = [
    Row("empty --seasons", lambda sb: ["plan", "--config", _cfg(sb), "--seasons", ""], "--seasons: empty season"),
    Row(
        "empty --seasons, sandbox",
        lambda sb: ["sandbox", "init", str(sb / "new"), "--seasons", ""],
        "--seasons: empty season",
    ),
    Row(
        "negative --max-requests",
        lambda sb: ["apply", "--config", _cfg(sb), "--seasons", SEASON, "--max-requests", "-5"],
        "--max-requests: -5",
    ),
    Row(
        "negative --max-duration",
        lambda sb: ["apply", "--config", _cfg(sb), "--seasons", SEASON, "--max-duration", "-1"],
        "--max-duration: -1",
    ),
    Row(
        "zero --max-duration",
        lambda sb: ["apply", "--config", _cfg(sb), "--seasons", SEASON, "--max-duration", "0"],
        "--max-duration: 0",
    ),
    Row(
        "waiver expires 2026-13-45 (plan)",
        lambda sb: ["plan", "--config", _cfg(sb), "--seasons", SEASON],
        "waivers.yaml:3: not a valid value: '2026-13-45'",
        _waiver_bad_date,
    ),
    Row(
        "waiver expires 2026-13-45 (validate)",
        lambda sb: ["validate", "--config", _cfg(sb), "--offline"],
        "waivers.yaml:3: not a valid value: '2026-13-45'",
        _waiver_bad_date,
    ),
    Row(
        "plan file is a JSON array",
        lambda sb: ["apply", str(sb / "array.json"), "--config", _cfg(sb)],
        "not a plan file (a JSON list",
        _json_array,
    ),
    Row(
        "plan file with a wrong-typed field",
        lambda sb: ["apply", str(sb / "p.json"), "--config", _cfg(sb)],
        "not a valid plan file (seasons: Input should be a valid list)",
        _wrong_typed_plan,
    ),
    Row(
        "plan file is a directory",
        lambda sb: ["apply", str(sb / "lake"), "--config", _cfg(sb)],
        "is a directory, not a plan file",
    ),
    Row(
        "--out is a directory",
        lambda sb: ["plan", "--config", _cfg(sb), "--seasons", SEASON, "--out", str(sb / "out")],
        "--out: ",
        _a_directory,
    ),
    Row(
        "--output is a directory",
        lambda sb: ["audit", "--config", _cfg(sb), "--seasons", SEASON, "--output", str(sb / "out")],
        "--output: ",
        _a_directory,
    ),
    Row(
        "unwritable RECONCILE_SEND_LOG",
        lambda sb: ["apply", "--config", _cfg(sb), "--seasons", SEASON, "--auto-approve", "--target", "plays"],
        "$RECONCILE_SEND_LOG: cannot write /proc/no/such/send.jsonl",
        env={"RECONCILE_SEND_LOG": "/proc/no/such/send.jsonl"},
    ),
    Row(
        "read-only lake directory",
        lambda sb: ["apply", "--config", _cfg(sb), "--seasons", SEASON, "--auto-approve", "--target", "plays"],
        "lake directory is not writable",
        _read_only_lake,
    ),
    Row("sim serve on a busy port", lambda sb: ["sim", "serve", "--config", _cfg(sb)], "is already in use", _busy_port),
    Row("sim serve --quota -3", lambda sb: ["sim", "serve", "--config", _cfg(sb), "--quota", "-3"], "--quota: -3"),
    Row(
        "sandbox init /proc/x",
        lambda sb: ["sandbox", "init", "/proc/x/sb", "--seasons", SEASON],
        "/proc/x/sb: cannot create the sandbox directory",
    ),
    Row(
        "config seasons: abc",
        lambda sb: ["plan", "--config", _cfg(sb)],
        "profiles.local.seasons: 'abc' is not a season",
        lambda sb, mp: _edit(sb, "  local:\n", "  local:\n    seasons: abc\n"),
    ),
    Row(
        "RECONCILE_PROFILE names no profile",
        lambda sb: ["plan", "--config", _cfg(sb), "--seasons", SEASON],
        "no profile 'prod' (from $RECONCILE_PROFILE",
        env={"RECONCILE_PROFILE": "prod"},
    ),
    Row(
        "base_url is not a URL",
        lambda sb: ["validate", "--config", _cfg(sb)],
        "api.base_url: 'not a url' is not an http(s) URL",
        lambda sb, mp: _edit(sb, "base_url: http://127.0.0.1", "base_url: not a url  # http://127.0.0.1"),
    ),
    Row(
        "top-level seasons key",
        lambda sb: ["plan", "--config", _cfg(sb)],
        "seasons: a profile setting; put it under a profile",
        lambda sb, mp: (sb / "config.yaml").write_text("seasons: 2016\n" + (sb / "config.yaml").read_text()),
    ),
    Row(
        "CBBD_API_KEY unset for a real API",
        lambda sb: ["apply", "--config", _cfg(sb), "--seasons", SEASON, "--auto-approve", "--target", "plays"],
        "CBBD_API_KEY is not set",
        lambda sb, mp: _edit(sb, "base_url: http://127.0.0.1", "base_url: http://127.0.0.2"),
    ),
]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bad-inputs") / "sb"
    make_sandbox(root, seasons=SEASON)
    return root


@pytest.fixture
def sb(template: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "sb"
    shutil.copytree(template, dest)
    return dest


def _lake_listing(sb: Path) -> list[str]:
    """Every object of the lake but the apply lock's lease objects (``_reconcile/locks/``)."""
    objs = (str(p.relative_to(sb)) for p in (sb / "lake").rglob("*") if p.is_file())
    return sorted(o for o in objs if not o.startswith("lake/_reconcile/"))


def _units_recorded(sb: Path) -> int:
    db = sb / ".reconcile" / "state.sqlite"
    if not db.exists():
        return 0
    import sqlite3

    with sqlite3.connect(db) as con:
        return int(con.execute("SELECT count(*) FROM units").fetchone()[0])


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_bad_input_is_one_line_without_traceback(row: Row, sb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in row.env.items():
        monkeypatch.setenv(k, v)
    row.setup(sb, monkeypatch)
    before = _lake_listing(sb)
    try:
        result = runner.invoke(app, row.args(sb))
    finally:
        while _SOCKETS:
            _SOCKETS.pop().close()
    out = result.output.strip()
    assert result.exit_code == 1, out
    assert "Traceback" not in out, out
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [ln for ln in out.splitlines() if ln.strip() and not ln.startswith(("reconcile plan", "#", " ", "Plan:"))]
    errors = [ln for ln in lines if ln.startswith("Error:")]
    assert len(errors) == 1, out
    assert row.needle in errors[0], out
    assert _lake_listing(sb) == before, "nothing may be written to the lake"
    assert _units_recorded(sb) == 0, "no unit may be recorded"


def test_a_plan_file_without_digest_is_refused(sb: Path) -> None:
    (sb / "noplan.json").write_text(json.dumps({"format_version": 1}))
    result = runner.invoke(app, ["apply", str(sb / "noplan.json"), "--config", _cfg(sb)])
    assert result.exit_code == 1
    assert "has no digest" in result.output


def test_debug_shows_the_traceback(sb: Path) -> None:
    """--debug is the way to a traceback; without it, the same failure is one line."""
    (sb / "array.json").write_text("[1]")
    result = runner.invoke(app, ["apply", str(sb / "array.json"), "--config", _cfg(sb), "--debug"])
    assert result.exit_code != 0
    assert result.exception is not None and not isinstance(result.exception, SystemExit)
