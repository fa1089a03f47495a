"""Rule engine (规则引擎): runs every registered :class:`core.Rule` over a scope.

A rule's ``evaluate(ctx)`` yields findings for exactly its subject set.  The
engine gives each rule its own :class:`Context`: the year, the as-of date,
the communities in scope (already limited by ``--town``/``--community``, the
user's scope, and — for a town-only replacement — the towns it serves),
``ctx.params(town)`` resolved from defaults, town plugins and config, and
period helpers.  Rules query the whole scope set-based (a few SQL queries per
rule, not one per member).
"""
from __future__ import annotations

import datetime as dt
import gc
import threading
from dataclasses import dataclass, field
from fractions import Fraction

from core.api import Finding, Rule
from core.findings import RunScope
from core.dates import today as _today
from core.view import CommunityRef, View


@dataclass(frozen=True)
class Period:
    """A quarter, month or week: ``label`` like ``2026Q1``, ``2026-03``, ``2026-W09``."""
    label: str
    start: dt.date
    end: dt.date

    def contains(self, d: dt.date) -> bool:
        return self.start <= d <= self.end


def resolve_dates(year: int | None, as_of: dt.date | None) -> tuple[int, dt.date]:
    """The year defaults to the year of --as-of, else this year; as-of is
    31 December of the year or today, whichever is earlier."""
    if year is None:
        year = as_of.year if as_of else _today().year
    if as_of is None:
        as_of = min(dt.date(year, 12, 31), _today())
    return year, as_of


def quarters_ended(year: int, as_of: dt.date) -> list[Period]:
    out = []
    for q in range(4):
        start = dt.date(year, 3 * q + 1, 1)
        end = (dt.date(year, 3 * q + 4, 1) if q < 3 else dt.date(year + 1, 1, 1)) - dt.timedelta(days=1)
        if end <= as_of:
            out.append(Period(f"{year}Q{q + 1}", start, end))
    return out


def months_ended(year: int, as_of: dt.date) -> list[Period]:
    out = []
    for m in range(1, 13):
        start = dt.date(year, m, 1)
        end = (dt.date(year, m + 1, 1) if m < 12 else dt.date(year + 1, 1, 1)) - dt.timedelta(days=1)
        if end <= as_of:
            out.append(Period(f"{year}-{m:02d}", start, end))
    return out


def weeks_ended(year: int, as_of: dt.date) -> list[Period]:
    """Monday-to-Sunday weeks whose Sunday falls inside ``year`` and on or before ``as_of``."""
    out = []
    d = dt.date(year, 1, 1)
    sunday = d + dt.timedelta(days=(6 - d.weekday()))
    while sunday.year == year and sunday <= as_of:
        monday = sunday - dt.timedelta(days=6)
        iso = monday.isocalendar()
        out.append(Period(f"{iso[0]}-W{iso[1]:02d}", monday, sunday))
        sunday += dt.timedelta(days=7)
    return out


def fraction(value) -> Fraction:
    """A config fraction: 0.9, "1/3", 1 → exact Fraction."""
    if isinstance(value, float):
        return Fraction(str(value))
    return Fraction(value)


class _CommunityLookup:
    """What ``ctx.community`` is on a context whose dataclass has a ``community`` field (the
    report context keeps the ``--community`` filter there): calling it looks a community up
    as on every context; used as a value it is the filter code (deprecated: read
    ``ctx.community_filter``)."""
    __slots__ = ("_ctx", "_code")

    def __init__(self, ctx, code):
        self._ctx, self._code = ctx, code

    def __call__(self, community_id: int):
        return self._ctx.community_at(community_id)

    def __eq__(self, other):
        return self._code == (other._code if isinstance(other, _CommunityLookup) else other)

    def __hash__(self):
        return hash(self._code)

    def __bool__(self):
        return bool(self._code)

    def __str__(self):
        return str(self._code)

    def __repr__(self):
        return repr(self._code)


