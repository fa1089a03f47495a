"""Text at the door and on the way out: look-alike ID numbers, control characters,
formula-like text in CSV and XLSX, and stored text the door would refuse today."""
from __future__ import annotations

import csv
import io

import pytest

from core import ids, models as m, validators
from core.text import csv_guard, csv_unguard, printable
from tests import factories as f

REAL = ids.make("320583", __import__("datetime").date(1990, 1, 1), 536)  # a valid number, a woman
FULL_WIDTH = "".join(chr(ord(c) + 0xFEE0) for c in REAL)  # ３２０５８３…
ARABIC_INDIC = "".join(chr(0x0660 + int(c)) for c in REAL)  # ٣٢٠٥٨٣…


def test_look_alike_digits_become_the_same_ascii_number():
    assert ids.is_valid(REAL)
    assert ids.validate(FULL_WIDTH) == REAL
    assert ids.validate(ARABIC_INDIC) == REAL
    x = next(n for n in (ids.make("110105", __import__("datetime").date(1949, 12, 31), s) for s in range(1, 999))
             if n.endswith("X"))
    assert ids.validate(x[:17] + "ｘ") == x  # a full-width x is the check character X
    with pytest.raises(ids.IdNumberError):
        ids.validate(REAL[:17] + "Ⅸ")  # a Roman numeral is no digit


@pytest.mark.parametrize("raw", [FULL_WIDTH, ARABIC_INDIC, f" {REAL} "])
def test_a_look_alike_id_in_a_form_is_stored_as_ascii(dangjian_db, raw):
    assert validators.parse_id_number(raw) == REAL
    parse = validators.parser_for(next(x for x in validators.fields("members") if x.type == "id"))
    assert parse(raw) == REAL


@pytest.mark.parametrize("bad, code", [("张\x1b[31m三", "U+001B"), ("张三\x07", "U+0007"),
                                       ("\u202e三张", "U+202E"), ("张\x85三", "U+0085"), ("张\x7f三", "U+007F"),
                                       ("张\t三", "U+0009")])
def test_control_and_bidi_characters_are_refused_in_a_name(bad, code):
    with pytest.raises(validators.FieldError) as e:
        validators.parse_text(bad, 64)
    assert code in str(e.value)
    name = next(x for x in validators.fields("members") if x.name == "name")
    with pytest.raises(validators.FieldError):
        validators.parser_for(name)(bad)


def test_a_line_feed_only_where_several_lines_are_allowed():
    note = validators.parse_text("第一行\r\n第二行", 256, multiline=True)
    assert note == "第一行\n第二行"
    with pytest.raises(validators.FieldError) as e:
        validators.parse_text("第一行\n第二行", 64)
    assert "换行" in str(e.value) or "line break" in str(e.value)
    with pytest.raises(validators.FieldError):
        validators.parse_text("第一行\x1b第二行", 256, multiline=True)
    assert validators.parse_text("王\u00b7小明", 64) == "王\u00b7小明"  # names are not otherwise touched


def _import(tmp_path, kind, text, name="in.csv"):
    from core.importing import import_file

    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    res, _table = import_file(kind, p, progress=False)
    return res


def _members_csv(rows):
    """rows: [id number, name, sex, birth date, joined, full date, org code, class]."""
    head = "公民身份号码,姓名,性别,出生日期,入党日期,转正日期,党员状态,所在党组织编码,党员类别,离退休,行动不便,报到日期,编入日期,流动党员活动证号,联系人\n"
    return head + "".join(",".join(r[:6] + ["正式党员"] + r[6:8] + ["否", "否", "", "", "", ""]) + "\n" for r in rows)


def _dump(model):
    return sorted(tuple(r.values()) for r in model.select().dicts())


@pytest.fixture
def branch(dangjian_db):
    f.record_me(full_personal_data=True)
    c = f.make_community("0101")
    return f.make_org(c, code="0101-01")


def test_importing_a_full_width_id_finds_the_member_instead_of_making_a_second(branch, tmp_path):
    f.make_member(branch, id_number=REAL, name="张三", birth="1990-01-01", sex="F")
    res = _import(tmp_path, "members", _members_csv(
        [[FULL_WIDTH, "张三", "女", "1990-01-01", "2009-01-01", "2010-01-01", "0101-01", "社区党员"]]))
    assert not res.rejected and res.written
    assert m.Member.select().count() == 1
    assert m.Member.get().id_number == REAL


def test_an_import_with_a_control_character_names_row_and_column_and_writes_nothing(branch, tmp_path):
    from core.importing import import_file

    before = _dump(m.Member)
    p = tmp_path / "bad.csv"
    p.write_text(_members_csv([[f.new_id("1980-01-01"), "李四", "男", "", "2009-01-01", "2010-01-01", "0101-01",
                                "社区党员"],
                               [f.new_id("1981-01-01"), "王\x1b[2J五", "男", "", "2009-01-01", "2010-01-01",
                                "0101-01", "社区党员"]]), encoding="utf-8")
    res, _ = import_file("members", p, progress=False)
    assert not res.written
    assert [(it.rowno, name) for it in res.rejected for name, _msg in it.errors] == [(3, "name")]
    assert "U+001B" in res.rejected[0].errors[0][1]
    assert _dump(m.Member) == before


# ---------------------------------------------------------------- on the way out

