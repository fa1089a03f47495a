"""Imports keep the roster's history: class changes (dated, chained), members rows that would
rewrite a member's organization or class refused (``--correct`` for an administrator), the
placement of a floating-in member, certificates linked by number, meetings that must fit their
organization's kind, and every error of a row reported at once."""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json

import pytest

from core import db, stored_text
from core import models as m
from core.cli import main
from core.errors import UserError
from core.importing import export_rows, import_file
from tests import factories as f

TODAY = "2024-06-30"
HEAD = "姓名,公民身份号码,入党日期,党员状态,所在党组织编码,党员类别,离退休,行动不便,报到日期,编入日期,流动党员活动证号,联系人\n"
CC_HEAD = "公民身份号码,新类别,日期,说明\n"
D = dt.date.fromisoformat


@pytest.fixture(params=["0", "1"], ids=["in-process", "worker"])
def town(dangjian_db, monkeypatch, tmp_path, request):
    """玉山镇: C1 with branches O1, O2 and the group G1; C2 (周市镇) with O3.  A resident member ``a``
    in O1 and an unplaced floating-in member ``u`` of C1.  The test account is an administrator.
    Every test twice: planned in-process and by the forked import worker."""
    monkeypatch.setenv("DANGJIAN_IMPORT_WORKER", request.param)
    monkeypatch.setenv("DANGJIAN_TODAY", TODAY)
    monkeypatch.chdir(tmp_path)
    c1 = f.make_community("C1", town="玉山镇")
    c2 = f.make_community("C2", town="周市镇")
    o1 = f.make_org(c1, "branch", code="O1")
    o2 = f.make_org(c1, "branch", code="O2")
    g1 = f.make_org(c1, "group", parent=o1, code="G1")
    o3 = f.make_org(c2, "branch", code="O3")
    a = f.make_member(o1, name="张伟", birth="1980-05-01", joined_date="2000-07-01", full_date="2001-07-01")
    u = f.make_member(None, c1, management_class="floating_in", name="单田芳", birth="1955-08-08",
                      joined_date="1980-01-01", full_date="1981-01-01", registered_date=D("2024-03-01"))
    from core import roster_replay

    with db.write_tx():
        roster_replay.rebuild(db.database, [a.id, u.id])
    f.record_me(full_personal_data=True)
    return dict(c1=c1, c2=c2, o1=o1, o2=o2, g1=g1, o3=o3, a=a, u=u, folder=tmp_path)


def _import(town, kind, text, name=None, **kw):
    p = town["folder"] / (name or f"{kind}.csv")
    p.write_text(text, encoding="utf-8")
    res, _ = import_file(kind, p, progress=False, **kw)
    return res, [(it.rowno, field, msg) for it in sorted(res.rejected, key=lambda i: i.rowno)
                 for field, msg in it.errors]


def _cli(town, capsys, *argv):
    capsys.readouterr()
    rc = main([str(x) for x in argv])
    db.connect(str(db.current_url()), migrate=False)
    return rc, capsys.readouterr().err


def _member_row(member, org="O1", cls="社区党员", placed="", cert="", contact="", name=None, joined="2000-07-01"):
    return (f"{name or member.name},{member.id_number},{joined},正式党员,{org},{cls},否,否,,{placed},{cert},"
            f"{contact}\n")


def _spans(member) -> list[tuple]:
    P = m.RosterPeriod
    codes = dict(m.Organization.select(m.Organization.id, m.Organization.code).tuples())
    return [(str(s), str(e) if e else None, codes.get(o), k)
            for s, e, o, k in P.select(P.start, P.end, P.organization, P.management_class)
            .where(P.member == member.id).order_by(P.start).tuples()]


def _snapshot():
    out = {}
    for t in (m.Member, m.ClassChange, m.RosterPeriod, m.Transfer, m.FloatingCertificate, m.Meeting):
        out[t.__name__] = sorted(tuple(str(v) for v in r) for r in t.select().tuples())
    out["audit"] = m.AuditLog.select().where(m.AuditLog.action != "refuse").count()
    return out


