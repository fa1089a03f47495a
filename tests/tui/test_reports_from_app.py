"""Every report from the app, as a file: keys pressed at 80x24, the screen read, the file checked.

Single-user mode (an ordinary account): the file goes into ``[reports] dir`` (default
``~/Documents/dangjian``), mode 0600, its full path on screen; a report that is one
community's book (the ledger) asks for the community when the scope holds several.  Under a
city server's service account nothing is written: the screen shows the ``ssh`` command that
fetches the report, and that command is run through the README's session wrapper over a real
``sshd`` (tests/core/test_ssh.py; skipped where it cannot run)."""
from __future__ import annotations

import re
import shlex
import socket
import stat
from pathlib import Path

import pytest

from tests.tui.ledger_fixtures import run, screen_text, settle

pytestmark = pytest.mark.timeout(240)

TODAY = "2026-11-28"
JIAFANG, LVYANG = "320583100001", "320583100002"


@pytest.fixture
def demo(dangjian_db, monkeypatch, tmp_path):
    monkeypatch.setenv("DANGJIAN_TODAY", TODAY)
    monkeypatch.chdir(tmp_path)
    from core import config, demo as demo_mod, plugins

    config.load(None)
    demo_mod.build("small")
    plugins.load()
    return tmp_path


@pytest.fixture
def reports_dir(demo, tmp_path):
    """``[reports] dir`` set in a config file: a folder that does not exist yet."""
    from core import config

    folder = tmp_path / "out" / "报表"
    cfg = tmp_path / "dangjian.toml"
    cfg.write_text(f'[reports]\ndir = "{folder}"\n', encoding="utf-8")
    config.load(cfg)
    return folder


def _app():
    from tui.app import DangjianApp

    return DangjianApp()


async def _open_report(app, pilot, name: str) -> None:
    names = [n for n, _t in app.menu_entries()]
    await pilot.press("f2")
    await settle(pilot)
    await pilot.press(*["down"] * names.index(f"report:{name}"), "enter")
    await settle(pilot)


async def _pick_community(pilot, code: str) -> None:
    """The community picker: type the code, Enter takes the first match."""
    await pilot.press(*code, "enter")
    await settle(pilot, rounds=4)


def _dialog(text: str) -> list[str]:
    """The rows of the result dialog: between its top and bottom rules."""
    lines = text.splitlines()
    rules = [i for i, line in enumerate(lines) if line.strip() and set(line.strip()) <= set("─━▔▁")]
    assert len(rules) >= 2, text
    return [line.rstrip() for line in lines[rules[-2] + 1:rules[-1]]]


def _boxed(text: str) -> str:
    """The dialog's text, its rows joined (a long path wraps at the screen's edge)."""
    return "".join(_dialog(text))


def _command(text: str) -> str:
    """The command in the dialog, its `` \\`` continuations joined back into one line."""
    return re.sub(r" \\\n  ", " ", "\n".join(_dialog(text)))


def _only_file(folder: Path) -> Path:
    files = [p for p in folder.iterdir() if not p.name.startswith(".")]
    assert len(files) == 1, files
    return files[0]


# ---------------------------------------------------------------- single-user mode: a file saved


def test_ledger_over_the_city_asks_for_the_community_and_saves_its_book(reports_dir):
    async def body():
        app = _app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await _open_report(app, pilot, "ledger")
            text = screen_text(app)
            assert "年度党建工作台账" in text.splitlines()[0], text
            assert "回车选择社区" in text and "--community" not in text and "dangjian report" not in text, text
            await pilot.press("enter")  # ▶ 选择社区
            await settle(pilot)
            text = screen_text(app)
            assert "嘉坊社区" in text and "绿阳社区" in text, text
            await _pick_community(pilot, LVYANG)
            text = screen_text(app)
            path = reports_dir / f"ledger-{LVYANG}-2026.html"
            assert str(path) in _boxed(text), text  # the full path, on screen
            assert "绿阳社区" in text and "用浏览器打开后打印" in text, text
            await pilot.press("escape")
            await settle(pilot)
            assert "年度党建工作台账" in screen_text(app).splitlines()[0]
            return path

    path = run(body)
    assert _only_file(reports_dir) == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    html = path.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "绿阳社区" in html and "嘉坊社区" not in html


def test_ledger_with_the_scope_narrowed_to_a_community_is_saved_by_enter(reports_dir):
    async def body():
        app = _app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.set_scope("玉山镇", JIAFANG)  # as F9 leaves it
            await settle(pilot)
            await _open_report(app, pilot, "ledger")
            text = screen_text(app)
            assert "回车保存为文件" in text and "保存可打印的 HTML 文件" in text, text
            await pilot.press("enter")
            await settle(pilot, rounds=4)
            return screen_text(app)

    text = run(body)
    path = reports_dir / f"ledger-{JIAFANG}-2026.html"
    assert str(path) in _boxed(text), text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "嘉坊社区" in path.read_text(encoding="utf-8")


