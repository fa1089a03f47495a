"""The screens' base (界面基础): what every screen of the terminal app builds on.

The app's own screens (``tui/screens/*.py``), its dialogs and widgets, and the
screens a plugin adds through ``dangjian_register_screens`` import this module —
never ``tui.app``, which imports the screens (a plugin imports it inside its
screen factory, so a headless command never loads textual)::

    @hookimpl
    def dangjian_register_screens(register):
        def factory():
            from textual.widgets import Static
            from tui.api import DangjianScreen, tb

            class Notice(DangjianScreen):
                TITLE_ZH, TITLE_EN = "巴城镇通知", "Bacheng notices"
                BINDINGS = [tb("ctrl+r", "reload", "重新读取|Reload", id="bacheng.reload")]

                def compose_body(self):
                    yield Static("", id="notice")

                def refresh_data(self):            # on mount, and when the year or the scope change
                    self.run_db(load_notices, self.app.year, self.app.view, on_done=self.show)

                def show(self, rows):
                    self.query_one("#notice", Static).update("\\n".join(rows))

                def action_reload(self):
                    self.refresh_data()

            return Notice()
        register("bacheng-notice", "巴城镇通知", factory)

What is here:

- :class:`DangjianScreen` — top bar, ``compose_body()``, footer; ``refresh_data()``
  on mount and whenever the year or the scope changed; :meth:`~DbWork.run_db`.
- :class:`DangjianModal` — the base of dialogs (``ModalScreen[T]``), with ``run_db``.
- :class:`LedgerApp` — what a screen may rely on in ``self.app``: ``year``,
  ``view`` (the user's :class:`core.view.View`, narrowed with F9 to ``town`` /
  ``community``: pass it to the queries of :mod:`core.read`, which show personal
  data through it), ``principal``, ``report_error``, ``open_screen`` /
  ``open_member``.
- :func:`tb` — a binding with an id and a ``"中文|English"`` description.
- :class:`TopBar`, :func:`no_blink`, :func:`bi`.

Bindings: every ``Binding`` has an ``id`` (``"screen.action"``) and a description
``"中文|English"``.  The footer and the F1 help read them through the screen's
``active_bindings``, which gives each description in the interface language; a
``[keymap]`` table in config rebinds keys by id (``App.set_keymap``).
"""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Callable

from rich.segment import Segment
from textual import events
from textual.app import App, ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.filter import LineFilter
from textual.screen import ModalScreen, Screen, ScreenResultType
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from core.i18n import get_lang, tr
from core.text import BAD_IN_LINE

if TYPE_CHECKING:
    from core.view import View

__all__ = ["bi", "tb", "fit", "no_blink", "screen_title", "LedgerApp", "TopBar", "DbWork", "BilingualBindings",
           "DangjianScreen", "DangjianModal"]


# ---------------------------------------------------------------- bilingual bindings


def bi(text: str) -> str:
    """``"中文|English"`` → the part for the interface language."""
    if "|" not in (text or ""):
        return text
    zh, en = text.split("|", 1)
    return en if get_lang() == "en" else zh


def tb(key: str, action: str, description: str, *, id: str, show: bool = True, priority: bool = False,
       key_display: str | None = None) -> Binding:
    """A binding with an id and a bilingual ``"中文|English"`` description."""
    return Binding(key, action, description, show=show, priority=priority, id=id, key_display=key_display)


class BilingualBindings:
    """Screen mixin: ``active_bindings`` (what the footer and the help show) in the interface language."""

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        out = {}
        for key, active in super().active_bindings.items():  # type: ignore[misc]
            binding = active.binding
            if "|" in (binding.description or ""):
                active = active._replace(binding=dataclasses.replace(binding, description=bi(binding.description)))
            out[key] = active
        return out


def no_blink(widget) -> None:
    """Text cursors never blink: an idle SSH session must cost nothing."""
    if getattr(widget, "cursor_blink", False):
        try:
            widget.cursor_blink = False
        except Exception:  # pragma: no cover
            pass


def screen_title(name: str) -> str:
    """The title of a registered screen in the interface language."""
    from tui.screens.registry import SCREENS

    if name in SCREENS:
        zh, en, _ = SCREENS[name]
        return tr(zh, en)
    return name


# ---------------------------------------------------------------- the app, as screens see it


