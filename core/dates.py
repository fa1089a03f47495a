"""Dates: "today" (DANGJIAN_TODAY for tests and demos), periods, parsing.

Every year and as-of date a user gives (``--year``, ``--as-of``) lies between
:data:`MIN_YEAR` (the Party's founding year; no record can be older) and next
year: :func:`check_year` and :func:`parse_as_of` say so in one line.
"""
from __future__ import annotations

import datetime as dt
import os

#: the earliest year a user may ask about
MIN_YEAR = 1921


def today() -> dt.date:
    """Today, or DANGJIAN_TODAY (YYYY-MM-DD) when set."""
    env = os.environ.get("DANGJIAN_TODAY")
    if env:
        try:
            return dt.date.fromisoformat(env.strip())
        except ValueError:
            from core.errors import UserError

            raise UserError(f"DANGJIAN_TODAY = {env!r}: a date YYYY-MM-DD is expected") from None
    return dt.date.today()


def max_year() -> int:
    """The latest year a user may ask about: next year."""
    return today().year + 1


def _refuse(what: str | None, zh: str, en: str, **fmt):
    from core.errors import UserError
    from core.i18n import tr

    text = tr(zh, en, lo=MIN_YEAR, hi=max_year(), **fmt)
    return UserError(f"{what}: {text}" if what else text)


def check_year(value, what: str | None = "--year") -> int:
    """``value`` (an int or its text) as a year between MIN_YEAR and next year; UserError otherwise
    (prefixed with ``what``, the option, when given)."""
    try:
        year = int(str(value).strip())
    except ValueError:
        raise _refuse(what, "应为年份，例如 2025：{v}", "a year like 2025 is expected: {v}", v=value) from None
    if not MIN_YEAR <= year <= max_year():
        raise _refuse(what, "应在 {lo} 至 {hi} 年之间：{v}", "must lie between {lo} and {hi}: {v}", v=year)
    return year


def parse_as_of(text, what: str | None = "--as-of") -> dt.date:
    """``text`` (YYYY-MM-DD) as a date in a year between MIN_YEAR and next year; UserError otherwise."""
    if isinstance(text, dt.date):
        d = text
    else:
        try:
            d = dt.date.fromisoformat(str(text).strip())
        except ValueError:
            raise _refuse(what, "应为 YYYY-MM-DD 格式的日期：{v}", "a date YYYY-MM-DD is expected: {v}", v=text) from None
    if not MIN_YEAR <= d.year <= max_year():
        raise _refuse(what, "年份应在 {lo} 至 {hi} 之间：{v}", "must lie in the years {lo} to {hi}: {v}",
                      v=d.isoformat())
    return d


def month_key(d: dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def quarter_of(d: dt.date) -> int:
    return (d.month - 1) // 3 + 1
