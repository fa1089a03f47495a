"""core.read over a city: keyset pages, prefix search (name, initials, ID), scope, the palette,
dashboard figures, the latest check's summary."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from core.read import compliance, dashboard, members, organizations, visits
from core.read._sql import _scalar
from core.read.members import MemberFilter
from core.view import View


@pytest.fixture
def city(dangjian_db, monkeypatch):
    monkeypatch.setenv("DANGJIAN_TODAY", "2026-06-15")
    from tests.tui import tui_data

    return tui_data.build(extra=430)  # 450 members: three 200-row blocks


def mine(ids=None) -> View:
    """The current user's view (the single-user admin: the whole city), narrowed to ``ids``."""
    view = View.of()
    return view if ids is None else View(view.principal, ids)


def F(**kw) -> MemberFilter:
    return MemberFilter(mine(), **kw)


def page(f, after=None, limit=200):
    """Rows without their keyset key: (id, name, id_number, sex, class, full_date, active, org, community)."""
    return [r[1:] for r in members.member_page(f, after, limit)]


def all_rows(f, with_keys=False):
    out, after = [], None
    while True:
        block = members.member_page(f, after, 200)
        out += block
        if len(block) < 200:
            return out if with_keys else [r[1:] for r in out]
        after = block[-1][0]


def test_keyset_pages_cover_everything_once(city):
    f = F(status="all")
    got = all_rows(f)
    assert len(got) == members.member_count(f) == 450
    assert [r[0] for r in got] == sorted(r[0] for r in got)
    assert len({r[0] for r in got}) == 450


def test_seek_reaches_far_blocks(city):
    f = F(status="all")
    ids = [r[0] for r in all_rows(f, with_keys=True)]
    assert members.member_seek(f, None, 1) == ids[0]
    assert members.member_seek(f, None, 400) == ids[399]
    assert members.member_seek(f, ids[199], 200) == ids[399]
    assert members.member_seek(f, None, 451) is None
    assert members.member_position(f, ids[250]) == 250


def test_prefix_search_kinds(city):
    assert F(text="张伟").search_kind() == "name"
    assert F(text="zw").search_kind() == "initials"
    assert F(text="3205").search_kind() == "id"
    assert F(text="32058319700101001x").search_kind() == "id"
    assert {r[1] for r in page(F(text="张伟"))} == {"张伟", "张伟明"}
    assert {r[1] for r in page(F(text="张"))} == {"张伟", "张伟明"}
    assert [r[1] for r in page(F(text="ZWM"))] == ["张伟明"]
    assert [r[1] for r in page(F(text="zw"))] == ["张伟", "张伟明"]
    from tests.tui import tui_data

    from core.access import Principal
    from core.view import View

    full = View.of(Principal("admin", full_personal_data=True))  # ID-prefix search needs full personal data
    idn = tui_data.member_id_number(3)
    assert [r[2] for r in page(MemberFilter(full, text=idn))] == [idn]
    assert all(r[2].startswith(idn[:8]) for r in page(MemberFilter(full, text=idn[:8], status="all")))
    # lower-case x in a typed ID matches the stored upper-case X
    assert members.member_count(F(text="nothing-like-this")) == 0


def test_a_picker_finds_a_name_by_any_part_of_it(city):
    """Forms' pickers: names beginning with the text first, then names holding it elsewhere
    (伟明 finds 张伟明); % and _ are plain characters, not wildcards."""
    from core.read import pickers

    got = [c.name for c in pickers.pick_members(mine(), "伟明")]
    assert got == ["张伟明"]
    assert [c.name for c in pickers.pick_members(mine(), "张伟")] == ["张伟", "张伟明"]
    assert pickers.pick_members(mine(), "%") == [] and pickers.pick_members(mine(), "_") == []
    assert [c.name for c in pickers.pick_members(mine(), "伟")][:2] == ["张伟", "张伟明"]
    # the members list itself still searches from the start of the name
    assert members.member_count(F(text="伟明", status="all")) == 0


