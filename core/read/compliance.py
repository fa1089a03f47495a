"""Compliance (合规检查): the rules × communities matrix of a stored check run, one cell's
findings and the records behind a finding, the clause texts, and the summary of the
latest run covering a view (or of a run made now).  The runs themselves are
:mod:`core.findings` (``find_run``) and :func:`core.rules.run_check`."""
from __future__ import annotations

import datetime as dt
import json

from core import enums, kinds
from core import models as m
from core.i18n import get_lang, tr
from core.read.labels import lab
from core.read.records import describe
from core.view import View


# ---------------------------------------------------------------- the matrix and its cells

def _visible_codes(view: View):
    sids = view.community_ids
    if sids is None:
        return None
    return [c for (c,) in m.Community.select(m.Community.code).where(m.Community.id.in_(sorted(sids))).tuples()]


def compliance_matrix(view: View, run_id: int) -> dict:
    """Rules × communities of a stored run: ``rules`` [{rule, clause, title}], ``communities``
    [{code, name, town, kind}] (``kind``: ``community``, or ``rollup`` for a town's or the city's
    own findings, code ``@town`` / ``@``), ``cells`` {(rule, code): {status: n}}, ``colour`` {(rule, code): red/amber/green/grey}.
    Read from the run's counts (:func:`core.findings.run_counts`), not its findings."""
    from core.findings import run_counts

    codes = _visible_codes(view)
    towns = _visible_rollups(view)
    cells: dict[tuple, dict] = {}
    clauses: dict[str, int] = {}
    rollups: set = set()
    town_of: dict[str, str] = {}
    for rule, clause, status, town, code, n in run_counts(run_id, codes):
        if code is None:  # roll-ups (a town's or the city's findings) as columns "@town" / "@"
            if towns is not None and town not in towns:
                continue
            rollups.add(town or "")
            code = "@" + (town or "")
        else:
            town_of[code] = town or ""
        counts = cells.setdefault((rule, code), {})
        counts[status] = counts.get(status, 0) + n
        clauses[rule] = clause
    mine = sorted({k[1] for k in cells if not k[1].startswith("@")})
    names = {c.code: c.name for c in m.Community.select(m.Community.code, m.Community.name)
             .where(m.Community.code.in_(mine))} if mine else {}
    comm_list = [{"code": c, "name": names.get(c, c), "town": town_of[c], "kind": "community"} for c in mine]
    for t in sorted(rollups, key=lambda t: (t == "", t)):
        comm_list.append({"code": "@" + t, "name": t or tr("全市", "City"), "town": t, "kind": "rollup"})
    titles = rule_titles()
    rule_list = [{"rule": r, "clause": clauses[r], "title": titles.get(r, r)}
                 for r in sorted(clauses, key=lambda r: (clauses[r] or 0, r))]
    colour = {k: status_colour(v) for k, v in cells.items()}
    return {"rules": rule_list, "communities": comm_list, "cells": cells, "colour": colour}


#: Communities a compliance grid shows as columns; a wider view is shown one column per town.
GRID_MAX_COMMUNITIES = 120


def grid_of(matrix: dict, town: str | None = None) -> dict:
    """What the compliance grid shows of ``matrix`` (:func:`compliance_matrix`): the matrix itself
    when it has at most :data:`GRID_MAX_COMMUNITIES` communities; with ``town``, that town's
    communities and its own findings; otherwise one column per town (``kind`` ``town``, code
    ``#town``: its communities' counts added up) and the roll-ups.  A terminal cannot show a
    province's 3,500 community columns, nor draw them quickly."""
    cols = matrix["communities"]
    if town is not None:
        return dict(matrix, communities=[c for c in cols if c["town"] == town], by_town=False)
    if sum(c["kind"] == "community" for c in cols) <= GRID_MAX_COMMUNITIES:
        return dict(matrix, by_town=False)
    towns: dict[str, list] = {}
    for c in cols:
        if c["kind"] == "community":
            towns.setdefault(c["town"], []).append(c["code"])
    cells, colour = dict(matrix["cells"]), dict(matrix["colour"])
    for t, codes in towns.items():
        for r in matrix["rules"]:
            total: dict = {}
            for code in codes:
                for status, n in matrix["cells"].get((r["rule"], code), {}).items():
                    total[status] = total.get(status, 0) + n
            if total:
                cells[(r["rule"], "#" + t)] = total
                colour[(r["rule"], "#" + t)] = status_colour(total)
    cols = [{"code": "#" + t, "name": t, "town": t, "kind": "town", "communities": len(towns[t])}
            for t in sorted(towns)] + [c for c in cols if c["kind"] == "rollup"]
    return dict(matrix, communities=cols, cells=cells, colour=colour, by_town=True)


