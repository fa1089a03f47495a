"""Organizations and communities (党组织与社区): the organization tree with its member
counts and verdicts, organization search and choices, an organization's members, the
communities of a view and the narrowings a user may choose."""
from __future__ import annotations

from core import enums, roster
from core import models as m
from core.read._sql import _dicts, _in, _rows, _scalar, _scope_sql, prefix_condition
from core.read.labels import lab
from core.view import View


# ---------------------------------------------------------------- communities and the narrowings

def scope_choices(principal) -> list[tuple[str, str | None, str | None]]:
    """(label, town, community) the user may narrow the view to (the whole scope of
    ``principal``, whatever the current narrowing)."""
    from core.i18n import tr

    view = View.of(principal)
    refs = view.communities()
    out: list[tuple[str, str | None, str | None]] = []
    if view.everything:
        out.append((tr("全市", "whole city"), None, None))
    else:
        out.append((tr("我的范围", "my scope"), None, None))
    towns = []
    for ref in refs:
        if ref.town not in towns:
            towns.append(ref.town)
    if len(towns) > 1 or view.everything:
        for t in towns:
            out.append((tr("区镇 {t}", "town {t}", t=t), t, None))
    for ref in refs:
        out.append((f"  {ref.name} ({ref.code}, {ref.town})", ref.town, ref.code))
    return out


def community_name(code: str) -> str | None:
    """The name of the community ``code`` (reference data: no view)."""
    return _scalar("SELECT name FROM community WHERE code = ?", [code])


def community_town(code: str) -> str | None:
    """The name of the town of the community ``code`` (reference data: no view)."""
    return _scalar("SELECT t.name FROM community c JOIN town t ON t.id = c.town_id WHERE c.code = ?", [code])


def communities(view: View) -> list[dict]:
    """The view's communities (for selects), by code."""
    q = view.select(m.Community, m.Community.id, m.Community.code, m.Community.name).order_by(m.Community.code)
    return [{"id": c.id, "code": c.code, "name": c.name} for c in q]


def community_by_code(view: View, code: str):
    c = m.Community.get_or_none(m.Community.code == code)
    if c is None or not view.contains(c.id):
        return None
    return {"id": c.id, "code": c.code, "name": c.name}


# ---------------------------------------------------------------- organizations

def org_subtree(org_id: int) -> list[int]:
    """The organization and every organization below it (one query per level).  The
    structure only — callers read the records below through their view."""
    out = [org_id]
    frontier = [org_id]
    while frontier:
        cond, params = _in(frontier)
        frontier = [r[0] for r in _rows(f"SELECT id FROM organization WHERE parent_id IN {cond}", params)]
        out.extend(frontier)
    return out


def org_by_code(view: View, code: str):
    o = view.select(m.Organization).where(m.Organization.code == code).first()
    return None if o is None else {"id": o.id, "code": o.code, "name": o.name, "kind": o.kind}


def org_choices(view: View, kinds=("committee", "general_branch", "branch", "group")) -> list[dict]:
    """Organizations in the view (for selects), ordered by code."""
    O = m.Organization
    q = view.select(O, O.id, O.code, O.name, O.kind).where(O.kind.in_(list(kinds))).order_by(O.code)
    return [{"id": o["id"], "code": o["code"], "name": o["name"], "kind": o["kind"],
             "kind_label": lab(enums.ORG_KIND, o["kind"])} for o in q.dicts()]


def org_members(view: View, org_id: int) -> list[dict]:
    """Active members of an organization and of the organizations below it in the view, by
    name; ``id_number`` is the reference a form is opened with, ``id_shown`` what to show."""
    sub = org_subtree(org_id)
    Mb = m.Member
    q = view.select(Mb, Mb.id, Mb.name, Mb.id_number, Mb.organization, Mb.dues_class,
                    Mb.monthly_income, Mb.joined_date, Mb.full_date, Mb.management_class
                    ).where(roster.in_orgs_today(sub)).order_by(Mb.name, Mb.id)
    rows = list(q.dicts())
    for r in rows:
        r["id_shown"] = view.mask_id(r["id_number"])
    return rows


def org_search(view: View, text: str, limit: int = 50) -> list[tuple]:
    """Organizations in the view whose name or code starts with ``text`` (all when empty):
    (id, code, name, kind, community name)."""
    where, params = _scope_sql("o.community_id", view)
    text = text.strip()
    if text:
        c1, p1 = prefix_condition("o.name", text)
        c2, p2 = prefix_condition("o.code", text)
        where += f" AND ({c1} OR {c2})"
        params += p1 + p2
    return _rows(f"SELECT o.id, o.code, o.name, o.kind, c.name FROM organization o LEFT JOIN community c "
                 f"ON c.id = o.community_id WHERE {where} ORDER BY o.code LIMIT ?", params + [limit])


# ---------------------------------------------------------------- the organization tree

def org_tree(view: View, year: int | None = None) -> dict:
    """Organizations in the view with direct and subtree member counts and the
    ``org.kind_size`` verdict (the rule itself, run unstored over the view).

    Returns {"communities": [(id, code, name, town)], "orgs": [dict], "verdicts": {code: (status, message)},
    "verdict_error": str|None}.
    """
    where, params = _scope_sql("c.id", view)
    communities = _rows(f"SELECT c.id, c.code, c.name, t.name FROM community c JOIN town t ON t.id = c.town_id "
                        f"WHERE {where} ORDER BY t.name, c.code", params)
    where_o, params_o = _scope_sql("o.community_id", view)
    orgs = _dicts(f"SELECT o.id, o.code, o.name, o.kind, o.parent_id, o.community_id, o.approval_no "
                  f"FROM organization o WHERE {where_o} ORDER BY o.code", params_o)
    counts: dict = {}
    ids = [o["id"] for o in orgs]
    for i in range(0, len(ids), 5000):  # members on the roster today, in each organization
        counts.update(roster.org_member_counts_today(ids[i:i + 5000]))
    by_id = {o["id"]: o for o in orgs}
    for o in orgs:
        o["members"] = int(counts.get(o["id"], 0))
        o["children"] = []
    for o in orgs:
        p = by_id.get(o["parent_id"])
        if p is not None:
            p["children"].append(o["id"])

    def subtotal(o):
        if "subtree" not in o:
            o["subtree"] = o["members"] + sum(subtotal(by_id[c]) for c in o["children"])
        return o["subtree"]

    for o in orgs:
        subtotal(o)
    verdicts: dict = {}
    error = None
    try:
        from core.rules import run_check

        result = run_check(year=year, town=view.town, community=view.community, rule_ids=["org.kind_size"],
                           principal=view.principal, store=False)
        for f in result.findings:
            if f.rule == "org.kind_size":
                verdicts[f.subject] = (f.status, f.message)
    except Exception as exc:  # no such rule, or it raised: the tree still shows
        error = str(exc)
    return {"communities": communities, "orgs": orgs, "verdicts": verdicts, "verdict_error": error}
