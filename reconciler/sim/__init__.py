"""The CBBD API simulator: a loopback HTTP server that speaks the API like the real one.

Typical use::

    from reconciler.sim import SimServer, fixture_data

    with SimServer(fixture_data(), quota=1000, request_log="requests.jsonl") as sim:
        ...  # point a client at sim.url
"""

from __future__ import annotations

from reconciler.sim.app import Reply, SimApp
from reconciler.sim.data import ApiData, InMemoryApiData, iso_z
from reconciler.sim.faults import FAULT_KINDS, FaultInjector, parse_fault_rates
from reconciler.sim.fixtures import fixture_data, fixture_teams
from reconciler.sim.routes import GAMES_CAP, ROUTES, Param, route
from reconciler.sim.server import DEFAULT_HANG_SECONDS, SimServer, SimStats

__all__ = [
    "DEFAULT_HANG_SECONDS",
    "FAULT_KINDS",
    "GAMES_CAP",
    "ROUTES",
    "ApiData",
    "FaultInjector",
    "InMemoryApiData",
    "Param",
    "Reply",
    "SimApp",
    "SimServer",
    "SimStats",
    "fixture_data",
    "fixture_teams",
    "iso_z",
    "parse_fault_rates",
    "route",
]