def _member(member):
    return m.Member.get_by_id(member.id)


# ---------------------------------------------------------------- class_changes

def test_class_changes_chain_set_the_members_class_and_rebuild_the_roster(town):
    a = town["a"]
    text = CC_HEAD + f"{a.id_number},流出党员,2023-03-01,外出务工\n{a.id_number},在职党员,2024-01-10,\n"
    res, errs = _import(town, "class_changes", text)
    assert errs == [] and res.written and res.inserted == 2
    changes = list(m.ClassChange.select().where(m.ClassChange.member == a.id).order_by(m.ClassChange.date))
    assert [(str(c.date), c.old_class, c.new_class, c.note) for c in changes] == [
        ("2023-03-01", "resident", "floating_out", "外出务工"), ("2024-01-10", "floating_out", "in_service", None)]
    assert _member(a).management_class == "in_service"  # the latest change's class
    upd = (m.AuditLog.select().where(m.AuditLog.table == "member", m.AuditLog.key == str(a.id),
                                     m.AuditLog.action == "update").get())
    assert json.loads(upd.old) == {"management_class": "resident"}
    assert json.loads(upd.new) == {"management_class": "in_service"}
    assert _spans(a) == [("2000-07-01", "2023-02-28", "O1", "resident"),
                         ("2023-03-01", "2024-01-09", "O1", "floating_out"),
                         ("2024-01-10", None, "O1", "in_service")]

    before = _snapshot()
    res, errs = _import(town, "class_changes", text)  # the same file again changes nothing
    assert errs == [] and (res.inserted, res.updated, res.unchanged) == (0, 0, 2)
    assert _snapshot() == before

    # an earlier change: the class before it is the earliest stored change's old class, and the
    # stored change after it now follows from it (its old class is corrected, audited)
    res, errs = _import(town, "class_changes", CC_HEAD + f"{a.id_number},在职党员,2022-01-01,\n", name="early.csv")
    assert errs == [] and res.inserted == 1
    changes = list(m.ClassChange.select().where(m.ClassChange.member == a.id).order_by(m.ClassChange.date))
    assert [(str(c.date), c.old_class, c.new_class) for c in changes] == [
        ("2022-01-01", "resident", "in_service"), ("2023-03-01", "in_service", "floating_out"),
        ("2024-01-10", "floating_out", "in_service")]
    assert _member(a).management_class == "in_service"
    fixed = (m.AuditLog.select().where(m.AuditLog.table == "class_change", m.AuditLog.key == str(changes[1].id),
                                       m.AuditLog.action == "update").get())
    assert json.loads(fixed.new) == {"old_class": "in_service"}
    assert _spans(a)[:2] == [("2000-07-01", "2021-12-31", "O1", "resident"),
                             ("2022-01-01", "2023-02-28", "O1", "in_service")]


def test_the_class_before_the_first_change_is_the_members_class_before_the_import(town):
    u = town["u"]
    res, errs = _import(town, "class_changes", CC_HEAD + f"{u.id_number},社区党员,2024-04-01,\n")
    assert errs == [] and res.written
    (c,) = m.ClassChange.select().where(m.ClassChange.member == u.id)
    assert (c.old_class, c.new_class) == ("floating_in", "resident")
    assert _member(u).management_class == "resident"


