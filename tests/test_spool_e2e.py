"""The spool end to end: ``reconcile apply`` writes a response an earlier apply fetched and left in
``.reconcile/spool/`` without asking the API again, and fetches a damaged one afresh."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from reconciler.apply.materialize import Response
from reconciler.apply.spool import Spool, spool_key
from tests.apply_helpers import duplicates, silver_contents
from tests.e2e_helpers import cli, make_sandbox, plan_json, request_log, simulator

SEASON = "2016"


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, dict[str, Any]]:
    """The silver plays of an apply with nothing spooled."""
    root = tmp_path_factory.mktemp("spool")
    cfg, port, _ = make_sandbox(root / "ref", seasons=SEASON)
    with simulator(cfg, port):
        r = cli(["apply", "--config", str(cfg), "--seasons", SEASON, "--target", "plays", "--auto-approve"])
    assert r.exit_code == 0, r.output
    return root, port, silver_contents(cfg.parent / "lake")


def _spool_one(cfg: Path, port: int) -> tuple[dict[str, Any], Path]:
    """Fetch one planned plays request from the simulator and spool it, as a killed apply would have."""
    plan = plan_json(cfg, SEASON, "--target", "plays")
    plays = next(t for t in plan["targets"] if t["target"] == "plays")
    action = next(a for a in plays["actions"] if a["type"] == "fetch" and a["api_calls"] == 1)
    path, params = action["request"]["path"], action["request"].get("params") or {}
    with simulator(cfg, port):
        body = httpx.get(f"http://127.0.0.1:{port}{path}", params=params, headers={"Authorization": "Bearer k"}).content
    assert json.loads(body), "the request has rows"
    where = f"{path}?{urlencode(params)}" if params else path
    spool = Spool(cfg.parent / ".reconcile" / "spool")
    spool.put(spool_key("plays", path, params), "plays", Response.pack(action["details"]["params"], body, where))
    (entry,) = (cfg.parent / ".reconcile" / "spool").glob("*.resp")
    return {**action, "planned_calls": sum(a["api_calls"] for a in plays["actions"])}, entry


def _asked(log: Path, action: dict[str, Any]) -> int:
    want = {k: str(v) for k, v in (action["request"].get("params") or {}).items()}
    return sum(1 for e in request_log(log) if e["path"] == action["request"]["path"] and e["query"] == want)


def test_a_spooled_response_is_written_without_a_request(tmp_path: Path, reference: Any) -> None:
    _, _, expected = reference
    cfg, port, _ = make_sandbox(tmp_path / "sb", seasons=SEASON)
    action, entry = _spool_one(cfg, port)
    log = tmp_path / "requests.jsonl"
    with simulator(cfg, port, request_log=str(log)):
        r = cli(["apply", "--config", str(cfg), "--seasons", SEASON, "--target", "plays", "--auto-approve"])
    assert r.exit_code == 0, r.output
    assert "1 response fetched by an earlier apply replayed from the spool (no API call)" in r.output
    assert _asked(log, action) == 0
    assert len(request_log(log)) == action["planned_calls"] - 1  # every other planned request, once
    assert not entry.exists()  # written and checkpointed: dropped
    assert duplicates(cfg.parent / "lake") == {}
    assert silver_contents(cfg.parent / "lake")["fct_plays"] == expected["fct_plays"]
    assert "No changes" in cli(["plan", "--config", str(cfg), "--seasons", SEASON, "--target", "plays"]).output


def test_a_damaged_spooled_response_is_fetched_again(tmp_path: Path, reference: Any) -> None:
    _, _, expected = reference
    cfg, port, _ = make_sandbox(tmp_path / "sb", seasons=SEASON)
    action, entry = _spool_one(cfg, port)
    entry.write_bytes(entry.read_bytes()[:-10])  # torn
    log = tmp_path / "requests.jsonl"
    with simulator(cfg, port, request_log=str(log)):
        r = cli(["apply", "--config", str(cfg), "--seasons", SEASON, "--target", "plays", "--auto-approve"])
    assert r.exit_code == 0, r.output
    assert "replayed from the spool" not in r.output
    assert _asked(log, action) == 1
    assert not entry.exists()
    assert silver_contents(cfg.parent / "lake")["fct_plays"] == expected["fct_plays"]
