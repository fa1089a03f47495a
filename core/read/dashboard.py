"""The dashboard (首页): the figures of every domain for a view, in one call."""
from __future__ import annotations

from core.dates import today
from core.read.compliance import last_check
from core.read.funding import funding_gaps
from core.read.meetings import meetings_due
from core.read.members import members_by_class
from core.read.visits import overdue_demands
from core.view import View


def dashboard(view: View, year: int) -> dict:
    """Everything the dashboard shows, in one call (run it in a worker): members by class,
    meetings still due, overdue demands, the latest check run, funding gaps."""
    from core.errors import UserError
    from core.rules import resolve_dates

    year, as_of = resolve_dates(year, None)
    on = min(as_of, today())
    out = {"year": year, "as_of": as_of,
           "members": members_by_class(view, on),
           "meetings": meetings_due(view, on),
           "demands": overdue_demands(view, on),
           "check": last_check(view, year)}
    try:
        out["funding"] = funding_gaps(view, year, as_of)
    except UserError as exc:  # something the user can act on: shown in the funding panel
        out["funding"] = {"error": str(exc)}
    return out
