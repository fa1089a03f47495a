"""`dangjian check` through core.cli.main: formats, exit codes, --explain, masking."""
from __future__ import annotations

import csv
import io
import json

import pytest

from core import ids
from core.cli import main
from core.models import CheckRun, User
from tests import factories as f


@pytest.fixture
def town(dangjian_db, monkeypatch):
    monkeypatch.setenv("DANGJIAN_TODAY", "2026-06-30")
    c = f.make_community("YS001", town="玉山镇")
    br = f.make_org(c, "branch", code="YS001-01")
    f.make_members(51, br)  # warn: a branch of 51
    w = f.make_worker(c, posts=("secretary",))
    f.make_wage(2025, 100000)
    f.make_pay(w, 2026, 119999)  # fail: under the floor
    return c, w


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_exit_1_on_fail_and_table(town, capsys):
    code, out, err = run(capsys, "check", "--rule", "pay.secretary_floor", "--rule", "org.kind_size")
    assert code == 1
    assert "按规则汇总" in out and "pay.secretary_floor" in out and "YS001" in out
    assert "不符合" in out and "提醒" in out
    assert "2026" in err and "不符合 1" in err and "\n" == err[-1] and err.count("\n") == 1
    assert CheckRun.select().count() == 1


def test_exit_0_and_passes_only_with_all(town, capsys):
    code, out, _ = run(capsys, "check", "--rule", "worker.secretary_filed")
    assert code == 0 and "没有不符合" in out and "worker.secretary_filed" in out
    code, out2, _ = run(capsys, "check", "--rule", "worker.secretary_filed", "--all")
    assert code == 0 and "通过" in out2 and ids.mask(town[1].id_number) in out2  # single-user mode masks


def test_exit_2_on_error_finding_wins(town, capsys):
    from core.models import UrbanWage

    UrbanWage.delete().execute()
    code, out, err = run(capsys, "check", "--rule", "pay.secretary_floor", "--rule", "org.kind_size",
                         "--format", "json")
    assert code == 2
    data = json.loads(out)
    assert {x["status"] for x in data} == {"error", "warn"}


def test_exit_2_bad_usage(town, capsys):
    assert run(capsys, "check", "--town", "不存在镇")[0] == 2
    code, _, err = run(capsys, "check", "--community", "NOPE")
    assert code == 2 and "NOPE" in err and "Traceback" not in err
    assert run(capsys, "check", "--as-of", "2026-13-01")[0] == 2
    assert run(capsys, "check", "--rule", "no.such")[0] == 2
    assert run(capsys, "check", "--format", "xlsx")[0] == 2
    with pytest.raises(SystemExit) as e:
        main(["check", "--format", "pdf"])
    assert e.value.code == 2


def test_json_fields(town, capsys):
    code, out, _ = run(capsys, "check", "--rule", "org.kind_size", "--format", "json", "--no-store")
    data = json.loads(out)
    assert data == [{"rule": "org.kind_size", "clause": 3, "status": "warn", "town": "玉山镇", "community": "YS001",
                     "subject": "YS001-01", "message": data[0]["message"],
                     "evidence": data[0]["evidence"], "ref": data[0]["ref"]}]
    assert len(data[0]["ref"]) == 12 and int(data[0]["ref"], 16) >= 0
    assert data[0]["evidence"]["formal_members"] == 51
    assert CheckRun.select().count() == 0  # --no-store


def test_json_is_the_same_whether_the_run_is_stored_or_not(town, capsys):
    """One JSON shape: the stored run's output and ``--no-store``'s are byte for byte the same
    (field order, the evidence's compact form)."""
    _, stored, _ = run(capsys, "check", "--format", "json", "--all")
    _, unstored, _ = run(capsys, "check", "--format", "json", "--all", "--no-store")
    assert stored == unstored and json.loads(stored)
    assert CheckRun.select().count() == 1


def test_csv_headers_and_evidence(town, capsys, tmp_path):
    out_file = tmp_path / "f.csv"
    code, out, _ = run(capsys, "check", "--rule", "org.kind_size", "--format", "csv", "--output", str(out_file))
    assert code == 0 and out == ""
    text = out_file.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["规则", "条款", "结论", "区镇", "社区", "对象", "说明", "依据", "标识"]
    assert rows[1][:6] == ["org.kind_size", "3", "提醒", "玉山镇", "YS001", "YS001-01"]  # status in words
    assert json.loads(rows[1][7])["formal_members"] == 51


def test_csv_english_headers(town, capsys):
    code, out, _ = run(capsys, "--lang", "en", "check", "--rule", "org.kind_size", "--format", "csv")
    assert out.splitlines()[0] == "rule,clause,status,town,community,subject,message,evidence,ref"
    assert "branch has 51 formal members" in out


def test_xlsx(town, capsys, tmp_path):
    from openpyxl import load_workbook

    path = tmp_path / "f.xlsx"
    code, _, _ = run(capsys, "check", "--format", "xlsx", "--output", str(path), "--rule", "pay.secretary_floor")
    assert code == 1
    ws = load_workbook(path).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == ["规则", "条款", "结论", "区镇", "社区", "对象", "说明", "依据", "标识"]
    assert rows[1][0] == "pay.secretary_floor" and rows[1][2] == "不符合"
    assert json.loads(rows[1][7])["base_pay"] == "119999.00"


