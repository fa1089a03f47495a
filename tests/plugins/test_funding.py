"""funding.floor / funding.published (第19条), core.funding and the funding report."""
from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from core import funding
from core.rules import run_check
from plugins import reports_funding
from tests import factories as f


def check(rule, as_of="2026-06-30", **kw):
    res = run_check(as_of=f.D(as_of), rule_ids=[rule], store=False, **kw)
    return {x.subject: x for x in res.findings if x.rule == rule}


@pytest.fixture
def c(dangjian_db):
    return f.make_community("KS001", town="巴城镇")


def test_floor_amount():
    assert funding.floor_amount(99) == Decimal("15000.00")
    assert funding.floor_amount(100) == Decimal("15000.00")
    assert funding.floor_amount(101) == Decimal("15150.00")
    assert funding.floor_amount(0) == Decimal("15000.00")


@pytest.mark.parametrize("n,floor", [(99, "15000.00"), (100, "15000.00"), (101, "15150.00")])
def test_floor_99_100_101(c, n, floor):
    br = f.make_org(c, "branch")
    f.make_members(n - 2, br)
    f.make_members(1, br, full_date=None)  # probationary: counts
    f.make_members(1, br, retired=True, management_class="floating_out")  # retiree, floating-out: counts
    f.make_members(7, br, management_class="in_service")  # not counted
    f.make_members(3, br, management_class="floating_in")  # not counted
    f.make_members(2, br, joined_date="2026-08-01", full_date=None)  # joined after the as-of date
    f.make_allocation(c, 2026, "15000", "town_finance")
    out = check("funding.floor")["KS001"]
    assert out.evidence["members"] == n
    assert out.evidence["floor"] == floor
    assert out.status == ("pass" if n <= 100 else "warn")


def test_only_activity_sources_count_and_year_end_fails(c):
    f.make_allocation(c, 2026, "10000", "city_finance", "2026-02-01")
    f.make_allocation(c, 2026, "4999.99", "town_finance", "2026-03-01")
    f.make_allocation(c, 2026, "50000", "entrusted", "2026-03-02")  # 委托事项: does not count
    f.make_allocation(c, 2026, "50000", "donation", "2026-03-03")
    f.make_allocation(c, 2025, "50000", "town_finance", "2025-03-03")  # last year
    june = check("funding.floor")["KS001"]
    assert june.status == "warn" and june.evidence["allocated"] == "14999.99" and june.evidence["gap"] == "0.01"
    assert "12-31" in june.message
    # the message shows money as money everywhere shows it; the evidence keeps the plain amount
    assert "保障标准15,000.00元" in june.message and "已划拨14,999.99元" in june.message and "缺口0.01元" in june.message
    assert check("funding.floor", as_of="2026-12-31")["KS001"].status == "fail"
    f.make_allocation(c, 2026, "0.01", "town_finance", "2026-11-01")
    assert check("funding.floor", as_of="2026-12-31")["KS001"].status == "pass"
    # the November allocation is after a June as-of date
    assert check("funding.floor")["KS001"].status == "warn"


def test_split_default_and_built_in_example(dangjian_db):
    ks = f.make_community("KS001", town="昆山开发区")
    ys = f.make_community("YS001", town="玉山镇")
    bc = f.make_community("BC001", town="巴城镇")
    br = f.make_org(ys, "branch")
    f.make_members(101, br)
    out = check("funding.floor")
    assert out["KS001"].evidence["city_share"] == "7500.00" and out["KS001"].evidence["town_share"] == "7500.00"
    assert out["YS001"].evidence["city_share"] == "7575.00" and out["YS001"].evidence["town_share"] == "7575.00"
    assert out["YS001"].evidence["split_by"] == "plugins.funding_split_examples"
    assert out["BC001"].evidence["city_share"] == "0.00" and out["BC001"].evidence["town_share"] == "15000.00"
    assert out["BC001"].evidence["split_by"] == "default"
    del ks, bc


def test_published(c):
    june = check("funding.published")
    assert june["KS001"].status == "warn"
    assert check("funding.published", as_of="2026-12-31")["KS001"].status == "fail"
    f.make_publication(c, 2026, "party_affairs", "2026-03-01")  # another kind
    assert check("funding.published", as_of="2026-12-31")["KS001"].status == "fail"
    f.make_publication(c, 2026, "funding", "2026-05-01")
    assert check("funding.published")["KS001"].status == "pass"


def test_funding_report_rows_and_totals(dangjian_db):
    ys1 = f.make_community("YS001", town="玉山镇")
    f.make_community("YS002", town="玉山镇")
    bc = f.make_community("BC001", town="巴城镇")
    f.make_members(101, f.make_org(ys1, "branch"))
    f.make_allocation(ys1, 2026, "20000", "city_finance")
    f.make_allocation(bc, 2026, "1000", "town_finance")
    ctx = SimpleNamespace(year=2026, as_of=f.D("2026-12-31"), town=None, community=None, principal=None, lang="zh")
    headers, rows = reports_funding.run(ctx)
    assert headers[:4] == ["区镇", "社区编码", "社区名称", "党员数"]
    by = {(r[0], r[1]): r for r in rows}
    assert by[("玉山镇", "YS001")][3:] == [101, Decimal("15150.00"), Decimal("20000.00"), Decimal("0.00"),
                                           Decimal("7575.00"), Decimal("7575.00")]
    assert by[("巴城镇", "BC001")][3:] == [0, Decimal("15000.00"), Decimal("1000.00"), Decimal("14000.00"),
                                           Decimal("0"), Decimal("15000.00")]
    town_total = next(r for r in rows if r[0] == "玉山镇" and r[1] == "")
    assert town_total[3:] == [101, Decimal("30150.00"), Decimal("20000.00"), Decimal("15000.00"),
                              Decimal("15075.00"), Decimal("15075.00")]
    city = rows[-1]
    assert city[0] == "全市" and city[4] == Decimal("45150.00") and city[6] == Decimal("29000.00")
    # scope: one town
    ctx.town = "巴城镇"
    _, rows = reports_funding.run(ctx)
    assert [r[1] for r in rows if r[1]] == ["BC001"]


def test_report_registered(dangjian_db):
    from core import plugins

    rep = plugins.get().registry.reports["funding"]
    assert rep.plugin == "plugins.reports_funding"