def test_a_bad_class_change_row_writes_nothing_and_says_where(town, capsys):
    a = town["a"]
    before = _snapshot()
    text = CC_HEAD + f"{a.id_number},流出党员,2023-03-01,\n{f.new_id()},流出党员,2023-03-01,\n{a.id_number},外籍党员,2025-01-01,\n"
    p = town["folder"] / "cc.csv"
    p.write_text(text, encoding="utf-8")
    rc, err = _cli(town, capsys, "import", "class_changes", p)
    assert rc == 2
    assert f"{p} row 3, 公民身份号码: 未知的党员身份号码" in err
    line4 = [x for x in err.splitlines() if "row 4," in x]
    assert any("新类别: " in x and "社区党员/在职党员/流入党员/流出党员" in x for x in line4), err
    assert any("日期: " in x for x in line4), err  # every bad cell of the row, not only the first
    assert f"{p} row 2" not in err
    assert _snapshot() == before


def test_class_changes_export_reimports_unchanged(town):
    a, u = town["a"], town["u"]
    _import(town, "class_changes", CC_HEAD + f"{a.id_number},流出党员,2023-03-01,多行\n说明\n"
            f"{u.id_number},社区党员,2024-04-01,\n".replace("多行\n说明", '"多行\n说明"'))
    headers, rows, masked = export_rows("class_changes")
    assert headers == ["公民身份号码", "新类别", "日期", "说明"] and not masked
    assert rows == [[a.id_number, "流出党员", "2023-03-01", "多行\n说明"], [u.id_number, "社区党员", "2024-04-01", None]]
    before = _snapshot()
    assert main(["export", "class_changes", "out.csv"]) == 0
    db.connect(str(db.current_url()), migrate=False)
    res, _ = import_file("class_changes", town["folder"] / "out.csv", progress=False)
    assert (res.inserted, res.updated, res.unchanged, len(res.rejected)) == (0, 0, 2, 0)
    assert _snapshot() == before


# ---------------------------------------------------------------- members: what a row may not change

def test_a_members_row_may_not_move_a_member(town):
    a = town["a"]
    before = _snapshot()
    res, errs = _import(town, "members", HEAD + _member_row(a, org="O2"))
    assert not res.written and _snapshot() == before
    ((row, field, msg),) = errs
    assert (row, field) == (2, "organization") and "transfers" in msg and "O1 → O2" in msg
    # the other side: the same organization and class, another field changed, is an update
    res, errs = _import(town, "members", HEAD + _member_row(a, contact="李四"))
    assert errs == [] and res.updated == 1 and _member(a).contact_person == "李四"


def test_a_members_row_may_not_change_a_members_class(town):
    a = town["a"]
    before = _snapshot()
    res, errs = _import(town, "members", HEAD + _member_row(a, cls="流出党员", cert="LD-1", contact="王五"))
    assert not res.written and _snapshot() == before
    ((row, field, msg),) = errs
    assert (row, field) == (2, "management_class") and "class_changes" in msg and "社区党员 → 流出党员" in msg


def test_reimporting_last_months_file_after_a_move_back_is_refused(town, capsys):
    """Last month's file says O2; a 市内转移 has since moved the member back to O1.  Re-importing the
    old file without a transfer row would rewrite the history: refused, nothing changes."""
    b = f.make_member(town["o2"], name="李娜", birth="1990-02-03", joined_date="2015-01-01", full_date="2016-01-01")
    month = HEAD + _member_row(b, org="O2", joined="2015-01-01")
    res, errs = _import(town, "members", month, name="may.csv")
    assert errs == [] and res.written
    res, errs = _import(town, "transfers", "公民身份号码,转接类型,原组织,新组织,日期,介绍信编号\n"
                        f"{b.id_number},市内转移,O2,O1,2024-06-01,JX-9\n")
    assert errs == [] and res.written
    assert _member(b).organization_id == town["o1"].id
    spans = [("2015-01-01", "2024-05-31", "O2", "resident"), ("2024-06-01", None, "O1", "resident")]
    assert _spans(b) == spans  # the transfer rebuilt the member's spans
    before = _snapshot()
    p = town["folder"] / "may.csv"
    rc, err = _cli(town, capsys, "import", "members", p)
    assert rc == 2 and f"{p} row 2, 所在党组织编码: " in err and "transfers" in err
    assert _snapshot() == before and _member(b).organization_id == town["o1"].id and _spans(b) == spans


