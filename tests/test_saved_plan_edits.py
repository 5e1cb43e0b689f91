"""An edited saved plan is refused, or applied only where it is still true of the lake (issue 18, item 1).

The plan file carries a digest of its content: an edited file is refused before anything is
read or written. A plan edited and re-digested (as someone who reads the code could) is checked
action by action against a fresh observation: every unit it names must be expected and need
work, and every request must be one the spec's strategies make for those units. Whatever the
edit, no unit is ever recorded as verified empty when the API has rows for it.

The property test draws random edits of random fields of a saved plan (``RECONCILE_EDIT_EXAMPLES``
examples, default 8, never derandomized). Its seed is printed; ``RECONCILE_EDIT_SEED=<seed>``
reproduces a run.
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, note, seed, settings
from hypothesis import strategies as st

from reconciler.core.plan import plan_digest
from reconciler.sandbox import load_universe_from_config
from tests.e2e_helpers import cli, make_sandbox, simulator

SEASON = "2016"
TARGETS = ("--target", "plays", "--target", "substitutions")
EXAMPLES = int(os.environ.get("RECONCILE_EDIT_EXAMPLES", "8"))
SEED = int(os.environ.get("RECONCILE_EDIT_SEED") or random.SystemRandom().randrange(2**32))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("edits")
    sb = root / "sb"
    cfg, port, _ = make_sandbox(sb, seasons=SEASON)
    plan_file = sb / "plan.json"
    r = cli(["plan", "--config", str(cfg), "--seasons", SEASON, *TARGETS, "--out", str(plan_file)])
    assert r.exit_code == 0, r.output
    universe = load_universe_from_config(cfg)
    games = [int(g["id"]) for g in universe.games() if int(g["season"]) == int(SEASON)]
    with simulator(cfg, port):
        yield {"root": root, "sb": sb, "plan": json.loads(plan_file.read_text()), "universe": universe, "games": games}


def _copy(world: dict[str, Any], name: str) -> Path:
    dest = world["root"] / name
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(world["sb"], dest)
    return dest


def _units(sb: Path) -> dict[tuple[str, str], str]:
    db = sb / ".reconcile" / "state.sqlite"
    if not db.exists():
        return {}
    with sqlite3.connect(db) as con:
        return {(t, u): s for t, u, s in con.execute("SELECT target, unit, status FROM units")}


def _lake(sb: Path) -> list[str]:
    """Every object of the lake but the apply lock's lease objects (``_reconcile/locks/``)."""
    objs = (str(p.relative_to(sb)) for p in (sb / "lake").rglob("*") if p.is_file())
    return sorted(o for o in objs if not o.startswith("lake/_reconcile/"))


def _api_rows(world: dict[str, Any], target: str, unit: str) -> int:
    u = world["universe"]
    gid = int(unit.split(":")[0])
    return len(u.plays(gid) if target == "plays" else u.substitutions(gid))


def _apply(sb: Path, plan: dict[str, Any]) -> Any:
    path = sb / "edited.json"
    path.write_text(json.dumps(plan, indent=2))
    return cli(["apply", str(path), "--config", str(sb / "config.yaml"), "--auto-approve"])


def _check_no_false_empty(world: dict[str, Any], sb: Path) -> None:
    for (target, unit), status in _units(sb).items():
        if status == "empty" and target in ("plays", "substitutions"):
            assert _api_rows(world, target, unit) == 0, f"{target} {unit} recorded empty, the API has rows"


