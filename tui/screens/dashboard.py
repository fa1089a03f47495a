"""Dashboard (工作台): the user's scope at a glance — members by class, failing rules by
clause from the last stored check run (or a run started here), meetings due, funding
gaps, overdue demands."""
from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from core.enums import MEMBER_CLASS
from core.i18n import get_lang, tr
from core.numbers import format_count, format_money
from core.read.compliance import run_check_summary
from core.read.dashboard import dashboard
from core.read.scopes import last_change_at
from tui.api import DangjianScreen, fit, tb
from tui.widgets import bar, pad


class DashboardScreen(DangjianScreen):
    SCREEN_NAME = "dashboard"
    BINDINGS = [
        tb("ctrl+r", "run_check", "运行检查|Run check", id="dashboard.run_check"),
        tb("f10", "open('compliance')", "合规|Compliance", id="dashboard.compliance", show=False),
    ]
    DEFAULT_CSS = """
    DashboardScreen #dash-cols { height: 1fr; }
    DashboardScreen #dash-plugins { height: auto; background: $error; color: $text; text-style: bold;
        padding: 0 1; display: none; }
    DashboardScreen #dash-plugins.shown { display: block; }
    DashboardScreen #dash-empty { height: auto; padding: 0 1; margin: 0 0 1 0; border: round $warning;
        display: none; }
    DashboardScreen #dash-empty.shown { display: block; }
    DashboardScreen .dash-col { width: 1fr; height: 1fr; padding: 0 1; }
    DashboardScreen .dash-col Static { height: auto; margin: 0 0 1 0; }
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.data: dict | None = None
        self.checking = False

    def compose_body(self) -> ComposeResult:
        yield Static("", id="dash-plugins", markup=False)
        yield Static("", id="dash-empty", markup=False)
        with Horizontal(id="dash-cols"):
            with VerticalScroll(classes="dash-col", id="dash-left"):
                yield Static(tr("正在加载……", "Loading…"), id="dash-members")
                yield Static("", id="dash-meetings")
                yield Static("", id="dash-demands")
            with VerticalScroll(classes="dash-col", id="dash-right"):
                yield Static("", id="dash-check")
                yield Static("", id="dash-funding")

    def refresh_data(self) -> None:
        app = self.app
        view, year = app.view, app.year

        def load() -> dict:
            d = dashboard(view, year)
            d["changed_at"] = last_change_at(view)
            return d

        self.run_db(load, on_done=self._show)

    def on_mount(self) -> None:  # the base class's on_mount runs too (Textual calls each class's handler)
        self.plugin_problems_changed()

    def plugin_problems_changed(self) -> None:
        """The red banner: plugins that failed (F2 → 插件状态 for the details)."""
        problems = getattr(self.app, "plugin_problems", None) or []
        banner = self.query_one("#dash-plugins", Static)
        if problems:
            names = sorted({n for n, _ in problems})
            banner.update(tr("插件出错：{n}（F2 → 插件状态 查看）", "plugins failed: {n} (F2 → Plugins)",
                             n="、".join(names) if get_lang() == "zh" else ", ".join(names)))
        banner.set_class(bool(problems), "shown")

    def _show_empty(self, d: dict) -> None:
        """An empty database: say what to do instead of a page of zeros."""
        empty = self.query_one("#dash-empty", Static)
        is_empty = (d["members"]["total"] == 0 and not d["meetings"].get("branches")
                    and not d["meetings"].get("groups") and not (d.get("funding") or {}).get("communities"))
        if is_empty:
            empty.update(tr(
                "这里还没有数据。先导入社区和党组织：\n"
                "  dangjian import communities 社区.xlsx\n  dangjian import orgs 党组织.xlsx\n"
                "（dangjian template communities 社区.xlsx 生成空白模板），再导入党员；\n"
                "或运行 dangjian demo 生成一套示例数据先试用。",
                "Nothing here yet. Import communities and organizations first:\n"
                "  dangjian import communities communities.xlsx\n  dangjian import orgs orgs.xlsx\n"
                "(dangjian template communities FILE writes an empty template), then members;\n"
                "or run dangjian demo for a demo town to try."))
        empty.set_class(is_empty, "shown")

    def _show(self, d: dict) -> None:
        self.data = d
        self._show_empty(d)
        self._show_members(d["members"])
        self._show_meetings(d["meetings"])
        self._show_demands(d["demands"])
        self._show_check(d["check"])
        self._show_funding(d["funding"])

    def _width(self) -> int:
        return max(30, self.query_one("#dash-left").size.width - 2)

    def _show_members(self, m: dict) -> None:
        lang = get_lang()
        out = Text()
        out.append(tr("党员 {n} 名", "{n} members", n=format_count(m["total"])), style="bold")
        out.append(tr("（正式 {f}，预备 {p}）", " ({f} full, {p} probationary)", f=format_count(m["full"]),
                      p=format_count(m["probationary"])))
        labels = [MEMBER_CLASS.label(c, lang) for c in MEMBER_CLASS.codes]
        lw = max(cell_len(x) for x in labels)
        counts = [m["classes"].get(c, 0) for c in MEMBER_CLASS.codes]
        nw = max(len(format_count(n)) for n in counts)
        bw = max(4, self._width() - lw - nw - 2)
        top = max(counts) or 1
        for label, n in zip(labels, counts):
            out.append("\n" + pad(label, lw) + " ")
            out.append_text(bar(n, top, bw, "on dark_cyan"))
            out.append(" " + format_count(n).rjust(nw))
        self.query_one("#dash-members", Static).update(out)

    def _show_meetings(self, d: dict) -> None:
        out = Text()
        out.append(tr("本月/本季度待开会议（三会一课）", "Meetings due (三会一课)"), style="bold")
        items = [
            (tr("支委会（本月）", "committee (month)"), d["committee_meeting"]),
            (tr("党小组会（本月）", "group (month)"), d["group_meeting"]),
            (tr("党员大会（本季度）", "assembly (quarter)"), d["assembly"]),
            (tr("党课（本季度）", "lecture (quarter)"), d["lecture"]),
        ]
        lw = max(cell_len(x) for x, _ in items)
        for label, n in items:
            out.append("\n" + pad(label, lw) + " ")
            out.append(format_count(n), style="bold yellow" if n else "green")
        out.append("\n" + tr("支部 {b} 个，党小组 {g} 个", "{b} branches, {g} groups", b=format_count(d["branches"]),
                              g=format_count(d["groups"])),
                   style="dim")
        self.query_one("#dash-meetings", Static).update(out)

    def _show_demands(self, d: dict) -> None:
        out = Text()
        out.append(tr("逾期未答复的诉求：", "Overdue demands: "), style="bold")
        out.append(format_count(d["count"]), style="bold red" if d["count"] else "green")
        for v in d["oldest"]:
            head = f"{str(v['date'])[:10]} {v['community']} "
            out.append("\n" + head)
            out.append(fit(str(v["demand"]), max(4, self._width() - cell_len(head))), style="dim")
        self.query_one("#dash-demands", Static).update(out)

    def _show_check(self, c: dict | None) -> None:
        out = Text()
        if c is None:
            out.append(tr("合规检查", "Compliance"), style="bold")
            out.append("\n" + tr("尚未运行检查，按 ctrl+r 运行一次。", "No check run yet: press ctrl+r to run one."))
            self.query_one("#dash-check", Static).update(out)
            return
        t = c["totals"]
        at = str(c["at"])[:16]
        out.append(tr("合规检查（{at}，截至 {d}）", "Compliance ({at}, as of {d})", at=at, d=c["as_of"]), style="bold")
        changed = (self.data or {}).get("changed_at")
        try:
            stale = changed is not None and c.get("at") is not None and changed > c["at"]
        except TypeError:  # a date against a datetime
            stale = False
        if stale:
            out.append("\n" + tr("记录在检查后有改动（{t}），ctrl+r 重新检查", "records changed since ({t}); ctrl+r re-checks",
                                  t=str(changed)[:16]), style="bold yellow")
        out.append("\n" + tr("不符合 ", "fail "))
        out.append(format_count(t.get("fail", 0)), style="bold red")
        out.append(tr("  提醒 ", "  warn "))
        out.append(format_count(t.get("warn", 0)), style="bold yellow")
        out.append(tr("  错误 ", "  error "))
        out.append(format_count(t.get("error", 0)), style="bold magenta")
        out.append(tr("  通过 ", "  pass "))
        out.append(format_count(t.get("pass", 0)), style="green")
        clauses = sorted((k for k in c["by_clause"] if c["by_clause"][k]["fail"] or c["by_clause"][k]["warn"]
                          or c["by_clause"][k]["error"]), key=lambda k: (k is None, k or 0))
        if clauses:
            out.append("\n" + tr("按条款（不符合 / 提醒）", "By clause (fail / warn)"), style="bold")
            top = max(c["by_clause"][k]["fail"] + c["by_clause"][k]["warn"] for k in clauses) or 1
            bw = max(4, self._width() - 18)
            for k in clauses:
                v = c["by_clause"][k]
                label = tr("第{n}条", "cl. {n}", n=k) if k is not None else tr("插件", "plugins")
                out.append("\n" + pad(label, 7) + " ")
                nf = round(bw * v["fail"] / top)
                nw = round(bw * v["warn"] / top)
                if v["fail"] and not nf:
                    nf = 1
                if v["warn"] and not nw:
                    nw = 1
                out.append(" " * nf, style="on red")
                out.append(" " * nw, style="on yellow")
                out.append(" " * max(0, bw - nf - nw))
                out.append(f" {format_count(v['fail'])}/{format_count(v['warn'])}")
        out.append("\n" + tr("ctrl+r 重新检查；F2 → 合规检查 查看明细", "ctrl+r re-runs; F2 → Compliance for details"),
                   style="dim")
        self.query_one("#dash-check", Static).update(out)

    def _show_funding(self, f: dict) -> None:
        out = Text()
        out.append(tr("经费（第19条下限）", "Funding (clause 19 floor)"), style="bold")
        if "error" in f:
            out.append("\n" + f["error"], style="dim")
        else:
            out.append("\n" + tr("未达下限的社区：", "below the floor: "))
            out.append(f"{format_count(f['short'])}/{format_count(f['communities'])}",
                       style="bold red" if f["short"] else "green")
            if f["short"]:
                out.append("\n" + tr("缺口合计 {g} 元", "total gap {g} yuan", g=format_money(f["gap"])))
            gaps = [format_money(top[4]) for top in f["top"]]
            gw = max((len(g) for g in gaps), default=0)
            for (name, _code, _floor, _allocated, _gap), g in zip(f["top"], gaps):
                short = tr("缺 {g}", "short {g}", g=g.rjust(gw))  # the amounts right-aligned
                out.append("\n" + fit(name, max(4, self._width() - cell_len(short) - 1)) + " ")
                out.append(short, style="red")
        self.query_one("#dash-funding", Static).update(out)

    def action_run_check(self) -> None:
        if self.checking:
            return
        self.checking = True
        self.query_one("#dash-check", Static).update(tr("正在运行检查……", "Running the check…"))
        app = self.app
        self.run_db(run_check_summary, app.view, app.year, on_done=self._checked, group="check")

    def _checked(self, summary: dict) -> None:
        self.checking = False
        if self.data is not None:
            self.data["check"] = summary
        self._show_check(summary)
        self.notify(tr("检查完成：不符合 {f}，提醒 {w}", "check done: {f} fail, {w} warn",
                       f=format_count(summary["totals"].get("fail", 0)),
                       w=format_count(summary["totals"].get("warn", 0))))

    def on_worker_state_changed(self, event) -> None:
        from textual.worker import WorkerState

        if event.worker.group == "check" and event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.checking = False
        super().on_worker_state_changed(event)

    def action_open(self, name: str) -> None:
        self.app.open_screen(name, reset=True)