def test_correct_applies_an_administrators_corrections_audited(town):
    a = town["a"]
    res, errs = _import(town, "members", HEAD + _member_row(a, org="O2", cls="在职党员"), correct=True)
    assert errs == [] and res.updated == 1
    a2 = _member(a)
    assert (a2.organization_id, a2.management_class) == (town["o2"].id, "in_service")
    assert not m.Transfer.select().exists() and not m.ClassChange.select().exists()  # no history: a correction
    (entry,) = m.AuditLog.select().where(m.AuditLog.table == "member", m.AuditLog.action == "update")
    new = json.loads(entry.new)
    assert new["correction"] is True and new["management_class"] == "in_service"
    assert _spans(a) == [("2000-07-01", None, "O2", "in_service")]  # the whole span follows the correction


def test_correct_through_the_command_handler(town, capsys):
    from core.cli.importing import cmd_import

    a = town["a"]
    p = town["folder"] / "fix.csv"
    p.write_text(HEAD + _member_row(a, org="O2"), encoding="utf-8")
    args = argparse.Namespace(kind="members", file=str(p), partial=False, rejects=None, encoding=None, correct=True)
    assert cmd_import(args) == 0
    assert _member(a).organization_id == town["o2"].id


def test_correct_is_for_an_administrator_only(town):
    a = town["a"]
    f.record_me(full_personal_data=True, role="town", scope="玉山镇")
    before = _snapshot()
    with pytest.raises(UserError, match="管理员"):
        _import(town, "members", HEAD + _member_row(a, org="O2"), correct=True)
    assert _snapshot() == before and _member(a).organization_id == town["o1"].id
    # and for members only
    f.record_me(full_personal_data=True)
    with pytest.raises(UserError, match="members"):
        _import(town, "evaluations", f"公民身份号码,年度,评议结果\n{a.id_number},2023,优秀\n", correct=True)


def test_placing_an_unplaced_floating_in_member_is_allowed(town):
    u = town["u"]
    row = f"{u.name},{u.id_number},1980-01-01,正式党员,O1,流入党员,否,否,2024-03-01,2024-05-01,,\n"
    res, errs = _import(town, "members", HEAD + row)
    assert errs == [] and res.updated == 1
    u2 = _member(u)
    assert (u2.organization_id, str(u2.placed_date)) == (town["o1"].id, "2024-05-01")
    assert _spans(u) == [("1980-01-01", "2024-04-30", None, "floating_in"), ("2024-05-01", None, "O1", "floating_in")]


def test_a_floating_in_member_in_an_organization_needs_the_placed_date(town):
    new = f.new_id("1970-01-01")
    before = _snapshot()
    res, errs = _import(town, "members", HEAD + f"钱七,{new},2000-01-01,正式党员,O1,流入党员,否,否,2024-03-01,,,\n")
    assert not res.written and _snapshot() == before
    assert [(r, fld) for r, fld, _ in errs] == [(2, "placed_date")] and "编入日期" in errs[0][2]
    # the other side: with the placed date it is made
    res, errs = _import(town, "members", HEAD + f"钱七,{new},2000-01-01,正式党员,O1,流入党员,否,否,2024-03-01,2024-04-01,,\n")
    assert errs == [] and res.inserted == 1
    u = m.Member.get(m.Member.id_number == new)
    assert _spans(u) == [("2000-01-01", "2024-03-31", None, "floating_in"), ("2024-04-01", None, "O1", "floating_in")]


