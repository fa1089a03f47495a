"""Scoring systems (评分): runs a registered :class:`core.Scorer` over a scope.

The scoring systems: member points (党员积分, clause 13), community score (先锋社区 and the
five goods of clause 2, classes of clause 22), worker appraisal (clause 8) and
in-service members' community performance (clause 17).  Each is a plugin; a
town plugin replaces one for its town only (``Scorer(..., towns=["巴城镇"])``)
or adds one.

A scorer's ``score(ctx)`` yields ``(subject, points, items)``:

- ``subject`` — the raw key: the ID number for a member or worker, the code of
  an organization or community (the engine masks ID numbers on output);
- ``points`` — a number (``Decimal`` preferred);
- ``items`` — a list of dicts ``{"code", "label", "count", "points"}``, one per
  addition or deduction, base points included, so the items add up to the
  points.  ``ctx.item(...)`` builds one.

``ctx.result(subject, items, community=…, name=…, org=…, klass=…)`` yields a
result whose points are the sum of its items and which carries the display
fields; a plain 3-tuple is fine too (the engine then looks the subject up).

Parameters: ``config/default.toml`` ``[scoring."<name>"]`` ← the scorer's
own ``Scorer.params`` (so a town's replacement keeps its weights) ← a town plugin's ``dangjian_town_params(town)``
``{"<name>": {...}}`` ← the city config ← ``[towns."<town>".scoring."<name>"]``;
tables are merged key by key.  Ranks are shown only where ``[points]
show_ranking`` (or ``[towns."<town>".points] show_ranking``) is true.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter

from core import roster
from core.api import round_cents, to_decimal
from core.errors import UserError
from core.i18n import get_lang, tr
from core.config import deep_merge
from core.numbers import Score, format_score
from core.rules import ScopedContext, params_for
from core.view import View

#: a number as an exact Decimal, and rounded half up to 0.01: the public names' short forms
D, q = to_decimal, round_cents


# ---------------------------------------------------------------- parameters

def scoring_params(name: str, defaults: dict | None = None, town: str | None = None) -> dict:
    """A scorer's parameters for ``town`` (layers in the module doc)."""
    from core import config, plugins

    cfg = config.get()
    values = deep_merge({}, cfg.defaults.get("scoring", {}).get(name, {}))
    values = deep_merge(values, defaults or {})  # a (town) scorer's own weights win over the shipped ones
    if town:  # a plugin whose hook raises is recorded by the plugin manager (`dangjian plugins`)
        values = deep_merge(values, plugins.get().town_params(town).get(name))
    for _path, raw in cfg.sources[1:]:
        values = deep_merge(values, raw.get("scoring", {}).get(name, {}))
    if town:
        for _path, raw in cfg.sources[1:]:
            values = deep_merge(values, raw.get("towns", {}).get(town, {}).get("scoring", {}).get(name, {}))
    return values


# core.reports (ReportContext.rule_params) still imports this name: one resolution, core.rules.params_for
rule_params = params_for


def show_ranking(town: str | None) -> bool:
    """``[points] show_ranking``, or the town's ``[towns."<town>".points] show_ranking``."""
    from core import config

    cfg = config.get()
    value = bool(cfg.section("points").get("show_ranking", False))
    if town:
        tsec = cfg.get("towns", {}).get(town, {}).get("points", {})
        if "show_ranking" in tsec:
            value = bool(tsec["show_ranking"])
    return value


# ---------------------------------------------------------------- results

class ScoreResult(tuple):
    """``(subject, points, items)`` with display fields: ``community`` (code),
    ``town``, ``name``, ``org`` (organization name), ``klass`` (a class label such
    as 先进), ``extra`` (dict of further columns), ``rank`` (set by the engine),
    ``scorer`` (the Scorer that produced it)."""

    def __new__(cls, subject, points, items, **meta):
        self = super().__new__(cls, (str(subject), q(points), list(items or [])))
        self.community = meta.get("community")
        self.town = meta.get("town")
        self.name = meta.get("name")
        self.org = meta.get("org")
        self.klass = meta.get("klass")
        self.extra = dict(meta.get("extra") or {})
        self.rank = None
        self.scorer = meta.get("scorer")
        return self

    subject = property(itemgetter(0))
    points = property(itemgetter(1))
    items = property(itemgetter(2))

    def items_total(self) -> Decimal:
        return sum((q(i.get("points", 0)) for i in self.items), Decimal(0))


