"""The import formats of contact_points (formerly leader_points) and consultations, and the kind
lists that name them."""
from __future__ import annotations

import pytest

from core import db, kinds
from core import models as m
from core.cli import main
from core.errors import UserError
from core.importing import export_rows, import_file, write_template
from tests import factories as f

CP_HEAD = "领导姓名,职务,社区编码,开始日期\n"
CO_HEAD = "社区编码,单位名称,日期,事项,人员,意见\n"


@pytest.fixture
def city(dangjian_db, monkeypatch, tmp_path):
    monkeypatch.setenv("DANGJIAN_TODAY", "2024-06-30")
    monkeypatch.chdir(tmp_path)
    c1 = f.make_community("C1", town="玉山镇")
    c2 = f.make_community("C2", town="周市镇")
    # one name in two communities: a unit is named by its community and its name
    u1 = m.ResidentUnit.create(community=c1, name="新华书店", kind="enterprise")
    u2 = m.ResidentUnit.create(community=c2, name="新华书店", kind="enterprise")
    f.record_me(full_personal_data=True)
    return dict(c1=c1, c2=c2, u1=u1, u2=u2, folder=tmp_path)


def _import(city, kind, text, name=None):
    p = city["folder"] / (name or f"{kind}.csv")
    p.write_text(text, encoding="utf-8")
    res, _ = import_file(kind, p, progress=False)
    return res, [(it.rowno, fld, msg) for it in sorted(res.rejected, key=lambda i: i.rowno) for fld, msg in it.errors]


def _cli(capsys, *argv):
    capsys.readouterr()
    rc = main([str(x) for x in argv])
    db.connect(str(db.current_url()), migrate=False)
    return rc, capsys.readouterr().err


def _rows(model):
    return sorted(tuple(str(v) for v in r) for r in model.select().tuples())


# ---------------------------------------------------------------- contact_points

def test_contact_points_format_import_and_round_trip(city, capsys):
    assert kinds.get("contact_points").headers == ["领导姓名", "职务", "社区编码", "开始日期"]
    assert [x.label for x in kinds.get("contact_points").fields if x.key] == ["领导姓名", "社区编码", "开始日期"]
    assert [x.label for x in kinds.get("contact_points").fields if x.optional_column] == ["职务"]
    res, errs = _import(city, "contact_points", CP_HEAD + "王书记,市委常委,C1,2024-01-01\n李部长,,C2,2023-05-01\n")
    assert errs == [] and res.inserted == 2
    assert {(p.leader_name, p.leader_post, p.community.code) for p in m.LeaderContactPoint.select()} == {
        ("王书记", "市委常委", "C1"), ("李部长", None, "C2")}
    # 职务 may be left out of the file: the stored post stays
    res, errs = _import(city, "contact_points", "领导姓名,社区编码,开始日期\n王书记,C1,2024-01-01\n", name="short.csv")
    assert errs == [] and res.unchanged == 1
    assert m.LeaderContactPoint.get(m.LeaderContactPoint.leader_name == "王书记").leader_post == "市委常委"
    before = _rows(m.LeaderContactPoint)
    rc, err = _cli(capsys, "export", "contact_points", "cp.csv")
    assert rc == 0
    res, errs = _import(city, "contact_points", (city["folder"] / "cp.csv").read_text(encoding="utf-8-sig"),
                        name="again.csv")
    assert errs == [] and (res.inserted, res.updated, res.unchanged) == (0, 0, 2) and _rows(m.LeaderContactPoint) == before


def test_contact_points_are_imported_by_an_administrator_only(city):
    f.record_me(full_personal_data=True, role="city", scope="city")
    with pytest.raises(UserError, match="管理员"):
        _import(city, "contact_points", CP_HEAD + "王书记,,C1,2024-01-01\n")
    assert not m.LeaderContactPoint.select().exists()


def test_leader_points_is_still_accepted_with_a_note(city, capsys):
    p = city["folder"] / "lp.csv"
    p.write_text(CP_HEAD + "王书记,,C1,2024-01-01\n", encoding="utf-8")
    rc, err = _cli(capsys, "import", "leader_points", p)
    assert rc == 0 and "contact_points" in err and "leader_points" in err
    assert "contact_points：新增 1" in err
    assert m.LeaderContactPoint.select().count() == 1


