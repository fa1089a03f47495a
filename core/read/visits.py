"""Visits and demands (接访、走访与诉求): the visit list with each demand's deadline, and
the open demands past it — one count, shown by the dashboard and the visits screen.

A demand is open while it is neither answered nor closed nor refused (:func:`_open_demand`);
it is overdue once its town's ``max_days`` (``service.demand_response``, :func:`demand_days`)
have passed since the visit.
"""
from __future__ import annotations

import datetime as dt

from peewee import JOIN

from core import enums
from core import models as m
from core.dates import today
from core.read.labels import lab
from core.read.paging import PAGE, newest_first
from core.view import View


def demand_days(view: View, town: str | None = None) -> int:
    """Days a demand has to be answered or closed (``service.demand_response``'s ``max_days``,
    :func:`core.rules.params_for`) in ``town``; with no town, in the town of the view when it
    lies in one town, else the city's."""
    from core.rules import params_for

    if town is None:
        towns = _view_towns(view)
        town = towns[0][1] if len(towns) == 1 else None
    return int(params_for("service.demand_response", town)["max_days"])


def _view_towns(view: View) -> list[tuple[int, str]]:
    """(id, name) of the towns with a community in the view."""
    C, T = m.Community, m.Town
    q = view.scoped(C.select(T.id, T.name).join(T, on=(C.town == T.id)), C)
    return sorted(set(q.tuples()), key=lambda t: t[1])


def _open_demand():
    V = m.Visit
    return ((V.demand != "") & V.answered_date.is_null() & V.closed_date.is_null()
            & (V.refused_reason.is_null() | (V.refused_reason == "")))


def visit_rows(view: View, *, open_only: bool = False, kind: str | None = None, community_id: int | None = None,
               after: tuple | None = None, limit: int = PAGE, now: dt.date | None = None,
               offset: int = 0, count: bool = False, year: int | None = None):
    """Visits in the view (of ``year`` when given), newest first; ``after`` = (date, id).
    ``overdue`` marks an open demand past the deadline (demand_response's max_days after the visit)."""
    now = now or today()
    V, C, T = m.Visit, m.Community, m.Town
    Wk, Mb = m.Worker.alias(), m.Member.alias()
    q = view.scoped(
        V.select(V.id, V.kind, V.date, V.people, V.demand, V.answered_date, V.closed_date,
                 V.refused_reason, V.version, C.name.alias("community_name"), T.name.alias("town"),
                 Wk.name.alias("staff_name"), Mb.name.alias("member_name"))
        .join(C, on=(V.community == C.id)).join(T, on=(C.town == T.id)).switch(V)
        .join(Wk, JOIN.LEFT_OUTER, on=(V.staff == Wk.id)).switch(V)
        .join(Mb, JOIN.LEFT_OUTER, on=(V.member == Mb.id)).switch(V), V)
    if open_only:
        q = q.where(_open_demand())
    if kind:
        q = q.where(V.kind == kind)
    if community_id:
        q = q.where(V.community == community_id)
    if year is not None:
        q = q.where((V.date >= dt.date(year, 1, 1)) & (V.date <= dt.date(year, 12, 31)))
    if count:
        return q.count()
    rows = newest_first(q, V, after, offset, limit)
    days: dict[str, int] = {}
    for r in rows:
        r["kind_label"] = lab(enums.VISIT_KIND, r["kind"])
        is_open = bool(r["demand"]) and not r["answered_date"] and not r["closed_date"] and not r["refused_reason"]
        r["open"] = is_open
        if r["town"] not in days:
            days[r["town"]] = demand_days(view, r["town"])
        r["deadline"] = r["date"] + dt.timedelta(days=days[r["town"]]) if r["demand"] else None
        r["overdue"] = is_open and r["deadline"] < now
    return rows


def overdue_demands(view: View, on: dt.date | None = None, limit: int = 5) -> dict:
    """Open demands in the view past their town's deadline on ``on`` (default today):
    {"count": n, "oldest": the ``limit`` oldest [{id, date, demand, community}],
    "max_days": {town: days}}.  The dashboard and the visits screen both show this count."""
    on = on or today()
    V, C = m.Visit, m.Community
    max_days: dict[str, int] = {}
    towns_by_days: dict[int, list] = {}  # one condition per deadline, not per town (a province has 100+ towns:
    for town_id, town in _view_towns(view):  # an OR per town nests too deep for SQLite's parser)
        max_days[town] = demand_days(view, town)
        towns_by_days.setdefault(max_days[town], []).append(town_id)
    late = None
    for days, town_ids in sorted(towns_by_days.items()):
        cond = C.town.in_(sorted(town_ids)) & (V.date < on - dt.timedelta(days=days))
        late = cond if late is None else (late | cond)
    if late is None:
        return {"count": 0, "oldest": [], "max_days": {}}
    q = view.scoped(V.select(V.id, V.date, V.demand, C.name.alias("community"))
                    .join(C, on=(V.community == C.id)), V).where(_open_demand() & late)
    oldest = list(q.order_by(V.date, V.id).limit(limit).dicts()) if limit else []
    return {"count": q.count(), "oldest": oldest, "max_days": max_days}
