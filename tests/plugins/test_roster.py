"""Who is on the roster at a past as-of date: transfers in and out (core.roster)."""
import datetime as dt

from core import models as m
from core.rules import run_check
from tests import factories as f


def _findings(rule, year, as_of=None):
    return [x for x in run_check(year=year, as_of=as_of, rule_ids=[rule], store=False).findings
            if x.rule == rule and x.status != "error"]


def test_member_transferred_in_this_year_is_not_checked_for_last_year(dangjian_db):
    c = f.make_community("C001")
    branch = f.make_org(c, "branch")
    stayed = f.make_member(branch, full_date="2010-01-01")
    arrived = f.make_member(branch, full_date="2010-01-01")
    m.Transfer.create(member=arrived, direction="in", from_org="外市某党支部", to_org=branch.code,
                      date=dt.date(2026, 3, 10), letter_no="L1")
    left = f.make_member(branch, full_date="2010-01-01", active=False, left_date=dt.date(2026, 2, 1))
    from core.ids import mask

    def checked(member, year, as_of=None):
        subjects = {x.subject for x in _findings("dues.on_time", year, as_of)}
        return member.id_number in subjects or mask(member.id_number) in subjects

    assert checked(stayed, 2025)
    assert checked(left, 2025)          # still here in 2025
    assert not checked(arrived, 2025)   # arrived in March 2026
    assert checked(arrived, 2026, dt.date(2026, 11, 28))
    assert not checked(left, 2026, dt.date(2026, 11, 28))   # gone since February
