"""The findings store (检查结果库): every stored ``dangjian check`` run and its findings.

A run (:class:`core.models.CheckRun`) records what it covered in columns: the
``town``, the ``street`` (of that town) and the ``community`` it was limited
to — by ``--town`` / ``--community`` or by the scope of the user who ran it —
and the ``rules`` it was limited to (``--rule``).  A column left empty is not
a limit: a whole city's run has all four empty.

:func:`find_run` is the one way to the latest run that covers a view (the
dashboard, the compliance screen, scoring and reports all use it): a run
covers a set of communities when every limit it has holds for all of them,
and a run limited to some rules covers nothing.

Findings — fresh from the rule engine or read from the store — carry full subjects
(ID numbers too); :func:`shown` is how every output shows them to a user: through the
user's :class:`core.view.View` (masked unless full personal data) and with ``ref``, the
stable opaque id of the subject's record that keeps subjects apart when their masked
ID numbers coincide.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from core.api import Finding


@dataclass(frozen=True)
class RunScope:
    """What a run covered: ``town``, ``street`` (a street of ``town``) and ``community``
    (None: not limited), and the rule ids it was limited to (None: every rule)."""
    town: str | None = None
    street: str | None = None
    community: str | None = None
    rules: tuple[str, ...] | None = None

    @property
    def whole_city(self) -> bool:
        return self.town is None and self.street is None and self.community is None


def run_scope(town: str | None = None, community: str | None = None, rule_ids=None, principal=None) -> RunScope:
    """The scope of a run over ``town`` (name) / ``community`` (code) by ``principal``: the
    filters and the user's scope together.  A community brings its town and street."""
    from core.models import Community, Street, Town

    role = getattr(principal, "role", None) if principal is not None else None
    limited = principal is not None and principal.scope_community_ids() is not None
    street = None
    if limited and role == "community" and community is None:
        community = principal.scope
    if limited and role == "street":
        town, _, street = principal.scope.partition("/")
    elif limited and role == "town" and town is None:
        town = principal.scope
    if community is not None:
        c = Community.get_or_none(Community.code == community)
        if c is not None:
            town = Town.get_by_id(c.town_id).name
            street = Street.get_by_id(c.street_id).name if c.street_id else None
    rules = tuple(sorted(set(rule_ids))) if rule_ids else None
    return RunScope(town, street, community, rules)


def shown(view, findings, evidence_texts: list | None = None, holds: list | None = None, refs: list | None = None) -> list:
    """The findings as ``view`` shows them: subject, message and evidence with ID numbers
    and phones masked unless the user has full personal data, and ``ref`` set to the id of
    the subject's record (:meth:`core.view.View.finding_ref`).  ``evidence_texts``: each
    finding's evidence already encoded (:func:`evidence_texts`), to tell cheaply which
    evidence needs masking at all; ``holds``: that answer already given, one bool a finding
    (:meth:`core.view.View.holding_personal`); ``refs``: the refs already made, one a finding."""
    return list(iter_shown(view, findings, evidence_texts, holds, refs=refs))


def iter_shown(view, findings, evidence_texts: list | None = None, holds: list | None = None, block: int = 20_000,
               refs: list | None = None):
    """:func:`shown`, made a block at a time as they are read (a writer that streams a city's
    ~200k findings never holds a second copy of them all)."""
    if holds is None and evidence_texts is not None:
        holds = view.holding_personal(evidence_texts)
    for part, subjects, messages, evidence, refs in shown_blocks(view, findings, holds, block=block, refs=refs):
        yield from [Finding(f.rule, f.clause, f.status, f.town, f.community, s, m, e, r)
                    for f, s, m, e, r in zip(part, subjects, messages, evidence, refs)]


def shown_blocks(view, findings, holds: list | None = None, *, block: int = 20_000, evidence: bool = True,
                 refs: list | None = None):
    """What :func:`shown` changes of ``findings``, ``block`` findings at a time, as columns:
    ``(findings, subjects, messages, evidence, refs)`` -- the block of findings as they are,
    then their subjects and messages masked, their evidence masked (None with ``evidence``
    false: a writer that has the evidence as text already) and the ``ref`` of each.  ``holds``
    as for :func:`shown`; ``refs``: the refs already made (:meth:`core.view.View.finding_refs`),
    one a finding."""
    full = view.full_personal_data
    for i in range(0, len(findings), block):
        part = findings[i:i + block]
        r = refs[i:i + block] if refs is not None else view.finding_refs(part)
        if full:
            subjects = [f.subject for f in part]
            messages = [f.message for f in part]
        else:
            subjects = view.mask_texts([f.subject for f in part])
            messages = view.mask_texts([f.message for f in part])
        ev = None
        if evidence:
            if full:
                ev = [f.evidence for f in part]
            else:
                js = view.mask_json
                h = [True] * len(part) if holds is None else holds[i:i + block]
                ev = [js(f.evidence) if x else f.evidence for f, x in zip(part, h)]
        yield part, subjects, messages, ev, r


