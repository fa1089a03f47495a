"""Imports and other scopes: no membership oracle, no writes into another scope, and every
refused import audited."""
from __future__ import annotations

import re

import pytest

from core import models as m
from core.importing import import_file
from tests import factories as f


@pytest.fixture
def two_towns(dangjian_db):
    """玉山镇 (C1, branch O1) and 周市镇 (C2, branch O2); the test account is a 玉山镇 town user."""
    c1 = f.make_community("C1", town="玉山镇")
    c2 = f.make_community("C2", town="周市镇")
    o1 = f.make_org(c1, code="O1")
    o2 = f.make_org(c2, code="O2")
    mine = f.make_member(o1, name="本镇党员", birth="1980-02-02")
    theirs = f.make_member(o2, name="外镇党员", birth="1981-03-03")
    theirs_unplaced = f.make_member(None, c2, management_class="floating_in", name="外镇流入", birth="1982-04-04")
    f.make_meeting(o1, "assembly", "2026-03-01", code="MT1")
    f.record_me(full_personal_data=True, role="town", scope="玉山镇")
    return {"o1": o1, "o2": o2, "mine": mine, "theirs": theirs, "unplaced": theirs_unplaced}


def _snapshot():
    return {t._meta.table_name: sorted(tuple(r.values()) for r in t.select().dicts())
            for t in (m.Member, m.Attendance, m.Transfer, m.Worker, m.Visit)}


def _refusals():
    return list(m.AuditLog.select().where(m.AuditLog.action == "refuse").dicts())


def _messages(tmp_path, kind, text, name="in.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    res, _ = import_file(kind, p, progress=False)
    return res, [(it.rowno, field, msg) for it in res.rejected for field, msg in it.errors]


def test_a_member_of_another_town_answers_exactly_like_an_unknown_one(two_towns, tmp_path):
    unknown = f.new_id("1979-09-09")
    theirs = two_towns["theirs"].id_number
    unplaced = two_towns["unplaced"].id_number
    before = _snapshot()
    res, errs = _messages(tmp_path, "attendance",
                          f"会议编号,公民身份号码,出勤,请假事由\nMT1,{unknown},出席,\nMT1,{theirs},出席,\nMT1,{unplaced},出席,\n")
    assert not res.written and _snapshot() == before
    assert [(row, field) for row, field, _ in errs] == [(2, "member"), (3, "member"), (4, "member")]
    shapes = {re.sub(r"[0-9X*]{18}", "<ID>", msg) for _, _, msg in errs}
    assert len(shapes) == 1 and "未知" in shapes.pop()


def test_an_id_number_on_record_elsewhere_gets_the_one_fixed_message_and_is_audited(two_towns, tmp_path):
    theirs = two_towns["theirs"]
    head = ("公民身份号码,姓名,入党日期,转正日期,党员状态,所在党组织编码,党员类别,离退休,行动不便,报到日期,编入日期,"
            "流动党员活动证号,联系人\n")
    row = f"{theirs.id_number},冒名,2000-01-01,2001-01-01,正式党员,O1,社区党员,否,否,,,,\n"
    before = _snapshot()
    res, errs = _messages(tmp_path, "members", head + row, name="members.csv")
    assert errs == [(2, "id_number", "身份号码已在本市登记，须经组织关系转接")]
    assert _snapshot() == before
    assert m.Member.get_by_id(theirs.id).name == "外镇党员"
    (refusal,) = _refusals()
    assert refusal["table"] == "members" and refusal["key"].endswith("members.csv")
    assert '"rows": [2]' in refusal["new"] and refusal["user"]
    assert theirs.id_number not in (refusal["new"] or "")  # the audit names rows, not their content


def test_a_town_user_cannot_move_a_member_into_another_town(two_towns, tmp_path):
    mine = two_towns["mine"]
    head = "公民身份号码,转接类型,原组织,新组织,日期,介绍信编号\n"
    before = _snapshot()
    res, errs = _messages(tmp_path, "transfers", head + f"{mine.id_number},市内转移,O1,O2,2026-05-01,\n")
    assert not res.written and _snapshot() == before
    ((row, field, msg),) = errs
    assert (row, field) == (2, "to_org") and "市内转移须由" in msg
    # an org code that does not exist at all gets the same words and the same hint
    _, errs2 = _messages(tmp_path, "transfers", head + f"{mine.id_number},市内转移,O1,NOPE,2026-05-01,\n")
    assert errs2[0][2].replace("NOPE", "O2") == msg
    # a transfer in to the other town's branch, and one out of it, are refused too
    _, errs3 = _messages(tmp_path, "transfers",
                         head + f"{mine.id_number},转入,上海某支部,O2,2026-06-01,\n"
                         + f"{two_towns['theirs'].id_number},转出,O2,上海某支部,2026-06-02,\n")
    assert {(r, fld) for r, fld, _ in errs3} >= {(2, "to_org"), (3, "member")}
    assert m.Member.get_by_id(mine.id).organization_id == two_towns["o1"].id
    assert len(_refusals()) == 3


def test_a_move_inside_the_scope_still_works(two_towns, tmp_path):
    mine = two_towns["mine"]
    o1b = f.make_org(two_towns["o1"].community, code="O1B")
    res, errs = _messages(tmp_path, "transfers", "公民身份号码,转接类型,原组织,新组织,日期,介绍信编号\n"
                          f"{mine.id_number},市内转移,O1,O1B,2026-05-01,\n")
    assert errs == [] and res.written
    assert m.Member.get_by_id(mine.id).organization_id == o1b.id
    assert _refusals() == []
