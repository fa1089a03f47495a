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
   none).  Subclass :class:`DangjianScreen`: it yields the top bar
   (title, year, scope, user) and the footer around ``compose_body()``::

       from tui.app import DangjianScreen, tb

       class WorkersScreen(DangjianScreen):
           SCREEN_NAME = "workers"                     # registry key (title comes from it)
           BINDINGS = [tb("ctrl+n", "new", "新增|New", id="workers.new")]

           def compose_body(self):
               yield LazyTable(...)

           def refresh_data(self):                     # called on mount and when year/scope change
               self.run_db(queries.workers, self.app.year, on_done=self.show)

   If you override ``compose`` yourself, yield ``TopBar()`` first and
   ``Footer()`` last.

3. **Year and scope.**  ``self.app.year`` (int, default this year, F7/F8 or
   ctrl+y change it), ``self.app.town`` / ``self.app.community`` (None or a
   town name / community code narrowing the view inside the user's scope,
   F9 changes it), ``self.app.principal`` (``core.access.Principal``;
   ``principal.full_personal_data`` decides masking, ``read_only`` forbids
   edits) and ``self.app.scope_ids()`` (community ids the view covers, or
   None for the whole city: pass it to ``core.queries``).  When the year or
   scope changes the app calls ``refresh_data()`` on the current screen, and
   on every other :class:`DangjianScreen` when it is shown again.

4. **Database work** runs in thread workers, never on the UI thread:
   ``self.run_db(fn, *args, on_done=callback, group="load")`` runs
   ``fn(*args)`` in a ``thread=True, exclusive=True, exit_on_error=False``
   worker and calls ``callback(result)`` on the UI thread.  Errors from any
   worker of a :class:`DangjianScreen` (or one you start yourself with
   ``@work(thread=True, exclusive=True, exit_on_error=False)``) go to the one
   handler :meth:`DangjianApp.report_error`: a notification (a
   ``UserError``/``AccessDenied``/``StaleEdit`` shows its message; anything
   else its type and text), never a crash.  Inside your own ``@work`` use
   ``self.app.call_from_thread(...)`` to post results back.

5. **Bindings.**  Every ``Binding`` has an ``id`` (``"screen.action"``) and a
   bilingual description ``"中文|English"``; build them with :func:`tb`
   (or plain ``Binding``) — :class:`DangjianScreen` translates them per
   instance, so the footer, F1 help and ``[keymap]`` (``App.set_keymap``,
   keys by binding id) all work.  The app keeps for itself: F1 help, F2 menu,
   F3 members, F4 organizations, F5 refresh (a screen action ``refresh``),
   F6 dashboard, F7/F8 previous/next year, F9 scope, ctrl+p palette, ctrl+q
   quit, Esc back.  Screens may use ctrl+letters such as ctrl+n new,
   ctrl+e edit, ctrl+d delete, ctrl+s save, ctrl+f find, ctrl+r run; avoid
   ctrl+enter, ctrl+i/m/h (tab/enter/backspace) and ctrl+z/c.

6. **Styles.**  The shared stylesheet ``tui/app.tcss`` defines ``$variables``
   (``$ok``, ``$fail``, ``$warn``, ``$muted``, ``$panel-bg`` …) and classes
   (``.ok``/``.fail``/``.warn``/``.muted``, ``.section-title``, ``.toolbar``,
   ``.form-row``, ``.error-text``, ``.card``); a screen may add
   ``DEFAULT_CSS`` of its own.  Text cursors never blink (the app turns
   ``cursor_blink`` off on focus): idle SSH sessions must cost nothing.

7. **Text** goes through ``core.i18n.tr(zh, en)``.  Personal data shown via
   ``core.ids.mask`` / ``mask_phone`` unless ``principal.full_personal_data``.