def test_id_search_limited_for_masked_users(city):
    from tests.tui import tui_data

    from core.access import Principal
    from core.view import View

    idn = tui_data.member_id_number(3)
    masked = View.of(Principal("clerk", "city", "city", full_personal_data=False))
    assert not masked.allows_id_prefix_search
    assert members.member_count(MemberFilter(masked, text=idn)) == 0
    assert members.member_count(MemberFilter(masked, text=idn[:6])) > 0  # the area code shown
    # rows come masked: no birth date in them
    assert {r[2] for r in page(MemberFilter(masked, text=idn[:6]))} <= {idn[:6] + "********" + r[2][14:17] + "*"
                                                                         for r in page(MemberFilter(
                                                                             masked, text=idn[:6]))}
    assert idn not in {r[2] for r in page(MemberFilter(masked, text=idn[:6]), limit=500)}


def test_status_class_org_and_scope_filters(city):
    on = dt.date(2026, 6, 15)
    left = page(F(status="left"))
    assert [r[1] for r in left] == ["杨帆"]
    active = members.member_count(F())
    assert active == 449
    full = members.member_count(F(status="full", on=on))
    prob = members.member_count(F(status="probationary", on=on))
    assert full + prob == active and prob == 50  # every 9th member is probationary
    fo = page(F(member_class="floating_out"), None, 500)
    assert fo and all(r[4] == "floating_out" for r in fo)
    # an org filter covers the org's whole subtree (the committee holds no members itself)
    com = members.member_count(F(organization=city["com"]))
    b1 = members.member_count(F(organization=city["b1"]))
    assert com > b1 > 0
    c2 = members.member_count(MemberFilter(mine({city["c2"]})))
    c1 = members.member_count(MemberFilter(mine({city["c1"]})))
    assert c1 + c2 == active and c2 > 0
    assert com == c1


def test_name_prefix_uses_an_index_on_sqlite(city):
    from core.db import database, is_sqlite

    if not is_sqlite():
        pytest.skip("SQLite query plan")

    where, params = members._member_where(F(text="张伟", status="all"))
    plan = " ".join(str(r) for r in database.execute_sql(
        f"EXPLAIN QUERY PLAN SELECT COUNT(*) FROM member m WHERE {where}", params).fetchall())
    assert "USING INDEX" in plan or "USING COVERING INDEX" in plan


def test_a_search_counts_without_those_who_left_and_pages_in_code_point_order(city):
    from core import models

    # 杨帆 left the roster: the count of a search takes him away, on both databases
    gone = models.Member.get(models.Member.name == "杨帆")
    for text in ("杨", "yf", gone.id_number[:6]):
        everyone = all_rows(F(text=text, status="all"))
        assert members.member_count(F(text=text)) == sum(1 for r in everyone if r[6]) < len(everyone)
        assert members.member_count(F(text=text, status="left")) == 1
    # the list's order is code-point order (as Python sorts), whatever the database's collation
    models.Member.update(name="张" + "Bb").where(models.Member.id == gone.id).execute()
    models.Member.update(name="张" + "aa").where(models.Member.id == gone.id - 1).execute()
    rows = all_rows(F(text="张", status="all"))
    assert [(r[1], r[0]) for r in rows] == sorted((r[1], r[0]) for r in rows)
    assert [r[1] for r in rows][:2] == ["张Bb", "张aa"]  # B before a: not a linguistic order


def test_search_plans_use_the_prefix_and_left_indexes(city):
    from core.db import database, is_sqlite

    if is_sqlite():  # those who left are counted on their own partial index, not on the prefix's
        gone, gone_p = members.roster.left_sql("m")
        c, p = members._search_condition(F(text="z"), indexed=False)
        plan = " ".join(str(r) for r in database.execute_sql(
            f"EXPLAIN QUERY PLAN SELECT COUNT(*) FROM member m WHERE {gone} AND {c}", gone_p + p).fetchall())
        assert "member_left" in plan
        return
    # PostgreSQL: one index gives a one-letter search's range and its order
    off = ("enable_seqscan", "enable_bitmapscan", "enable_sort")  # a test city is small: a scan and a sort would do
    for setting in off:
        database.execute_sql(f"SET {setting} = off")
    try:
        f = F(text="z")
        where, params = members._member_where(f)
        _cols, order = members._order(f)
        plan = "\n".join(r[0] for r in database.execute_sql(
            f"EXPLAIN SELECT m.id FROM member m WHERE {where} ORDER BY {order} LIMIT 200".replace("?", "%s"),
            params).fetchall())
    finally:
        for setting in off:
            database.execute_sql(f"RESET {setting}")
    # (ties of the initials are put in id order as they come: an incremental sort, never one of every match)
    assert "Index Scan using member_initials_c" in plan, plan
    assert not re.search(r"(^|->  )Sort  \(", plan, re.M), plan


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
    labels = [c[0] for c in organizations.scope_choices(admin)]
    assert labels[0] == "全市" and any("湖滨社区" in x for x in labels)


