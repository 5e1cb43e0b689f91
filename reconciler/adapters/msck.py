"""``MSCK REPAIR TABLE`` through Athena, for profiles with ``catalog.partition_registration: msck``.

The query engine port runs SELECTs only, so the statement goes straight to Athena's
StartQueryExecution (in the profile's workgroup) and is polled to its end. MSCK only adds
partitions, only understands ``key=value`` paths, and can time out on tables with many prefixes;
the plan says so whenever it is chosen.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3

from reconciler.adapters.aws_errors import translate_aws_errors
from reconciler.adapters.aws_session import make_client, region_of
from reconciler.config import EngineSettings
from reconciler.errors import BackendError

__all__ = ["MsckRunner"]

log = logging.getLogger(__name__)

_DONE = ("SUCCEEDED", "FAILED", "CANCELLED")


@dataclass
class MsckRunner:
    """Runs ``MSCK REPAIR TABLE`` in Athena.

    Attributes:
        settings: The profile's engine settings (workgroup, output location, region, timeout).
        endpoint_url: An Athena-compatible endpoint (moto); None for AWS.
        session: A boto3 session (default: a new one).
        sleep: Waits between polls (injected by tests).
        poll_seconds: Seconds between polls.
    """

    settings: EngineSettings
    endpoint_url: str | None = None
    session: boto3.session.Session | None = None
    sleep: Callable[[float], None] = time.sleep
    poll_seconds: float = 1.0
    _client: Any = None

    def _athena(self) -> Any:
        if self._client is None:
            region = region_of(self.settings, self.session)
            what = f"Athena workgroup {self.settings.workgroup}"
            self._client = make_client(self.session, "athena", region=region, endpoint_url=self.endpoint_url, what=what)
        return self._client

    def _stop(self, qid: str, what: str) -> str:
        """Stop a statement that outlived the timeout (StopQueryExecution); what became of it."""
        try:
            with translate_aws_errors(what):
                self._athena().stop_query_execution(QueryExecutionId=qid)
        except BackendError as exc:
            log.warning("could not stop %s (%s): %s", what, qid, exc)
            return f"and could not be stopped ({exc}): stop it in the Athena console"
        return "and was stopped"

    def __call__(self, database: str, table: str) -> None:
        """Repair one table's partitions and wait for the statement to finish.

        Args:
            database: The Glue database.
            table: The table.

        Raises:
            BackendError: When the statement fails, is cancelled, or outlives the query timeout
                (it is then stopped: StopQueryExecution).
        """
        what = f"Athena MSCK REPAIR TABLE {database}.{table}"
        args: dict[str, Any] = {
            "QueryString": f"MSCK REPAIR TABLE `{table}`",
            "QueryExecutionContext": {"Database": database},
            "WorkGroup": self.settings.workgroup,
        }
        if self.settings.output_location:
            args["ResultConfiguration"] = {"OutputLocation": self.settings.output_location}
        client = self._athena()
        with translate_aws_errors(what):
            qid = client.start_query_execution(**args)["QueryExecutionId"]
        waited = 0.0
        while True:
            with translate_aws_errors(what):
                status = client.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
            state = status.get("State", "")
            if state in _DONE:
                break
            if waited >= self.settings.query_timeout_seconds:
                stopped = self._stop(qid, what)
                raise BackendError(
                    f"{what} ({qid}) was still {state} after {waited:.0f} s (engine.query_timeout_seconds) "
                    f"{stopped}: register with BatchCreatePartition instead (catalog.partition_registration: batch)"
                )
            self.sleep(self.poll_seconds)
            waited += self.poll_seconds
        if state != "SUCCEEDED":
            raise BackendError(f"{what} ({qid}) {state}: {status.get('StateChangeReason', 'no reason given')}")
        log.info("%s: done (%s)", what, qid)
