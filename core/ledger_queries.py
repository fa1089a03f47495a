"""Queries of the record-keeping screens (台账录入界面的查询).

Every read the terminal app's ledger screens need — workers and trainings,
meetings and attendance, the dues grid, visits and demands, funding, the
compliance matrix, and the generic record lists and forms — lives here and
returns plain rows (dicts), so screens hold no SQL.  Every query reads through
the screen's view — the ``scope`` argument: a :class:`core.view.View` (None: the
current user's whole scope; :func:`core.view.as_view`) — set-based (a handful
of queries per screen, never one per row) and paged by key where a list can
be long (``after`` = the last key of the previous page).

What is shown comes back as the view shows it: ID numbers and phones masked
unless the user may see them (``id_shown``, ``phone``, finding texts); a raw
``id_number`` is returned only as the reference a form is opened with.

Writes do not live here: they go through :mod:`core.records` so the audit log,
scope rules and optimistic locking apply.
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from peewee import JOIN, SQL, fn

from core import enums, ids, kinds, roster
from core import models as m
from core.view import View, as_view
from core.dates import month_key, today
from core.i18n import get_lang, tr

PAGE = 200


def lab(choice, code) -> str:
    return choice.label(code, get_lang()) if code is not None else ""


def money(value) -> str:
    if value is None:
        return ""
    return f"{Decimal(value):.2f}"


def _prefix(field, text):
    """Exact prefix match, portable (no LIKE/GLOB differences between backends)."""
    return fn.SUBSTR(field, 1, len(text)) == text


# ---------------------------------------------------------------- lookups for forms

def communities(scope=None) -> list[dict]:
    q = as_view(scope).select(m.Community, m.Community.id, m.Community.code, m.Community.name
                              ).order_by(m.Community.code)
    return [{"id": c.id, "code": c.code, "name": c.name} for c in q]


def community_by_code(code: str, scope=None):
    c = m.Community.get_or_none(m.Community.code == code)
    if c is None or not as_view(scope).contains(c.id):
        return None
    return {"id": c.id, "code": c.code, "name": c.name}


def org_by_code(code: str, scope=None):
    o = as_view(scope).select(m.Organization).where(m.Organization.code == code).first()
    return None if o is None else {"id": o.id, "code": o.code, "name": o.name, "kind": o.kind}


def member_by_id_number(number: str, scope=None):
    n = ids.normalize(number)
    mb = as_view(scope).select(m.Member).where(m.Member.id_number == n).first()
    return None if mb is None else {"id": mb.id, "name": mb.name, "id_number": mb.id_number}


def worker_by_id_number(number: str, scope=None):
    n = ids.normalize(number)
    w = as_view(scope).select(m.Worker).where(m.Worker.id_number == n).first()
    return None if w is None else {"id": w.id, "name": w.name, "id_number": w.id_number}


def ref_label(model, pk) -> str:
    """A short human label of a referenced record: code, ID number or name."""
    if pk is None:
        return ""
    obj = model.get_or_none(model.id == pk)
    if obj is None:
        return ""
    for attr in ("code", "id_number", "name", "number", "login"):
        if attr in model._meta.fields:
            return str(getattr(obj, attr))
    return str(pk)


def resolve_ref(model, text: str, scope=None):
    """The id of the record of ``model`` named by ``text`` (code / ID number / name) in the view, or None."""
    text = (text or "").strip()
    if not text:
        return None
    view = as_view(scope)
    if model is m.Member:
        r = member_by_id_number(text, view)
    elif model is m.Worker:
        r = worker_by_id_number(text, view)
    elif model is m.Organization:
        r = org_by_code(text, view)
    elif model is m.Community:
        r = community_by_code(text, view)
    else:
        key = None
        for attr in ("code", "number", "name"):
            if attr in model._meta.fields:
                key = attr
                break
        q = view.select(model)
        if key:
            obj = q.where(getattr(model, key) == text).first()
        elif text.isdigit():
            obj = q.where(model.id == int(text)).first()
        else:
            obj = None
        r = None if obj is None else {"id": obj.id}
    return None if r is None else r["id"]


def record(kind: str, pk: int, scope=None) -> dict | None:
    """One record as a dict of field values (FKs as ids) with its ``version``; None when not visible."""
    model = kinds.get(kind).model
    obj = as_view(scope).select(model).where(model.id == pk).first()
    if obj is None:
        return None
    out = {}
    for name, field in model._meta.fields.items():
        out[name] = getattr(obj, field.column_name if hasattr(field, "rel_model") else name)
    return out


# ---------------------------------------------------------------- workers

def current_posts(worker_ids, on: dt.date | None = None) -> dict[int, list[str]]:
    on = on or today()
    out: dict[int, list[str]] = {}
    if not worker_ids:
        return out
    q = (m.WorkerPost.select(m.WorkerPost.worker, m.WorkerPost.post)
         .where(m.WorkerPost.worker.in_(list(worker_ids)) & (m.WorkerPost.start_date <= on)
                & (m.WorkerPost.end_date.is_null() | (m.WorkerPost.end_date >= on)))
         .order_by(m.WorkerPost.worker, m.WorkerPost.post).tuples())
    for wid, post in q:
        out.setdefault(wid, []).append(post)
    return out


def worker_rows(search: str = "", *, year: int | None = None, after: int | None = None,
                limit: int = PAGE, community_id: int | None = None, scope=None, offset: int = 0,
                count: bool = False):
    """Workers in scope (by id; ``after`` the last id seen), with current posts and the year's training."""
    year = year or today().year
    view = as_view(scope)
    W = m.Worker
    q = view.scoped(W.select(W.id, W.name, W.id_number, W.status, W.certificate, W.education,
                             m.Community.name.alias("community_name"))
                    .join(m.Community, on=(W.community == m.Community.id)).switch(W), W)
    s = (search or "").strip()
    if s:
        if s[:1].isdigit():
            if not view.allows_id_prefix_search and len(s) > 6:  # no search beyond the area code shown
                q = q.where(SQL("1 = 0"))
            else:
                q = q.where(_prefix(W.id_number, s.upper()))
        elif s.isascii():
            q = q.where(_prefix(W.initials, s.lower()))
        else:
            q = q.where(_prefix(W.name, s))
    if community_id:
        q = q.where(W.community == community_id)
    if count:
        return q.count()
    if after:
        q = q.where(W.id > after)
    rows = list(q.order_by(W.id).offset(offset or None).limit(limit).dicts())
    wids = [r["id"] for r in rows]
    posts = current_posts(wids)
    days = {}
    if wids:
        t = (m.Training.select(m.Training.worker, fn.COUNT(m.Training.id), fn.SUM(m.Training.days))
             .where(m.Training.worker.in_(wids) & (m.Training.start_date >= dt.date(year, 1, 1))
                    & (m.Training.start_date <= dt.date(year, 12, 31)))
             .group_by(m.Training.worker).tuples())
        days = {wid: (n, Decimal(d or 0)) for wid, n, d in t}
    for r in rows:
        r["id_shown"] = view.mask_id(r["id_number"])
        r["posts"] = "、".join(lab(enums.POST, p) for p in posts.get(r["id"], []))
        r["certificate_label"] = lab(enums.CERTIFICATE, r["certificate"])
        r["status_label"] = lab(enums.WORKER_STATUS, r["status"])
        n, d = days.get(r["id"], (0, Decimal(0)))
        r["trainings"] = n
        r["training_days"] = d
    return rows