class _CommunityAttribute:
    """``ctx.community``: the method :meth:`ScopedContext.community` on every context, also
    where a dataclass field of that name stores the ``--community`` filter."""

    def __get__(self, ctx, owner=None):
        if ctx is None:  # no class-level value: a dataclass field of this name gets no default
            raise AttributeError("community")
        d = ctx.__dict__
        if "_community_filter" not in d:
            return ctx.community_at
        return _CommunityLookup(ctx, d["_community_filter"])

    def __set__(self, ctx, value):
        ctx.__dict__["_community_filter"] = value


class ScopedContext:
    """What every plugin context shares (rules, scorers, reports): one shape, the same names
    for the same things (the plugin guide's "Contexts" section lists them all).

    Subclasses are dataclasses with the fields ``year``, ``as_of``, ``communities``
    (``CommunityRef`` list, each with its town), ``principal``, ``lang`` and ``view``
    (:class:`core.view.View`: ``ctx.view.mask_id(n)``, ``ctx.view.mask_phone(p)``,
    ``ctx.view.born(d, year)`` — how the user may see personal data; when not given, the
    principal's view of ``communities``).  Here: the scope (``community_ids``, ``towns``,
    ``community(id)``, ``community_by_code(code)``, ``in_scope(field)``, ``covers_city``,
    ``town_filter``, ``community_filter``), the dates (``year_start``, ``year_end``,
    ``year_over``, ``quarters_ended()``, ``months_ended()``, ``weeks_ended()``) and
    parameters (``params(town)``, ``rule_params(rule_id, town)``).

    ``community(id)`` raises ``KeyError`` for an id outside the scope on every context.
    Deprecated aliases: ``community_ref(id)`` (returns None outside the scope),
    ``everything`` and ``whole_city`` (both ``covers_city``).
    """

    def __post_init__(self):
        if self.view is None:
            self.view = View(self.principal, [c.id for c in self.communities])

    def _lookup(self, name: str, key: str) -> dict:
        cache = self.__dict__.setdefault("_scope_cache", {})
        if name not in cache:
            cache[name] = {getattr(c, key): c for c in self.communities}
        return cache[name]

    # -- scope
    @property
    def community_ids(self) -> list[int]:
        return [c.id for c in self.communities]

    @property
    def towns(self) -> list[str]:
        return sorted({c.town for c in self.communities})

    def _by_id(self) -> dict:
        return self._lookup("by_id", "id")

    def _by_code(self) -> dict:
        return self._lookup("by_code", "code")

    def community_by_code(self, code: str):
        """The ``CommunityRef`` of the community with ``code`` in the scope, or None."""
        return self._by_code().get(code)

    #: ``ctx.community(id)``: :meth:`community_at` (a descriptor, so that a dataclass field of
    #: this name -- the report context's ``--community`` filter -- keeps the call working)
    community = _CommunityAttribute()

    def community_at(self, community_id: int):
        """The ``CommunityRef`` (id, code, name, town, town_id) of a community in the scope;
        ``KeyError`` for an id outside it.  ``ctx.community(id)`` is the same."""
        try:
            return self._by_id()[community_id]
        except KeyError:
            raise KeyError(f"community id {community_id!r} is not in this context's scope") from None

    def community_ref(self, community_id: int):
        """Deprecated: the ``CommunityRef`` of a community in the scope, or None (use ``community(id)``)."""
        return self._by_id().get(community_id)

    def in_scope(self, field_):
        """A peewee condition limiting ``field_`` (a community id column) to the scope."""
        return field_.in_(self.community_ids)

    @property
    def covers_city(self) -> bool:
        """True when the scope is the whole city and this rule, scorer or report serves all of
        it (a city roll-up may be added); False for a narrowed scope or a town-only plugin."""
        d = self.__dict__
        return bool(d.get("whole_city", False) or d.get("everything", False))

    @property
    def everything(self) -> bool:
        """Deprecated alias of :attr:`covers_city`."""
        return self.covers_city

    @property
    def whole_city(self) -> bool:
        """Deprecated alias of :attr:`covers_city`."""
        return self.covers_city

    @property
    def town_filter(self) -> str | None:
        """The ``--town`` the scope was narrowed to (a name), or None."""
        d = self.__dict__
        return d["town"] if "town" in d else self.view.town

    @property
    def community_filter(self) -> str | None:
        """The ``--community`` the scope was narrowed to (a code), or None."""
        d = self.__dict__
        return d["_community_filter"] if "_community_filter" in d else self.view.community

    # -- parameters
    def params(self, town: str | None = None) -> dict:
        """The parameters in force for ``town`` of what runs (a rule's or a scorer's); a report
        has none of its own: ``{}``."""
        return {}

    def rule_params(self, rule_id: str, town: str | None = None) -> dict:
        """A rule's parameters in force for ``town`` (the city's when None): :func:`params_for`."""
        cache = self.__dict__.setdefault("_rule_params_cache", {})
        key = (rule_id, town)
        if key not in cache:
            cache[key] = params_for(rule_id, town)
        return cache[key]

    # -- dates
    @property
    def year_start(self) -> dt.date:
        return dt.date(self.year, 1, 1)

    @property
    def year_end(self) -> dt.date:
        return dt.date(self.year, 12, 31)

    @property
    def year_over(self) -> bool:
        """True when the as-of date is 31 December: yearly obligations fail, not warn."""
        return self.as_of >= self.year_end

    def quarters_ended(self) -> list[Period]:
        """The quarters of the year ended by the as-of date (``Period(label, start, end)``, ``2026Q1``)."""
        return quarters_ended(self.year, self.as_of)

    def months_ended(self) -> list[Period]:
        """The months of the year ended by the as-of date (``2026-03``)."""
        return months_ended(self.year, self.as_of)

    def weeks_ended(self) -> list[Period]:
        """The Monday-to-Sunday weeks of the year ended by the as-of date (``2026-W09``)."""
        return weeks_ended(self.year, self.as_of)



