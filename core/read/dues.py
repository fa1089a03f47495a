"""Party dues (党费): a branch's month grid and the state of one cell.  What is owed is
:mod:`core.dues` (``months_owed``, ``arrears``, ``settled``): the grid only asks it."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from core import models as m
from core.dates import month_key
from core.read.organizations import org_members
from core.view import View


def months_of(year: int) -> list[str]:
    return [f"{year:04d}-{mo:02d}" for mo in range(1, 13)]


def dues_grid(view: View, org_id: int, year: int) -> dict:
    """The dues month grid of a branch as of the year's as-of date (31 December or today,
    whichever is earlier): members in the view, each with the calculator's proposal,
    ``owed_months`` (the months owed: ``core.dues.months_owed``; none for a member whose
    relationship is not in the community) and ``arrears`` (those not settled:
    ``core.dues.arrears``); payments keyed ``(member_id, 'YYYY-MM')``; ``owed`` the
    month-payments owed in all."""
    from core import dues
    from core.rules import resolve_dates

    _year, as_of = resolve_dates(year, None)
    members = org_members(view, org_id)
    mids = [r["id"] for r in members]
    D = m.DuesPayment
    payments = {}
    if mids:
        for p in (D.select(D.id, D.member, D.month, D.due, D.paid, D.paid_date, D.version)
                  .where(D.member.in_(mids) & D.month.between(f"{year:04d}-01", f"{year:04d}-12")).dicts()):
            payments[(p["member"], p["month"])] = p
    by_member: dict[int, dict] = {}
    for (mid, month), p in payments.items():
        by_member.setdefault(mid, {})[month] = (p["due"], p["paid"], p["paid_date"])
    obligations = dues.Obligations(year, as_of, member_ids=mids)  # one definition with report dues and check
    for r in members:
        r["proposal"] = dues.proposal(r["dues_class"], r["monthly_income"])
        r["first_month"] = month_key(r["joined_date"]) if r["joined_date"] else None
        owed = obligations.months(r["id"], r["joined_date"])
        r["owed_months"] = set(owed)
        r["arrears"] = dues.arrears(year, as_of, r["joined_date"], by_member.get(r["id"], {}), owed)
    return {"members": members, "payments": payments, "months": months_of(year), "as_of": as_of,
            "owed": sum(len(r["arrears"]) for r in members)}


def dues_cell_state(payment: dict | None, month: str, member: dict, as_of: dt.date) -> str:
    """``before`` (the member joined later) / ``paid`` (settled by ``as_of``) / ``partial``
    (something paid, not settled) / ``owed`` (one of the member's ``owed_months``, nothing
    paid) / ``pending`` (not owed yet: the month has not ended, or not owed here)."""
    from core import dues

    first_month = member.get("first_month")
    if first_month and month < first_month:
        return "before"
    if payment is not None:
        if dues.settled(payment["due"], payment["paid"], payment["paid_date"], as_of):
            return "paid"
        if payment["paid"] is not None and Decimal(payment["paid"]) > 0:
            return "partial"
    return "owed" if month in member.get("owed_months", ()) else "pending"
