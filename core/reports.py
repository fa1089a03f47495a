"""Reports (报表): a report over a scope, in every output format (the command
``dangjian report NAME`` is :mod:`core.cli.report`).

A report is a :class:`core.Report` registered through
``dangjian_register_reports``; its ``run(ctx)`` returns a table —
``(headers, rows)`` or a :class:`ReportTable` — or, for an HTML-only report
(``formats=("html",)``), a whole page as a string.

``ctx`` (:class:`ReportContext`) carries ``year``, ``as_of``, ``town``,
``community`` (the filters as given), ``communities`` (the
``CommunityRef`` list in scope: filters and the user's scope), ``principal``,
``lang``, ``view`` (:class:`core.view.View`: ``view.mask_id()`` /
``view.mask_phone()`` / ``view.born()`` show personal data as the user may see
them), ``findings()`` (rule findings for the scope, computed once),
``score(name)`` (a scorer's results for the scope) and
``rule_params(rule_id, town)``.  Whatever a report returns is shown through
the view as well: an ID number or mobile number left in a cell or a page is
masked for a user without full personal data.  A table whose rows name people
by ID number and that has no 标识 column of its own gets one (last), the stable
opaque ``ref`` of each person's record (:meth:`core.view.View.ref`), and each
JSON record naming a person a ``ref``: masked ID numbers can coincide.

Failed plugins withhold, never fall back: a report runs only over the towns no
failed plugin taints (and a bound plugin's report only over its towns); a
plugin hook that raises while the report runs (a town's funding split, its
parameters) withholds that town too, and the report is run again without it;
a report that raises withholds all its rows.  When any town is withheld the
city's roll-up rows (first cells 全市 / city) are withheld as well.  What was
withheld is :attr:`ReportTable.withheld` (``(town, core.plugins.Failure)``):
``dangjian report`` names plugin, town and hook on stderr and exits 2.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from core.errors import UserError
from core.i18n import get_lang, tr
from core.rules import ScopedContext
from core.view import View


@dataclass
class ReportTable:
    """A report's table: headers and rows; optional title, JSON records and a status column (HTML colours)."""
    headers: list
    rows: list
    title: str | None = None
    records: list | None = None
    status_col: int | None = None
    notes: list = field(default_factory=list)
    withheld: list = field(default_factory=list)  # (town or None, core.plugins.Failure): rows not shown


@dataclass
class ReportContext(ScopedContext):
    report: object
    year: int
    as_of: dt.date
    town: str | None
    community: str | None
    communities: list
    principal: object = None
    lang: str = "zh"
    everything: bool = False
    _cache: dict = field(default_factory=dict)
    view: View | None = None
    withheld: list = field(default_factory=list)  # (town, Failure) left out of this run (see the module doc)

    def community_ref(self, community_id: int):
        return self._by_id().get(community_id)

    def rule_params(self, rule_id: str, town: str | None = None) -> dict:
        from core.scoring import rule_params

        key = ("r", rule_id, town)
        if key not in self._cache:
            self._cache[key] = rule_params(rule_id, town)
        return self._cache[key]

    def findings(self) -> list:
        """Rule findings for the communities in scope (one rule-engine run, not stored)."""
        if "findings" not in self._cache:
            from core.scoring import check_findings

            self._cache["findings"] = check_findings(self.year, self.as_of, self.communities, self.principal) \
                if self.communities else []
        return self._cache["findings"]

    def finding_counts(self) -> dict:
        """``{(community code, rule id, status): n}`` for the scope (cheap from a current stored run)."""
        if "counts" not in self._cache:
            from core.scoring import count_findings, finding_counts

            if "findings" in self._cache:
                self._cache["counts"] = count_findings(self._cache["findings"])
            else:
                self._cache["counts"] = finding_counts(self.year, self.as_of, self.communities, self.principal) \
                    if self.communities else {}
        return self._cache["counts"]

    def score(self, name: str):
        """A :class:`core.scoring.ScoreRun` of scorer ``name`` over the scope."""
        key = ("score", name)
        if key not in self._cache:
            from core.scoring import run_scorer_full

            counts = self.finding_counts() if name == "community-score" else None
            self._cache[key] = run_scorer_full(name, self.year, self.as_of, counts=counts, view=self.view)
        return self._cache[key]

    def table(self, headers, rows, title=None, records=None, status_col=None) -> ReportTable:
        return ReportTable(list(headers), list(rows), title, records, status_col)


def get_report(name: str):
    from core import plugins

    reg = plugins.get().registry
    report = reg.reports.get(name)
    if report is None:
        raise UserError(tr("没有名为 {n} 的报表；可选：{a}", "no report named {n}; choose from: {a}",
                           n=name, a=", ".join(sorted(reg.reports)) or "-"))
    return report