def test_a_certificate_number_links_the_members_certificate(town, monkeypatch, request):
    from core.importing import engine

    forked = []
    real = engine._run_forked
    monkeypatch.setattr(engine, "_run_forked", lambda *a, **k: forked.append(1) or real(*a, **k))
    new = f.new_id("1975-03-09", "F")
    row = f"赵敏,{new},1995-05-05,正式党员,O1,流出党员,否,否,,,LD-9,王五\n"
    res, errs = _import(town, "members", HEAD + row)
    assert errs == [] and res.inserted == 1
    member = m.Member.get(m.Member.id_number == new)
    (cert,) = m.FloatingCertificate.select()
    assert (cert.number, cert.member_id) == ("LD-9", member.id)
    assert m.AuditLog.select().where(m.AuditLog.table == "floating_certificate", m.AuditLog.action == "create",
                                     m.AuditLog.key == str(cert.id)).exists()
    _h, rows, _ = export_rows("members")
    assert [r[10] for r in rows if r[1] == new] == ["LD-9"]  # export shows the member's certificate
    assert member.id in {p.member_id for p in m.RosterPeriod.select()}  # the new member's spans
    before = _snapshot()
    res, errs = _import(town, "members", HEAD + row)  # again: linked already, nothing changes
    assert errs == [] and res.unchanged == 1 and _snapshot() == before
    assert bool(forked) == request.node.callspec.params["town"].endswith("1")  # the worker path was taken


def test_a_certificate_number_of_another_member_is_an_error(town):
    a = town["a"]
    other = f.make_member(town["o1"], management_class="floating_out", name="孙八", birth="1966-06-06")
    m.FloatingCertificate.create(number="LD-7", member=other)
    before = _snapshot()
    res, errs = _import(town, "members", HEAD + _member_row(a, cert="LD-7"))
    assert not res.written and _snapshot() == before
    assert [(r, fld) for r, fld, _ in errs] == [(2, "certificate_no")] and "另一名党员" in errs[0][2]
    # two rows of one file naming the same new number for two members
    n1, n2 = f.new_id("1971-01-01"), f.new_id("1972-01-01")
    res, errs = _import(town, "members", HEAD + f"甲,{n1},2000-01-01,正式党员,O1,流出党员,否,否,,,LD-8,王五\n"
                        f"乙,{n2},2000-01-01,正式党员,O1,流出党员,否,否,,,LD-8,王五\n", name="two.csv")
    assert [(r, fld) for r, fld, _ in errs] == [(3, "certificate_no")] and _snapshot() == before


# ---------------------------------------------------------------- meetings fit their organization

MT_HEAD = "会议编号,组织编码,会议类型,日期,主题\n"


def test_a_meeting_type_that_does_not_fit_the_organization_is_refused(town):
    before = _snapshot()
    bad = MT_HEAD + "M1,O1,党小组会,2024-01-10,\nM2,G1,党员大会,2024-01-11,\nM3,G1,征求意见座谈会,2024-01-12,\nM4,G1,党课,2024-01-13,\n"
    res, errs = _import(town, "meetings", bad)
    assert not res.written and _snapshot() == before
    assert [(r, fld) for r, fld, _ in errs] == [(2, "type"), (3, "type"), (4, "type"), (5, "type")]
    assert "只属于党小组" in errs[0][2] and "党支部" in errs[0][2]
    assert "党委、党总支或党支部" in errs[1][2] and "不属于党小组" in errs[2][2]
    good = MT_HEAD + "M1,G1,党小组会,2024-01-10,\nM2,O1,党员大会,2024-01-11,\nM3,O1,征求意见座谈会,2024-01-12,\nM4,O2,支委会,2024-01-13,\n"
    res, errs = _import(town, "meetings", good, name="good.csv")
    assert errs == [] and res.inserted == 4