def worker_detail(worker_id: int, year: int | None = None, scope=None) -> dict | None:
    """A worker with every post (history) and trainings (newest first); ``id_number`` is the
    reference a form is opened with, ``id_shown`` / ``phone`` what to show."""
    view = as_view(scope)
    w = view.select(m.Worker).where(m.Worker.id == worker_id).first()
    if w is None:
        return None
    posts = [{"id": p.id, "post": lab(enums.POST, p.post), "start": p.start_date, "end": p.end_date}
             for p in m.WorkerPost.select().where(m.WorkerPost.worker == worker_id)
             .order_by(m.WorkerPost.start_date.desc())]
    trainings = [{"id": t.id, "title": t.title, "level": lab(enums.TRAINING_LEVEL, t.level),
                  "start_date": t.start_date, "days": t.days, "version": t.version}
                 for t in m.Training.select().where(m.Training.worker == worker_id)
                 .order_by(m.Training.start_date.desc(), m.Training.id.desc())]
    return {
        "id": w.id, "name": w.name, "id_shown": view.mask_id(w.id_number), "id_number": w.id_number,
        "community": w.community.name, "education": lab(enums.EDUCATION, w.education),
        "certificate": lab(enums.CERTIFICATE, w.certificate), "certificate_date": w.certificate_date,
        "status": lab(enums.WORKER_STATUS, w.status), "phone": view.mask_phone(w.phone),
        "college_graduate": w.college_graduate, "backup_talent": w.backup_talent,
        "posts": posts, "trainings": trainings,
    }


