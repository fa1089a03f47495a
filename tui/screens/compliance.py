"""Compliance (合规检查): rules × communities, red / amber / green.

Reads the latest stored check run of the year (``dangjian check`` keeps every
run; the dashboard and this screen never re-run a city-wide check just to
draw); ctrl+r re-checks the view's scope in a worker.  Rows are the rules
(clause and title), columns the communities; a cell is red when a finding
fails (or errored), amber for warnings, green when everything passes.

A view of more communities than a screen can show (a province's thousands) is
drawn one column per town; Enter on a town's column shows its communities, Esc
goes back up to the towns.

Enter on a cell lists its findings; Enter on a finding shows its message,
the clause's text and the records behind it (the evidence carries their
ids); Enter on a record opens it in the record form.
"""
from __future__ import annotations

import json

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from core.i18n import tr
from core.numbers import format_count
from core.read.compliance import (cell_findings, clause_text, compliance_matrix, evidence_records, grid_of,
                                  status_colour)
from tui.api import DangjianScreen, fit, tb

COLOUR = {"red": "bold white on dark_red", "amber": "black on dark_orange", "green": "black on green4",
          "grey": "dim"}


def cell_text(counts: dict) -> str:
    colour = status_colour(counts)
    if colour == "red":
        n = counts.get("fail", 0) + counts.get("error", 0)
        return tr("不符{n}", "fail{n}", n=format_count(n)) if counts.get("fail") \
            else tr("错误{n}", "err{n}", n=format_count(n))
    if colour == "amber":
        return tr("提醒{n}", "warn{n}", n=format_count(counts.get("warn", 0)))
    if colour == "green":
        return tr("通过", "ok")
    return ""


def run_and_load(year: int, view):
    """Check the view now (the run is stored), then load it as :func:`load_matrix` does."""
    from core import rules

    rules.run_check(year=year, town=view.town, community=view.community, principal=view.principal,
                    light=True)  # stored, then read from the store: no evidence kept here
    return load_matrix(year, view)


def load_matrix(year: int, view):
    """(run, matrix) of the latest stored run of ``year`` covering the app's view (a
    :class:`core.view.View`; :func:`core.findings.find_run`, as the dashboard);
    (None, None) if there is none."""
    from core.findings import find_run

    from core.read.scopes import last_change_at

    run = find_run(view.community_ids, year)
    if run is None:
        return None, None
    matrix = compliance_matrix(view, run.id)
    matrix["changed_at"] = last_change_at(view)
    return run, matrix


