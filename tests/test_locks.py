"""The apply lock end to end: racing applies, locks list, force-unlock, takeover, release."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

from reconciler.adapters.local_store import LocalStore
from reconciler.apply.lake_lock import LakeLocks
from reconciler.cli import misc_cmds
from reconciler.ports import LockInfo
from tests.apply_helpers import Apply, duplicates
from tests.e2e_helpers import cli, make_sandbox, simulator
from tests.text_edits import replaced

SEASON = "2016"


class _Locks(LakeLocks):
    """The lake's locks, as a test plants them (the lock lives in the lake, not in the state store)."""

    def close(self):
        pass


def _state(cfg):
    return _Locks(LocalStore(cfg.parent / "lake"))


def _lock(owner8, host, pid, created, expires):
    return LockInfo("lake", owner8 * 4, host, pid, "reconcile apply --seasons 2016", created, expires)


def _apply(cfg):
    return cli(["apply", "--config", str(cfg), "--seasons", SEASON, "--auto-approve"])


def test_two_applies_started_together_exactly_one_runs(tmp_path):
    cfg, port, _ = make_sandbox(tmp_path / "sb", seasons=SEASON)
    # The simulator holds every response until the loser has exited, so the winner still holds the lock
    # however slowly either interpreter starts (a fixed latency raced a loaded CI machine and lost).
    hold = threading.Event()
    with simulator(cfg, port, hold=hold):
        a, b = Apply(cfg, SEASON, "--target", "plays"), Apply(cfg, SEASON, "--target", "plays")
        deadline = time.monotonic() + 180
        while a.alive() and b.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        hold.set()
        runs = {p.pid: p.wait() for p in (a, b)}
    codes = sorted(r.code for r in runs.values())
    assert codes == [0, 1], {pid: r.text[-2000:] for pid, r in runs.items()}
    (winner,) = [pid for pid, r in runs.items() if r.code == 0]
    loser = next(r for r in runs.values() if r.code == 1)
    errors = [line for line in loser.err.splitlines() if line.strip()]
    assert len(errors) == 1, loser.err
    assert errors[0].startswith("Error: the lake is locked by another apply:")
    assert f"pid {winner}" in errors[0] and "reconcile apply" in errors[0]
    assert "Apply complete" in runs[winner].out
    assert duplicates(cfg.parent / "lake") == {}


def test_locks_list_force_unlock_and_release(tmp_path, monkeypatch):
    cfg, port, _ = make_sandbox(tmp_path / "sb", seasons=SEASON)
    now = time.time()
    state = _state(cfg)
    state.acquire_lock(_lock("deadbeef", "build-7", 4242, now - 95, now + 60), now)
    state.close()
    with monkeypatch.context() as m:
        m.setattr(misc_cmds, "clock", lambda: now)  # the listing's clock, fixed: no wall-clock race
        listed = cli(["locks", "list", "--config", str(cfg)])
    assert listed.exit_code == 0
    row = next(line for line in listed.output.splitlines() if "deadbeef" in line)
    assert "build-7" in row and "held" in row
    assert "95 s" in row and "60 s" in row  # its age, and when it expires

    refused = _apply(cfg)
    assert refused.exit_code == 1
    assert (
        "the lake is locked by another apply: deadbeef ('reconcile apply --seasons 2016' on build-7" in refused.output
    )

    broken = cli(["force-unlock", "lake", "--config", str(cfg), "--yes"])
    assert broken.exit_code == 0 and "Unlocked lake" in broken.output
    with simulator(cfg, port):
        done = _apply(cfg)
    assert done.exit_code == 0, done.output
    assert "No locks." in cli(["locks", "list", "--config", str(cfg)]).output  # released after a normal apply

    # An expired lease (its holder stopped renewing it) is taken over.
    state = _state(cfg)
    state.acquire_lock(_lock("0ld0ld00", "build-8", 4343, now - 600, now - 1), now - 300)
    state.close()
    assert "expired" in cli(["locks", "list", "--config", str(cfg)]).output
    again = _apply(cfg)
    assert again.exit_code == 0 and "No changes" in again.output, again.output
    assert "No locks." in cli(["locks", "list", "--config", str(cfg)]).output


def test_the_lock_of_a_killed_apply_on_this_host_is_taken_over_at_once(tmp_path):
    cfg, port, _ = make_sandbox(tmp_path / "sb", seasons=SEASON)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    now = time.time()
    state = _state(cfg)
    state.acquire_lock(_lock("c0ffee00", socket.gethostname(), gone.pid, now, now + 120), now)
    state.close()
    assert "dead" in cli(["locks", "list", "--config", str(cfg)]).output
    with simulator(cfg, port):
        done = _apply(cfg)
    assert done.exit_code == 0, done.output
    assert "Took over the lock of a dead apply: c0ffee00" in done.output


def test_two_configs_with_separate_state_on_one_lake_share_the_lock(tmp_path):
    """The lock belongs to the lake: a second config (its own state store) on the same lake is refused."""
    cfg, port, _ = make_sandbox(tmp_path / "sb", seasons=SEASON)
    other = tmp_path / "other.yaml"
    text = replaced(cfg.read_text(), "path: lake", f"path: {cfg.parent / 'lake'}")
    other.write_text(replaced(text, "path: .reconcile/state.sqlite", f"path: {tmp_path / 'other-state.sqlite'}"))
    (tmp_path / "specs").symlink_to(cfg.parent / "specs")
    with simulator(cfg, port, latency_ms=600):
        a = Apply(cfg, SEASON, "--target", "plays")
        b = Apply(other, SEASON, "--target", "plays")
        runs = [a.wait(), b.wait()]
    assert sorted(r.code for r in runs) == [0, 1], [r.text[-1500:] for r in runs]
    loser = next(r for r in runs if r.code == 1)
    assert "the lake is locked by another apply" in loser.err
    assert duplicates(cfg.parent / "lake") == {}
