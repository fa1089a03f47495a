"""core.queries: keyset pages, prefix search (name, initials, ID), scope, dashboard figures."""
from __future__ import annotations

import datetime as dt

import pytest

from core import queries
from core.queries import MemberFilter


@pytest.fixture
def city(dangjian_db, monkeypatch):
    monkeypatch.setenv("DANGJIAN_TODAY", "2026-06-15")
    from tests.tui import tui_data

    return tui_data.build(extra=430)  # 450 members: three 200-row blocks


def page(f, after=None, limit=200):
    """Rows without their keyset key: (id, name, id_number, sex, class, full_date, active, org, community)."""
    return [r[1:] for r in queries.member_page(f, after, limit)]


def all_rows(f, with_keys=False):
    out, after = [], None
    while True:
        block = queries.member_page(f, after, 200)
        out += block
        if len(block) < 200:
            return out if with_keys else [r[1:] for r in out]
        after = block[-1][0]


def test_keyset_pages_cover_everything_once(city):
    f = MemberFilter(status="all")
    got = all_rows(f)
    assert len(got) == queries.member_count(f) == 450
    assert [r[0] for r in got] == sorted(r[0] for r in got)
    assert len({r[0] for r in got}) == 450


def test_seek_reaches_far_blocks(city):
    f = MemberFilter(status="all")
    ids = [r[0] for r in all_rows(f, with_keys=True)]
    assert queries.member_seek(f, None, 1) == ids[0]
    assert queries.member_seek(f, None, 400) == ids[399]
    assert queries.member_seek(f, ids[199], 200) == ids[399]
    assert queries.member_seek(f, None, 451) is None
    assert queries.member_position(f, ids[250]) == 250


def test_prefix_search_kinds(city):
    assert MemberFilter(text="张伟").search_kind() == "name"
    assert MemberFilter(text="zw").search_kind() == "initials"
    assert MemberFilter(text="3205").search_kind() == "id"
    assert MemberFilter(text="32058319700101001x").search_kind() == "id"
    assert {r[1] for r in page(MemberFilter(text="张伟"))} == {"张伟", "张伟明"}
    assert {r[1] for r in page(MemberFilter(text="张"))} == {"张伟", "张伟明"}
    assert [r[1] for r in page(MemberFilter(text="ZWM"))] == ["张伟明"]
    assert [r[1] for r in page(MemberFilter(text="zw"))] == ["张伟", "张伟明"]
    from tests.tui import tui_data

    from core.access import Principal
    from core.view import View

    full = View.of(Principal("admin", full_personal_data=True))  # ID-prefix search needs full personal data
    idn = tui_data.member_id_number(3)
    assert [r[2] for r in page(MemberFilter(text=idn, scope=full))] == [idn]
    assert all(r[2].startswith(idn[:8]) for r in page(MemberFilter(text=idn[:8], status="all", scope=full)))
    # lower-case x in a typed ID matches the stored upper-case X
    assert queries.member_count(MemberFilter(text="nothing-like-this")) == 0


def test_id_search_limited_for_masked_users(city):
    from tests.tui import tui_data

    from core.access import Principal
    from core.view import View

    idn = tui_data.member_id_number(3)
    masked = View.of(Principal("clerk", "city", "city", full_personal_data=False))
    assert not masked.allows_id_prefix_search
    assert queries.member_count(MemberFilter(text=idn, scope=masked)) == 0
    assert queries.member_count(MemberFilter(text=idn[:6], scope=masked)) > 0  # the area code shown
    # rows come masked: no birth date in them
    assert {r[2] for r in page(MemberFilter(text=idn[:6], scope=masked))} <= {idn[:6] + "********" + r[2][14:17] + "*"
                                                                              for r in page(MemberFilter(
                                                                                  text=idn[:6], scope=masked))}
    assert idn not in {r[2] for r in page(MemberFilter(text=idn[:6], scope=masked), limit=500)}


def test_status_class_org_and_scope_filters(city):
    on = dt.date(2026, 6, 15)
    left = page(MemberFilter(status="left"))
    assert [r[1] for r in left] == ["杨帆"]
    active = queries.member_count(MemberFilter())
    assert active == 449
    full = queries.member_count(MemberFilter(status="full", on=on))
    prob = queries.member_count(MemberFilter(status="probationary", on=on))
    assert full + prob == active and prob == 50  # every 9th member is probationary
    fo = page(MemberFilter(member_class="floating_out"), None, 500)
    assert fo and all(r[4] == "floating_out" for r in fo)
    # an org filter covers the org's whole subtree (the committee holds no members itself)
    com = queries.member_count(MemberFilter(organization=city["com"]))
    b1 = queries.member_count(MemberFilter(organization=city["b1"]))
    assert com > b1 > 0
    c2 = queries.member_count(MemberFilter(scope=frozenset({city["c2"]})))
    c1 = queries.member_count(MemberFilter(scope=frozenset({city["c1"]})))
    assert c1 + c2 == active and c2 > 0
    assert com == c1