class ControlCharacterFilter(LineFilter):
    """Takes control and bidirectional characters out of every line the app draws, so
    stored text (from before the door checked it, or a database edited by hand) never
    reaches the terminal as raw escape sequences.  They are zero cells wide, so the
    layout does not move; tables show them as visible escapes (:func:`core.text.printable`)."""

    def apply(self, segments, background):
        if not any(BAD_IN_LINE.search(seg.text) for seg in segments):
            return segments
        return [Segment(BAD_IN_LINE.sub("", seg.text), seg.style, seg.control) if not seg.control else seg
                for seg in segments]


_CONTROL_FILTER = ControlCharacterFilter()  # holds no state: one for every app


class LedgerApp(App):
    """What every screen relies on in ``self.app`` (the app is :class:`tui.app.DangjianApp`).

    ``year`` (F7/F8, ctrl+y); ``view``, the user's view of the data narrowed to ``town`` /
    ``community`` (None, or a town name / community code inside the user's scope; F9);
    ``principal`` (:class:`core.access.Principal`).  When the year or the scope change, the
    current screen reloads now and every other :class:`DangjianScreen` when it is shown again.
    """

    def __init__(self, year: int | None = None, **kwargs):
        super().__init__(**kwargs)
        from core import access
        from core.dates import today

        self.principal = access.current()
        self.year: int = year or today().year
        self.town: str | None = None
        self.community: str | None = None
        self.data_generation = 0
        self.records_generation = 0  # bumped by every save (and check run) anywhere in the app
        self.plugin_problems: list[tuple[str, str]] = []  # (plugin, message): the red banner
        # the plugin failures kept in the database (core.plugin_status.stored()), read in workers
        self.stored_plugin_failures: list[dict] = []
        self.plugin_status_error: str = ""  # why the last keeping of the plugin status failed (said once)
        self._view: View | None = None

    def get_line_filters(self):
        return [*super().get_line_filters(), _CONTROL_FILTER]

    # -- the view
    @property
    def view(self) -> View:
        """The :class:`core.view.View` the screens show: the user's scope
        (:meth:`core.access.Principal.scope_community_ids`) narrowed to ``town`` / ``community``,
        built once per narrowing (:meth:`core.view.View.of`).  Its ``community_ids`` are the
        communities shown (None: the whole city); it masks personal data for this user."""
        if self._view is None:
            from core.view import View

            self._view = View.of(self.principal, self.town, self.community)
        return self._view

    def scope_label(self) -> str:
        me = self.principal
        if self.community:
            from core.read.organizations import community_name

            return tr("社区 {c}", "community {c}", c=community_name(self.community) or self.community)
        if self.town:
            return self.town
        if me is None or me.sees_everything:
            return tr("全市", "whole city")
        return me.scope

    def data_changed(self) -> None:
        """Year or scope changed: refresh the current screen now and others when shown."""
        self.data_generation += 1
        screen = self.screen
        for bar in screen.query(TopBar):
            bar.update_text()
        if isinstance(screen, DangjianScreen):
            screen.view_changed(self.data_generation)

    def records_changed(self) -> None:
        """Something was saved (or a check ran): every screen reloads when it is shown again
        (the current one reloads itself after its own save).  A check run may have found plugin
        failures: the banner is brought up to date."""
        self.records_generation += 1
        problems = self.plugin_failures()
        if problems != self.plugin_problems:
            self.set_plugin_problems(problems)

    def plugin_failures(self) -> list[tuple[str, str]]:
        """(plugin, message) of the plugins that failed: this process's
        (``core.plugins.current_failures()``), then those kept in the database by any command or
        an earlier session (``stored_plugin_failures``, read in a worker by
        :func:`keep_plugin_status`) of the plugins this process loads — with hook, file:line,
        time and command."""
        try:
            from core import plugins

            current = plugins.current_failures()
            out = [(str(f["plugin"]), str(f["message"])) for f in current]
            seen = {(f["plugin"], f["hook"], f["where"], f["message"]) for f in current}
            manager = plugins.get_loaded()
            known = {i.name for i in manager.infos} if manager is not None else set()
            for f in self.stored_plugin_failures:
                if f["plugin"] not in known or (f["plugin"], f["hook"], f["where"], f["message"]) in seen:
                    continue  # a plugin not loaded here, or this process's own failure (listed above)
                text = f"{f['hook']} {f['where']}: {f['message']}".strip() + tr(
                    "（{a}，dangjian {c}）", " ({a}, dangjian {c})", a=f["at"], c=f["command"] or "tui")
                if (f["plugin"], text) not in out:
                    out.append((str(f["plugin"]), text))
            return out
        except Exception as exc:  # pragma: no cover
            return [("plugins", repr(exc))]

    def plugin_status_changed(self) -> None:
        """(UI thread) After a worker kept the plugin status: bring the banner up to date, and say
        once when the status could not be kept."""
        if self.plugin_status_error:
            error, self.plugin_status_error = self.plugin_status_error, ""
            self.notify(tr("插件故障未能记入数据库：{e}", "the plugin failures could not be kept in the database: {e}",
                           e=error), severity="warning", timeout=10)
        problems = self.plugin_failures()
        if problems != self.plugin_problems:
            self.set_plugin_problems(problems)

    def set_plugin_problems(self, problems: list[tuple[str, str]]) -> None:
        """Show (or clear) the red plugin banner on the top bar and the dashboard."""
        self.plugin_problems = list(problems)
        screen = self.screen
        for bar in screen.query(TopBar):
            bar.update_text()
        hook = getattr(screen, "plugin_problems_changed", None)
        if hook is not None:
            hook()

    def set_year(self, year: int) -> None:
        if year != self.year:
            self.year = year
            self.data_changed()

    def set_scope(self, town: str | None, community: str | None) -> None:
        """Narrow the view to a town or a community (None, None: the user's whole scope)."""
        from core.errors import UserError
        from core.view import View

        try:
            view = View.of(self.principal, town, community)
        except UserError as exc:  # gone since it was offered, or outside the user's scope
            self.report_error(exc)
            return
        self.town, self.community, self._view = town, community, view
        self.data_changed()

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

    # -- navigation (the app's menu and registry: tui.app)
    def open_screen(self, name: str, reset: bool = False) -> None:
        """Open a registered screen by name (``member:<id>`` a member's page; ``reset``: from the dashboard)."""
        raise NotImplementedError

    def open_member(self, member_id: int) -> None:
        self.open_screen(f"member:{member_id}")