def evidence_encoder():
    """The one encoding of a finding's evidence as text (stored, and in the JSON output): compact JSON."""
    from core.output import json_encoder

    return json_encoder(str, separators=(",", ":"))


def evidence_texts(findings) -> list[str]:
    """Each finding's evidence as compact JSON text (what is stored)."""
    dumps = evidence_encoder()
    return [dumps(f.evidence) for f in findings]


def store_run(findings, year: int, as_of: dt.date, scope: RunScope, principal=None, evidence_json=None) -> int:
    """Keep a run's findings (bulk insert); returns the CheckRun id."""
    from core import db
    from core.models import CheckRun, StoredCount, StoredFinding

    counts: dict = {}
    by: dict = {}
    cells = count_cells(findings)
    for rule, clause, status, _town, _community, n in cells:
        counts[status] = counts.get(status, 0) + n
        by[(clause, rule, status)] = by.get((clause, rule, status), 0) + n
    # the whole run by clause, rule and status: what a summary of the whole run reads (the dashboard)
    counts["by_rule"] = [[c, r, st, n] for (c, r, st), n in by.items()]
    now = dt.datetime.now()
    with db.write_tx():
        run = CheckRun.create(started_at=now, finished_at=now, year=year, as_of=as_of, town=scope.town,
                              street=scope.street, community=scope.community,
                              rules=",".join(scope.rules) if scope.rules else None,
                              user=getattr(principal, "login", None), counts=json.dumps(counts))
        table = StoredFinding._meta.table_name
        if evidence_json is None:
            evidence_json = evidence_texts(findings)
        rows = ((run.id, f.rule, f.clause, f.status, f.town, f.community, str(f.subject)[:64], f.message, ev, 1)
                for f, ev in zip(findings, evidence_json))  # a generator: never a second list of a city's rows
        db.copy_in(table, ("run_id", "rule", "clause", "status", "town", "community", "subject", "message",
                           "evidence", "version"), rows)
        db.copy_in(StoredCount._meta.table_name, ("run_id", "rule", "clause", "status", "town", "community", "n",
                                                  "version"),
                   ((run.id, *cell, 1) for cell in cells))
        prune_runs(scope)
    return run.id


def count_cells(findings) -> list[tuple]:
    """``findings`` counted by rule, clause, status, town and community: ``(rule, clause, status,
    town, community, n)`` rows, as a stored run keeps them (:func:`run_counts`)."""
    cells: dict = {}
    for f in findings:
        k = (f.rule, f.clause, f.status, f.town, f.community)
        cells[k] = cells.get(k, 0) + 1
    return [(*k, n) for k, n in cells.items()]


def _same(field, value):
    return field.is_null() if value is None else (field == value)


def prune_runs(scope: RunScope) -> int:
    """Keep the newest ``[check] keep_runs`` runs of one scope (0 keeps all); returns how many went.

    A whole city's run holds ~200k findings, so a daily cron job would grow the
    database without bound; the counts of the runs kept give the trend.
    """
    from core import config
    from core.models import CheckRun, StoredCount, StoredFinding

    keep = int(config.get().section("check").get("keep_runs", 20))
    if keep <= 0:
        return 0
    rules = ",".join(scope.rules) if scope.rules else None
    old = [r for (r,) in CheckRun.select(CheckRun.id)
           .where(_same(CheckRun.town, scope.town), _same(CheckRun.street, scope.street),
                  _same(CheckRun.community, scope.community), _same(CheckRun.rules, rules))
           .order_by(CheckRun.id.desc()).offset(keep).tuples()]
    if old:
        StoredFinding.delete().where(StoredFinding.run.in_(old)).execute()
        StoredCount.delete().where(StoredCount.run.in_(old)).execute()
        CheckRun.delete().where(CheckRun.id.in_(old)).execute()
    return len(old)


def _common_place(community_ids) -> tuple[str | None, str | None, str | None]:
    """(town, street, community code) shared by every one of the communities (None where they differ)."""
    from peewee import JOIN

    from core.models import Community, Street, Town

    places = set()
    ids = sorted(community_ids)
    for i in range(0, len(ids), 500):
        places.update(Community.select(Town.name, Street.name, Community.code)
                      .join(Town, on=(Community.town == Town.id)).switch(Community)
                      .join(Street, JOIN.LEFT_OUTER, on=(Community.street == Street.id))
                      .where(Community.id.in_(ids[i:i + 500])).tuples())
    towns = {p[0] for p in places}
    town = next(iter(towns)) if len(towns) == 1 else None
    streets = {p[1] for p in places}
    street = next(iter(streets)) if town is not None and len(streets) == 1 else None
    community = next(iter(places))[2] if len(places) == 1 else None
    return town, street, community


