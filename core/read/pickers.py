"""Pickers (选择器): the members, workers and organizations a form field may refer to.

A form field that refers to a member, a worker or an organization is filled by
choosing from a list: the user types a name, pinyin initials or an org code
(an ID-number prefix only for users with full personal data), and chooses one
of the matches inside their view.  Every match is a :class:`Choice`: the
record's id, its natural key (the ID number or the org code the write path
takes), its name, and what may be shown beside the name (the ID number as the
view shows it, the org code).

Also here: the members list of the records screen (labelled columns, by name).
"""
from __future__ import annotations

from dataclasses import dataclass

from core import enums, ids, roster
from core import models as m
from core.i18n import get_lang
from core.pinyin import initials as pinyin_initials
from core.read._sql import _in, _rows, prefix_condition
from core.read.members import MemberFilter, member_page
from core.view import View

#: the reference targets (``ref:<target>`` / ``idref:<target>``) that have a picker
TARGETS = ("member", "worker", "org")


@dataclass(frozen=True)
class Choice:
    """One match: ``id``, ``key`` (the natural key a form stores), ``name``, ``shown``
    (the masked ID number or the org code), ``note`` (community, org kind, 已转出 …)."""
    id: int
    key: str
    name: str
    shown: str
    note: str = ""

    @property
    def label(self) -> str:
        """What a form shows for the chosen record: the name with the shown key beside it."""
        return f"{self.name}  {self.shown}" if self.shown else self.name


def _kind_of(text: str) -> str:
    t = text.strip()
    if not t:
        return ""
    if t[0].isdigit() and all(ch.isdigit() or ch in "xX" for ch in t):
        return "id"
    if t.isascii() and t.isalpha():
        return "initials"
    return "name"


def _id_allowed(view: View, text: str) -> bool:
    """Digits search ID numbers by prefix only for users with full personal data; others
    may give a whole (18-character) number, which names one person they already know."""
    return view.allows_id_prefix_search or len(text.strip()) == 18


def pick(view: View, target: str, text: str, limit: int = 50) -> list[Choice]:
    """Matches of ``text`` among the records of ``target`` (member, worker, org) in ``view``."""
    if target == "member":
        return pick_members(view, text, limit)
    if target == "worker":
        return pick_workers(view, text, limit)
    if target == "org":
        return pick_orgs(view, text, limit)
    raise KeyError(target)


def pick_members(view: View, text: str, limit: int = 50) -> list[Choice]:
    """Members in the view (those transferred out too, marked) by name, initials, or ID prefix."""
    text = (text or "").strip()
    if _kind_of(text) == "id" and not _id_allowed(view, text):
        return []
    f = MemberFilter(view, text=text, status="all", allow_id_search=True)
    rows = member_page(f, None, limit)  # (key, id, name, id_number shown, sex, class, full, active, org, community)
    real = _member_numbers([r[1] for r in rows])
    lang = get_lang()
    out = []
    for r in rows:
        note = r[8] or r[9] or ""
        if not r[7]:
            note = ("已转出 " if lang == "zh" else "left ") + note
        out.append(Choice(r[1], real.get(r[1], ""), r[2], view.mask_id(real.get(r[1], "")), note.strip()))
    return out


def _member_numbers(member_ids) -> dict:
    if not member_ids:
        return {}
    c, p = _in(member_ids)
    return dict(_rows(f"SELECT m.id, m.id_number FROM member m WHERE m.id IN {c}", p))


def pick_workers(view: View, text: str, limit: int = 50) -> list[Choice]:
    """Community workers in the view by name, initials, or ID prefix."""
    from core.read._sql import _prefix

    text = (text or "").strip()
    W = m.Worker
    q = view.scoped(W.select(W.id, W.name, W.id_number, m.Community.name.alias("community_name"))
                    .join(m.Community, on=(W.community == m.Community.id)).switch(W), W)
    kind = _kind_of(text)
    if kind == "id":
        if not _id_allowed(view, text):
            return []
        q = q.where(_prefix(W.id_number, text.upper())).order_by(W.id_number)
    elif kind == "initials":
        q = q.where(_prefix(W.initials, text.lower())).order_by(W.initials, W.id)
    elif kind == "name":
        q = q.where(_prefix(W.name, text)).order_by(W.name, W.id)
    else:
        q = q.order_by(W.name, W.id)
    return [Choice(r["id"], r["id_number"], r["name"], view.mask_id(r["id_number"]), r["community_name"] or "")
            for r in q.limit(limit).dicts()]


