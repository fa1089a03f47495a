"""dangjian import / export / template (SPEC §5), through core.cli.main like a user."""
from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal

import shutil
import tempfile
from pathlib import Path

import pytest

from core import db, ids
from core import models as m
from core.cli import main
from tests.core import import_fixtures as fx
from tests.core.import_fixtures import CSV, M1, M2, M3, M4, ORDER, W1, W2

TABLES = [m.Town, m.Street, m.Community, m.Organization, m.Member, m.Transfer, m.Worker, m.WorkerPost,
          m.WorkerPay, m.Training, m.DutyReport, m.UrbanWage, m.Meeting, m.Attendance, m.Evaluation,
          m.DuesPayment, m.Visit, m.Publication, m.FundingAllocation, m.Expenditure, m.AuditLog]


_BUILT: dict = {}


@pytest.fixture(params=["0", "1"], ids=["in-process", "worker"])
def city(dangjian_db, monkeypatch, tmp_path, request):
    """Every test twice: planned in-process, and by the forked import worker (what big files get)."""
    monkeypatch.setenv("DANGJIAN_IMPORT_WORKER", request.param)
    monkeypatch.setenv("DANGJIAN_TODAY", fx.TODAY)
    monkeypatch.chdir(tmp_path)
    return Runner(dangjian_db, tmp_path)


class Runner:
    def __init__(self, url, folder):
        self.url = url
        self.folder = folder
        self.err = ""

    def write(self, name, text, encoding="utf-8"):
        p = self.folder / name
        p.write_bytes(text.encode(encoding))
        return p

    def run(self, *argv, capsys=None) -> int:
        rc = main([str(a) for a in argv])
        db.connect(self.url, migrate=False)
        return rc

    def load(self, upto=None, capsys=None):
        """Import the fixture city up to ``upto``; built once per session and copied (SQLite)."""
        key = upto or "all"
        target = self.url[len("sqlite:///"):] if self.url.startswith("sqlite:///") else None
        if target and key in _BUILT:
            db.close()
            shutil.copyfile(_BUILT[key], target)
            db.connect(self.url, migrate=False)
            return
        self._load(upto)
        if target:
            db.close()
            keep = Path(tempfile.mkdtemp()) / f"{key}.db"
            shutil.copyfile(target, keep)
            _BUILT[key] = keep
            db.connect(self.url, migrate=False)

    def _load(self, upto=None):
        for kind in ORDER:
            p = self.write(f"{kind}.csv", CSV[kind])
            rc = self.run("import", kind, p)
            assert rc == 0, kind
            if kind == upto:
                break


def snapshot(skip_audit=True):
    out = {}
    for t in TABLES:
        if skip_audit and t is m.AuditLog:
            continue
        q = t.select()
        if t is m.AuditLog:  # a refused import leaves its one "refuse" row (who, when, file, rows): compared apart
            q = q.where(m.AuditLog.action != "refuse")
        out[t.__name__] = sorted(tuple(str(v) for v in r) for r in q.tuples())
    return out


def counts():
    """Row counts; a refused import's one audit row (who, when, file, rows refused) is not a change."""
    return {t.__name__: (t.select().where(m.AuditLog.action != "refuse") if t is m.AuditLog else t.select()).count()
            for t in TABLES}


def stderr_summary(text):
    return text.strip().splitlines()[-1]


# ---------------------------------------------------------------- good files, every kind

def test_every_kind_imports_and_reimport_changes_nothing(city, capsys):
    for kind in ORDER:
        p = city.write(f"{kind}.csv", CSV[kind])
        assert city.run("import", kind, p) == 0, capsys.readouterr().err
        err = capsys.readouterr().err
        assert f"新增 {fx.COUNTS[kind]}，更新 0，未变 0，拒绝 0" in err, (kind, err)
        before = snapshot(skip_audit=False)
        assert city.run("import", kind, p) == 0
        err = capsys.readouterr().err
        assert f"新增 0，更新 0，未变 {fx.COUNTS[kind]}，拒绝 0" in err, (kind, err)
        assert snapshot(skip_audit=False) == before  # nothing changed, nothing audited