Other helpers: ``self.app.open_screen(name)`` opens a registered screen
(``member:<id>`` opens a member's page), ``self.app.open_member(id)``,
``LazyTable`` in ``tui.widgets.lazytable`` for lists that may be long.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Callable

from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from core.i18n import get_lang, tr

# ---------------------------------------------------------------- bilingual bindings


def bi(text: str) -> str:
    """``"中文|English"`` → the part for the interface language."""
    if "|" not in text:
        return text
    zh, en = text.split("|", 1)
    return en if get_lang() == "en" else zh


def tb(key: str, action: str, description: str, *, id: str, show: bool = True, priority: bool = False,
       key_display: str | None = None) -> Binding:
    """A binding with an id and a bilingual ``"中文|English"`` description."""
    return Binding(key, action, description, show=show, priority=priority, id=id, key_display=key_display)


def translate_bindings(node) -> None:
    """Replace ``"中文|English"`` descriptions in ``node._bindings`` by the interface language."""
    import dataclasses

    bmap = node._bindings
    for key, bindings in list(bmap.key_to_bindings.items()):
        bmap.key_to_bindings[key] = [
            dataclasses.replace(b, description=bi(b.description)) if "|" in (b.description or "") else b
            for b in bindings
        ]


# ---------------------------------------------------------------- screens: shared base


def screen_title(name: str) -> str:
    """The title of a registered screen in the interface language."""
    from tui.screens.registry import SCREENS

    if name in SCREENS:
        zh, en, _ = SCREENS[name]
        return tr(zh, en)
    return name


class TopBar(Static):
    """One line: app title, screen title, year, scope, user (or the single-user notice)."""

    DEFAULT_CSS = """
    TopBar { height: 1; background: $primary-darken-2; color: $text; padding: 0 1; }
    """

    def __init__(self, **kwargs):
        super().__init__("", markup=False, **kwargs)

    def on_mount(self) -> None:
        self.update_text()

    def update_text(self) -> None:
        app = self.app
        screen = self.screen
        title = getattr(screen, "screen_title", lambda: "")()
        parts = [tr("党建台账", "Ledger")]
        if title:
            parts.append(title)
        if isinstance(app, DangjianApp):
            parts.append(tr("{y}年", "{y}", y=app.year))
            parts.append(app.scope_label())
            me = app.principal
            if me is not None:
                parts.append(tr("单用户模式", "single-user") if me.single_user else me.login)
        self.update(" | ".join(parts))


class DangjianScreen(Screen):
    """Base of the app's screens: top bar + ``compose_body()`` + footer; DB work in workers."""

    SCREEN_NAME: str = ""
    TITLE_ZH: str = ""
    TITLE_EN: str = ""

    BINDINGS = [tb("f5", "refresh", "刷新|Refresh", id="screen.refresh")]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        translate_bindings(self)
        self._data_generation = -1
        self._db_callbacks: dict[Worker, Callable] = {}

    # -- layout
    def screen_title(self) -> str:
        if self.TITLE_ZH:
            return tr(self.TITLE_ZH, self.TITLE_EN or self.TITLE_ZH)
        return screen_title(self.SCREEN_NAME) if self.SCREEN_NAME else ""

    def compose(self) -> ComposeResult:
        yield TopBar()
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    # -- data
    def refresh_data(self) -> None:
        """(Re)load what the screen shows; called on mount and when year/scope change."""

    def action_refresh(self) -> None:
        self.refresh_data()

    def on_mount(self) -> None:
        app = self.app
        self._data_generation = getattr(app, "data_generation", 0)
        # paint the screen first, then load (a worker competing for the GIL slows the first paint)
        self.call_after_refresh(self.refresh_data)

    def on_screen_resume(self) -> None:
        app = self.app
        gen = getattr(app, "data_generation", 0)
        for bar in self.query(TopBar):
            bar.update_text()
        if self._data_generation not in (-1, gen):
            self._data_generation = gen
            self.refresh_data()

    def run_db(self, fn: Callable, *args, on_done: Callable | None = None, group: str = "load",
               exclusive: bool = True, **kwargs) -> Worker:
        """Run ``fn(*args, **kwargs)`` in a thread worker; ``on_done(result)`` on the UI thread."""
        worker = self.run_worker(lambda: fn(*args, **kwargs), thread=True, exclusive=exclusive, group=group,
                                 exit_on_error=False, name=getattr(fn, "__name__", "db"))
        if on_done is not None:
            self._db_callbacks[worker] = on_done
        return worker

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state == WorkerState.SUCCESS:
            cb = self._db_callbacks.pop(worker, None)
            if cb is not None and self.is_attached:
                try:
                    cb(worker.result)
                except Exception as exc:  # a bug while showing data: a notice, not a crash
                    app = self.app
                    if isinstance(app, DangjianApp):
                        app.report_error(exc)
                    else:  # pragma: no cover
                        raise
        elif event.state == WorkerState.ERROR:
            self._db_callbacks.pop(worker, None)
            app = self.app
            if isinstance(app, DangjianApp):
                app.report_error(worker.error)
        elif event.state == WorkerState.CANCELLED:
            self._db_callbacks.pop(worker, None)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        no_blink(event.widget)


def no_blink(widget) -> None:
    if getattr(widget, "cursor_blink", False):
        try:
            widget.cursor_blink = False
        except Exception:  # pragma: no cover
            pass


# ---------------------------------------------------------------- dialogs


class MenuScreen(ModalScreen[str]):
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
        translate_bindings(self)
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


class YearDialog(ModalScreen[int]):
    """Ask for a year."""

    BINDINGS = [tb("escape", "cancel", "取消|Cancel", id="year.cancel")]
    DEFAULT_CSS = """
    YearDialog { align: center middle; }
    YearDialog > Vertical { width: 40; height: auto; border: round $accent; background: $panel; padding: 0 1; }
    """

    def __init__(self, year: int):
        super().__init__()
        translate_bindings(self)
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


class ScopeDialog(ModalScreen[tuple]):
    """Narrow the view to a town or a community inside the user's scope."""

    BINDINGS = [tb("escape", "cancel", "取消|Cancel", id="scope.cancel")]
    DEFAULT_CSS = """
    ScopeDialog { align: center middle; }
    ScopeDialog > Vertical { width: 60; max-width: 100%; height: auto; max-height: 90%;
        border: round $accent; background: $panel; padding: 0 1; }
    ScopeDialog OptionList { height: auto; max-height: 18; border: none; }
    """

    def __init__(self, choices: list[tuple[str, str | None, str | None]]):
        super().__init__()
        translate_bindings(self)
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(tr("查看范围", "View scope"), classes="section-title")
            yield OptionList(*[Option(label, id=str(i)) for i, (label, _t, _c) in enumerate(self.choices)])

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        _label, town, community = self.choices[int(event.option.id)]
        self.dismiss((town, community))

    def action_cancel(self) -> None:
        self.dismiss(None)


# ---------------------------------------------------------------- command palette


class JumpProvider(Provider):
    """Palette: jump to any screen, community or member (name, pinyin initials, ID prefix)."""

    async def discover(self) -> Hits:
        app = self.app
        for name, title in app.menu_entries():
            yield DiscoveryHit(title, lambda n=name: app.open_screen(n, reset=True),
                               help=tr("打开页面", "open screen"))

    async def search(self, query: str) -> Hits:
        import asyncio

        from core import queries

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
        scope = app.scope_ids()
        try:
            communities, members = await asyncio.to_thread(queries.palette_lookup, q, scope, 8)
        except Exception as exc:  # pragma: no cover - reported, not raised
            app.report_error(exc)
            return
        for cid, code, cname, town in communities:
            label = f"{tr('社区', 'Community')} {cname} ({code}, {town})"
            yield Hit(0.9, label, lambda c=code: app.jump_community(c), text=label,
                      help=tr("以该社区为查看范围", "view this community"))
        for row in members:
            label = f"{tr('党员', 'Member')} {row['name']}  {app.show_id(row['id_number'])}  {row['org_name'] or ''}"
            yield Hit(0.8, label, lambda i=row["id"]: app.open_member(i), text=label,
                      help=tr("打开党员页面", "open the member's page"))


# ---------------------------------------------------------------- the app


class DangjianApp(App):
    """社区党建工作电子台账."""

    TITLE = "社区党建工作电子台账"
    CSS_PATH = str(Path(__file__).with_name("app.tcss"))  # absolute: subclasses elsewhere work too
    COMMANDS = {JumpProvider}  # Textual's system commands are English-only; F1/ctrl+q cover them
    COMMAND_PALETTE_DISPLAY = "^p"
    NOTIFICATION_TIMEOUT = 6

    BINDINGS = [
        tb("f1", "help", "帮助|Help", id="app.help"),
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

    def __init__(self, year: int | None = None, **kwargs):
        super().__init__(**kwargs)
        translate_bindings(self)
        from tui.widgets import burst

        burst.install()  # keys read in one burst reach an Input in order (textual#6605)
        from core import access
        from core.dates import today

        if get_lang() == "en":
            self.title = "Community Party-building ledger"
        self.principal = access.current()
        self.year = year or today().year
        self.town: str | None = None
        self.community: str | None = None
        self.data_generation = 0
        self._plugin_screens: list[tuple[str, str, Any, str]] | None = None
        self._scope_ids_cache: dict = {}
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
        if self.principal is not None and self.principal.single_user:
            self.notify(tr("单用户模式：当前账号为管理员", "Single-user mode: this account is the administrator"),
                        title=tr("提示", "Note"), timeout=8)
        # plugins load in a thread once the first screen is up (start-up time), not in the CLI;
        # a screen that needs them sooner (menu, palette, plugin screens) loads them on first use
        self.set_timer(0.3, lambda: self.run_worker(self._load_plugins, thread=True, group="plugins",
                                                    exit_on_error=False, name="load_plugins"))

    def _load_plugins(self) -> None:
        """(worker thread) Load plugins, check the config against them, create plugin tables."""
        from core.config import ConfigError

        try:
            from core import plugins
            from core.cli import check_plugins
            from core.migrations import plugin_tables

            check_plugins()
            plugin_tables()
            errors = plugins.get().errors()
        except ConfigError as exc:  # a config section naming an unknown rule or parameter
            self.call_from_thread(self.exit, return_code=2, message=f"dangjian: {exc}")
            return
        except Exception as exc:  # pragma: no cover
            errors = [("plugins", repr(exc))]
        if errors:
            names = sorted({n for n, _ in errors})
            self.call_from_thread(
                self.notify, tr("插件加载失败：{n}（F2 → 插件状态）", "plugin failed to load: {n} (F2 → Plugins)",
                                n="、".join(names) if get_lang() == "zh" else ", ".join(names)),
                severity="warning", timeout=10)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        no_blink(event.widget)

    # -- errors: the one handler
    def report_error(self, error: BaseException | None) -> None:
        """Show a worker's error as a notification (never crash)."""
        from core.errors import UserError

        if error is None:
            return
        if isinstance(error, UserError) or type(error).__name__ in ("AccessDenied", "StaleEdit", "UserError"):
            msg = str(error)
        else:
            msg = f"{type(error).__name__}: {error}"
        self.notify(msg, title=tr("出错了", "Error"), severity="error", timeout=10)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.report_error(event.worker.error)

    # -- scope and year
    def scope_label(self) -> str:
        me = self.principal
        if self.community:
            return tr("社区 {c}", "community {c}", c=self._community_name(self.community))
        if self.town:
            return self.town
        if me is None or me.sees_everything:
            return tr("全市", "whole city")
        return me.scope

    def _community_name(self, code: str) -> str:
        from core import queries

        return queries.community_name(code) or code

    def scope_ids(self):
        """Community ids the view covers (user scope ∩ town/community narrowing), or None for all."""
        key = (self.town, self.community, id(self.principal))
        if key not in self._scope_ids_cache:
            from core import queries

            self._scope_ids_cache = {key: queries.scope_ids(self.principal, self.town, self.community)}
        return self._scope_ids_cache[key]

    def show_id(self, id_number: str | None) -> str:
        from core import ids

        if self.principal is not None and self.principal.full_personal_data:
            return id_number or ""
        return ids.mask(id_number)

    def show_phone(self, phone: str | None) -> str:
        from core import ids

        if self.principal is not None and self.principal.full_personal_data:
            return phone or ""
        return ids.mask_phone(phone)

    def data_changed(self) -> None:
        """Year or scope changed: refresh the current screen now and others when shown."""
        self.data_generation += 1
        screen = self.screen
        for bar in screen.query(TopBar):
            bar.update_text()
        if isinstance(screen, DangjianScreen):
            screen._data_generation = self.data_generation
            screen.refresh_data()

    def set_year(self, year: int) -> None:
        if year != self.year:
            self.year = year
            self.data_changed()

    def action_year(self, delta: int) -> None:
        self.set_year(self.year + int(delta))

    def action_ask_year(self) -> None:
        self.push_screen(YearDialog(self.year), lambda y: self.set_year(y) if y else None)

    def set_scope(self, town: str | None, community: str | None) -> None:
        self.town, self.community = town, community
        self._scope_ids_cache = {}
        self.data_changed()

    def action_scope(self) -> None:
        from core import queries

        choices = queries.scope_choices(self.principal)
        self.push_screen(ScopeDialog(choices), lambda r: self.set_scope(*r) if r else None)

    def jump_community(self, code: str) -> None:
        from core import queries

        town = queries.community_town(code)
        self.set_scope(town, code)
        self.open_screen("dashboard", reset=True)

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

    def open_member(self, member_id: int) -> None:
        self.open_screen(f"member:{member_id}")

    def action_goto(self, name: str) -> None:
        self.open_screen(name, reset=True)

    def action_menu(self) -> None:
        self.push_screen(MenuScreen(self.menu_entries()),
                         lambda name: self.open_screen(name, reset=name != "help") if name else None)

    def action_command_palette(self) -> None:
        from textual.command import CommandPalette

        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(
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