# ---------------------------------------------------------------- organizations

def org_subtree_ids(org_id: int) -> list[int]:
    """The organization and every organization below it (set-based, one query per level)."""
    out = [org_id]
    frontier = [org_id]
    while frontier:
        frontier = [o for (o,) in m.Organization.select(m.Organization.id)
                    .where(m.Organization.parent.in_(frontier)).tuples()]
        out.extend(frontier)
    return out


def org_choices(kinds=("committee", "general_branch", "branch", "group"), scope=None) -> list[dict]:
    """Organizations in scope (for selects), ordered by code."""
    O = m.Organization
    q = as_view(scope).select(O, O.id, O.code, O.name, O.kind).where(O.kind.in_(list(kinds))).order_by(O.code)
    return [{"id": o["id"], "code": o["code"], "name": o["name"], "kind": o["kind"],
             "kind_label": lab(enums.ORG_KIND, o["kind"])} for o in q.dicts()]


def org_members(org_id: int, scope=None) -> list[dict]:
    """Active members of an organization and of the organizations below it in the view, by
    name; ``id_number`` is the reference a form is opened with, ``id_shown`` what to show."""
    view = as_view(scope)
    sub = org_subtree_ids(org_id)
    Mb = m.Member
    q = view.select(Mb, Mb.id, Mb.name, Mb.id_number, Mb.organization, Mb.dues_class,
                    Mb.monthly_income, Mb.joined_date, Mb.full_date, Mb.management_class
                    ).where(Mb.organization.in_(sub) & roster.current()).order_by(Mb.name, Mb.id)
    rows = list(q.dicts())
    for r in rows:
        r["id_shown"] = view.mask_id(r["id_number"])
    return rows


# ---------------------------------------------------------------- meetings and attendance

def meeting_rows(*, year: int | None = None, org_id: int | None = None, after: tuple | None = None,
                 limit: int = PAGE, scope=None, offset: int = 0, count: bool = False):
    """Meetings in scope, newest first; ``after`` = (date, id) of the last row seen."""
    Mt, O = m.Meeting, m.Organization
    q = as_view(scope).scoped(Mt.select(Mt.id, Mt.code, Mt.date, Mt.type, Mt.topic, Mt.version,
                                        O.name.alias("org_name"), O.code.alias("org_code"))
                              .join(O, on=(Mt.organization == O.id)).switch(Mt), Mt)
    if year:
        q = q.where((Mt.date >= dt.date(year, 1, 1)) & (Mt.date <= dt.date(year, 12, 31)))
    if org_id:
        q = q.where(Mt.organization == org_id)
    if count:
        return q.count()
    if after:
        d, i = after
        q = q.where((Mt.date < d) | ((Mt.date == d) & (Mt.id < i)))
    rows = list(q.order_by(Mt.date.desc(), Mt.id.desc()).offset(offset or None).limit(limit).dicts())
    mids = [r["id"] for r in rows]
    counts: dict[int, dict] = {}
    if mids:
        A = m.Attendance
        for mid, status, n in (A.select(A.meeting, A.status, fn.COUNT(A.id)).where(A.meeting.in_(mids))
                               .group_by(A.meeting, A.status).tuples()):
            counts.setdefault(mid, {})[status] = n
    for r in rows:
        c = counts.get(r["id"], {})
        r["type_label"] = lab(enums.MEETING_TYPE, r["type"])
        r["present"], r["leave"], r["absent"] = c.get("present", 0), c.get("leave", 0), c.get("absent", 0)
    return rows


