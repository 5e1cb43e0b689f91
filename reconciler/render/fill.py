"""What it takes to fill the lake, read off a plan: calls, zero-call units, time, quota, deletions.

The audit's "What it takes to fill" section (and its terminal summary) comes from the same plan
``reconcile plan`` prints, computed once:

* API calls per target and endpoint, with the units they fill;
* units rebuilt from the lake's bronze layer, or derived from other targets, at 0 calls;
* units known only after apply (a derivation waiting for its inputs), with the calls they would
  cost at most if their inputs turn out to be empty (one per game);
* the time the calls take at the configured rate (``api.rate_limit_per_sec``);
* their share of a month's quota (``api.monthly_quota``);
* the rewrites and deletions that run only with ``--allow-delete``, and the catalog registrations
  that need nothing of the kind.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.config import ApiSettings
from reconciler.core.plan import API_ACTIONS, Action, Plan
from reconciler.render.common import duration

__all__ = [
    "DEFAULT_MONTHLY_QUOTA",
    "FREE_TIER_QUOTA",
    "DeleteWork",
    "EndpointCost",
    "FillCost",
    "TargetCost",
    "fill_cost",
    "quota_words",
    "render_fill",
]

#: ``api.monthly_quota``'s default: CBBD's Patreon Tier 3, 75,000 calls a month shared with
#: CollegeFootballData (``cbbd_api.md`` §1.3).
DEFAULT_MONTHLY_QUOTA: int = ApiSettings.model_fields["monthly_quota"].default
#: CBBD's free tier.
FREE_TIER_QUOTA = 1_000
_DELETE_KINDS = ("relayout", "dedupe", "delete")


@dataclass(frozen=True, slots=True)
class EndpointCost:
    """The API actions of one target through one endpoint.

    Attributes:
        label: The endpoint (``/plays/date``).
        actions: Actions.
        units: Distinct units they fill (or supply one part of, for joint requests).
        calls: API calls.
    """

    label: str
    actions: int
    units: int
    calls: int


@dataclass(frozen=True, slots=True)
class TargetCost:
    """What filling one target takes.

    Attributes:
        target: The target.
        table: Its silver table.
        calls: API calls.
        api_units: Distinct units the calls fill.
        endpoints: Per endpoint, most calls first.
        from_bronze: Units rebuilt from the lake's bronze layer (0 calls).
        derived: Units derived from other targets' silver (0 calls).
        after_apply: Units known only after apply (waiting for other targets).
        after_apply_games: Distinct games among them (at most one call each if underivable).
    """

    target: str
    table: str
    calls: int
    api_units: int
    endpoints: tuple[EndpointCost, ...]
    from_bronze: int
    derived: int
    after_apply: int
    after_apply_games: int


@dataclass(frozen=True, slots=True)
class DeleteWork:
    """Rewrites or deletions of one kind in one table (run only with ``--allow-delete``).

    Attributes:
        kind: ``relayout``, ``dedupe`` or ``delete``.
        table: ``layer/table`` (or ``database.table`` for catalog partitions).
        objects: Objects rewritten or deleted.
        partitions: Catalog partitions removed (no data touched).
        rows: Rows the rewritten objects hold.
    """

    kind: str
    table: str
    objects: int
    partitions: int
    rows: int


@dataclass(frozen=True, slots=True)
class FillCost:
    """The whole fill, priced.

    Attributes:
        targets: Per target, in plan order (targets with nothing to fill left out).
        calls: API calls in all.
        rate: Requests per second (``api.rate_limit_per_sec``).
        quota: Calls a month (``api.monthly_quota``).
        quota_remaining: The last ``X-CallLimit-Remaining`` seen, if any.
        registers: Catalog registrations (no ``--allow-delete`` needed).
        deletes: What needs ``--allow-delete``.
    """

    targets: tuple[TargetCost, ...]
    calls: int
    rate: float
    quota: int
    quota_remaining: int | None
    registers: int
    deletes: tuple[DeleteWork, ...]

    @property
    def seconds(self) -> float:
        """Pacing time of the calls at the configured rate."""
        return self.calls / self.rate if self.rate else 0.0

    @property
    def share(self) -> float:
        """The calls as a share of a month's quota."""
        return self.calls / self.quota if self.quota else 0.0

    @property
    def after_apply_games(self) -> int:
        """Calls the units known after apply would cost at most (one per game)."""
        return sum(t.after_apply_games for t in self.targets)


def _label(a: Action) -> str:
    """The endpoint of an API action as the spec names it (``/plays/game/{gameId}``)."""
    if a.request is None:
        return a.strategy or a.type
    return str(a.details.get("endpoint") or a.request.path)


