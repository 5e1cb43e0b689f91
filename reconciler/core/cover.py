"""Choose the cheapest set of requests that covers every element: greedy weighted set cover.

Cost is API calls first (one per request), then bytes (rows a request carries, including rows
of units already present). Greedy picks the request covering the most uncovered elements, ties
broken by fewer rows, then by declaration order: for scattered gaps that is one call per unit;
for dense gaps, one call per date or per team-season.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Candidate", "greedy_cover", "group_elements"]


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


def group_elements(chosen: Sequence[Candidate], wanted: Mapping[Hashable, str]) -> dict[Hashable, set[str]]:
    """Map each chosen request to the unit keys whose elements it was chosen for.

    Args:
        chosen: Chosen candidates, in choice order.
        wanted: Element → unit key.

    Returns:
        Request key → unit keys first covered by it.
    """
    seen: set[Hashable] = set()
    out: dict[Hashable, set[str]] = {}
    for c in chosen:
        fresh = [e for e in c.elements if e in wanted and e not in seen]
        seen.update(fresh)
        out[c.key] = {wanted[e] for e in fresh}
    return out