def make_context(report, year=None, as_of=None, town=None, community=None, principal=None) -> ReportContext:
    from core.rules import resolve_dates

    if isinstance(as_of, str):
        from core.scoring import parse_date

        as_of = parse_date(as_of, "--as-of")
    year, as_of = resolve_dates(year, as_of)
    view = View.of(principal, town, community)
    return ReportContext(report, year, as_of, town, community, view.communities(), view.principal, get_lang(),
                         view.everything, view=view)


def run_report(name: str, year=None, as_of=None, town=None, community=None, principal=None):
    """Run report ``name``: a :class:`ReportTable` or, for an HTML-only report, the page (str).

    What failed plugins withheld is the table's ``withheld`` (for a page: :func:`last_withheld`)."""
    report = get_report(name)
    ctx = make_context(report, year, as_of, town, community, principal)
    result = run_guarded(report, ctx)
    out = normalise(report, result, ctx) if result is not None else ReportTable([], [])
    if isinstance(out, ReportTable):
        if ctx.withheld:
            out.rows = [r for r in out.rows if not _city_rollup(r)]
            if out.records is not None:
                out.records = [r for r in out.records if not (isinstance(r, dict) and _city_rollup(list(r.values())))]
        out.withheld = list(ctx.withheld)
    _last.withheld = list(ctx.withheld)
    return out


_last = __import__("threading").local()


def last_withheld() -> list:
    """(town, Failure) withheld by this thread's last :func:`run_report` (HTML pages carry no table)."""
    return list(getattr(_last, "withheld", []))


_CITY_CELLS = {"全市", "city", "全市合计", "city total"}


def _city_rollup(row) -> bool:
    return any(isinstance(c, str) and c.strip() in _CITY_CELLS for c in list(row)[:3])


def _narrow(ctx, keep) -> None:
    ctx.communities = [c for c in ctx.communities if keep(c)]
    ctx.everything = False
    ctx.view = View(ctx.principal, [c.id for c in ctx.communities], ctx.town, ctx.community_filter)
    ctx._cache.clear()
    ctx.__dict__.pop("_scope_cache", None)


def run_guarded(report, ctx):
    """``report.run(ctx)`` over what no failed plugin taints (see the module doc); None when
    the report itself raised (every row withheld).  ``ctx.withheld`` says what was left out."""
    from core import plugins

    manager = plugins.get()
    reg = manager.registry
    limit = reg.report_towns.get(report.name)
    if limit is not None and any(c.town not in limit for c in ctx.communities):
        _narrow(ctx, lambda c: c.town in limit)  # a bound plugin's report: its towns only
    tainted = manager.tainted_towns({c.town for c in ctx.communities})
    for town, fs in tainted.items():
        ctx.withheld.extend((town, f) for f in fs)
    if tainted:
        _narrow(ctx, lambda c: c.town not in tainted)
    for _attempt in range(50):
        with manager.watch() as seen:
            try:
                result = report.run(ctx)
            except UserError:
                raise
            except Exception as exc:  # the report raised: all its rows are withheld
                towns = sorted({c.town for c in ctx.communities}) or None
                f = manager.hook_error(report.plugin or "?", f"report {report.name}", exc,
                                       towns=towns if not ctx.everything else manager.towns_of(report.plugin or "?"))
                ctx.withheld.extend((t, f) for t in (f.towns or [None]))
                return None
        manager.ran(report.plugin or "?", f"report {report.name}",
                    None if ctx.everything else {c.town for c in ctx.communities})
        scope = {c.town for c in ctx.communities}
        hit = set()
        for f in seen:
            for t in (f.towns if f.towns is not None else scope):
                if t in scope:
                    hit.add(t)
                    if (t, f) not in ctx.withheld:
                        ctx.withheld.append((t, f))
        if not hit:
            return result
        _narrow(ctx, lambda c: c.town not in hit)  # run again without the towns a raising hook fed
    return None


def normalise(report, result, ctx):
    """The report's page or :class:`ReportTable`, shown through the context's view (ID numbers
    and mobile numbers in any text masked unless the user may see them)."""
    view = ctx.view
    if isinstance(result, str):
        return view.mask_text(result)
    if isinstance(result, ReportTable):
        table = result
    elif isinstance(result, (tuple, list)) and len(result) in (2, 3):
        table = ReportTable(list(result[0]), list(result[1]))
        if len(result) == 3 and isinstance(result[2], dict):
            for k, v in result[2].items():
                setattr(table, k, v)
    else:
        raise UserError(tr("报表 {n}（插件 {p}）返回的不是表格", "report {n} (plugin {p}) did not return a table",
                           n=report.name, p=report.plugin))
    if table.title is None:
        table.title = f"{report.title(get_lang())} {ctx.year}"
    _add_refs(table, view)
    if not view.full_personal_data:
        # the 标识 column is an opaque id, never personal data: a run of its hex digits that
        # reads like a phone number must stay as it is
        keep = {i for i, h in enumerate(table.headers) if str(h) in _REF_HEADERS}
        table.rows = [[c if i in keep else view.mask_text(c) for i, c in enumerate(r)] for r in table.rows]
        if table.records is not None:
            table.records = [_masked_record(view, r) for r in table.records]
        table.notes = [view.mask_text(n) for n in table.notes or []]
    return table


