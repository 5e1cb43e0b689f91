"""Choose the cheapest set of requests that covers every unit.

Two solvers, both over whole units (a unit counts as covered only once every part of it is):

* :func:`greedy_cover`, greedy weighted set cover, for requests that each fill whole units (a
  date, a team-season with ``match: any``). Cost is API calls first (one per request), then
  bytes (rows a request carries, including rows of units already present). Greedy picks the
  request covering the most uncovered units, ties broken by fewer rows, then by declaration
  order: for scattered gaps that is one call per unit; for dense gaps, one call per date or per
  team-season.
* :func:`joint_cover`, exact, for requests that fill a unit only together (``match: all``: a
  game's substitutions come one team at a time, so a game needs both of its teams' requests).
  Which requests to make is a maximum-weight closure problem (choose a set of requests; each
  unit whose requests are all chosen saves its one-unit call), solved as a minimum cut.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

__all__ = ["Candidate", "greedy_cover", "joint_cover"]

U = TypeVar("U", bound=Hashable)
R = TypeVar("R", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A request that could be made.

    Attributes:
        key: Identifies the request (strategy and parameter values).
        elements: The elements (unit parts) it would fill.
        calls: API calls it costs.
        rows: Rows it is expected to return.
        order: Declaration order, the last tie-breaker.
    """

    key: Hashable
    elements: frozenset[Hashable]
    calls: int
    rows: float
    order: int


def greedy_cover(
    elements: Iterable[Hashable], candidates: Sequence[Candidate], *, floor: float = 0.0
) -> tuple[list[Candidate], set[Hashable]]:
    """Cover elements with candidates greedily (most new elements per call, then fewest rows).

    Args:
        elements: What must be covered.
        candidates: Requests that could cover them.
        floor: Stop once the best candidate fills no more than this many elements per call
            (the caller covers the rest with cheaper one-unit requests).

    Returns:
        The chosen candidates in choice order, and the elements left uncovered.
    """
    todo = set(elements)
    heap: list[tuple[float, float, int, int]] = []
    for i, c in enumerate(candidates):
        n = len(c.elements & todo)
        if n:
            heapq.heappush(heap, (-n / c.calls, c.rows, c.order, i))
    chosen: list[Candidate] = []
    while todo and heap:
        neg, rows, order, i = heapq.heappop(heap)
        if -neg <= floor:
            break
        c = candidates[i]
        n = len(c.elements & todo)
        if n == 0:
            continue
        if -n / c.calls != neg:
            heapq.heappush(heap, (-n / c.calls, rows, order, i))
            continue
        chosen.append(c)
        todo -= c.elements
    return chosen, todo


def joint_cover(needs: Mapping[U, Sequence[R]], unit_value: int, request_cost: int) -> tuple[set[R], set[U]]:
    """The requests worth making when a unit is filled only by all of its requests together.

    Chooses the set ``S`` of requests that maximises (units whose requests are all in ``S``) ×
    ``unit_value`` − ``|S|`` × ``request_cost``, i.e. the API calls saved against filling every
    unit with a call of its own. Ties go to fewer requests (a one-unit call carries fewer rows
    than a team-season), so a set of requests is chosen only when it saves at least one call.
    Exact: a maximum-weight closure, solved as a minimum s-t cut (Dinic's algorithm).

    Args:
        needs: Unit → the requests that together fill it (units with none are ignored).
        unit_value: Calls a unit costs on its own (what covering it jointly saves).
        request_cost: Calls one joint request costs.

    Returns:
        The chosen requests, and the units they fill (every request of each is chosen).
    """
    units = [u for u, reqs in needs.items() if reqs]
    requests = sorted({r for u in units for r in needs[u]}, key=repr)
    if not units:
        return set(), set()
    # Scale so that "saves more calls" dominates and "fewer requests" breaks ties exactly.
    scale = len(requests) + 1
    n_units = len(units)
    source, sink = n_units + len(requests), n_units + len(requests) + 1
    flow = _FlowGraph(sink + 1)
    index = {r: n_units + i for i, r in enumerate(requests)}
    infinite = scale * unit_value * n_units + 1
    for i, u in enumerate(units):
        flow.add(source, i, unit_value * scale)
        for r in set(needs[u]):
            flow.add(i, index[r], infinite)
    for node in index.values():
        flow.add(node, sink, request_cost * scale + 1)
    flow.max_flow(source, sink)
    reach = flow.reachable(source)
    chosen = {r for r, node in index.items() if node in reach}
    filled = {u for u in units if all(r in chosen for r in needs[u])}
    return chosen, filled


class _FlowGraph:
    """A directed graph with capacities, for Dinic's maximum flow (adjacency lists of edge ids)."""

    def __init__(self, n: int) -> None:
        """An empty graph of ``n`` nodes."""
        self.adj: list[list[int]] = [[] for _ in range(n)]
        self.to: list[int] = []
        self.cap: list[int] = []

    def add(self, a: int, b: int, cap: int) -> None:
        """Add the edge a→b with capacity ``cap`` (and its residual twin)."""
        self.adj[a].append(len(self.to))
        self.to.append(b)
        self.cap.append(cap)
        self.adj[b].append(len(self.to))
        self.to.append(a)
        self.cap.append(0)

    def _levels(self, s: int, t: int) -> list[int] | None:
        level = [-1] * len(self.adj)
        level[s] = 0
        queue = [s]
        for a in queue:
            for e in self.adj[a]:
                b = self.to[e]
                if self.cap[e] > 0 and level[b] < 0:
                    level[b] = level[a] + 1
                    queue.append(b)
        return level if level[t] >= 0 else None

    def max_flow(self, s: int, t: int) -> int:
        """Push the maximum flow from ``s`` to ``t`` (iterative blocking flows)."""
        total = 0
        while (level := self._levels(s, t)) is not None:
            it = [0] * len(self.adj)
            while True:
                pushed = self._augment(s, t, level, it)
                if not pushed:
                    break
                total += pushed
        return total

    def _augment(self, s: int, t: int, level: list[int], it: list[int]) -> int:
        """One augmenting path along the level graph (iterative DFS); its bottleneck, or 0."""
        path: list[int] = []
        a = s
        while True:
            if a == t:
                pushed = min(self.cap[e] for e in path)
                for e in path:
                    self.cap[e] -= pushed
                    self.cap[e ^ 1] += pushed
                return pushed
            edges = self.adj[a]
            while it[a] < len(edges):
                e = edges[it[a]]
                b = self.to[e]
                if self.cap[e] > 0 and level[b] == level[a] + 1:
                    break
                it[a] += 1
            else:
                if not path:
                    return 0
                level[a] = -1  # dead end: never visit again in this phase
                e = path.pop()
                a = self.to[e ^ 1]
                it[a] += 1
                continue
            path.append(edges[it[a]])
            a = self.to[edges[it[a]]]

    def reachable(self, s: int) -> set[int]:
        """Nodes reachable from ``s`` in the residual graph (the source side of a minimum cut)."""
        seen = {s}
        stack = [s]
        while stack:
            a = stack.pop()
            for e in self.adj[a]:
                b = self.to[e]
                if self.cap[e] > 0 and b not in seen:
                    seen.add(b)
                    stack.append(b)
        return seen