@dataclass
class Context(ScopedContext):
    """What a rule's ``evaluate(ctx)`` gets (see ``core.api.Rule``)."""
    rule: Rule
    year: int
    as_of: dt.date
    communities: list[CommunityRef]
    principal: object = None
    lang: str = "zh"
    whole_city: bool = False  # the scope is the whole city (a rule may add a city roll-up)
    _params_cache: dict = field(default_factory=dict)
    view: View | None = None

    def community(self, community_id: int) -> CommunityRef:  # the rule engine's hot path: no extra call
        try:
            return self._by_id()[community_id]
        except KeyError:
            raise KeyError(f"community id {community_id!r} is not in this context's scope") from None

    # -- parameters
    def params(self, town: str | None = None) -> dict:
        """The rule's parameters in force for ``town`` (the city's when None): :func:`params_for`."""
        key = ("p", town)
        if key not in self._params_cache:
            self._params_cache[key] = params_for(self.rule, town)
        return self._params_cache[key]

    # -- findings
    def finding(self, subject, status, message, evidence=None, community=None, town=None) -> Finding:
        """Make a finding of this rule.  ``community`` is a community id, code or
        CommunityRef; ``town`` defaults to the community's town."""
        code = None
        if isinstance(community, CommunityRef):
            code, town = community.code, town or community.town
        elif isinstance(community, int):
            ref = self._by_id().get(community)
            if ref:
                code, town = ref.code, town or ref.town
        elif isinstance(community, str):
            code = community
            if town is None:
                ref = self._by_code().get(community)
                if ref:
                    town = ref.town
        return Finding(rule=self.rule.id, clause=self.rule.clause, status=status, town=town,
                       community=code, subject=str(subject), message=message, evidence=evidence or {})


