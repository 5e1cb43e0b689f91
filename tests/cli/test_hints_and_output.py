"""Hints that paste, counts that add up, lines that are not cut (issue 18: unclear messages and friction)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from reconciler.ports import LockInfo
from tests.e2e_helpers import cli, make_sandbox

SEASON = "2016"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hints") / "sb"
    make_sandbox(root, seasons=SEASON)
    return root


@pytest.fixture
def cfg(template: Path, tmp_path: Path) -> Path:
    shutil.copytree(template, tmp_path / "sb")
    return tmp_path / "sb" / "config.yaml"


def test_the_saved_plan_hint_carries_the_config(cfg: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    r = cli(["plan", "--config", str(cfg), "--seasons", SEASON, "--target", "plays", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert f"Apply exactly it with: reconcile apply {out} --config {cfg}" in r.output
    md = cli(["plan", "--config", str(cfg), "--seasons", SEASON, "--format", "markdown"])
    assert f"`reconcile apply PLAN_FILE --config {cfg}`" in md.output


def test_the_lock_hint_carries_the_config(cfg: Path) -> None:
    from reconciler.adapters.local_store import LocalStore
    from reconciler.apply.lake_lock import LakeLocks

    now = time.time()
    locks = LakeLocks(LocalStore(cfg.parent / "lake"))
    locks.acquire_lock(LockInfo("lake", "deadbeef" * 4, "build-7", 4242, "reconcile apply", now, now + 60), now)
    r = cli(["apply", "--config", str(cfg), "--seasons", SEASON, "--auto-approve"])
    assert r.exit_code == 1
    assert f"if that apply is dead: reconcile force-unlock lake --config {cfg}" in r.output


def test_sandbox_init_suggests_the_commands_with_config_and_seasons(tmp_path: Path) -> None:
    sb = tmp_path / "new-sb"
    r = cli(["sandbox", "init", str(sb), "--seasons", "2016", "--scale", "0.003", "--api-port", "18999"])
    assert r.exit_code == 0, r.output
    assert f"reconcile sim serve --config {sb}/config.yaml" in r.output
    assert f"reconcile plan --config {sb}/config.yaml --seasons 2016" in r.output


def test_piped_output_is_not_wrapped(cfg: Path) -> None:
    r = cli(["plan", "--config", str(cfg), "--seasons", SEASON])
    assert r.exit_code == 0
    longest = max(len(ln) for ln in r.output.splitlines())
    assert longest > 120, longest  # the sample addresses of a group stay on their line
    assert not any(ln.startswith(("calls)", "units")) for ln in r.output.splitlines())


def test_counts_are_singular_and_group_reasons_add_up(cfg: Path) -> None:
    r = cli(["plan", "--config", str(cfg), "--seasons", SEASON])
    assert "→ 1 units" not in r.output and "1 API calls" not in r.output
    for line in r.output.splitlines():
        if "→ " in line and " units" in line and "×" in line:
            n = int(line.split("→ ")[1].split(" unit")[0].replace(",", ""))
            idx = r.output.splitlines().index(line)
            reason = next(
                (ln for ln in r.output.splitlines()[idx + 1 : idx + 3] if ln.strip().startswith("reason:")), None
            )
            if reason is not None:
                counts = reason.split("reason: ")[1].split(" (e.g.")[0]
                total = sum(int(part.split()[0].replace(",", "")) for part in counts.split(", "))
                assert total == n, (line, reason)


def test_the_what_is_left_hint_carries_the_seasons_applied(cfg: Path) -> None:
    """Pasted, the hint plans the seasons this apply covered, not the profile's default (2010-2026)."""
    rebuilds = "substitutions.bronze[season=2016]*"  # rebuilt from the lake: no API needed
    r = cli(["apply", "--config", str(cfg), "--seasons", SEASON, "--target", rebuilds, "--auto-approve"])
    assert r.exit_code == 0, r.output
    assert f"See what is left with: reconcile plan --seasons {SEASON} --config {cfg}" in r.output
