"""Text at the door and on the way out: the one home of what text may be stored and how
stored text is shown.

In: C0/C1 control characters (and DEL) are refused in every text field, except a line
feed in the fields that may hold several lines; bidirectional controls (which can make
a name read backwards on screen) are refused everywhere (:func:`bad_character`).
ID numbers are normalised in :mod:`core.ids`.

Out: whatever is stored (data from before these checks, a database edited by hand),
terminal and table output shows control characters as visible escapes
(:func:`printable`), and a CSV text cell that a spreadsheet would run as a formula gets
one leading ``'`` (:func:`csv_guard`), which an import takes off again
(:func:`csv_unguard`), so the round trip stays exact.
"""
from __future__ import annotations

import re

from core.i18n import tr

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
BAD_IN_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
BAD_IN_LINES = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{_BIDI}]")
_BIDI_RE = re.compile(f"[{_BIDI}]")


def bad_character(s: str, multiline: bool = False) -> str | None:
    """The reason ``s`` may not be stored (a control or bidi character), or None."""
    m = (BAD_IN_LINES if multiline else BAD_IN_LINE).search(s)
    if m is None:
        return None
    ch = m.group()
    code = f"U+{ord(ch):04X}"
    if ch == "\n":
        return tr("不能换行（本列只能填一行）", "may not contain a line break (one line only)")
    if _BIDI_RE.match(ch):
        return tr("含有文字方向控制字符 {c}（第{n}个字符）",
                  "contains the bidirectional control character {c} (character {n})", c=code, n=m.start() + 1)
    return tr("含有控制字符 {c}（第{n}个字符）", "contains the control character {c} (character {n})",
              c=code, n=m.start() + 1)


def _escape(m: re.Match) -> str:
    o = ord(m.group())
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}"


def printable(s: str, keep_newlines: bool = False) -> str:
    """``s`` with every control and bidi character shown as an escape (``\\x1b``, ``\\u202e``);
    line feeds kept when ``keep_newlines``."""
    pat = BAD_IN_LINES if keep_newlines else BAD_IN_LINE
    return pat.sub(_escape, s) if pat.search(s) else s


FORMULA_STARTS = ("=", "+", "-", "@", "'", "\t", "\r")


_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?%?")


def csv_guard(s: str) -> str:
    """A CSV text cell as written: one leading ``'`` when it begins with = + - @ ' tab or CR
    (a spreadsheet would otherwise run it as a formula).  A number written as text (a
    negative amount or score) is not text to a spreadsheet and is left as it is."""
    if not s.startswith(FORMULA_STARTS) or _NUMBER.fullmatch(s):
        return s
    return "'" + s


def csv_unguard(s: str) -> str:
    """A CSV text cell as read: exactly one leading ``'`` taken off."""
    return s[1:] if s.startswith("'") else s