def params_for(rule: Rule | str, town: str | None = None) -> dict:
    """The parameters in force for ``rule`` (a :class:`Rule`, or a rule id: the rule in force
    in ``town``) in ``town`` (the city's when None).  The one place every rule, screen,
    scorer and report takes a threshold from; layers in :func:`resolve_params`."""
    return resolve_params(rule, town)[0]


def resolve_params(rule: Rule | str, town: str | None = None) -> tuple[dict, dict]:
    """(values, origin) of a rule's parameters for ``town``; last wins:

    the rule's own defaults → ``config/default.toml`` → the town plugins'
    ``dangjian_town_params(town)`` → the city config → its ``[towns."<town>"]``
    section.  A plugin whose hook raises is recorded against it by the plugin
    manager (``dangjian plugins``); nothing is swallowed here.
    """
    from core import config, plugins

    manager = plugins.get()
    if isinstance(rule, str):
        rule_id, found = rule, manager.registry.rule_for(rule, town)
        defaults = found.params if found is not None else {}
    else:
        rule_id, defaults = rule.id, rule.params
    town_defaults = manager.town_params(town).get(rule_id) if town else None
    return config.get().rule_params(rule_id, defaults, town, town_defaults)


# ====================================================================== engine

@dataclass
class CheckResult:
    """What :func:`run_check` returns: the findings, the stored run id (or None),
    the year and as-of date, the communities checked and what the run covered."""
    findings: list
    run_id: int | None
    year: int
    as_of: dt.date
    communities: list = field(default_factory=list)
    scope: RunScope = field(default_factory=RunScope)
    evidence_json: list | None = None  # the findings' evidence as compact JSON (when stored), same order
    view: View | None = None  # the view checked: outputs show the findings as it shows them (core.findings.shown)
    refs: list | None = None  # the ref of each finding's subject (run_check(prepare=True)), same order
    holds: list | None = None  # whether each evidence text may hold personal data the view masks (prepare)
    light: bool = False  # each finding's evidence let go (None): evidence_json holds it (run_check(light=True))

    @property
    def counts(self) -> dict:
        out: dict = {}
        for f in self.findings:
            out[f.status] = out.get(f.status, 0) + 1
        return out

    @property
    def exit_code(self) -> int:
        """The exit code: 2 for any error finding, else 1 for any fail, else 0."""
        c = self.counts
        return 2 if c.get("error") else 1 if c.get("fail") else 0


def _variants_with_scope(registry, rule_id: str, communities: list[CommunityRef]):
    """[(rule, communities it runs for)]: a town-only replacement for its towns, the general rule elsewhere."""
    out = []
    for rule in registry.rule_variants(rule_id):
        mine = [c for c in communities if registry.rule_for(rule_id, c.town) is rule]
        out.append((rule, mine))
    return out


