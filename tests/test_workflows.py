"""The GitHub Actions workflows, parsed and checked for the structure they must keep."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
SCRIPT = ROOT / ".github" / "scripts" / "plan_comment.sh"
ALLOWED_ACTIONS = {"actions/checkout", "actions/setup-python", "actions/upload-artifact"}


def load(name: str) -> dict[str, Any]:
    doc = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    if True in doc:  # YAML 1.1 reads the key `on` as a boolean
        doc["on"] = doc.pop(True)
    return doc


def steps(doc: dict[str, Any], job: str) -> list[dict[str, Any]]:
    return list(doc["jobs"][job]["steps"])


def uses(step: dict[str, Any]) -> str:
    return str(step.get("uses", "")).split("@", 1)[0]


@pytest.mark.parametrize("name", ["ci.yml", "plan-comment.yml", "nightly.yml"])
def test_only_known_actions_pinned_to_a_major(name: str) -> None:
    doc = load(name)
    for job in doc["jobs"]:
        for step in steps(doc, job):
            if "uses" in step:
                assert uses(step) in ALLOWED_ACTIONS, step
                assert re.fullmatch(r"[\w-]+/[\w-]+@v\d+", step["uses"]), step
            else:
                assert step.get("run"), step


def test_ci_runs_make_test_on_every_push() -> None:
    doc = load("ci.yml")
    assert "push" in doc["on"] and doc["on"]["push"] in (None, {})  # every branch, every push
    assert doc["permissions"] == {"contents": "read"}
    job = doc["jobs"]["test"]
    assert job["runs-on"].startswith("ubuntu")
    s = steps(doc, "test")
    assert [uses(x) for x in s[:2]] == ["actions/checkout", "actions/setup-python"]
    assert str(s[1]["with"]["python-version"]) == "3.11"
    assert [x["run"] for x in s if "run" in x] == ["make test"]


def test_nightly_runs_every_test_and_the_invariant_at_100_examples() -> None:
    doc = load("nightly.yml")
    assert set(doc["on"]) == {"schedule", "workflow_dispatch"} and doc["on"]["schedule"][0]["cron"]
    assert doc["permissions"] == {"contents": "read"}
    job = doc["jobs"]["all"]
    assert int(job["env"]["RECONCILE_INVARIANT_EXAMPLES"]) >= 100 and job["env"]["RECONCILE_INVARIANT_SIZE"] == "full"
    assert [x["run"] for x in steps(doc, "all") if "run" in x] == ["make test-all"]
    # The job outlives the property test's own budget (150 s per example), so a slow run fails
    # with the test's timeout (and its stacks), not a cancelled job.
    assert int(job["timeout-minutes"]) * 60 > int(job["env"]["RECONCILE_INVARIANT_EXAMPLES"]) * 150
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^test-all:.*\n\t.*pytest -m ''", makefile, re.M)  # every marker, slow included


def test_plan_comment_triggers_on_specs_and_config_only() -> None:
    doc = load("plan-comment.yml")
    assert set(doc["on"]) == {"pull_request"}
    assert doc["on"]["pull_request"]["paths"] == ["specs/**", "config.yaml"]
    assert doc["permissions"] == {"contents": "read"}  # the default stays read-only …


def test_plan_comment_job_can_write_pull_requests() -> None:
    doc = load("plan-comment.yml")
    job = doc["jobs"]["plan"]
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}  # … the job may comment
    assert job["runs-on"].startswith("ubuntu")
    s = steps(doc, "plan")
    assert [uses(x) for x in s if "uses" in x] == [
        "actions/checkout",
        "actions/setup-python",
        "actions/upload-artifact",
    ]
    assert str(s[1]["with"]["python-version"]) == "3.11"
    (plan,) = [x for x in s if x.get("id") == "plan"]
    assert plan["run"].strip() == ".github/scripts/plan_comment.sh"
    assert plan["env"]["GH_TOKEN"] == "${{ github.token }}"
    assert plan["env"]["PR_NUMBER"] == "${{ github.event.pull_request.number }}"
    (upload,) = [x for x in s if uses(x) == "actions/upload-artifact"]
    assert upload["if"] == "always()"
    assert upload["with"]["path"] == f"{job['env']['PLAN_OUT']}/plan.json"
    install = next(x for x in s if x.get("name") == "Install")
    assert "uv sync --frozen" in install["run"] and "GITHUB_PATH" in install["run"]


def test_plan_comment_secrets_only_with_a_profile_and_never_for_forks() -> None:
    env = load("plan-comment.yml")["jobs"]["plan"]["steps"][3]["env"]
    assert "head.repo.full_name == github.repository" in env["PLAN_PROFILE"]
    for name, value in env.items():
        if "secrets." in str(value):
            assert str(value).startswith("${{ vars.RECONCILE_PLAN_PROFILE && secrets."), name


def test_script_is_executable_bash_that_parses() -> None:
    assert SCRIPT.stat().st_mode & 0o111
    assert SCRIPT.read_text(encoding="utf-8").startswith("#!/usr/bin/env bash\n")
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)
    tracked = subprocess.run(
        ["git", "ls-files", "-s", str(SCRIPT.relative_to(ROOT))], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert tracked.stdout == "" or tracked.stdout.startswith("100755 ")  # committed executable