def test_imported_values(city):
    city.load()
    assert {t.name for t in m.Town.select()} == {"玉山镇", "巴城镇"}
    c2 = m.Community.get(code="C002")
    assert c2.street.name == "城东街道" and c2.town.name == "巴城镇"
    o2 = m.Organization.get(code="O2")
    assert o2.parent.code == "O1" and o2.kind == "branch" and o2.community.code == "C001"
    assert m.Organization.get(code="O1").approval_no == "昆组〔2020〕1号"
    # members: derived fields
    p1 = m.Member.get(id_number=M1)
    assert p1.sex == "M" and p1.birth_date == dt.date(1980, 5, 1)
    assert p1.full_date == dt.date(2001, 7, 1)  # 正式党员 without 转正日期: + 1 year
    assert p1.initials == "zw" and p1.monthly_income == Decimal("8000.50") and p1.education == "bachelor"
    p2 = m.Member.get(id_number=M2)
    assert p2.full_date is None and p2.sex == "F" and p2.mobility_impaired is True
    assert p2.community.code == "C001"  # the org's community
    p3 = m.Member.get(id_number=M3)
    assert p3.organization is None and p3.community.code == "C001" and p3.management_class == "floating_in"
    assert p3.initials == "stf"  # 单 read as a surname
    # workers and posts
    w1 = m.Worker.get(id_number=W1)
    posts = {(p.post, p.start_date, p.end_date) for p in w1.posts}
    assert posts == {("secretary", dt.date(2021, 1, 5), None), ("director", dt.date(2021, 1, 5), None)}
    assert w1.backup_talent is True and w1.certificate == "social_worker" and w1.election_method == "open_recommendation"
    assert m.Worker.get(id_number=W2).status == "active"
    assert m.Training.get(title="社工实务").days == Decimal("1.5")
    a = m.Attendance.get(m.Attendance.status == "leave")
    assert a.leave_reason == "出差"
    d = m.DuesPayment.get(month="2024-02")
    assert d.paid == 0 and d.paid_date is None
    v = m.Visit.get(m.Visit.kind == "home_visit")
    assert v.staff is None and v.member is None and v.demand == ""
    assert m.Visit.get(m.Visit.refused_reason.is_null(False)).refused_reason == "不属于社区职责"
    assert m.UrbanWage.get(year=2023).amount == Decimal("101500.50")
    # transfers: history kept, member moved / left the roster
    assert m.Member.get(id_number=M1).organization.code == "O3"
    assert m.Member.get(id_number=M1).community.code == "C002"
    p4 = m.Member.get(id_number=M4)
    assert p4.active is False and p4.left_date == dt.date(2024, 6, 1)
    assert m.Transfer.select().count() == 2


def test_audit_rows_written_in_bulk(city):
    city.load("members")
    rows = list(m.AuditLog.select().where(m.AuditLog.table == "member"))
    assert len(rows) == 4 and all(r.action == "create" for r in rows)
    new = json.loads(rows[0].new)
    assert new["id_number"] in (M1, M2, M3, M4) and rows[0].community is not None
    edited = CSV["members"].replace("张伟", "张伟伟")
    p = city.write("members2.csv", edited)
    assert city.run("import", "members", p) == 0
    upd = m.AuditLog.get(m.AuditLog.action == "update")
    assert json.loads(upd.old) == {"name": "张伟", "initials": "zw"}
    assert json.loads(upd.new) == {"name": "张伟伟", "initials": "zww"}
    assert m.Member.get(id_number=M1).version == 2


def test_update_changes_only_named_rows_and_keeps_absent_optional_columns(city, capsys):
    city.load("members")
    # a file without the optional columns leaves them alone
    text = ("姓名,公民身份号码,入党日期,党员状态,所在党组织编码,党员类别,离退休,行动不便,报到日期,编入日期,流动党员活动证号,联系人\n"
            f"张伟,{M1},2000-07-01,正式党员,O2,社区党员,是,否,,,,\n")
    p = city.write("m.csv", text)
    capsys.readouterr()
    assert city.run("import", "members", p) == 0
    assert "新增 0，更新 1，未变 0" in capsys.readouterr().err
    p1 = m.Member.get(id_number=M1)
    assert p1.retired is True and p1.phone == "13812345678" and p1.education == "bachelor"


# ---------------------------------------------------------------- bad rows

