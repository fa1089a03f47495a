"""How numbers are shown (数字格式): one format for counts, one for money, one for scores.

- a **count** (members, records, findings, meetings …): thousands separators, no decimals —
  ``123,258``, ``0``, ``-3``  (:func:`format_count`);
- **money** (元): thousands separators and exactly two decimals, rounded half up to the
  分 — ``15,000.00``, ``6,350.00``, ``40.40``, ``-12.50``  (:func:`format_money`);
- a **score** (points, a community's score, an item of a score): exactly two decimals, the
  precision every score is kept and compared at (:func:`core.api.round_cents`), so what is
  shown is what ranks and classes are decided on (``84.99`` is 一般 when 先进 starts at 85),
  no thousands separators — ``82.00``, ``82.20``, ``-2.00``  (:func:`format_score`).

None and ``""`` show as ``""``.  These formats are for people: the terminal app and the
table, md and html outputs, where counts, money and scores are right-aligned.  CSV, XLSX
and JSON keep plain numbers (``15000.00`` in CSV, a numeric cell in XLSX, ``15000`` in JSON).

A table (a report's rows, a scorer's rows) says what a number is by its type: a
:class:`Count`, :class:`Money` or :class:`Score` is an ``int`` or ``Decimal`` that every
machine format writes as the plain number and :func:`cell_text` shows in its format; any
other value shows as it is (a year or a clause number is no count).
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from core.api import CENT, to_decimal


def _decimal(value) -> Decimal:
    """:func:`core.api.to_decimal`, a text's thousands separators and spaces taken off first."""
    if isinstance(value, str):
        value = value.strip().replace(",", "")
    return to_decimal(value)


def _cents(value) -> Decimal:
    d = _decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    return d.copy_abs() if d == 0 else d  # never "-0.00"


def _empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def format_count(value) -> str:
    """A count with thousands separators: ``123,258``; ``""`` for None or ``""``."""
    if _empty(value):
        return ""
    d = _decimal(value)
    if d == d.to_integral_value():
        return f"{int(d):,}"
    return f"{d:,f}"  # not a whole number: every digit kept, grouped the same way


def format_money(value) -> str:
    """An amount of money: thousands separators, exactly two decimals (half up):
    ``15,000.00``; ``""`` for None or ``""``."""
    if _empty(value):
        return ""
    return f"{_cents(value):,.2f}"


def format_score(value) -> str:
    """A score: exactly two decimals (half up), no thousands separators: ``82.00``,
    ``82.20``, ``-2.00``; ``""`` for None or ``""``."""
    if _empty(value):
        return ""
    return f"{_cents(value):.2f}"


class Count(int):
    """A count in a table: an ``int`` (plain in CSV, XLSX and JSON) shown as ``1,234``."""
    __slots__ = ()

    def __new__(cls, value=0):
        return super().__new__(cls, int(_decimal(value)) if not isinstance(value, int) else value)


class Money(Decimal):
    """An amount in a table: a ``Decimal`` to the 分 (plain in CSV, XLSX and JSON) shown as
    ``15,000.00``."""
    __slots__ = ()

    def __new__(cls, value="0"):
        return super().__new__(cls, _cents(value))


class Score(Decimal):
    """A score in a table: a ``Decimal`` to 0.01 (plain in CSV, XLSX and JSON) shown as ``82.20``."""
    __slots__ = ()

    def __new__(cls, value="0"):
        return super().__new__(cls, _cents(value))


_FORMATS = ((Money, format_money), (Score, format_score), (Count, format_count))


def is_number(value) -> bool:
    """A number a table right-aligns: an int, float or Decimal (a bool is no number)."""
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def cell_text(value) -> str:
    """A table cell as people read it: a :class:`Count`, :class:`Money` or :class:`Score` in
    its format, None as ``""``, a bool as 是/否, anything else as ``str(value)``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        from core.i18n import tr

        return tr("是", "yes") if value else tr("否", "no")
    for cls, fmt in _FORMATS:
        if isinstance(value, cls):
            try:
                return fmt(value)
            except (InvalidOperation, ValueError):  # NaN, infinity: as they are
                return str(value)
    return str(value)


def right_aligned(values) -> bool:
    """True for a column of numbers: at least one number (:func:`is_number`) and nothing
    but numbers apart from empty cells (a total row's blank, a missing value)."""
    seen = False
    for v in values:
        if _empty(v):
            continue
        if not is_number(v):
            return False
        seen = True
    return seen


def aligns(rows, columns: int) -> list[str]:
    """``"right"`` or ``"left"`` for each of ``columns`` columns of ``rows`` (see :func:`right_aligned`)."""
    return ["right" if right_aligned(r[i] for r in rows if i < len(r)) else "left" for i in range(columns)]
