"""Dates: "today" (DANGJIAN_TODAY for tests and demos), periods, parsing."""
from __future__ import annotations

import datetime as dt
import os


def today() -> dt.date:
    """Today, or DANGJIAN_TODAY (YYYY-MM-DD) when set."""
    env = os.environ.get("DANGJIAN_TODAY")
    if env:
        return dt.date.fromisoformat(env)
    return dt.date.today()


def month_key(d: dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def quarter_of(d: dt.date) -> int:
    return (d.month - 1) // 3 + 1