class ComplianceScreen(DangjianScreen):
    SCREEN_NAME = "compliance"
    BINDINGS = [
        tb("ctrl+r", "run_check", "重新检查|Re-check", id="compliance.run"),
        tb("escape", "up", "返回|Back", id="compliance.up", show=False),
    ]
    DEFAULT_CSS = """
    ComplianceScreen #comp-info { height: auto; max-height: 3; padding: 0 1; color: $text-muted; }
    ComplianceScreen #comp-grid { height: 1fr; }
    ComplianceScreen #comp-cursor { height: 1; padding: 0 1; background: $boost; }
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.run = None  # the CheckRun shown
        self.matrix: dict | None = None
        self.town: str | None = None  # the town whose communities a by-town grid shows
        self.grid: dict | None = None  # what the grid shows of the matrix (core.read.compliance.grid_of)
        self.running = False

    def compose_body(self) -> ComposeResult:
        yield Static("", id="comp-info")
        yield DataTable(id="comp-grid", cursor_type="cell", fixed_columns=1)
        yield Static("", id="comp-cursor", markup=False)

    def refresh_data(self) -> None:
        app = self.app
        self.run_db(load_matrix, app.year, app.view, on_done=self._show, group="load")

    def action_run_check(self) -> None:
        if self.running:
            return
        self.running = True
        self.query_one("#comp-info", Static).update(tr("正在检查……", "checking…"))
        app = self.app
        self.run_db(run_and_load, app.year, app.view, on_done=self._checked, group="check")

    def _checked(self, result) -> None:
        self.running = False
        self._show(result)

    def _show(self, result) -> None:
        run, matrix = result
        self.run, self.matrix = run, matrix
        info = self.query_one("#comp-info", Static)
        t = self.query_one("#comp-grid", DataTable)
        t.clear(columns=True)
        if run is None:
            self.grid = None
            info.update(tr("{y}年尚无检查结果，按 ctrl+r 检查", "no check run for {y} yet; ctrl+r runs one",
                           y=self.app.year))
            return
        if self.town is not None and not any(c["town"] == self.town and c["kind"] == "community"
                                             for c in matrix["communities"]):
            self.town = None  # the town drilled into is no longer in the view
        counts = json.loads(run.counts or "{}")
        text = Text(tr("检查时间 {t} 截至 {a}  不符合 {f} 提醒 {w} 错误 {e}  Enter 查看",
                       "run {t} as of {a}  fail {f} warn {w} error {e}  Enter opens",
                       t=str(run.started_at)[:16], a=run.as_of, f=counts.get("fail", 0),
                       w=counts.get("warn", 0), e=counts.get("error", 0)))
        changed = matrix.get("changed_at")
        try:
            stale = changed is not None and run.started_at is not None and changed >= run.started_at
        except TypeError:
            stale = False
        if stale:
            text.append("\n" + tr("记录在检查后有改动（{t}），ctrl+r 重新检查", "records changed since ({t}); ctrl+r re-checks",
                                  t=str(changed)[:16]), style="bold yellow")
        self._info = text
        self._regrid(t)
        t.focus()

    def _regrid(self, t: DataTable, keep=None) -> None:
        """Draw the grid of the matrix (by town, or one town's communities) and its info line."""
        self.grid = grid_of(self.matrix, self.town)
        text = self._info.copy()
        if self.town is not None:
            text.append("\n" + tr("{t}的社区 — Esc 返回各区镇", "communities of {t} - Esc back to the towns", t=self.town))
        elif self.grid["by_town"]:
            n = sum(c["kind"] == "community" for c in self.matrix["communities"])
            text.append("\n" + tr("{n}个社区按区镇汇总 — 在区镇上按 Enter 查看其社区",
                                  "{n} communities by town - Enter on a town shows its communities",
                                  n=format_count(n)))
        self.query_one("#comp-info", Static).update(text)
        t.clear(columns=True)
        self._fill_grid(t, self.grid)
        if keep is not None and t.row_count:
            t.cursor_coordinate = keep
        elif t.row_count and len(self.grid["communities"]):
            t.cursor_coordinate = (0, 1)

    async def action_up(self) -> None:
        """Esc: from one town's communities back up to the towns; else back, as everywhere."""
        if self.town is None or self.matrix is None:
            await self.app.run_action("back")
            return
        town, self.town = self.town, None
        t = self.query_one("#comp-grid", DataTable)
        row = t.cursor_coordinate.row
        self._regrid(t)
        cols = [c["code"] for c in self.grid["communities"]]
        if "#" + town in cols:
            t.cursor_coordinate = (row, cols.index("#" + town) + 1)

    def _widths(self) -> tuple[int, int]:
        """(rule column, community column) widths for the screen's width: community names whole
        up to 12 cells when the rule column keeps 24, the rule column up to 48 on a wide terminal."""
        from rich.cells import cell_len

        width = (self.size.width or 80) - 4  # scrollbar and padding
        comms = self.grid["communities"] if self.grid else []
        n = max(1, len(comms))
        need = max([7] + [min(12, cell_len(c["name"])) for c in comms])
        comm_w = need if width - n * (need + 1) >= 24 else 7
        rule_w = max(24, min(48, width - n * (comm_w + 1)))
        return rule_w, comm_w

    def _fill_grid(self, t: DataTable, matrix: dict) -> None:
        rule_w, comm_w = self._widths()
        self._grid_widths = (rule_w, comm_w)
        t.add_column(tr("规则", "Rule"), key="rule", width=rule_w)
        for c in matrix["communities"]:
            t.add_column(fit(c["name"], comm_w), key=c["code"], width=comm_w)
        for r in matrix["rules"]:
            cells = [fit(tr("第{n}条 ", "Cl.{n} ", n=r["clause"]) + r["title"], rule_w)]
            for c in matrix["communities"]:
                counts = matrix["cells"].get((r["rule"], c["code"]))
                if not counts:
                    cells.append("")
                    continue
                colour = matrix["colour"][(r["rule"], c["code"])]
                cells.append(Text(cell_text(counts), style=COLOUR[colour], justify="center"))
            t.add_row(*cells, key=r["rule"])

    def on_resize(self, event) -> None:
        if self.matrix is None or self.run is None:
            return
        if getattr(self, "_grid_widths", None) == self._widths():
            return
        t = self.query_one("#comp-grid", DataTable)
        self._regrid(t, keep=t.cursor_coordinate)

    @on(DataTable.CellHighlighted, "#comp-grid")
    def show_cursor(self, event: DataTable.CellHighlighted) -> None:
        """The highlighted cell's rule title and community in full, below the grid."""
        line = self.query_one("#comp-cursor", Static)
        grid = self.grid
        if grid is None:
            line.update("")
            return
        row, col = event.coordinate
        if row >= len(grid["rules"]):
            return
        r = grid["rules"][row]
        text = tr("第{n}条 {t}", "Clause {n} {t}", n=r["clause"], t=r["title"])
        if col >= 1 and col - 1 < len(grid["communities"]):
            c = grid["communities"][col - 1]
            counts = grid["cells"].get((r["rule"], c["code"]))
            if c["kind"] == "town":
                text += " — " + tr("{t}（{n}个社区）", "{t} ({n} communities)", t=c["name"],
                                   n=format_count(c["communities"]))
            else:
                text += f" — {c['name']}（{c['code']}）"
            if counts:
                text += "  " + cell_text(counts)
        line.update(fit(text, max(10, (self.size.width or 80) - 2)))
        line.tooltip = text

    @on(DataTable.CellSelected, "#comp-grid")
    def open_cell(self, event: DataTable.CellSelected) -> None:
        grid = self.grid
        if grid is None or self.run is None:
            return
        row, col = event.coordinate
        if col == 0 or row >= len(grid["rules"]):
            return
        rule = grid["rules"][row]
        comm = grid["communities"][col - 1]
        if comm["kind"] == "town":  # into the town's communities, the cursor on the same rule
            self.town = comm["town"]
            self._regrid(event.data_table, keep=(row, 1))
            return
        if not grid["cells"].get((rule["rule"], comm["code"])):
            return
        self.app.push_screen(FindingsScreen(self.run.id, rule, comm))


class FindingsScreen(DangjianScreen):
    """The findings of one rule in one community (worst first)."""

    TITLE_ZH = "检查结论"
    TITLE_EN = "Findings"
    DEFAULT_CSS = """
    FindingsScreen #fs-head { height: auto; padding: 0 1; background: $boost; }
    FindingsScreen #fs-table { height: 1fr; }
    """

    def __init__(self, run_id: int, rule: dict, community: dict, **kwargs):
        super().__init__(**kwargs)
        self.run_id = run_id
        self.rule = rule
        self.community = community
        self.rows: list[dict] = []

    def compose_body(self) -> ComposeResult:
        yield Static(tr("第{n}条 {t}（{r}） — {c}", "Clause {n} {t} ({r}) - {c}", n=self.rule["clause"],
                        t=self.rule["title"], r=self.rule["rule"], c=self.community["name"]), id="fs-head",
                     markup=False)
        yield DataTable(id="fs-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        t = self.query_one(DataTable)
        t.add_column(tr("结论", "Status"), key="status", width=6)
        t.add_column(tr("对象", "Subject"), key="subject", width=27)
        t.add_column(tr("说明", "Message"), key="message")
        t.focus()

    def refresh_data(self) -> None:
        self.run_db(cell_findings, self.app.view, self.run_id, self.rule["rule"], self.community["code"],
                    on_done=self._show, group="load")

    def _show(self, rows: list[dict]) -> None:
        self.rows = rows
        t = self.query_one(DataTable)
        t.clear()
        style = {"fail": "bold red", "error": "bold red", "warn": "yellow", "pass": "green", "info": "cyan"}
        message_w = max(10, (self.size.width or 80) - 6 - 27 - 6)  # what is left beside 结论 and 对象
        for i, r in enumerate(rows):  # cut text ends in "…"; Enter shows the finding whole
            t.add_row(Text(r["status_label"], style=style.get(r["status"], "")),
                      fit(r.get("subject_shown") or r["subject"], 27), fit(r["message"], message_w), key=str(i))

    @on(DataTable.RowSelected, "#fs-table")
    def open_finding(self, event: DataTable.RowSelected) -> None:
        i = event.cursor_row
        if 0 <= i < len(self.rows):
            self.app.push_screen(FindingDetailScreen(self.rows[i], self.rule))


class FindingDetailScreen(DangjianScreen):
    """One finding: its message, the records behind it and the clause's text."""

    TITLE_ZH = "结论详情"
    TITLE_EN = "Finding"
    BINDINGS = [
        tb("ctrl+k", "focus_clause", "条款原文|Clause text", id="finding.clause"),
        tb("ctrl+l", "focus_records", "相关记录|Records", id="finding.records"),
    ]
    DEFAULT_CSS = """
    FindingDetailScreen #fd-head { height: auto; max-height: 5; padding: 0 1; background: $boost; }
    FindingDetailScreen #fd-records { height: 1fr; min-height: 4; }
    FindingDetailScreen #fd-clause-box { height: 1fr; min-height: 4; border-top: solid $accent; }
    FindingDetailScreen #fd-clause { padding: 0 1; }
    """

    def __init__(self, finding: dict, rule: dict, **kwargs):
        super().__init__(**kwargs)
        self.finding = finding
        self.rule = rule
        self.records: list[dict] = []

    def compose_body(self) -> ComposeResult:
        f = self.finding
        yield Static(f"{f['status_label']}  {f['rule']}  {tr('对象', 'subject')} {f['subject']}\n{f['message']}",
                     id="fd-head", markup=False)
        yield DataTable(id="fd-records", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="fd-clause-box", can_focus=True):
            yield Static("", id="fd-clause", markup=False)

    def on_mount(self) -> None:
        t = self.query_one("#fd-records", DataTable)
        t.add_column(tr("相关记录", "Records"), key="kind", width=12)
        t.add_column(tr("内容", "Record"), key="text")
        t.focus()

    def refresh_data(self) -> None:
        ev = self.finding.get("evidence") or {}
        clause = self.finding.get("clause") or self.rule.get("clause")
        view = self.app.view
        def load():
            from core.evidence import Names, evidence_lines

            return evidence_records(view, ev), clause_text(clause), evidence_lines(ev, Names(view))

        self.run_db(load, on_done=self._show, group="load")

    def _show(self, result) -> None:
        records, clause, lines = result
        self.records = records
        t = self.query_one("#fd-records", DataTable)
        t.clear()
        for i, r in enumerate(records):
            t.add_row(r["title"], r["text"], key=str(i))
        if not records:
            t.add_row(tr("（无）", "(none)"), tr("该结论的依据中没有记录编号", "the evidence names no records"))
        evidence = "\n".join("  " + ln for ln in lines) or tr("  （无）", "  (none)")
        self.query_one("#fd-clause", Static).update(
            tr("依据：", "Evidence:") + "\n" + evidence + "\n\n" + tr("条款原文：", "Clause text: ") + "\n"
            + (clause or tr("（条款原文不可用）", "(clause text not available)")))

    @on(DataTable.RowSelected, "#fd-records")
    def open_record(self, event: DataTable.RowSelected) -> None:
        from tui.widgets.form import FormScreen

        i = event.cursor_row
        if not (0 <= i < len(self.records)):
            return
        r = self.records[i]
        if r["kind"] is None:
            return
        self.app.push_screen(FormScreen(r["kind"], r["id"]), lambda saved: self.refresh_data() if saved else None)

    def action_focus_clause(self) -> None:
        self.query_one("#fd-clause-box").focus()

    def action_focus_records(self) -> None:
        self.query_one("#fd-records", DataTable).focus()