# ---------------------------------------------------------------- context

@dataclass
class ScoreContext(ScopedContext):
    """What a scorer's ``score(ctx)`` gets: the shape every context shares
    (:class:`core.rules.ScopedContext`: ``year``, ``as_of``, ``communities`` — already
    limited to the user's scope, the ``--town`` / ``--community`` filters and, for a
    town-only scorer, its towns — ``community(id)``, ``params(town)``, ``view`` …) and
    ``scorer``, ``item()``, ``result()``, ``findings()`` and ``finding_counts()`` (rule
    findings for the communities, for roll-ups) and ``public_evaluation(code)``.
    """
    scorer: object
    year: int
    as_of: dt.date
    communities: list
    principal: object = None
    lang: str = "zh"
    everything: bool = False
    _findings: list | None = None
    _cache: dict = field(default_factory=dict)
    _counts: dict | None = None
    view: View | None = None

    def community(self, community_id: int):  # as on every context (ScopedContext.community_at), without a call more
        try:
            return self._by_id()[community_id]
        except KeyError:
            raise KeyError(f"community id {community_id!r} is not in this context's scope") from None

    # -- parameters
    def params(self, town: str | None = None) -> dict:
        """The scorer's parameters for ``town`` (the city's when None)."""
        key = ("p", town)
        if key not in self._cache:
            self._cache[key] = scoring_params(self.scorer.name, getattr(self.scorer, "params", None), town)
        return self._cache[key]

    def rule_params(self, rule_id: str, town: str | None = None) -> dict:
        """A rule's parameters in force for ``town`` (a scorer may reuse a rule's thresholds)."""
        key = ("r", rule_id, town)
        if key not in self._cache:
            self._cache[key] = params_for(rule_id, town)
        return self._cache[key]

    # -- items and results
    @staticmethod
    def item(code: str, label: str, points, count=None) -> dict:
        """One addition or deduction: ``label`` says why (in the interface language)."""
        out = {"code": code, "label": label, "points": q(points)}
        if count is not None:
            out["count"] = count
        return out

    def result(self, subject, items, community=None, name=None, org=None, klass=None, extra=None,
               points=None) -> ScoreResult:
        """A result whose points are the sum of ``items`` (unless ``points`` is given).
        ``community`` is a CommunityRef, an id or a code."""
        ref = community
        if isinstance(community, int):
            ref = self._by_id().get(community)
        elif isinstance(community, str):
            ref = self.community_by_code(community)
        total = points if points is not None else sum((q(i["points"]) for i in items), Decimal(0))
        return ScoreResult(subject, total, items, community=getattr(ref, "code", community),
                           town=getattr(ref, "town", None), name=name, org=org, klass=klass, extra=extra,
                           scorer=self.scorer)

    # -- inputs for roll-ups
    def findings(self) -> list:
        """Rule findings (``core.api.Finding``) for the communities in scope, this year and as-of.

        Findings that are errors because a plugin failed (a rule that raised, a hook that fed it,
        a plugin that did not load) withhold what this scorer computes for their towns: the
        failure is passed on to the engine (:meth:`core.plugins.PluginManager.replay`)."""
        if self._findings is None:  # a stored run tells its failures itself, a fresh run's hooks raise here
            self._findings = check_findings(self.year, self.as_of, self.communities, self.principal)
            self._cache["own findings"] = True
        codes = {c.code for c in self.communities}
        out = [f for f in self._findings if f.community in codes]
        if not self._cache.get("own findings"):  # given by the caller
            self._replay(tainted_by_plugins(out))
        return out

    def finding_counts(self) -> dict:
        """``{(community code, rule id, status): number of findings}`` for the communities in
        scope — what a roll-up needs, read cheaply from a current stored run when there is one.
        As with :meth:`findings`, error findings of a failed plugin withhold their towns' results."""
        if self._counts is None:
            if self._findings is not None:
                self._counts = count_findings(self._findings)
                if not self._cache.get("own findings"):
                    self._counts.taints = tainted_by_plugins(self._findings)
            else:  # as for findings(): told by the stored run, or raised here
                self._counts = finding_counts(self.year, self.as_of, self.communities, self.principal)
                self._cache["own counts"] = True
        codes = {c.code for c in self.communities}
        if not self._cache.get("own counts"):  # given by the caller (a report's, say)
            self._replay(getattr(self._counts, "taints", ()))
        return {k: n for k, n in self._counts.items() if k[0] in codes}

    def _replay(self, taints) -> None:
        """The failures behind tainted findings, told to the engine once per context."""
        from core import plugins

        done = self._cache.setdefault("replayed", set())
        manager = plugins.get()
        for f in taints:
            if f not in done:
                done.add(f)
                manager.replay(f)

    def public_evaluation(self, code: str, town: str | None = None):
        """社会公开评价 (clause 16) of a community for the year, 0–100, or None.

        Read from config: ``[scoring."community-score".public_evaluation."<year>"]``
        ``"<community code>" = score`` (a city's or town's config file).
        """
        params = self.params(town)
        table = (params.get("public_evaluation") or {}).get(str(self.year)) or {}
        value = table.get(code)
        if value is None:
            return None
        value = D(value)
        if not Decimal(0) <= value <= Decimal(100):
            raise UserError(tr("社会公开评价 {c} = {v}：应在 0 至 100 之间",
                               "public evaluation {c} = {v}: must be between 0 and 100", c=code, v=value))
        return value


