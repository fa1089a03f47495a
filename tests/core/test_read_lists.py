"""core.read's lists: scope, masking, keyset paging, deadlines, the overdue count (dashboard and
visits screen), dues cells, evidence refs."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core import access, ids
from core import models as m
from core.read import compliance, dashboard, dues, funding, meetings, organizations, records, visits, workers
from core.read.paging import RowSource, key_date_id
from core.view import View
from tests import factories as f


def me() -> View:
    """The view of the current user (set with ``access.set_current``)."""
    return View.of()


@pytest.fixture
def two(dangjian_db, monkeypatch):
    monkeypatch.setenv("DANGJIAN_TODAY", "2026-06-15")
    c1 = f.make_community("KS001", town="玉山镇")
    c2 = f.make_community("KS002", town="巴城镇")
    br = f.make_org(c1, "branch", code="ZB01")
    grp = f.make_org(c1, "group", parent=br, code="XZ01")
    f.make_org(c2, "branch", code="ZB02")
    mem = [f.make_member(br, dues_class="employed", monthly_income="3000.00") for _ in range(2)]
    mem.append(f.make_member(grp, dues_class="retired", monthly_income="6000.00", joined_date="2026-03-01",
                             full_date=None))
    w = [f.make_worker(c1), f.make_worker(c2)]
    return {"c1": c1, "c2": c2, "br": br, "grp": grp, "members": mem, "workers": w}


def test_scope_limits_lists(two):
    access.set_current(access.Principal("u", "community", "KS001", False, False))
    rows = workers.worker_rows(me())
    assert [r["id"] for r in rows] == [two["workers"][0].id]
    assert "*" in rows[0]["id_shown"] and rows[0]["id_shown"] != two["workers"][0].id_number
    f.make_visit(two["c2"], "reception", "2026-06-01", demand="x")
    assert visits.visit_rows(me()) == []
    assert records.record_rows(me(), "visits") == [] and records.record_count(me(), "visits") == 0
    assert records.record(me(), "visits", m.Visit.get().id) is None
    assert [o["code"] for o in organizations.org_choices(me())] == ["XZ01", "ZB01"]
    access.set_current(None)
    assert len(workers.worker_rows(me())) == 2
    # single-user admin sees every community, with personal data masked
    assert workers.worker_rows(me())[0]["id_shown"] == ids.mask(two["workers"][0].id_number)


def test_app_narrowing_is_intersected_with_user_scope(two):
    access.set_current(access.Principal("u", "community", "KS001", False, False))
    from core.view import as_view

    assert as_view({two["c2"].id}).community_ids == set()
    assert workers.worker_rows(as_view({two["c2"].id})) == []


def test_keyset_paging_and_seek(two):
    for i in range(25):
        f.make_visit(two["c1"], "home_visit", dt.date(2026, 1, 1) + dt.timedelta(days=i % 5))
    src = RowSource(visits.visit_rows, key_date_id, view=me())
    total, first = src.first(limit=10)
    assert total == 25 and len(first) == 10
    seen = [k for k, _ in first]
    after = seen[-1]
    while True:
        page = src.page(after, 10)
        if not page:
            break
        seen.extend(k for k, _ in page)
        after = page[-1][0]
    assert len(seen) == 25 == len(set(seen))
    assert seen == sorted(seen, reverse=True)  # newest first, ties by id
    assert src.seek(None, 12) == seen[11]
    assert src.seek(seen[4], 3) == seen[7]
    assert src.seek(seen[-1], 1) is None


def test_overdue_boundary(two):
    # max_days 15: a demand of 05-31 is due 06-15 (today): open, not overdue; 05-30 is overdue
    f.make_visit(two["c1"], "reception", "2026-05-31", demand="a")
    f.make_visit(two["c1"], "reception", "2026-05-30", demand="b")
    f.make_visit(two["c1"], "reception", "2026-05-01", demand="c", refused_reason="不属于职责")
    f.make_visit(two["c1"], "reception", "2026-05-01", demand="d", closed_date="2026-05-20")
    f.make_visit(two["c1"], "reception", "2026-05-01")  # no demand
    rows = {r["demand"]: r for r in visits.visit_rows(me())}
    assert rows["a"]["open"] and not rows["a"]["overdue"]
    assert rows["b"]["open"] and rows["b"]["overdue"]
    assert not rows["c"]["open"] and not rows["d"]["open"] and not rows[""]["open"]
    assert visits.overdue_demands(me())["count"] == 1
    assert [r["demand"] for r in visits.visit_rows(me(), open_only=True)] == ["a", "b"]


def test_the_dashboard_and_the_visits_screen_count_the_same_overdue_demands(two):
    """One definition (visits.overdue_demands): the dashboard's figure, the visits screen's bar
    and the rows the screen marks overdue agree -- for the whole city and narrowed views."""
    f.make_visit(two["c1"], "reception", "2026-05-30", demand="late")
    f.make_visit(two["c1"], "reception", "2026-05-01", demand="empty reason", refused_reason="")  # not refused
    f.make_visit(two["c1"], "reception", "2026-05-01", demand="refused", refused_reason="不属于职责")
    f.make_visit(two["c1"], "reception", "2026-05-31", demand="not yet")
    f.make_visit(two["c2"], "reception", "2026-04-01", demand="other town")
    f.make_visit(two["c2"], "reception", "2026-04-01", demand="answered", answered_date="2026-04-03")
    f.make_visit(two["c2"], "home_visit", "2026-04-01")  # no demand
    want = {None: ["empty reason", "late", "other town"], "KS001": ["empty reason", "late"], "KS002": ["other town"]}
    for community, names in want.items():
        view = View.of(None, None, community)
        shown = dashboard.dashboard(view, 2026)["demands"]
        screen = visits.overdue_demands(view, limit=0)["count"]  # what the visits screen's bar shows
        marked = sorted(r["demand"] for r in visits.visit_rows(view) if r["overdue"])
        assert shown["count"] == screen == len(marked) == len(names), community
        assert sorted(r["demand"] for r in shown["oldest"]) == marked == names, community


def test_dues_grid_and_cells(two):
    g = dues.dues_grid(me(), two["br"].id, 2026)
    ids = {r["id"]: r for r in g["members"]}
    assert set(ids) == {x.id for x in two["members"]}  # the group's member is in the branch grid
    late = two["members"][2]
    assert ids[late.id]["first_month"] == "2026-03"
    assert ids[two["members"][0].id]["proposal"] == Decimal("15.00")  # 3000 x 0.5 %
    assert ids[late.id]["proposal"] == Decimal("60.00")  # retired, 6000 x 1 %
    now = dt.date(2026, 6, 15)
    assert g["as_of"] == now and ids[late.id]["owed_months"] == {"2026-03", "2026-04", "2026-05"}
    assert g["owed"] == 5 + 5 + 3  # January to May; the late joiner from March; June has not ended
    member = ids[two["members"][0].id]
    assert dues.dues_cell_state(None, "2026-02", ids[late.id], now) == "before"
    assert dues.dues_cell_state(None, "2026-05", member, now) == "owed"
    assert dues.dues_cell_state(None, "2026-06", member, now) == "pending"  # the month has just begun
    assert dues.dues_cell_state(None, "2026-07", member, now) == "pending"
    part = {"paid": Decimal("5"), "due": Decimal("15"), "paid_date": dt.date(2026, 5, 20)}
    assert dues.dues_cell_state(part, "2026-05", member, now) == "partial"
    full = {"paid": Decimal("15"), "due": Decimal("15"), "paid_date": dt.date(2026, 5, 20)}
    assert dues.dues_cell_state(full, "2026-05", member, now) == "paid"
    f.make_dues(late, "2026-04", "60", paid_date="2026-04-10")
    g = dues.dues_grid(me(), two["br"].id, 2026)
    assert (late.id, "2026-04") in g["payments"] and g["owed"] == 12


def test_meeting_roster_and_counts(two):
    mt = f.make_meeting(two["br"], "assembly", "2026-06-01")
    f.make_attendance(mt, two["members"][0], "leave", "病假")
    roster = meetings.attendance_roster(me(), mt.id)
    assert len(roster) == 3
    by = {r["member_id"]: r for r in roster}
    assert by[two["members"][0].id]["status"] == "leave" and by[two["members"][0].id]["leave_reason"] == "病假"
    assert by[two["members"][1].id]["status"] is None
    row = meetings.meeting_rows(me(), year=2026)[0]
    assert (row["present"], row["leave"], row["absent"]) == (0, 1, 0)
    assert meetings.meeting_rows(me(), year=2025) == []


def test_evidence_refs_and_records(two):
    mt = f.make_meeting(two["br"], "assembly", "2026-06-01")
    ev = {"meeting_ids": [mt.id], "worker_id": two["workers"][0].id, "ungraded_member_ids": [two["members"][0].id],
          "payment_ids": [], "count": 3, "records": [{"table": "organization", "id": two["br"].id}]}
    refs = compliance.evidence_refs(ev)
    assert (m.Meeting, mt.id) in refs and (m.Worker, two["workers"][0].id) in refs
    assert (m.Member, two["members"][0].id) in refs and (m.Organization, two["br"].id) in refs
    recs = compliance.evidence_records(me(), ev)
    kinds = {r["kind"] for r in recs}
    assert kinds == {"meetings", "workers", "members", "orgs"}
    access.set_current(access.Principal("u", "community", "KS002", False, False))
    assert compliance.evidence_records(me(), ev) == []  # records outside the scope are not shown


def test_clause_text():
    assert "社区工作者培训" in compliance.clause_text(7)
    assert compliance.clause_text(None) == ""


def test_funding_rows(two):
    f.make_allocation(two["c1"], 2026, "10000", "town_finance")
    f.make_allocation(two["c1"], 2026, "3000", "entrusted")
    rows = {r["code"]: r for r in funding.funding_rows(me(), 2026)}
    assert rows["KS001"]["floor"] == Decimal("15000.00")
    assert rows["KS001"]["allocated"] == Decimal("10000.00") and rows["KS001"]["gap"] == Decimal("5000.00")
    assert rows["KS001"]["other"] == Decimal("3000.00")
    assert rows["KS001"]["city_share"] + rows["KS001"]["town_share"] == rows["KS001"]["floor"]
    assert rows["KS002"]["city_share"] == 0  # 巴城镇: 100 % town


def test_find_run_covers_the_view(two):
    from core import rules
    from core.findings import find_run

    def view():
        return View.of().community_ids

    access.set_current(access.Principal("u1", "community", "KS001", False, False))
    mine = rules.run_check(year=2026).run_id
    assert find_run(view(), 2026).id == mine
    access.set_current(access.Principal("u2", "community", "KS002", False, False))
    assert find_run(view(), 2026) is None  # another community's run does not cover KS002
    access.set_current(None)
    assert find_run(view(), 2026) is None  # nor the whole city
    city = rules.run_check(year=2026).run_id
    assert find_run(view(), 2026).id == city
    assert find_run(view(), 2025) is None
    access.set_current(access.Principal("u2", "community", "KS002", False, False))
    assert find_run(view(), 2026).id == city


def test_matrix_rollup_columns(two):
    from core import rules

    run_id = rules.run_check(year=2026).run_id
    mx = compliance.compliance_matrix(me(), run_id)
    codes = [c["code"] for c in mx["communities"]]
    assert codes[:2] == ["KS001", "KS002"]
    assert "@玉山镇" in codes and "@" in codes  # train.secretary_quals_trend: every town, and the city
    assert ("train.secretary_quals_trend", "@") in mx["cells"]
    found = compliance.cell_findings(me(), run_id, "train.secretary_quals_trend", "@玉山镇")
    assert found and all(x["town"] == "玉山镇" and x["community"] is None for x in found)
    access.set_current(access.Principal("u", "town", "玉山镇", False, False))
    codes = [c["code"] for c in compliance.compliance_matrix(me(), run_id)["communities"]]
    assert codes == ["KS001", "@玉山镇"]
    assert compliance.cell_findings(me(), run_id, "train.secretary_quals_trend", "@") == []
    assert compliance.cell_findings(me(), run_id, "train.secretary_quals_trend", "@巴城镇") == []


def test_findings_of_an_admin_run_are_masked_for_others(two):
    from core import rules

    run_id = rules.run_check(year=2026, principal=f.FULL_VIEW).run_id  # an admin with full data: full IDs stored
    w = two["workers"][0]
    access.set_current(f.FULL_VIEW)
    full = [x for x in compliance.cell_findings(me(), run_id, "worker.certificate", "KS001")
            if x["subject"] == w.id_number]
    assert full
    access.set_current(access.Principal("u", "community", "KS001", False, False))
    rows = compliance.cell_findings(me(), run_id, "worker.certificate", "KS001")
    assert rows and all(w.id_number not in (x["subject"] + x["message"] + str(x["evidence"])) for x in rows)
    assert any(x["subject"] == ids.mask(w.id_number) for x in rows)


def test_a_records_line_shows_labels_not_codes(two, monkeypatch):
    """The records list describes a record as a user reads it: a code by its label, a yes/no field
    by its name when yes (and not at all when no), never Python's True/False."""
    access.set_current(None)
    org_lines = [r["_text"] for r in records.record_rows(me(), "orgs")]
    assert any("党支部" in t for t in org_lines) and not any("branch" in t for t in org_lines)
    mb = m.Member.get_by_id(two["members"][0].id)
    mb.retired, mb.mobility_impaired = True, False
    fields = dict(m.Member._meta.fields)
    keep = ("name", "retired", "mobility_impaired", "management_class")

    class Few:  # the member's model with only a few fields: none cut by the six-part limit
        _meta = type("M", (), {"fields": {k: fields[k] for k in keep}})

    from core import kinds

    of_model = kinds.of_model
    monkeypatch.setattr(kinds, "of_model", lambda model: of_model(m.Member if model is Few else model))
    text = records.describe(me(), Few, mb)
    assert text.split() == [mb.name, "离退休", "社区党员"]