def run_check(year=None, as_of=None, town=None, community=None, rule_ids=None, principal=None,
              store=True, prepare=False, light=False) -> CheckResult:
    """Run every registered rule (or ``rule_ids``) over the scope; store the findings.

    Dates follow :func:`resolve_dates`.  The scope is the view
    (:meth:`core.view.View.of`) of the principal (default: the current user)
    narrowed to ``town`` (name) and ``community`` (code).  Findings carry full
    subjects (ID numbers too); every output shows them through the view
    (:func:`core.findings.shown`).  Each variant of a rule (the general one and any town-only
    replacement) runs with its own :class:`Context` over its communities.  A
    rule that raises gives one ``error`` finding naming the rule and its
    plugin; a plugin with load or hook errors gives an ``error`` finding per
    error.  With ``store`` the run is kept (:mod:`core.findings`).  With ``prepare`` (or
    ``store``) the result carries each finding's evidence as text (``evidence_json``) and, with
    ``prepare``, the ``ref`` of each finding's subject (``refs``), made by the process that ran
    the rule where the rules ran in two, and whether each evidence text may hold personal data
    the view masks (``holds``): what the outputs and the store need of a finding besides
    itself.  With ``light`` (and ``prepare`` or ``store``), each finding's evidence is let go
    (None) once it is encoded, by the process that ran its rule: ``evidence_json`` holds it (a
    province's ~2 million evidence dicts are never held, nor sent between the processes) --
    unless a plugin that failed to load taints the run, whose findings are made again after
    the rules.
    """
    from core import access, findings as findings_store, plugins
    from core.errors import UserError
    from core.i18n import get_lang, tr

    if isinstance(as_of, str):
        try:
            as_of = dt.date.fromisoformat(as_of)
        except ValueError:
            raise UserError(tr("日期格式应为 YYYY-MM-DD：{d}", "a date YYYY-MM-DD is expected: {d}", d=as_of)) from None
    year, as_of = resolve_dates(year, as_of)
    if principal is None:
        principal = access.current()
    manager = plugins.get()
    registry = manager.registry
    all_ids = registry.rule_ids()
    if rule_ids:
        unknown = [r for r in rule_ids if r not in all_ids]
        if unknown:
            raise UserError(tr("未知规则：{r}；已有：{k}", "unknown rule: {r}; known: {k}",
                               r=", ".join(unknown), k=", ".join(all_ids)))
        ids_to_run = [r for r in all_ids if r in set(rule_ids)]
    else:
        ids_to_run = all_ids
    view = View.of(principal, town, community)
    communities = view.communities()
    whole_city = view.everything
    lang = get_lang()
    findings: list[Finding] = []
    light = light and (prepare or store) and not any(f.at_load for f in plugins.relevant(
        manager.load_failures(), {c.town for c in communities}, whole_city))
    # A city-wide run keeps ~200k findings alive; the cyclic GC would rescan them
    # on every collection (measured on the city demo: 7.7 s of rules with the GC,
    # 6.2 s without; gc.freeze between rules helps less; peak memory the same).
    # Rules free their data by reference counting, so the GC waits until the end.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    _run_cache.data = {}
    try:
        with manager.watch() as raised:  # this run's failing hooks (each also taints what it fed)
            made = _run_rules(ids_to_run, registry, communities, whole_city, year, as_of, view, lang, findings,
                              (prepare or store, prepare, light))
    finally:
        _run_cache.data = None
        if gc_was_enabled:
            gc.enable()
    # a plugin that failed to load taints every result of the towns it serves: error findings, one per subject
    touching = plugins.relevant(manager.load_failures() + raised, {c.town for c in communities}, whole_city)
    loads = [f for f in touching if f.at_load]
    if loads:
        findings[:] = plugins.taint_findings(findings, loads, {c.town for c in communities})
        made = None
    extra = plugins.plugin_findings(touching)
    findings.extend(extra)
    evidence_json = refs = holds = None
    if prepare or store:
        if made is None:  # made here, of every finding
            made, extra = ([], [], []), findings
        more = _prepared(extra, view, prepare)
        evidence_json = made[0] + more[0]
        if prepare:
            refs, holds = made[1] + more[1], made[2] + more[2]
    if light:  # the rest (one process, or the plugins' own findings) let go here
        for f in extra:
            f.evidence = None
    scope = findings_store.run_scope(town, community, rule_ids, principal)
    run_id = findings_store.store_run(findings, year, as_of, scope, principal, evidence_json) if store else None
    return CheckResult(findings, run_id, year, as_of, communities, scope, evidence_json, view, refs, holds, light)


_run_cache = threading.local()