def stored_findings(year, as_of, communities):
    """The findings of ``communities`` in the latest stored run that covers them for this year and
    as-of date and is still current (:func:`core.findings.find_run`), or None: reports read
    the last run instead of re-running a whole city.  The failures behind its findings that a
    failed plugin made errors are told to the engine (:func:`replay_stored`)."""
    from core import findings

    run = findings.find_run({c.id for c in communities}, year, as_of=as_of, current=True)
    if run is None:
        return None
    out = findings.run_findings(run.id, communities=[c.code for c in communities])
    replay_stored(run, [(f.town, f.evidence) for f in out if _plugin_error(f.status, f.evidence)])
    return out


class FindingCounts(dict):
    """``{(community code, rule id, status): n}``; ``taints`` are the plugin failures that made
    some of those findings errors in the stored run they were read from, or in findings a caller
    gave (:class:`core.plugins.Failure`, one per failure and its towns)."""
    taints: list = []


def count_findings(findings) -> FindingCounts:
    out = FindingCounts()
    for f in findings:
        key = (f.community, f.rule, f.status)
        out[key] = out.get(key, 0) + 1
    return out


def _plugin_error(status, evidence) -> bool:
    """An ``error`` finding that says a plugin failed (a rule that raised, a hook that fed its rule,
    a plugin that did not load): its evidence names the plugin and the hook."""
    return status == "error" and isinstance(evidence, dict) and "plugin" in evidence and "hook" in evidence


def _failures_of(tainted, note: str = "") -> list:
    """One :class:`core.plugins.Failure` per failure named in the evidence of ``tainted`` ((town,
    evidence) of error findings), its towns those of the findings it made errors."""
    from core.plugins import LOAD, Failure

    groups: dict = {}
    for town, ev in tainted:
        key = (str(ev.get("plugin")), str(ev.get("hook")), str(ev.get("where") or ""),
               str(ev.get("error") or ev.get("exception") or ""))
        towns = groups.setdefault(key, set())
        if town:
            towns.add(town)
    return [Failure(plugin, hook, message + note, where, sorted(towns) or None, at_load=hook == LOAD)
            for (plugin, hook, where, message), towns in groups.items()]


def tainted_by_plugins(findings) -> list:
    """The plugin failures that made some of ``findings`` errors (see :func:`_failures_of`)."""
    return _failures_of([(f.town, f.evidence) for f in findings if _plugin_error(f.status, f.evidence)])


def replay_stored(run, tainted) -> list:
    """The failures behind ``tainted`` ((town, evidence) of error findings of stored ``run``), told to
    this thread's watchers (:meth:`core.plugins.PluginManager.replay`): whatever is computed from
    those findings is withheld, with a line saying which stored run and to check again."""
    from core import plugins

    if not tainted:
        return []
    note = tr("（保存的第 {r} 次检查，{w}；插件修好后请重新运行 dangjian check）",
              " (stored check run {r}, {w}; run dangjian check again once the plugin is fixed)",
              r=run.id, w=str(run.started_at)[:16])
    failures = _failures_of(tainted, note)
    manager = plugins.get()
    for f in failures:
        manager.replay(f)
    return failures