def test_an_edited_request_path_is_refused_and_records_nothing(world: dict[str, Any]) -> None:
    """The issue's reproduction: one action's request path changed to another game."""
    plan = copy.deepcopy(world["plan"])
    plays = next(t for t in plan["targets"] if t["target"] == "plays")
    action = next(a for a in plays["actions"] if a["request"]["path"].startswith("/plays/game/"))
    other = next(g for g in world["games"] if str(g) not in action["units"])
    action["request"]["path"] = f"/plays/game/{other}"
    for redigest in (False, True):
        sb = _copy(world, f"path-{redigest}")
        edited = copy.deepcopy(plan)
        if redigest:
            edited["digest"] = plan_digest(edited)
        before = _lake(sb)
        r = _apply(sb, edited)
        assert r.exit_code == 1, r.output
        line = [ln for ln in r.output.splitlines() if ln.startswith("Error:")]
        assert len(line) == 1, r.output
        if redigest:
            assert f"{action['address']}: its request is" in line[0], line[0]
        else:
            assert "digest does not match" in line[0], line[0]
        assert _units(sb) == {} and _lake(sb) == before


def test_the_saved_plan_as_written_applies(world: dict[str, Any]) -> None:
    sb = _copy(world, "unedited")
    r = _apply(sb, world["plan"])
    assert r.exit_code == 0, r.output
    _check_no_false_empty(world, sb)
    assert _units(sb)


# -- the property ------------------------------------------------------------------------------

FIELDS = (
    "request.path",
    "request.params",
    "units.replace",
    "units.add",
    "units.drop",
    "season",
    "details.params",
    "details.raw",
    "details.bronze",
    "type",
    "strategy",
    "address",
    "covers",
    "api_calls",
    "target",
    "drop action",
    "duplicate action",
    "reason",
    "plan.season_list",
    "plan.seasons",
    "plan.retry_failed",
    "plan.profile",
    "plan.coverage",
    "plan.target",
    "plan.fingerprints",
)


def _edit(plan: dict[str, Any], draw: Any, games: list[int]) -> str:
    """Edit one field of one action in place; returns a description of the edit."""
    acts = [(t, a) for t in plan["targets"] for a in t["actions"]]
    t, a = draw(st.sampled_from(acts))
    what = draw(st.sampled_from(FIELDS))
    game = str(draw(st.sampled_from(games)) if draw(st.booleans()) else draw(st.integers(1, 9_999_999)))
    if what.startswith("plan."):
        return _edit_plan(plan, what, draw, t)
    if what == "request.path":
        if a.get("request") is None:
            a["request"] = {"path": f"/plays/game/{game}", "params": {}}
        else:
            a["request"]["path"] = re.sub(r"\d+$", game, a["request"]["path"]) + (
                "" if a["request"]["path"][-1:].isdigit() else f"/{game}"
            )
    elif what == "request.params":
        a["request"] = a.get("request") or {"path": "/plays/date", "params": {}}
        a["request"]["params"] = {**a["request"].get("params", {}), "date": "2016-01-0" + str(draw(st.integers(1, 9)))}
    elif what == "units.replace":
        a["units"] = [game, *a["units"][1:]]
    elif what == "units.add":
        a["units"] = [*a["units"], game]
        a["covers"] = len(a["units"])
    elif what == "units.drop":
        a["units"] = a["units"][1:]
        a["covers"] = len(a["units"])
    elif what == "season":
        a["season"] = (a.get("season") or 2016) + draw(st.sampled_from([-1, 1]))
    elif what == "details.params":
        params = a.setdefault("details", {}).setdefault("params", {})
        key = draw(st.sampled_from(sorted(params) or ["gameId"]))
        params[key] = int(game) if key == "gameId" else f"2016-02-{draw(st.integers(10, 28))}"
    elif what in ("details.raw", "details.bronze"):
        a.setdefault("details", {})[what.split(".")[1]] = draw(st.sampled_from(["plays/date", "lineups_game", "x"]))
    elif what == "type":
        a["type"] = draw(st.sampled_from([x for x in ("fetch", "refetch", "rebuild", "delete") if x != a["type"]]))
    elif what == "strategy":
        a["strategy"] = draw(st.sampled_from([x for x in ("game", "date", "team", "bronze") if x != a.get("strategy")]))
    elif what == "address":
        a["address"] = a["address"].replace("2016", "2015", 1)
    elif what == "covers":
        a["covers"] = a["covers"] + draw(st.sampled_from([-1, 1, 10]))
    elif what == "api_calls":
        a["api_calls"] = draw(st.sampled_from([0, 2, 100]))
    elif what == "target":
        a["target"] = "substitutions" if a["target"] == "plays" else "plays"
    elif what == "drop action":
        t["actions"].remove(a)
    elif what == "duplicate action":
        t["actions"].append(copy.deepcopy(a))
    elif what == "reason":
        a["reason"] = "edited"
    return f"{what} of {a['address']}"