def meeting(meeting_id: int, scope=None) -> dict | None:
    Mt, O = m.Meeting, m.Organization
    r = as_view(scope).scoped(Mt.select(Mt, O.name.alias("org_name"), O.code.alias("org_code"))
                              .join(O, on=(Mt.organization == O.id)).switch(Mt), Mt
                              ).where(Mt.id == meeting_id).dicts().first()
    if r is None:
        return None
    r["type_label"] = lab(enums.MEETING_TYPE, r["type"])
    return r


def suggest_meeting_code(org_code: str, date: dt.date, type_code: str) -> str:
    """``ORGCODE-YYYYMMDD-type`` with a number added when it is taken."""
    base = f"{org_code}-{date:%Y%m%d}-{type_code}"
    taken = {c for (c,) in m.Meeting.select(m.Meeting.code).where(_prefix(m.Meeting.code, base)).tuples()}
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def attendance_roster(meeting_id: int, scope=None) -> list[dict]:
    """Every member expected at the meeting (its organization and those below), with the
    attendance row when there is one: ``status`` None means not recorded yet."""
    view = as_view(scope)
    mt = view.select(m.Meeting).where(m.Meeting.id == meeting_id).first()
    if mt is None:
        return []
    members = org_members(mt.organization_id, view)
    A = m.Attendance
    rows = {a["member"]: a for a in A.select(A.id, A.member, A.status, A.leave_reason, A.version)
            .where(A.meeting == meeting_id).dicts()}
    known = {r["id"] for r in members}
    extra = [k for k in rows if k not in known]  # recorded but no longer in the org
    if extra:
        for mb in view.select(m.Member, m.Member.id, m.Member.name, m.Member.id_number
                              ).where(m.Member.id.in_(extra)).dicts():
            mb["id_shown"] = view.mask_id(mb["id_number"])
            members.append(mb)
    out = []
    for mb in members:
        a = rows.get(mb["id"])
        out.append({"member_id": mb["id"], "name": mb["name"], "id_shown": mb["id_shown"],
                    "attendance_id": a["id"] if a else None, "status": a["status"] if a else None,
                    "leave_reason": (a["leave_reason"] or "") if a else "",
                    "version": a["version"] if a else None})
    return out


# ---------------------------------------------------------------- dues

def months_of(year: int) -> list[str]:
    return [f"{year:04d}-{mo:02d}" for mo in range(1, 13)]


def dues_grid(org_id: int, year: int, scope=None) -> dict:
    """The dues month grid of a branch as of the year's as-of date (31 December or today,
    whichever is earlier): members, each with the calculator's proposal, ``owed_months`` (the
    months owed: ``core.dues.months_owed``; none for a member whose relationship is not in the
    community) and ``arrears`` (those not settled: ``core.dues.arrears``); payments keyed
    ``(member_id, 'YYYY-MM')``; ``owed`` the month-payments owed in all."""
    from core import dues
    from core.roster import in_relationship
    from core.rules import resolve_dates

    _year, as_of = resolve_dates(year, None)
    members = org_members(org_id, scope)
    mids = [r["id"] for r in members]
    D = m.DuesPayment
    payments = {}
    if mids:
        for p in (D.select(D.id, D.member, D.month, D.due, D.paid, D.paid_date, D.version)
                  .where(D.member.in_(mids) & D.month.between(f"{year:04d}-01", f"{year:04d}-12")).dicts()):
            payments[(p["member"], p["month"])] = p
    by_member: dict[int, dict] = {}
    for (mid, month), p in payments.items():
        by_member.setdefault(mid, {})[month] = (p["due"], p["paid"], p["paid_date"])
    for r in members:
        r["proposal"] = dues.proposal(r["dues_class"], r["monthly_income"])
        r["first_month"] = month_key(r["joined_date"]) if r["joined_date"] else None
        here = in_relationship(r["management_class"])
        r["owed_months"] = set(dues.months_owed(year, as_of, r["joined_date"])) if here else set()
        r["arrears"] = dues.arrears(year, as_of, r["joined_date"], by_member.get(r["id"], {})) if here else []
    return {"members": members, "payments": payments, "months": months_of(year), "as_of": as_of,
            "owed": sum(len(r["arrears"]) for r in members)}