def finding_counts(year, as_of, communities, principal=None) -> FindingCounts:
    """``{(community code, rule id, status): n}``: a current stored run's counts, else
    counted from a fresh run of the rule engine.  From a stored run, the failures behind the
    findings a failed plugin made errors are told to the engine (:func:`replay_stored`) and kept
    as the counts' ``taints``."""
    import json

    from core import findings
    from core.models import StoredFinding

    run = findings.find_run({c.id for c in communities}, year, as_of=as_of, current=True)
    if run is None:  # the rules run now: a plugin that fails, fails here (and is recorded so)
        return count_findings(check_findings(year, as_of, communities, principal, use_stored=False))
    codes = {c.code for c in communities}
    counted: dict = {}
    for rule, _clause, status, _town, code, n in findings.run_counts(run.id, codes, rollups=False):
        counted[(code, rule, status)] = counted.get((code, rule, status), 0) + n
    out = FindingCounts(counted)
    erring = sorted({r for (_c, r, s_) in out if s_ == "error"})
    if erring:  # which of them say a plugin failed: the evidence of those few
        rows = (StoredFinding.select(StoredFinding.town, StoredFinding.community, StoredFinding.evidence)
                .where(StoredFinding.run == run.id, StoredFinding.rule.in_(erring), StoredFinding.status == "error")
                .tuples())
        tainted = []
        for town, community, evidence in rows:
            ev = json.loads(evidence or "{}")
            if community in codes and _plugin_error("error", ev):
                tainted.append((town, ev))
        out.taints = replay_stored(run, tainted)
    return out


def check_findings(year, as_of, communities, principal=None, use_stored: bool = True) -> list:
    """Findings of every rule for ``communities``: the last stored check run when it is
    still current (:func:`stored_findings`), else a fresh run of the rule engine (not stored).

    The caller keeps the result (``ScoreContext`` does, per run).
    """
    from core import rules

    stored = stored_findings(year, as_of, communities) if use_stored else None
    if stored is not None:
        return stored

    run_check = getattr(rules, "run_check", None)
    if run_check is None:
        raise UserError(tr("规则引擎不可用", "the rule engine is not available"))
    towns = {c.town for c in communities}
    out = []
    if len(communities) == 1:
        out = list(run_check(year=year, as_of=as_of, community=communities[0].code, principal=principal,
                             store=False).findings)
    elif len(towns) == 1:
        out = list(run_check(year=year, as_of=as_of, town=next(iter(towns)), principal=principal,
                             store=False).findings)
    else:
        out = list(run_check(year=year, as_of=as_of, principal=principal, store=False).findings)
    codes = {c.code for c in communities}
    return [f for f in out if f.community in codes]


# ---------------------------------------------------------------- engine

def _lookup_meta(kind: str, subjects: set[str]) -> dict:
    """Display fields for plain-tuple results: subject → {community, town, name, org}."""
    from peewee import JOIN

    from core.models import Community, Member, Organization, Town, Worker

    out: dict = {}
    if not subjects:
        return out
    subj = list(subjects)
    if kind == "member":
        rows = (Member.select(Member.id_number, Member.name, Organization.name.alias("org"),
                              Community.code.alias("code"), Town.name.alias("town"))
                .join(Organization, join_type=JOIN.LEFT_OUTER, on=roster.org_today())
                .switch(Member)
                .join(Community, join_type=JOIN.LEFT_OUTER, on=roster.community_today())
                .join(Town, join_type=JOIN.LEFT_OUTER, on=(Community.town == Town.id))
                .where(Member.id_number.in_(subj)).dicts())
        for r in rows:
            out[r["id_number"]] = {"name": r["name"], "org": r["org"], "community": r["code"], "town": r["town"]}
    elif kind == "worker":
        rows = (Worker.select(Worker.id_number, Worker.name, Community.code.alias("code"), Town.name.alias("town"))
                .join(Community).join(Town).where(Worker.id_number.in_(subj)).dicts())
        for r in rows:
            out[r["id_number"]] = {"name": r["name"], "community": r["code"], "town": r["town"]}
    elif kind == "organization":
        rows = (Organization.select(Organization.code, Organization.name, Community.code.alias("ccode"),
                                    Town.name.alias("town"))
                .join(Community, join_type=JOIN.LEFT_OUTER).join(Town, join_type=JOIN.LEFT_OUTER)
                .where(Organization.code.in_(subj)).dicts())
        for r in rows:
            out[r["code"]] = {"name": r["name"], "community": r["ccode"], "town": r["town"]}
    elif kind == "community":
        rows = (Community.select(Community.code, Community.name, Town.name.alias("town")).join(Town)
                .where(Community.code.in_(subj)).dicts())
        for r in rows:
            out[r["code"]] = {"name": r["name"], "community": r["code"], "town": r["town"]}
    return out


