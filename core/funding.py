"""Funding of clause 19 (第19条 经费保障): the floor per community and its split.

The floor is ``max(per_member × N, minimum)`` (defaults 150 and 15,000 yuan),
N = members, full and probationary, whose relationship is in the community
(社区党员 and 流出党员 of its organizations; retirees included; 在职党员 and
流入党员 not), counted at the as-of date.  What counts against it is the
year's allocations from the activity-funding sources 市级财政 and 区镇财政
(委托事项, donations and the rest do not).  The split between city and town
comes from the firstresult hook ``dangjian_funding_split``; with no answer the
town pays 100 %.  When the plugin that answers for a town raises (or answers
with shares that do not sum to the floor), or a plugin serving the town failed
to load, that town's figures are withheld (``CommunityFunding.failures``): they
are never split by the next plugin or the default instead.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from core.enums import ACTIVITY_FUNDING_SOURCES

CENT = Decimal("0.01")


@dataclass
class CommunityFunding:
    """One community's line of the funding table."""
    community_id: int
    code: str
    name: str
    town: str
    members: int
    floor: Decimal
    allocated: Decimal
    by_source: dict = field(default_factory=dict)
    allocation_ids: list = field(default_factory=list)
    city_share: Decimal = Decimal(0)
    town_share: Decimal = Decimal(0)
    split_by: str = "default"
    failures: list = field(default_factory=list)  # core.plugins.Failure: the figures are withheld

    @property
    def withheld(self) -> bool:
        return bool(self.failures)

    @property
    def gap(self) -> Decimal:
        """What is still missing to reach the floor (0 when met)."""
        return max(self.floor - self.allocated, Decimal(0))


def floor_amount(members: int, per_member=150, minimum=15000) -> Decimal:
    """``max(per_member × members, minimum)`` as a Decimal in yuan."""
    return max(Decimal(str(per_member)) * members, Decimal(str(minimum))).quantize(CENT)


class SplitFailed(Exception):
    """The split of a town could not be decided: a plugin that answers for it raised or
    answered wrongly (``failure`` says which), so its figures are withheld."""

    def __init__(self, failure):
        super().__init__(failure.line())
        self.failure = failure


def split(town: str, community: str, year: int, amount: Decimal) -> tuple[Decimal, Decimal, str]:
    """(city share, town share, who decided) of ``amount`` via ``dangjian_funding_split``.

    The first plugin (town plugins first) that answers decides.  One that raises or answers
    with shares that do not sum to ``amount`` decides too: :class:`SplitFailed` (never the
    next plugin's or the default answer instead)."""
    from core import plugins

    manager = plugins.get()
    for plugin, result, exc in manager.calls("dangjian_funding_split", town=town, community=community, year=year,
                                             amount=amount):
        if exc is not None:
            raise SplitFailed(manager.hook_error(plugin, "dangjian_funding_split", exc, town=town))
        if result is None:
            continue
        try:
            city, town_part = Decimal(result["city"]), Decimal(result["town"])
        except Exception as bad:  # a malformed answer is the plugin's error, reported by name
            raise SplitFailed(manager.hook_error(plugin, "dangjian_funding_split",
                                                 ValueError(f"bad split {result!r}: {bad}"), town=town)) from None
        if city + town_part != amount:
            raise SplitFailed(manager.hook_error(
                plugin, "dangjian_funding_split",
                ValueError(f"split {city} + {town_part} does not sum to {amount}"), town=town))
        return city, town_part, plugin
    return Decimal("0.00"), amount, "default"