def _run_rules(ids_to_run, registry, communities, whole_city, year, as_of, view, lang, findings, make=(False,) * 3):
    """The rules' findings added to ``findings``.  Where the rules ran in two processes and
    ``make`` asks (``(encode, refs, light)``: each process makes those of its own rules'
    findings, :func:`_prepared`), returns ``(evidence texts, refs, holds)`` of them (refs and
    holds only with ``refs``), else None; with ``light`` each process lets go of the evidence
    it encoded (:func:`run_check`)."""
    args = (registry, communities, whole_city, year, as_of, view, lang)
    if len(ids_to_run) > 1 and fork_wanted(communities):
        done, made = _run_rules_in_two(ids_to_run, args, make)
        findings.extend(done)
        return made
    for rid in ids_to_run:
        findings.extend(_run_rule(rid, *args))
    return None


def _prepared(findings, view, refs: bool = True) -> tuple[list, list, list]:
    """What the outputs and the store need of ``findings`` besides themselves: each one's
    evidence as text, and with ``refs`` its subject's ``ref`` and whether the text may hold
    personal data that ``view`` masks (else two empty lists: what the store alone needs)."""
    from core import findings as findings_store

    texts = findings_store.evidence_texts(findings)
    if not refs:
        return texts, [], []
    return texts, view.finding_refs(findings), view.holding_personal(texts)


def _run_rule(rid, registry, communities, whole_city, year, as_of, view, lang) -> list[Finding]:
    """The findings of rule ``rid`` (each variant over its communities)."""
    from core import plugins

    findings: list[Finding] = []
    for rule, comms in _variants_with_scope(registry, rid, communities):
        if not comms and not (rule.towns is None and whole_city and rule.subjects == "town"):
            continue
        ctx = Context(rule=rule, year=year, as_of=as_of, communities=comms, principal=view.principal, lang=lang,
                      whole_city=whole_city and rule.towns is None, view=view)
        manager = plugins.get()
        with manager.watch() as seen:  # plugin hooks that raise while the rule runs (split, params)
            try:
                out = list(rule.evaluate(ctx) or [])
                for f in out:
                    if not isinstance(f, Finding):
                        raise TypeError(f"evaluate() yielded {type(f).__name__}, not a Finding")
            except Exception as exc:  # a rule that raises: an error finding per community, the rest go on
                findings.extend(plugins.rule_raised(rule, exc, comms, ctx.whole_city))
                continue
        manager.ran(rule.plugin or "?", f"rule {rule.id}", None if ctx.whole_city else {c.town for c in comms})
        # what a raising hook fed is an error finding, never the city's answer
        findings.extend(plugins.taint_findings(out, seen, [c.town for c in comms]) if seen else out)
    return findings


