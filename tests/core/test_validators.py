"""core.validators: the field parsers and validate_record shared by forms and import."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core import ids
from core import validators as v

MAN = ids.make("320583", dt.date(1980, 5, 1), 123)


@pytest.fixture(autouse=True)
def today(monkeypatch, dangjian_env):
    monkeypatch.setenv("DANGJIAN_TODAY", "2024-06-30")


def bad(fn, *args):
    with pytest.raises(v.FieldError) as exc:
        fn(*args)
    return str(exc.value)


def test_dates():
    assert v.parse_date("2024-06-30", not_future=True) == dt.date(2024, 6, 30)
    assert v.parse_date("2024/6/3") == dt.date(2024, 6, 3)
    assert v.parse_date(dt.datetime(2024, 1, 2, 0, 0)) == dt.date(2024, 1, 2)  # an Excel date cell
    assert v.parse_date("") is None and v.parse_date(None) is None
    assert "晚于今天" in bad(v.parse_date, "2024-07-01", True)
    assert v.parse_date("2024-07-01") == dt.date(2024, 7, 1)
    assert "不存在" in bad(v.parse_date, "2024-02-30")
    assert "YYYY-MM-DD" in bad(v.parse_date, "30/06/2024")
    assert "晚于今天" in bad(v.not_in_future, dt.date(2024, 7, 1))


def test_months_bools_money_ints():
    assert v.parse_month("2024-3") == "2024-03" and v.parse_month(dt.date(2024, 5, 9)) == "2024-05"
    assert "YYYY-MM" in bad(v.parse_month, "2024-13")
    assert v.parse_bool("是") is True and v.parse_bool("否") is False and v.parse_bool("yes") is True
    assert "是/否" in bad(v.parse_bool, "也许")
    assert v.parse_money("1,200.5") == Decimal("1200.50") and v.parse_money(12.3) == Decimal("12.30")
    assert v.parse_money(0) == Decimal("0.00")
    assert "不能为负数" in bad(v.parse_money, "-0.01")
    assert "两位小数" in bad(v.parse_money, "1.001")
    assert "不是数字" in bad(v.parse_money, "abc")
    assert "不是数字" in bad(v.parse_money, "NaN")
    assert v.parse_int("12") == 12 and v.parse_int(12.0) == 12
    assert "晚于今年" in bad(v.parse_year, "2025")


def test_id_numbers_and_choices():
    from core.enums import MEMBER_CLASS

    assert v.parse_id_number(MAN.lower()) == MAN
    wrong = MAN[:-1] + ("0" if MAN[-1] != "0" else "1")
    assert "校验位应为" in bad(v.parse_id_number, wrong)
    assert "精度" in bad(v.parse_id_number, 3.2e17)
    assert "遮盖" in bad(v.parse_id_number, ids.mask(MAN))
    assert v.parse_choice(MEMBER_CLASS, "流入党员") == "floating_in"
    assert v.parse_choice(MEMBER_CLASS, "floating_in") == "floating_in"
    assert "社区党员/在职党员/流入党员/流出党员" in bad(v.parse_choice, MEMBER_CLASS, "党员")
    assert v.parse_posts("居委会主任、党组织书记") == ["secretary", "director"]
    assert v.format_posts(["director", "secretary"]) == "党组织书记、居委会主任"


def test_validate_record_for_a_form(dangjian_db):
    data = {"name": "张伟", "id_number": MAN, "joined_date": "2000-01-01", "status": "正式党员",
            "organization": "O1", "management_class": "社区党员", "sex": "女"}
    errs = v.validate_record("members", data, check_refs=False)
    assert [e[0] for e in errs] == ["sex"]
    assert str(errs[0]).startswith("性别: 与身份号码不符")
    errs = v.validate_record("members", data)  # O1 does not exist
    assert ("sex", errs[0][1]) == errs[0]
    rec, errs = v.clean_record("members", {**data, "sex": None}, check_refs=False)
    assert errs == [] and rec["full_date"] == dt.date(2001, 1, 1) and rec["birth_date"] == dt.date(1980, 5, 1)
    errs = v.validate_record("members", {**data, "sex": None, "organization": "O1"})
    assert errs and errs[0][0] == "organization" and "未知的组织编码 O1" in errs[0][1]
    assert v.validate_record("attendance", {"status": "请假", "leave_reason": ""}, check_refs=False) == [
        ("leave_reason", "请假须填写事由")]
    # a record read from the database (full_date, no status) passes
    from_db = {"name": "张伟", "id_number": MAN, "joined_date": dt.date(2000, 1, 1),
               "full_date": dt.date(2001, 1, 1), "management_class": "resident", "organization": "O1",
               "community": None, "sex": "M"}
    assert v.validate_record("members", from_db, check_refs=False) == []
    assert [e[0] for e in v.validate_record("members", {**from_db, "organization": None},
                                            check_refs=False)] == ["organization"]
    assert v.validate_record("service_records", {"content": "x"}) == []


def test_validate_record_calls_plugins(dangjian_db, monkeypatch):
    from core import plugins

    seen = []

    class Fake:
        def validate_record(self, kind, record):
            seen.append((kind, record))
            return ["本镇不允许"]

    monkeypatch.setattr(plugins, "get", lambda: Fake())
    errs = v.validate_record("wages", {"year": "2023", "amount": "100000", "source": ""})
    assert errs == [("", "本镇不允许")]
    assert seen == [("wages", {"year": 2023, "amount": Decimal("100000.00"), "source": None})]


def test_every_kind_has_spec_headers():
    from core import kinds

    assert {"communities", "orgs", "members", "workers", "pay", "trainings", "meetings", "attendance",
            "evaluations", "dues", "visits", "reports_given", "publications", "funding", "expenditures", "wages",
            "transfers", "committees", "certificates", "decisions", "facilities", "services", "commitments", "zones",
            "duty_posts", "volunteer_hours", "pairings", "diary", "units", "consultations", "entry_items"
            } <= {k.name for k in kinds.BUILTIN_LIST if k.importable}
    assert [f.label for f in v.fields("dues")] == ["公民身份号码", "所属月份", "应交金额", "实交金额", "交纳日期"]
    assert kinds.get("decisions").headers == ["决策编号", "社区编码", "事项", "党组织提议", "两委会商议", "党员大会审议",
                                              "居民（代表）会议决议", "决议公开", "实施结果公开"]
    assert [f.label for f in v.fields("visits") if f.key] == ["社区编码", "类型", "日期", "接待人身份号码",
                                                            "对象身份号码", "诉求"]
