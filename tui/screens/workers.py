"""Community workers (社区工作者) with their posts, certificates and trainings (clauses 6–9).

Top: a search line (name, pinyin initials, or — for users who may see full ID
numbers — an ID-number prefix) and the list of workers in the view's scope
(lazily paged, so a whole city's workers scroll without loading all).  Below:
the highlighted worker's posts, certificate and the year's trainings.

Keys: ctrl+n adds a training for the highlighted worker, ctrl+e edits the
worker, ctrl+g adds a worker, ctrl+t moves to the trainings list, where
Enter edits a training and ctrl+d deletes it (after confirmation).  The focus
starts in the workers list; ctrl+f or / moves to the search line, and typing a
letter in the list starts a search.
"""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Input, Static

from core import dates
from core.i18n import tr
from core.read.paging import RowSource, key_id
from core.read.workers import worker_detail, worker_rows
from tui.api import DangjianScreen, tb
from tui.widgets.lazytable import Column, LazyTable


class WorkersScreen(DangjianScreen):
    SCREEN_NAME = "workers"
    BINDINGS = [
        tb("ctrl+f", "focus_search", "搜索|Search", id="workers.search"),  # first: the footer is full at 80
        tb("slash", "focus_search", "搜索|Search", id="workers.search_slash", show=False),
        tb("ctrl+n", "add_training", "新增培训|Add training", id="workers.add_training"),
        tb("ctrl+e", "edit_worker", "修改|Edit", id="workers.edit"),
        tb("ctrl+g", "new_worker", "新增社工|New worker", id="workers.new"),
        tb("ctrl+t", "focus_trainings", "培训列表|Trainings", id="workers.trainings"),
        tb("ctrl+d", "delete_training", "删除培训|Delete training", id="workers.delete_training"),
        tb("ctrl+l", "focus_list", "工作者列表|List", id="workers.list", show=False),
    ]
    DEFAULT_CSS = """
    WorkersScreen #workers-search { height: 1; }
    WorkersScreen #workers-table { height: 1fr; min-height: 4; }
    WorkersScreen #worker-pane { height: 1fr; min-height: 7; }
    WorkersScreen #worker-info { height: auto; max-height: 3; padding: 0 1; background: $boost; }
    WorkersScreen #trainings { height: 1fr; }
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.detail: dict | None = None
        self.worker_id: int | None = None

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder=tr("搜索：姓名 / 拼音首字母 / 身份号码开头", "search: name / initials / ID prefix"),
                    id="workers-search", compact=True, select_on_focus=False)
        yield LazyTable(self._columns(), empty_text=tr("（没有社区工作者）", "(no workers)"), id="workers-table")
        with Vertical(id="worker-pane"):
            yield Static("", id="worker-info", markup=False)
            yield DataTable(id="trainings", cursor_type="row", zebra_stripes=True)

    def _columns(self) -> list[Column]:
        return [
            Column(tr("姓名", "Name"), 8, lambda r: r[1]["name"]),
            Column(tr("身份号码", "ID number"), 18, lambda r: r[1]["id_shown"]),
            Column(tr("职务", "Posts"), 0, lambda r: r[1]["posts"] or "-", min_width=8),
            Column(tr("社工证书", "Certificate"), 12, lambda r: r[1]["certificate_label"]),
            Column(tr("培训天数", "Train days"), 8, lambda r: f"{r[1]['training_days']:g}", align="right"),
            Column(tr("社区", "Community"), 12, lambda r: r[1]["community_name"]),
        ]

    def on_mount(self) -> None:
        t = self.query_one("#trainings", DataTable)
        t.add_column(tr("开始日期", "Start"), key="start")
        t.add_column(tr("培训名称", "Title"), key="title")
        t.add_column(tr("级别", "Level"), key="level")
        t.add_column(tr("天数", "Days"), key="days")
        self.query_one("#workers-table", LazyTable).focus()

    # -- data
    def refresh_data(self) -> None:
        text = self.query_one("#workers-search", Input).value.strip()
        if text[:1].isdigit() and not self.app.view.allows_id_prefix_search:
            text = ""
        source = RowSource(worker_rows, key_id, view=self.app.view, search=text, year=self.app.year)
        self.run_db(source.first, on_done=lambda r: self._show_list(source, r), group="list")

    def _show_list(self, source, result) -> None:
        total, first = result
        table = self.query_one("#workers-table", LazyTable)
        keep = self.worker_id
        cursor = 0
        for i, (key, _row) in enumerate(first):
            if key == keep:
                cursor = i
        table.set_source(source, total, first, cursor=cursor)
        if total == 0:
            self.worker_id = None
            self._show_detail(None)

    @on(LazyTable.Highlighted, "#workers-table")
    def highlighted(self, event: LazyTable.Highlighted) -> None:
        if event.key is None:
            return
        self.worker_id = event.key
        self.run_db(worker_detail, self.app.view, event.key, self.app.year, on_done=self._show_detail,
                    group="detail")

    @on(LazyTable.Selected, "#workers-table")
    def selected(self, event: LazyTable.Selected) -> None:
        self.action_focus_trainings()

    def _show_detail(self, d: dict | None) -> None:
        self.detail = d
        info = self.query_one("#worker-info", Static)
        table = self.query_one("#trainings", DataTable)
        table.clear()
        if d is None:
            info.update(tr("（未选择社区工作者）", "(no worker selected)"))
            return
        posts = "；".join(f"{p['post']} {p['start']}~{p['end'] or ''}" for p in d["posts"][:3]) or "-"
        flags = []
        if d["college_graduate"]:
            flags.append(tr("大学生", "college graduate"))
        if d["backup_talent"]:
            flags.append(tr("后备人才", "backup talent"))
        cert = d["certificate"] + (f" {d['certificate_date']}" if d["certificate_date"] else "")
        info.update(
            f"{d['name']}  {d['id_shown']}  {d['community']}  {d['status']}  {d['education']}  "
            + tr("证书：", "Certificate: ") + cert + ("  " + "、".join(flags) if flags else "")
            + "\n" + tr("职务：", "Posts: ") + posts
        )
        for t in d["trainings"]:
            table.add_row(str(t["start_date"]), t["title"], t["level"], f"{t['days']:g}", key=str(t["id"]))

    def on_key(self, event) -> None:
        """A letter, a digit or a Chinese character typed in the workers list starts a search."""
        table = self.query_one("#workers-table", LazyTable)
        if not table.has_focus or not event.is_printable or not event.character or event.key in ("slash", "space"):
            return
        event.stop()
        event.prevent_default()
        search = self.query_one("#workers-search", Input)
        search.focus()
        search.insert_text_at_cursor(event.character)

    # -- actions
    def action_focus_search(self) -> None:
        self.query_one("#workers-search", Input).focus()

    def action_focus_list(self) -> None:
        self.query_one("#workers-table", LazyTable).focus()

    def action_focus_trainings(self) -> None:
        self.query_one("#trainings", DataTable).focus()

    @on(Input.Changed, "#workers-search")
    def search_changed(self) -> None:
        self.refresh_data()

    @on(Input.Submitted, "#workers-search")
    def search_done(self) -> None:
        self.action_focus_list()

    def _after_save(self, saved_id) -> None:
        if saved_id is not None:
            self.notify(tr("已保存", "Saved"), timeout=3)
            self.refresh_data()
            if self.worker_id:
                self.run_db(worker_detail, self.app.view, self.worker_id, self.app.year,
                            on_done=self._show_detail, group="detail")

    def action_add_training(self) -> None:
        from tui.widgets.form import FormScreen

        if self.detail is None:
            self.notify(tr("请先选择一名社区工作者", "select a worker first"), severity="warning")
            return
        today = dates.today()
        self.app.push_screen(FormScreen("trainings", fixed={"worker": self.detail["id_number"]},
                                        defaults={"start_date": today.isoformat()},
                                        title=tr("新增培训：{n}", "New training: {n}", n=self.detail["name"])),
                             self._after_save)

    def action_edit_worker(self) -> None:
        from tui.widgets.form import FormScreen

        if self.worker_id is None:
            return
        self.app.push_screen(FormScreen("workers", self.worker_id), self._after_save)

    def action_new_worker(self) -> None:
        from tui.widgets.form import FormScreen

        self.app.push_screen(FormScreen("workers"), self._after_save)

    def _training_row(self) -> dict | None:
        table = self.query_one("#trainings", DataTable)
        if self.detail is None or not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((t for t in self.detail["trainings"] if str(t["id"]) == key), None)

    @on(DataTable.RowSelected, "#trainings")
    def edit_training(self, event: DataTable.RowSelected) -> None:
        from tui.widgets.form import FormScreen

        t = self._training_row()
        if t is not None:
            self.app.push_screen(FormScreen("trainings", t["id"], fixed={"worker": self.detail["id_number"]}),
                                 self._after_save)

    def action_delete_training(self) -> None:
        from tui.widgets.confirm import ConfirmDialog

        t = self._training_row()
        if t is None:
            self.notify(tr("请先在培训列表中选择一条培训（ctrl+t）", "pick a training first (ctrl+t)"),
                        severity="warning")
            return

        def done(yes: bool | None) -> None:
            if yes:
                self.run_db(_delete_training, t["id"], t["version"], on_done=self._after_save, group="save")

        self.app.push_screen(ConfirmDialog(tr("删除这条培训记录？", "Delete this training?"),
                                           f"{t['start_date']}  {t['title']}  {t['level']}  {t['days']:g}"), done)


def _delete_training(training_id: int, version: int) -> int:
    from core import models as m
    from core import records

    records.delete(m.Training, training_id, version)
    return training_id