def _target_cost(target: str, table: str, actions: list[Action], after: int, after_games: int) -> TargetCost:
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    # a joint request (e.g. one team's season of substitutions) supplies one part of each unit it
    # lists, so a unit can be in two actions: units are counted once, by key, where keys are listed
    keys: dict[str, set[str]] = defaultdict(set)
    everywhere: set[str] = set()
    unlisted = 0
    bronze = derived = 0
    for a in actions:
        if a.type in API_ACTIONS:
            tally = per[_label(a)]
            tally[0] += 1
            tally[2] += a.api_calls
            if a.units:
                keys[_label(a)].update(a.units)
                everywhere.update(a.units)
            else:
                tally[1] += a.covers
                unlisted += a.covers
        elif a.type == "rebuild":
            if a.details.get("derive"):
                derived += a.covers
            else:
                bronze += a.covers
    for label, units in keys.items():
        per[label][1] += len(units)
    endpoints = tuple(
        sorted((EndpointCost(k, *v) for k, v in per.items()), key=lambda e: (-e.calls, -e.units, e.label))
    )
    return TargetCost(
        target=target,
        table=table.rsplit(".", 1)[-1],
        calls=sum(e.calls for e in endpoints),
        api_units=len(everywhere) + unlisted,
        endpoints=endpoints,
        from_bronze=bronze,
        derived=derived,
        after_apply=after,
        after_apply_games=after_games,
    )


def _deletes(plan: Plan) -> tuple[DeleteWork, ...]:
    tally: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for a in plan.all_actions():
        if a.type not in _DELETE_KINDS:
            continue
        d = a.details
        catalog = d.get("op") == "partition"
        name = f"{d.get('database')}.{d.get('table')}" if catalog else f"{d.get('layer', '')}/{d.get('table', '')}"
        if not d.get("table"):
            obj = str((d.get("object") or {}).get("key", "") if isinstance(d.get("object"), dict) else "")
            name = "/".join(obj.split("/")[:2]) or a.target
        row = tally[(a.type, name)]
        row[1 if catalog else 0] += 1
        row[2] += a.est_rows
    order = {k: i for i, k in enumerate(_DELETE_KINDS)}
    return tuple(
        DeleteWork(kind, table, *v)
        for (kind, table), v in sorted(tally.items(), key=lambda kv: (order[kv[0][0]], kv[0]))
    )


def fill_cost(plan: Plan, *, rate: float, quota: int, after_apply_games: Mapping[str, int] | None = None) -> FillCost:
    """Price a plan.

    Args:
        plan: The plan (``reconcile plan``'s, for the same seasons).
        rate: Requests per second.
        quota: Calls a month.
        after_apply_games: Per target, the distinct games among its units known after apply
            (from the observation); default: half the units of a ``game:team`` target, else the units.

    Returns:
        The cost.
    """
    targets: list[TargetCost] = []
    for t in plan.targets:
        if not t.coverage:
            continue
        after = sum(c.after_apply for c in t.coverage.values())
        games = (after_apply_games or {}).get(t.target)
        if games is None:
            games = math.ceil(after / 2) if t.target == "lineups" else after
        cost = _target_cost(t.target, t.table, t.actions, after, games if after else 0)
        if cost.calls or cost.from_bronze or cost.derived or cost.after_apply:
            targets.append(cost)
    return FillCost(
        targets=tuple(targets),
        calls=sum(t.calls for t in targets),
        rate=rate,
        quota=quota,
        quota_remaining=plan.summary.quota_remaining,
        registers=plan.summary.register_,
        deletes=_deletes(plan),
    )


def quota_words(quota: int) -> str:
    """Name the quota and the plan tier it matches.

    Args:
        quota: Calls a month.

    Returns:
        e.g. ``75,000 calls a month (api.monthly_quota; the default, CBBD's Patreon Tier 3 ...)``.
    """
    if quota == DEFAULT_MONTHLY_QUOTA:
        tier = (
            "the default, which assumes CBBD's Patreon Tier 3: 75,000 calls a month shared with "
            "CollegeFootballData; the free tier has 1,000"
        )
    elif quota == FREE_TIER_QUOTA:
        tier = "CBBD's free tier"
    else:
        tier = "as configured"
    return f"{quota:,} calls a month (`api.monthly_quota`: {tier})"


def _months(calls: int, quota: int) -> str:
    if not quota or calls <= quota:
        return "within one month"
    return f"{math.ceil(calls / quota)} months of quota"


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%" if x >= 0.001 or x == 0 else "<0.1%"


