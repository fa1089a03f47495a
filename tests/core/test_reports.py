"""Reports (SPEC §6): every report in every format through ``dangjian report``,
HTML-only reports, masking, the dues calculator's proposal, the org-life
calendar's missing months, the ledger book."""
from __future__ import annotations

import os
import sys

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest

Y = 2025
TABLE_REPORTS = ["training", "dues", "orglife", "points", "scores", "roster", "town-summary", "funding"]
FORMATS = ["table", "md", "csv", "xlsx", "html", "json"]


def cli(capsys, *argv):
    from core.cli import main

    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def report_json(capsys, name, *extra):
    code, out, err = cli(capsys, "report", name, "--year", Y, "--format", "json", *extra)
    assert code == 0, err
    return json.loads(out)


def report_csv(capsys, name, *extra):
    code, out, err = cli(capsys, "report", name, "--year", Y, "--format", "csv", *extra)
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out.lstrip("\ufeff"))))
    return rows[0], rows[1:]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", TABLE_REPORTS)
def test_every_report_in_every_format(dangjian_city, tmp_path, capsys, name, fmt):
    out_file = tmp_path / f"{name}.{fmt}"
    code, out, err = cli(capsys, "report", name, "--year", Y, "--format", fmt, "--output", out_file)
    assert code == 0, err
    assert out_file.stat().st_size > 0
    if fmt == "xlsx":
        from openpyxl import load_workbook

        ws = load_workbook(out_file).active
        assert ws.max_row >= 2
        assert ws.cell(1, 1).value == "区镇"
    elif fmt == "json":
        data = json.loads(out_file.read_text(encoding="utf-8"))
        assert isinstance(data, list) and data
    elif fmt == "csv":
        raw = out_file.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")  # Excel opens UTF-8 with BOM
        assert raw.decode("utf-8-sig").splitlines()[0].startswith("区镇")
    elif fmt == "html":
        text = out_file.read_text(encoding="utf-8")
        assert text.startswith("<!DOCTYPE html>") and "<table>" in text
    else:
        assert "区镇" in out_file.read_text(encoding="utf-8")


def test_reports_to_stdout_in_english(dangjian_city, capsys):
    code, out, err = cli(capsys, "--lang", "en", "report", "training", "--year", Y)
    assert code == 0 and "town" in out and "community" in out and "not met" in out


