"""The app shell: start, dashboard, help, menu, Esc, palette, plugins, English, keymap."""
from __future__ import annotations

import textwrap

import pytest

from tests.tui.helpers import aio, make_app, screen_text, settle

pytestmark = pytest.mark.timeout(60)


@aio
async def test_starts_on_dashboard(tui_db):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert type(app.screen).__name__ == "DashboardScreen"
        assert "工作台" in text and "2026年" in text
        assert "单用户模式" in text
        assert "党员 49 名" in text  # 50 built, one transferred out
        assert "尚未运行检查" in text
        # the single-user notice is also a notification
        assert any("单用户模式：当前账号为管理员" in n.message for n in app._notifications)


@aio
async def test_dashboard_runs_a_check_in_a_worker(tui_db):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot, 5)
        text = screen_text(app)
        assert "不符合" in text and "第13条" in text
        assert "尚未运行检查" not in text
    # the run was stored: a new app reads it from the last run
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "尚未运行检查" not in screen_text(app)


@aio
async def test_help_lists_bindings_and_esc_goes_back(tui_db):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert type(app.screen).__name__ == "HelpScreen"
        help_text = str(app.screen.query_one("#help-text").render())
        for ident in ("app.help", "app.menu", "app.palette", "dashboard.run_check", "screen.refresh", "app.back"):
            assert ident in help_text
        assert "运行检查" in help_text
        await pilot.press("escape")
        await settle(pilot)
        assert type(app.screen).__name__ == "DashboardScreen"


@aio
async def test_menu_navigation_and_esc(tui_db):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        assert type(app.screen).__name__ == "MenuScreen"
        await pilot.press("down", "enter")  # 组织架构
        await settle(pilot)
        assert type(app.screen).__name__ == "OrgTreeScreen"
        text = screen_text(app)
        assert "城东社区" in text and "湖滨社区" in text
        await pilot.press("escape")
        await settle(pilot)
        assert type(app.screen).__name__ == "DashboardScreen"
        await pilot.press("escape")  # nothing below the dashboard: stays
        await settle(pilot)
        assert type(app.screen).__name__ == "DashboardScreen"


@aio
async def test_org_tree_counts_and_verdicts(tui_db):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("ctrl+e")
        await settle(pilot)
        text = screen_text(app)
        assert "[党委] 城东社区党委" in text
        assert "[党小组] 第一党小组" in text
        # a 党委 with far fewer than 101 formal members fails clause 3
        line = next(x for x in text.splitlines() if "城东社区党委" in x)
        assert "不符合" in line


@aio
async def test_org_enter_opens_its_members(tui_db):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        # cursor: 湖滨社区 is the first community (巴城镇 sorts first); go to the 湖滨支部 leaf
        tree = app.screen.query_one("Tree")
        node = next(n for n in tree.root.children if "湖滨" in str(n.label))
        node.expand()
        await settle(pilot)
        tree.move_cursor(node.children[0])
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "MembersScreen"
        text = screen_text(app)
        assert "组织：湖滨支部" in text
        assert "城东第一支部" not in text


@aio
async def test_palette_jumps_to_member_and_screen(tui_db):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert "搜索：页面、社区、党员" in screen_text(app)
        await pilot.press(*"zwm")
        await settle(pilot, 6)
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "MemberDetailScreen"
        assert "张伟明" in screen_text(app)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"插件状态")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "PluginsScreen"


@aio
async def test_palette_jumps_to_community(tui_db):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"湖滨")
        await pilot.pause(0.5)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.community == "BC001"
        assert "社区 湖滨社区" in screen_text(app)


def _write_plugin(folder, body):
    folder.mkdir(exist_ok=True)
    (folder / "town_screen.py").write_text(textwrap.dedent(body), encoding="utf-8")


PLUGIN = '''
from core import hookimpl


def make():
    from textual.screen import Screen
    from textual.widgets import Static

    class TownScreen(Screen):
        BINDINGS = [("escape", "app.pop_screen", "back")]

        def compose(self):
            yield Static("玉山镇特色页面")

    return TownScreen()


@hookimpl
def dangjian_register_screens(register):
    register("yushan", "玉山镇特色", make)
'''


