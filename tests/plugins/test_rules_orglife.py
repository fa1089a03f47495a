"""orglife.* (clause 13): 三会一课, 民主评议, absence without leave — both sides of each threshold."""
from __future__ import annotations

import pytest

from core.models import Evaluation, Meeting
from core.rules import CommunityRef, Context
from plugins import rules_orglife as ro
from tests import factories as f


def _run(rule_id, community, as_of, year=None, key="subject"):
    rule = next(r for r in ro.RULES if r.id == rule_id)
    ref = CommunityRef(community.id, community.code, community.name, community.town.name, community.town_id)
    as_of = f.D(as_of)
    ctx = Context(rule=rule, year=year or as_of.year, as_of=as_of, communities=[ref])
    out = list(rule.evaluate(ctx))
    if key == "member":
        return {x.evidence["member_id"]: x for x in out}
    return {x.subject: x for x in out}


def _monthly(org, typ, year, months, day=10):
    return [f.make_meeting(org, typ, f"{year}-{m:02d}-{day:02d}") for m in months]


@pytest.fixture
def comm(dangjian_db):
    return f.make_community("KS001")


# ---------------------------------------------------------------- 三会一课

def test_committee_meeting_required_from_7_formal_members(comm):
    six = f.make_org(comm, "branch", code="B6")
    f.make_members(6, six)
    f.make_members(1, six, full_date=None, joined_date="2026-01-01")  # probationary: not counted
    f.make_members(2, six, management_class="floating_in", placed_date=f.D("2025-01-01"))  # relationship elsewhere
    f.make_members(1, None, comm, management_class="in_service")
    seven = f.make_org(comm, "branch", code="B7")
    grp = f.make_org(comm, "group", parent=seven, code="B7G1")
    f.make_members(5, seven)
    f.make_members(2, grp)  # members of a group under the branch count for it
    for br in (six, seven):
        _monthly(br, "assembly", 2026, (2, 5))
        _monthly(br, "lecture", 2026, (3, 6))
    _monthly(grp, "group_meeting", 2026, range(1, 7))
    _monthly(seven, "committee_meeting", 2026, range(1, 6))  # June missing
    out = _run("orglife.three_meetings_one_lesson", comm, "2026-06-30")
    assert out["B6"].status == "pass", out["B6"].message
    assert out["B6"].evidence["formal_members"] == 6 and not out["B6"].evidence["committee_meeting_required"]
    assert out["B7"].status == "fail"
    assert out["B7"].evidence["formal_members"] == 7
    assert out["B7"].evidence["committee_meeting_missed"] == ["2026-06"]
    assert out["B7"].evidence["group_meeting_missed"] == {}
    assert set(out) == {"B6", "B7"}  # groups are not subjects
    assert _run("orglife.three_meetings_one_lesson", comm, "2026-06-29")["B7"].status == "pass"


def test_assembly_lecture_and_group_meetings_missing(comm):
    br = f.make_org(comm, "branch", code="B1")
    g1 = f.make_org(comm, "group", parent=br, code="G1")
    g2 = f.make_org(comm, "group", parent=br, code="G2")
    f.make_members(3, br)
    _monthly(br, "assembly", 2026, (1,))  # Q2 missing
    _monthly(br, "lecture", 2026, (1, 4))
    _monthly(g1, "group_meeting", 2026, range(1, 7))
    _monthly(g2, "group_meeting", 2026, (1, 2, 3, 5, 6))  # April missing
    out = _run("orglife.three_meetings_one_lesson", comm, "2026-06-30")["B1"]
    assert out.status == "fail"
    assert out.evidence["assembly_missed"] == ["2026Q2"]
    assert out.evidence["lecture_missed"] == []
    assert out.evidence["group_meeting_missed"] == {"G2": ["2026-04"]}


def test_lecture_period_month_by_town_config(comm, tmp_path, monkeypatch):
    br = f.make_org(comm, "branch", code="B1")
    f.make_members(3, br)
    _monthly(br, "assembly", 2026, (1, 4))
    _monthly(br, "lecture", 2026, (1, 4))
    assert _run("orglife.three_meetings_one_lesson", comm, "2026-06-30")["B1"].status == "pass"
    cfg = tmp_path / "c.toml"
    cfg.write_text('[towns."玉山镇".params."orglife.three_meetings_one_lesson"]\nlecture_period = "month"\n',
                   encoding="utf-8")
    monkeypatch.setenv("DANGJIAN_CONFIG", str(cfg))
    from core import config
    config.reset()
    out = _run("orglife.three_meetings_one_lesson", comm, "2026-06-30")["B1"]
    assert out.status == "fail" and out.evidence["lecture_missed"] == ["2026-02", "2026-03", "2026-05", "2026-06"]