def _visible_rollups(view: View):
    """Towns whose roll-up findings the view may show (None: all, the city's included): a town
    only when every one of its communities is in the view."""
    ids_ = view.community_ids
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
    """{rule id: title} of the registered rules, in the interface language."""
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


def cell_findings(view: View, run_id: int, rule: str, community: str) -> list[dict]:
    """The findings of one rule in one community (worst first), as the view shows them
    (masked unless the user may see personal data), each with the ``ref`` of its subject and
    ``subject_shown``: a person's name beside the masked number, a place's name beside its code."""
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
    from types import SimpleNamespace

    from core.evidence import Names

    names = Names(view)  # people and places by name beside their (masked) number or code
    raw = [SimpleNamespace(rule=r["rule"], subject=r["subject"]) for r in rows]
    names.prime(raw)
    for r, f in zip(rows, raw):
        r["subject_shown"] = names.subject(f)
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


# ---------------------------------------------------------------- the records behind a finding

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


def evidence_records(view: View, evidence) -> list[dict]:
    """The records behind a finding (in the view), each {kind, table, id, title, text}."""
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
                        "title": kind.title() if kind else "", "text": describe(view, model, o)})
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


# ---------------------------------------------------------------- summaries of a run

def findings_summary(findings) -> dict:
    """Counts of fail/warn/error by clause and by rule from a list of findings."""
    by_clause: dict = {}
    by_rule: dict = {}
    totals: dict = {}
    for f in findings:
        totals[f.status] = totals.get(f.status, 0) + 1
        if f.status not in ("fail", "warn", "error"):
            continue
        c = by_clause.setdefault(f.clause, {"fail": 0, "warn": 0, "error": 0})
        c[f.status] += 1
        r = by_rule.setdefault(f.rule, {"fail": 0, "warn": 0, "error": 0, "clause": f.clause})
        r[f.status] += 1
    return {"by_clause": by_clause, "by_rule": by_rule, "totals": totals}


def last_check(view: View, year: int) -> dict | None:
    """The latest stored check run covering the view (:func:`core.findings.find_run`), summarised
    from its counts over the view's communities; None when there is none."""
    from core.findings import find_run, run_counts

    ids_ = view.community_ids
    run = find_run(ids_, year)
    if run is None:
        return None
    whole = json.loads(run.counts or "{}").get("by_rule") if ids_ is None and not (view.community or view.town) \
        else None
    if whole is not None:  # the whole run, counted when it was stored
        rows = whole
    else:  # the view's communities' counts
        codes = [view.community] if view.community else _visible_codes(view)
        rows = [(clause, rule, status, n) for rule, clause, status, _t, _c, n
                in run_counts(run.id, codes, view.town, rollups=False)]
    by_clause: dict = {}
    by_rule: dict = {}
    totals: dict = {}
    for clause, rule, status, n in rows:
        totals[status] = totals.get(status, 0) + n
        if status not in ("fail", "warn", "error"):
            continue
        c = by_clause.setdefault(clause, {"fail": 0, "warn": 0, "error": 0})
        c[status] += n
        r = by_rule.setdefault(rule, {"fail": 0, "warn": 0, "error": 0, "clause": clause})
        r[status] += n
    return {"by_clause": by_clause, "by_rule": by_rule, "totals": totals, "run_id": run.id,
            "at": run.finished_at or run.started_at, "as_of": run.as_of, "stored": True}


def run_check_summary(view: View, year: int) -> dict:
    """Run the rules over the view now (stored, as the view's user), and summarise the findings."""
    from core.rules import run_check

    result = run_check(year=year, town=view.town, community=view.community, principal=view.principal, store=True,
                       light=True)  # the summary counts; the stored run keeps the evidence
    out = findings_summary(result.findings)
    out.update({"run_id": result.run_id, "at": dt.datetime.now(), "as_of": result.as_of, "stored": False})
    return out
