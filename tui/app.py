"""Placeholder app: replaced by the real screens (issue: the terminal app)."""
from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static


class DangjianApp(App):
    TITLE = "社区党建工作电子台账"
    BINDINGS = [("ctrl+q", "quit", "退出")]

    def compose(self) -> ComposeResult:
        from core import access

        me = access.current()
        yield Header()
        note = "单用户模式：当前账号为管理员" if me.single_user else f"用户 {me.login}"
        yield Static(f"社区党建工作电子台账\n\n{note}")
        yield Footer()


def run_app():
    DangjianApp().run()
    return 0
