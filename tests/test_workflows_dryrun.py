"""Dry runs of the plan-comment workflow's shell step, as written in the YAML, with a fake ``gh``.

The step's ``run`` and ``env`` are taken from .github/workflows/plan-comment.yml (expressions
resolved to what GitHub would pass); ``gh`` is a fake on PATH that records every call and keeps
the pull request's comments in a JSON file, answering list requests in pages as ``gh api
--paginate`` prints them. The real ``reconcile`` plans a sandbox; a fake one drives the exit
codes the script must handle.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.test_workflows import ROOT, load

REPO = "hoops/cbbd-reconciler"
PR = "42"
BOT = "github-actions[bot]"
MARKER = "<!-- cbbd-reconciler:plan"

FAKE_GH = """\
#!{python}
import json, os, re, sys
path = os.environ["FAKE_GH_STATE"]
state = json.load(open(path)) if os.path.exists(path) else {{"comments": [], "calls": [], "next_id": 9000}}
args = sys.argv[1:]
state["calls"].append(args)
method = args[args.index("--method") + 1] if "--method" in args else "GET"
target = next(a for a in args[1:] if a.startswith("repos/"))
body = json.load(open(args[args.index("--input") + 1]))["body"] if "--input" in args else None
if os.environ.get("FAKE_GH_FAIL") == method:
    json.dump(state, open(path, "w"))
    sys.stderr.write("HTTP 403: Resource not accessible by integration\\n")
    sys.exit(1)
if method == "GET":
    assert "--paginate" in args and target.endswith("/issues/{pr}/comments"), args
    cs = state["comments"]
    pages = [cs[i:i + 2] for i in range(0, len(cs), 2)] or [[]]
    sys.stdout.write("".join(json.dumps(p) for p in pages))  # one array per page, back to back
elif method == "POST":
    assert target == "repos/{repo}/issues/{pr}/comments", target
    c = {{"id": state["next_id"], "body": body, "user": {{"login": "{bot}"}}}}
    state["next_id"] += 1
    state["comments"].append(c)
    print(json.dumps(c))
elif method == "PATCH":
    cid = int(re.fullmatch(r"repos/{repo}/issues/comments/(\\d+)", target).group(1))
    (c,) = [c for c in state["comments"] if c["id"] == cid]
    c["body"] = body
    print(json.dumps(c))
json.dump(state, open(path, "w"))
"""

FAKE_RECONCILE = """\
#!{python}
import json, os, pathlib, sys
args = sys.argv[1:]
log = pathlib.Path(os.environ["FAKE_RECONCILE_LOG"])
log.write_text(log.read_text() + " ".join(args) + "\\n" if log.exists() else " ".join(args) + "\\n")
if args[:2] == ["sandbox", "init"]:
    d = pathlib.Path(args[2]); d.mkdir(parents=True); (d / "config.yaml").write_text("profiles: {{}}\\n")
    sys.exit(0)
if args[0] == "show":
    print("FULL PLAN from", args[1]); sys.exit(0)
rc = int(os.environ["FAKE_RC"])
if os.environ.get("FAKE_NO_PLAN"):
    sys.stderr.write("Error: specs/plays.yaml: source.query: syntax error\\n"); sys.exit(1)
out = pathlib.Path(args[args.index("--out") + 1])
changes = 0 if rc == 0 else 5
out.write_text(json.dumps({{"plan_id": "p1", "fingerprint": "f1", "summary": {{"fetch": changes, "register": 0}}}}))
print("**Plan: %d to fetch.**\\n\\n<!-- cbbd-reconciler:plan id=p1 fingerprint=f1 -->" % changes)
sys.exit(rc)
"""


@dataclass
class Run:
    code: int
    stdout: str
    ws: Path
    state: dict[str, Any]
    summary: str
    outputs: dict[str, str]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A checkout-like working directory: the repository's .github (the script), nothing else."""
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / ".github").symlink_to(ROOT / ".github")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("gh", FAKE_GH), ("fake-reconcile", FAKE_RECONCILE)):
        exe = bin_dir / name
        exe.write_text(textwrap.dedent(text).format(python=sys.executable, repo=REPO, pr=PR, bot=BOT))
        exe.chmod(0o755)
    return ws