def test_a_table_report_is_saved_in_the_format_chosen(reports_dir):
    from openpyxl import load_workbook

    async def body():
        app = _app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await _open_report(app, pilot, "dues")
            rows = re.search(r"([\d,]+) 行", screen_text(app))
            assert rows, screen_text(app)
            await pilot.press("ctrl+s")
            await settle(pilot)
            text = screen_text(app)
            assert "可打印的 HTML" in text and "Excel" in text and "CSV" in text, text
            await pilot.press("down", "enter")  # Excel
            await settle(pilot, rounds=4)
            return int(rows.group(1).replace(",", "")), screen_text(app)

    n, text = run(body)
    path = reports_dir / "dues-2026.xlsx"
    assert str(path) in _boxed(text), text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    ws = load_workbook(path).active
    assert ws.max_row == n + 1 and ws["D1"].value == "姓名"


def test_the_default_reports_folder_is_documents_dangjian(demo, monkeypatch):
    from core import report_files

    home = Path(demo) / "home2"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    assert report_files.reports_dir() == home / "Documents" / "dangjian"


def test_a_report_file_never_lands_on_the_database_and_never_follows_a_symlink(demo, tmp_path):
    from core import db, report_files
    from core.errors import UserError

    if db.sqlite_path():  # the database file and its side files (SQLite; PostgreSQL has none here)
        dbfile = Path(db.sqlite_path())
        for name in (dbfile.name, dbfile.name + "-wal", dbfile.name + ".writelock"):
            with pytest.raises(UserError):
                report_files.write_file(dbfile.parent, name, b"<html></html>")
        assert dbfile.read_bytes()[:15] == b"SQLite format 3"
    folder = tmp_path / "r"
    folder.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    (folder / "x.html").symlink_to(victim)
    path = report_files.write_file(folder, "x.html", b"<p>new</p>")
    assert victim.read_text() == "keep" and not path.is_symlink()
    assert path.read_bytes() == b"<p>new</p>" and stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)  # an old file left readable: written again, it is 0600
    report_files.write_file(folder, "x.html", b"again")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and _only_file(folder) == path


# ---------------------------------------------------------------- under the service account: the command


def _as_service_account(monkeypatch):
    from core import server as deployment

    monkeypatch.setattr(deployment, "_deployment", deployment.Deployment(service=True, account="dangjian"))


def test_under_the_service_account_the_app_shows_the_ssh_command_and_writes_nothing(reports_dir, monkeypatch):
    async def body():
        app = _app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            login = app.principal.login
            _as_service_account(monkeypatch)
            await _open_report(app, pilot, "ledger")
            await pilot.press("enter")
            await settle(pilot)
            await _pick_community(pilot, LVYANG)
            return login, screen_text(app)

    login, text = run(body)
    command = f"ssh {login}@{socket.gethostname()} report ledger --community {LVYANG} > ledger-{LVYANG}-2026.html"
    assert command in _command(text).splitlines(), text
    assert "在你自己的电脑上运行" in text
    assert not reports_dir.exists()


def test_the_fetch_command_names_the_year_format_and_scope_when_needed(demo):
    from core.report_files import fetch_command

    assert fetch_command("wangli", "dj.example.cn", "ledger", None, None, "KS0101", "html", "ledger-KS0101-2026.html",
                         with_format=False) == \
        "ssh wangli@dj.example.cn report ledger --community KS0101 > ledger-KS0101-2026.html"
    assert fetch_command("wangli", "dj", "dues", 2025, "玉山镇", None, "xlsx", "dues-2025.xlsx", lang="en") == \
        "ssh wangli@dj --lang=en report dues --year 2025 --town 玉山镇 --format xlsx > dues-2025.xlsx"


def test_report_ledger_without_output_writes_the_page_to_stdout(demo, capsys):
    from core.cli import main

    capsys.readouterr()
    assert main(["report", "ledger", "--community", JIAFANG]) == 0
    out = capsys.readouterr().out
    assert out.startswith("<!DOCTYPE html>") and "嘉坊社区" in out and "绿阳社区" not in out


from tests.core.test_ssh import pytestmark as _ssh_marks  # noqa: E402
from tests.core.test_ssh import server, ssh  # noqa: E402,F401  (the sshd fixture of the SSH tests)


def _with_ssh_marks(test):
    for mark in _ssh_marks:  # skipped where sshd, ssh, sudo, root or mount namespaces are missing
        test = mark(test)
    return test


@_with_ssh_marks
@pytest.mark.timeout(300)
def test_the_fetch_command_works_through_the_readme_wrapper(server, tmp_path):  # noqa: F811
    from core.report_files import fetch_command

    staff = server["users"]["staff"]
    command = fetch_command(staff, "127.0.0.1", "ledger", None, None, "S1", "html", "ledger-S1.html",
                            with_format=False)
    words = shlex.split(command)
    assert words[0] == "ssh" and words[1] == f"{staff}@127.0.0.1" and words[-2] == ">"
    p = ssh(server, "staff", *words[2:-2])  # the same words, with the test server's key and port
    assert p.returncode == 0, p.stderr
    (tmp_path / words[-1]).write_text(p.stdout, encoding="utf-8")  # what "> ledger-S1.html" keeps
    html = (tmp_path / words[-1]).read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "一社区" in html, html[:500]