@aio
async def test_plugin_screen_appears_in_menu_and_palette(tui_db, tmp_path, monkeypatch):
    from core import plugins

    _write_plugin(tmp_path / "plugs", PLUGIN)
    monkeypatch.setenv("DANGJIAN_PLUGIN_DIRS", str(tmp_path / "plugs"))
    plugins.reset()
    plugins.load()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        entries = dict(app.menu_entries())
        assert "plugin:yushan" in entries and "玉山镇特色" in entries["plugin:yushan"]
        await pilot.press("ctrl+p")
        await pilot.press(*"玉山镇特色")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot)
        assert "玉山镇特色页面" in screen_text(app)


API_PLUGIN = '''
from core import hookimpl


def load(year, view):
    return f"{year}: {'all' if view.community_ids is None else len(view.community_ids)}"


def make():
    from textual.widgets import Static

    from tui.api import DangjianScreen, tb

    class TownScreen(DangjianScreen):
        TITLE_ZH, TITLE_EN = "玉山镇特色", "Yushan"
        BINDINGS = [tb("ctrl+r", "reload", "重新读取|Reload", id="yushan.reload")]

        def compose_body(self):
            yield Static("", id="town-text")

        def action_reload(self):
            self.refresh_data()

        def refresh_data(self):
            self.run_db(load, self.app.year, self.app.view, on_done=self.show)

        def show(self, text):
            self.query_one("#town-text", Static).update(text)

    return TownScreen()


@hookimpl
def dangjian_register_screens(register):
    register("yushan", "玉山镇特色", make)
'''


@aio
async def test_plugin_screen_on_the_public_base(tui_db, tmp_path, monkeypatch):
    """A plugin imports tui.api inside its factory: top bar, footer, run_db, reload on a year change."""
    from core import plugins

    _write_plugin(tmp_path / "plugs", API_PLUGIN)
    monkeypatch.setenv("DANGJIAN_PLUGIN_DIRS", str(tmp_path / "plugs"))
    plugins.reset()
    plugins.load()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_screen("plugin:yushan", reset=True)
        await settle(pilot)
        text = screen_text(app)
        assert "党建台账 | 玉山镇特色 | 2026年" in text and "2026: all" in text and "^r 重新读取" in text
        await pilot.press("f8")
        await settle(pilot)
        assert "2027: all" in screen_text(app)


REPORT_SCREEN_PLUGIN = '''
from core import hookimpl


@hookimpl
def dangjian_register_screens(register):
    register("yushan-orglife", "玉山镇三会一课", "report:orglife")
'''


@aio
async def test_a_report_gets_a_screen_of_its_own_in_one_line(tui_db, tmp_path, monkeypatch):
    """register(name, title, "report:NAME"): the app's table screen shows that report under the
    plugin's own menu entry."""
    from core import plugins

    _write_plugin(tmp_path / "plugs", REPORT_SCREEN_PLUGIN)
    monkeypatch.setenv("DANGJIAN_PLUGIN_DIRS", str(tmp_path / "plugs"))
    plugins.reset()
    plugins.load()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "plugin:yushan-orglife" in dict(app.menu_entries())
        app.open_screen("plugin:yushan-orglife", reset=True)
        await settle(pilot)
        for _ in range(10):
            if "三会一课" in screen_text(app) and "正在计算" not in screen_text(app):
                break
            await pilot.pause(0.3)
        text = screen_text(app)
        assert type(app.screen).__name__ == "GenericTableScreen" and "三会一课" in text, text


@aio
async def test_binding_descriptions_in_the_interface_language(tui_db):
    """Bindings are declared "中文|English"; what the footer and F1 help read (active_bindings)
    is in the language of the moment, for screens and dialogs alike."""
    from core import i18n
    from tui.widgets.confirm import ConfirmDialog

    def descriptions():
        return {ab.binding.id: ab.binding.description for ab in app.screen.active_bindings.values()}

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        d = descriptions()
        assert d["app.help"] == "帮助" and d["dashboard.run_check"] == "运行检查" and d["screen.refresh"] == "刷新"
        app.push_screen(ConfirmDialog("?"))
        await settle(pilot)
        d = descriptions()
        assert d["confirm.yes"] == "确定" and not [v for v in d.values() if "|" in (v or "")]
        i18n.set_lang("en")
        assert descriptions()["confirm.yes"] == "Yes"


