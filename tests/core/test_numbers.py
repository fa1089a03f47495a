"""How numbers are shown (core.numbers): one format for counts, one for money, one for scores,
in table / md / html output; csv, xlsx and json keep plain numbers."""
from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from wcwidth import wcwidth

import core

Y = 2025


# ---------------------------------------------------------------- the three formats

def test_counts_have_thousands_separators():
    from core.numbers import format_count

    assert [format_count(v) for v in (123258, 99505, 1000, 999, 0, -1234, "4567", Decimal("12000"))] == \
        ["123,258", "99,505", "1,000", "999", "0", "-1,234", "4,567", "12,000"]
    assert format_count(None) == "" and format_count("") == "" and format_count("  ") == ""


def test_money_has_separators_and_exactly_two_decimals():
    from core.numbers import format_money

    assert [format_money(v) for v in (15000, "6350", 6350.0, 40.4, Decimal("40.4"), "1,200.5", 0, -12.5)] == \
        ["15,000.00", "6,350.00", "6,350.00", "40.40", "40.40", "1,200.50", "0.00", "-12.50"]
    assert format_money(2.345) == "2.35" and format_money("-2.345") == "-2.35"  # half up, as round_cents
    assert format_money(Decimal("-0.001")) == "0.00"  # never "-0.00"
    assert format_money(1234567.891) == "1,234,567.89"
    assert format_money(None) == "" and format_money("") == ""


def test_scores_have_exactly_two_decimals():
    from core.numbers import format_score

    # one rule: two decimals, the precision a score is kept and compared at (84.99 is not 85)
    assert [format_score(v) for v in (82, "82.2", Decimal("82.20"), 84.994, 84.995, 0, -2, "60")] == \
        ["82.00", "82.20", "82.20", "84.99", "85.00", "0.00", "-2.00", "60.00"]
    assert format_score(None) == "" and format_score("") == ""


def test_table_values_are_plain_numbers_shown_in_their_format():
    from core.numbers import Count, Money, Score, cell_text, right_aligned

    c, m, s = Count(123258), Money("15000"), Score("82.2")
    assert isinstance(c, int) and isinstance(m, Decimal) and isinstance(s, Decimal)
    assert (str(c), str(m), str(s)) == ("123258", "15000.00", "82.20")  # what csv writes
    assert json.dumps([c]) == "[123258]"
    assert (cell_text(c), cell_text(m), cell_text(s)) == ("123,258", "15,000.00", "82.20")
    # anything unmarked is shown as it is: a year is no count, an unmarked Decimal no amount
    assert (cell_text(2026), cell_text(Decimal("15000.00")), cell_text(None), cell_text("KS001")) == \
        ("2026", "15000.00", "", "KS001")
    assert cell_text(True) in ("是", "yes")
    assert right_aligned([Count(1), "", Money(2), None]) and right_aligned([2026, 2025])
    assert not right_aligned(["2/3", Count(1)]) and not right_aligned(["", None]) and not right_aligned([True])


def test_the_formats_are_core_api():
    for name in ("format_count", "format_money", "format_score", "Count", "Money", "Score", "cell_text",
                 "right_aligned"):
        assert name in core.__all__
    assert core.format_money(15000) == "15,000.00"


# ---------------------------------------------------------------- report output

def _cli(capsys, *argv):
    from core.cli import main

    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _cells(line: str) -> list[str]:
    """``line`` as terminal cells: a wide character fills two (its second one is "")."""
    out = []
    for ch in line:
        out.append(ch)
        if wcwidth(ch) == 2:
            out.append("")
    return out


def _column(lines: list[str], header: str) -> list[str]:
    """The cells under ``header`` of a tabulate "simple" table, as the terminal shows them
    (exactly the width of the dashes under the header, spaces kept)."""
    head = next(i for i, ln in enumerate(lines) if header in ln.split())
    dashes = lines[head + 1]
    spans = [(m.start(), m.end()) for m in re.finditer(r"-+", dashes)]  # dashes are narrow: cells = chars
    col = lines[head].split().index(header)
    a, b = spans[col]
    return ["".join(_cells(ln)[a:b]) for ln in lines[head:] if ln.strip() and not set(ln.strip()) <= {"-", " "}]