def test_csv_guard_round_trip():
    for s in ["=HYPERLINK(\"http://x\",\"y\")", "+1 号", "@SUM(A1)", "-x", "'quoted", "\tTab", "\rCR", "plain",
              "普通文字", "'", "''"]:
        assert csv_unguard(csv_guard(s)) == s
        if s[:1] in "=+-@'\t\r" and s:
            assert csv_guard(s).startswith("'")
    for number in ["-5", "+3", "-12.50", "50%"]:
        assert csv_guard(number) == number  # numbers are never prefixed


def test_printable_escapes_whatever_is_stored():
    assert printable("a\x1b[31mb\u202ec") == "a\\x1b[31mb\\u202ec"
    assert printable("一\n二", keep_newlines=True) == "一\n二"
    assert printable("一\n二") == "一\\x0a二"


def _plant(branch, name, work_unit=None):
    """A member stored around the door (as data from before it, or a hand-edited database)."""
    mem = f.make_member(branch, name="占位", birth="1985-03-03")
    m.Member.update(name=name, work_unit=work_unit).where(m.Member.id == mem.id).execute()
    return mem


def test_formula_text_round_trips_through_csv_and_xlsx_exports(branch, tmp_path):
    from core.importing import write_export

    f.make_member(branch, name="=HYPERLINK(\"http://evil\",\"点我\")", birth="1985-03-03",
                  work_unit="@SUM(1+1)*cmd|' /C calc'!A0")
    f.make_member(branch, name="-李", birth="1986-03-03", work_unit="+86 单位")
    from core import pinyin

    for mem in m.Member.select():  # the factory leaves the derived initials empty
        m.Member.update(initials=pinyin.initials(mem.name)).where(m.Member.id == mem.id).execute()
    before = _dump(m.Member)
    for fmt in ("csv", "xlsx"):
        out = tmp_path / f"members.{fmt}"
        write_export("members", out, fmt=fmt)
        if fmt == "csv":
            text = out.read_text(encoding="utf-8-sig")
            cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
            assert "'=HYPERLINK(\"http://evil\",\"点我\")" in cells and "'-李" in cells
            assert not any(c.startswith(("=", "+", "@")) for c in cells)
        else:
            from openpyxl import load_workbook

            ws = load_workbook(out).worksheets[0]
            assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
            assert any(c.value == "=HYPERLINK(\"http://evil\",\"点我\")" and c.data_type == "s"
                       for row in ws.iter_rows() for c in row)
        from core.importing import import_file

        res, _ = import_file("members", out, progress=False)
        assert not res.rejected and res.written
        assert _dump(m.Member) == before, fmt  # 未变: no duplicate, no change
        again = tmp_path / f"again.{fmt}"
        write_export("members", again, fmt=fmt)
        if fmt == "csv":
            assert again.read_bytes() == out.read_bytes()


def test_stored_control_characters_do_not_break_xlsx_or_reach_a_table_raw(branch, tmp_path, capsys):
    from core.importing import write_export
    from core.output import render

    _plant(branch, "王\x1b]0;owned\x07五")
    out = tmp_path / "m.xlsx"
    write_export("members", out, fmt="xlsx")  # openpyxl would raise IllegalCharacterError on the raw name
    from openpyxl import load_workbook

    names = [c.value for row in load_workbook(out).worksheets[0].iter_rows() for c in row]
    assert "王\\x1b]0;owned\\x07五" in names
    render(["姓名"], [["王\x1b]0;owned\x07五"]], "table")
    shown = capsys.readouterr().out
    assert "\x1b" not in shown and "\x07" not in shown and "\\x1b" in shown


def test_the_stored_text_check_lists_look_alikes_and_control_characters(branch):
    from core import stored_text

    f.make_member(branch, id_number=REAL, name="张三", birth="1990-01-01", sex="F")
    twin = f.make_member(branch, name="占位2", birth="1979-01-01")
    m.Member.update(id_number=FULL_WIDTH).where(m.Member.id == twin.id).execute()
    bad = _plant(branch, "王\u202e五")
    problems = stored_text.scan()
    kinds_ = {(p.kind, p.row, p.what) for p in problems}
    assert ("members", twin.id, "lookalike_id") in kinds_
    assert ("members", bad.id, "control") in kinds_
    line = stored_text.counts_line(problems)
    assert "1" in line and "dangjian init" in line
    assert str(twin.id) not in line  # counts only: no record named
    where = "\n".join(stored_text.where_lines(problems))
    assert f"记录 {twin.id}" in where and "U+202E" in where
    assert stored_text.counts_line([]) is None


def test_the_apps_line_filter_takes_control_characters_out_of_every_line():
    from rich.segment import Segment
    from textual.color import Color

    from tui.api import ControlCharacterFilter, LedgerApp

    out = ControlCharacterFilter().apply([Segment("王\x1b]0;x\x07五\u202e"), Segment("ok")], Color(0, 0, 0))
    assert "".join(s.text for s in out) == "王]0;x五ok"
    assert "get_line_filters" in LedgerApp.__dict__


def test_init_lists_where_and_an_automatic_upgrade_prints_counts_only(branch, capsys):
    from core import db, migrations
    from core.cli import main

    bad = _plant(branch, "王\x1b五")
    assert main(["init"]) == 0
    err = capsys.readouterr().err
    assert f"members 记录 {bad.id}" in err and "U+001B" in err
    # as if the database were one version older: the next command upgrades it and prints counts only
    db.database.execute_sql('DELETE FROM "ref_secret"')
    migrations.SchemaVersion.update(version=len(migrations.STEPS) - 1).execute()
    db.close()
    assert main(["report", "--list"]) == 0
    err = capsys.readouterr().err
    assert "1 处文字含控制字符" in err and f"记录 {bad.id}" not in err
