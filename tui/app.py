"""The terminal app (终端界面): one :class:`DangjianApp` owning every screen.

Imported only by ``dangjian`` / ``dangjian tui`` (``core`` never imports
textual).  The CLI has already loaded config, plugins and the database and
resolved the user before :func:`run_app` is called.

How a screen module plugs in (the contract for every ``tui/screens/*.py``)
==========================================================================

1. **Registry.**  ``tui/screens/registry.py`` maps a name to
   ``(zh title, en title, "module:Class")``.  The module is imported only when
   the screen first opens (fast start-up); a module that is missing or fails
   to import gives a notice, never a crash.  Plugin screens
   (``plugins.get().collect_screens()``) and one generic screen per registered
   scorer and report are added to the menu and the palette automatically.

2. **Class.**  A screen is a ``Screen`` subclass constructed with **no
   arguments** (drill-down screens may take keyword arguments, e.g.
   ``MemberDetailScreen(member_id=…)``, but registry entries must work with
   none).  Subclass ``tui.api.DangjianScreen`` (dialogs: ``tui.api.DangjianModal``):
   the top bar (title, year, scope, user), ``compose_body()``, the footer,
   ``refresh_data()`` on mount and when the year or scope change, and
   ``run_db`` for database work.  Screens import ``tui.api``, never this
   module (this module imports the screens)::

       from tui.api import DangjianScreen, tb

       class WorkersScreen(DangjianScreen):
           SCREEN_NAME = "workers"                     # registry key (title comes from it)
           BINDINGS = [tb("ctrl+n", "new", "新增|New", id="workers.new")]

           def compose_body(self):
               yield LazyTable(...)

           def refresh_data(self):                     # called on mount and when year/scope change
               self.run_db(workers.worker_rows, self.app.view, year=self.app.year, on_done=self.show)

3. **Year and scope.**  ``self.app`` is a ``tui.api.LedgerApp``: ``year``
   and ``view`` (the user's ``core.view.View``, which F9 narrows to a town or
   community: pass it to the queries of ``core.read``, e.g.
   ``core.read.workers.worker_rows(view, …)``).

4. **Database work** runs in thread workers, never on the UI thread:
   ``self.run_db(fn, *args, on_done=callback, group="load")``.  Errors from any
   worker go to the one handler ``LedgerApp.report_error``: a notification (a
   ``UserError``/``AccessDenied``/``StaleEdit`` shows its message; anything
   else its type and text), never a crash.

5. **Bindings.**  Every ``Binding`` has an ``id`` (``"screen.action"``) and a
   bilingual description ``"中文|English"`` (``tui.api.tb``); the footer and
   F1 help show it in the interface language, and ``[keymap]``
   (``App.set_keymap``, keys by binding id) rebinds it.  The app keeps for
   itself: F1 help, F2 menu, F3 members, F4 organizations, F5 refresh (a
   screen action ``refresh``), F6 dashboard, F7/F8 previous/next year, F9
   scope, ctrl+p palette, ctrl+q quit, Esc back.  Screens may use ctrl+letters such as ctrl+n new,
   ctrl+e edit, ctrl+d delete, ctrl+s save, ctrl+f find, ctrl+r run; avoid
   ctrl+enter, ctrl+i/m/h (tab/enter/backspace) and ctrl+z/c.

6. **Styles.**  The shared stylesheet ``tui/app.tcss`` defines ``$variables``
   (``$ok``, ``$fail``, ``$warn``, ``$muted``, ``$panel-bg`` …) and classes
   (``.ok``/``.fail``/``.warn``/``.muted``, ``.section-title``, ``.toolbar``,
   ``.form-row``, ``.error-text``, ``.card``); a screen may add
   ``DEFAULT_CSS`` of its own.  Text cursors never blink (the app turns
   ``cursor_blink`` off on focus): idle SSH sessions must cost nothing.

7. **Text** goes through ``core.i18n.tr(zh, en)``.  Personal data come from
   core already as the view shows them (masked unless the user may see them).

Other helpers: ``self.app.open_screen(name)`` opens a registered screen
(``member:<id>`` opens a member's page), ``self.app.open_member(id)``,
``LazyTable`` in ``tui.widgets.lazytable`` for lists that may be long.
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

from textual import events, on
from textual.app import ComposeResult
from textual.command import CommandPalette, DiscoveryHit, Hit, Hits, Provider
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from core.i18n import get_lang, tr
from tui.api import DangjianModal, LedgerApp, no_blink, tb
from tui.widgets.scope_tree import TreePicker


# ---------------------------------------------------------------- dialogs


class MenuScreen(DangjianModal[str]):
    """The main menu: every screen (built-in, plugin, scorer, report)."""

    BINDINGS = [tb("escape", "dismiss_menu", "关闭|Close", id="menu.close")]
    DEFAULT_CSS = """
    MenuScreen { align: center middle; }
    MenuScreen > Vertical { width: 60; max-width: 100%; height: auto; max-height: 90%;
        border: round $accent; background: $panel; padding: 0 1; }
    MenuScreen OptionList { height: auto; max-height: 18; border: none; }
    """

    def __init__(self, entries: list[tuple[str, str]]):
        super().__init__()
        self.entries = entries

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(tr("菜单（回车打开，Esc 关闭）", "Menu (Enter opens, Esc closes)"), classes="section-title")
            yield OptionList(*[Option(title, id=name) for name, title in self.entries], id="menu-list")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_menu(self) -> None:
        self.dismiss(None)


class YearDialog(DangjianModal[int]):
    """Ask for a year."""

    BINDINGS = [tb("escape", "cancel", "取消|Cancel", id="year.cancel")]
    DEFAULT_CSS = """
    YearDialog { align: center middle; }
    YearDialog > Vertical { width: 40; height: auto; border: round $accent; background: $panel; padding: 0 1; }
    """

    def __init__(self, year: int):
        super().__init__()
        self.year = year

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(tr("年度（回车确定）", "Year (Enter to apply)"))
            yield Input(str(self.year), id="year-input", restrict=r"\d{0,4}")
            yield Label("", id="year-error", classes="error-text")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        try:
            y = int(event.value)
        except ValueError:
            y = 0
        if not 1990 <= y <= 2100:
            self.query_one("#year-error", Label).update(tr("请输入1990到2100之间的年份", "enter a year 1990-2100"))
            return
        self.dismiss(y)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ScopeDialog(TreePicker):
    """F9: the scope picker, a tree (town → street → community) filtered by typing."""

    def __init__(self, nodes: list, current: tuple):
        super().__init__(tr("查看范围（区镇 → 街道 → 社区）", "View scope (town → street → community)"), nodes,
                         current=current)


# ---------------------------------------------------------------- command palette


class LedgerPalette(CommandPalette):
    """The command palette, saying "无匹配" (in the interface language) when nothing matches."""

    def _start_no_matches_countdown(self, search_value: str) -> None:
        from rich.align import Align
        from rich.text import Text
        from textual.command import CommandList

        self._stop_no_matches_countdown()

        def _show_no_matches() -> None:
            if search_value:
                self.query_one(CommandList).add_option(
                    Option(Align.center(Text(tr("无匹配", "No matches"), style="not bold")),
                           disabled=True, id=self._NO_MATCHES))
                self._list_visible = True
            else:
                self._list_visible = False

        self._no_matches_timer = self.set_timer(self._NO_MATCHES_COUNTDOWN, _show_no_matches)


class JumpProvider(Provider):
    """Palette: jump to any screen, or any community or member the user may see (name, pinyin
    initials, ID prefix) — outside the current narrowing too: the scope changes to show it."""

    async def discover(self) -> Hits:
        app = self.app
        for name, title in app.menu_entries():
            yield DiscoveryHit(title, lambda n=name: app.open_screen(n, reset=True),
                               help=tr("打开页面", "open screen"))

    async def search(self, query: str) -> Hits:
        import asyncio

        from core.read.members import palette_lookup
        from core.view import View

        app = self.app
        matcher = self.matcher(query)
        for name, title in app.menu_entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), lambda n=name: app.open_screen(n, reset=True),
                          text=title, help=tr("打开页面", "open screen"))
        q = query.strip()
        if not q:
            return
        narrowed = app.town is not None or app.community is not None
        try:
            whole = View.of(app.principal)  # the user's whole scope, whatever F9 narrowed to
            communities, members = await asyncio.to_thread(palette_lookup, whole, q, 8)
            here: set = set()
            if narrowed and members:
                _c, mine = await asyncio.to_thread(palette_lookup, app.view, q, 50)
                here = {r["id"] for r in mine}
        except Exception as exc:  # pragma: no cover - reported, not raised
            app.report_error(exc)
            return
        for cid, code, cname, town in communities:
            label = f"{tr('社区', 'Community')} {cname} ({code}, {town})"
            yield Hit(0.9, label, lambda c=code: app.jump_community(c), text=label,
                      help=tr("以该社区为查看范围", "view this community"))
        for row in members:
            label = f"{tr('党员', 'Member')} {row['name']}  {row['id_number']}  {row['org_name'] or ''}"
            outside = narrowed and row["id"] not in here
            yield Hit(0.8, label, lambda i=row["id"], o=outside: app.jump_member(i, o), text=label,
                      help=tr("打开党员页面（查看范围改为全部）", "open the member's page (scope: all)") if outside
                      else tr("打开党员页面", "open the member's page"))


def scope_nodes(tree: dict, current: tuple = (None, None)) -> list:
    """The F9 picker's nodes from :func:`core.read.scopes.scope_tree`: the whole scope, then
    town → street → community (a town is a choice when the user sees several or the whole city)."""
    from tui.widgets.scope_tree import node

    towns = tree["towns"]
    n_comm = sum(len(s["communities"]) for t in towns for s in t["streets"])
    open_all = n_comm <= 40
    out = [node(tr("全市", "whole city") if tree["everything"] else tr("我的范围", "my scope"), (None, None))]
    town_choice = tree["everything"] or len(towns) > 1
    for t in towns:
        kids = []
        for st in t["streets"]:
            comms = [node(f"{c['name']}（{c['code']}）", (t["name"], c["code"]), code=c["code"], name=c["name"])
                     for c in st["communities"]]
            if st["name"] is None:
                kids.extend(comms)
            else:
                here = any(current == (t["name"], c["code"]) for c in st["communities"])
                kids.append(node(tr("街道 {s}", "street {s}", s=st["name"]), None, comms, name=st["name"],
                                 expanded=open_all or here))
        here = current[0] == t["name"]
        out.append(node(t["name"], (t["name"], None) if town_choice else None, kids, name=t["name"],
                        expanded=open_all or here or len(towns) == 1))
    return out


# ---------------------------------------------------------------- the app


class DangjianApp(LedgerApp):
    """社区党建工作电子台账."""

    TITLE = "社区党建工作电子台账"
    CSS_PATH = str(Path(__file__).with_name("app.tcss"))  # absolute: subclasses elsewhere work too
    COMMANDS = {JumpProvider}  # Textual's system commands are English-only; F1/ctrl+q cover them
    COMMAND_PALETTE_DISPLAY = "^p"
    NOTIFICATION_TIMEOUT = 6

    BINDINGS = [
        tb("f1", "help", "帮助|Help", id="app.help"),
        tb("question_mark", "help", "帮助|Help", id="app.help_key", show=False, key_display="?"),
        tb("f2", "menu", "菜单|Menu", id="app.menu"),
        tb("f3", "goto('members')", "党员|Members", id="app.members", show=False),
        tb("f4", "goto('orgs')", "组织|Orgs", id="app.orgs", show=False),
        tb("f6", "goto('dashboard')", "工作台|Home", id="app.dashboard", show=False),
        tb("f7", "year(-1)", "上一年|Prev year", id="app.prev_year", show=False),
        tb("f8", "year(1)", "下一年|Next year", id="app.next_year", show=False),
        tb("ctrl+y", "ask_year", "年度|Year", id="app.year", show=False),
        tb("f9", "scope", "范围|Scope", id="app.scope", show=False),
        tb("ctrl+p", "command_palette", "跳转|Jump", id="app.palette", priority=True, show=False),
        tb("escape", "back", "返回|Back", id="app.back", show=False),
        tb("ctrl+q", "quit", "退出|Quit", id="app.quit", priority=True, show=False),
    ]

    def get_driver_class(self):
        """The quiet terminal driver (Windows: Textual's own); never the ``TEXTUAL_DRIVER`` environment variable."""
        if sys.platform == "win32":
            from textual.drivers.windows_driver import WindowsDriver

            return WindowsDriver
        from tui.driver import QuietDriver

        return QuietDriver

    def __init__(self, year: int | None = None, **kwargs):
        super().__init__(year=year, **kwargs)
        from tui.widgets import burst

        burst.install()  # keys read in one burst reach an Input in order (textual#6605)
        if get_lang() == "en":
            self.title = "Community Party-building ledger"
        self._plugin_screens: list[tuple[str, str, Any, str]] | None = None
        try:
            from core import config

            keymap = {str(k): str(v) for k, v in config.get().section("keymap").items()
                      if isinstance(v, str)}
        except Exception:
            keymap = {}
        if keymap:
            self.set_keymap(keymap)

    # -- start
    def get_default_screen(self) -> Screen:
        from tui.screens.dashboard import DashboardScreen

        return DashboardScreen()

    def on_mount(self) -> None:
        if self.principal is not None and self.principal.single_user and _first_time("single-user"):
            # once per database (the top bar says 单用户模式 from then on), briefly
            self.notify(tr("单用户模式：当前账号为管理员", "Single-user mode: this account is the administrator"),
                        title=tr("提示", "Note"), timeout=3)
        # plugins load in a thread once the first screen is up (start-up time), not in the CLI;
        # a screen that needs them sooner (menu, palette, plugin screens) loads them on first use
        self.set_timer(0.3, lambda: self.run_worker(self._load_plugins, thread=True, group="plugins",
                                                    exit_on_error=False, name="load_plugins"))

    def _load_plugins(self) -> None:
        """(worker thread) Load plugins, check the config against them, create plugin tables."""
        from core.config import ConfigError

        try:
            from core import plugins
            from core.migrations import plugin_tables

            plugins.check_config()
            plugin_tables()
            errors = plugins.get().errors()
        except ConfigError as exc:  # a config section naming an unknown rule or parameter
            self.call_from_thread(self.exit, return_code=2, message=f"dangjian: {exc}")
            return
        except Exception as exc:  # pragma: no cover
            errors = [("plugins", repr(exc))]
        from tui.api import keep_plugin_status

        keep_plugin_status(self, "tui")  # this start's load failures kept; the kept ones of every command read
        try:
            failures = self.plugin_failures()
        except Exception:  # pragma: no cover
            failures = list(errors)
        self.call_from_thread(self.set_plugin_problems, failures or list(errors))
        if self.plugin_status_error:
            self.call_from_thread(self.plugin_status_changed)
        if errors:
            names = sorted({n for n, _ in errors})
            self.call_from_thread(
                self.notify, tr("插件加载失败：{n}（F2 → 插件状态）", "plugin failed to load: {n} (F2 → Plugins)",
                                n="、".join(names) if get_lang() == "zh" else ", ".join(names)),
                severity="warning", timeout=10)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        no_blink(event.widget)

    # -- year and scope
    def action_year(self, delta: int) -> None:
        self.set_year(self.year + int(delta))

    def action_ask_year(self) -> None:
        self.push_screen(YearDialog(self.year), lambda y: self.set_year(y) if y else None)

    def action_scope(self) -> None:
        from core.read.scopes import scope_tree

        current = (self.town, self.community)
        self.push_screen(ScopeDialog(scope_nodes(scope_tree(self.principal), current), current),
                         lambda r: self.set_scope(*r) if r else None)

    def jump_community(self, code: str) -> None:
        from core.read.organizations import community_town

        town = community_town(code)
        self.set_scope(town, code)
        self.open_screen("dashboard", reset=True)

    def jump_member(self, member_id: int, widen: bool = False) -> None:
        """Open a member's page from the palette (``widen``: outside the current narrowing, which
        goes back to the user's whole scope first)."""
        if widen:
            self.set_scope(None, None)
        self.open_member(member_id)

    # -- navigation
    def plugin_screens(self) -> list[tuple[str, str, Any, str]]:
        if self._plugin_screens is None:
            try:
                from core import plugins

                self._plugin_screens = plugins.get().collect_screens()
            except Exception as exc:  # pragma: no cover
                self.report_error(exc)
                self._plugin_screens = []
        return self._plugin_screens

    def menu_entries(self) -> list[tuple[str, str]]:
        """(name, title) of every screen: built-ins, plugin screens, scorers, reports, help."""
        from tui.screens.registry import SCREENS

        out = [(name, tr(zh, en)) for name, (zh, en, _) in SCREENS.items()]
        for name, title, _factory, plugin in self.plugin_screens():
            out.append((f"plugin:{name}", f"{title} ({plugin})"))
        try:
            from core import plugins

            reg = plugins.get().registry
            lang = get_lang()
            for sname in reg.scorer_names():
                s = reg.scorer_for(sname, None) or next(iter(reg.town_scorers.get(sname, {}).values()))
                out.append((f"scorer:{sname}", tr("评分：", "Score: ") + s.title(lang)))
            for rname, rep in sorted(reg.reports.items()):
                out.append((f"report:{rname}", tr("报表：", "Report: ") + rep.title(lang)))
        except Exception as exc:  # pragma: no cover
            self.report_error(exc)
        out.append(("help", tr("帮助", "Help")))
        return out

    def make_screen(self, name: str) -> Screen | None:
        from tui.screens.registry import SCREENS

        try:
            if name in SCREENS:
                module, _, cls = SCREENS[name][2].partition(":")
                return getattr(importlib.import_module(module), cls)()
            if name.startswith("plugin:"):
                pname = name[len("plugin:"):]
                for n, _title, factory, _plugin in self.plugin_screens():
                    if n == pname:
                        if isinstance(factory, str):  # "report:NAME" / "scorer:NAME": that table screen
                            return self.make_screen(factory) if factory.startswith(("report:", "scorer:")) else None
                        return factory()
                return None
            if name.startswith(("scorer:", "report:")):
                from tui.screens.generic import GenericTableScreen

                kind, _, key = name.partition(":")
                return GenericTableScreen(kind, key)
            if name.startswith("member:"):
                from tui.screens.member_detail import MemberDetailScreen

                return MemberDetailScreen(member_id=int(name.split(":", 1)[1]))
            if name == "help":
                from tui.screens.help import HelpScreen

                return HelpScreen(self.screen)
        except ModuleNotFoundError as exc:
            self.notify(tr("该页面尚未提供：{n}", "screen not available yet: {n}", n=exc.name or name),
                        severity="warning")
            return None
        except Exception as exc:
            self.report_error(exc)
            return None
        self.notify(tr("没有这个页面：{n}", "no such screen: {n}", n=name), severity="warning")
        return None

    def open_screen(self, name: str, reset: bool = False) -> None:
        """Open a screen by registry name (``reset``: go back to the dashboard first)."""
        if name == "dashboard":
            self._pop_to_base()
            return
        if name == "help":  # help describes the screen it is opened from: keep that screen
            reset = False
        screen = self.make_screen(name)
        if screen is None:
            return
        if reset:
            self._pop_to_base()
        self.push_screen(screen)

    def _pop_to_base(self) -> None:
        while len(self.screen_stack) > 1 and not isinstance(self.screen, ModalScreen):
            self.pop_screen()
        while len(self.screen_stack) > 1:
            self.pop_screen()

    def action_goto(self, name: str) -> None:
        self.open_screen(name, reset=True)

    def action_menu(self) -> None:
        self.push_screen(MenuScreen(self.menu_entries()),
                         lambda name: self.open_screen(name, reset=name != "help") if name else None)

    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(LedgerPalette(
                id="--command-palette",
                placeholder=tr("搜索：页面、社区、党员（姓名、拼音首字母、身份证号开头）",
                               "Find: a screen, community or member (name, initials, ID prefix)")))

    def action_help(self) -> None:
        if type(self.screen).__name__ == "HelpScreen":
            return
        from tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(self.screen))

    async def action_back(self) -> None:
        if len(self.screen_stack) > 1:
            self.pop_screen()


def _first_time(what: str) -> bool:
    """True the first time ``what`` is asked for this database (a marker file in the user's
    state directory; any error: True, the notice shows once more)."""
    import hashlib
    import os

    try:
        from core.db import current_url

        key = hashlib.sha256(f"{what}|{current_url() or ''}".encode()).hexdigest()[:16]
        base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "dangjian" / "seen"
        marker = base / key
        if marker.exists():
            return False
        base.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except Exception:
        return True
    return True


def _utf8_terminal() -> None:
    """SSH sessions without a UTF-8 locale give Python an ASCII stream: Chinese would become
    '?' or raise.  The app writes UTF-8 (what every terminal in use here speaks)."""
    import sys

    for stream in (sys.__stdout__, sys.__stderr__):
        enc = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if enc not in ("utf8", "utf8sig"):
            try:
                stream.reconfigure(encoding="utf-8", errors="replace")
            except Exception:  # pragma: no cover - not a TextIOWrapper
                pass


def run_app(year: int | None = None) -> int:
    _utf8_terminal()
    app = DangjianApp(year=year)
    app.run()
    return app.return_code or 0