def test_stored_meetings_that_do_not_fit_are_reported(town, capsys):
    f.make_meeting(town["g1"], "assembly", "2024-01-15", code="MT-OLD")
    f.make_meeting(town["o1"], "group_meeting", "2024-01-16", code="MT-OLD2")
    f.make_meeting(town["o1"], "assembly", "2024-01-17", code="MT-FINE")
    problems = [p for p in stored_text.scan() if p.what == "meeting_type"]
    assert len(problems) == 2
    where = "\n".join(stored_text.where_lines(problems))
    assert "社区 C1，会议 MT-OLD（组织 G1）" in where and "MT-OLD2" in where and "MT-FINE" not in where
    line = stored_text.counts_line(problems)
    assert "2 个会议的类型与其党组织的类别不符" in line and "MT-OLD" not in line
    assert stored_text.counts_line(stored_text.scan()) is not None
    rc, err = _cli(town, capsys, "init")
    assert rc == 0 and "MT-OLD（组织 G1）" in err
    assert m.Meeting.select().count() == 3  # kept


# ---------------------------------------------------------------- every error of a row

def test_every_bad_cell_of_a_row_is_reported(town, capsys):
    new = f.new_id("1980-01-01")
    a = town["a"]
    # row 2: a bad date, a class outside its set and an unknown org code; row 3: a floating-in member in an
    # organization without the placed date and an unknown community; row 4 fine
    text = (HEAD.rstrip("\n") + ",社区编码\n"
            f"钱七,{new},2000-13-01,正式党员,O9,外籍党员,否,否,,,,,\n"
            f"孙八,{f.new_id('1981-01-01')},2000-01-01,正式党员,O1,流入党员,否,否,,,,,C9\n"
            f"{a.name},{a.id_number},2000-07-01,正式党员,O1,社区党员,否,否,,,,,\n")
    p = town["folder"] / "bad.csv"
    p.write_text(text, encoding="utf-8")
    before = _snapshot()
    rc, err = _cli(town, capsys, "import", "members", p)
    assert rc == 2 and _snapshot() == before
    lines = [x for x in err.splitlines() if " row " in x]
    assert any(x.startswith(f"{p} row 2, 入党日期: ") for x in lines), err
    assert any(x.startswith(f"{p} row 2, 党员类别: ") for x in lines), err
    assert any(x.startswith(f"{p} row 2, 所在党组织编码: 未知的组织编码 O9") for x in lines), err
    assert any(x.startswith(f"{p} row 3, 编入日期: ") for x in lines), err
    assert any(x.startswith(f"{p} row 3, 社区编码: ") for x in lines), err
    assert not any(" row 4," in x for x in lines)
    # --partial: one rejects row per bad row, every reason joined
    rc, err = _cli(town, capsys, "import", "members", p, "--partial")
    assert rc == 1
    with open(f"{p}.rejects.csv", encoding="utf-8-sig") as fh:
        rej = list(csv.reader(fh))
    assert rej[0][-1] == "错误原因" and len(rej) == 3
    reasons = rej[1][-1]
    assert "入党日期" in reasons and "党员类别" in reasons and "所在党组织编码" in reasons
    assert "编入日期" in rej[2][-1] and "社区编码" in rej[2][-1]


def test_a_history_refusal_is_reported_with_the_other_errors_of_the_row(town):
    a = town["a"]
    row = f"{a.name},{a.id_number},2000-07-01,正式党员,O1,流出党员,否,否,,2099-01-01,,\n"
    res, errs = _import(town, "members", HEAD + row)
    assert {fld for _r, fld, _m in errs} == {"placed_date", "management_class"}


def test_a_certificates_import_makes_the_new_certificate_the_members_current_one(town):
    new = f.new_id("1975-03-09", "F")
    _import(town, "members", HEAD + f"赵敏,{new},1995-05-05,正式党员,O1,流出党员,否,否,,,LD-9,王五\n")
    member = m.Member.get(m.Member.id_number == new)
    head = "活动证号,公民身份号码,发证机关,发证日期,外出地点,有效期至,交回日期\n"
    res, errs = _import(town, "certificates", head + f"LD-9,{new},玉山镇党委,2023-01-01,上海,2024-01-01,2024-01-05\n"
                        f"LD-10,{new},玉山镇党委,2024-01-05,苏州,2026-01-01,\n")
    assert errs == [] and res.written
    assert _member(member).certificate_no == "LD-10"
    _h, rows, _ = export_rows("members")
    assert [r[10] for r in rows if r[1] == new] == ["LD-10"]
    # the other side: a returned certificate does not become the current one
    res, errs = _import(town, "certificates", head + f"LD-11,{new},玉山镇党委,2024-02-01,无锡,2024-03-01,2024-03-01\n",
                        name="c2.csv")
    assert errs == [] and _member(member).certificate_no == "LD-10"


