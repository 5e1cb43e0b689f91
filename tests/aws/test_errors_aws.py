"""AWS problems through the CLI: one red line that says what to fix, exit 1, no traceback, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.aws.conftest import write_aws_config
from tests.e2e_helpers import cli
from tests.text_edits import replaced

pytestmark = pytest.mark.aws

SPECS = str(Path(__file__).parents[2] / "specs")


def _one_red_line(result, *needles):
    assert result.exit_code == 1, result.output
    out = result.output.strip()
    assert "Traceback" not in out
    lines = [ln for ln in out.splitlines() if ln.strip()]
    assert len(lines) == 1, out
    assert lines[0].startswith("Error: "), out
    for needle in needles:
        assert needle in lines[0], out


def _config(tmp_path, url, **override):
    cfg = write_aws_config(tmp_path / "aws.yaml", url, **override)
    cfg.write_text(replaced(cfg.read_text(), "profiles:\n  aws:\n", f"profiles:\n  aws:\n    specs_dir: {SPECS}\n"))
    return cfg


@pytest.mark.parametrize(
    ("override", "needles"),
    [
        ({"store": {"bucket": "hoops-edge-typo"}}, ["S3 bucket hoops-edge-typo does not exist", "store.bucket"]),
        ({"catalog": {"silver_database": "cbbd_silverr"}}, ["Glue database cbbd_silverr does not exist", "terraform"]),
        ({"state": {"table": "cbbd_checkpointz"}}, ["DynamoDB table cbbd_checkpointz does not exist", "state.table"]),
    ],
    ids=["bucket", "glue-database", "dynamodb-table"],
)
def test_missing_resource_is_one_line_naming_it(tmp_path, moto, override, needles):
    cfg = _config(tmp_path, moto.url, **override)
    _one_red_line(cli(["plan", "--config", str(cfg), "--seasons", "2015"]), *needles)


def test_no_credentials_is_one_line_saying_how_to_provide_them(tmp_path, moto, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    cfg = _config(tmp_path, moto.url)
    _one_red_line(
        cli(["apply", "--config", str(cfg), "--seasons", "2015", "--auto-approve"]),
        "no AWS credentials for s3://hoops-edge",
        "AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    )


def test_sandbox_into_a_missing_bucket_writes_nothing(tmp_path, moto):
    cfg = _config(tmp_path, moto.url, store={"bucket": "nope"})
    sb = tmp_path / "sb"
    r = cli(["sandbox", "init", str(sb), "--seasons", "2015", "--scale", "0.005", "--into-config", str(cfg)])
    _one_red_line(r, "S3 bucket nope does not exist")
    assert not sb.exists()
    assert moto.counts().get("s3.PutObject", 0) == 0
