"""dues.on_time (clause 13): arrears, late months, runs across the year boundary."""
from __future__ import annotations

import datetime as dt

import pytest

from core.rules import CommunityRef, Context
from plugins import rules_dues as rd
from tests import factories as f


def _run(community, as_of, year=None):
    rule = rd.RULES[0]
    ref = CommunityRef(community.id, community.code, community.name, community.town.name, community.town_id)
    as_of = f.D(as_of)
    ctx = Context(rule=rule, year=year or as_of.year, as_of=as_of, communities=[ref])
    return {x.evidence["member_id"]: x for x in rule.evaluate(ctx)}


def _month_end(label):
    y, m = map(int, label.split("-"))
    return (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1))


def _pay(member, months, due="10.00", paid=None, when=None):
    for label in months:
        f.make_dues(member, label, due, paid, when or _month_end(label))


def _months(y, a, b):
    return [f"{y}-{m:02d}" for m in range(a, b + 1)]


@pytest.fixture(params=["lookup", "scan"])
def setup(dangjian_db, request, monkeypatch):
    if request.param == "scan":  # the big-scope path: one scan of the year's dues
        monkeypatch.setattr(rd, "BIG_SCOPE", 0)
    c = f.make_community("KS001")
    br = f.make_org(c, "branch")
    return c, br


def test_paid_on_time_advance_and_quarterly(setup):
    c, br = setup
    monthly = f.make_member(br)
    _pay(monthly, _months(2026, 1, 6))
    advance = f.make_member(br)
    _pay(advance, _months(2026, 1, 6), when=f.D("2025-12-20"))  # all paid in advance
    quarterly = f.make_member(br)
    _pay(quarterly, _months(2026, 1, 3), when=f.D("2026-01-15"))
    _pay(quarterly, _months(2026, 4, 6), when=f.D("2026-04-10"))
    out = _run(c, "2026-06-30")
    assert {out[m.id].status for m in (monthly, advance, quarterly)} == {"pass"}
    assert out[monthly.id].evidence["months_required"] == 6


def test_late_month_is_warn(setup):
    c, br = setup
    m = f.make_member(br)
    _pay(m, _months(2026, 1, 6))
    from core.models import DuesPayment
    DuesPayment.update(paid_date=f.D("2026-04-01")).where(
        (DuesPayment.member == m.id) & (DuesPayment.month == "2026-03")).execute()
    out = _run(c, "2026-06-30")
    assert out[m.id].status == "warn" and out[m.id].evidence["late_months"] == ["2026-03"]
    assert out[m.id].evidence["unpaid_count"] == 0


def test_partial_payment_and_5_vs_6_unpaid(setup):
    c, br = setup
    five = f.make_member(br)
    _pay(five, ["2026-01"])
    _pay(five, ["2026-07"])
    f.make_dues(five, "2026-02", "10.00", "9.99", "2026-02-20")  # not in full: unpaid
    # 02–06 unpaid = 5
    six = f.make_member(br)
    _pay(six, ["2026-01"])
    # 02–07 unpaid = 6
    out = _run(c, "2026-07-31")
    assert out[five.id].status == "warn" and out[five.id].evidence["longest_unpaid_run"] == 5
    assert out[six.id].status == "fail" and out[six.id].evidence["longest_unpaid_run"] == 6
    assert out[six.id].evidence["run_months"] == _months(2026, 2, 7)
    assert out[five.id].evidence["payment_ids"]  # the short payment is cited


def test_run_crosses_year_boundary(setup):
    c, br = setup
    crossing = f.make_member(br, joined_date="2020-01-01")
    _pay(crossing, _months(2025, 1, 9))  # Oct–Dec 2025 unpaid, Jan–Mar 2026 unpaid → 6
    short = f.make_member(br, joined_date="2020-01-01")
    _pay(short, _months(2025, 1, 10))  # Nov–Dec 2025 + Jan–Mar 2026 → 5
    late_paid = f.make_member(br, joined_date="2020-01-01")
    _pay(late_paid, _months(2025, 1, 9))
    _pay(late_paid, _months(2025, 10, 12), when=f.D("2026-02-01"))  # paid late: not unpaid any more
    out = _run(c, "2026-03-31")
    assert out[crossing.id].status == "fail" and out[crossing.id].evidence["longest_unpaid_run"] == 6
    assert out[crossing.id].evidence["run_months"][0] == "2025-10"
    assert out[short.id].status == "warn" and out[short.id].evidence["longest_unpaid_run"] == 5
    assert out[late_paid.id].status == "warn" and out[late_paid.id].evidence["longest_unpaid_run"] == 3


def test_joined_mid_year_and_subjects(setup):
    c, br = setup
    newbie = f.make_member(br, joined_date="2026-05-10", full_date=None)  # probationary, pays from May
    _pay(newbie, _months(2026, 5, 6))
    floating_out = f.make_member(br, management_class="floating_out")
    inservice = f.make_member(None, c, management_class="in_service")
    floating_in = f.make_member(br, management_class="floating_in", placed_date=f.D("2025-01-01"))
    out = _run(c, "2026-06-30")
    assert out[newbie.id].status == "pass" and out[newbie.id].evidence["months_required"] == 2
    assert out[floating_out.id].status == "fail"  # nothing paid for 6 months
    assert inservice.id not in out and floating_in.id not in out


def test_nothing_due_in_january_and_payment_after_as_of(setup):
    c, br = setup
    m = f.make_member(br)
    assert _run(c, "2026-01-20")[m.id].status == "pass"
    assert _run(c, "2026-01-31")[m.id].status == "fail"  # nothing paid in 2025 either: 13 months
    _pay(m, _months(2025, 1, 12))
    _pay(m, ["2026-01"], when=f.D("2026-02-20"))
    out = _run(c, "2026-02-10")  # paid after the as-of date: unpaid then
    assert out[m.id].status == "warn" and out[m.id].evidence["unpaid_months"] == ["2026-01"]
    out = _run(c, "2026-02-28")
    assert out[m.id].status == "warn" and out[m.id].evidence["late_months"] == ["2026-01"]
    assert out[m.id].evidence["unpaid_months"] == ["2026-02"]