def _plain_evidence(done: dict) -> dict:
    """The worker's findings with each evidence that pickle cannot carry made plain as it is
    stored (JSON, ``str`` for anything else): what every output shows of it anyway."""
    import json
    import pickle

    out = {}
    for i, (rows, made) in done.items():
        try:
            pickle.dumps(rows, pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001
            rows = [r[:7] + (json.loads(json.dumps(r[7], ensure_ascii=False, default=str)),) + r[8:] for r in rows]
        out[i] = (rows, made)
    return out


#: Communities in scope from which a check runs its rules in two processes (``auto``).
FORK_MIN_COMMUNITIES = 20


def fork_wanted(communities) -> bool:
    """Run the rules (and then write the output while the run is stored) in two processes?  ``DANGJIAN_CHECK_WORKER``: ``0`` never, ``1`` always (where
    possible), else when the scope is large and there are two CPUs."""
    from core import procs

    return procs.wanted("DANGJIAN_CHECK_WORKER", len(communities), FORK_MIN_COMMUNITIES)


_SUBJECT_WEIGHT = {"member": 0, "organization": 1, "worker": 2}  # rules over members cost the most


def _run_rules_in_two(ids_to_run, args, make=(False,) * 3) -> tuple[list[Finding], tuple | None]:
    """The rules' findings, in the order of ``ids_to_run``, computed by this process and a forked
    worker together: each takes the next rule not yet taken (the costly kinds first) until none
    is left; the worker sends back its findings and the plugin failures it saw.  ``make``
    (``(encode, refs, light)``): each also makes the evidence texts (and refs and holds) of its
    own rules' findings (:func:`_prepared`), returned with them as ``(texts, refs, holds)``
    (else None), and with ``light`` lets go of each evidence so made (the worker sends none).
    A worker that fails is an error of the whole check (nothing is stored), never a silent
    half."""
    from core import plugins, procs
    from core.errors import UserError
    from core.i18n import tr

    registry, view = args[0], args[5]
    prepare, with_refs, light = make
    order = sorted(range(len(ids_to_run)), key=lambda i: (
        min((_SUBJECT_WEIGHT.get(r.subjects, 3) for r in registry.rule_variants(ids_to_run[i])), default=3), i))
    next_task = procs.work_queue(len(order))

    def take():
        k = next_task()
        return None if k is None else order[k]

    def worker():
        done = {}
        with plugins.get().watch() as seen:
            while (i := take()) is not None:
                out = _run_rule(ids_to_run[i], *args)
                made = _prepared(out, view, with_refs) if prepare else None
                done[i] = ([(f.rule, f.clause, f.status, f.town, f.community, f.subject, f.message,
                             None if light else f.evidence, f.ref) for f in out], made)
            view.forget_finding_refs()  # before its findings are pickled
        # the hooks that ran without failing too (core.plugin_status forgets their last failures)
        return done, (list(seen), plugins.get().ran_so_far())

    def here() -> dict[int, list]:
        mine = {}
        while (i := take()) is not None:
            out = _run_rule(ids_to_run[i], *args)
            mine[i] = (out, _prepared(out, view, with_refs) if prepare else None)
            if light:
                for f in out:
                    f.evidence = None
        view.forget_finding_refs()  # before the worker's findings are read in: a lower peak
        return mine

    try:  # evidence pickle cannot carry comes back as it is stored
        mine, (done, seen) = procs.in_two(worker, here, plain=lambda v: (_plain_evidence(v[0]), v[1]))
    except procs.WorkerFailed as exc:
        raise UserError(tr("检查的工作进程出错，未保存任何结论：\n{e}", "the check's worker process failed; "
                           "nothing was stored:\n{e}", e=exc.detail)) from None
    seen, ran = seen
    plugins.get().adopt(seen)
    plugins.get().adopt_ran(ran)
    for i, (rows, made) in done.items():
        mine[i] = ([Finding(*r) for r in rows], made)
    parts = [mine[i] for i in range(len(ids_to_run))]
    found = [f for out, _ in parts for f in out]
    if not prepare:
        return found, None
    return found, tuple([x for _, made in parts for x in made[k]] for k in range(3))


# ====================================================================== explain

def clause_text(clause: int | None) -> str:
    """The Chinese text of 第N条 of 昆组字〔2011〕23号 (shipped in core/clauses.json)."""
    import json
    from pathlib import Path

    if clause is None:
        return ""
    data = json.loads((Path(__file__).with_name("clauses.json")).read_text(encoding="utf-8"))
    return data["clauses"].get(str(clause), "")


def explain(rule_id: str, town: str | None = None, lang: str | None = None) -> dict:
    """What ``dangjian check --explain RULE`` shows: the clause's text, the
    parameters in force for ``town`` (or the city) and where each came from,
    what counts as pass, and the plugin (and town variants) providing it."""
    from core import plugins
    from core.errors import UserError
    from core.i18n import get_lang, tr

    lang = lang or get_lang()
    registry = plugins.get().registry
    rule = registry.rule_for(rule_id, town)
    if rule is None:
        raise UserError(tr("未知规则：{r}；已有：{k}", "unknown rule: {r}; known: {k}",
                           r=rule_id, k=", ".join(registry.rule_ids())))
    values, origin = resolve_params(rule, town)
    variants = [{"plugin": r.plugin, "towns": r.towns} for r in registry.rule_variants(rule_id)]
    return {
        "rule": rule.id, "clause": rule.clause, "title": rule.title(lang), "plugin": rule.plugin,
        "subjects": rule.subjects, "town": town, "clause_text": clause_text(rule.clause),
        "params": [{"name": k, "value": v, "origin": origin.get(k, "default")} for k, v in values.items()],
        "passes": (rule.description_zh if lang == "zh" else rule.description_en) or rule.description_zh,
        "variants": variants,
    }


# ====================================================================== shared set-based queries
# Rules of every plugin may use these (one query for the whole scope each).

LEADER_POSTS = ("secretary", "director")


@dataclass
class WorkerRow:
    """A worker in post at a date, with the posts held then (codes)."""
    id: int
    id_number: str
    name: str
    community_id: int
    birth_date: dt.date | None
    education: str | None
    certificate: str
    certificate_date: dt.date | None
    college_graduate: bool
    backup_talent: bool
    filing_date: dt.date | None
    posts: set = field(default_factory=set)
    post_ids: list = field(default_factory=list)

    def age_on(self, on: dt.date) -> int | None:
        from core import ids

        birth = self.birth_date
        if birth is None and self.id_number:
            try:
                birth = ids.birth_date(self.id_number)
            except ValueError:
                return None
        return ids.age_on(birth, on) if birth else None

    @property
    def is_secretary(self) -> bool:
        return "secretary" in self.posts

    @property
    def is_leader(self) -> bool:
        return bool(self.posts & set(LEADER_POSTS))


def run_cached(key, compute):
    """Inside :func:`run_check`, compute a value once per run (rules that need the
    same rows share them); outside a run, just compute it."""
    cache = getattr(_run_cache, "data", None)
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def workers_in_post(community_ids, on: dt.date) -> list[WorkerRow]:
    """Workers in post at ``on`` in these communities, with the posts they held
    that day (WorkerPost start ≤ on < end).  In post: status 在岗 and hired by
    then, or 退出 since but holding a post that day whose end is recorded
    (a past year's check uses the posts held then).  Two queries, once per run.
    Treat the list as read-only: rules of one run share it."""
    ids = list(community_ids)
    return run_cached(("workers_in_post", tuple(ids), on), lambda: _workers_in_post(ids, on))


def _workers_in_post(ids, on: dt.date) -> list[WorkerRow]:
    from core.models import Worker, WorkerPost

    held = {}
    pq = (WorkerPost.select(WorkerPost.id, WorkerPost.worker, WorkerPost.post, WorkerPost.end_date)
          .join(Worker, on=(WorkerPost.worker == Worker.id))
          .where(Worker.community.in_(ids), WorkerPost.start_date <= on,
                 (WorkerPost.end_date.is_null()) | (WorkerPost.end_date > on)))
    for p in pq.tuples():
        held.setdefault(p[1], []).append(p)
    out = []
    wq = Worker.select(Worker.id, Worker.id_number, Worker.name, Worker.community, Worker.birth_date,
                       Worker.education, Worker.certificate, Worker.certificate_date, Worker.college_graduate,
                       Worker.backup_talent, Worker.filing_date, Worker.status, Worker.hired_date
                       ).where(Worker.community.in_(ids)).order_by(Worker.id)
    for w in wq.tuples():
        wid, status, hired = w[0], w[11], w[12]
        posts = held.get(wid, [])
        if status == "active":
            if hired is not None and hired > on:
                continue
        elif not any(p[3] is not None for p in posts):
            continue
        out.append(WorkerRow(wid, w[1], w[2], w[3], w[4], w[5], w[6] or "none", w[7], bool(w[8]), bool(w[9]),
                             w[10], {p[2] for p in posts}, [p[0] for p in posts]))
    return out


def yearly_status(ctx: Context) -> str:
    """The status of an unmet yearly obligation: ``fail`` once the year is over, else ``warn``."""
    return "fail" if ctx.year_over else "warn"