def community_funding(communities, year: int, as_of: dt.date, params_for=None) -> list[CommunityFunding]:
    """Funding lines for ``communities`` (``core.rules.CommunityRef`` list) — three queries.

    ``params_for(town)`` gives the ``funding.floor`` parameters of a town
    (default: resolved from config and town plugins).
    """
    from core.models import FundingAllocation
    from core.roster import relationship_member_counts

    communities = list(communities)
    if not communities:
        return []
    ids = [c.id for c in communities]
    if params_for is None:
        params_for = floor_params
    counts = relationship_member_counts(ids, as_of, formal_only=False)
    alloc: dict = {}
    q = (FundingAllocation.select(FundingAllocation.id, FundingAllocation.community, FundingAllocation.source,
                                  FundingAllocation.amount)
         .where(FundingAllocation.community.in_(ids), FundingAllocation.year == year,
                FundingAllocation.source.in_(ACTIVITY_FUNDING_SOURCES), FundingAllocation.date <= as_of))
    for aid, cid, source, amount in q.tuples():
        a = alloc.setdefault(cid, {"by_source": {}, "ids": []})
        a["by_source"][source] = (a["by_source"].get(source, Decimal(0)) + Decimal(str(amount))).quantize(CENT)
        a["ids"].append(aid)
    from core import plugins

    manager = plugins.get()
    out = []
    cache: dict = {}
    for c in communities:
        if c.town not in cache:
            cache[c.town] = params_for(c.town)
        p = cache[c.town]
        n = counts.get(c.id, 0)
        fl = floor_amount(n, p["per_member"], p["minimum"])
        a = alloc.get(c.id, {"by_source": {}, "ids": []})
        allocated = sum(a["by_source"].values(), Decimal(0)).quantize(CENT)
        failures = manager.tainting(c.town)
        if failures:  # a plugin serving the town failed to load: nothing of the town is decided
            city, town_part, by = Decimal(0), Decimal(0), failures[0].plugin
        else:
            try:
                city, town_part, by = split(c.town, c.code, year, fl)
            except SplitFailed as exc:
                city, town_part, by, failures = Decimal(0), Decimal(0), exc.failure.plugin, [exc.failure]
        out.append(CommunityFunding(c.id, c.code, c.name, c.town, n, fl, allocated, a["by_source"],
                                    sorted(a["ids"]), city, town_part, by, list(failures)))
    return out


def floor_params(town: str | None) -> dict:
    """The funding floor's parameters for ``town`` (the one parameter resolution of core.rules)."""
    from core.rules import params_for

    return params_for("funding.floor", town)


def funding_table(year: int, as_of: dt.date, communities, lang: str = "zh", withheld: list | None = None
                  ) -> tuple[list, list]:
    """(headers, rows) of the funding report: per community, then a total per town and for the city.

    A town whose figures are withheld (a plugin failed, :class:`CommunityFunding`) has no rows,
    and neither has the city total; their failures are added to ``withheld`` when given."""
    from core.i18n import tr
    from core.numbers import Count, Money

    lines = community_funding(communities, year, as_of)
    headers = [tr("区镇", "town"), tr("社区编码", "community code"), tr("社区名称", "community"),
               tr("党员数", "members"), tr("保障标准", "floor"), tr("已划拨", "allocated"), tr("缺口", "gap"),
               tr("市级承担", "city share"), tr("区镇承担", "town share")]
    rows = []
    zero = Decimal("0.00")
    city_tot = [0, zero, zero, zero, zero, zero]
    by_town: dict = {}
    for ln in lines:
        by_town.setdefault(ln.town, []).append(ln)
    failed = {}
    for town in sorted(by_town):
        for ln in by_town[town]:
            for f in ln.failures:
                if f not in failed.setdefault(town, []):
                    failed[town].append(f)
    def typed(vals):  # a count and five amounts (core.numbers): shown 1,234 and 15,000.00, plain in csv/xlsx/json
        return [Count(vals[0]), *(Money(v) for v in vals[1:])]

    for town in sorted(by_town):
        if town in failed:
            continue
        tot = [0, zero, zero, zero, zero, zero]
        for ln in by_town[town]:
            vals = [ln.members, ln.floor, ln.allocated, ln.gap.quantize(CENT), ln.city_share, ln.town_share]
            rows.append([ln.town, ln.code, ln.name, *typed(vals)])
            tot = [x + y for x, y in zip(tot, vals)]
        rows.append([town, "", tr("{t}合计", "{t} total", t=town), *typed(tot)])
        city_tot = [x + y for x, y in zip(city_tot, tot)]
    if (len(by_town) > 1 or lines) and not failed:
        rows.append([tr("全市", "city"), "", tr("全市合计", "city total"), *typed(city_tot)])
    if withheld is not None:
        for town, fs in failed.items():
            for f in fs:
                withheld.append((town, f))
    return headers, rows