def test_md_and_html(town, capsys):
    code, out, _ = run(capsys, "check", "--format", "md", "--rule", "org.kind_size")
    assert out.startswith("# ") and "| org.kind_size" in out and "## 玉山镇 YS001" in out
    code, out, _ = run(capsys, "check", "--format", "html")
    assert out.startswith("<!DOCTYPE html>") and "按社区汇总" in out and "按规则汇总" in out
    assert 'class="fail"' in out and "<style>" in out and "http" not in out.split("<body>")[0]


def test_masking_for_users_without_full_data(town, capsys, monkeypatch):
    from core import access

    c, w = town
    User.create(login=access.os_login(), role="town", scope="玉山镇", full_personal_data=False)
    code, out, _ = run(capsys, "check", "--rule", "pay.secretary_floor", "--format", "json")
    data = json.loads(out)
    assert data[0]["subject"] == ids.mask(w.id_number) and w.id_number not in out
    User.update(full_personal_data=True).execute()
    code, out, _ = run(capsys, "check", "--rule", "pay.secretary_floor", "--format", "json")
    assert json.loads(out)[0]["subject"] == w.id_number


def test_explain(town, capsys, tmp_path):
    code, out, _ = run(capsys, "check", "--explain", "funding.floor")
    assert code == 0
    assert "第19条" in out and "每名党员每年不低于150元" in out
    assert "per_member = 150" in out and "默认值" in out and "通过条件" in out
    cfg = tmp_path / "c.toml"
    cfg.write_text('[towns."玉山镇".params."funding.floor"]\nper_member = 200\n', encoding="utf-8")
    code, out, _ = run(capsys, "--config", str(cfg), "check", "--explain", "funding.floor", "--town", "玉山镇")
    assert "per_member = 200" in out and "区镇配置" in out
    code, out, _ = run(capsys, "check", "--explain", "funding.floor", "--format", "json")
    assert json.loads(out)["clause"] == 19
    assert run(capsys, "check", "--explain", "no.such")[0] == 2


def test_year_and_as_of(town, capsys):
    code, out, err = run(capsys, "check", "--rule", "worker.dual_report", "--format", "json")
    assert json.loads(out)[0]["status"] == "warn"
    code, out, err = run(capsys, "check", "--rule", "worker.dual_report", "--format", "json",
                         "--as-of", "2026-12-31")
    assert json.loads(out)[0]["status"] == "fail" and code == 1
    code, out, err = run(capsys, "check", "--rule", "worker.dual_report", "--format", "json", "--year", "2025")
    assert "2025" in err and "2025-12-31" in err


@pytest.mark.parametrize("fmt", ["json", "csv", "md", "html", "xlsx"])
def test_every_output_file_is_readable_by_its_owner_only(town, capsys, tmp_path, fmt):
    """Findings name members by ID number: a file written by check is 0600 in every format, the
    streamed ones (json, csv) included, and an old file left readable by others is narrowed."""
    import os
    import stat

    out = tmp_path / f"out.{fmt}"
    out.write_bytes(b"old")
    os.chmod(out, 0o644)
    assert main(["check", "--format", fmt, "--output", str(out), "--rule", "org.kind_size"]) in (0, 1)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_bytes() != b"old"


def test_csv_streams_in_blocks_the_same_text(town, capsys, monkeypatch, tmp_path):
    """CSV is written a block of rows at a time: the same bytes whatever the block."""
    from core import output

    outs = []
    for block in (5000, 1):
        real = output.csv_chunks
        monkeypatch.setattr(output, "csv_chunks", lambda h, r, block=block, real=real: real(h, r, block))
        path = tmp_path / f"b{block}.csv"
        assert main(["check", "--format", "csv", "--output", str(path), "--all"]) in (0, 1)
        outs.append(path.read_bytes())
        monkeypatch.setattr(output, "csv_chunks", real)
    assert outs[0] == outs[1] and outs[0].startswith("\ufeff规则".encode("utf-8"))
    assert outs[0].count(b"\r\n") > 50


def test_rows_sort_by_what_the_reader_is_shown(town):
    """Within a community, table, md and html sort the findings by their subject as shown: to a
    user without full personal data, by the masked ID number, so the order never tells the
    birth dates the mask hides (the older member here sorts first by the full number)."""
    from core.api import Finding
    from core.cli import check as cli_check
    from core.evidence import Names
    from core.view import View

    older, younger = "320583198001019991", "320583199001011112"  # full order: older first
    found = [Finding("dues.on_time", 13, "warn", "玉山镇", "YS001", s, "欠交", {}) for s in (older, younger)]
    view = View.of()
    assert not view.full_personal_data
    (label, rows, statuses), = cli_check._grouped(cli_check._memory_groups(found, False), view, Names(view))
    assert [r[3] for r in rows] == [ids.mask(younger), ids.mask(older)]  # …111* before …999*
    assert statuses == ["warn", "warn"] and "YS001" in label