BAD = [
    # (kind, bad csv line(s) appended, column, message fragment)
    ("members", f"钱七,{M1[:-1]}{'0' if M1[-1] != '0' else '1'},2000-01-01,正式党员,O2,社区党员,否,否,,,,,,,,,",
     "公民身份号码", "校验位应为"),
    ("members", f"钱七,{ids.make('320583', dt.date(1985, 1, 1), 301)},2000-01-01,正式党员,O9,社区党员,否,否,,,,,,,,,",
     "所在党组织编码", "未知的组织编码 O9"),
    ("members", f"钱七,{ids.make('320583', dt.date(1985, 1, 1), 303)},2000-01-01,正式党员,O2,普通党员,否,否,,,,,,,,,",
     "党员类别", "社区党员/在职党员/流入党员/流出党员"),
    ("members", f"钱七,{ids.make('320583', dt.date(1985, 1, 1), 305)},2030-01-01,正式党员,O2,社区党员,否,否,,,,,,,,,",
     "入党日期", "晚于今天"),
    ("members", f"钱七,{ids.make('320583', dt.date(1985, 1, 1), 307)},2000-01-01,正式党员,O2,社区党员,不知道,否,,,,,,,,,",
     "离退休", "是/否"),
    ("members", f"钱七,{ids.make('320583', dt.date(1985, 1, 1), 309)},2000-01-01,正式党员,O2,社区党员,否,否,,,,,,,,-5,",
     "月收入", "不能为负数"),
    ("members", f"钱七,{ids.make('320583', dt.date(1985, 1, 1), 311)},2000-01-01,正式党员,,社区党员,否,否,,,,,,,,,",
     "所在党组织编码", "必填"),
    ("members", f"张伟,{M1},2000-07-01,正式党员,O2,社区党员,否,否,,,,,本科,13812345678,在职,8000.50,C001",
     "公民身份号码", "与第2行重复"),
    ("members", f"钱七,{ids.make('320583', dt.date(1985, 1, 1), 313)},2000-01-01,正式党员,O2,社区党员,否,否,,,,,,,,,C002",
     "社区编码", "不一致"),
    ("dues", f"{M1},2024-03,50,50,2024-07-01", "交纳日期", "晚于今天"),
    ("dues", f"{M1},2024-03,50,-1,2024-03-01", "实交金额", "不能为负数"),
    ("dues", f"{M1},2024-3x,50,50,2024-03-01", "所属月份", "YYYY-MM"),
    ("dues", f"{M1},2024-03,50.123,50,2024-03-01", "应交金额", "两位小数"),
    ("dues", f"{ids.make('320583', dt.date(1985, 1, 1), 315)},2024-03,50,50,2024-03-01", "公民身份号码", "未知的党员身份号码"),
    ("attendance", f"MT9,{M1},出席,", "会议编号", "未知的会议编号 MT9"),
    ("attendance", f"MT1,{M4},请假,", "请假事由", "请假须填写事由"),
    ("attendance", f"MT1,{M4},迟到,", "出勤", "出席/请假/缺席"),
    ("pay", f"{M1},2023,1000", "公民身份号码", "未知的社区工作者身份号码"),
    ("trainings", f"{W1},新培训,省级,2024-03-01,2", "培训级别", "市级及以上/区镇级/街道级"),
    ("trainings", f"{W1},新培训,区镇级,2024-03-01,0", "天数", "应大于0"),
    ("visits", "C009,走访,2024-01-09,,,1,,,,", "社区编码", "未知的社区编码 C009"),
    ("visits", f"C001,走访,2024-01-09,{M1},,1,,,,", "接待人身份号码", "未知的社区工作者身份号码"),
    ("funding", "C001,2024,-100,市级财政,2024-05-01", "金额", "不能为负数"),
    ("funding", "C001,2024,100,国家拨款,2024-05-01", "来源", "市级财政/区镇财政/委托事项/社会捐助/单位帮助/其他"),
    ("meetings", "MT3,O2,座谈会,2024-01-15,", "会议类型", "党员大会"),
    ("transfers", f"{M2},市内转移,O2,O9,2024-05-02,", "新组织", "未知的组织编码 O9"),
    ("workers", f"刘一,{ids.make('320583', dt.date(1985, 1, 1), 317)},C001,书记,2024-01-01,本科,无,,,否,否,,",
     "职务", "党组织书记/居委会主任/副书记/委员/其他"),
    ("evaluations", f"{M1},2025,优秀", "年度", "晚于今年"),
    ("orgs", "O5,新支部,党支部,O5,C001,", "上级组织编码", "循环"),
    ("orgs", "O6,新支部,党支部,O8,C001,", "上级组织编码", "未知的组织编码 O8"),
]