# ---------------------------------------------------------------- 民主评议

def _grade(ids, results, year=2026):
    for mid, r in zip(ids, results):
        Evaluation.create(member=mid, year=year, result=r)


def test_excellent_share_exactly_one_third_vs_more(comm):
    a = f.make_org(comm, "branch", code="BA")
    b = f.make_org(comm, "branch", code="BB")
    ia = f.make_members(3, a)
    f.make_members(1, a, full_date=None, joined_date="2026-02-01")  # probationary: not graded
    ib = f.make_members(4, b)
    for br in (a, b):
        f.make_meeting(br, "democratic_evaluation", "2026-05-20")
    _grade(ia, ["excellent", "qualified", "qualified"])          # 1 of 3: exactly 1/3 → pass
    _grade(ib, ["excellent", "excellent", "qualified", "qualified"])  # 2 of 4 > 1/3 → warn
    out = _run("orglife.democratic_evaluation", comm, "2026-06-30")
    assert out["BA"].status == "pass", out["BA"].message
    assert out["BB"].status == "warn" and out["BB"].evidence["excellent"] == 2


def test_evaluation_unmet_is_warn_before_year_end_and_fail_at_year_end(comm):
    no_meeting = f.make_org(comm, "branch", code="BN")
    f.make_members(3, no_meeting)
    missing = f.make_org(comm, "branch", code="BM")
    im = f.make_members(3, missing)
    f.make_meeting(missing, "democratic_evaluation", "2026-05-20")
    _grade(im[:2], ["qualified", "qualified"])
    june = _run("orglife.democratic_evaluation", comm, "2026-06-30")
    assert june["BN"].status == "warn" and "12-31" in june["BN"].message
    assert june["BM"].status == "warn" and june["BM"].evidence["ungraded_member_ids"] == [im[2]]
    dec = _run("orglife.democratic_evaluation", comm, "2026-12-31")
    assert dec["BN"].status == "fail" and dec["BM"].status == "fail"
    # a member who became formal after the meeting is not required to have a result
    late_full = f.make_member(missing, full_date="2026-07-01", joined_date="2025-07-01")
    _grade(im[2:], ["qualified"])
    dec = _run("orglife.democratic_evaluation", comm, "2026-12-31")
    assert dec["BM"].status == "pass", dec["BM"].message
    assert late_full.id not in dec["BM"].evidence["ungraded_member_ids"]


# ---------------------------------------------------------------- absence without leave

def _attend(meetings, member, status="present"):
    for mt in meetings:
        f.make_attendance(mt, member, status, "出差" if status == "leave" else None)


def test_absence_5_vs_6_and_2_vs_3_months(comm):
    br = f.make_org(comm, "branch")
    ms = _monthly(br, "assembly", 2026, range(1, 8))  # Jan–Jul
    _monthly(br, "assembly", 2025, range(1, 13))
    members = {k: f.make_member(br) for k in ("six", "five", "three", "two", "leave")}
    prev = list(Meeting.select().where(Meeting.date < f.D("2026-01-01")))
    for mem in members.values():
        _attend(prev, mem)
    _attend(ms[:1], members["six"])          # absent Feb–Jul: 6
    _attend(ms[:2], members["five"])         # absent Mar–Jul: 5
    _attend(ms[:4], members["three"])        # absent May–Jul: 3
    _attend(ms[:5], members["two"])          # absent Jun–Jul: 2
    _attend(ms[:5], members["leave"])
    _attend(ms[5:6], members["leave"], "leave")   # June on leave
    for mt in ms[6:]:
        f.make_attendance(mt, members["leave"], "absent")  # an explicit absence row counts as absent
    out = _run("orglife.absence_without_leave", comm, "2026-07-31", key="member")
    st = {k: out[m.id].status for k, m in members.items()}
    assert st == {"six": "fail", "five": "warn", "three": "warn", "two": "pass", "leave": "pass"}
    assert out[members["six"].id].evidence["longest_run"] == 6
    assert out[members["six"].id].evidence["meeting_ids"] == sorted(m.id for m in ms[1:7])
    assert out[members["five"].id].evidence["longest_run"] == 5