@dataclass
class ScoreRun:
    """The outcome of :func:`run_scorer_full`: results, and the errors of scorers that raised."""
    name: str
    year: int
    as_of: dt.date
    results: list
    errors: list
    ranked: bool
    scorers: list
    view: View | None = None  # the view scored: table() shows subjects as it shows them
    withheld: list = field(default_factory=list)  # (town, core.plugins.Failure): scores not given (in errors too)


def known_scorer(name: str):
    """The plugin registry, once ``name`` is known there as a scorer (else a UserError listing them)."""
    from core import plugins

    reg = plugins.get().registry
    if name not in reg.scorer_names():
        raise UserError(tr("没有名为 {n} 的评分；可选：{a}", "no scorer named {n}; choose from: {a}",
                           n=name, a=", ".join(reg.scorer_names()) or "-"))
    return reg


def run_scorer_full(name: str, year: int | None = None, as_of: dt.date | None = None, town: str | None = None,
                    community: str | None = None, principal=None, findings: list | None = None,
                    counts: dict | None = None, view: View | None = None) -> ScoreRun:
    """Run scorer ``name`` over ``view`` (default: the view of ``principal`` narrowed to
    ``town`` / ``community``, :meth:`core.view.View.of`)."""
    from core import plugins
    from core.rules import resolve_dates

    reg = known_scorer(name)
    year, as_of = resolve_dates(year, as_of)
    view = view or View.of(principal, town, community)
    principal = view.principal
    # a town served by a plugin that failed to load is withheld, never scored by the city's scorer
    manager = plugins.get()
    tainted = manager.tainted_towns({ref.town for ref in view.communities()})
    withheld = [(t, f) for t, fs in tainted.items() for f in fs]
    # group communities by the scorer in force in their town
    groups: list[tuple[object, list]] = []
    for ref in view.communities():
        if ref.town in tainted:
            continue
        scorer = reg.scorer_for(name, ref.town)
        if scorer is None:
            continue
        for s, refs in groups:
            if s is scorer:
                refs.append(ref)
                break
        else:
            groups.append((scorer, [ref]))
    results: list[ScoreResult] = []
    errors: list[str] = []
    lang = get_lang()
    for scorer, refs in groups:
        ctx = ScoreContext(scorer, year, as_of, refs, principal, lang,
                           everything=(view.everything and len(groups) == 1 and not tainted), _findings=findings,
                           _counts=counts, view=view)
        group_towns = sorted({c.town for c in refs})
        with manager.watch() as seen:  # hooks raising while it scores (a town's parameters …)
            try:
                produced = list(scorer.score(ctx) or [])
            except UserError:
                raise
            except Exception as exc:  # its scores are withheld (the traceback under DANGJIAN_TRACE_PLUGINS=1)
                failure = manager.hook_error(scorer.plugin or "?", f"scorer {name}", exc, towns=group_towns)
                withheld.extend((t, failure) for t in group_towns)
                errors.append(tr("评分 {n}（插件 {p}）出错：{e}", "scorer {n} (plugin {p}) raised: {e}",
                                 n=name, p=scorer.plugin, e=repr(exc)))
                continue
        manager.ran(scorer.plugin or "?", f"scorer {name}", None if ctx.everything else group_towns)
        hit = {t for f in seen for t in (f.towns or group_towns) if t in group_towns}
        withheld.extend((t, f) for f in seen for t in sorted(hit) if f.towns is None or t in f.towns)
        plain = [r for r in produced if not isinstance(r, ScoreResult)]
        meta = _lookup_meta(scorer.subjects, {str(r[0]) for r in plain}) if plain else {}
        codes = {c.code for c in refs}
        for r in produced:
            if not isinstance(r, ScoreResult):
                subject, points, items = r[0], r[1], (r[2] if len(r) > 2 else [])
                m = meta.get(str(subject), {})
                r = ScoreResult(subject, points, items, scorer=scorer, **m)
                if r.community is not None and r.community not in codes:
                    continue  # a town-only scorer stays inside its towns
            r.scorer = r.scorer or scorer
            if r.town is None and r.community:
                ref = next((c for c in refs if c.code == r.community), None)
                r.town = ref.town if ref else None
            if r.town in hit:
                continue  # fed by a hook that raised: withheld
            results.append(r)
    if withheld:  # roll-ups over the city include a withheld town
        results = [r for r in results if r.town is not None]
        errors.extend(plugins.withheld_line(t, f) for t, f in dict.fromkeys(withheld))
    ranked = _rank(results, scorer_kind=(groups[0][0].subjects if groups else "member"))
    results.sort(key=lambda r: (r.town or "", r.community or "", r.org or "", -r.points, r.subject))
    return ScoreRun(name, year, as_of, results, errors, ranked, [s for s, _ in groups], view,
                    list(dict.fromkeys(withheld)))