def _endpoints(t: TargetCost) -> str:
    if not t.endpoints:
        return "—"
    return "; ".join(
        f"`{e.label}` {e.calls:,} call{'s' if e.calls != 1 else ''} ({e.units:,} unit{'s' if e.units != 1 else ''})"
        for e in t.endpoints
    )


def render_fill(cost: FillCost) -> list[str]:
    """The "What it takes to fill" section.

    Args:
        cost: The priced plan.

    Returns:
        Markdown lines.
    """
    rate = f"{cost.rate:g} req/s"
    if not cost.targets:
        return [
            "## What it takes to fill",
            "",
            "Nothing: the plan has no fetch, rebuild or derivation for these seasons (0 API calls, 0% of "
            f"{quota_words(cost.quota)}).",
            "",
            *_delete_lines(cost),
        ]
    out = [
        "## What it takes to fill",
        "",
        "Priced from the plan this report was computed from (the one `reconcile plan` prints for these seasons; "
        "its actions are what "
        "`reconcile apply` runs). Time is pacing at the configured rate (`api.rate_limit_per_sec`), without "
        "retries; the quota share is of one month's calls.",
        "",
        f"| target | API calls | units by API | endpoints | rebuilt from bronze (0 calls) | derived (0 calls) "
        f"| known after apply | time at {rate} | share of quota |",
        "|:---|---:|---:|:---|---:|---:|---:|---:|---:|",
    ]
    for t in cost.targets:
        secs = t.calls / cost.rate if cost.rate else 0.0
        share = t.calls / cost.quota if cost.quota else 0.0
        out.append(
            f"| {t.target} (`{t.table}`) | {t.calls:,} | {t.api_units:,} | {_endpoints(t)} | {t.from_bronze:,} "
            f"| {t.derived:,} | {t.after_apply:,} | {duration(secs)} | {_pct(share)} |"
        )
    tot = {k: sum(getattr(t, k) for t in cost.targets) for k in ("api_units", "from_bronze", "derived", "after_apply")}
    out.append(
        f"| **all** | **{cost.calls:,}** | **{tot['api_units']:,}** | | **{tot['from_bronze']:,}** "
        f"| **{tot['derived']:,}** | **{tot['after_apply']:,}** | **{duration(cost.seconds)}** "
        f"| **{_pct(cost.share)}** |"
    )
    out += [
        "",
        f"- **Time**: {cost.calls:,} API calls at {rate} take {cost.seconds / 3600:.2f} hours "
        f"({duration(cost.seconds)}) of pacing.",
        f"- **Quota**: {_pct(cost.share)} of {quota_words(cost.quota)}: {_months(cost.calls, cost.quota)}."
        + (
            f" The API last reported {cost.quota_remaining:,} calls left this month."
            if cost.quota_remaining is not None
            else ""
        ),
    ]
    waiting = [t for t in cost.targets if t.after_apply]
    for t in waiting:
        worst = t.after_apply_games
        out.append(
            f"- **Known after apply**: {t.after_apply:,} {t.target} units wait for the targets they are derived "
            f"from; they are derived at 0 calls once those are filled. A game whose inputs come back empty "
            f"cannot be derived and is fetched instead: at most {worst:,} calls more "
            f"({_pct(worst / cost.quota if cost.quota else 0.0)} of the quota, "
            f"{duration(worst / cost.rate if cost.rate else 0.0)})."
        )
    zero = sum(t.from_bronze + t.derived for t in cost.targets)
    if zero:
        out.append(f"- **At 0 calls**: {zero:,} units are rebuilt from the lake's bronze layer or derived.")
    out += ["", *_delete_lines(cost)]
    return out


def _delete_lines(cost: FillCost) -> list[str]:
    head = (
        f"Catalog registrations ({cost.registers:,} partitions) and the fills above need no `--allow-delete`. "
        if cost.registers
        else "The fills above need no `--allow-delete`. "
    )
    if not cost.deletes:
        return [head + "Nothing needs `--allow-delete`: no rewrite or deletion is planned.", ""]
    out = [
        head + "These run only with `reconcile apply --allow-delete` (and confirmation); without it they stay "
        "in the plan and readers keep seeing the duplicates and stray layouts:",
        "",
        "| needs --allow-delete | table | objects | catalog partitions | rows rewritten |",
        "|:---|:---|---:|---:|---:|",
    ]
    for d in cost.deletes:
        out.append(f"| {d.kind} | `{d.table}` | {d.objects:,} | {d.partitions:,} | {d.rows:,} |")
    return [*out, ""]