def test_no_private_binding_tables_rewritten():
    """Descriptions are translated through the public active_bindings, keys rebound with
    App.set_keymap: no module of the app rewrites Textual's private binding tables."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "tui"
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if any(s in p.read_text(encoding="utf-8") for s in ("._bindings", "key_to_bindings["))]
    assert offenders == []


@aio
async def test_broken_plugin_gives_a_notice(tui_db, tmp_path, monkeypatch):
    from core import plugins

    _write_plugin(tmp_path / "bad", "raise RuntimeError('boom')\n")
    monkeypatch.setenv("DANGJIAN_PLUGIN_DIRS", str(tmp_path / "bad"))
    plugins.reset()
    plugins.load()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for _ in range(60):  # plugins are checked in a worker once the first screen is up
            if any("插件加载失败" in n.message for n in app._notifications):
                break
            await pilot.pause(0.05)
        assert any("插件加载失败" in n.message and "town_screen" in n.message for n in app._notifications)
        app.open_screen("plugins", reset=True)
        await settle(pilot)
        assert "town_screen" in screen_text(app) and "出错" in screen_text(app)


RAISING_SCORER = """
from core import Scorer, hookimpl

def _boom(ctx):
    raise KeyError("scorer exploded")

@hookimpl
def dangjian_register_scorers(register):
    register(Scorer(name="member-points", title_zh="积分", title_en="points", subjects="member",
                    towns=["巴城镇"], score=_boom))