def run_scorer(name: str, year: int | None = None, as_of: dt.date | None = None, town: str | None = None,
               community: str | None = None, principal=None, findings: list | None = None) -> list:
    """Run scorer ``name`` over the scope: a list of :class:`ScoreResult`,
    each a ``(subject, points, items)`` tuple.  A town-only replacement scores
    its towns' subjects, the general scorer the rest.  A scorer that raises is
    reported as a :class:`UserError`."""
    run = run_scorer_full(name, year, as_of, town, community, principal, findings)
    if run.errors:
        raise UserError("; ".join(run.errors))
    return run.results


def _rank(results: list, scorer_kind: str) -> bool:
    """Set ``rank`` (1, 1, 3 …) within each community (within the town for community
    subjects) where ranking is on for the town.  True when any rank was set."""
    groups: dict = {}
    shown: dict = {}  # town -> show_ranking(town), read from the config once per town
    for r in results:
        ranked = shown.get(r.town)
        if ranked is None:
            ranked = shown[r.town] = show_ranking(r.town)
        if not ranked:
            continue
        key = (r.town,) if scorer_kind in ("community", "town") else (r.town, r.community)
        groups.setdefault(key, []).append(r)
    for rows in groups.values():
        rows.sort(key=lambda r: -r.points)
        prev, rank = None, 0
        for i, r in enumerate(rows, start=1):
            if r.points != prev:
                rank, prev = i, r.points
            r.rank = rank
    return bool(groups)


# ---------------------------------------------------------------- output

def items_text(items: list) -> str:
    parts = []
    for i in items:
        p = q(i.get("points", 0))
        sign = "+" if p > 0 else ""
        parts.append(f"{i.get('label', i.get('code'))} {sign}{format_score(p)}")
    return "; ".join(parts)


def columns(run: ScoreRun) -> tuple[bool, bool, bool]:
    """(an organization column, a class column, a rank column): what :func:`table` shows of a run."""
    return any(r.org for r in run.results), any(r.klass for r in run.results), run.ranked


