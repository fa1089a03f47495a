"""Members (党员): search by name, pinyin initials or ID-number prefix; filter by
class, organization and status; the whole city's roster scrolls lazily (LazyTable).

The focus starts in the list; ctrl+f or / moves to the search line, and typing a
letter in the list starts a search.  ``a`` adds a member, ``e`` edits the
highlighted one (the record form), Enter opens the member's page."""
from __future__ import annotations

import datetime as dt

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from core.enums import MEMBER_CLASS, ORG_KIND, SEX
from core.i18n import get_lang, tr
from core.numbers import format_count
from core.read.members import MemberFilter, member_count, member_page, member_seek
from core.read.organizations import org_search
from tui.api import DangjianModal, DangjianScreen, tb
from tui.widgets.lazytable import Column, LazyTable


class MemberSource:
    """PagedSource over :func:`core.read.members.member_page` for one filter."""

    def __init__(self, f: MemberFilter):
        self.f = f

    def count(self) -> int:
        return member_count(self.f)

    def page(self, after_key, limit):
        return member_page(self.f, after_key, limit)

    def seek(self, after_key, n):
        return member_seek(self.f, after_key, n)


SHORT_EN = {"resident": "resident", "in_service": "in-service", "floating_in": "floating-in",
            "floating_out": "floating-out"}

STATUS_CHOICES = [("active", "在册", "on roster"), ("full", "正式党员", "full"),
                  ("probationary", "预备党员", "probationary"), ("left", "已转出", "transferred out"),
                  ("all", "全部", "all")]


def status_label(row, today: dt.date) -> str:
    full_date, active = row[6], row[7]
    if not active:
        return tr("已转出", "left")
    if isinstance(full_date, str):
        full_date = dt.date.fromisoformat(full_date[:10])
    if full_date is not None and full_date <= today:
        return tr("正式", "full")
    return tr("预备", "probationary")


