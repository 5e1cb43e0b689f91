"""``make demo``: sandbox → simulator → plan → apply → plan ("No changes") → audit.

The audit is written under the demo's lake (``demo-lake/reports/data_audit.md``), never over the
committed ``reports/data_audit.md`` (the audit of the twin of the real lake).

Everything runs locally: a synthetic lake with known gaps, and the CBBD simulator on a free
loopback port. Each step is a real ``reconcile`` command, printed before it runs.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.rule import Rule

from reconciler.api.pacing import busiest_window

__all__ = ["main", "pacing"]

DEMO_DIR = Path("demo-lake")
#: The demo's audit goes under its own lake: the committed reports/data_audit.md is the twin's.
REPORT = DEMO_DIR / "reports" / "data_audit.md"
SEASONS = "2024-2026"
SCALE = "0.005"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pacing(log: Path, window: float = 1.0) -> tuple[int, float, int]:
    """Pacing shown by a simulator request log.

    Args:
        log: The JSON Lines request log.
        window: Window length in seconds.

    Returns:
        (requests, achieved requests per second, most requests started in any window).
    """
    ts = sorted(json.loads(line)["ts"] for line in log.read_text().splitlines() if line.strip())
    if len(ts) < 2:
        return len(ts), 0.0, len(ts)
    return len(ts), (len(ts) - 1) / (ts[-1] - ts[0]), busiest_window(ts, window)


def _run(con: Console, args: list[str], title: str, ok: tuple[int, ...] = (0,)) -> int:
    con.print(Rule(f"[bold]{title}"))
    con.print(f"[dim]$ reconcile {shlex.join(args)}[/dim]\n")
    env = {**os.environ, "COLUMNS": os.environ.get("COLUMNS", "110")}
    rc = subprocess.call([sys.executable, "-m", "reconciler.cli.app", *args], env=env)
    if rc not in ok:
        con.print(f"[red]step failed with exit code {rc}[/red]")
        raise SystemExit(rc)
    return rc


def main() -> int:
    """Run the demo.

    Returns:
        The exit code.
    """
    con = Console(highlight=False)
    t0 = time.monotonic()
    con.print(
        Panel.fit(
            "[bold]cbbd-reconciler demo[/bold]\n"
            "A synthetic cbbd_etl lake with known gaps, a CBBD API simulator on loopback,\n"
            "and the plan → apply → plan loop that makes the lake whole.",
            border_style="blue",
        )
    )
    if DEMO_DIR.exists():
        if not (DEMO_DIR / "manifest.json").is_file():
            con.print(f"[red]{DEMO_DIR} exists and is not a demo sandbox; move it away first.[/red]")
            return 1
        shutil.rmtree(DEMO_DIR)  # our own previous demo sandbox, nothing else
    port = _free_port()
    cfg = str(DEMO_DIR / "config.yaml")
    _run(
        con,
        ["sandbox", "init", str(DEMO_DIR), "--seasons", SEASONS, "--scale", SCALE, "--api-port", str(port)],
        "1. Build a sandbox lake with gaps",
    )
    log = DEMO_DIR / "requests.jsonl"
    con.print(Rule("[bold]2. Start the CBBD simulator"))
    sim = subprocess.Popen(
        [sys.executable, "-m", "reconciler.cli.app", "sim", "serve", "--config", cfg, "--request-log", str(log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if sim.poll() is not None:
                    err = sim.stderr.read().decode() if sim.stderr else ""
                    raise SystemExit(f"simulator exited: {err}") from None
                time.sleep(0.2)
        con.print(f"simulator listening on http://127.0.0.1:{port}\n")
        _run(con, ["plan", "--config", cfg, "--seasons", SEASONS], "3. Plan: what is missing?")
        _run(con, ["apply", "--config", cfg, "--seasons", SEASONS, "--auto-approve"], "4. Apply: fill the gaps")
        _run(con, ["plan", "--config", cfg, "--seasons", SEASONS, "--detailed-exitcode"], "5. Plan again")
        _run(con, ["audit", "--config", cfg, "--seasons", SEASONS, "--output", str(REPORT)], "6. Audit the lake")
    finally:
        sim.terminate()
        sim.wait(timeout=10)
    n, rate, worst = pacing(log) if log.exists() else (0, 0.0, 0)
    con.print(Rule("[bold]Done"))
    con.print(
        f"API requests served: {n:,}; achieved {rate:.2f} req/s against a limit of 3; "
        f"at most {worst} started in any one-second window."
    )
    con.print(
        f"Audit report: {REPORT} (with its pictures beside it; reports/data_audit.md is the twin's audit and is "
        f"left alone). Total time {time.monotonic() - t0:.0f} s."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