def test_the_kind_lists_name_the_new_kinds(city, capsys):
    with pytest.raises(UserError) as exc:
        kinds.get("nope", importable=True)
    listed = str(exc.value)
    assert "contact_points" in listed and "class_changes" in listed and "leader_points" not in listed
    assert "class_changes" in kinds.names() and "contact_points" in kinds.names()
    rc, err = _cli(capsys, "import", "nope", "x.csv")
    assert rc == 2 and "class_changes" in err and "contact_points" in err


# ---------------------------------------------------------------- consultations

def test_consultations_name_the_unit_by_community_and_name(city):
    spec = kinds.get("consultations")
    assert spec.headers == ["社区编码", "单位名称", "日期", "事项", "人员", "意见"]
    assert [x.label for x in spec.fields if x.key] == ["社区编码", "单位名称", "日期", "事项", "人员"]
    assert [x.label for x in spec.fields if x.optional_column] == ["人员", "意见"]
    text = CO_HEAD + "C2,新华书店,2024-03-01,发展党员,张三,同意\nC1,新华书店,2024-03-01,发展党员,张三,\n"
    res, errs = _import(city, "consultations", text)
    assert errs == [] and res.inserted == 2
    got = {(c.unit_id, c.opinion) for c in m.UnitConsultation.select()}
    assert got == {(city["u2"].id, "同意"), (city["u1"].id, None)}
    res, errs = _import(city, "consultations", text)  # the same file again changes nothing
    assert errs == [] and (res.inserted, res.updated, res.unchanged) == (0, 0, 2)
    # 意见 is not part of the key: a new opinion updates the record
    res, errs = _import(city, "consultations", CO_HEAD + "C1,新华书店,2024-03-01,发展党员,张三,无意见\n", name="o.csv")
    assert errs == [] and res.updated == 1
    assert m.UnitConsultation.get(m.UnitConsultation.unit == city["u1"].id).opinion == "无意见"


def test_a_consultation_of_an_unknown_unit_or_community_writes_nothing(city, capsys):
    m.ResidentUnit.create(community=city["c2"], name="只在周市", kind="enterprise")
    before = _rows(m.UnitConsultation)
    p = city["folder"] / "bad.csv"
    p.write_text(CO_HEAD + "C1,新华书店,2024-03-01,发展党员,张三,\nC1,只在周市,2024-03-01,提拔干部,,\n"
                 "C9,新华书店,2024-03-02,发展党员,,\nC1,新华书店,2024-03-03,入股,,\n", encoding="utf-8")
    rc, err = _cli(capsys, "import", "consultations", p)
    assert rc == 2 and _rows(m.UnitConsultation) == before
    assert f"{p} row 3, 单位名称: 未知的单位名称 只在周市" in err  # a unit of another community is not this one's
    assert f"{p} row 4, 社区编码: 未知的社区编码 C9" in err
    assert f"{p} row 5, 事项: " in err and "发展党员/提拔干部" in err
    assert f"{p} row 2" not in err


def test_consultations_export_reimports_unchanged_and_have_a_template(city, capsys):
    _import(city, "consultations", CO_HEAD + "C2,新华书店,2024-03-01,发展党员,张三,同意\nC1,新华书店,2024-04-01,提拔干部,,\n")
    headers, rows, masked = export_rows("consultations")
    assert headers == ["社区编码", "单位名称", "日期", "事项", "人员", "意见"] and not masked
    assert sorted(rows) == [["C1", "新华书店", "2024-04-01", "提拔干部", None, None],
                            ["C2", "新华书店", "2024-03-01", "发展党员", "张三", "同意"]]
    before = _rows(m.UnitConsultation)
    rc, _err = _cli(capsys, "export", "consultations", "co.csv")
    assert rc == 0
    res, errs = _import(city, "consultations", (city["folder"] / "co.csv").read_text(encoding="utf-8-sig"),
                        name="again.csv")
    assert errs == [] and (res.inserted, res.updated, res.unchanged) == (0, 0, 2) and _rows(m.UnitConsultation) == before
    write_template("consultations", city["folder"] / "t.xlsx")
    from openpyxl import load_workbook

    wb = load_workbook(city["folder"] / "t.xlsx")
    assert [c.value for c in wb["consultations"][1]] == headers
    notes = {r[0].value: r[5].value for r in wb["说明"].iter_rows(min_row=2) if r[0].value in headers}
    assert notes["单位名称"] == "已有的单位名称"