@pytest.mark.parametrize("kind,line,column,fragment", BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_bad_row_is_reported_and_nothing_written(city, capsys, kind, line, column, fragment):
    # members: load up to the members file only (the later 市内转移 makes re-importing it a refused move)
    city.load("members" if kind == "members" else None)
    before = snapshot(skip_audit=False)
    text = CSV[kind] + line + "\n"
    bad_row = len(text.strip().splitlines())
    p = city.write(f"bad_{kind}.csv", text)
    capsys.readouterr()
    rc = city.run("import", kind, p)
    err = capsys.readouterr().err
    assert rc == 2, err
    assert f"bad_{kind}.csv row {bad_row}, {column}: " in err, err
    line_ = [x for x in err.splitlines() if f"row {bad_row}, {column}" in x][0]
    assert fragment in line_, err
    assert "未写入任何记录" in err
    assert snapshot(skip_audit=False) == before
    (refused,) = m.AuditLog.select().where(m.AuditLog.action == "refuse")
    assert refused.table == kind and f'"rows": [{bad_row}]' in refused.new


def test_all_or_nothing_even_with_good_new_rows(city, capsys):
    city.load("orgs")
    good = ids.make("320583", dt.date(1985, 1, 1), 401)
    text = (CSV["members"] + f"好人,{good},2000-01-01,正式党员,O2,社区党员,否,否,,,,,,,,,\n"
            f"坏人,{good[:-1]}{'1' if good[-1] != '1' else '2'},2000-01-01,正式党员,O2,社区党员,否,否,,,,,,,,,\n")
    p = city.write("mix.csv", text)
    before = counts()
    assert city.run("import", "members", p) == 2
    assert counts() == before
    assert "mix.csv row 7, 公民身份号码: 校验位应为" in capsys.readouterr().err


def test_sex_and_birth_date_must_agree_with_the_id(city, capsys):
    city.load("orgs")
    text = ("姓名,公民身份号码,入党日期,党员状态,所在党组织编码,党员类别,离退休,行动不便,报到日期,编入日期,流动党员活动证号,联系人,性别,出生日期\n"
            f"张伟,{M1},2000-07-01,正式党员,O2,社区党员,否,否,,,,,女,1980-05-01\n"
            f"李娜,{M2},2024-01-01,预备党员,O2,社区党员,否,否,,,,,女,1990-02-04\n")
    p = city.write("sex.csv", text)
    assert city.run("import", "members", p) == 2
    err = capsys.readouterr().err
    assert "sex.csv row 2, 性别: 与身份号码不符" in err
    assert "sex.csv row 3, 出生日期: 与身份号码不符：身份号码中为 1990-02-03" in err
    assert m.Member.select().count() == 0


def test_partial_writes_good_rows_and_rejects_file(city, capsys):
    city.load("orgs")
    bad = f"钱七,{M1[:-1]}{'0' if M1[-1] != '0' else '1'},2000-01-01,正式党员,O2,社区党员,否,否,,,,,,,,,\n"
    p = city.write("members.csv", CSV["members"] + bad)
    rc = city.run("import", "members", p, "--partial")
    err = capsys.readouterr().err
    assert rc == 1
    assert "新增 4，更新 0，未变 0，拒绝 1" in err
    assert m.Member.select().count() == 4
    rej = city.folder / "members.csv.rejects.csv"
    with open(rej, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][-1] == "错误原因" and rows[0][:-1] == CSV["members"].splitlines()[0].split(",")
    assert len(rows) == 2 and rows[1][0] == "钱七" and "公民身份号码: 校验位应为" in rows[1][-1]
    # --rejects PATH, and a clean partial import exits 0
    other = city.folder / "elsewhere.csv"
    assert city.run("import", "members", p, "--partial", "--rejects", other) == 1
    assert other.exists()
    assert city.run("import", "members", city.write("ok.csv", CSV["members"]), "--partial") == 0


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-8"])
def test_encodings(city, capsys, encoding):
    city.load("orgs")
    p = city.write("members.csv", CSV["members"], encoding=encoding)
    assert city.run("import", "members", p) == 0, capsys.readouterr().err
    assert m.Member.get(id_number=M1).name == "张伟"


def test_encoding_override_and_undecodable(city, capsys):
    city.load("orgs")
    p = city.write("members.csv", CSV["members"], encoding="gbk")
    assert city.run("import", "members", p, "--encoding", "gbk") == 0
    p2 = city.folder / "junk.csv"
    p2.write_bytes(b"\xff\xfe\x00\x81" * 50)
    assert city.run("import", "members", p2) == 2
    assert "dangjian:" in capsys.readouterr().err


def test_header_problems(city, capsys):
    city.load("orgs")
    p = city.write("h.csv", CSV["members"].replace("入党日期", "入党时间"))
    assert city.run("import", "members", p) == 2
    err = capsys.readouterr().err
    assert "h.csv row 1, 入党时间: 未知的列" in err and "缺少列：入党日期" in err
    assert city.run("import", "nonsense", p) == 2
    assert "未知的类型 nonsense" in capsys.readouterr().err


def test_english_header_aliases(city):
    city.load("communities")
    p = city.write("o.csv", "org code,org name,org kind,parent org code,community code,approval no\nO7,x,branch,,C001,\n")
    assert city.run("import", "orgs", p) == 0
    assert m.Organization.get(code="O7").kind == "branch"


def test_plugin_validate_record_errors(city, capsys, monkeypatch, tmp_path):
    fx.town_plugin(tmp_path, monkeypatch, "town_check",
                   "from core import hookimpl\n"
                   "@hookimpl\n"
                   "def dangjian_validate_record(kind, record):\n"
                   "    if kind == 'funding' and record['amount'] > 10000 and record['source'] == 'donation':\n"
                   "        return ['捐助超过一万元须另行审批']\n"
                   "    return []\n")
    city.load("communities")
    p = city.write("f.csv", CSV["funding"] + "C001,2024,20000,社会捐助,2024-05-01\n")
    assert city.run("import", "funding", p) == 2
    err = capsys.readouterr().err
    assert "f.csv row 4, 社区编码: 捐助超过一万元须另行审批" in err
    assert m.FundingAllocation.select().count() == 0


# ---------------------------------------------------------------- workers' posts keep history

def test_worker_post_change_ends_old_posts(city, capsys):
    city.load("workers")
    text = CSV["workers"].replace("党组织书记、居委会主任,2021-01-05", "党组织书记,2024-03-01")
    p = city.write("w2.csv", text)
    capsys.readouterr()
    assert city.run("import", "workers", p) == 0
    assert "新增 0，更新 1，未变 1" in capsys.readouterr().err
    w1 = m.Worker.get(id_number=W1)
    posts = sorted((p.post, p.start_date, p.end_date) for p in w1.posts)
    assert posts == [("director", dt.date(2021, 1, 5), dt.date(2024, 3, 1)),
                     ("secretary", dt.date(2021, 1, 5), None)]
    # export shows the current posts with the latest start; re-import changes nothing
    out = city.folder / "w_export.csv"
    from tests.factories import record_me

    record_me(full_personal_data=True)  # a full-data export, so it can be imported again
    assert city.run("export", "workers", out) == 0
    row = [r for r in csv.reader(open(out, encoding="utf-8-sig")) if r and r[1] == W1][0]
    assert row[3] == "党组织书记" and row[4] == "2021-01-05"
    capsys.readouterr()
    assert city.run("import", "workers", out) == 0
    assert "更新 0，未变 2" in capsys.readouterr().err
    # a post date before the start of a post that would end is refused
    bad = CSV["workers"].replace("党组织书记、居委会主任,2021-01-05", "委员,2020-01-01")
    assert city.run("import", "workers", city.write("w3.csv", bad)) == 2
    assert "w3.csv row 2, 任职日期: 早于原职务" in capsys.readouterr().err


# ---------------------------------------------------------------- transfers

def test_transfers_keep_history_and_roster(city, capsys):
    city.load("transfers")
    more = (CSV["transfers"] + f"{M1},市内转移,O3,O2,2024-06-10,JX-3\n"
            f"{M2},转出,O2,外省某党委,2024-06-20,JX-4\n")
    p = city.write("t2.csv", more)
    capsys.readouterr()
    assert city.run("import", "transfers", p) == 0
    assert "新增 2，更新 0，未变 2" in capsys.readouterr().err
    p1 = m.Member.get(id_number=M1)
    assert p1.organization.code == "O2" and p1.community.code == "C001" and p1.active
    assert [t.to_org for t in p1.transfers.order_by(m.Transfer.date)] == ["O3", "O2"]
    p2 = m.Member.get(id_number=M2)
    assert not p2.active and p2.left_date == dt.date(2024, 6, 20)
    # transfer in brings a member back onto the roster
    back = city.write("t3.csv", "公民身份号码,转接类型,原组织,新组织,日期,介绍信编号\n"
                                 f"{M4},转入,上海市某街道党工委,O3,2024-06-25,JX-5\n")
    assert city.run("import", "transfers", back) == 0
    p4 = m.Member.get(id_number=M4)
    assert p4.active and p4.left_date is None and p4.organization.code == "O3"
    assert m.Transfer.select().where(m.Transfer.member == p4.id).count() == 2


# ---------------------------------------------------------------- xlsx

def test_template_filled_with_openpyxl_imports(city, capsys):
    from openpyxl import load_workbook

    city.load("orgs")
    assert city.run("template", "members") == 0
    path = city.folder / "members.xlsx"
    wb = load_workbook(path)
    ws = wb.worksheets[0]
    headers = [c.value for c in ws[1]]
    assert headers[:3] == ["姓名", "公民身份号码", "入党日期"] and "月收入" in headers
    assert wb.sheetnames[1] == "说明"
    info = [r[0].value for r in wb["说明"].iter_rows(min_row=2) if r[0].value]
    assert "党员类别" in info
    dv = {str(v.sqref).split(":")[0][0]: v.formula1 for v in ws.data_validations.dataValidation}
    col = {h: chr(ord("A") + i) for i, h in enumerate(headers)}
    assert "社区党员" in dv[col["党员类别"]] and "正式党员" in dv[col["党员状态"]]
    assert "是" in dv[col["离退休"]]
    assert ws[f"{col['入党日期']}2"].number_format == "yyyy-mm-dd"
    assert ws.column_dimensions[col["公民身份号码"]].width >= 20
    # fill it as a user would in Excel: date cells, numbers
    values = {"姓名": "张伟", "公民身份号码": M1, "入党日期": dt.datetime(2000, 7, 1), "党员状态": "正式党员",
              "所在党组织编码": "O2", "党员类别": "社区党员", "离退休": "否", "行动不便": "否", "月收入": 8000.5}
    for h, v in values.items():
        ws[f"{col[h]}2"] = v
    wb.save(path)
    assert city.run("import", "members", path) == 0, capsys.readouterr().err
    p = m.Member.get(id_number=M1)
    assert p.joined_date == dt.date(2000, 7, 1) and p.monthly_income == Decimal("8000.50")


def test_xlsx_numeric_code_cells_and_id_as_number(city, capsys):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["区镇", "街道", "社区编码", "社区名称"])
    ws.append(["玉山镇", None, 123, "数字编码社区"])
    path = city.folder / "c.xlsx"
    wb.save(path)
    assert city.run("import", "communities", path) == 0
    assert m.Community.get(code="123").name == "数字编码社区"
    wb = Workbook()
    ws = wb.active
    ws.append(["组织编码", "组织名称", "组织类别", "上级组织编码", "社区编码", "批准文号"])
    ws.append([7, "支部", "党支部", None, 123.0, None])
    wb.save(path)
    assert city.run("import", "orgs", path) == 0
    assert m.Organization.get(code="7").community.code == "123"
    wb = Workbook()
    ws = wb.active
    ws.append(["公民身份号码", "年度", "评议结果"])
    ws.append([float(M1[:17] + "0"), 2023, "优秀"])
    wb.save(path)
    assert city.run("import", "evaluations", path) == 2
    assert "设为文本" in capsys.readouterr().err