def _edit_plan(plan: dict[str, Any], what: str, draw: Any, t: dict[str, Any]) -> str:
    """Edit one field of the plan itself (not of an action) in place; returns a description of the edit."""
    if what == "plan.season_list":
        plan["season_list"] = draw(st.sampled_from([[2015], [2016, 2017], [2015, 2016], []]))
    elif what == "plan.seasons":
        plan["seasons"] = draw(st.sampled_from([[2015], [2016, 2017], "2016"]))
    elif what == "plan.retry_failed":
        plan["retry_failed"] = not plan.get("retry_failed")
    elif what == "plan.profile":
        plan["profile"] = draw(st.sampled_from(["aws", "", "other"]))
    elif what == "plan.coverage":
        cov = t["coverage"][SEASON]
        cov[draw(st.sampled_from(sorted(k for k, v in cov.items() if isinstance(v, int))))] += draw(
            st.sampled_from([-1, 1, 100])
        )
    elif what == "plan.target":
        t["target"] = draw(
            st.sampled_from([x for x in ("plays", "substitutions", "lineups", "games") if x != t["target"]])
        )
    elif what == "plan.fingerprints":
        fp = plan.setdefault("fingerprints", {})
        side = draw(st.sampled_from(sorted(fp) or ["observed"]))
        fp.setdefault(side, {})[t["target"]] = "0" * 16
    return f"{what} (of {t['target']})"


@st.composite
def edits(draw: Any, plan: dict[str, Any], games: list[int]) -> tuple[dict[str, Any], list[str], bool]:
    edited = copy.deepcopy(plan)
    done = [_edit(edited, draw, games) for _ in range(draw(st.integers(1, 2)))]
    return edited, done, draw(st.booleans())


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_random_edits_are_refused_or_still_true_of_the_lake(world: dict[str, Any]) -> None:
    print(f"saved-plan edits: seed {SEED} (RECONCILE_EDIT_SEED={SEED} reproduces this run)")
    counter = iter(range(10**6))

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        phases=(Phase.generate,),
        suppress_health_check=list(HealthCheck),
        derandomize=False,
    )
    @given(edits(world["plan"], world["games"]))
    def check(case: tuple[dict[str, Any], list[str], bool]) -> None:
        edited, done, redigest = case
        note(f"edits: {done}; re-digested: {redigest}")
        sb = _copy(world, f"edit-{next(counter)}")
        if redigest:
            edited["digest"] = plan_digest(edited)
        before = _lake(sb)
        r = _apply(sb, edited)
        note(r.output[-3000:])
        assert "Traceback" not in r.output
        _check_no_false_empty(world, sb)
        unchanged = edited == world["plan"] or (redigest and edited["digest"] == world["plan"]["digest"])
        if not redigest and not unchanged:
            assert r.exit_code == 1 and "digest does not match" in r.output
        if r.exit_code != 0:
            errors = [ln for ln in r.output.splitlines() if ln.startswith("Error:")]
            assert len(errors) == 1, r.output
            assert _units(sb) == {} and _lake(sb) == before, "a refused plan writes nothing"
            return
        # Applied: everything recorded is true of the API, and every action was one the spec makes.
        for (target, unit), status in _units(sb).items():
            if status == "done":
                assert _api_rows(world, target, unit) > 0 or target not in ("plays", "substitutions")

    check()
