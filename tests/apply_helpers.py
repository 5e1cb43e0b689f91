"""Helpers for the trust tests: `reconcile apply` as a real subprocess, and lake comparisons.

The simulator runs in the test process (a thread) and writes the request log; the apply runs
as ``python -m reconciler.cli.app`` so that it can be killed, signalled and raced.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from tests.e2e_helpers import request_log
from tests.text_edits import replaced

#: The fault mix of issue 7: 10% 5xx, 5% timeouts (a short hang past a 1 s client timeout), 2% malformed.
FAULTS = {"5xx": 0.10, "timeout": 0.05, "malformed": 0.02}
HANG_SECONDS = 1.5

SILVER_KEYS = {
    "fct_plays": ("id",),
    "fct_substitutions": ("gameId", "athleteId", "sub_in_period", "sub_in_seconds_remaining"),
    "fct_lineups": ("gameId", "teamid", "idhash"),
    "fct_games": ("gameId",),
}


def set_client_timeout(cfg: Path, seconds: float) -> None:
    """Set ``api.timeout_seconds`` in a sandbox config (make_sandbox sets 2)."""
    text = cfg.read_text()
    cfg.write_text(replaced(text, "timeout_seconds: 2\n", f"timeout_seconds: {seconds:g}\n"))


@dataclass
class Run:
    """A finished apply subprocess."""

    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


class Apply:
    """One ``reconcile apply`` subprocess, output captured to files (no pipe can fill up)."""

    def __init__(self, cfg: Path, seasons: str, *args: str, cwd: Path | None = None, plan_file: Path | None = None):
        self.dir = cfg.parent / ".runs"
        self.dir.mkdir(exist_ok=True)
        n = len(list(self.dir.glob("*.out")))
        self._out = self.dir / f"{n:03d}.out"
        self._err = self.dir / f"{n:03d}.err"
        cmd = [sys.executable, "-m", "reconciler.cli.app", "apply"]
        if plan_file is not None:
            cmd.append(str(plan_file))
        cmd += ["--config", str(cfg), "--seasons", seasons, "--auto-approve", *args]
        env = {**os.environ, "COLUMNS": "200", "PYTHONUNBUFFERED": "1"}
        with self._out.open("w") as out, self._err.open("w") as err:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd or cfg.parent, env=env)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def output(self) -> str:
        return self._out.read_text() + self._err.read_text()

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def wait(self, timeout: float = 240) -> Run:
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"apply did not finish in {timeout} s:\n{self.output()[-3000:]}") from None
        return Run(code, self._out.read_text(), self._err.read_text())


def apply_until_done(cfg: Path, seasons: str, *args: str, tries: int = 6) -> list[Run]:
    """Apply (with --retry-failed) until an apply exits 0; malformed payloads fail items for one apply."""
    runs = []
    for _ in range(tries):
        run = Apply(cfg, seasons, "--retry-failed", *args).wait()
        runs.append(run)
        if run.code == 0:
            return runs
        assert run.code == 1 and "Some units failed" in run.out, run.text[-3000:]
    raise AssertionError(f"apply did not converge in {tries} applies:\n{runs[-1].text[-3000:]}")


def log_lines(path: Path) -> int:
    """Lines in the request log so far (one per request the simulator received)."""
    try:
        with path.open("rb") as fh:
            return sum(1 for _ in fh)
    except FileNotFoundError:
        return 0


def wait_until(cond: Any, proc: Apply | None = None, timeout: float = 120, poll: float = 0.01) -> bool:
    """Poll ``cond()`` until true; False if the process exits first. Not a timing assertion."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        if proc is not None and not proc.alive():
            return bool(cond())
        time.sleep(poll)
    raise AssertionError("timed out waiting")


def wait_for_requests(log: Path, n: int, proc: Apply | None = None, timeout: float = 120) -> bool:
    """Wait until the request log has ``n`` lines; False if the process exits first."""
    return wait_until(lambda: log_lines(log) >= n, proc, timeout)


def successes(log: Path) -> int:
    """Requests answered 200 with real data (no injected fault): the calls that cost the quota."""
    return sum(1 for e in request_log(log) if e["status"] == 200 and e["fault"] is None)


def _norm(v: Any) -> Any:
    if isinstance(v, float) and v != v:
        return "NaN"
    if isinstance(v, dict):
        return tuple(sorted((k, _norm(x)) for k, x in v.items()))
    if isinstance(v, list):
        return tuple(_norm(x) for x in v)
    return v


def silver_contents(lake: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every silver table, with its partition, sorted (order-insensitive, nothing excluded)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    root = lake / "silver"
    for table_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        rows: list[tuple[Any, ...]] = []
        for f in sorted(table_dir.rglob("*.parquet")):
            part = str(f.parent.relative_to(table_dir))
            t = pq.read_table(io.BytesIO(f.read_bytes()))
            for r in t.to_pylist():
                rows.append((part, *sorted((k, _norm(v)) for k, v in r.items())))
        out[table_dir.name] = sorted(rows, key=repr)
    return out


def duplicates(lake: Path, keys: Mapping[str, Sequence[str]] = SILVER_KEYS) -> dict[str, int]:
    """Duplicate natural keys per silver table (non-zero entries only)."""
    from tests.e2e_helpers import duplicate_keys

    found = {t: duplicate_keys(lake, t, k) for t, k in keys.items()}
    return {t: n for t, n in found.items() if n}