def test_template_csv(city):
    assert city.run("template", "dues", city.folder / "d.csv") == 0
    text = (city.folder / "d.csv").read_text(encoding="utf-8-sig")
    assert text.strip() == "公民身份号码,所属月份,应交金额,实交金额,交纳日期"


# ---------------------------------------------------------------- export round trip

@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_export_import_round_trip_every_kind(city, capsys, ext):
    city.load()
    from tests.factories import record_me

    record_me(full_personal_data=True)  # the round trip is for users allowed full ID numbers
    before = snapshot(skip_audit=False)
    for kind in ORDER:
        out = city.folder / f"export_{kind}.{ext}"
        assert city.run("export", kind, out) == 0
        capsys.readouterr()
        assert city.run("import", kind, out) == 0, capsys.readouterr().err
        err = capsys.readouterr().err
        assert f"新增 0，更新 0，未变 {fx.COUNTS[kind]}，拒绝 0" in err, (kind, err)
    assert snapshot(skip_audit=False) == before


def test_export_filters_and_csv_bom(city):
    city.load()
    from tests.factories import record_me

    record_me(full_personal_data=True)
    out = city.folder / "v.csv"
    assert city.run("export", "visits", out, "--community", "C002") == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert len(rows) == 2 and rows[1][0] == "C002"
    assert city.run("export", "funding", out, "--town", "巴城镇") == 0
    assert len(out.read_text(encoding="utf-8-sig").strip().splitlines()) == 1