def test_name_prefix_uses_an_index_on_sqlite(city):
    from core.db import database, is_sqlite

    if not is_sqlite():
        pytest.skip("SQLite query plan")

    where, params = queries._member_where(MemberFilter(text="张伟", status="all"))
    plan = " ".join(str(r) for r in database.execute_sql(
        f"EXPLAIN QUERY PLAN SELECT COUNT(*) FROM member m WHERE {where}", params).fetchall())
    assert "USING INDEX" in plan or "USING COVERING INDEX" in plan


def test_scope_ids_and_choices(city):
    from core.access import Principal

    from core.errors import AccessDenied
    from core.view import View

    admin = Principal("a")
    assert View.of(admin).community_ids is None
    assert View.of(admin, town="巴城镇").community_ids == {city["c2"]}
    assert View.of(admin, community="KS001").community_ids == {city["c1"]}
    clerk = Principal("c", "community", "KS001", False, False)
    assert View.of(clerk).community_ids == {city["c1"]}
    with pytest.raises(AccessDenied):  # narrowing outside the user's scope
        View.of(clerk, town="巴城镇")
    labels = [c[0] for c in queries.scope_choices(admin)]
    assert labels[0] == "全市" and any("湖滨社区" in x for x in labels)


def test_palette_lookup(city):
    comms, members = queries.palette_lookup("湖滨", None)
    assert [c[1] for c in comms] == ["BC001"]
    comms, members = queries.palette_lookup("zwm", None)
    assert [m["name"] for m in members] == ["张伟明"]
    comms, members = queries.palette_lookup("张伟", {city["c2"]})
    assert members == [] or all(m["community_name"] == "湖滨社区" for m in members)


def test_dashboard_figures(city):
    from core import access, config, plugins

    config.load(None)
    plugins.load()
    d = queries.dashboard(access.current(), None, None, 2026, None)
    assert d["members"]["total"] == 449
    assert sum(d["members"]["classes"].values()) == 449
    assert d["meetings"]["branches"] == 3 and d["meetings"]["groups"] == 1
    # B001 held a 党员大会 on 2026-03-05: that is last quarter, so all three branches still owe one
    assert d["meetings"]["assembly"] == 3
    assert d["demands"]["count"] == 1 and d["demands"]["oldest"][0]["demand"] == "楼道灯坏了"
    assert d["check"] is None
    assert d["funding"]["communities"] == 2 and d["funding"]["short"] == 2


def test_overdue_demand_boundary(city):
    on = dt.date(2026, 4, 16)  # demand dated 04-01: 15 days later is not yet overdue
    assert queries.overdue_demands(None, on)["count"] == 0
    assert queries.overdue_demands(None, on + dt.timedelta(days=1))["count"] == 1


@pytest.mark.parametrize("text", ["张", "zw", "3205", "党员"])
def test_keyset_in_search_order_covers_every_match_once(city, text):
    f = MemberFilter(text=text, status="all")
    keyed = all_rows(f, with_keys=True)
    assert len(keyed) == queries.member_count(f)
    keys = [r[0] for r in keyed]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    if len(keyed) > 3:
        assert queries.member_seek(f, keys[0], 2) == keys[2]
        assert queries.member_position(f, keys[3]) == 3
    # the roster count (prefix minus those who left) agrees with a plain count
    f2 = MemberFilter(text=text)
    where, params = queries._member_where(f2)
    from core.queries import _scalar

    assert queries.member_count(f2) == _scalar(f"SELECT COUNT(*) FROM member m WHERE {where}", params)


def test_last_check_summary_matches_the_stored_findings(city):
    from core import access, config, plugins
    from core.findings import find_run, run_findings
    from core.rules import run_check
    from core.view import View

    config.load(None)
    plugins.load()
    me = access.current()
    assert queries.last_check(me, None, None, 2026, None) is None
    run_check(year=2026, principal=me, store=True)
    run_check(year=2026, principal=me, store=True, rule_ids=["org.kind_size"])  # a partial run is not used
    for town, community in ((None, None), ("巴城镇", None), (None, "KS001")):
        got = queries.last_check(me, town, community, 2026, None)
        run = find_run(View.of(me, town, community).community_ids, 2026)
        findings = run_findings(run.id, communities=[community] if community else None, town=town)
        want = queries.findings_summary(findings)
        assert got["run_id"] == run.id
        assert got["totals"] == want["totals"] and got["by_clause"] == want["by_clause"]
    # narrowing to a scope keeps only its communities' findings
    only_c2 = queries.last_check(me, None, None, 2026, {city["c2"]})
    findings = run_findings(find_run({city["c2"]}, 2026).id, communities=["BC001"])
    assert only_c2["totals"] == queries.findings_summary(findings)["totals"]