"""


@aio
async def test_banner_and_plugin_status_show_the_failures_other_commands_kept(tui_db, tmp_path, monkeypatch,
                                                                                capsys):
    """A scorer that raised in `dangjian score` (another process, earlier) is kept in the database:
    the app shows it in the red banner and the plugin status (with where, when and the command),
    although it loaded fine here and nothing in the app has run it yet."""
    from core import plugins
    from core.cli import main

    folder = tmp_path / "plugs"
    folder.mkdir()
    (folder / "bc_points.py").write_text(RAISING_SCORER, encoding="utf-8")
    monkeypatch.setenv("DANGJIAN_PLUGIN_DIRS", str(folder))
    plugins.reset()
    assert main(["score", "member-points", "--format", "csv"]) == 2
    capsys.readouterr()
    plugins.reset()
    plugins.load()
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for _ in range(60):  # plugins are checked in a worker once the first screen is up
            if app.plugin_problems:
                break
            await pilot.pause(0.05)
        await settle(pilot)
        assert [n for n, _m in app.plugin_problems] == ["bc_points"]
        assert "scorer exploded" in app.plugin_problems[0][1] and "dangjian score member-points" in \
            app.plugin_problems[0][1]
        assert "插件出错" in screen_text(app).splitlines()[0]
        app.open_screen("plugins", reset=True)
        await settle(pilot)
        text = screen_text(app)
        assert "最近的插件故障" in text and "scorer member-points" in text and "bc_points.py:5" in text
        assert "dangjian score member-points" in text and "正常；最近有故障" in text


@aio
async def test_a_failure_in_the_app_is_kept_and_shown(tui_db, tmp_path, monkeypatch):
    """The scorer raises when its screen loads: the worker keeps the failure in the database (for
    `dangjian plugins` and the next session) and the banner turns red."""
    from core import plugins
    from core.models import PluginFailure

    folder = tmp_path / "plugs"
    folder.mkdir()
    (folder / "bc_points.py").write_text(RAISING_SCORER, encoding="utf-8")
    monkeypatch.setenv("DANGJIAN_PLUGIN_DIRS", str(folder))
    plugins.reset()
    plugins.load()
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.pause(0.6)
        await settle(pilot)
        assert not app.plugin_problems
        app.open_screen("scorer:member-points", reset=True)
        for _ in range(40):
            await pilot.pause(0.1)
            if app.plugin_problems:
                break
        await settle(pilot)
        rows = [(r.plugin, r.hook, r.town, r.command) for r in PluginFailure.select()]
        assert len(rows) == 1 and rows[0][:3] == ("bc_points", "scorer member-points", "巴城镇")
        assert rows[0][3].startswith("tui ")
        assert [n for n, _m in app.plugin_problems] == ["bc_points"]
        assert "插件出错" in screen_text(app).splitlines()[0]


@aio
async def test_english_mode(tui_db):
    from core import i18n

    i18n.set_lang("en")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "Dashboard" in text and "49 members" in text and "single-user" in text
        assert "Help" in text  # footer
        await pilot.press("f3")
        await settle(pilot)
        text = screen_text(app)
        assert "Members" in text and "resident" in text


@aio
async def test_keymap_from_config_rebinds_by_id(tui_db, tmp_path):
    from core import config

    cfg = tmp_path / "keys.toml"
    cfg.write_text('[keymap]\n"app.help" = "f12"\n', encoding="utf-8")
    config.load(str(cfg))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert type(app.screen).__name__ == "DashboardScreen"
        await pilot.press("f12")
        await settle(pilot)
        assert type(app.screen).__name__ == "HelpScreen"


@aio
async def test_year_keys_and_worker_error_is_a_notice(tui_db):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f7")
        await settle(pilot)
        assert app.year == 2025 and "2025年" in screen_text(app)

        def boom():
            raise RuntimeError("数据库坏了")

        app.screen.run_db(boom)
        await settle(pilot)
        assert any("数据库坏了" in n.message for n in app._notifications)
        assert app.is_running

        def bad_show(result):
            raise ValueError("显示出错")

        app.screen.run_db(lambda: 1, on_done=bad_show, group="x")
        await settle(pilot)
        assert any("显示出错" in n.message for n in app._notifications)
        assert app.is_running


@aio
async def test_generic_report_screen(tui_db):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_screen("report:funding", reset=True)
        await settle(pilot, 5)
        text = screen_text(app)
        assert "城东社区" in text and "湖滨社区" in text
        await pilot.press("ctrl+f")
        await pilot.press(*"湖滨")
        await settle(pilot)
        text = screen_text(app)
        assert "城东社区" not in text and "湖滨社区" in text


@aio
async def test_generic_scorer_drills_to_member(tui_db):
    from core import plugins

    if "member-points" not in plugins.get().registry.scorer_names():
        pytest.skip("no member-points scorer registered")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_screen("scorer:member-points", reset=True)
        await settle(pilot, 5)
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "MemberDetailScreen"


@aio
async def test_cursor_never_blinks(tui_db):
    from textual.widgets import Input

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        inputs = list(app.screen.query(Input))
        assert inputs and all(not i.cursor_blink for i in inputs if i.has_focus)
        await pilot.press("ctrl+y")
        await settle(pilot)
        assert not app.screen.query_one(Input).cursor_blink


@aio
async def test_scope_dialog_narrows_the_view(tui_db):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f9")
        await settle(pilot)
        assert type(app.screen).__name__ == "ScopeDialog"
        await pilot.press(*"hbsq", "enter")  # the tree filters by pinyin initials; Enter picks the match
        await settle(pilot)
        text = screen_text(app)
        assert app.community == "BC001" and "社区 湖滨社区" in text
        assert "党员 11 名" in text  # only 湖滨支部's active members (12, one left)


@aio
async def test_community_user_sees_only_their_scope(tui_db):
    from core import access

    access.set_current(access.Principal("clerk", "community", "KS001", read_only=False, full_personal_data=False))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "clerk" in text and "单用户模式" not in text
        assert "党员 38 名" in text
        # a member of another community cannot be opened, even by id
        other = tui_db["members"][3]  # in 湖滨支部 (BC001)
        app.open_member(other)
        await settle(pilot)
        assert any("权限范围" in n.message for n in app._notifications)
        assert app.is_running
        # narrowing the view beyond the user's scope is refused; the view stays as it was
        view = app.view
        app.set_scope(None, "BC001")
        await settle(pilot)
        assert app.view is view and app.community is None and app.view.community_ids == view.community_ids
        assert sum("权限范围" in n.message for n in app._notifications) == 2


@aio
async def test_generic_screen_shows_a_user_error_inline(tui_db):
    from core import plugins

    if "ledger" not in plugins.get().registry.reports:
        pytest.skip("no ledger report registered")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_screen("report:ledger", reset=True)
        await settle(pilot, 5)
        assert type(app.screen).__name__ == "GenericTableScreen"
        assert "F9" in screen_text(app)
        assert app.is_running


def test_screens_are_imported_lazily(tui_db):
    """Start-up imports the dashboard only; other screens load when first opened."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from core import config, plugins, db\n"
        "config.load(None); plugins.load(); db.connect(None)\n"
        "from tui import app as tapp\n"
        "class B(tapp.DangjianApp):\n"
        "    def on_mount(self):\n"  # Textual runs DangjianApp.on_mount too
        "        self.call_after_refresh(self.exit)\n"
        "B().run(headless=True, size=(80, 24))\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('tui.screens.'))\n"
        "print(','.join(loaded))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]
    loaded = set(r.stdout.strip().split(","))
    assert "tui.screens.dashboard" in loaded
    assert not loaded & {"tui.screens.members", "tui.screens.orgs", "tui.screens.generic", "tui.screens.workers",
                         "tui.screens.meetings", "tui.screens.compliance"}