def test_xlsx_needs_output_or_a_redirected_stdout(dangjian_city, capsys, monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, out, err = cli(capsys, "report", "roster", "--format", "xlsx")
    assert code == 2 and "--output" in err


def test_xlsx_to_a_redirected_stdout(dangjian_city, tmp_path):
    import io
    import subprocess

    from openpyxl import load_workbook

    env = dict(os.environ, DANGJIAN_LANG="zh")
    proc = subprocess.run([sys.executable, "-m", "core.cli", "report", "roster", "--format", "xlsx"],
                          capture_output=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout[:4] == b"PK\x03\x04"
    wb = load_workbook(io.BytesIO(proc.stdout), read_only=True)
    assert next(wb.worksheets[0].iter_rows(values_only=True))  # a header row (written in write-only mode)


def test_report_list_names_every_report_and_its_plugin(dangjian_city, capsys):
    code, out, err = cli(capsys, "report", "--list")
    assert code == 0
    for name in TABLE_REPORTS + ["funding-notice", "ledger"]:
        assert name in out
    assert "plugins.reports_default" in out and "plugins.reports_funding" in out


def test_unknown_report_is_a_clear_error(dangjian_city, capsys):
    code, out, err = cli(capsys, "report", "nope")
    assert code == 2 and "nope" in err and "training" in err and "Traceback" not in err


# ---------------------------------------------------------------- the printable HTML reports

def test_funding_notice_is_a_printable_page(dangjian_city, tmp_path, capsys):
    out_file = tmp_path / "notice.html"
    code, out, err = cli(capsys, "report", "funding-notice", "--year", Y, "--format", "html", "--output", out_file)
    assert code == 0
    page = out_file.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "@media print" in page
    assert "巴城社区" in page and "玉山社区" in page
    assert "15,000.00" in page and "3,200.50" in page and "11,799.50" in page  # received, spent, balance
    assert "<script" not in page and "http" not in page.split("</style>")[0]  # self-contained
    # stdout with the default format prints the page too
    code, out, err = cli(capsys, "report", "funding-notice", "--year", Y, "--community", "YS01")
    assert code == 0 and out.startswith("<!DOCTYPE html>") and "巴城社区" not in out


@pytest.mark.parametrize("fmt", ["csv", "md", "json", "xlsx"])
def test_html_only_reports_refuse_other_formats(dangjian_city, tmp_path, capsys, fmt):
    code, out, err = cli(capsys, "report", "ledger", "--community", "BC01", "--format", fmt,
                         "--output", tmp_path / "x")
    assert code == 2 and "HTML" in err
    code, out, err = cli(capsys, "report", "funding-notice", "--format", fmt, "--output", tmp_path / "x")
    assert code == 2


def test_ledger_needs_a_community(dangjian_city, capsys):
    code, out, err = cli(capsys, "report", "ledger", "--year", Y)
    assert code == 2 and "--community" in err


def test_ledger_book_holds_everything(dangjian_city, tmp_path, capsys):
    out_file = tmp_path / "ledger.html"
    code, out, err = cli(capsys, "report", "ledger", "--year", Y, "--community", "BC01", "--output", out_file)
    assert code == 0, err
    page = out_file.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    for text in ("巴城社区 2025 年度党建工作台账", "BC01-ZB", "巴城社区第一党小组",  # organizations
                 "社区党员", "在职党员", "流入党员", "张伟", "王强", "刘洋",  # members by class
                 "周明", "2025年社区书记培训", "街道党工委",  # workers, trainings, reports given
                 "BC01-202503-assembly", "出差",  # every meeting, with leave reasons
                 "11、12",  # 李娜's arrears
                 "路灯维修", "困难党员走访",  # visits and demands
                 "15,000.00", "党员活动",  # funding and spending
                 "第13条", "第19条", "dues.on_time"):  # findings by clause
        assert text in page, text
    assert "玉山社区" not in page and "陈静" not in page
    # IDs: masked in single-user mode
    from core.ids import mask

    assert mask(dangjian_city.members["张伟"].id_number) in page
    assert dangjian_city.members["张伟"].id_number not in page


def test_ledger_masks_for_users_without_personal_data(dangjian_city, capsys):
    from core import access
    from core.db import write_tx
    from core.models import User

    with write_tx():
        User.create(login=access.os_login(), role="community", scope="BC01", full_personal_data=False)
    code, out, err = cli(capsys, "report", "ledger", "--year", Y, "--community", "BC01")
    assert code == 0
    zw = dangjian_city.members["张伟"]
    assert zw.id_number not in out and zw.phone not in out
    assert zw.phone[:3] + "****" + zw.phone[-4:] in out
    # outside the user's scope: refused
    code, out, err = cli(capsys, "report", "ledger", "--year", Y, "--community", "YS01")
    assert code == 2 and "YS01" in err


# ---------------------------------------------------------------- roster masking

def test_roster_masks_ids_and_phones_unless_allowed(dangjian_city, capsys):
    from core import access, ids
    from core.db import write_tx
    from core.models import User

    from tests.factories import record_me

    zm = dangjian_city.workers["周明"]
    record_me(full_personal_data=True)
    headers, rows = report_csv(capsys, "roster")
    row = [r for r in rows if r[2] == "周明"][0]
    assert row[headers.index("公民身份号码")] == zm.id_number
    assert row[headers.index("联系电话")] == zm.phone
    with write_tx():
        user = record_me(full_personal_data=False, role="city")
    headers, rows = report_csv(capsys, "roster")
    row = [r for r in rows if r[2] == "周明"][0]
    assert row[headers.index("公民身份号码")] == ids.mask(zm.id_number) != zm.id_number
    assert row[headers.index("联系电话")] == ids.mask_phone(zm.phone) != zm.phone
    for fmt in FORMATS[:-1]:
        if fmt == "xlsx":
            continue
        code, out, err = cli(capsys, "report", "roster", "--format", fmt)
        assert zm.id_number not in out and zm.phone not in out
    with write_tx():
        User.update(full_personal_data=True).where(User.id == user.id).execute()
    headers, rows = report_csv(capsys, "roster")
    assert zm.id_number in [r[headers.index("公民身份号码")] for r in rows]


def test_roster_columns(dangjian_city, capsys):
    data = report_json(capsys, "roster", "--community", "BC01")
    by_name = {d["姓名"]: d for d in data}
    assert set(by_name) == {"周明", "吴婷"}
    assert by_name["周明"]["职务"] == "党组织书记、居委会主任"
    assert by_name["周明"]["社工证书"] == "助理社会工作师" and by_name["吴婷"]["后备人才"] == "是"


# ---------------------------------------------------------------- dues: the calculator at the band edges

@pytest.mark.parametrize("klass,income,proposed", [
    ("employed", "3000.00", "15.00"), ("employed", "3000.01", "30.00"),
    ("employed", "5000.00", "50.00"), ("employed", "5000.01", "75.00"),
    ("employed", "10000.00", "150.00"), ("employed", "10000.01", "200.00"),
    ("retired", "5000.00", "25.00"), ("retired", "5000.01", "50.00"),
    ("student", None, "0.20"),
])
def test_dues_report_proposes_the_calculators_amount(dangjian_city, capsys, klass, income, proposed):
    from core.db import write_tx

    ln = dangjian_city.members["李娜"]  # November and December unpaid
    with write_tx():
        ln.dues_class = klass
        ln.monthly_income = Decimal(income) if income else None
        ln.save()
    data = report_json(capsys, "dues", "--community", "BC01")
    row = [d for d in data if d["name"] == "李娜"][0]
    assert Decimal(str(row["proposed_monthly"])) == Decimal(proposed)
    assert row["months"] == [f"{Y}-11", f"{Y}-12"]
    assert Decimal(str(row["amount_owed"])) == 2 * Decimal(proposed)


def test_dues_report_lists_only_arrears_and_partial_payments(dangjian_city, capsys):
    from core.db import write_tx
    from core.models import DuesPayment

    with write_tx():  # 张伟 paid 10 of 15 in March
        DuesPayment.update(paid=Decimal("10")).where(DuesPayment.member == dangjian_city.members["张伟"],
                                                      DuesPayment.month == f"{Y}-03").execute()
    data = {d["name"]: d for d in report_json(capsys, "dues")}
    assert set(data) == {"张伟", "李娜", "杨军"}  # in-service and floating-in members pay elsewhere
    assert data["张伟"]["months"] == [f"{Y}-03"] and Decimal(str(data["张伟"]["amount_owed"])) == Decimal("5.00")
    # as of the end of October nobody owes November yet
    code, out, err = cli(capsys, "report", "dues", "--year", Y, "--as-of", f"{Y}-10-31", "--format", "json")
    assert {d["name"] for d in json.loads(out)} == {"张伟"}


# ---------------------------------------------------------------- org-life calendar

def test_orglife_marks_missing_months(dangjian_city, capsys):
    data = {d["community"]: d for d in report_json(capsys, "orglife")}
    bc, ys = data["BC01"], data["YS01"]
    assert bc["months_with_gaps"] == 0  # 巴城: group meeting monthly, assembly and lecture each quarter
    assert bc["months"][f"{Y}-03"]["held"] == {"assembly": 1, "lecture": 1, "group_meeting": 1}
    assert ys["months_with_gaps"] == 12  # 玉山's group never meets
    assert ys["months"][f"{Y}-01"]["missing"] == ["group_meeting"]
    headers, rows = report_csv(capsys, "orglife", "--community", "YS01")
    assert rows[0][headers.index("01月")] == "缺小组"
    assert rows[0][headers.index("03月")] == "大会1 党课1 缺小组"


def test_orglife_quarter_without_assembly_is_marked_at_quarter_end(dangjian_city, capsys):
    from core.db import write_tx
    from core.models import Meeting

    with write_tx():
        Meeting.delete().where(Meeting.code == f"BC01-{Y}06-assembly").execute()
    data = {d["community"]: d for d in report_json(capsys, "orglife")}
    months = data["BC01"]["months"]
    assert months[f"{Y}-06"]["missing"] == ["assembly"]
    assert months[f"{Y}-05"]["missing"] == [] and months[f"{Y}-09"]["missing"] == []
    # months not yet ended are not judged
    code, out, err = cli(capsys, "report", "orglife", "--year", Y, "--as-of", f"{Y}-05-15", "--format", "json")
    months = {d["community"]: d for d in json.loads(out)}["YS01"]["months"]
    assert months[f"{Y}-04"]["missing"] == ["group_meeting"] and months[f"{Y}-05"]["missing"] == []


def test_orglife_committee_meeting_required_from_seven_formal_members(dangjian_city, capsys):
    from core import ids
    from core.db import write_tx
    from core.models import Member

    def add(n):
        with write_tx():
            for i in range(n):
                Member.create(id_number=ids.make("320585", dt.date(1970, 1, 1 + len(added)), 100 + len(added) * 2),
                              name=f"新{len(added)}", joined_date=dt.date(2000, 1, 1), full_date=dt.date(2001, 1, 1),
                              organization=dangjian_city.orgs["BC01-ZB"], community=dangjian_city.communities["BC01"])
                added.append(1)

    added: list = []
    add(4)  # 张伟, 李娜 + 4 = 6 formal members: no 支委会 required
    data = {d["community"]: d for d in report_json(capsys, "orglife")}
    assert data["BC01"]["formal_members"] == 6 and data["BC01"]["months_with_gaps"] == 0
    add(1)  # 7: a 支委会 every month
    data = {d["community"]: d for d in report_json(capsys, "orglife")}
    assert data["BC01"]["formal_members"] == 7
    assert data["BC01"]["months"][f"{Y}-01"]["missing"] == ["committee_meeting"]


# ---------------------------------------------------------------- the other tables

def test_training_ledger(dangjian_city, capsys):
    data = {d["name"]: d for d in report_json(capsys, "training")}
    assert data["周明"]["met"] is True and data["周明"]["days_required"] == "7"
    assert data["孙丽"]["met"] is False  # director: needs a city-level training and 7 days
    assert data["吴婷"]["met"] is True and data["吴婷"]["days_required"] == "5"
    assert data["周明"]["detail"][0]["title"] == "2025年社区书记培训"


def test_points_and_scores_reports(dangjian_city, capsys):
    pts = {d["name"]: d for d in report_json(capsys, "points")}
    assert pts["张伟"]["points"] == 85 and "rank" not in pts["张伟"]
    scores = {d["community"]: d for d in report_json(capsys, "scores")}
    assert set(scores) == {"BC01", "YS01"}
    assert all(d["class"] in ("先进", "一般", "后进") for d in scores.values())
    headers, rows = report_csv(capsys, "scores")
    for good in ("领导班子好", "党员干部队伍好", "工作机制好", "工作业绩好", "群众反映好", "社会公开评价"):
        assert good in headers


def test_town_summary(dangjian_city, capsys):
    data = {d["town"]: d for d in report_json(capsys, "town-summary")}
    assert set(data) == {"巴城镇", "玉山镇"}
    bc = data["巴城镇"]
    assert (bc["communities"], bc["members"], bc["in_service"], bc["workers"]) == (1, 2, 1, 2)
    assert bc["advanced"] + bc["ordinary"] + bc["lagging"] == 1
    assert bc["pass"] > 0 and bc["fail"] > 0 and bc["funding_floor_met"] == "1/1"
    only = report_json(capsys, "town-summary", "--town", "玉山镇")
    assert [d["town"] for d in only] == ["玉山镇"]


def test_reports_respect_the_users_scope(dangjian_city, capsys):
    from core import access
    from core.db import write_tx
    from core.models import User

    with write_tx():
        User.create(login=access.os_login(), role="town", scope="玉山镇", full_personal_data=True)
    data = report_json(capsys, "roster")
    assert {d["区镇"] for d in data} == {"玉山镇"}
    code, out, err = cli(capsys, "report", "roster", "--community", "BC01")
    assert code == 2


def test_ledger_masks_subjects_of_a_stored_run_made_by_an_admin(dangjian_city, capsys):
    from core import access
    from core.db import write_tx
    from core.models import User

    from tests.factories import record_me

    record_me(full_personal_data=True)
    code, out, err = cli(capsys, "check", "--year", Y, "--format", "json")  # an admin with full data: full IDs stored
    full = dangjian_city.members["李娜"].id_number
    assert full in out
    with write_tx():
        record_me(full_personal_data=False, role="city")
    code, out, err = cli(capsys, "report", "ledger", "--year", Y, "--community", "BC01")
    assert code == 0 and "dues.on_time" in out and full not in out


def test_a_ref_that_reads_like_a_phone_number_is_not_masked():
    """The 标识 is an opaque id: 12 hex digits can hold 11 decimal ones in a row ("d15058589650");
    masking leaves it whole, in the records as in the rows."""
    from core import reports
    from core.view import View

    class Clerk:
        full_personal_data = False

    view = View.__new__(View)
    view.principal = Clerk()
    rec = reports._masked_record(view, {"name": "姜平", "phone": "13812345678", "ref": "d15058589650"})
    assert rec == {"name": "姜平", "phone": "138****5678", "ref": "d15058589650"}