def _add_user(login, **kw):
    m.User.create(login=login, **kw)


def test_masked_export_is_refused_on_import(city, capsys, monkeypatch):
    from core import access

    city.load("members")
    _add_user("someone_else", role="admin", scope="city", full_personal_data=True)
    _add_user(access.os_login(), role="town", scope="玉山镇", full_personal_data=False)
    out = city.folder / "masked.csv"
    assert city.run("export", "members", out) == 0
    text = out.read_text(encoding="utf-8-sig")
    assert text.startswith("# 身份号码和电话已遮盖")
    assert M1 not in text and ids.mask(M1) in text and "138****5678" in text
    capsys.readouterr()
    assert city.run("import", "members", out) == 2
    assert "遮盖" in capsys.readouterr().err
    xl = city.folder / "masked.xlsx"
    assert city.run("export", "members", xl) == 0
    from openpyxl import load_workbook
    assert "已遮盖" in load_workbook(xl).sheetnames[0]
    assert city.run("import", "members", xl) == 2
    # a masked ID number in an otherwise normal file is a row error
    lines = CSV["members"].replace(M1, ids.mask(M1))
    assert city.run("import", "members", city.write("m2.csv", lines)) == 2
    assert "已遮盖" in capsys.readouterr().err


# ---------------------------------------------------------------- access

