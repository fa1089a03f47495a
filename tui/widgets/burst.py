"""Keys that arrive together reach an ``Input`` in the order they were typed.

The fault (Textual 8.2.8, the newest release; Textualize/textual#6605, fix
proposed in PR #6631, not merged): ``Input._on_key`` inserts a printable
character at once, in the Input's own message queue, but a key the Input
*binds* (backspace, delete, left/right, home/end, ctrl+u/k/w, enter…) is not
handled there: the Key event bubbles, one message queue at a time, up to the
App, whose ``_on_key`` then runs the Input's binding.  When several keys come
in one read from the terminal (fast typing over SSH, an input method that
commits "Backspace Backspace 张" in one write, a chording keyboard), the App
has already forwarded the following characters to the Input, so they are
inserted before the bubbled Backspace comes back: ``zw`` + ``\\x7f\\x7fzfy``
gives ``zwzfy`` and then two deletes → ``zwz`` instead of ``zfy``.  The
terminal parser is not at fault: it yields the five keys in order.

The workaround: the Input runs its own non-priority bindings for the key
inline, in ``_on_key``, before the next key in its queue — the same binding the
App would find first (the focused widget heads the screen's binding chain,
keymap applied; priority bindings were already checked by the App before the
key was forwarded).  A key the Input does not bind (tab, escape, F-keys, down…)
or whose action declines (``SkipAction``, ``check_action`` false) bubbles as
before.  :func:`install` patches ``Input`` (and so ``MaskedInput`` and the
command palette's input) once per process; remove it when a Textual release
fixes #6605 (``tests/tui/test_key_bursts.py`` then still passes without it).
"""
from __future__ import annotations

from textual import events
from textual.widgets import Input

_original_on_key = Input._on_key


async def _run_own_binding(widget: Input, event: events.Key) -> bool:
    """Run ``widget``'s own non-priority binding for ``event.key`` as the App would; True if one ran."""
    if not widget.has_focus:
        return False
    try:
        chain = widget.screen._modal_binding_chain
    except Exception:  # no screen (being removed): let the key bubble
        return False
    if not chain or chain[0][0] is not widget:
        return False
    for binding in chain[0][1].key_to_bindings.get(event.key, ()):
        if not binding.priority and await widget.app.run_action(binding.action, widget):
            return True
    return False


async def _on_key(self: Input, event: events.Key) -> None:
    if not event.is_printable and await _run_own_binding(self, event):
        event.stop()
        event.prevent_default()
    await _original_on_key(self, event)  # restarts the cursor blink; inserts a printable character


def install() -> None:
    """Make every ``Input`` handle its own bound keys in order with the typed characters (idempotent)."""
    if Input._on_key is not _on_key:
        Input._on_key = _on_key
