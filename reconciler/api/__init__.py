"""The CBBD API client: strict pacing, retries, and translation into the reconciler's errors."""

from __future__ import annotations

from reconciler.api.client import ApiResponse, CbbdClient
from reconciler.api.pacing import StrictPacer, busiest_window
from reconciler.api.retry import backoff_delay, parse_retry_after

__all__ = ["ApiResponse", "CbbdClient", "StrictPacer", "backoff_delay", "busiest_window", "parse_retry_after"]