def test_access_read_only_admin_kinds_and_scope(city, capsys):
    from core import access

    city.load("workers")
    me = access.os_login()
    _add_user("boss", role="admin", scope="city", full_personal_data=True)
    u = m.User.create(login=me, role="community", scope="C001", read_only=True, full_personal_data=True)
    assert city.run("import", "visits", city.write("v.csv", CSV["visits"])) == 2
    assert "只读" in capsys.readouterr().err
    u.read_only = False
    u.save()
    assert city.run("import", "communities", city.write("c.csv", CSV["communities"])) == 2
    assert "只有管理员" in capsys.readouterr().err
    before = counts()
    assert city.run("import", "visits", city.folder / "v.csv") == 2  # row 4 is C002: outside scope
    err = capsys.readouterr().err
    assert "v.csv row 4, 社区编码: 未知的社区编码 C002" in err  # exactly like a community that does not exist
    assert counts() == before
    assert city.run("import", "visits", city.folder / "v.csv", "--partial") == 1
    assert m.Visit.select().count() == 3
    # moving a worker of another community into mine is refused too
    moved = CSV["workers"].replace(f"{W2},C002", f"{W2},C001")
    assert city.run("import", "workers", city.write("w.csv", moved)) == 2
    assert "身份号码已在本市登记，须经组织关系转接" in capsys.readouterr().err


def test_empty_and_missing_files(city, capsys):
    assert city.run("import", "members", city.folder / "nope.csv") == 2
    assert "找不到文件" in capsys.readouterr().err
    assert city.run("import", "members", city.write("e.csv", "")) == 2
    p = city.folder / "bad.xlsx"
    p.write_bytes(b"PK\x03\x04garbage")
    assert city.run("import", "members", p) == 2
    assert "不是有效的 .xlsx" in capsys.readouterr().err


def test_org_moving_community_moves_its_members(city, capsys):
    city.load("members")
    text = CSV["orgs"].replace("O2,同心第一支部,党支部,O1,C001,", "O2,同心第一支部,党支部,O1,C002,")
    assert city.run("import", "orgs", city.write("o.csv", text)) == 0
    assert {p.community.code for p in m.Member.select().where(m.Member.organization == m.Organization.get(code="O2"))} == {"C002"}
    row = m.AuditLog.select().where((m.AuditLog.table == "member") & (m.AuditLog.action == "update")).first()
    assert json.loads(row.new)["community"] == m.Community.get(code="C002").id


def test_failed_import_prints_summary(city, capsys):
    city.load("orgs")
    p = city.write("m.csv", CSV["members"].replace("正式党员,O2", "正式,O2", 1))
    assert city.run("import", "members", p) == 2
    assert stderr_summary(capsys.readouterr().err) == "members：新增 0，更新 0，未变 0，拒绝 1"


def test_progress_bar_only_on_a_terminal(monkeypatch):
    import io
    import sys

    from core.importing.files import Progress

    fake = io.StringIO()
    monkeypatch.setattr(sys, "stderr", fake)
    quiet = Progress("导入 members", 100)
    quiet.update(50, force=True)
    assert fake.getvalue() == ""
    fake.isatty = lambda: True
    bar = Progress("导入 members", 100)
    bar.update(50, force=True)
    bar.done()
    assert "50/100" in fake.getvalue() and "#" * 15 in fake.getvalue()


@pytest.mark.parametrize("kind", ORDER)
def test_template_every_kind_reimports_empty(city, capsys, kind):
    from openpyxl import load_workbook

    assert city.run("template", kind) == 0
    wb = load_workbook(city.folder / f"{kind}.xlsx")
    from core.kinds import fields

    assert [c.value for c in wb.worksheets[0][1]] == [f.label for f in fields(kind)]
    enum_cols = [f for f in fields(kind) if f.type in ("choice", "bool")]
    assert len(wb.worksheets[0].data_validations.dataValidation) >= len(enum_cols)
    capsys.readouterr()
    assert city.run("import", kind, city.folder / f"{kind}.xlsx") == 0
    assert "新增 0，更新 0，未变 0，拒绝 0" in capsys.readouterr().err


def test_english_messages(city, capsys):
    city.load("orgs")
    bad = CSV["members"].replace("正式党员,O2", "正式,O2", 1)
    assert city.run("--lang", "en", "import", "members", city.write("m.csv", bad)) == 2
    err = capsys.readouterr().err
    assert "m.csv row 2, 党员状态: '正式' is not one of: 正式党员/预备党员" in err
    assert "members: inserted 0, updated 0, unchanged 0, rejected 1" in err


