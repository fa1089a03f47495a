"""Other records (其他台账): forms for every record kind — create, edit, delete.

Left: every record kind declared in :mod:`core.kinds` (the built-in ones in
their declared order, then the plugins'): members, organizations, services,
commitments, zones, posts, volunteer hours, pairings, diary, 四议两公开,
facilities, resident units ….  Right: that kind's records in the
view's scope, newest first (members by name, in labelled columns), lazily
paged.  The focus starts in the kind list; Enter there opens that kind's list.
Enter (or ctrl+e) edits the highlighted record in the record form, ctrl+n
creates one, ctrl+d deletes after confirmation — always through
``core.records`` (scope, audit log, optimistic locking).
"""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from core import kinds, records
from core.i18n import tr
from core.numbers import format_count
from core.read.paging import RowSource, key_id
from core.read.pickers import member_list_rows
from core.read.records import record_rows
from tui.api import DangjianScreen, tb
from tui.widgets.lazytable import Column, LazyTable


class RecordsScreen(DangjianScreen):
    SCREEN_NAME = "records"
    BINDINGS = [
        tb("ctrl+n", "new_record", "新增|New", id="records.new"),
        tb("ctrl+e", "edit_record", "修改|Edit", id="records.edit"),
        tb("ctrl+d", "delete_record", "删除|Delete", id="records.delete"),
        tb("ctrl+k", "focus_kinds", "类别|Kinds", id="records.kinds"),
        tb("ctrl+l", "focus_list", "列表|List", id="records.list", show=False),
    ]
    DEFAULT_CSS = """
    RecordsScreen #rec-body { height: 1fr; }
    RecordsScreen #rec-kinds { width: 22; height: 1fr; border: none; }
    RecordsScreen #rec-right { width: 1fr; }
    RecordsScreen #rec-info { height: 1; padding: 0 1; color: $text-muted; }
    RecordsScreen #rec-table { height: 1fr; }
    """

    def __init__(self, kind: str = "members", **kwargs):
        super().__init__(**kwargs)
        self.kind = kind
        self.kind_list = kinds.all_kinds()

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="rec-body"):
            yield OptionList(*[Option(k.title(), id=k.name) for k in self.kind_list], id="rec-kinds")
            with Vertical(id="rec-right"):
                yield Static("", id="rec-info")
                yield LazyTable(self._columns(self.kind),
                                empty_text=tr("（没有记录，ctrl+n 新增）", "(no records; ctrl+n adds one)"),
                                id="rec-table")

    @staticmethod
    def _columns(kind: str) -> list[Column]:
        if kind == "members":  # rows are (key, {name, id_shown, sex_label, class_label, org_name …})
            return [Column(tr("姓名", "Name"), 10, lambda r: r[1]["name"]),
                    Column(tr("身份证号", "ID number"), 18, lambda r: r[1]["id_shown"]),
                    Column(tr("性别", "Sex"), 4, lambda r: r[1]["sex_label"]),
                    Column(tr("类别", "Class"), 8, lambda r: r[1]["class_label"]),
                    Column(tr("党组织", "Organization"), 0,
                           lambda r: r[1]["org_name"] if r[1]["active"] else tr("（已转出）", "(left)"))]
        return [Column(tr("编号", "Id"), 6, lambda r: str(r[0]), align="right"),
                Column(tr("内容", "Record"), 0, lambda r: r[1]["_text"])]

    def on_mount(self) -> None:
        names = [k.name for k in self.kind_list]
        menu = self.query_one("#rec-kinds", OptionList)
        menu.highlighted = names.index(self.kind) if self.kind in names else 0
        menu.focus()

    def refresh_data(self) -> None:
        if self.kind == "members":  # by name, in labelled columns
            source = RowSource(member_list_rows, _member_key, view=self.app.view)
        else:
            source = RowSource(record_rows, key_id, view=self.app.view, kind=self.kind)
        kind = self.kind
        self.run_db(source.first, on_done=lambda r: self._show(kind, source, r), group="list")

    def _show(self, kind: str, source, result) -> None:
        if kind != self.kind:
            return
        total, first = result
        table = self.query_one("#rec-table", LazyTable)
        table.columns = self._columns(kind)
        table.set_source(source, total, first, cursor=min(table.cursor, max(0, total - 1)))
        self.query_one("#rec-info", Static).update(
            tr("{k}：{n} 条  Enter 修改  ctrl+n 新增  ctrl+d 删除", "{k}: {n}  Enter edits  ctrl+n new  ctrl+d delete",
               k=kinds.get(kind).title(), n=format_count(total)))

    @on(OptionList.OptionHighlighted, "#rec-kinds")
    def kind_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id and event.option.id != self.kind:
            self.kind = event.option.id
            self.query_one("#rec-table", LazyTable).set_source(None)
            self.refresh_data()

    @on(OptionList.OptionSelected, "#rec-kinds")
    def kind_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id and event.option.id != self.kind:  # chosen before it was highlighted
            self.kind = event.option.id
            self.query_one("#rec-table", LazyTable).set_source(None)
            self.refresh_data()
        self.action_focus_list()

    @on(LazyTable.Selected, "#rec-table")
    def row_selected(self, event: LazyTable.Selected) -> None:
        self.action_edit_record()

    def _current(self):
        row = self.query_one("#rec-table", LazyTable).cursor_row
        return row[1] if row else None

    def _saved(self, saved) -> None:
        if saved is not None:
            self.notify(tr("已保存", "Saved"), timeout=3)
            self.refresh_data()

    def action_new_record(self) -> None:
        from tui.widgets.form import FormScreen

        defaults = {}
        year = kinds.get(self.kind).field("year")
        if year is not None and year.type == "year":  # the year the app shows
            defaults["year"] = str(self.app.year)
        self.app.push_screen(FormScreen(self.kind, defaults=defaults), self._saved)

    def action_edit_record(self) -> None:
        from tui.widgets.form import FormScreen

        row = self._current()
        if row is not None:
            self.app.push_screen(FormScreen(self.kind, row["id"]), self._saved)

    def action_delete_record(self) -> None:
        from tui.widgets.confirm import ConfirmDialog

        row = self._current()
        if row is None:
            return
        kind = self.kind

        def done(yes) -> None:
            if yes:
                self.run_db(records.delete_record, kind, row["id"], row["version"], on_done=self._deleted, group="save")

        self.app.push_screen(ConfirmDialog(tr("删除这条{k}记录？", "Delete this record ({k})?", k=kinds.get(kind).title()),
                                           row["_text"]), done)

    def _deleted(self, _id) -> None:
        self.notify(tr("已删除", "Deleted"), timeout=3)
        self.refresh_data()

    def action_focus_kinds(self) -> None:
        self.query_one("#rec-kinds", OptionList).focus()

    def action_focus_list(self) -> None:
        self.query_one("#rec-table", LazyTable).focus()


def _member_key(row: dict):
    return row["_key"]
