"""Community workers (社区工作者): the list with current posts and the year's training,
one worker's posts and trainings."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from peewee import SQL, fn

from core import enums, ids
from core import models as m
from core.dates import today
from core.read._sql import _prefix
from core.read.labels import lab
from core.read.paging import PAGE
from core.view import View


def _current_posts(worker_ids, on: dt.date | None = None) -> dict[int, list[str]]:
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


def worker_rows(view: View, search: str = "", *, year: int | None = None, after: int | None = None,
                limit: int = PAGE, community_id: int | None = None, offset: int = 0, count: bool = False):
    """Workers in the view (by id; ``after`` the last id seen), with current posts and the year's training."""
    year = year or today().year
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
    posts = _current_posts(wids)
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


def worker_detail(view: View, worker_id: int, year: int | None = None) -> dict | None:
    """A worker with every post (history) and trainings (newest first); ``id_number`` is the
    reference a form is opened with, ``id_shown`` / ``phone`` what to show."""
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


def worker_by_id_number(view: View, number: str):
    """{id, name, id_number} of the worker with this ID number (normalized) in the view, or None."""
    n = ids.normalize(number)
    w = view.select(m.Worker).where(m.Worker.id_number == n).first()
    return None if w is None else {"id": w.id, "name": w.name, "id_number": w.id_number}
