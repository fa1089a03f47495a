"""The roster through time: where a member was on a date decides which meetings, months and
counts are theirs (moves in the middle of the year, on the 1st and on the last day of a month)."""
import datetime as dt

from core import models as m
from core import roster, roster_replay
from core.rules import run_check
from tests import factories as f

D = dt.date


def _findings(rule, year, as_of):
    return {x.evidence.get("member_id") or x.subject: x
            for x in run_check(year=year, as_of=as_of, rule_ids=[rule], store=False).findings
            if x.rule == rule}


def _by_subject(rule, year, as_of):
    return {x.subject: x for x in run_check(year=year, as_of=as_of, rule_ids=[rule], store=False).findings
            if x.rule == rule}


def _move(member, direction, date, frm=None, to=None):
    """Record a move the way the write path leaves it: today's state on the member, the dated transfer."""
    if direction == "out":
        member.active, member.left_date = False, date
    elif to is not None:
        member.organization = to
        member.community = to.community
    member.save()
    m.Transfer.create(member=member, direction=direction, date=date,
                      from_org=frm.code if hasattr(frm, "code") else frm,
                      to_org=to.code if hasattr(to, "code") else to)


def _monthly(org, typ, year, months, day=15):
    return {mo: f.make_meeting(org, typ, D(year, mo, min(day, 28) if day != 31 else _last(year, mo)))
            for mo in months}


