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
masked for a user without full personal data.
"""
from __future__ import annotations

import datetime as dt
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
    """Run report ``name``: a :class:`ReportTable` or, for an HTML-only report, the page (str)."""
    report = get_report(name)
    ctx = make_context(report, year, as_of, town, community, principal)
    return normalise(report, report.run(ctx), ctx)


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
    if not view.full_personal_data:
        table.rows = [[view.mask_text(c) for c in r] for r in table.rows]
        table.records = view.mask_json(table.records) if table.records is not None else None
        table.notes = [view.mask_text(n) for n in table.notes or []]
    return table


def html_only(report) -> bool:
    return tuple(report.formats) == ("html",)
