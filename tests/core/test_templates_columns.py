"""XLSX templates format whole columns: text for ID numbers, codes and months, the date format
for dates, two decimals for money, and drop-downs of the allowed values (value sets, 是/否,
posts) and date checks from row 2 to the sheet's last row — not a block of the first rows only."""
from __future__ import annotations

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange

from core import enums, kinds
from core.cli import main

LAST_ROW = 1048576  # a sheet's last row (Excel's limit)


def expected_format(fld) -> str:
    if fld.type == "date":
        return "yyyy-mm-dd"
    if fld.type == "money":
        return "0.00"
    if fld.type in ("id", "text", "month") or fld.type.startswith(("idref:", "ref:")):
        return "@"
    return "General"


def expected_options(fld) -> list | None:
    if fld.type == "choice":
        return fld.choice.labels("zh")
    if fld.type == "bool":
        return ["是", "否"]
    if fld.type == "posts":
        return enums.POST.labels("zh")
    return None


@pytest.fixture
def template(dangjian_db, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)

    def make(kind: str):
        path = tmp_path / f"{kind}.xlsx"
        assert main(["template", kind, str(path)]) == 0, capsys.readouterr().err
        return load_workbook(path).worksheets[0]

    return make


@pytest.mark.parametrize("kind", ["members", "dues", "decisions", "class_changes"])
def test_template_formats_and_checks_whole_columns(template, kind):
    ws = template(kind)
    spec = kinds.get(kind)
    assert [c.value for c in ws[1]] == spec.headers
    validations = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            validations.setdefault(rng.min_col, []).append((rng, dv))
    for i, fld in enumerate(spec.fields, start=1):
        col = get_column_letter(i)
        dim = ws.column_dimensions[col]
        assert (dim.min, dim.max) == (i, i), fld.label
        assert dim.number_format == expected_format(fld), (fld.label, dim.number_format)
        options = expected_options(fld)
        found = validations.get(i, [])
        if options is None and fld.type != "date":
            assert found == [], fld.label
            continue
        assert len(found) == 1, (fld.label, found)
        rng, dv = found[0]
        assert (rng.min_col, rng.max_col, rng.min_row, rng.max_row) == (i, i, 2, LAST_ROW), (fld.label, str(rng))
        assert CellRange(f"{col}{LAST_ROW}").issubset(rng)
        if options is not None:
            assert dv.type == "list"
            assert dv.formula1.strip('"').split(",") == options, fld.label
        else:
            assert dv.type == "date", fld.label


def test_the_template_formats_cover_the_kinds_columns(template):
    """A sample of what the columns hold: the ID number and codes as text, dates, money, drop-downs."""
    members = template("members")
    col = {c.value: c.column_letter for c in members[1]}
    assert members.column_dimensions[col["公民身份号码"]].number_format == "@"
    assert members.column_dimensions[col["所在党组织编码"]].number_format == "@"
    assert members.column_dimensions[col["入党日期"]].number_format == "yyyy-mm-dd"
    assert members.column_dimensions[col["月收入"]].number_format == "0.00"
    dues = template("dues")
    col = {c.value: c.column_letter for c in dues[1]}
    assert dues.column_dimensions[col["所属月份"]].number_format == "@"
    assert dues.column_dimensions[col["应交金额"]].number_format == "0.00"
    decisions = template("decisions")
    col = {c.value: c.column_letter for c in decisions[1]}
    assert decisions.column_dimensions[col["决策编号"]].number_format == "@"
    assert decisions.column_dimensions[col["实施结果公开"]].number_format == "yyyy-mm-dd"
    changes = template("class_changes")
    col = {c.value: c.column_letter for c in changes[1]}
    lists = {str(dv.sqref): dv.formula1 for dv in changes.data_validations.dataValidation}
    assert lists[f"{col['新类别']}2:{col['新类别']}{LAST_ROW}"] == '"社区党员,在职党员,流入党员,流出党员"'
