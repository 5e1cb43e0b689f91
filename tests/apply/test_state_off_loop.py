"""Checkpoints are written off the event loop: a state store stalled by throttling does not stall pacing."""

from __future__ import annotations

import threading
import time

import anyio
import boto3

from reconciler.adapters.dynamo_state import DynamoState
from reconciler.adapters.local_store import LocalStore
from reconciler.adapters.sqlite_state import SqliteState
from reconciler.apply.executor import Executor
from reconciler.apply.materialize import Outcome
from reconciler.core.observed import ObservedState
from reconciler.core.plan import Action
from reconciler.ports import UnitRecord
from tests.aws_recorded import RECORDED, Recorded, no_backoff, replay
from tests.core.factories import SPECS

__all__ = ["no_backoff"]  # the fixture, imported for pytest

ACTION = Action(
    type="fetch", address="plays[game=1]", target="plays", season=2024, strategy="game", units=["1"], covers=1
)


class _SlowState(SqliteState):
    """A state store whose checkpoint write blocks, as BatchWriteItem does while DynamoDB throttles."""

    def __init__(self, path, seconds: float) -> None:
        super().__init__(path)
        self.seconds = seconds
        self.threads: list[str] = []

    def record_units(self, records):
        self.threads.append(threading.current_thread().name)
        time.sleep(self.seconds)  # the blocking backoff of a throttled write
        super().record_units(records)


def test_a_blocking_checkpoint_write_leaves_the_loop_running(tmp_path):
    state = _SlowState(tmp_path / "s.sqlite", seconds=0.5)
    ex = Executor(specs=SPECS, store=LocalStore(tmp_path / "lake", create=True), state=state, client=None,
                  observed=ObservedState(seasons=(2024,), targets={}))  # fmt: skip
    ex.recorder.pending[("plays", "1")] = 1
    ticks: list[float] = []

    async def main() -> None:
        async def ticker() -> None:
            while True:
                ticks.append(time.monotonic())
                await anyio.sleep(0.01)

        async with anyio.create_task_group() as tg:
            tg.start_soon(ticker)
            started = time.monotonic()
            await ex._record_off_loop(ACTION, Outcome(rows_by_unit={"1": 40}), None)
            during = [t for t in ticks if t >= started]
            tg.cancel_scope.cancel()
        # The loop kept its 10 ms beat through the half-second write (it would have none on the loop).
        assert len(during) >= 20, len(during)

    anyio.run(main)
    assert state.threads and state.threads[0] != threading.main_thread().name
    assert state.load_units("plays")["1"].status == "done"
    state.close()


def test_unprocessed_items_are_retried_with_jittered_backoff(no_backoff):
    session = boto3.session.Session(region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    slept: list[float] = []
    state = DynamoState(session=session, sleep=slept.append)
    unprocessed = b'{"UnprocessedItems": {"cbbd_checkpoints": [{"PutRequest": {"Item": {"endpoint": {"S": "reconcile:plays"}, "parameter_hash": {"S": "x"}}}}]}}'  # noqa: E501
    batch = replay(
        state.client,
        "dynamodb.BatchWriteItem",
        [
            Recorded(200, unprocessed),
            RECORDED["ddb.throughput_exceeded"],
            Recorded(200, unprocessed),
            Recorded(200, b"{}"),
        ],
    )
    state.record_units([UnitRecord("plays", str(i), "done") for i in range(3)])
    assert len(batch.sent) == 4  # the throttled call was retried by botocore, the unprocessed items by us
    assert len(slept) == 2 and all(0 <= d <= 0.05 * 2**n for n, d in enumerate(slept, start=1))