def table(run: ScoreRun, with_items: bool = True, want: str = "both", part: slice | None = None,
          cols: tuple[bool, bool, bool] | None = None):
    """(headers, rows, records) for a score run, subjects as the run's view shows them; ``want``
    "rows" or "records" skips the other (a whole city's member points are 100,000 lines);
    ``part``: the rows and records of those results only (the columns still those of them all);
    ``cols``: the :func:`columns` to show (those of a whole run of which ``run`` is a half).

    The last column, 标识 (``ref`` in the records), is the stable opaque id of the subject's
    record (:meth:`core.view.View.ref`), the same one the check findings carry: subjects
    whose masked ID numbers coincide stay distinguishable."""
    view = run.view or View.of()
    kind = run.scorers[0].subjects if run.scorers else "member"
    has_org, has_class, ranked = cols or columns(run)
    extra_keys: list[str] = []
    for r in run.results:
        for k in r.extra:
            if k not in extra_keys:
                extra_keys.append(k)
    masked = kind in ("member", "worker")

    def subj(s):
        return view.mask_id(s) if masked else s

    def ref(s):  # masked ID numbers can coincide: the subject's stable opaque id keeps them apart
        return view.ref(kind, s)  # a scorer's subjects (member, worker, community …) are the tables findings name

    headers = []
    if ranked:
        headers.append(tr("名次", "rank"))
    headers += [tr("区镇", "town"), tr("社区", "community")]
    if has_org:
        headers.append(tr("党组织", "organization"))
    headers += [tr("对象", "subject"), tr("名称", "name"), tr("得分", "points")]
    if has_class:
        headers.append(tr("等次", "class"))
    headers += extra_keys
    if with_items:
        headers.append(tr("明细", "items"))
    headers.append(tr("标识", "ref"))
    rows, records = [], []
    for r in (run.results if part is None else run.results[part]):
        if want != "records":
            rows.append(_row(r, ranked, has_org, has_class, extra_keys, with_items, subj) + [ref(r.subject)])
        if want == "rows":
            continue
        rec = {"scorer": run.name, "year": run.year, "town": r.town, "community": r.community,
               "subject": subj(r.subject), "name": r.name, "points": r.points,
               "items": r.items, "plugin": getattr(r.scorer, "plugin", None), "ref": ref(r.subject)}
        if has_org:
            rec["organization"] = r.org
        if has_class:
            rec["class"] = r.klass
        if r.extra:
            rec["extra"] = r.extra
        if ranked:
            rec["rank"] = r.rank
        records.append(rec)
    return headers, rows, records


#: Results from which :func:`records_json` makes half of them in a forked worker (``auto``).
JSON_FORK_MIN_RESULTS = 5000


def records_json(run: ScoreRun) -> str:
    """The run's records (:func:`table`) as a JSON list, one record a line.  With two CPUs and many
    results (``DANGJIAN_SCORE_WORKER``: ``0`` never, ``1`` always where possible) a forked worker
    makes the second half while this process makes the first; the text is the same either way."""
    from core import procs
    from core.output import json_body, json_list
    from core.shortforms import worker_failed

    def body(part: slice) -> str:
        return json_body(table(run, want="records", part=part)[2])
    n = len(run.results)
    if n < 2 or not procs.wanted("DANGJIAN_SCORE_WORKER", n, JSON_FORK_MIN_RESULTS):
        return json_list(body(slice(None)))
    half = n // 2
    run.view = run.view or View.of()  # the view table() reads, its ref key read here once, not by the worker
    run.view.ref_key()
    try:
        first, second = procs.in_two(lambda: body(slice(half, None)), lambda: body(slice(0, half)))
    except procs.WorkerFailed as exc:
        raise worker_failed(exc) from None
    return json_list(first, second)


#: Members in scope from which a scorer's JSON is made by two processes, each scoring half the towns.
SPLIT_MIN_MEMBERS = 20000


def score_json(name: str, year: int | None = None, as_of: dt.date | None = None, town: str | None = None,
               community: str | None = None, principal=None) -> tuple[str, int, list]:
    """Scorer ``name``'s records as JSON (:func:`records_json`), with the number of results and the
    run's errors.  With two CPUs and many members (``DANGJIAN_SCORE_WORKER``: ``0`` never, ``1``
    always where possible), a scorer declared by its items in every town (each member's points
    are its own; ranks are within a community or town) is run by two processes, each over half
    of the towns: they agree on the columns before they write, and only the text comes back.
    Where a half meets an error or a withheld town, the run is made again whole in one process,
    so that what is told is what one process tells.  The text is the same either way."""
    from core.rules import resolve_dates

    known_scorer(name)
    year, as_of = resolve_dates(year, as_of)
    view = View.of(principal, town, community)
    split = _town_halves(name, view)
    if split is not None:
        done = _json_in_halves(name, year, as_of, *split)
        if done is not None:
            return done
    run = run_scorer_full(name, year, as_of, view=view)
    return records_json(run), len(run.results), run.errors