# ---------------------------------------------------------------- new members' spans


def test_new_members_spans_are_what_a_replay_from_scratch_stores(town):
    """A members import stores each new member's roster spans (copied in SQL from the member's row
    when it is one open span, replayed when placed): exactly what rebuilding them gives."""
    from core import roster_replay

    ids = [f.new_id(birth=f"19{60 + i}-0{1 + i % 9}-1{i % 10}", sex="MF"[i % 2]) for i in range(6)]
    text = HEAD + "".join([
        f"甲一,{ids[0]},2001-07-01,正式党员,O1,社区党员,否,否,,,,\n",
        f"乙二,{ids[1]},2002-07-01,正式党员,G1,社区党员,否,否,,,,\n",  # a group: its community
        f"丙三,{ids[2]},2003-07-01,正式党员,O3,在职党员,否,否,,,,\n",  # another town's community
        f"丁四,{ids[3]},1990-07-01,正式党员,O2,流入党员,否,否,2024-02-01,2024-03-01,,\n",  # placed: replayed
        f"戊五,{ids[4]},2005-07-01,正式党员,O1,社区党员,否,否,,,,\n",
        f"己六,{ids[5]},2006-07-01,预备党员,O2,社区党员,否,否,,,,\n",
    ])
    res, errors = _import(town, "members", text)
    assert errors == []
    new = [mid for (mid,) in m.Member.select(m.Member.id).where(m.Member.id_number.in_(ids)).tuples()]
    assert len(new) == 6
    P = m.RosterPeriod
    cols = (P.member, P.start, P.end, P.organization, P.community, P.management_class)

    def stored():
        return sorted(tuple(str(v) for v in r) for r in P.select(*cols).where(P.member.in_(new)).tuples())

    written = stored()
    assert len(written) >= 6 and {r[0] for r in written} == {str(i) for i in new}
    with db.write_tx():
        roster_replay.rebuild(db.database, new)
    assert stored() == written
    placed = m.Member.get(m.Member.id_number == ids[3])
    assert [s[0] for s in _spans(placed)] == ["1990-07-01", "2024-03-01"]  # replayed: unplaced, then placed
    grouped = m.Member.get(m.Member.id_number == ids[1])
    assert _spans(grouped) == [("2002-07-01", None, "G1", "resident")]
    assert P.get(P.member == grouped.id).community == town["c1"].id


def test_an_update_replays_the_roster_only_when_it_changes_what_the_roster_reads(town, monkeypatch):
    """A members row that changes a member's name leaves the member's roster spans as stored (not
    replayed); one that changes the joining date replays them from the new date."""
    from core import roster_replay

    a = town["a"]
    replayed = []
    real = roster_replay.rebuild
    monkeypatch.setattr(roster_replay, "rebuild", lambda database, ids=None: replayed.append(list(ids)) or
                        real(database, ids))
    before = _spans(a)
    res, errors = _import(town, "members", HEAD + _member_row(a, name="张伟伟"))
    assert errors == [] and res.updated == 1 and _member(a).name == "张伟伟"
    assert replayed == [] and _spans(a) == before
    res, errors = _import(town, "members", HEAD + _member_row(a, name="张伟伟", joined="2000-08-01"))
    assert errors == [] and res.updated == 1
    assert replayed == [[a.id]] and [s[0] for s in _spans(a)] == ["2000-08-01"]
