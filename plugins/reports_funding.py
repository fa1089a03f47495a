"""Built-in report ``funding`` (第19条): per community N, floor, allocated, gap and the
city/town split, with totals per town and for the city.

``run(ctx)`` uses only ``ctx.year``, ``ctx.as_of``, ``ctx.communities`` (the
communities of the user's view; a context without them gets the view of its
``principal``, ``town`` and ``community``) and ``ctx.lang`` (the report context of
``dangjian report``).
"""
from __future__ import annotations

from core import Report, View, funding_table, hookimpl, resolve_dates


def run(ctx):
    year, as_of = resolve_dates(getattr(ctx, "year", None), getattr(ctx, "as_of", None))
    communities = getattr(ctx, "communities", None)
    if communities is None:
        communities = View.of(getattr(ctx, "principal", None), getattr(ctx, "town", None),
                              getattr(ctx, "community", None)).communities()
    return funding_table(year, as_of, communities, getattr(ctx, "lang", "zh"))


REPORT = Report(name="funding", title_zh="社区党组织活动经费（第19条）", title_en="community activity funding (clause 19)",
                run=run)


@hookimpl
def dangjian_register_reports(register):
    register(REPORT)
