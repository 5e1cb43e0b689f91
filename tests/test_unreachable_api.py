"""An API that cannot be reached stops the apply and charges nothing to the units (issue 18, item 4).

Three applies with the simulator down (or a wrong port) used to quarantine every unit they tried.
A connection failure is the environment's fault: the apply stops at once naming
``api.base_url``, records no unit as failed, and the next apply (the API back) fills them all.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.e2e_helpers import cli, make_sandbox, plan_json, simulator

SEASON = "2016"


def _failed(cfg: Path) -> int:
    db = cfg.parent / ".reconcile" / "state.sqlite"
    with sqlite3.connect(db) as con:
        return int(con.execute("SELECT count(*) FROM units WHERE status = 'failed'").fetchone()[0])


def test_an_outage_stops_the_apply_and_quarantines_nothing(tmp_path: Path) -> None:
    cfg, port, _ = make_sandbox(tmp_path / "sb", seasons=SEASON)
    url = f"http://127.0.0.1:{port}"
    before = plan_json(cfg, SEASON, "--target", "plays")
    for _ in range(3):  # max_failed_applies is 3: an outage must not quarantine anything
        r = cli(["apply", "--config", str(cfg), "--seasons", SEASON, "--auto-approve", "--target", "plays"])
        assert r.exit_code == 1, r.output
        assert f"Stopped: cannot connect to the CBBD API at {url} (api.base_url)" in r.output, r.output
        assert "Some units failed" not in r.output
        assert _failed(cfg) == 0
    after = plan_json(cfg, SEASON, "--target", "plays")
    plays = next(t for t in after["targets"] if t["target"] == "plays")
    assert plays["quarantined"] == []
    assert [a["address"] for t in after["targets"] for a in t["actions"]] == [
        a["address"] for t in before["targets"] for a in t["actions"]
    ]
    with simulator(cfg, port):
        done = cli(["apply", "--config", str(cfg), "--seasons", SEASON, "--auto-approve", "--target", "plays"])
    assert done.exit_code == 0, done.output