def step_env(profile: str) -> tuple[str, dict[str, str]]:
    """The plan step's command and environment, as the workflow gives them."""
    doc = load("plan-comment.yml")
    job = doc["jobs"]["plan"]
    (step,) = [s for s in job["steps"] if s.get("id") == "plan"]
    expressions = {
        "github.token": "fake-token",
        "github.event.pull_request.number": PR,
        "github.event.pull_request.head.repo.full_name == github.repository && vars.RECONCILE_PLAN_PROFILE || ''": (
            profile
        ),
        "vars.RECONCILE_PLAN_PROFILE && secrets.RECONCILE_AWS_ACCESS_KEY_ID || ''": "",
        "vars.RECONCILE_PLAN_PROFILE && secrets.RECONCILE_AWS_SECRET_ACCESS_KEY || ''": "",
    }

    def resolve(value: Any) -> str:
        def one(m: re.Match[str]) -> str:
            assert m.group(1) in expressions, f"the test does not know the expression {m.group(1)!r}"
            return expressions[m.group(1)]

        return re.sub(r"\$\{\{ (.+?) \}\}", one, str(value))

    env = {k: resolve(v) for k, v in {**job.get("env", {}), **step["env"]}.items()}
    return str(step["run"]), env


def run(ws: Path, *, profile: str = "", fake_reconcile: bool = False, **extra: str) -> Run:
    command, env = step_env(profile)
    bin_dir = ws.parent / "bin"
    summary, output = ws / "summary.md", ws / "github_output"
    for f in (summary, output):
        f.write_text("", encoding="utf-8")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CBBD_", "RECONCILE_", "GITHUB_"))}
    full_env = {
        **base,
        **env,
        # The runner's PATH after the Install step: the fake gh first, then the project's venv.
        "PATH": f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_RUN_ID": "777",
        "FAKE_GH_STATE": str(ws / "gh_state.json"),
        "FAKE_RECONCILE_LOG": str(ws / "reconcile.log"),
        # a small sandbox keeps the test fast; everything else is as the workflow sets it
        "PLAN_SEASONS": "2024-2025",
        "PLAN_SCALE": "0.002",
        **({"RECONCILE": "fake-reconcile"} if fake_reconcile else {}),
        **extra,
    }
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert full_env[k] == ""  # no credentials reach a sandbox plan
    p = subprocess.run(["bash", "-c", command], cwd=ws, env=full_env, capture_output=True, text=True, timeout=240)
    state = json.loads((ws / "gh_state.json").read_text()) if (ws / "gh_state.json").exists() else {}
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return Run(p.returncode, p.stdout + p.stderr, ws, state, summary.read_text(encoding="utf-8"), outputs)


def methods(state: dict[str, Any]) -> list[str]:
    return [c[c.index("--method") + 1] if "--method" in c else "GET" for c in state["calls"]]