def test_report_table_md_html_show_money_right_aligned_csv_json_xlsx_plain(dangjian_city, capsys, tmp_path):
    """The funding report: each community's floor is 15000 元 (第19条 minimum)."""
    code, out, err = _cli(capsys, "report", "funding", "--year", Y, "--format", "table")
    assert code == 0, err
    floor = _column(out.splitlines(), "保障标准")
    assert floor[0].strip() == "保障标准"
    shown = [c for c in floor[1:] if c.strip()]
    assert "15,000.00" in [c.strip() for c in shown] and "30,000.00" in [c.strip() for c in shown]  # the city total
    assert all(c.endswith("0.00") and c == c.rstrip() for c in shown), floor  # flush right
    assert all(len(c) == len(shown[0]) for c in shown) and any(c.startswith(" ") for c in shown), floor
    members = _column(out.splitlines(), "党员数")
    assert [c.strip() for c in members[1:]][:2] == ["2", "2"] and members[1].startswith(" ")  # counts too
    assert "15000.00" not in out

    code, out, err = _cli(capsys, "report", "funding", "--year", Y, "--format", "md")
    assert code == 0, err
    table = [ln for ln in out.splitlines() if ln.startswith("|")]
    head = [c.strip() for c in table[0].strip("|").split("|")]
    align = [c.strip() for c in table[1].strip("|").split("|")]
    i = head.index("保障标准")
    assert align[i].endswith(":") and not align[i].startswith(":")  # right-aligned in Markdown
    assert align[head.index("社区名称")].startswith(":") and not align[head.index("社区名称")].endswith(":")
    first = [c.strip() for c in table[2].strip("|").split("|")]
    assert first[i] == "15,000.00" and first[head.index("党员数")] == "2"

    code, out, err = _cli(capsys, "report", "funding", "--year", Y, "--format", "html")
    assert code == 0, err
    assert '<td class="num">15,000.00</td>' in out and "td.num{text-align:right" in out
    assert "15000.00" not in out

    code, out, err = _cli(capsys, "report", "funding", "--year", Y, "--format", "csv")
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out.lstrip("\ufeff"))))
    i = rows[0].index("保障标准")
    assert rows[1][i] == "15000.00" and rows[1][rows[0].index("党员数")] == "2"
    assert "15,000" not in out

    code, out, err = _cli(capsys, "report", "funding", "--year", Y, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data[0]["保障标准"] == 15000 and data[0]["党员数"] == 2 and "15,000" not in out

    path = tmp_path / "funding.xlsx"
    code, out, err = _cli(capsys, "report", "funding", "--year", Y, "--format", "xlsx", "--output", path)
    assert code == 0, err
    from openpyxl import load_workbook

    ws = load_workbook(path).active
    head = [c.value for c in ws[1]]
    cell = ws.cell(2, head.index("保障标准") + 1)
    assert cell.value == 15000 and cell.data_type == "n"
    assert ws.cell(2, head.index("党员数") + 1).data_type == "n"


def test_check_summary_counts_right_aligned(dangjian_city, capsys):
    code, out, err = _cli(capsys, "check", "--year", Y, "--format", "md")
    assert code in (0, 1), err
    table = [ln for ln in out.splitlines() if ln.startswith("|")]
    head = [c.strip() for c in table[0].strip("|").split("|")]
    align = [c.strip() for c in table[1].strip("|").split("|")]
    assert align[head.index("通过")].endswith(":") and align[head.index("规则")].startswith(":")


def test_scores_show_two_decimals_in_table_and_plain_in_csv(dangjian_city, capsys):
    code, out, err = _cli(capsys, "score", "member-points", "--year", Y)
    assert code == 0, err
    assert re.search(r"\b85\.00\b", out), out  # 张伟's 85 points (tests/core/test_reports.py)
    assert re.search(r"基础分 \+60\.00", out), out  # the items in the same format
    code, out, err = _cli(capsys, "score", "member-points", "--year", Y, "--format", "csv")
    rows = list(csv.reader(io.StringIO(out.lstrip("\ufeff"))))
    i = rows[0].index("得分")
    assert {r[i] for r in rows[1:]} >= {"85.00"}


def test_evidence_shows_amounts_as_money_and_counts_with_separators():
    from core.evidence import evidence_lines

    lines = evidence_lines({"members": 1234, "floor": "185100.00", "per_member": 150, "year": 2026,
                            "by_source": {"town_finance": "5000.00"}})
    assert lines == ["党员：1,234", "保障标准：185,100.00", "每名党员标准：150.00", "年度：2026",
                     "按来源：区镇财政 5,000.00"]


# ---------------------------------------------------------------- one home

ROOT = Path(core.__file__).resolve().parent.parent
#: where counts, money and scores are shown to people
SHOWN_IN = [*sorted((ROOT / "tui").rglob("*.py")), ROOT / "core" / "reports.py", ROOT / "core" / "output.py",
            ROOT / "core" / "report_files.py", ROOT / "core" / "scoring.py", ROOT / "core" / "evidence.py",
            *sorted((ROOT / "plugins").glob("reports_*.py")), *sorted((ROOT / "plugins").glob("scorers_*.py")),
            *sorted((ROOT / "core" / "cli").glob("*.py"))]
#: a number formatted by hand: thousands separators, a fixed count of decimals (a percentage, 85.0%, is none
#: of the three)
BY_HAND = re.compile(r"""\{[^{}]*:,[^{}]*\}|\{[^{}]*:\.\d+f\}(?!%)|format\([^()]*(\([^()]*\))*[^()]*,\s*["'][^"']*[,.]"""
                     r'|quantize\(Decimal\("0\.01"\)\),\s*"f"')


@pytest.mark.parametrize("path", SHOWN_IN, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_number_is_formatted_by_hand(path):
    """Counts, money and scores take their formats from core.numbers, nowhere else."""
    hits = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}" for n, line in
            enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if BY_HAND.search(line)]
    assert hits == []