def test_months_without_meetings_do_not_break_a_run(comm):
    br = f.make_org(comm, "branch")
    ms = _monthly(br, "assembly", 2026, (1, 3, 5, 7, 9, 11))
    _monthly(br, "assembly", 2025, (12,))
    absentee = f.make_member(br)
    broken = f.make_member(br)
    _attend(Meeting.select().where(Meeting.date < f.D("2026-01-01")), absentee)
    _attend(Meeting.select().where(Meeting.date < f.D("2026-01-01")), broken)
    _attend(ms[2:3], broken)  # May present: 2 + 3
    out = _run("orglife.absence_without_leave", comm, "2026-12-31", key="member")
    assert out[absentee.id].status == "fail" and out[absentee.id].evidence["longest_run"] == 6
    assert out[absentee.id].evidence["months_with_meetings"] == 6
    assert out[broken.id].status == "warn" and out[broken.id].evidence["longest_run"] == 3


def test_run_crosses_year_boundary_and_group_meetings(comm):
    br = f.make_org(comm, "branch")
    grp = f.make_org(comm, "group", parent=br)
    a25 = _monthly(br, "assembly", 2025, range(1, 13))
    a26 = _monthly(br, "assembly", 2026, range(1, 4))
    g26 = _monthly(grp, "group_meeting", 2026, range(1, 4), day=20)
    crossing = f.make_member(br)
    _attend(a25[:9], crossing)  # absent Oct–Dec 2025 and Jan–Mar 2026: 6
    in_group = f.make_member(grp)
    _attend(a25, in_group)
    _attend(g26, in_group)  # present at the group meeting: those months are attended
    other_group_absent = f.make_member(grp)
    _attend(a25, other_group_absent)
    out = _run("orglife.absence_without_leave", comm, "2026-03-31", key="member")
    assert out[crossing.id].status == "fail"
    assert out[crossing.id].evidence["run_months"][0] == "2025-10"
    assert out[crossing.id].evidence["meeting_ids"] == sorted(m.id for m in a25[9:] + a26)
    assert out[in_group.id].status == "pass"
    assert out[other_group_absent.id].status == "warn" and out[other_group_absent.id].evidence["longest_run"] == 3
    del a26


def test_absence_subject_set(comm):
    br = f.make_org(comm, "branch")
    _monthly(br, "assembly", 2026, range(1, 8))
    resident = f.make_member(br)
    impaired = f.make_member(br, mobility_impaired=True)
    placed_in = f.make_member(br, management_class="floating_in", registered_date=f.D("2025-01-01"),
                              placed_date=f.D("2025-01-20"))
    unplaced_in = f.make_member(None, comm, management_class="floating_in", registered_date=f.D("2026-06-01"))
    inservice = f.make_member(None, comm, management_class="in_service")
    floating_out = f.make_member(br, management_class="floating_out")
    placed_no_date = f.make_member(br, management_class="floating_in", registered_date=f.D("2025-01-01"))
    placed_later = f.make_member(br, management_class="floating_in", registered_date=f.D("2026-07-01"),
                                 placed_date=f.D("2026-08-05"))
    out = _run("orglife.absence_without_leave", comm, "2026-07-31", key="member")
    assert out[resident.id].status == "fail"
    assert out[placed_in.id].status == "warn"  # floating-in: warn at most
    assert out[placed_no_date.id].status == "warn"  # has an organization: placed, date not recorded
    assert set(out) == {resident.id, placed_in.id, placed_no_date.id}
    del placed_later
    del impaired, unplaced_in, inservice, floating_out


def test_absence_in_batches_of_communities(dangjian_db, monkeypatch):
    monkeypatch.setattr(ro, "ABSENCE_CHUNK", 1)
    a, b = f.make_community("KS001"), f.make_community("KS002")
    out_members = {}
    for c, n_absent in ((a, 6), (b, 3)):
        br = f.make_org(c, "branch")
        ms = _monthly(br, "assembly", 2026, range(1, 8))
        mem = f.make_member(br, joined_date="2026-01-01", full_date=None)
        _attend(ms[:7 - n_absent], mem)
        out_members[c.code] = mem
    rule = next(r for r in ro.RULES if r.id == "orglife.absence_without_leave")
    refs = [CommunityRef(c.id, c.code, c.name, c.town.name, c.town_id) for c in (a, b)]
    ctx = Context(rule=rule, year=2026, as_of=f.D("2026-07-31"), communities=refs)
    out = {x.evidence["member_id"]: x for x in rule.evaluate(ctx)}
    assert out[out_members["KS001"].id].status == "fail" and out[out_members["KS001"].id].community == "KS001"
    assert out[out_members["KS002"].id].status == "warn" and out[out_members["KS002"].id].community == "KS002"
