"""A yes/no confirmation dialog (确认对话框): ``ModalScreen[bool]``.

    self.app.push_screen(ConfirmDialog(tr("删除这条记录？", "Delete this record?"), detail=text),
                         callback)          # callback(True) only when the user said yes

Keys: ``y`` or F10 says yes, ``n`` or Esc says no; Tab moves between the two
buttons and Enter presses the focused one.  The "no" button has the focus
first, so a stray Enter never deletes anything.
"""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, Static

from core.i18n import tr
from tui.api import DangjianModal, tb


class ConfirmDialog(DangjianModal[bool]):
    """Ask a question; dismiss with True (yes) or False (no)."""

    BINDINGS = [
        tb("y", "answer(True)", "确定|Yes", id="confirm.yes"),
        tb("f10", "answer(True)", "确定|Yes", id="confirm.yes_f10", show=False),
        tb("n", "answer(False)", "取消|No", id="confirm.no"),
        tb("escape", "answer(False)", "取消|No", id="confirm.cancel", show=False),
    ]

    DEFAULT_CSS = """
    ConfirmDialog { align: center middle; }
    ConfirmDialog > Vertical { width: 64; max-width: 100%; height: auto; max-height: 90%;
        border: thick $error; background: $panel; padding: 0 1; }
    ConfirmDialog #confirm-question { text-style: bold; margin: 1 0 0 0; }
    ConfirmDialog #confirm-detail { color: $text-muted; margin: 1 0 0 0; max-height: 12; }
    ConfirmDialog Horizontal { height: auto; align: center middle; margin: 1 0 0 0; }
    ConfirmDialog Button { margin: 0 2; min-width: 12; }
    """

    def __init__(self, question: str, detail: str = "", *, yes: str | None = None, no: str | None = None):
        super().__init__()
        self.question = question
        self.detail = detail
        self.yes_label = yes or tr("确定 (y)", "Yes (y)")
        self.no_label = no or tr("取消 (n)", "No (n)")

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question, id="confirm-question")
            if self.detail:
                yield Static(self.detail, id="confirm-detail", markup=False)
            with Horizontal():
                yield Button(self.yes_label, id="confirm-yes", variant="error")
                yield Button(self.no_label, id="confirm-no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    @on(Button.Pressed, "#confirm-yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def _no(self) -> None:
        self.dismiss(False)

    def action_answer(self, value: bool) -> None:
        self.dismiss(bool(value))
