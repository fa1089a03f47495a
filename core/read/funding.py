"""Activity funding (活动经费, 第19条): per community the floor, what was allocated, the
gap and the city/town split (:func:`core.funding.community_funding`); one community's
allocations; the communities short of the floor."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from peewee import fn

from core import enums
from core import models as m
from core.dates import today
from core.read.labels import lab
from core.view import View


def funding_rows(view: View, year: int, as_of: dt.date | None = None) -> list[dict]:
    """Per community in the view (``core.funding.community_funding``): members N, the clause-19
    floor, the year's allocations from the activity sources up to the as-of date, the gap, the
    city/town split of the floor (the town's plugin decides; default 100 % town) and what came
    from the other sources (not counted)."""
    from core import funding

    as_of = as_of or min(dt.date(year, 12, 31), today())
    refs = view.communities()
    lines = funding.community_funding(refs, year, as_of)
    FA = m.FundingAllocation
    other: dict[int, Decimal] = {}
    cids = [c.id for c in refs]
    if cids:
        for cid, amount in (FA.select(FA.community, fn.SUM(FA.amount))
                            .where(FA.community.in_(cids) & (FA.year == year)
                                   & FA.source.not_in(list(enums.ACTIVITY_FUNDING_SOURCES)))
                            .group_by(FA.community).tuples()):
            other[cid] = Decimal(str(amount or 0))
    out = []
    for ln in sorted(lines, key=lambda x: (x.town, x.code)):
        out.append({"community_id": ln.community_id, "code": ln.code, "name": ln.name, "town": ln.town,
                    "members": ln.members, "floor": ln.floor, "allocated": ln.allocated,
                    "other": other.get(ln.community_id, Decimal(0)), "city_share": ln.city_share,
                    "town_share": ln.town_share, "split_by": ln.split_by,
                    "city_paid": ln.by_source.get("city_finance", Decimal(0)),
                    "town_paid": ln.by_source.get("town_finance", Decimal(0)), "gap": ln.gap})
    return out


def allocations(view: View, community_id: int, year: int) -> list[dict]:
    """The allocations of a community in the view for ``year``, by date."""
    FA = m.FundingAllocation
    q = view.select(FA).where((FA.community == community_id) & (FA.year == year)).order_by(FA.date, FA.id)
    return [{"id": a.id, "date": a.date, "amount": a.amount, "source": a.source,
             "source_label": lab(enums.FUNDING_SOURCE, a.source), "version": a.version} for a in q]


def funding_gaps(view: View, year: int, as_of: dt.date) -> dict:
    """Communities of the view whose activity funding for ``year`` is below the clause-19 floor."""
    from core.funding import community_funding

    lines = community_funding(view.communities(), year, as_of)
    short = sorted([x for x in lines if x.gap > 0], key=lambda x: -x.gap)
    return {"communities": len(lines), "short": len(short), "gap": sum((x.gap for x in short), 0),
            "top": [(x.name, x.code, x.floor, x.allocated, x.gap) for x in short[:5]]}
