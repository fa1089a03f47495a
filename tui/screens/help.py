"""Help (帮助): every binding of the screen it was opened from, and the app's keys."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from core.i18n import get_lang, tr
from tui.api import DangjianModal, DangjianScreen, bi, tb


def _key_label(app, key: str) -> str:
    try:
        return app.get_key_display(type("B", (), {"key": key, "key_display": None})())
    except Exception:
        return key


def binding_rows(screen: Screen) -> list[tuple[str, str, str]]:
    """(keys, description, binding id) for every binding active on ``screen``, app-level included."""
    rows: dict[str, list] = {}
    order: list[str] = []
    try:
        active = screen.active_bindings
    except Exception:
        active = {}
    for key, ab in active.items():
        b = ab.binding
        if b.system:
            continue
        ident = b.id or b.action
        desc = bi(b.description) or b.action  # a plugin's plain Screen gives "中文|English"
        if ident not in rows:
            rows[ident] = [[], desc]
            order.append(ident)
        label = b.key_display or key
        if label not in rows[ident][0]:
            rows[ident][0].append(label)
    out = [("/".join(rows[i][0]), _builtin(rows[i][1]), i) for i in order]
    # the app's own bindings (with ids) first, Textual's generic ones after
    return [r for r in out if "." in r[2]] + [r for r in out if "." not in r[2]]


_BUILTIN = {
    "Scroll Up": "向上滚动", "Scroll Down": "向下滚动", "Scroll Left": "向左滚动", "Scroll Right": "向右滚动",
    "Scroll Home": "滚到开头", "Scroll End": "滚到末尾", "Page Up": "上一页", "Page Down": "下一页",
    "Page Left": "左翻页", "Page Right": "右翻页", "Focus Next": "下一个输入项", "Focus Previous": "上一个输入项",
    "Copy selected text": "复制所选文字", "Select": "选择", "Cursor up": "上移", "Cursor down": "下移",
    "First": "第一项", "Last": "最后一项", "Toggle": "切换", "Expand": "展开", "Collapse": "收起",
}


APP_IDS = ("app.", "screen.")


def grouped(rows: list[tuple[str, str, str]]) -> list[tuple[str, list]]:
    """The help's groups, the screen's own keys first: 本页 (the screen's bindings), 列表与表格
    (the focused list's), 全局 (the app's: F-keys, palette, Esc), 通用 (Textual's generic keys)."""
    own, lists, app_keys, generic = [], [], [], []
    for r in rows:
        ident = r[2]
        if "." not in ident:
            generic.append(r)
        elif ident.startswith(APP_IDS):
            app_keys.append(r)
        elif ident.startswith(("table.", "tree.", "list.", "form.")):
            lists.append(r)
        else:
            own.append(r)
    out = []
    for heading, group in ((tr("本页按键", "This screen"), own), (tr("列表与表格", "Lists and tables"), lists),
                           (tr("全局按键", "Everywhere"), app_keys), (tr("通用按键", "General"), generic)):
        if group:
            out.append((heading, group))
    return out


def _builtin(desc: str) -> str:
    from core.i18n import get_lang

    if get_lang() == "zh":
        return _BUILTIN.get(desc, desc)
    return desc


class HelpScreen(DangjianModal[None]):
    """F1: the keys of the current screen (from its live bindings, so a [keymap] rebinding shows)."""

    BINDINGS = [
        tb("escape", "close", "关闭|Close", id="help.close"),
        tb("f1", "close", "关闭|Close", id="help.close_f1", show=False),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $panel; padding: 0 1; }
    """

    def __init__(self, origin: Screen | None = None):
        super().__init__()
        self.origin = origin

    def compose(self) -> ComposeResult:
        from rich.cells import cell_len

        origin = self.origin
        title = origin.screen_title() if isinstance(origin, DangjianScreen) else ""
        rows = binding_rows(origin) if origin is not None else []
        width = max([cell_len(k) for k, _, _ in rows] + [6])
        lines = [tr("帮助：{t}", "Help: {t}", t=title or tr("当前页面", "this screen"))]
        for heading, group in grouped(rows):
            lines += ["", f"【{heading}】" if get_lang() == "zh" else f"[{heading}]"]
            for keys, desc, ident in group:
                shown = f"  [{ident}]" if "." in ident else ""
                lines.append(f"  {keys}{' ' * (width - cell_len(keys))}  {desc}{shown}")
        lines += ["", tr("按键可在配置文件 [keymap] 中按编号改绑，如 \"app.help\" = \"f1\"。",
                         "Keys can be rebound by id in the config's [keymap], e.g. \"app.help\" = \"f1\"."),
                  tr("Esc 返回上一页；ctrl+p 搜索社区、党员（姓名、拼音首字母、身份证号开头）或页面；"
                     "? 也打开帮助（输入框里除外）。",
                     "Esc goes back; ctrl+p finds a community, member (name, initials, ID prefix) or screen; "
                     "? opens help too (except in a text field).")]
        with VerticalScroll():
            yield Static("\n".join(lines), markup=False, id="help-text")

    def screen_title(self) -> str:
        return tr("帮助", "Help")

    def action_close(self) -> None:
        self.dismiss(None)