def _town_halves(name: str, view: View):
    """(two views: the towns, in the results' order, split where half the members are reached;
    whether one scorer serves the whole city), or None: not worth it, not possible, or not a
    scorer whose results can be made apart."""
    from peewee import fn

    from core import plugins, procs
    from core.models import Member
    from core.shortforms import ItemScorer

    if procs.setting("DANGJIAN_SCORE_WORKER") == "0":
        return None
    refs = view.communities()
    towns = sorted({r.town for r in refs})
    manager = plugins.get()
    if len(towns) < 2 or manager.tainted_towns(towns):
        return None
    scorers = [manager.registry.scorer_for(name, t) for t in towns]
    if not all(isinstance(s, ItemScorer) and s.subjects == "member" for s in scorers):
        return None
    counts = dict(Member.select(Member.community, fn.COUNT(Member.id)).group_by(Member.community).tuples())
    per_town: dict = {}
    for r in refs:
        per_town[r.town] = per_town.get(r.town, 0) + counts.get(r.id, 0)
    total = sum(per_town.values())
    if not procs.wanted("DANGJIAN_SCORE_WORKER", total, SPLIT_MIN_MEMBERS):
        return None
    reached, first = 0, set()
    for t in towns[:-1]:
        first.add(t)
        reached += per_town[t]
        if 2 * reached >= total:
            break
    whole = len({id(s) for s in scorers}) == 1 and view.everything  # one process: ran for the whole city
    return (view.part([r.id for r in refs if r.town in first]),
            view.part([r.id for r in refs if r.town not in first]), whole)


def _json_in_halves(name, year, as_of, first: View, second: View, whole: bool):
    """(text, results, errors) of :func:`score_json` by two processes, or None when a half met an
    error or a withheld town (what each process recorded of plugins is then forgotten here)."""
    from core import plugins, procs
    from core.output import json_body, json_list
    from core.shortforms import worker_failed

    manager = plugins.get()
    restore = manager.checkpoint()
    swap = procs.Swap()

    def half(part: View):
        run = run_scorer_full(name, year, as_of, view=part)
        return run, (*columns(run), bool(run.errors or run.withheld))

    def worker():
        try:
            run, mine = half(second)
        except BaseException:
            swap.worker_swap(None)  # this process stops waiting; the error comes back as the answer
            raise
        cols = swap.worker_swap(mine)
        if cols is None:
            return None
        return json_body(table(run, want="records", cols=cols)[2]), len(run.results), manager.ran_so_far()

    def here():
        run, mine = half(first)
        theirs = swap.here_take()
        if theirs is None or mine[3] or theirs[3]:
            swap.here_give(None)
            return None
        cols = tuple(a or b for a, b in zip(mine[:3], theirs[:3]))
        swap.here_give(cols)
        return json_body(table(run, want="records", cols=cols)[2]), len(run.results), run.scorers

    try:
        mine, theirs = procs.halves(worker, here, swap)
    except procs.WorkerFailed as exc:
        restore()
        raise worker_failed(exc) from None
    except BaseException:
        restore()
        raise
    if mine is None or theirs is None:
        restore()
        return None
    manager.adopt_ran(theirs[2])
    if whole:  # as one process notes it: the scorer ran for the whole city
        manager.ran(mine[2][0].plugin or "?", f"scorer {name}", None)
    return json_list(mine[0], theirs[0]), mine[1] + theirs[1], []


def _row(r, ranked, has_org, has_class, extra_keys, with_items, subj) -> list:
    row = []
    if ranked:
        row.append(r.rank if r.rank is not None else "")
    row += [r.town or "", r.community or ""]
    if has_org:
        row.append(r.org or "")
    row += [subj(r.subject), r.name or "", Score(r.points)]
    if has_class:
        row.append(r.klass or "")
    row += [r.extra.get(k, "") for k in extra_keys]
    if with_items:
        row.append(items_text(r.items))
    return row


def parse_date(text: str | None, what: str):
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UserError(tr("{w} 日期格式应为 YYYY-MM-DD：{t}", "{w}: a date YYYY-MM-DD is expected: {t}",
                           w=what, t=text)) from None
