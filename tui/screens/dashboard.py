"""Dashboard (工作台): the user's scope at a glance."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from core.i18n import tr
from tui.app import DangjianScreen, tb


class DashboardScreen(DangjianScreen):
    SCREEN_NAME = "dashboard"
    BINDINGS = [tb("ctrl+r", "run_check", "运行检查|Run check", id="dashboard.run_check")]

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(classes="body"):
            yield Static(tr("正在加载……", "Loading…"), id="dash-text", markup=False)

    def refresh_data(self) -> None:
        pass

    def action_run_check(self) -> None:
        pass
