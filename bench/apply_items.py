"""Bench items 3–5: pacing, resume overhead after SIGKILL, peak RSS of a season of plays.

Each apply runs as a subprocess of this process (``reconcile apply``) against the simulator in a
thread here; the simulator's request log is the source of truth for what reached the API.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

from bench.common import WORK, apply_cmd, free_port, fresh_copy, max_in_window, read_log, simulator


def pacing(src: Path, seasons: str, duration: float = 60.0) -> dict[str, Any]:
    """A DURATION-second apply at the configured 3 req/s, 3 in flight, simulator latency 200 ms."""
    port = free_port()
    cfg = fresh_copy(src, WORK / "run-pacing", port)
    reqlog = WORK / "run-pacing" / "requests.jsonl"
    sends = WORK / "run-pacing" / "sends.jsonl"  # the client's own start stamps (headers written)
    sends.unlink(missing_ok=True)
    with simulator(cfg, port, latency_ms=200, request_log=str(reqlog)):
        t = time.perf_counter()
        subprocess.run(
            apply_cmd(cfg, seasons, "--max-duration", str(duration)),
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "RECONCILE_SEND_LOG": str(sends)},
        )
        wall = time.perf_counter() - t
    started, seen = _paced(read_log(sends)), _paced(read_log(reqlog))
    return {
        **started,
        **{f"server_{k}": v for k, v in seen.items() if k != "span"},
        "wall": wall,
        "statuses": sorted({int(e["status"]) for e in read_log(reqlog)}),
    }


def _paced(log: list[dict[str, Any]]) -> dict[str, Any]:
    """Requests, span, achieved rate and busiest 1-s window of a log of ``ts`` stamps."""
    ts = sorted(float(e["ts"]) for e in log)
    span = ts[-1] - ts[0] if ts else 0.0
    return {
        "requests": len(ts),
        "span": span,
        "rate": (len(ts) - 1) / span if len(ts) > 1 else 0.0,
        "max_in_1s": max_in_window(ts),
    }


def _ok(path: Path) -> int:
    return sum(1 for e in read_log(path) if int(e["status"]) == 200)


def resume(src: Path, seasons: str, target: str) -> dict[str, Any]:
    """Successful requests of kill -9 mid-apply + resume, beyond one uninterrupted apply."""
    out: dict[str, Any] = {}
    # uninterrupted
    port = free_port()
    cfg = fresh_copy(src, WORK / "run-resume-a", port)
    log_a = WORK / "run-resume-a" / "requests.jsonl"
    with simulator(cfg, port, request_log=str(log_a)):
        t = time.perf_counter()
        subprocess.run(
            apply_cmd(cfg, seasons, "--target", target),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        out["uninterrupted_seconds"] = time.perf_counter() - t
    out["uninterrupted_ok"] = _ok(log_a)
    # interrupted, then resumed
    port = free_port()
    cfg = fresh_copy(src, WORK / "run-resume-b", port)
    _short_lease(cfg)
    log_b = WORK / "run-resume-b" / "requests.jsonl"
    with simulator(cfg, port, request_log=str(log_b)):
        proc = subprocess.Popen(
            apply_cmd(cfg, seasons, "--target", target),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        # kill -9 once half the uninterrupted run's requests have reached the simulator
        half = max(1, out["uninterrupted_ok"] // 2)
        deadline = time.monotonic() + 300
        while len(read_log(log_b)) < half and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        out["killed_at_requests"] = len(read_log(log_b))
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        out["killed_after_ok"] = _ok(log_b)
        out["killed_rc"] = proc.returncode
        # a SIGKILLed apply leaves its lock: the copy's lease is 5 s, so the resume waits it out
        time.sleep(6)
        r = subprocess.run(apply_cmd(cfg, seasons, "--target", target), capture_output=True, text=True)
        if r.returncode != 0:
            out["resume_error"] = (r.stderr or r.stdout).strip().splitlines()[-1:]
        out["resume_rc"] = r.returncode
    out["interrupted_total_ok"] = _ok(log_b)
    out["extra"] = out["interrupted_total_ok"] - out["uninterrupted_ok"]
    return out


LIMIT_BYTES = 1 << 30  # the pipeline's ECS task: 1 GB


def _cgroup(limit: int) -> tuple[Path, str] | None:
    """A memory cgroup of LIMIT bytes for the apply (v2 where it has the memory controller, else v1), or None."""
    v2 = Path("/sys/fs/cgroup/cgroup.controllers")
    try:
        if v2.exists() and "memory" in v2.read_text().split():
            root, knob, how = v2.parent, "memory.max", "cgroup v2 memory.max"
        else:
            root, knob, how = Path("/sys/fs/cgroup/memory"), "memory.limit_in_bytes", "cgroup v1 memory.limit_in_bytes"
        group = root / f"reconcile-bench-{os.getpid()}"
        group.mkdir(exist_ok=True)
        (group / knob).write_text(str(limit))
        return group, f"{how} = {limit >> 20} MiB"
    except OSError:
        return None


def limited(limit: int = LIMIT_BYTES) -> tuple[Any, str, Path | None]:
    """A preexec_fn putting the child under a memory limit: a cgroup where this machine lets us make
    one (as ECS does), else RLIMIT_AS (address space: stricter than RSS)."""
    got = _cgroup(limit)
    if got is not None:
        group, how = got

        def enter() -> None:
            (group / "cgroup.procs").write_text(str(os.getpid()))

        return enter, how, group

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return cap, f"RLIMIT_AS = {limit >> 20} MiB (no writable cgroup here)", None


def _peak_of(cmd: list[str], limit: int) -> dict[str, Any]:
    """Run CMD under the memory limit; its peak RSS (process + children, sampled every 20 ms)."""
    enter, how, group = limited(limit)
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=enter)
        ps = psutil.Process(proc.pid)
        peak = 0
        while proc.poll() is None:
            try:
                rss = ps.memory_info().rss + sum(c.memory_info().rss for c in ps.children(recursive=True))
                peak = max(peak, rss)
            except psutil.Error:
                pass
            time.sleep(0.02)
        err = proc.stderr.read() if proc.stderr else ""
    finally:
        if group is not None:
            with contextlib.suppress(OSError):
                group.rmdir()
    return {
        "peak_rss_mb": peak / 2**20,
        "rc": proc.returncode,
        "limit": how,
        "stderr_tail": err.strip().splitlines()[-2:],
    }


def base_after_imports() -> float:
    """RSS (MB) of a process that has imported the CLI and the apply path, and done nothing else."""
    # Its own RSS, not ru_maxrss: that is carried over from the process it was forked from.
    code = (
        "import psutil, reconciler.cli.app, reconciler.cli.apply_run, reconciler.service.apply,"
        " reconciler.apply.executor;"
        "print(psutil.Process().memory_info().rss)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return int(out.strip()) / 2**20


def memory(src: Path, seasons: str, target: str, rate: int) -> dict[str, Any]:
    """Peak RSS of applying one season of a target, then of its busiest day alone, under a 1 GB limit.

    The season: a fresh copy of the sandbox, every missing unit of the season filled. The
    busiest day: the date whose response was largest in that run; its silver and bronze objects
    are removed from the filled lake and the same apply fills that day again (one request).
    """
    port = free_port()
    dest = WORK / "run-memory"
    cfg = fresh_copy(src, dest, port, rate=rate)
    # a /plays/date body at scale 1.0 is 10-16 MB: give the simulator time to render it on a busy machine
    cfg.write_text(re.sub(r"timeout_seconds: [\d.]+", "timeout_seconds: 60", cfg.read_text()))
    reqlog = dest / "requests.jsonl"
    out: dict[str, Any] = {"base_after_imports_mb": base_after_imports()}
    with simulator(cfg, port, request_log=str(reqlog)):
        t = time.perf_counter()
        season = _peak_of(apply_cmd(cfg, seasons, "--target", target), LIMIT_BYTES)
        out["seconds"] = time.perf_counter() - t
        log = [e for e in read_log(reqlog) if e.get("path") == "/plays/date" and int(e["status"]) == 200]
        out["requests"] = len(read_log(reqlog))
        out["rows_in_silver"] = _silver_rows(dest / "lake", target, seasons)
        busiest = max(log, key=lambda e: int(e.get("bytes") or 0)) if log else None
        if busiest is not None:
            day = str(busiest["query"]["date"])
            out["busiest_day"] = {"date": day, "body_mb": int(busiest["bytes"]) / 2**20}
            for layer, table in (("silver", "fct_plays"), ("bronze", "plays_date")):
                for p in (dest / "lake" / layer / table).rglob(f"date={day}"):
                    shutil.rmtree(p)
            before = len(read_log(reqlog))
            one = _peak_of(apply_cmd(cfg, seasons, "--target", target), LIMIT_BYTES)
            out["busiest_day"].update(one, requests=len(read_log(reqlog)) - before)
    shutil.rmtree(dest / "lake", ignore_errors=True)
    return {**out, **{k: season[k] for k in ("peak_rss_mb", "rc", "limit", "stderr_tail")}}


def _silver_rows(lake: Path, target: str, seasons: str) -> int:
    import pyarrow.dataset as ds

    table = {"plays": "fct_plays", "substitutions": "fct_substitutions", "lineups": "fct_lineups"}[target]
    root = lake / "silver" / table / f"season={seasons}"
    files = [str(p) for p in root.rglob("*.parquet")] if root.exists() else []
    return ds.dataset(files, format="parquet").count_rows() if files else 0


def _short_lease(cfg: Path) -> None:
    text = cfg.read_text()
    cfg.write_text(
        text.replace("path: .reconcile/state.sqlite", "path: .reconcile/state.sqlite\n      lock_ttl_seconds: 5")
    )
