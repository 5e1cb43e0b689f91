"""One unreadable or wrong-typed Parquet object blocks nothing (issue 18, item 6).

A corrupt object, a zero-byte one and one whose ``period`` is text used to fail plan, apply and
audit for every target, or leak DuckDB's "Binder Error: Cannot compare ... VARCHAR and
INTEGER_LITERAL". Now each is named with its table in one warning line; the unreadable ones are
left out of every query (the other objects are still read) and planned as layout findings
(quarantined with ``--allow-delete``, their bytes kept); the wrong-typed one is read as declared.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.e2e_helpers import cli, make_sandbox, plan_json, simulator

SEASON = "2016"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, dict]:
    root = tmp_path_factory.mktemp("badfiles") / "sb"
    cfg, port, _ = make_sandbox(root, seasons=SEASON)
    return root, port, plan_json(cfg, SEASON)


def _damage(sb: Path) -> dict[str, str]:
    folder = sorted((sb / "lake" / "silver" / "fct_plays" / f"season={SEASON}").iterdir())[0]
    good = sorted(folder.glob("*.parquet"))[0]
    (folder / "part-corrupt.parquet").write_bytes(good.read_bytes()[:100])
    (folder / "part-zero.parquet").write_bytes(b"")
    t = pq.read_table(good)
    i = t.schema.get_field_index("period")
    t = t.set_column(i, "period", pa.array([str(v) for v in t.column("period").to_pylist()]))
    pq.write_table(t.slice(0, 5), folder / "part-wrongtype.parquet")
    rel = str(folder.relative_to(sb / "lake"))
    return {n: f"{rel}/part-{n}.parquet" for n in ("corrupt", "zero", "wrongtype")}


@pytest.fixture
def damaged(template: tuple[Path, int, dict], tmp_path: Path) -> tuple[Path, int, dict, dict[str, str]]:
    root, port, clean = template
    sb = tmp_path / "sb"
    shutil.copytree(root, sb)
    return sb / "config.yaml", port, clean, _damage(sb)


def _coverage(plan: dict) -> dict:
    return {t["target"]: t["coverage"] for t in plan["targets"] if t["target"] != "layout"}


def test_plan_names_each_bad_object_once_and_reads_the_others(damaged) -> None:
    cfg, _, clean, bad = damaged
    r = cli(["plan", "--config", str(cfg), "--seasons", SEASON])
    assert r.exit_code == 0, r.output
    assert "Binder Error" not in r.output and "INTEGER_LITERAL" not in r.output
    warnings = [ln for ln in r.output.splitlines() if ln.startswith("Warning:")]
    for key in (bad["corrupt"], bad["zero"]):
        (line,) = [w for w in warnings if key in w]
        assert "cbbd_silver.fct_plays" in line and "not readable Parquet" in line and "left out" in line
    (typed,) = [w for w in warnings if bad["wrongtype"] in w]
    assert "period string" in typed and "read as declared" in typed
    # Every other object is still read: coverage is what it was before the damage.
    assert _coverage(plan_json(cfg, SEASON)) == _coverage(clean)


def test_audit_and_targeted_plans_work_too(damaged, tmp_path: Path) -> None:
    cfg = damaged[0]
    a = cli(["audit", "--config", str(cfg), "--seasons", SEASON, "--output", str(tmp_path / "audit.md")])
    assert a.exit_code == 0, a.output
    for target in ("plays", "games", "substitutions"):
        r = cli(["plan", "--config", str(cfg), "--seasons", SEASON, "--target", target])
        assert r.exit_code == 0 and "Binder Error" not in r.output, r.output


def test_unreadable_objects_are_quarantined_with_allow_delete(damaged) -> None:
    cfg, port, _, bad = damaged
    layout = next(t for t in plan_json(cfg, SEASON, "--target", "layout")["targets"] if t["target"] == "layout")
    quarantined = {a["details"]["object"]["key"] for a in layout["actions"] if a["details"].get("quarantine")}
    assert quarantined == {bad["corrupt"], bad["zero"]}
    assert not any("left alone" in n for n in layout["notes"])
    lake = cfg.parent / "lake"
    kept = cli(["apply", "--config", str(cfg), "--seasons", SEASON, "--target", "layout", "--auto-approve"])
    assert kept.exit_code == 0 and (lake / bad["corrupt"]).exists()  # nothing removed without --allow-delete
    r = cli(
        ["apply", "--config", str(cfg), "--seasons", SEASON, "--target", "layout", "--auto-approve", "--allow-delete"]
    )
    assert r.exit_code == 0, r.output
    for name in ("corrupt", "zero"):
        assert not (lake / bad[name]).exists()
        assert (lake / "quarantine" / bad[name]).exists()
    assert (lake / "quarantine" / bad["corrupt"]).read_bytes()[:4] == b"PAR1"  # its bytes kept
    after = cli(["plan", "--config", str(cfg), "--seasons", SEASON])
    assert "not readable Parquet" not in after.output
    with simulator(cfg, port):
        done = cli(["apply", "--config", str(cfg), "--seasons", SEASON, "--auto-approve"])
    assert done.exit_code == 0, done.output


def test_a_partition_holding_only_an_unreadable_object_says_so(template, tmp_path: Path) -> None:
    root, _, _ = template
    sb = tmp_path / "sb"
    shutil.copytree(root, sb)
    folder = sorted((sb / "lake" / "silver" / "fct_plays" / f"season={SEASON}").iterdir())[-1]
    for f in folder.glob("*.parquet"):
        f.write_bytes(b"not parquet")
    layout = next(
        t for t in plan_json(sb / "config.yaml", SEASON, "--target", "layout")["targets"] if t["target"] == "layout"
    )
    (orphan,) = [a for a in layout["actions"] if a["details"].get("op") == "partition"]
    assert folder.name in orphan["address"]
    assert orphan["reason"].startswith("orphan: it holds only objects that are not readable Parquet"), orphan
