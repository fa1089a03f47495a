"""The reference picker (选择器): choose a member, a worker or an organization, keyboard only.

    self.app.push_screen(RefPicker("member", text="张"), on_chosen)   # on_chosen(Choice | None)

Type a name, pinyin initials or an org code (an ID-number prefix only for users with
full personal data); the matches inside the user's view appear below.  Down (or Enter
when several match) moves into the list, arrows choose, Enter takes the highlighted
one; Enter in the search line takes the only match.  Esc gives up (None).  Dismisses
with a :class:`core.read.pickers.Choice` (id, natural key, name, what is shown beside it).
"""
from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from core.i18n import tr
from core.numbers import format_count
from tui.api import DangjianModal, tb

TITLES = {"member": ("选择党员", "Choose a member"), "worker": ("选择社区工作者", "Choose a community worker"),
          "org": ("选择党组织", "Choose an organization")}


def hint(target: str, id_search: bool) -> str:
    """What may be typed to find a ``target``."""
    if target == "org":
        return tr("名称 / 拼音首字母 / 组织编码", "name / initials / org code")
    if id_search:
        return tr("姓名 / 拼音首字母 / 身份证号开头", "name / initials / ID prefix")
    return tr("姓名 / 拼音首字母", "name / initials")


class RefPicker(DangjianModal):
    """Choose one record of ``target`` (member, worker, org) in the app's view."""

    BINDINGS = [tb("escape", "cancel", "取消|Cancel", id="picker.cancel")]
    DEFAULT_CSS = """
    RefPicker { align: center middle; }
    RefPicker > Vertical { width: 76; max-width: 100%; height: auto; max-height: 90%;
        border: round $accent; background: $panel; padding: 0 1; }
    RefPicker #picker-title { text-style: bold; color: $accent; }
    RefPicker #picker-info { color: $text-muted; height: 1; }
    RefPicker OptionList { height: auto; max-height: 14; border: none; }
    """

    def __init__(self, target: str, text: str = "", limit: int = 50):
        super().__init__()
        self.target = target
        self.text = text
        self.limit = limit
        self.found: list = []

    def compose(self) -> ComposeResult:
        zh, en = TITLES.get(self.target, ("选择", "Choose"))
        with Vertical():
            yield Label(tr(zh, en) + tr("：输入后下移选择，回车确定，Esc 取消",
                                        ": type, Down to choose, Enter takes it, Esc cancels"), id="picker-title")
            yield Input(self.text, placeholder=hint(self.target, self.app.view.allows_id_prefix_search),
                        id="picker-text", compact=True, select_on_focus=False)
            yield Static("", id="picker-info", markup=False)
            yield OptionList(id="picker-list")

    def on_mount(self) -> None:
        box = self.query_one(Input)
        box.cursor_blink = False  # an idle SSH session must cost nothing
        box.focus()
        self._search(self.text)

    @on(Input.Changed, "#picker-text")
    def changed(self, event: Input.Changed) -> None:
        self._search(event.value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="picker")
    def _search(self, text: str) -> None:
        from core.read.pickers import pick

        rows = pick(self.app.view, self.target, text, self.limit)
        self.app.call_from_thread(self._fill, text, rows)

    def _fill(self, text: str, rows) -> None:
        if text != self.query_one(Input).value:
            return  # an older search: a newer one is on its way
        self.found = rows
        ol = self.query_one(OptionList)
        ol.clear_options()
        for i, c in enumerate(rows):
            ol.add_option(Option(f"{c.name}  {c.shown}  {c.note}".rstrip(), id=str(i)))
        if rows:
            ol.highlighted = 0
        if not rows:
            info = tr("（没有匹配的记录）", "(nothing matches)")
            t = text.strip()
            if t[:1].isdigit() and not self.app.view.allows_id_prefix_search and len(t) != 18:
                info = tr("无权按身份证号开头查找：请输入姓名或拼音首字母", "no ID-prefix search: type a name or initials")
        elif len(rows) >= self.limit:
            info = tr("前 {n} 条，请输入更多以缩小范围", "first {n}; type more to narrow", n=format_count(len(rows)))
        else:
            info = tr("{n} 条", "{n} found", n=format_count(len(rows)))
        self.query_one("#picker-info", Static).update(info)

    @on(Input.Submitted, "#picker-text")
    def submitted(self) -> None:
        if len(self.found) == 1:
            self.dismiss(self.found[0])
        elif self.found:
            self._to_list()

    def _to_list(self) -> None:
        ol = self.query_one(OptionList)
        ol.focus()
        if ol.highlighted is None and self.found:
            ol.highlighted = 0

    def key_down(self, event) -> None:
        if self.query_one(Input).has_focus and self.found:
            event.stop()
            event.prevent_default()
            self._to_list()

    def key_up(self, event) -> None:
        ol = self.query_one(OptionList)
        if ol.has_focus and ol.highlighted in (0, None):
            event.stop()
            event.prevent_default()
            self.query_one(Input).focus()

    def on_key(self, event) -> None:
        """Typing in the list goes on with the search."""
        ol = self.query_one(OptionList)
        if ol.has_focus and event.is_printable and event.character and event.key != "space":
            event.stop()
            event.prevent_default()
            box = self.query_one(Input)
            box.focus()
            box.cursor_position = len(box.value)
            box.insert_text_at_cursor(event.character)

    @on(OptionList.OptionSelected, "#picker-list")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        i = int(event.option.id)
        if 0 <= i < len(self.found):
            self.dismiss(self.found[i])

    def action_cancel(self) -> None:
        self.dismiss(None)
