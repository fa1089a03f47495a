"""Where a user may look (查看范围): the town → street → community tree of a user's scope,
and when the records of a view last changed (to tell a stored check run is out of date)."""
from __future__ import annotations

import datetime as dt

from core import models as m
from core.view import View


def scope_tree(principal) -> dict:
    """The user's whole scope as a tree: ``{"everything": bool, "towns": [{"name", "streets":
    [{"name" (None: communities without a street), "communities": [{"code", "name"}]}]}]}``,
    towns by name, streets by name (the street-less group last), communities by code."""
    view = View.of(principal)
    refs = view.communities()
    ids = [r.id for r in refs]
    street_of: dict[int, str | None] = {}
    if ids:
        q = (m.Community.select(m.Community.id, m.Street.name.alias("street_name"))
             .join(m.Street, on=(m.Community.street == m.Street.id)))
        if view.community_ids is not None:
            q = q.where(m.Community.id.in_(ids))
        for row in q.dicts():
            street_of[row["id"]] = row["street_name"]
    towns: dict[str, dict[str | None, list]] = {}
    for r in refs:
        towns.setdefault(r.town, {}).setdefault(street_of.get(r.id), []).append({"code": r.code, "name": r.name})
    out = []
    for tname in sorted(towns):
        streets = towns[tname]
        names = sorted((s for s in streets if s is not None)) + ([None] if None in streets else [])
        out.append({"name": tname, "streets": [{"name": s, "communities": sorted(streets[s], key=lambda c: c["code"])}
                                                for s in names]})
    return {"everything": view.everything, "towns": out}


def last_change_at(view: View) -> dt.datetime | None:
    """When a record of the view was last created, changed or deleted (the audit log), or None."""
    A = m.AuditLog
    q = A.select(A.at)
    if view.community_ids is not None:
        ids = sorted(view.community_ids)
        if not ids:
            return None
        q = q.where(A.community.in_(ids) | A.community.is_null())
    row = q.order_by(A.at.desc()).limit(1).first()
    return None if row is None else row.at


def org_tree_choices(view: View, kinds=("general_branch", "branch")) -> list[dict]:
    """The view's organizations of ``kinds`` for a chooser grouped by place:
    [{"id", "code", "name", "town", "community_code", "community"}], by town, community code, org code."""
    O, C, T = m.Organization, m.Community, m.Town
    q = (view.select(O, O.id, O.code, O.name, C.code.alias("community_code"), C.name.alias("community"),
                     T.name.alias("town"))
         .join(C, on=(O.community == C.id)).join(T, on=(C.town == T.id))
         .where(O.kind.in_(list(kinds))).order_by(T.name, C.code, O.code))
    return list(q.dicts())