@pytest.mark.slow  # ~10 s; nightly
def test_sticky_comment_created_then_updated_against_a_sandbox(workspace: Path) -> None:
    first = run(workspace)
    assert first.code == 0, first.stdout
    out = workspace / "plan-out"  # the job's PLAN_OUT, where the artifact step uploads from
    plan = json.loads((out / "plan.json").read_text())
    assert methods(first.state) == ["GET", "POST"]
    (comment,) = first.state["comments"]
    assert comment["body"].startswith((out / "plan.md").read_text().splitlines()[0])
    assert f"{MARKER} id={plan['plan_id']} fingerprint={plan['fingerprint']} -->" in comment["body"]
    assert "actions/runs/777" in comment["body"]
    assert len(comment["body"]) <= 65_536
    # The sandbox has gaps on purpose: gates below error_below are reported but do not fail the job.
    assert first.outputs["exitcode"] in ("1", "2")
    assert first.outputs["outcome"] in ("gate", "changes") and first.outputs["changes"] == "true"
    assert first.outputs["comment_id"] == str(comment["id"])
    # The whole plan went to the job summary (rendered from plan.json, with the summary line first).
    assert first.summary.startswith("**Plan: ")
    assert f"id={plan['plan_id']}" in first.summary and "Left out" not in first.summary

    # Someone quotes the marker, and other comments push ours onto a later page.
    first.state["comments"] = [
        {"id": 1, "body": f"why is {MARKER} in here?", "user": {"login": "octocat"}},
        {"id": 2, "body": "LGTM", "user": {"login": "octocat"}},
        *first.state["comments"],
    ]
    first.state["calls"] = []
    (workspace / "gh_state.json").write_text(json.dumps(first.state))

    # Second run (a configured profile; the fake reconcile keeps it quick): the same comment is updated.
    second = run(workspace, profile="aws", fake_reconcile=True, FAKE_RC="2")
    assert second.code == 0, second.stdout
    assert methods(second.state) == ["GET", "PATCH"]
    assert second.state["calls"][1][3] == f"repos/{REPO}/issues/comments/{comment['id']}"
    assert [c["id"] for c in second.state["comments"]] == [1, 2, comment["id"]]  # still one plan comment
    body = second.state["comments"][2]["body"]
    assert body.startswith("**Plan: 5 to fetch.**") and "profile `aws` of `config.yaml`" in body
    assert second.outputs["comment_id"] == str(comment["id"])


@pytest.mark.parametrize(
    ("rc", "profile", "code", "outcome"),
    [
        (0, "", 0, "no-changes"),
        (2, "", 0, "changes"),
        (1, "", 0, "gate"),  # the sandbox's deliberate gaps only warn
        (1, "aws", 1, "gate"),  # a real lake below error_below fails the check
        (2, "aws", 0, "changes"),
    ],
)
def test_exit_codes(workspace: Path, rc: int, profile: str, code: int, outcome: str) -> None:
    r = run(workspace, profile=profile, fake_reconcile=True, FAKE_RC=str(rc))
    assert r.code == code, r.stdout
    assert r.outputs["exitcode"] == str(rc) and r.outputs["outcome"] == outcome
    assert r.outputs["changes"] == ("false" if rc == 0 else "true")
    assert methods(r.state) == ["GET", "POST"]
    assert r.summary == "FULL PLAN from plan-out/plan.json\n"
    calls = (workspace / "reconcile.log").read_text().splitlines()
    plan_call = next(c for c in calls if c.startswith("plan "))
    assert "--format markdown --detailed-exitcode --out plan-out/plan.json" in plan_call
    assert ("--profile aws" in plan_call) == bool(profile)
    assert any(c.startswith("sandbox init plan-out/sandbox") for c in calls) != bool(profile)


def test_a_failed_plan_still_updates_the_comment_and_fails(workspace: Path) -> None:
    r = run(workspace, fake_reconcile=True, FAKE_RC="1", FAKE_NO_PLAN="1")
    assert r.code == 1
    assert r.outputs["outcome"] == "error" and "changes" not in r.outputs
    (comment,) = r.state["comments"]
    assert comment["body"].startswith("**reconcile plan failed** (exit code 1)")
    assert "specs/plays.yaml: source.query: syntax error" in comment["body"]
    assert f"{MARKER} id=none fingerprint=none -->" in comment["body"]
    assert "reconcile plan failed" in r.summary
    assert not (workspace / "plan-out" / "plan.json").exists()


def test_a_read_only_token_warns_and_keeps_the_outcome(workspace: Path) -> None:
    r = run(workspace, fake_reconcile=True, FAKE_RC="2", FAKE_GH_FAIL="POST")
    assert r.code == 0
    assert "::warning::could not write the pull-request comment" in r.stdout
    assert r.outputs["comment_id"] == ""