class LedgerFooter(Footer):
    """Textual's footer, rebuilt once however many times the bindings change within a moment.

    Opening a screen changes the bindings several times in one go (the screen stack, then the
    focus): Textual's footer rebuilds all its keys for each (about 25 ms each at 80x24)."""

    SETTLE = 0.05  # seconds

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pending_screen = None

    def bindings_changed(self, screen) -> None:
        first = self._pending_screen is None
        self._pending_screen = screen
        if first:  # the changes of one screen switch come over a few frames: settle for a moment
            self.set_timer(self.SETTLE, self._keys_settled)

    def _keys_settled(self) -> None:
        screen, self._pending_screen = self._pending_screen, None
        if screen is not None:
            super().bindings_changed(screen)


class TopBar(Static):
    """One line: app title, screen title, year, scope, user (or the single-user notice)."""

    DEFAULT_CSS = """
    TopBar { height: 1; background: $primary-darken-2; color: $text; padding: 0 1; }
    """

    def __init__(self, **kwargs):
        super().__init__("", markup=False, **kwargs)

    def on_mount(self) -> None:
        self.update_text()

    def on_resize(self, event: events.Resize) -> None:
        self.update_text()

    def update_text(self) -> None:
        from rich.cells import cell_len
        from rich.text import Text

        app: LedgerApp = self.app  # type: ignore[assignment]
        screen = self.screen
        title = screen.screen_title() if isinstance(screen, DangjianScreen) else ""
        tail = [tr("{y}年", "{y}", y=app.year), app.scope_label()]
        me = app.principal
        if me is not None:
            tail.append(tr("单用户模式", "single-user") if me.single_user else me.login)
        out = Text()
        problems = getattr(app, "plugin_problems", None) or []
        if problems:
            out.append(tr(" 插件出错 {n} ", " {n} plugin error(s) ", n=len({n for n, _ in problems})),
                       style="bold white on red")
            out.append(" ")
        head = tr("党建台账", "Ledger")
        width = (self.size.width - 2) if self.size.width else 78
        sep = " | "
        fixed = cell_len(out.plain) + cell_len(head) + sum(cell_len(sep) + cell_len(t) for t in tail)
        if title:
            room = width - fixed - cell_len(sep)
            title = fit(title, room) if room >= 3 else ""
        if cell_len(out.plain) + cell_len(head) + (cell_len(sep) + cell_len(title) if title else 0) \
                + sum(cell_len(sep) + cell_len(t) for t in tail) > width and len(tail) > 1:
            # still too wide: the scope name is cut (the year always shows)
            rest = width - (cell_len(out.plain) + cell_len(head) + (cell_len(sep) + cell_len(title) if title else 0)
                            + sum(cell_len(sep) + cell_len(t) for i, t in enumerate(tail) if i != 1) + cell_len(sep))
            tail[1] = fit(tail[1], max(1, rest))
        out.append(sep.join([head] + ([title] if title else []) + tail))
        self.tooltip = " | ".join([head] + ([screen.screen_title()] if isinstance(screen, DangjianScreen) else [])
                                  + tail)
        self.update(out)