def dues_cell_state(payment: dict | None, month: str, member: dict, as_of: dt.date) -> str:
    """``before`` (the member joined later) / ``paid`` (settled by ``as_of``) / ``partial``
    (something paid, not settled) / ``owed`` (one of the member's ``owed_months``, nothing
    paid) / ``pending`` (not owed yet: the month has not ended, or not owed here)."""
    from core import dues

    first_month = member.get("first_month")
    if first_month and month < first_month:
        return "before"
    if payment is not None:
        if dues.settled(payment["due"], payment["paid"], payment["paid_date"], as_of):
            return "paid"
        if payment["paid"] is not None and Decimal(payment["paid"]) > 0:
            return "partial"
    return "owed" if month in member.get("owed_months", ()) else "pending"


# ---------------------------------------------------------------- visits and demands

def demand_days(town: str | None = None, scope=None) -> int:
    """Days a demand has to be answered or closed (``service.demand_response``'s ``max_days``,
    :func:`core.rules.params_for`) in ``town``; with no town, in the town of the view when it
    lies in one town, else the city's."""
    from core.rules import params_for

    if town is None:
        towns = _view_towns(scope)
        town = towns[0][1] if len(towns) == 1 else None
    return int(params_for("service.demand_response", town)["max_days"])


def _view_towns(scope=None) -> list[tuple[int, str]]:
    """(id, name) of the towns with a community in the view."""
    C, T = m.Community, m.Town
    q = as_view(scope).scoped(C.select(T.id, T.name).join(T, on=(C.town == T.id)), C)
    return sorted(set(q.tuples()), key=lambda t: t[1])


def _open_demand():
    V = m.Visit
    return ((V.demand != "") & V.answered_date.is_null() & V.closed_date.is_null()
            & (V.refused_reason.is_null() | (V.refused_reason == "")))


