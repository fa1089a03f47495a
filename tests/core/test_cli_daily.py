"""The command line as community staff meet it: help and argparse's words in Chinese (English under
--lang en), the registries listed in help, status and sex as words, export's defaults, findings that
name communities and people by name with their evidence in words."""
from __future__ import annotations

import csv
import io
import json
import os
import sys

import pytest

from core import evidence
from core.cli import main
from tests import factories as f


def run(capsys, *argv):
    capsys.readouterr()
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # --help, and argparse refusing the usage
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------- help and argparse's words

def test_help_is_chinese_by_default_argparse_words_included(dangjian_env, capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert out.startswith("用法：dangjian")
    assert "选项" in out and "显示本帮助并退出" in out and "打开终端界面" in out
    assert "usage:" not in out and "show this help message" not in out and "options:" not in out
    code, out, _ = run(capsys, "check", "--help")
    assert code == 0 and "只检查此规则" in out and "位置参数" not in out and "usage:" not in out


def test_help_is_english_under_lang_en_and_chinese_under_lang_zh(dangjian_env, capsys, monkeypatch):
    code, out, _ = run(capsys, "--lang", "en", "check", "--help")
    assert code == 0 and out.startswith("usage: dangjian check")
    assert "show this help message and exit" in out and "only this rule id" in out
    monkeypatch.setenv("DANGJIAN_LANG", "en")
    code, out, _ = run(capsys, "export", "--help")
    assert code == 0 and "usage:" in out and "kinds:" in out
    code, out, _ = run(capsys, "--lang", "zh", "export", "--help")
    assert code == 0 and "用法：" in out and "记录类别：" in out and "usage:" not in out


def test_help_language_from_the_config_file(dangjian_env, capsys, tmp_path):
    cfg = tmp_path / "en.toml"
    cfg.write_text('lang = "en"\n', encoding="utf-8")
    code, out, _ = run(capsys, "--config", cfg, "template", "--help")
    assert code == 0 and out.startswith("usage:") and "kinds:" in out


def test_argparse_errors_in_the_interface_language(dangjian_env, capsys):
    code, _, err = run(capsys, "users", "add")
    assert code == 2 and "缺少以下参数：login, --role" in err and "用法：" in err
    assert "the following arguments are required" not in err
    code, _, err = run(capsys, "check", "--nope")
    assert code == 2 and "无法识别的参数：--nope" in err
    code, _, err = run(capsys, "check", "--format", "pdf")
    assert code == 2 and "无效的选项值" in err
    code, _, err = run(capsys, "--lang", "en", "users", "add")
    assert code == 2 and "the following arguments are required: login, --role" in err and "usage:" in err


def test_report_and_score_help_list_the_registries(dangjian_env, capsys):
    code, out, _ = run(capsys, "report", "--help")
    assert code == 0 and "报表：" in out
    assert "dues" in out and "党费欠缴与测算" in out and "ledger" in out and "年度党建工作台账" in out
    assert "要运行的报表名称" in out and "列出全部报表" in out and "输出格式" in out
    code, out, _ = run(capsys, "score", "--help")
    assert code == 0 and "评分：" in out and "member-points" in out and "党员积分" in out
    assert "要运行的评分名称" in out
    code, out, _ = run(capsys, "--lang", "en", "report", "--help")
    assert code == 0 and "reports:" in out and "the report to run" in out and "output format" in out


# ---------------------------------------------------------------- words, not codes

@pytest.fixture
def town(dangjian_db, monkeypatch):
    monkeypatch.setenv("DANGJIAN_TODAY", "2026-06-30")
    c = f.make_community("YS001", town="玉山镇", name="嘉坊社区")
    br = f.make_org(c, "branch", code="YS001-01", name="嘉坊社区第一党支部")
    f.make_members(51, br)  # warn: a branch of 51
    w = f.make_worker(c, posts=("secretary",))
    f.make_wage(2025, 100000)
    f.make_pay(w, 2026, 119999)  # fail: under the floor
    return c, w, br


def test_check_csv_and_xlsx_status_in_words_json_keeps_codes(town, capsys, tmp_path):
    from openpyxl import load_workbook

    code, out, _ = run(capsys, "check", "--rule", "org.kind_size", "--rule", "pay.secretary_floor", "--all",
                       "--format", "csv", "--no-store")
    rows = list(csv.reader(io.StringIO(out.lstrip("\ufeff"))))
    statuses = {r[2] for r in rows[1:]}
    assert statuses <= {"通过", "不符合", "提醒", "信息", "错误"} and {"不符合", "提醒"} <= statuses
    path = tmp_path / "f.xlsx"
    run(capsys, "check", "--rule", "pay.secretary_floor", "--format", "xlsx", "--output", path, "--no-store")
    ws = load_workbook(path).worksheets[0]
    assert list(ws.iter_rows(values_only=True))[1][2] == "不符合"
    code, out, _ = run(capsys, "check", "--rule", "pay.secretary_floor", "--format", "json", "--no-store")
    assert json.loads(out)[0]["status"] == "fail"


def test_audit_shows_sex_and_choices_in_words(town, capsys):
    from core import audit
    from core.db import write_tx

    m = f.make_member(town[2], sex="F", birth="1980-02-02")
    with write_tx():
        audit.record("create", "member", m.id, None, {"name": m.name, "sex": "F", "management_class": "resident",
                                                      "retired": False})
    code, out, _ = run(capsys, "audit", "--format", "csv")
    assert code == 0 and '""sex"": ""女""' in out and "社区党员" in out and '""retired"": ""否""' in out
    assert '""F""' not in out
    code, out, _ = run(capsys, "audit", "--format", "json")
    assert json.loads(out)[0]["new"]["sex"] == "F"  # the machine form keeps the code


# ---------------------------------------------------------------- export's defaults

def test_export_defaults_to_kind_xlsx_here_and_dash_is_stdout(town, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "export", "members")
    assert code == 0 and (tmp_path / "members.xlsx").exists() and "members.xlsx" in err and out == ""
    code, out, err = run(capsys, "export", "members", "-")
    assert code == 0 and "姓名" in out and "标准输出" in err
    assert not (tmp_path / "-").exists()


def test_export_xlsx_to_a_pipe(town, tmp_path):
    import subprocess

    env = dict(os.environ, DANGJIAN_TODAY="2026-06-30")
    r = subprocess.run([sys.executable, "-m", "core.cli", "export", "members", "-", "--format", "xlsx"],
                       capture_output=True, env=env, cwd=tmp_path, timeout=60)
    assert r.returncode == 0 and r.stdout[:2] == b"PK", r.stderr
    assert not (tmp_path / "-").exists()


def test_a_reader_that_stops_early_ends_the_export_quietly(dangjian_db, tmp_path):
    """``dangjian export members - | head -1``: no "Broken pipe" message, the SIGPIPE exit code."""
    import subprocess

    from tests import factories as fac

    c = fac.make_community("YS001", town="玉山镇")
    fac.make_members(1500, fac.make_org(c, "branch", code="YS001-01"))  # well over a pipe's buffer
    env = dict(os.environ, DANGJIAN_TODAY="2026-06-30")
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", "export", "members", "-", "--format", "csv"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path)
    assert proc.stdout.readline()  # the header row, then the reader goes away
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert err == "", err


# ---------------------------------------------------------------- findings by name, evidence in words

def test_evidence_lines_label_known_keys_and_show_unknown_ones():
    lines = evidence.evidence_lines({"kind": "branch", "formal_members": 56, "unpaid_months": ["2026-01", "2026-02"],
                                     "meeting_ids": [1, 2], "stages": {"proposed": "2026-03-01", "reviewed": None},
                                     "mystery": 3}, lang="zh")
    assert lines == ["组织类别：党支部", "正式党员：56", "欠交的月份：2026-01、2026-02",
                     "各环节：党组织提议 2026-03-01；党员大会审议 —", "mystery: 3"]
    assert evidence.evidence_lines({"kind": "branch"}, lang="en") == ["organization kind: branch"]
    many = evidence.evidence_lines({"weeks_missed": [f"W{i}" for i in range(30)]}, lang="zh")[0]
    assert many.endswith("共 30 项") and "W29" not in many
    # an age beside a masked ID number narrows the birth date: shown with full personal data only
    assert evidence.evidence_lines({"age": 39, "max_age": 40, "education": "college"}, lang="zh") == ["学历：大专"]


def test_names_within_the_view(town):
    c, w, br = town
    from core.view import View

    names = evidence.Names(View.of())
    assert names.community("YS001") == "嘉坊社区（YS001）"
    assert names.community("NOPE") == "NOPE"
    m = f.make_member(br, name="王秀英", birth="1981-03-03", sex="F")
    from core import ids

    assert names.person(m.id_number) == f"王秀英 {ids.mask(m.id_number)}"  # single-user mode masks
    assert names.by_ids("member", [m.id]) == [f"王秀英 {ids.mask(m.id_number)}"]
    assert evidence.evidence_lines({"member_id": m.id}, names, lang="zh") == [f"党员：王秀英 {ids.mask(m.id_number)}"]


def test_check_table_and_md_name_communities_and_people_evidence_in_words(town, capsys):
    c, w, br = town
    from core import ids

    code, out, _ = run(capsys, "check", "--rule", "org.kind_size", "--rule", "pay.secretary_floor", "--no-store")
    assert "== 玉山镇 嘉坊社区（YS001） ==" in out
    assert f"{w.name} {ids.mask(w.id_number)}" in out  # the worker by name and masked number
    assert "正式党员：51" in out and "组织类别：党支部" in out
    assert '{"' not in out and "formal_members" not in out
    code, out, _ = run(capsys, "check", "--rule", "org.kind_size", "--format", "md", "--no-store")
    assert "## 玉山镇 嘉坊社区（YS001）" in out and "正式党员：51" in out
    code, out, _ = run(capsys, "check", "--rule", "org.kind_size", "--format", "html", "--no-store")
    assert "嘉坊社区（YS001）" in out and "正式党员：51<br>" in out