def fit(text: str, width: int, pad: bool = False) -> str:
    """``text`` cut to ``width`` terminal cells, ending in "…" when cut (Chinese counts 2 cells);
    ``pad``: filled with spaces to exactly ``width`` cells."""
    from rich.cells import cell_len, get_character_cell_size

    text = text or ""
    if width <= 0:
        return ""
    n = cell_len(text)
    if n <= width:
        return text + " " * (width - n) if pad else text
    out, used = [], 0
    for ch in text:
        w = get_character_cell_size(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    cut = "".join(out) + "…"
    used += 1
    return cut + " " * (width - used) if pad else cut


# ---------------------------------------------------------------- database work


CHANGE_GROUPS = ("save", "check")  # run_db groups whose success changes what other screens show


def keep_plugin_status(app, command: str = "tui") -> None:
    """(worker thread) Keep what the plugins did in this process since the last time
    (:func:`core.plugin_status.save`) and, when that changed anything, read the kept failures
    into ``app.stored_plugin_failures``; a failure to write goes to ``app.plugin_status_error``.
    The UI thread then shows them (:meth:`LedgerApp.plugin_status_changed`)."""
    from core import plugin_status, plugins

    if plugins.get_loaded() is None:
        return
    principal = getattr(app, "principal", None)
    try:
        if plugin_status.save(command=command, user=getattr(principal, "login", None)) or \
                getattr(app, "_plugin_status_unread", True):
            app.stored_plugin_failures = plugin_status.stored()
            app._plugin_status_unread = False
    except Exception as exc:  # noqa: BLE001 - said on the screen, never swallowed
        app.plugin_status_error = str(exc).splitlines()[0] if str(exc) else repr(exc)


class DbWork:
    """``run_db(fn, *args, on_done=cb)``: ``fn`` runs in a ``thread=True, exclusive=True,
    exit_on_error=False`` worker, never on the UI thread; ``cb(result)`` runs on the UI thread.
    Errors (of ``fn``, or of ``cb`` while showing the result) go to the app's one handler,
    :meth:`LedgerApp.report_error`: a notice, never a crash."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._db_callbacks: dict[Worker, Callable] = {}

    def run_db(self, fn: Callable, *args, on_done: Callable | None = None, group: str = "load",
               exclusive: bool = True, **kwargs) -> Worker:
        """Run ``fn`` in a worker.  ``group="save"`` (a write) or ``"check"`` (a check run) tells
        the app, when it succeeds, that records changed: every screen reloads when shown again."""
        app = self.app  # type: ignore[attr-defined]
        command = "tui " + (getattr(self, "SCREEN_NAME", "") or type(self).__name__)

        def job():
            try:
                return fn(*args, **kwargs)
            finally:  # what the plugins did meanwhile is kept (core.plugin_status), in this worker
                keep_plugin_status(app, command)

        worker = self.run_worker(job, thread=True,  # type: ignore[attr-defined]
                                 exclusive=exclusive, group=group, exit_on_error=False,
                                 name=getattr(fn, "__name__", "db"))
        if on_done is not None:
            self._db_callbacks[worker] = on_done
        return worker

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR):
            changed = getattr(self.app, "plugin_status_changed", None)  # type: ignore[attr-defined]
            if changed is not None:
                changed()
        if event.state == WorkerState.SUCCESS:
            if worker.group in CHANGE_GROUPS:  # a save or a check run: other screens reload when shown
                changed = getattr(self.app, "records_changed", None)  # type: ignore[attr-defined]
                if changed is not None:
                    changed()
                    if hasattr(self, "_records_generation"):  # this screen reloads itself after its own save
                        self._records_generation = self.app.records_generation  # type: ignore[attr-defined]
            cb = self._db_callbacks.pop(worker, None)
            if cb is not None and self.is_attached:  # type: ignore[attr-defined]
                try:
                    cb(worker.result)
                except Exception as exc:  # a bug while showing data: a notice, not a crash
                    self.app.report_error(exc)  # type: ignore[attr-defined]
        elif event.state == WorkerState.ERROR:
            self._db_callbacks.pop(worker, None)
            self.app.report_error(worker.error)  # type: ignore[attr-defined]
        elif event.state == WorkerState.CANCELLED:
            self._db_callbacks.pop(worker, None)


# ---------------------------------------------------------------- screens


class DangjianScreen(BilingualBindings, DbWork, Screen):
    """Base of the app's screens: top bar + ``compose_body()`` + footer; DB work in workers.

    ``SCREEN_NAME`` is the registry key the title comes from (or set ``TITLE_ZH`` /
    ``TITLE_EN``).  Override ``compose_body()`` and ``refresh_data()``; if you override
    ``compose`` yourself, yield ``TopBar()`` first and ``LedgerFooter()`` last.
    """

    SCREEN_NAME: str = ""
    TITLE_ZH: str = ""
    TITLE_EN: str = ""

    BINDINGS = [tb("f5", "refresh", "刷新|Refresh", id="screen.refresh")]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._data_generation = -1  # the app's data_generation this screen last loaded (-1: not yet)
        self._records_generation = -1  # the app's records_generation this screen last loaded

    # -- layout
    def screen_title(self) -> str:
        if self.TITLE_ZH:
            return tr(self.TITLE_ZH, self.TITLE_EN or self.TITLE_ZH)
        return screen_title(self.SCREEN_NAME) if self.SCREEN_NAME else ""

    def compose(self) -> ComposeResult:
        yield TopBar()
        yield from self.compose_body()
        yield LedgerFooter()

    def compose_body(self) -> ComposeResult:
        yield from ()

    # -- data
    def refresh_data(self) -> None:
        """(Re)load what the screen shows; called on mount and when year/scope change."""

    def action_refresh(self) -> None:
        self.refresh_data()

    def view_changed(self, generation: int) -> None:
        """The app's year or scope changed (this screen is the current one): reload."""
        self._data_generation = generation
        self._records_generation = getattr(self.app, "records_generation", 0)
        self.refresh_data()

    def records_changed(self) -> None:
        """Records were saved elsewhere (or a check ran) since this screen last loaded: reload."""
        self._records_generation = getattr(self.app, "records_generation", 0)
        self.refresh_data()

    def on_mount(self) -> None:
        # Textual itself calls the on_mount of every class up the MRO, so a screen's own on_mount
        # needs no super().on_mount(); one that calls it anyway must not load the data twice
        if self._data_generation != -1:
            return
        self._data_generation = self.app.data_generation  # type: ignore[attr-defined]
        self._records_generation = getattr(self.app, "records_generation", 0)
        # paint the screen first, then load (a worker competing for the GIL slows the first paint)
        self.call_after_refresh(self.refresh_data)

    def on_screen_resume(self) -> None:
        gen = self.app.data_generation  # type: ignore[attr-defined]
        rgen = getattr(self.app, "records_generation", 0)
        for bar in self.query(TopBar):
            bar.update_text()
        if self._data_generation not in (-1, gen):
            self.view_changed(gen)
        elif self._records_generation not in (-1, rgen):
            self.records_changed()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        no_blink(event.widget)


class DangjianModal(BilingualBindings, DbWork, ModalScreen[ScreenResultType]):
    """Base of dialogs: a ``ModalScreen[T]`` (``dismiss(value)`` returns to the caller's callback),
    its bindings in the interface language, ``run_db`` like a screen."""