def visit_rows(*, open_only: bool = False, kind: str | None = None, community_id: int | None = None,
               after: tuple | None = None, limit: int = PAGE, now: dt.date | None = None,
               scope=None, offset: int = 0, count: bool = False):
    """Visits in scope, newest first; ``after`` = (date, id).  ``overdue`` marks an open demand
    past the deadline (demand_response's max_days after the visit)."""
    now = now or today()
    V, C, T = m.Visit, m.Community, m.Town
    Wk, Mb = m.Worker.alias(), m.Member.alias()
    q = as_view(scope).scoped(
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
    if count:
        return q.count()
    if after:
        d, i = after
        q = q.where((V.date < d) | ((V.date == d) & (V.id < i)))
    rows = list(q.order_by(V.date.desc(), V.id.desc()).offset(offset or None).limit(limit).dicts())
    days: dict[str, int] = {}
    for r in rows:
        r["kind_label"] = lab(enums.VISIT_KIND, r["kind"])
        is_open = bool(r["demand"]) and not r["answered_date"] and not r["closed_date"] and not r["refused_reason"]
        r["open"] = is_open
        if r["town"] not in days:
            days[r["town"]] = demand_days(r["town"])
        r["deadline"] = r["date"] + dt.timedelta(days=days[r["town"]]) if r["demand"] else None
        r["overdue"] = is_open and r["deadline"] < now
    return rows


def overdue_count(now: dt.date | None = None, scope=None) -> int:
    """Open demands past their town's deadline (:func:`demand_days`) in the view."""
    now = now or today()
    V, C = m.Visit, m.Community
    late = None
    for town_id, town in _view_towns(scope):
        cond = (C.town == town_id) & (V.date < now - dt.timedelta(days=demand_days(town)))
        late = cond if late is None else (late | cond)
    if late is None:
        return 0
    return as_view(scope).scoped(V.select().join(C, on=(V.community == C.id)), V).where(
        _open_demand() & late).count()


# ---------------------------------------------------------------- funding

def funding_rows(year: int, as_of: dt.date | None = None, scope=None) -> list[dict]:
    """Per community in scope (``core.funding.community_funding``): members N, the clause-19
    floor, the year's allocations from the activity sources up to the as-of date, the gap, the
    city/town split of the floor (the town's plugin decides; default 100 % town) and what came
    from the other sources (not counted)."""
    from core import funding

    as_of = as_of or min(dt.date(year, 12, 31), today())
    refs = as_view(scope).communities()
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


def allocations(community_id: int, year: int, scope=None) -> list[dict]:
    FA = m.FundingAllocation
    q = as_view(scope).select(FA).where((FA.community == community_id) & (FA.year == year)).order_by(FA.date, FA.id)
    return [{"id": a.id, "date": a.date, "amount": a.amount, "source": a.source,
             "source_label": lab(enums.FUNDING_SOURCE, a.source), "version": a.version} for a in q]


# ---------------------------------------------------------------- compliance

def _visible_codes(scope=None):
    sids = as_view(scope).community_ids
    if sids is None:
        return None
    return [c for (c,) in m.Community.select(m.Community.code).where(m.Community.id.in_(sorted(sids))).tuples()]


def compliance_matrix(run_id: int, scope=None) -> dict:
    """Rules × communities of a stored run: ``rules`` [{rule, clause, title}], ``communities``
    [{code, name}], ``cells`` {(rule, code): {status: n}}, ``colour`` {(rule, code): red/amber/green/grey}."""
    F = m.StoredFinding
    q = (F.select(F.rule, F.clause, F.community, F.status, fn.COUNT(F.id))
         .where((F.run == run_id) & F.community.is_null(False))
         .group_by(F.rule, F.clause, F.community, F.status))
    codes = _visible_codes(scope)
    if codes is not None:
        q = q.where(F.community.in_(codes))
    cells: dict[tuple, dict] = {}
    clauses: dict[str, int] = {}
    for rule, clause, code, status, n in q.tuples():
        cells.setdefault((rule, code), {})[status] = n
        clauses[rule] = clause
    names = {c.code: c.name for c in m.Community.select(m.Community.code, m.Community.name)
             .where(m.Community.code.in_(sorted({k[1] for k in cells})))} if cells else {}
    comm_list = [{"code": c, "name": names.get(c, c)} for c in sorted({k[1] for k in cells})]
    # roll-ups (a town's or the city's findings, community empty) as columns "@town" / "@"
    towns = _visible_rollups(scope)
    rq = (F.select(F.rule, F.clause, F.town, F.status, fn.COUNT(F.id))
          .where((F.run == run_id) & F.community.is_null())
          .group_by(F.rule, F.clause, F.town, F.status))
    rollups: set = set()
    for rule, clause, town, status, n in rq.tuples():
        if towns is not None and town not in towns:
            continue
        code = "@" + (town or "")
        cells.setdefault((rule, code), {})[status] = n
        clauses[rule] = clause
        rollups.add(town or "")
    for t in sorted(rollups, key=lambda t: (t == "", t)):
        comm_list.append({"code": "@" + t, "name": t or tr("全市", "City")})
    titles = rule_titles()
    rule_list = [{"rule": r, "clause": clauses[r], "title": titles.get(r, r)}
                 for r in sorted(clauses, key=lambda r: (clauses[r] or 0, r))]
    colour = {k: status_colour(v) for k, v in cells.items()}
    return {"rules": rule_list, "communities": comm_list, "cells": cells, "colour": colour}


def _visible_rollups(scope=None):
    """Towns whose roll-up findings the view may show (None: all, the city's included): a town
    only when every one of its communities is in the view."""
    ids_ = as_view(scope).community_ids
    if ids_ is None:
        return None
    by_town: dict[str, set] = {}
    for cid, town in (m.Community.select(m.Community.id, m.Town.name)
                      .join(m.Town, on=(m.Community.town == m.Town.id)).tuples()):
        by_town.setdefault(town, set()).add(cid)
    return {t for t, cids in by_town.items() if cids <= set(ids_)}


def status_colour(counts: dict) -> str:
    if counts.get("fail") or counts.get("error"):
        return "red"
    if counts.get("warn"):
        return "amber"
    if counts.get("pass") or counts.get("info"):
        return "green"
    return "grey"


def rule_titles() -> dict[str, str]:
    from core import plugins

    lang = get_lang()
    reg = plugins.get().registry
    out = {}
    for rid in reg.rule_ids():
        rule = reg.rule_for(rid, None)
        if rule is None:
            variants = reg.rule_variants(rid)
            rule = variants[0] if variants else None
        if rule is not None:
            out[rid] = rule.title(lang)
    return out


def cell_findings(run_id: int, rule: str, community: str, scope=None) -> list[dict]:
    """The findings of one rule in one community (worst first), as the view shows them
    (masked unless the user may see personal data), each with the ``ref`` of its subject."""
    view = as_view(scope)
    F = m.StoredFinding
    if community.startswith("@"):  # a town's (or the city's) roll-up
        town = community[1:] or None
        towns = _visible_rollups(view)
        if towns is not None and town not in towns:
            return []
        where = F.community.is_null() & (F.town.is_null() if town is None else (F.town == town))
    else:
        codes = _visible_codes(view)
        if codes is not None and community not in codes:
            return []
        where = F.community == community
    order = {"error": 0, "fail": 1, "warn": 2, "info": 3, "pass": 4}
    rows = list(F.select().where((F.run == run_id) & (F.rule == rule) & where).dicts())
    for r in rows:
        r["status_label"] = lab(enums.FINDING_STATUS, r["status"])
        try:
            r["evidence"] = json.loads(r["evidence"] or "{}")
        except ValueError:
            r["evidence"] = {"text": r["evidence"]}
        r["ref"] = view.ref(view.subject_table(r["rule"]), r["subject"])
        r["subject"] = view.mask_text(r["subject"])
        r["message"] = view.mask_text(r["message"])
        r["evidence"] = view.mask_json(r["evidence"])
    rows.sort(key=lambda r: (order.get(r["status"], 9), r["subject"]))
    return rows


# Evidence keys that carry record ids.  A rule's evidence names records either as
# ``{"records": [{"table": "visit", "id": 3}, …]}`` or under a key ending in ``_id`` /
# ``_ids`` whose stem is a table name (``meeting_ids``, ``visit_id``, ``member_id`` …).
_ALIASES = {"staff": "worker", "secretary": "worker", "director": "worker", "org": "organization", "branch": "organization",
            "group": "organization", "payment": "dues_payment", "dues": "dues_payment",
            "allocation": "funding_allocation", "decision": "four_two_decision",
            "report": "duty_report", "post": "worker_post", "demand": "visit", "late": "visit",
            "open": "visit", "reception": "visit", "contact": "visit"}


def _table_for(stem: str):
    """The model a key stem names: ``meeting`` → Meeting, ``ungraded_member`` → Member,
    ``secretary`` → Worker (the last words are tried when the whole stem is unknown)."""
    words = stem.lower().split("_")
    for i in range(len(words)):
        s = "_".join(words[i:])
        for cand in (s, s.rstrip("s"), _ALIASES.get(s), _ALIASES.get(s.rstrip("s"))):
            for k in kinds.all_kinds():
                if cand and cand in (k.model._meta.table_name, k.name):
                    return k.model
    return None


def evidence_refs(evidence) -> list[tuple[type, int]]:
    """(model, id) pairs named in a finding's evidence, in order, without repeats."""
    out: list[tuple[type, int]] = []

    def add(model, value):
        if model is None:
            return
        vals = value if isinstance(value, (list, tuple)) else [value]
        for v in vals:
            if isinstance(v, dict) and "id" in v:
                v = v["id"]
            if isinstance(v, int) and not isinstance(v, bool) and (model, v) not in out:
                out.append((model, v))

    def walk(obj):
        if isinstance(obj, dict):
            if "table" in obj and "id" in obj:
                add(_table_for(str(obj["table"])), obj["id"])
            for k, v in obj.items():
                k = str(k)
                if k.endswith("_ids"):
                    add(_table_for(k[:-4]), v)
                elif k.endswith("_id"):
                    add(_table_for(k[:-3]), v)
                elif k in ("records", "ids") and isinstance(v, list):
                    walk(v)
                elif isinstance(v, (dict, list)):
                    walk(v)
        elif isinstance(obj, list):
            for x in obj:
                walk(x)

    walk(evidence or {})
    return out


def describe(model, obj, scope=None) -> str:
    """A one-line description of a record for the drill-down list, as the view shows it
    (ID numbers and phones masked, an age instead of a birth date, unless the user may see them)."""
    view = as_view(scope)
    parts = []
    for name, field in model._meta.fields.items():
        if name in ("id", "version", "initials"):
            continue
        val = getattr(obj, field.column_name if hasattr(field, "rel_model") else name)
        if val in (None, ""):
            continue
        if hasattr(field, "rel_model"):
            val = ref_label(field.rel_model, val)
            if field.rel_model in (m.Member, m.Worker):
                val = view.mask_id(val)
        else:
            val = view.mask_values({name: val})[name]
        parts.append(str(view.mask_text(str(val))))
        if len(parts) >= 6:
            break
    return " ".join(parts)


def evidence_records(evidence, scope=None) -> list[dict]:
    """The records behind a finding (in the view), each {kind, table, id, title, text}."""
    view = as_view(scope)
    out = []
    by_model: dict[type, list[int]] = {}
    for model, pk in evidence_refs(evidence):
        by_model.setdefault(model, []).append(pk)
    for model, pks in by_model.items():
        objs = {o.id: o for o in view.select(model).where(model.id.in_(pks))}
        for pk in pks:
            o = objs.get(pk)
            if o is None:
                continue
            kind = kinds.of_model(model)
            out.append({"kind": kind and kind.name, "table": model._meta.table_name, "id": pk,
                        "title": kind.title() if kind else "", "text": describe(model, o, view)})
    return out


def clause_text(n: int | None) -> str:
    """The text of 第N条 of the policy (昆组字〔2011〕23号), or '' when it is not available."""
    if n is None:
        return ""
    from core import rules

    try:
        return rules.clause_text(int(n))
    except (OSError, ValueError, KeyError):
        return ""


# ---------------------------------------------------------------- generic record lists

def record_rows(kind: str, *, after: int | None = None, limit: int = PAGE, scope=None, offset: int = 0,
                count: bool = False):
    """A page of records of ``kind`` in scope (newest id first); values as stored, FKs as ids,
    with ``_text`` the one-line description.  ``after`` = last id seen (ids smaller follow)."""
    model = kinds.get(kind).model
    view = as_view(scope)
    q = view.select(model)
    if count:
        return q.count()
    if after:
        q = q.where(model.id < after)
    rows = []
    for o in q.order_by(model.id.desc()).offset(offset or None).limit(limit):
        rows.append({"id": o.id, "version": o.version, "_text": describe(model, o, view)})
    return rows


def record_count(kind: str, scope=None) -> int:
    return as_view(scope).select(kinds.get(kind).model).count()


# ---------------------------------------------------------------- paged sources for the lazy table

def key_id(row: dict):
    return row["id"]


def key_date_id(row: dict):
    return (row["date"], row["id"])


class RowSource:
    """A keyset-paged source (``count``/``page``/``seek``, as ``tui.widgets.lazytable`` wants)
    over one of the list functions above: ``RowSource(visit_rows, key_date_id, open_only=True)``.
    Rows are ``(key, row dict)``."""

    def __init__(self, fn, key=key_id, **filters):
        self.fn = fn
        self.key = key
        self.filters = filters

    def count(self) -> int:
        return self.fn(count=True, **self.filters)

    def page(self, after_key, limit: int) -> list[tuple]:
        return [(self.key(r), r) for r in self.fn(after=after_key, limit=limit, **self.filters)]

    def seek(self, after_key, n: int):
        rows = self.fn(after=after_key, limit=1, offset=max(0, n - 1), **self.filters)
        return self.key(rows[0]) if rows else None

    def first(self, limit: int = PAGE) -> tuple[int, list[tuple]]:
        """(count, first block) — call in a worker, hand to ``LazyTable.set_source``."""
        return self.count(), self.page(None, limit)