class MembersScreen(DangjianScreen):
    SCREEN_NAME = "members"
    AUTO_FOCUS = "#members-table"  # the list, not the search line above it (one focus change, one footer)
    BINDINGS = [
        tb("a", "add_member", "新增|Add", id="members.add"),
        tb("e", "edit_member", "修改|Edit", id="members.edit"),
        tb("ctrl+f", "focus_search", "搜索|Search", id="members.search"),
        tb("slash", "focus_search", "搜索|Search", id="members.search_slash", show=False),
        tb("ctrl+l", "focus_table", "列表|List", id="members.list", show=False),
        tb("ctrl+o", "pick_org", "组织|Org", id="members.org"),
    ]
    DEFAULT_CSS = """
    MembersScreen #members-bar { height: 1; padding: 0 0; }
    MembersScreen #members-search { width: 1fr; }
    MembersScreen #members-class { width: 16; }
    MembersScreen #members-status { width: 14; }
    """

    def __init__(self, organization: int | None = None, organization_name: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.organization = organization
        self.organization_name = organization_name
        self.last_filter: MemberFilter | None = None
        self.search_ms: float | None = None
        self._loaded_choices = (Select.NULL, "active")  # the class and status Selects' first values

    def compose_body(self) -> ComposeResult:
        lang = get_lang()
        with Horizontal(id="members-bar"):
            yield Input(placeholder=tr("姓名 / 拼音首字母 / 身份证号开头", "name / initials / ID prefix"),
                        id="members-search", compact=True, select_on_focus=False)
            yield Select([(MEMBER_CLASS.label(c, lang), c) for c in MEMBER_CLASS.codes],
                         prompt=tr("全部类别", "all classes"), id="members-class", compact=True)
            yield Select([(zh if lang == "zh" else en, code) for code, zh, en in STATUS_CHOICES],
                         value="active", allow_blank=False, id="members-status", compact=True)
        yield Static("", id="members-info", classes="status-line")
        yield LazyTable(self._columns(), empty_text=tr("（没有符合条件的党员）", "(no matching members)"),
                        id="members-table")

    def _columns(self) -> list[Column]:
        today = _today()
        lang = get_lang()
        return [
            # rows are (key, id, name, id_number, sex, class, full_date, active, org, community)
            Column(tr("姓名", "Name"), 10, lambda r: r[2]),
            Column(tr("身份证号", "ID number"), 18, lambda r: r[3]),
            Column(tr("类别", "Class"), 8 if lang == "zh" else 12,
                   lambda r: MEMBER_CLASS.label(r[5], lang) if lang == "zh" else SHORT_EN.get(r[5], r[5])),
            Column(tr("状态", "Status"), 6 if lang == "zh" else 12, lambda r: status_label(r, today)),
            Column(tr("性别", "Sex"), 4 if lang == "zh" else 6, lambda r: SEX.label(r[4], lang), show_from=110),
            Column(tr("党组织", "Organization"), 0, lambda r: r[8] or ""),
            Column(tr("社区", "Community"), 14, lambda r: r[9] or "", show_from=100),
        ]

    def on_key(self, event) -> None:
        """A letter, a digit or a Chinese character typed in the list starts a search."""
        table = self.query_one(LazyTable)
        if not table.has_focus or not event.is_printable or not event.character:
            return
        if event.key in ("a", "e", "slash", "space"):  # the list's own keys
            return
        event.stop()
        event.prevent_default()
        search = self.query_one("#members-search", Input)
        search.focus()
        search.insert_text_at_cursor(event.character)

    def current_filter(self) -> MemberFilter:
        app = self.app
        text = self.query_one("#members-search", Input).value
        klass, status = self._choices()
        return MemberFilter(
            app.view, text=text, member_class=None if klass is Select.NULL else klass,
            status="active" if status is Select.NULL else status, organization=self.organization,
            allow_id_search=app.view.allows_id_prefix_search, on=_today())

    def refresh_data(self) -> None:
        self._loaded_choices = self._choices()
        f = self.current_filter()
        self.run_db(self._load, f, on_done=self._show, group="search")

    @staticmethod
    def _load(f: MemberFilter):
        import time

        t0 = time.perf_counter()
        source = MemberSource(f)
        total = source.count()
        first = source.page(None, 200)
        return f, source, total, first, (time.perf_counter() - t0) * 1000

    def _show(self, result) -> None:
        f, source, total, first, ms = result
        self.last_filter = f
        self.search_ms = ms
        table = self.query_one(LazyTable)
        table.set_source(source, total, first)
        parts = [tr("共 {n} 名", "{n} members", n=format_count(total))]
        if self.organization is not None:
            parts.append(tr("组织：{o}（ctrl+o 更改）", "org: {o} (ctrl+o changes)",
                            o=self.organization_name or self.organization))
        kind = f.search_kind()
        if kind:
            parts.append({"id": tr("按身份证号开头", "by ID prefix"), "initials": tr("按拼音首字母", "by initials"),
                          "name": tr("按姓名开头", "by name")}[kind])
            if kind == "id" and not f.allow_id_search and len(f.text.strip()) > 6:
                parts.append(tr("无权按完整身份证号搜索", "full ID search not allowed"))
        self.query_one("#members-info", Static).update("  ".join(parts), layout=False)  # one fixed line

    @on(Input.Changed, "#members-search")
    def search_changed(self) -> None:
        self.refresh_data()

    @on(Input.Submitted, "#members-search")
    def search_submitted(self) -> None:
        self.action_focus_table()

    @on(Select.Changed)
    def filter_changed(self) -> None:
        # a Select posts Changed for its first value when it mounts: only a real change reloads
        if self.is_mounted and self._choices() != self._loaded_choices:
            self.refresh_data()

    def _choices(self) -> tuple:
        return (self.query_one("#members-class", Select).value, self.query_one("#members-status", Select).value)

    @on(LazyTable.Selected, "#members-table")
    def open_member(self, event: LazyTable.Selected) -> None:
        self.app.open_member(event.row[1])

    def action_focus_search(self) -> None:
        self.query_one("#members-search", Input).focus()

    # -- add and edit (the record form; saved through the one write path)
    def action_add_member(self) -> None:
        from tui.widgets.form import FormScreen

        self.app.push_screen(FormScreen("members", title=tr("新增党员", "New member")), self._saved)

    def action_edit_member(self) -> None:
        from tui.widgets.form import FormScreen

        row = self.query_one(LazyTable).cursor_row
        if row is None:
            self.notify(tr("请先在列表中选择一名党员", "choose a member in the list first"), severity="warning")
            return
        self.app.push_screen(FormScreen("members", row[1], title=tr("修改党员：{n}", "Edit member: {n}", n=row[2])),
                             self._saved)

    def _saved(self, saved) -> None:
        if saved is not None:
            self.notify(tr("已保存", "Saved"), timeout=3)
            self.refresh_data()

    def action_focus_table(self) -> None:
        self.query_one(LazyTable).focus()

    def action_pick_org(self) -> None:
        self.app.push_screen(OrgPicker(self.app.view), self._org_picked)

    def _org_picked(self, choice) -> None:
        if choice is None:
            return
        self.organization, self.organization_name = choice if choice[0] is not None else (None, None)
        self.refresh_data()


class OrgPicker(DangjianModal):
    """Choose an organization (name or code prefix); the first line means all organizations."""

    BINDINGS = [tb("escape", "cancel", "取消|Cancel", id="orgpicker.cancel")]
    DEFAULT_CSS = """
    OrgPicker { align: center middle; }
    OrgPicker > Vertical { width: 70; max-width: 100%; height: auto; max-height: 90%;
        border: round $accent; background: $panel; padding: 0 1; }
    OrgPicker OptionList { height: auto; max-height: 16; border: none; }
    """

    def __init__(self, scope):
        super().__init__()
        self.scope = scope
        self.found: list[tuple] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(tr("按组织筛选：输入名称或编码开头，下移选择，回车确定",
                           "Filter by organization: type a name or code, Down to choose, Enter"))
            yield Input(id="org-text", compact=True)
            yield OptionList(id="org-list")

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self._search("")

    @on(Input.Changed, "#org-text")
    def changed(self, event: Input.Changed) -> None:
        self._search(event.value)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _search(self, text: str) -> None:
        rows = org_search(self.scope, text, 50)
        self.app.call_from_thread(self._fill, rows)

    def _fill(self, rows) -> None:
        lang = get_lang()
        self.found = rows
        ol = self.query_one(OptionList)
        ol.clear_options()
        ol.add_option(Option(tr("（全部组织）", "(all organizations)"), id="all"))
        for oid, code, name, kind, cname in rows:
            ol.add_option(Option(f"{name} [{ORG_KIND.label(kind, lang)}] {code} {cname or ''}", id=str(oid)))

    @on(Input.Submitted, "#org-text")
    def submitted(self) -> None:
        ol = self.query_one(OptionList)
        if len(self.found) == 1:
            self.dismiss((self.found[0][0], self.found[0][2]))
        else:
            ol.focus()
            ol.highlighted = 0

    def key_down(self, event) -> None:
        if self.query_one(Input).has_focus:
            event.stop()
            event.prevent_default()
            ol = self.query_one(OptionList)
            ol.focus()
            ol.highlighted = 0

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id == "all":
            self.dismiss((None, None))
            return
        oid = int(event.option.id)
        name = next((r[2] for r in self.found if r[0] == oid), str(oid))
        self.dismiss((oid, name))

    def action_cancel(self) -> None:
        self.dismiss(None)


def _today() -> dt.date:
    from core.dates import today

    return today()