def test_visits_of_one_year(two):
    """The visits list of a year holds that year's visits only, counted and paged in the query."""
    access.set_current(None)
    for day in ("2025-12-31", "2026-01-01", "2026-06-01", "2027-01-01"):
        f.make_visit(two["c1"], "reception", day)
    rows = visits.visit_rows(me(), year=2026)
    got = [str(r["date"]) for r in rows]
    assert got == ["2026-06-01", "2026-01-01"]
    assert visits.visit_rows(me(), year=2026, count=True) == 2
    assert visits.visit_rows(me(), count=True) == 4
    nxt = visits.visit_rows(me(), year=2026, after=(rows[0]["date"], rows[0]["id"]), limit=5)
    assert [str(r["date"]) for r in nxt] == ["2026-01-01"]


def test_overdue_demands_across_a_provinces_towns(dangjian_db, monkeypatch):
    """A province has well over a hundred towns: the overdue count is one condition per deadline,
    not an OR per town (which nests past SQLite's parser stack), and still counts each town's
    demands against its own deadline."""
    monkeypatch.setenv("DANGJIAN_TODAY", "2026-06-15")
    for i in range(160):
        c = f.make_community(f"P{i:03d}", town=f"镇{i:03d}")
        f.make_visit(c, "reception", "2026-05-30" if i % 2 else "2026-05-31", demand=f"d{i}")  # due 15 days on
    got = visits.overdue_demands(me(), limit=3)
    assert got["count"] == 80 and len(got["max_days"]) == 160
    assert [r["demand"] for r in got["oldest"]] == ["d1", "d3", "d5"]
    assert dashboard.dashboard(me(), 2026)["demands"]["count"] == 80