def _masked_record(view: View, record):
    """A report record as ``view`` shows it, its ``ref`` kept as it is."""
    if isinstance(record, dict) and "ref" in record:
        out = view.mask_json({k: v for k, v in record.items() if k != "ref"})
        out["ref"] = record["ref"]
        return out
    return view.mask_json(record)


_FULL_ID = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)
_MASKED_ID = re.compile(r"[0-9]{6}\*{8}[0-9]{3}\*", re.ASCII)
_REF_HEADERS = ("标识", "ref")


def _id_form(value) -> bool:
    """An ID number, full or masked, filling a whole cell."""
    return isinstance(value, str) and (_FULL_ID.fullmatch(value) is not None
                                       or _MASKED_ID.fullmatch(value) is not None)


class _People:
    """The people (members or workers in the view) a table's ID numbers name: a full number
    names itself; a masked one is told apart by a name shown beside it.  Only the ``ref``
    of what is found leaves here."""

    def __init__(self, view: View, numbers: set, texts: set):
        from core import ids
        from core.models import Member, Worker

        self.view = view
        self.index: dict = {"member": {}, "worker": {}}
        full = sorted(n for n in numbers if _FULL_ID.fullmatch(n))
        names = sorted(t for t in texts if 0 < len(t) <= 50)
        for table, model in (("member", Member), ("worker", Worker)):
            idx = self.index[table]
            for chunk in (full[i:i + 500] for i in range(0, len(full), 500)):
                for number, name in view.select(model, model.id_number, model.name) \
                        .where(model.id_number.in_(chunk)).tuples():
                    idx.setdefault((number, None), set()).add(number)
            for chunk in (names[i:i + 500] for i in range(0, len(names), 500)):
                for number, name in view.select(model, model.id_number, model.name) \
                        .where(model.name.in_(chunk)).tuples():
                    idx.setdefault((ids.mask(number), name), set()).add(number)
        self.table = "worker" if self._hits("worker", numbers, texts) > self._hits("member", numbers, texts) \
            else "member"

    def _hits(self, table, numbers, texts) -> int:
        return len([n for n in numbers if (n, None) in self.index[table]]) + \
            len([k for k in self.index[table] if k[1] is not None and k[0] in numbers])

    def ref(self, number: str, beside) -> str:
        """The ref of the person whose ID number shows as ``number`` in a row showing ``beside``."""
        idx = self.index[self.table]
        found = set(idx.get((number, None), ()))
        if not found:
            for text in beside:
                found |= idx.get((number, text), set())
        return self.view.ref(self.table, next(iter(found))) if len(found) == 1 else ""


def _add_refs(table: ReportTable, view: View) -> None:
    """The 标识 column (and records' ``ref``) of a table whose rows name people by ID number;
    a table with a 标识 of its own is left as it is."""
    if any(str(h) in _REF_HEADERS for h in table.headers):
        return
    col = next((i for i in range(len(table.headers)) if any(len(r) > i and _id_form(r[i]) for r in table.rows)),
               None)
    recs = [r for r in table.records or () if isinstance(r, dict) and "ref" not in r]
    rec_ids = [next((v for v in r.values() if _id_form(v)), None) for r in recs]
    numbers = {r[col] for r in table.rows if len(r) > col and _id_form(r[col])} if col is not None else set()
    numbers |= {n for n in rec_ids if n}
    if not numbers:
        return
    texts = {c for r in table.rows for c in r if isinstance(c, str)}
    texts |= {v for r in recs for v in r.values() if isinstance(v, str)}
    people = _People(view, numbers, texts)
    if col is not None:
        table.headers = [*table.headers, tr("标识", "ref")]
        table.rows = [[*r, people.ref(r[col], [c for c in r if isinstance(c, str)])
                       if len(r) > col and _id_form(r[col]) else ""] for r in table.rows]
    for r, number in zip(recs, rec_ids):
        if number:
            r["ref"] = people.ref(number, [v for v in r.values() if isinstance(v, str)])


def html_only(report) -> bool:
    return tuple(report.formats) == ("html",)