def test_palette_lookup(city):
    comms, found = members.palette_lookup(mine(), "湖滨")
    assert [c[1] for c in comms] == ["BC001"]
    comms, found = members.palette_lookup(mine(), "zwm")
    assert [m["name"] for m in found] == ["张伟明"]
    comms, found = members.palette_lookup(mine({city["c2"]}), "张伟")
    assert found == [] or all(m["community_name"] == "湖滨社区" for m in found)


def test_dashboard_figures(city):
    from core import config, plugins

    config.load(None)
    plugins.load()
    d = dashboard.dashboard(mine(), 2026)
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
    assert visits.overdue_demands(mine(), on)["count"] == 0
    assert visits.overdue_demands(mine(), on + dt.timedelta(days=1))["count"] == 1


@pytest.mark.parametrize("text", ["张", "zw", "3205", "党员"])
def test_keyset_in_search_order_covers_every_match_once(city, text):
    f = F(text=text, status="all")
    keyed = all_rows(f, with_keys=True)
    assert len(keyed) == members.member_count(f)
    keys = [r[0] for r in keyed]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    if len(keyed) > 3:
        assert members.member_seek(f, keys[0], 2) == keys[2]
        assert members.member_position(f, keys[3]) == 3
    # the roster count (prefix minus those who left) agrees with a plain count
    f2 = F(text=text)
    where, params = members._member_where(f2)
    assert members.member_count(f2) == _scalar(f"SELECT COUNT(*) FROM member m WHERE {where}", params)


def test_last_check_summary_matches_the_stored_findings(city):
    from core import access, config, plugins
    from core.findings import find_run, run_findings
    from core.rules import run_check

    config.load(None)
    plugins.load()
    me = access.current()
    assert compliance.last_check(View.of(me), 2026) is None
    run_check(year=2026, principal=me, store=True)
    run_check(year=2026, principal=me, store=True, rule_ids=["org.kind_size"])  # a partial run is not used
    for town, community in ((None, None), ("巴城镇", None), (None, "KS001")):
        view = View.of(me, town, community)
        got = compliance.last_check(view, 2026)
        run = find_run(view.community_ids, 2026)
        # a narrowed view counts its communities' findings (a town's roll-up has no community)
        codes = None if view.everything else [c.code for c in view.communities()]
        findings = run_findings(run.id, communities=codes, town=town)
        want = compliance.findings_summary(findings)
        assert got["run_id"] == run.id
        assert got["totals"] == want["totals"] and got["by_clause"] == want["by_clause"]
    # narrowing to a scope keeps only its communities' findings
    only_c2 = compliance.last_check(View(me, {city["c2"]}), 2026)
    findings = run_findings(find_run({city["c2"]}, 2026).id, communities=["BC001"])
    assert only_c2["totals"] == compliance.findings_summary(findings)["totals"]
    # the whole city's summary is read from the counts kept with the run; counted from the stored
    # findings it is the same
    import json

    from core.models import CheckRun

    whole = compliance.last_check(View.of(me), 2026)
    run = CheckRun.get_by_id(whole["run_id"])
    kept = json.loads(run.counts)
    assert sum(n for *_, n in kept["by_rule"]) == sum(v for k, v in kept.items() if k != "by_rule")
    CheckRun.update(counts=json.dumps({k: v for k, v in kept.items() if k != "by_rule"})).where(
        CheckRun.id == run.id).execute()
    counted = compliance.last_check(View.of(me), 2026)
    assert counted["by_clause"] == whole["by_clause"] and counted["by_rule"] == whole["by_rule"]
    assert counted["totals"] == whole["totals"]
