"""MSCK REPAIR TABLE registration: through Athena (moto), its failures, and when it is used."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from reconciler.adapters.msck import MsckRunner
from reconciler.apply.layout_catalog import register_partitions
from reconciler.config import EngineSettings
from reconciler.errors import BackendError
from reconciler.ports import PartitionSpec

SETTINGS = EngineSettings(kind="athena", output_location="s3://hoops-edge/athena/", query_timeout_seconds=3)
PART = PartitionSpec(("2025", "2024-12-01"), "silver/fct_plays/season=2025/date=2024-12-01/")


class _Catalog:
    def __init__(self) -> None:
        self.created: list[Any] = []

    def create_partitions(self, database: str, name: str, parts: Any) -> int:
        self.created.append((database, name, list(parts)))
        return 1


class _Athena:
    def __init__(self, states: list[str]) -> None:
        self.states = states
        self.started: list[dict[str, Any]] = []
        self.stopped: list[str] = []

    def start_query_execution(self, **kw: Any) -> dict[str, Any]:
        self.started.append(kw)
        return {"QueryExecutionId": "q1"}

    def stop_query_execution(self, QueryExecutionId: str) -> dict[str, Any]:
        self.stopped.append(QueryExecutionId)
        return {}

    def get_query_execution(self, QueryExecutionId: str) -> dict[str, Any]:
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        return {"QueryExecution": {"Status": {"State": state, "StateChangeReason": "no such table"}}}


def _runner(states: list[str]) -> tuple[MsckRunner, _Athena]:
    fake = _Athena(states)
    runner = MsckRunner(SETTINGS, sleep=lambda s: None)
    runner._client = fake
    return runner, fake


def test_msck_waits_for_the_statement():
    runner, fake = _runner(["QUEUED", "RUNNING", "SUCCEEDED"])
    runner("cbbd_silver", "fct_plays")
    (call,) = fake.started
    assert call["QueryString"] == "MSCK REPAIR TABLE `fct_plays`"
    assert call["QueryExecutionContext"] == {"Database": "cbbd_silver"} and call["WorkGroup"] == "cbbd"


def test_msck_failure_and_timeout_are_one_line_errors():
    with pytest.raises(BackendError, match="FAILED: no such table"):
        _runner(["FAILED"])[0]("cbbd_silver", "fct_plays")
    runner, fake = _runner(["RUNNING"])
    with pytest.raises(BackendError) as info:
        runner("cbbd_silver", "fct_plays")
    assert str(info.value) == (
        "Athena MSCK REPAIR TABLE cbbd_silver.fct_plays (q1) was still RUNNING after 3 s "
        "(engine.query_timeout_seconds) and was stopped: register with BatchCreatePartition instead "
        "(catalog.partition_registration: batch)"
    )
    assert fake.stopped == ["q1"]  # the timeout stops the statement: it does not run on, unseen


def test_register_uses_msck_only_when_asked_and_available():
    cat, seen = _Catalog(), []
    assert register_partitions(cat, "db", "t", [PART], method="msck", msck=lambda d, t: seen.append((d, t))) == 1
    assert seen == [("db", "t")] and cat.created == []
    register_partitions(cat, "db", "t", [PART], method="msck", msck=None)
    assert len(cat.created) == 1
    assert register_partitions(cat, "db", "t", [], method="msck", msck=lambda d, t: seen.append((d, t))) == 0


@pytest.mark.aws
def test_msck_through_moto_athena(moto_url):
    session = boto3.session.Session(region_name="us-east-1")
    athena = session.client("athena", endpoint_url=moto_url)
    athena.create_work_group(Name="cbbd")
    MsckRunner(SETTINGS, endpoint_url=moto_url, session=session)("cbbd_silver", "fct_plays")
    ids = athena.list_query_executions()["QueryExecutionIds"]
    queries = [athena.get_query_execution(QueryExecutionId=i)["QueryExecution"]["Query"] for i in ids]
    assert "MSCK REPAIR TABLE `fct_plays`" in queries