def test_bulk_path_is_executemany_in_one_transaction(city, monkeypatch):
    """Inserts, updates and audit rows go through core.db.executemany, a handful of calls, not one per row."""
    from core import db as dbmod

    monkeypatch.setenv("DANGJIAN_IMPORT_WORKER", "0")  # chunks of 2000 (the forked worker starts with smaller ones)
    city.load("orgs")
    calls = []
    orig = dbmod.executemany

    def spy(sql, rows):
        rows = list(rows)
        calls.append((sql.split()[0] + " " + sql.split()[2], len(rows), dbmod.database.in_transaction()))
        return orig(sql, rows)

    monkeypatch.setattr(dbmod, "executemany", spy)
    many = ["姓名,公民身份号码,入党日期,党员状态,所在党组织编码,党员类别,离退休,行动不便,报到日期,编入日期,流动党员活动证号,联系人"]
    for i in range(300):
        many.append(f"党员{i},{ids.make('320583', dt.date(1970, 1, 1) + dt.timedelta(days=i), 100 + i % 800)},"
                    f"2000-01-01,正式党员,O2,社区党员,否,否,,,,")
    assert city.run("import", "members", city.write("many.csv", "\n".join(many) + "\n")) == 0
    assert ('INSERT "member"', 300, True) in calls
    assert ('INSERT "audit_log"', 300, True) in calls
    assert len(calls) <= 4
    assert m.Member.select().count() == 300


def test_excel_cells_for_months_money_and_years(city, capsys):
    from openpyxl import Workbook

    city.load("members")
    wb = Workbook()
    ws = wb.active
    ws.append(["公民身份号码", "所属月份", "应交金额", "实交金额", "交纳日期"])
    ws.append([M1, dt.datetime(2024, 3, 1), 12.5, 12.5, dt.datetime(2024, 3, 2)])
    ws.append([M2, "2024-03", 3, None, None])
    path = city.folder / "dues.xlsx"
    wb.save(path)
    assert city.run("import", "dues", path) == 0, capsys.readouterr().err
    d = m.DuesPayment.get(month="2024-03", member=m.Member.get(id_number=M1))
    assert d.due == Decimal("12.50") and d.paid_date == dt.date(2024, 3, 2)
    assert m.DuesPayment.get(month="2024-03", member=m.Member.get(id_number=M2)).paid == 0


def test_scoped_user_cannot_take_over_another_communitys_meeting(city, capsys):
    from core import access

    city.load()
    _add_user("boss", role="admin", scope="city", full_personal_data=True)
    _add_user(access.os_login(), role="community", scope="C001", full_personal_data=False)
    text = "会议编号,组织编码,会议类型,日期,主题\nMT2,O2,党课,2024-02-20,\n"
    before = snapshot(skip_audit=False)
    assert city.run("import", "meetings", city.write("mt.csv", text)) == 2
    assert "mt.csv row 2, 组织编码: 已有记录不在你的权限范围内" in capsys.readouterr().err
    assert snapshot(skip_audit=False) == before
    # and unknown member IDs are masked in messages for users who may not see them
    other = ids.make("320583", dt.date(1985, 1, 1), 901)
    assert city.run("import", "evaluations", city.write("e.csv", f"公民身份号码,年度,评议结果\n{other},2023,优秀\n")) == 2
    err = capsys.readouterr().err
    assert ids.mask(other) in err and other not in err


def test_kinds_without_personal_data_are_not_marked_masked(city, capsys):
    """A masked viewer's export of communities holds no ID numbers: it stays importable."""
    city.load()
    out = city.folder / "c.csv"
    assert city.run("export", "communities", out) == 0
    assert not out.read_text(encoding="utf-8-sig").startswith("#")
    assert city.run("import", "communities", out) == 0
    out = city.folder / "m.csv"
    assert city.run("export", "members", out) == 0
    assert out.read_text(encoding="utf-8-sig").startswith("#")  # members are masked and marked
    assert city.run("import", "members", out) == 2


def test_org_row_without_a_readable_code_is_a_row_error(city, capsys):
    """Found by the fuzz test: an orgs row whose code cannot be read used to crash the parent-first ordering."""
    city.load("communities")
    before = counts()
    p = city.write("o.csv", "组织编码,组织名称,组织类别,上级组织编码,社区编码,批准文号\n\x00,x,党支部,,C001,\nO7,y,党支部,,C001,\n")
    assert city.run("import", "orgs", p) == 2
    err = capsys.readouterr().err
    assert "o.csv row 2, 组织编码: " in err and "Traceback" not in err
    assert counts() == before
    assert city.run("import", "orgs", p, "--partial") == 1
    assert m.Organization.get(code="O7").name == "y"
