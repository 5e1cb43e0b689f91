"""Shared helpers for the benchmarks: work dir, sandboxes, simulator, CLI subprocesses, result rows."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.api.pacing import busiest_window

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".bench"
RECONCILE = str(Path(sys.executable).parent / "reconcile")


@dataclass
class Row:
    """One line of the benchmark table."""

    what: str
    ours: str
    reference: str
    ratio: str
    command: str
    goal: str = ""
    met: bool | None = None


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def version_tag() -> str:
    """Package version + manifest format: a sandbox built by another version is rebuilt."""
    from importlib.metadata import version

    from reconciler.sandbox.manifest import MANIFEST_VERSION

    return f"{version('cbbd-reconciler')}-m{MANIFEST_VERSION}"


def sandbox(seasons: str, scale: float, seed: int = 7, drift: bool = False, complete: bool = False) -> Path:
    """A sandbox under .bench/, built once and reused when seed/scale/seasons/version match.

    ``complete``: no injected gaps (``sandbox init --complete``), the steady state.
    """
    # A complete lake carries the empty checkpoints its applies left (since issue 14's push-down).
    kind = ("-drift" if drift else "") + ("-complete-checkpointed" if complete else "")
    name = f"sandbox-{seasons}-s{scale}-seed{seed}{kind}-{version_tag()}"
    dest = WORK / name
    if (dest / "manifest.json").exists() and (dest / ".complete").exists():
        log(f"reusing {dest.name}")
        return dest
    tmp = WORK / (name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    WORK.mkdir(exist_ok=True)
    log(f"building {dest.name} (reconcile sandbox init)")
    t = time.perf_counter()
    cmd = [RECONCILE, "sandbox", "init", str(tmp), "--seasons", seasons, "--scale", str(scale), "--seed", str(seed)]
    if drift:
        cmd.append("--drift")
    if complete:
        cmd.append("--complete")
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    (tmp / ".complete").write_text(f"{time.perf_counter() - t:.1f}\n")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return dest


def fresh_copy(src: Path, dest: Path, port: int, rate: int | None = None) -> Path:
    """Copy a (small) sandbox so an apply can change it; point it at PORT; return its config."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(src, dest)
    cfg = dest / "config.yaml"
    text = cfg.read_text()
    text = re.sub(r"base_url: http://127\.0\.0\.1:\d+", f"base_url: http://127.0.0.1:{port}", text)
    if rate is not None:
        text = re.sub(r"rate_limit_per_sec: \d+", f"rate_limit_per_sec: {rate}", text)
    cfg.write_text(text)
    return cfg


@contextmanager
def simulator(cfg: Path, port: int, universe: Any = None, **kw: Any) -> Iterator[Any]:
    """The simulator in a thread of this process, serving the sandbox's universe."""
    from reconciler.sandbox import serve_sandbox

    with serve_sandbox(cfg, port, universe, **kw) as server:
        yield server


def read_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


#: Most requests started within any WINDOW seconds (/work/shared/tools/pacing_report.py logic).
max_in_window = busiest_window


def plan_calls(cfg: Path, seasons: str, *targets: str) -> int:
    """API calls of the plan for the selection (JSON plan via the CLI)."""
    args = [RECONCILE, "plan", "--config", str(cfg), "--seasons", seasons, "--format", "json"]
    for t in targets:
        args += ["--target", t]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return int(json.loads(out)["summary"]["api_calls"])


def apply_cmd(cfg: Path, seasons: str, *extra: str) -> list[str]:
    return [RECONCILE, "apply", "--config", str(cfg), "--seasons", seasons, "--auto-approve", *extra]
