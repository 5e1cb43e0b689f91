"""The exception tree of cbbd-reconciler.

Every error the tool raises on purpose derives from :class:`ReconcilerError`; the CLI prints
its message as one red line and exits 1 (``--debug`` shows the traceback)::

    ReconcilerError
    ├── InputError              bad user input: spec, config, CLI arguments, waivers
    │   ├── SpecError           a spec file is malformed (file, line, field)
    │   └── ConfigError         config file or profile problem
    ├── LakeError               the lake holds something unreadable or inconsistent
    ├── BackendError            an adapter (S3, Glue, Athena, DynamoDB, DuckDB) failed
    │   └── QueryError          a query failed or timed out
    ├── ApiError                the CBBD API failed
    │   ├── TransientApiError   5xx, timeouts, connection resets: retried
    │   ├── TerminalApiError    400, 404, contract errors (non-array 200, malformed JSON)
    │   ├── AuthError           401: a bad or missing key
    │   ├── ApiUnreachable      no connection to base_url at all: the environment's fault, not a unit's
    │   └── QuotaExhausted      429: the monthly quota is spent; stop cleanly
    ├── LockHeld                another apply holds the lock
    ├── StalePlan               a saved plan no longer matches the lake
    └── BudgetExhausted         --max-requests / --max-duration / quota reserve reached

Foreign exceptions (botocore, httpx, duckdb) are translated at the adapter boundary.
"""

from __future__ import annotations

__all__ = [
    "ApiError",
    "ApiUnreachable",
    "AuthError",
    "BackendError",
    "BudgetExhausted",
    "ConfigError",
    "InputError",
    "LakeError",
    "LockHeld",
    "QueryError",
    "QuotaExhausted",
    "ReconcilerError",
    "SpecError",
    "StalePlan",
    "TerminalApiError",
    "TransientApiError",
]


class ReconcilerError(Exception):
    """Root of every error this tool raises deliberately."""


class InputError(ReconcilerError):
    """Bad user input (spec, config, CLI arguments, waivers)."""


class SpecError(InputError):
    """A spec file is malformed.

    Attributes:
        file: The spec file.
        line: The 1-based line, when known.
        field: The dotted field path, when known.
    """

    def __init__(self, message: str, *, file: str = "", line: int | None = None, field: str = "") -> None:
        self.file = file
        self.line = line
        self.field = field
        where = file + (f":{line}" if line else "")
        prefix = f"{where}: " if where else ""
        fld = f"{field}: " if field else ""
        super().__init__(f"{prefix}{fld}{message}")


class ConfigError(InputError):
    """The config file or a profile is missing or invalid."""


class LakeError(ReconcilerError):
    """The lake holds something unreadable or inconsistent."""


class BackendError(ReconcilerError):
    """A storage, catalog, query or state backend failed."""


class QueryError(BackendError):
    """A query failed or timed out."""


class ApiError(ReconcilerError):
    """The CBBD API failed.

    Attributes:
        status: The HTTP status, when there was a response.
        path: The request path (never the key).
    """

    def __init__(self, message: str, *, status: int | None = None, path: str = "") -> None:
        self.status = status
        self.path = path
        super().__init__(message)


class TransientApiError(ApiError):
    """A failure worth retrying: 5xx, timeouts, connection resets."""


class TerminalApiError(ApiError):
    """A failure that retrying will not fix: 400, 404, a broken payload."""


class AuthError(ApiError):
    """401 from the API: the key is missing or wrong."""


class ApiUnreachable(ApiError):
    """No connection could be made to the API (refused, no route, DNS): stop; no unit is to blame."""


class QuotaExhausted(ApiError):
    """429 from CBBD: the monthly call quota is spent. Stop cleanly; do not retry."""


class LockHeld(ReconcilerError):
    """Another apply holds the lock on a target."""


class StalePlan(ReconcilerError):
    """A saved plan no longer matches the lake or the expected set."""


class BudgetExhausted(ReconcilerError):
    """A request, duration or quota budget was reached."""