def test_every_binding_has_an_id_and_a_description():
    """DESIGN.md: footer, F1 help and [keymap] rely on binding ids and descriptions."""
    import importlib
    import inspect
    import pkgutil

    from textual.binding import Binding
    from textual.dom import DOMNode

    import tui.api
    import tui.app
    import tui.screens
    import tui.widgets

    mods = [tui.api, tui.app]
    for pkg in (tui.screens, tui.widgets):
        for m in pkgutil.iter_modules(pkg.__path__):
            mods.append(importlib.import_module(f"{pkg.__name__}.{m.name}"))
    bad = []
    for mod in mods:
        for name, cls in inspect.getmembers(mod, inspect.isclass):
            if issubclass(cls, DOMNode) and cls.__module__ == mod.__name__:
                for b in cls.__dict__.get("BINDINGS", []):
                    if not isinstance(b, Binding) or not b.id or not b.description:
                        bad.append(f"{mod.__name__}.{name}: {b!r}")
    assert not bad, "\n".join(bad)


def test_bad_config_section_stops_the_app_after_first_paint(tmp_path, monkeypatch):
    """Plugins load after the first paint; a config naming an unknown rule still refuses to run."""
    import subprocess
    import sys

    cfg = tmp_path / "bad.toml"
    cfg.write_text('[params."no.such_rule"]\nx = 1\n', encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'a.db'}"
    code = ("import asyncio\n"
            "from core import cli\n"
            f"args = cli.build_parser().parse_args(['--db', {db!r}, '--config', {str(cfg)!r}, 'tui'])\n"
            "cli.setup(args)\n"
            "from tui.app import DangjianApp\n"
            "async def go():\n"
            "    app = DangjianApp()\n"
            "    async with app.run_test(size=(80, 24)) as pilot:\n"
            "        for _ in range(20):\n"
            "            await pilot.pause(0.05)\n"
            "    print('rc', app.return_code)\n"
            "asyncio.run(go())\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "rc 2" in r.stdout, r.stdout + r.stderr


@aio
async def test_a_screen_loads_its_data_once_when_opened(tui_db, monkeypatch):
    """Textual runs every class's on_mount: the base's load must not run twice (once more through super())."""
    from tui import api
    from tui.screens.members import MembersScreen
    from tui.screens.orgs import OrgTreeScreen

    loads = []
    for cls in (OrgTreeScreen, MembersScreen):
        original = cls.refresh_data
        monkeypatch.setattr(cls, "refresh_data", lambda self, _o=original: (loads.append(type(self).__name__),
                                                                              _o(self))[1])

    class CallsSuper(OrgTreeScreen):  # as a plugin's screen might
        def on_mount(self) -> None:
            super().on_mount()

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        assert loads == ["OrgTreeScreen"]
        await pilot.press("f3")
        await settle(pilot)
        assert loads == ["OrgTreeScreen", "MembersScreen"]
        assert app.screen.focused is app.screen.query_one("#members-table")  # the list, straight away
        app.push_screen(CallsSuper())
        await settle(pilot)
        assert loads == ["OrgTreeScreen", "MembersScreen", "CallsSuper"]
        assert isinstance(app.screen, api.DangjianScreen)


@aio
async def test_opening_a_screen_rebuilds_its_footer_once(tui_db, monkeypatch):
    """The bindings change several times as a screen opens (stack, focus): the footer is rebuilt
    once for them, and then shows that screen's keys."""
    from tui.api import LedgerFooter

    rebuilt = []
    original = LedgerFooter.recompose

    async def counted(self):
        rebuilt.append(self.screen.__class__.__name__)
        return await original(self)

    monkeypatch.setattr(LedgerFooter, "recompose", counted)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.pause(LedgerFooter.SETTLE * 2)
        rebuilt.clear()
        await pilot.press("f4")
        await settle(pilot)
        await pilot.pause(LedgerFooter.SETTLE * 2)
        await settle(pilot)
        assert rebuilt.count("OrgTreeScreen") == 1
        assert "全部展开" in screen_text(app).splitlines()[-1]  # ctrl+e of the organization tree