def _last(year, month):
    return (D(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day


# ---------------------------------------------------------------- the replay itself

def test_replay_undoes_each_move_newest_first():
    by_code, comm = {"A": 1, "B": 2}, {1: 10, 2: 20}
    # joined 2000; 市内转移 A → B on 2026-07-01; 社区党员 → 流出党员 on 2026-09-01
    spans = roster_replay.replay(D(2000, 1, 1), None, 2, 20, "floating_out", True, None,
                                 [(D(2026, 7, 1), "intra_city", "A", "B"), (D(2026, 9, 1), "class", "resident", None)],
                                 by_code, comm)
    assert spans == [(D(2000, 1, 1), D(2026, 6, 30), 1, 10, "resident"),
                     (D(2026, 7, 1), D(2026, 8, 31), 2, 20, "resident"),
                     (D(2026, 9, 1), None, 2, 20, "floating_out")]
    # 转入 on 2026-05-01: not on the roster before; 转出 on 2026-10-01: off from that day
    spans = roster_replay.replay(D(2000, 1, 1), None, 1, 10, "resident", False, D(2026, 10, 1),
                                 [(D(2026, 5, 1), "in", "外市", "A"), (D(2026, 10, 1), "out", "A", "外市")],
                                 by_code, comm)
    assert spans == [(D(2026, 5, 1), D(2026, 9, 30), 1, 10, "resident")]
    # a 流入党员 placed (编入) on 2026-03-15: no organization before, same community
    spans = roster_replay.replay(D(2000, 1, 1), D(2026, 3, 15), 1, 10, "floating_in", True, None, [], by_code, comm)
    assert spans == [(D(2000, 1, 1), D(2026, 3, 14), None, 10, "floating_in"),
                     (D(2026, 3, 15), None, 1, 10, "floating_in")]


def test_roster_at_a_date_follows_the_moves(dangjian_db):
    c1, c2 = f.make_community("C001"), f.make_community("C002")
    a, b = f.make_org(c1, "branch"), f.make_org(c2, "branch")
    x = f.make_member(a, c1, joined_date="2000-01-01")
    _move(x, "intra_city", D(2026, 7, 1), a, b)
    assert set(roster.member_ids_at([c1.id], D(2026, 6, 30)).tuples()) == {(x.id,)}
    assert set(roster.member_ids_at([c1.id], D(2026, 7, 1)).tuples()) == set()
    assert set(roster.member_ids_at([c2.id], D(2026, 7, 1)).tuples()) == {(x.id,)}
    assert roster.org_member_counts([a.id, b.id], D(2026, 6, 30)) == {a.id: 1}
    assert roster.org_member_counts([a.id, b.id], D(2026, 7, 1)) == {b.id: 1}


# ---------------------------------------------------------------- org life: whose meetings

def _branches(n_members=0):
    c = f.make_community("C001")
    a, b = f.make_org(c, "branch"), f.make_org(c, "branch")
    return c, a, b


def test_a_move_on_1_july_keeps_the_members_meetings(dangjian_db):
    """Attended every meeting of the branch he belonged to at the time: not absent."""
    c, a, b = _branches()
    x = f.make_member(a, c, joined_date="2000-01-01")
    ma = _monthly(a, "assembly", 2026, range(1, 12))
    mb = _monthly(b, "assembly", 2026, range(1, 12))
    for mo in range(1, 7):
        f.make_attendance(ma[mo], x)
    for mo in range(7, 12):
        f.make_attendance(mb[mo], x)
    _move(x, "intra_city", D(2026, 7, 1), a, b)
    out = _findings("orglife.absence_without_leave", 2026, D(2026, 11, 30))
    assert out[x.id].status == "pass", out[x.id].message
    assert out[x.id].evidence["months_with_meetings"] == 11


def test_after_a_move_only_the_new_branchs_meetings_count(dangjian_db):
    """Absent from the new branch from July: the run is July–November (5: warn), its evidence
    the new branch's meetings only; to 31 December it is 6 (fail)."""
    c, a, b = _branches()
    x = f.make_member(a, c, joined_date="2000-01-01")
    ma = _monthly(a, "assembly", 2026, range(1, 13))
    mb = _monthly(b, "assembly", 2026, range(1, 13))
    for mo in range(1, 7):
        f.make_attendance(ma[mo], x)
    _move(x, "intra_city", D(2026, 7, 1), a, b)
    nov = _findings("orglife.absence_without_leave", 2026, D(2026, 11, 30))[x.id]
    assert nov.status == "warn"
    assert nov.evidence["run_months"] == ["2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
    assert set(nov.evidence["meeting_ids"]) == {mb[mo].id for mo in range(7, 12)}
    dec = _findings("orglife.absence_without_leave", 2026, D(2026, 12, 31))[x.id]
    assert dec.status == "fail" and dec.evidence["longest_run"] == 6


def test_a_meeting_on_the_move_date_belongs_to_the_new_branch(dangjian_db):
    """Moved on the last day of June: the new branch's meeting that day is his (absent in June);
    moved on 1 July: it is not (June has no meeting held for him)."""
    c, a, b = _branches()
    late, early = (f.make_member(a, c, joined_date="2000-01-01") for _ in range(2))
    june30 = f.make_meeting(b, "assembly", D(2026, 6, 30))
    mb = _monthly(b, "assembly", 2026, range(7, 12))
    for mo in range(7, 12):
        f.make_attendance(mb[mo], late)
        f.make_attendance(mb[mo], early)
    _move(late, "intra_city", D(2026, 6, 30), a, b)
    _move(early, "intra_city", D(2026, 7, 1), a, b)
    out = _findings("orglife.absence_without_leave", 2026, D(2026, 11, 30))
    assert out[late.id].evidence["absent_months"] == ["2026-06"]
    assert out[late.id].evidence["months_with_meetings"] == 6
    assert out[early.id].evidence["absent_months"] == []
    assert out[early.id].evidence["months_with_meetings"] == 5
    assert june30.id  # the meeting exists for both; only the move date decides


def test_transferred_in_on_1_may_owes_nothing_before(dangjian_db):
    c, a, _b = _branches()
    x = f.make_member(None, c, joined_date="2000-01-01")
    ma = _monthly(a, "assembly", 2026, range(1, 12))
    for mo in range(5, 12):
        f.make_attendance(ma[mo], x)
    _move(x, "in", D(2026, 5, 1), "外市某党支部", a)
    out = _findings("orglife.absence_without_leave", 2026, D(2026, 11, 30))
    assert out[x.id].status == "pass"
    assert out[x.id].evidence["months_with_meetings"] == 7
    # the other side: one not attended from May on is absent from May only
    y = f.make_member(None, c, joined_date="2000-01-01")
    _move(y, "in", D(2026, 5, 1), "外市某党支部", a)
    out = _findings("orglife.absence_without_leave", 2026, D(2026, 11, 30))
    assert out[y.id].evidence["run_months"][0] == "2026-05" and out[y.id].status == "fail"


# ---------------------------------------------------------------- 支委会 month by month

def test_a_branch_that_grows_to_seven_in_may_owes_the_committee_from_may(dangjian_db):
    c, a, other = _branches()
    base = [f.make_member(a, c, joined_date="2000-01-01") for _ in range(6)]
    x = f.make_member(other, c, joined_date="2000-01-01")
    _move(x, "intra_city", D(2026, 5, 31), other, a)  # on the last day of May: 7 on 31 May
    _move(base[0], "out", D(2026, 10, 1), a, "外市")  # back to 6 in October
    out = _by_subject("orglife.three_meetings_one_lesson", 2026, D(2026, 11, 30))[a.code]
    assert out.evidence["committee_meeting_months"] == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09"]
    assert out.evidence["committee_meeting_missed"] == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09"]
    # moved on 1 June instead: May is not owed
    m.Transfer.delete().where(m.Transfer.member == x.id, m.Transfer.direction == "intra_city").execute()
    _move(x, "intra_city", D(2026, 6, 1), other, a)
    out = _by_subject("orglife.three_meetings_one_lesson", 2026, D(2026, 11, 30))[a.code]
    assert out.evidence["committee_meeting_months"][0] == "2026-06"


# ---------------------------------------------------------------- dues over the periods in class

def test_a_member_who_became_resident_in_july_owes_dues_from_july(dangjian_db):
    c, a, _b = _branches()
    x = f.make_member(a, c, joined_date="2000-01-01", management_class="resident")
    m.ClassChange.create(member=x, new_class="resident", old_class="in_service", date=D(2026, 7, 1))
    for mo in range(7, 12):
        f.make_dues(x, f"2026-{mo:02d}", 10, 10, f"2026-{mo:02d}-05")
    out = _findings("dues.on_time", 2026, D(2026, 11, 30))
    assert out[x.id].status == "pass"
    assert out[x.id].evidence["months_required"] == 5 and out[x.id].evidence["from"] == "2026-07"
    # the other side: July unpaid is arrears
    y = f.make_member(a, c, joined_date="2000-01-01", management_class="resident")
    m.ClassChange.create(member=y, new_class="resident", old_class="in_service", date=D(2026, 7, 1))
    for mo in range(8, 12):
        f.make_dues(y, f"2026-{mo:02d}", 10, 10, f"2026-{mo:02d}-05")
    out = _findings("dues.on_time", 2026, D(2026, 11, 30))
    assert out[y.id].status == "warn" and out[y.id].evidence["unpaid_months"] == ["2026-07"]


def test_floating_out_in_july_still_owes_dues_but_leaves_org_life(dangjian_db):
    """社区党员 → 流出党员 keeps the relationship (dues all year); org life is owed while 社区党员."""
    c, a, _b = _branches()
    x = f.make_member(a, c, joined_date="2000-01-01", management_class="floating_out")
    m.ClassChange.create(member=x, new_class="floating_out", old_class="resident", date=D(2026, 7, 1))
    dues = _findings("dues.on_time", 2026, D(2026, 11, 30))
    assert dues[x.id].evidence["months_required"] == 11
    assert x.id not in _findings("orglife.absence_without_leave", 2026, D(2026, 11, 30))


# ---------------------------------------------------------------- a past year after a move

def test_a_past_years_check_gives_the_answer_of_that_day(dangjian_db):
    c1, c2 = f.make_community("C001"), f.make_community("C002")
    a, b = f.make_org(c1, "branch"), f.make_org(c2, "branch")
    x = f.make_member(a, c1, joined_date="2000-01-01")
    _move(x, "intra_city", D(2026, 3, 1), a, b)
    y2025 = _findings("dues.on_time", 2025, D(2025, 12, 31))
    assert y2025[x.id].community == c1.code
    y2026 = _findings("dues.on_time", 2026, D(2026, 11, 30))
    assert y2026[x.id].community == c2.code
    fund = _by_subject("funding.floor", 2025, D(2025, 12, 31))
    assert fund[c1.code].evidence.get("members") == 1 and fund[c2.code].evidence.get("members") == 0