def pick_orgs(view: View, text: str, limit: int = 50) -> list[Choice]:
    """Organizations in the view by name or code prefix, or by the initials of the name."""
    from core.read._sql import _scope_sql

    text = (text or "").strip()
    lang = get_lang()
    where, params = _scope_sql("o.community_id", view)
    sql = ("SELECT o.id, o.code, o.name, o.kind, c.name FROM organization o LEFT JOIN community c "
           "ON c.id = o.community_id WHERE ")
    if text:
        c1, p1 = prefix_condition("o.name", text)
        c2, p2 = prefix_condition("o.code", text)
        c3, p3 = prefix_condition("o.code", text.upper())
        rows = _rows(f"{sql}{where} AND ({c1} OR {c2} OR {c3}) ORDER BY o.code LIMIT ?", params + p1 + p2 + p3 + [limit])
        if _kind_of(text) == "initials" and len(rows) < limit:  # the initials of the name (few orgs: in Python)
            seen = {r[0] for r in rows}
            low = text.lower()
            for r in _rows(f"{sql}{where} ORDER BY o.code", params):
                if r[0] not in seen and pinyin_initials(r[2]).startswith(low):
                    rows.append(r)
                    if len(rows) >= limit:
                        break
    else:
        rows = _rows(f"{sql}{where} ORDER BY o.code LIMIT ?", params + [limit])
    return [Choice(r[0], r[1], r[2], r[1], " ".join(x for x in (enums.ORG_KIND.label(r[3], lang), r[4] or "") if x))
            for r in rows]


#: target → (model, natural-key column); an ID number is normalized and shown as the view allows
_KEYS = {"member": (m.Member, "id_number"), "worker": (m.Worker, "id_number"), "org": (m.Organization, "code")}


def describe(view: View, target: str, *, pk: int | None = None, key: str | None = None) -> Choice | None:
    """The :class:`Choice` of one record of ``target`` in the view, by id or natural key (None: not seen)."""
    if target not in _KEYS:
        return None
    model, key_name = _KEYS[target]
    key_field = getattr(model, key_name)
    is_id_number = key_name == "id_number"
    q = view.select(model, model.id, key_field, model.name)
    if pk is not None:
        q = q.where(model.id == pk)
    else:
        q = q.where(key_field == (ids.normalize(key or "") if is_id_number else (key or "")))
    r = q.dicts().first()
    if r is None:
        return None
    k = r[key_name]
    return Choice(r["id"], k, r["name"], view.mask_id(k) if is_id_number else k)


# ---------------------------------------------------------------- the records screen's members list

def member_list_rows(view: View, *, after=None, limit: int = 200, offset: int = 0, count: bool = False):
    """Members in the view (those transferred out too) by name, then id: dicts with ``id``,
    ``version``, ``name``, ``id_shown``, ``sex_label`` (男/女), ``class_label``, ``org_name``
    and ``_key`` = (name, id) for the keyset (``after``)."""
    conds, params = [], []
    if view.community_ids is not None:
        c, p = _in(view.community_ids)
        conds.append(roster.in_communities_sql("m", c))
        params += p
    where = " AND ".join(conds) or "1 = 1"
    if count:
        return int(_rows(f"SELECT COUNT(*) FROM member m WHERE {where}", params)[0][0])
    extra, p2 = "", []
    if after is not None:
        extra, p2 = " AND (m.name > ? OR (m.name = ? AND m.id > ?))", [after[0], after[0], after[1]]
    rows = _rows(f"SELECT m.id, m.version, m.name, m.id_number, m.sex, m.management_class, m.active, o.name "
                 f"FROM member m LEFT JOIN organization o ON {roster.org_join_sql('m', 'o')} "
                 f"WHERE {where}{extra} ORDER BY m.name, m.id LIMIT ? OFFSET ?",
                 params + p2 + [limit, offset or 0])
    lang = get_lang()
    out = []
    for r in rows:
        d = {"id": r[0], "version": r[1], "name": r[2], "id_shown": view.mask_id(r[3]),
             "sex_label": enums.SEX.label(r[4], lang) if r[4] else "",
             "class_label": enums.MEMBER_CLASS.label(r[5], lang) if r[5] else "", "active": bool(r[6]),
             "org_name": r[7] or "", "_key": (r[2], r[0])}
        d["_text"] = " ".join(x for x in (d["name"], d["id_shown"], d["sex_label"], d["class_label"], d["org_name"]) if x)
        out.append(d)
    return out