def _holds(limit, value):
    """A run's ``limit`` column holds for a view whose communities all share ``value`` (None: they differ)."""
    return limit.is_null() if value is None else (limit.is_null() | (limit == value))


def find_run(scope, year: int | None = None, *, as_of: dt.date | None = None, current: bool = False):
    """The latest stored :class:`CheckRun` that covers a view, or None (findings not loaded).

    ``scope`` is the view: the community ids it shows (a set: ``View.community_ids`` of
    :class:`core.view.View`, the user's scope narrowed by town and community), or None for
    the whole city, which only a whole city's run covers.  A run covers the view when each of its
    limits (town, street, community) holds for every community of the view; runs limited
    to some rules are partial and never used.  ``year`` and ``as_of``: runs of that year /
    as-of date only.  ``current``: None unless nothing has been written since the run
    started (the audit log's latest entry is older), so the run still describes the data.
    """
    from peewee import fn

    from core.models import AuditLog, CheckRun

    if scope is None:
        town = street = community = None
    else:
        if not scope:
            return None
        town, street, community = _common_place(scope)
    q = CheckRun.select().where(CheckRun.rules.is_null(), _holds(CheckRun.town, town),
                                _holds(CheckRun.street, street), _holds(CheckRun.community, community))
    if year is not None:
        q = q.where(CheckRun.year == year)
    if as_of is not None:
        q = q.where(CheckRun.as_of == as_of)
    run = q.order_by(CheckRun.id.desc()).first()
    if run is not None and current:
        changed = AuditLog.select(fn.MAX(AuditLog.at)).scalar()
        if changed is not None and run.started_at is not None and changed >= run.started_at:
            return None
    return run


def run_counts(run_id: int, communities=None, town: str | None = None, *, rollups: bool = True) -> list[tuple]:
    """A stored run's findings counted, as they were counted when it was stored: ``(rule, clause,
    status, town, community, n)`` rows, ``community`` None for a town's or the city's own
    findings.  ``communities`` (codes): only theirs (and, with ``rollups``, the towns' and the
    city's own); ``town``: only that town's."""
    from core.models import StoredCount as C

    q = C.select(C.rule, C.clause, C.status, C.town, C.community, C.n).where(C.run == run_id)
    if communities is not None:
        mine = C.community.in_(sorted(communities))
        q = q.where(mine | C.community.is_null() if rollups else mine)
    if town is not None:
        q = q.where(C.town == town)
    return list(q.tuples())


def run_findings_in_order(run_id: int, statuses=None, block: int = 5000):
    """The findings (:class:`core.api.Finding`) of a stored run -- of ``statuses`` only, when
    given -- by town, then community, each group in the order it was stored, read ``block`` at
    a time: code-point order, a town's own findings after its communities', the city's own
    after every town's (the order of a check's grouped outputs, which sort each group as its
    reader is shown it)."""
    from core import db
    from core.db import bytewise_field
    from core.models import StoredFinding as F

    q = _stored(run_id)
    if statuses is not None:
        q = q.where(F.status.in_(list(statuses)))
    q = q.order_by(F.town.is_null(), bytewise_field(F.town), F.community.is_null(), bytewise_field(F.community), F.id)
    return map(_stored_finding, db.stream_rows(q, block))


def _stored(run_id: int):
    """The query of a stored run's findings, field by field as :func:`_stored_finding` reads them."""
    from core.models import StoredFinding as F

    return (F.select(F.rule, F.clause, F.status, F.town, F.community, F.subject, F.message, F.evidence)
            .where(F.run == run_id))


def _stored_finding(row) -> Finding:
    r, c, st, t, cm, sb, msg, ev = row
    return Finding(r, c, st, t, cm, sb, msg, json.loads(ev or "{}"))


def run_findings(run_id: int, communities=None, town: str | None = None, rule: str | None = None) -> list:
    """The findings (:class:`core.api.Finding`) of a stored run, in stored order: of the
    ``communities`` (codes) when given, of ``town`` and of ``rule`` when given.  A whole
    city's run holds ~200k: callers that need only counts read :func:`run_counts`."""
    from core.models import StoredFinding as F

    q = _stored(run_id)
    if communities is not None:
        q = q.where(F.community.in_(sorted(communities)))
    if town is not None:
        q = q.where(F.town == town)
    if rule is not None:
        q = q.where(F.rule == rule)
    return [_stored_finding(row) for row in q.order_by(F.id).tuples().iterator()]
