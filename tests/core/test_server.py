"""The city-server deployment attacked as a staff member or another local user would.

In-process tests patch the system config's path and the effective login
(``service_mode`` fixture); the wrapper tests run the README's session wrapper
verbatim through real ``sudo`` with throwaway accounts, in a private mount
namespace where a test system config is bound over ``/etc/dangjian``.
"""
from __future__ import annotations

import argparse
import io
import os
import pwd
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from core import server
from core.cli import build_parser, main
from core.errors import UserError
from tests import server_env

ROOT = Path(__file__).resolve().parents[2]


def cli(capsys, *argv):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse refuses the usage
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def _sqlite_file(url: str) -> Path:
    return Path(url[len("sqlite:///"):])


def _integrity(path: Path) -> str:
    con = sqlite3.connect(path)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


# ---------------------------------------------------------------- item 1: abbreviations, output paths

def _parsers(parser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def test_no_parser_accepts_abbreviated_options():
    parsers = list(_parsers(build_parser()))
    assert len(parsers) > 15
    assert all(p.allow_abbrev is False for p in parsers)


def test_abbreviated_output_option_is_refused(dangjian_db, capsys, tmp_path):
    code, out, err = cli(capsys, "check", "--format", "csv", "--outp", tmp_path / "x.csv")
    assert code == 2 and "--outp" in err
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm", ".writelock"])
def test_output_onto_the_database_or_its_side_files_is_refused(dangjian_db, capsys, suffix):
    if not dangjian_db.startswith("sqlite"):
        pytest.skip("the database is a file only on SQLite")
    path = _sqlite_file(dangjian_db)
    target = Path(str(path) + suffix)
    for argv in (["check", "--format", "csv", "--output", target],
                 ["report", "roster", "--format", "csv", "--output", target],
                 ["audit", "--output", target],
                 ["export", "communities", target],
                 ["template", "members", target]):
        code, out, err = cli(capsys, *argv)
        assert code == 2, (argv, err)
        assert "Traceback" not in err
    assert _integrity(path) == "ok"


def test_output_through_a_symlink_to_the_database_is_refused(dangjian_db, capsys, tmp_path):
    if not dangjian_db.startswith("sqlite"):
        pytest.skip("the database is a file only on SQLite")
    link = tmp_path / "innocent.csv"
    link.symlink_to(_sqlite_file(dangjian_db))
    code, out, err = cli(capsys, "check", "--format", "csv", "--output", link)
    assert code == 2 and "database" in err or "数据库" in err
    assert _integrity(_sqlite_file(dangjian_db)) == "ok"


# ---------------------------------------------------------------- item 2: the system config

def test_service_account_in_a_user_config_is_an_error(dangjian_env, tmp_path, capsys):
    for key, value in (("service_account", '"me"'), ("db", '"sqlite:////tmp/x.db"'), ("backup_dir", '"/tmp"')):
        cfg = tmp_path / f"{key}.toml"
        cfg.write_text(f"{key} = {value}\n", encoding="utf-8")
        code, out, err = cli(capsys, "--config", cfg, "--db", f"sqlite:///{tmp_path / 'a.db'}", "check")
        assert code == 2 and key in err and "/etc/dangjian/config.toml" in err


@pytest.mark.parametrize("argv,env", [
    (["--db", "sqlite:////tmp/other.db", "check"], {}),
    (["--config", "/tmp/mine.toml", "check"], {}),
    (["check"], {"DANGJIAN_DB": "sqlite:////tmp/other.db"}),
    (["check"], {"DANGJIAN_CONFIG": "/tmp/mine.toml"}),
    (["check"], {"DANGJIAN_PLUGIN_DIRS": "/tmp/evil"}),
    (["tui"], {"TEXTUAL_LOG": "/tmp/other.db"}),  # the terminal library would write its log there
    (["tui"], {"TEXTUAL_DRIVER": "evil:Driver"}),
    (["tui"], {"TEXTUAL_PRESS": "ctrl+q"}),
])
def test_service_account_refuses_db_config_and_plugin_overrides(service_mode, capsys, monkeypatch, argv, env):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    code, out, err = cli(capsys, *argv)
    assert code == 2 and str(server.SYSTEM_CONFIG) in err
    assert all(name in err for name in env)
    assert not Path("/tmp/other.db").exists()


@pytest.mark.parametrize("argv", [
    ["check", "--output", "x.csv"],
    ["report", "roster", "--output", "r.html"],
    ["score", "member-points", "--output", "s.csv"],
    ["audit", "--output", "a.csv"],
    ["export", "members", "members.xlsx"],
    ["export", "members"],
    ["template", "members", "t.xlsx"],
    ["import", "members", "/etc/passwd"],
    ["import", "members", "-", "--partial", "--rejects", "r.csv"],
    ["backup", "/tmp/copy.db"],
])
def test_service_account_takes_no_path_arguments(service_mode, capsys, argv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(capsys, *argv)
    assert code == 2, err
    assert "标准输出" in err or "stdout" in err or "路径" in err
    assert list(tmp_path.iterdir()) == [p for p in tmp_path.iterdir() if p.name in ("etc", "backups", "home")]


@pytest.mark.skipif(os.geteuid() != 0, reason="the owner and mode checks need a root-owned file")
def test_system_config_must_be_root_owned_and_not_writable_by_others(service_mode, capsys):
    path = service_mode()
    os.chmod(path, 0o660)
    server.reset()
    code, out, err = cli(capsys, "check")
    assert code == 2 and "chmod 0640" in err
    os.chmod(path, 0o640)
    os.chown(path, 65534, 0)
    server.reset()
    code, out, err = cli(capsys, "check")
    assert code == 2 and "root" in err


def test_a_staff_account_that_cannot_read_the_system_config_is_not_the_service_account(dangjian_env, monkeypatch,
                                                                                        tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('service_account = "djsvc"\n', encoding="utf-8")
    monkeypatch.setattr(server, "SYSTEM_CONFIG", path)
    monkeypatch.setattr(os, "access", lambda p, mode: False)
    server.reset()
    assert server.deployment().service is False


# ---------------------------------------------------------------- item 3: identity

def _fake_user(monkeypatch, name="zhaomin", uid=4242):
    real = pwd.getpwuid

    def getpwuid(u):
        if u == uid:
            return pwd.struct_passwd((name, "x", uid, uid, "", "/", "/bin/sh"))
        return real(u)

    monkeypatch.setattr(pwd, "getpwuid", getpwuid)
    monkeypatch.setenv("SUDO_USER", name)
    monkeypatch.setenv("SUDO_UID", str(uid))
    return uid


def _tree(*entries):
    """A fake process tree: entries of (name, real uid, effective uid), nearest parent first."""
    table = {}
    pid = os.getppid()
    for i, (name, ruid, euid) in enumerate(entries):
        nxt = 5000 + i
        table[pid] = {"Name": name, "Uid": f"{ruid}\t{euid}\t{euid}\t{euid}", "PPid": str(nxt)}
        pid = nxt
    table[pid] = {"Name": "init", "Uid": "0\t0\t0\t0", "PPid": "0"}

    def status(p):
        if p not in table:
            raise FileNotFoundError(p)
        return table[p]

    return status


def test_verified_sudo_user_through_the_wrapper_shell(service_mode, monkeypatch):
    uid = _fake_user(monkeypatch)
    status = _tree(("sh", 999, 999), ("sudo", uid, 0), ("bash", uid, uid))
    assert server.verified_sudo_user(proc_status=status) == "zhaomin"


def test_hidden_proc_is_refused_with_the_fix(service_mode, monkeypatch):
    """/proc mounted hidepid=2: the sudo parent (root's) cannot be read by the service account."""
    uid = _fake_user(monkeypatch)

    def hidden(pid):
        raise FileNotFoundError(pid)

    with pytest.raises(UserError) as err:
        server.verified_sudo_user(proc_status=hidden)
    assert "hidepid=2,gid=" in str(err.value)
    monkeypatch.setattr(server, "_proc_status", hidden)
    from core import access

    with pytest.raises(UserError, match="hidepid=2,gid="):
        access.os_login()


def test_sudo_user_root_is_refused(service_mode, monkeypatch):
    monkeypatch.setenv("SUDO_USER", "root")
    monkeypatch.setenv("SUDO_UID", "0")
    with pytest.raises(UserError, match="root"):
        server.verified_sudo_user(proc_status=_tree(("sudo", 0, 0)))


def test_sudo_with_another_real_uid_or_a_forged_sudo_uid_is_refused(service_mode, monkeypatch):
    uid = _fake_user(monkeypatch)
    with pytest.raises(UserError):
        server.verified_sudo_user(proc_status=_tree(("sh", 1, 1), ("sudo", uid + 1, 0)))
    with pytest.raises(UserError):  # a "sudo" that is not privileged (a renamed program of the user's)
        server.verified_sudo_user(proc_status=_tree(("sudo", uid, uid)))
    monkeypatch.setenv("SUDO_UID", str(uid + 7))
    with pytest.raises(UserError):
        server.verified_sudo_user(proc_status=_tree(("sudo", uid, 0)))


def test_service_account_cron_runs_only_backup_check_report_masked(service_mode, capsys):
    code, out, err = cli(capsys, "check", "--format", "json")
    assert code in (0, 1), err
    from core import access

    me = access.resolve()
    assert me.system and me.login == "system:djsvc" and not me.full_personal_data and me.read_only
    for argv in (["tui"], ["users", "list"], ["import", "communities", "-"], ["export", "members", "-"],
                 ["audit"], ["score", "member-points"], ["init"], ["restore", "x.db", "--yes"]):
        code, out, err = cli(capsys, *argv)
        assert code == 2 and "backup" in err and "check" in err, (argv, err)


def test_service_account_backup_is_dated_in_the_backup_folder_and_prunes(service_mode, capsys):
    old = service_mode.backups / "dangjian-20200101-021500.db"
    old.write_bytes(b"old")
    part = service_mode.backups / ".dangjian-20200101-021500.db.abc.part"
    part.write_bytes(b"half")
    other = service_mode.backups / "notes.txt"
    other.write_bytes(b"keep")
    week_ago = time.time() - 8 * 86400
    for p in (old, part, other):
        os.utime(p, (week_ago, week_ago))
    code, out, err = cli(capsys, "backup", "--prune", "7")
    assert code == 0, err
    names = sorted(p.name for p in service_mode.backups.iterdir())
    assert "notes.txt" in names and old.name not in names and part.name not in names
    new = [n for n in names if re.fullmatch(r"dangjian-\d{8}-\d{6}\.db", n)]
    assert len(new) == 1


def test_the_service_account_is_never_a_user(service_mode, capsys, monkeypatch):
    monkeypatch.setenv("SUDO_USER", "zhaomin")
    monkeypatch.setattr(server, "verified_sudo_user", lambda *a, **k: "zhaomin")
    code, out, err = cli(capsys, "users", "add", "djsvc", "--role", "admin")
    assert code == 2


def test_empty_server_runs_only_init_and_users_add_which_records_the_admin(service_mode, capsys, monkeypatch):
    monkeypatch.setenv("SUDO_USER", "zhaomin")
    monkeypatch.setattr(server, "verified_sudo_user", lambda *a, **k: "zhaomin")
    for argv in (["check"], ["tui"], ["report", "roster"], ["users", "list"], ["export", "members", "-"]):
        code, out, err = cli(capsys, *argv)
        assert code == 2 and "users add" in err, (argv, err)
    assert cli(capsys, "init")[0] == 0
    code, out, err = cli(capsys, "users", "add", "wangli", "--role", "city")
    assert code == 0, err
    from core.models import AuditLog, User

    users = {u.login: u.role for u in User.select()}
    assert users == {"zhaomin": "admin", "wangli": "city"}
    assert {a.user for a in AuditLog.select()} == {"zhaomin"}


def test_system_jobs_are_audited_as_system_account(service_mode, capsys, monkeypatch):
    from core import audit
    from core.db import write_tx
    from core.models import AuditLog

    cli(capsys, "check", "--format", "json")  # connects and resolves the system principal
    from core import access

    access.set_current(access.resolve())
    with write_tx():
        audit.record("create", "user", 1, None, {"x": 1})
    assert AuditLog.select().order_by(AuditLog.id.desc()).first().user == "system:djsvc"


# ---------------------------------------------------------------- stdin in, stdout out

COMMUNITIES = "区镇,街道,社区编码,社区名称\n玉山镇,城东街道,S901,城东社区\n玉山镇,城东街道,S902,城西社区\n"


def _stdin(monkeypatch, data: bytes):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def test_import_from_stdin_csv_and_xlsx_by_content(dangjian_db, capsys, monkeypatch):
    _stdin(monkeypatch, COMMUNITIES.encode("utf-8"))
    code, out, err = cli(capsys, "import", "communities", "-")
    assert code == 0, err
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for line in COMMUNITIES.replace("城西社区", "城西新社区").splitlines():
        ws.append(line.split(","))
    buf = io.BytesIO()
    wb.save(buf)
    _stdin(monkeypatch, buf.getvalue())
    code, out, err = cli(capsys, "import", "communities", "-")
    assert code == 0, err
    from core.models import Community

    assert Community.get(Community.code == "S902").name == "城西新社区"


def test_import_from_stdin_names_stdin_in_row_errors_and_partial_rejects_go_to_stdout(dangjian_db, capsys,
                                                                                      monkeypatch):
    _stdin(monkeypatch, (COMMUNITIES + "玉山镇,城东街道,,无编码社区\n").encode("utf-8"))
    code, out, err = cli(capsys, "import", "communities", "-")
    assert code == 2 and "stdin row 4" in err
    from core.models import Community

    assert Community.select().count() == 0
    _stdin(monkeypatch, (COMMUNITIES + "玉山镇,城东街道,,无编码社区\n").encode("utf-8"))
    code, out, err = cli(capsys, "import", "communities", "-", "--partial")
    assert code == 1
    assert "无编码社区" in out and "错误原因" in out
    assert Community.select().count() == 2


def test_import_from_stdin_is_size_capped(dangjian_db, capsys, monkeypatch, tmp_path):
    cfg = tmp_path / "small.toml"
    cfg.write_text("[import]\nmax_bytes = 64\n", encoding="utf-8")
    _stdin(monkeypatch, COMMUNITIES.encode("utf-8") * 10)
    code, out, err = cli(capsys, "--config", cfg, "import", "communities", "-")
    assert code == 2 and "64" in err
    from core.models import Community

    assert Community.select().count() == 0


def test_export_and_template_to_stdout(dangjian_db, capsys, monkeypatch):
    _stdin(monkeypatch, COMMUNITIES.encode("utf-8"))
    assert cli(capsys, "import", "communities", "-")[0] == 0
    code, out, err = cli(capsys, "export", "communities", "-")
    assert code == 0 and "S901" in out and "社区编码" in out
    code, out, err = cli(capsys, "template", "members", "-")
    assert code == 0 and "公民身份号码" in out


def test_export_xlsx_to_a_pipe(dangjian_db, tmp_path):
    env = dict(os.environ, DANGJIAN_DB=dangjian_db)
    proc = subprocess.run([sys.executable, "-m", "core.cli", "export", "communities", "-", "--format", "xlsx"],
                          capture_output=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout[:4] == b"PK\x03\x04"


def test_export_without_a_file_writes_kind_xlsx_here_and_says_so(dangjian_db, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(capsys, "export", "communities")
    assert code == 0 and (tmp_path / "communities.xlsx").exists() and "communities.xlsx" in err


# ---------------------------------------------------------------- the README's wrapper through real sudo

def readme_wrapper() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"```sh\n((?:   )?#!/bin/sh\n(?:   )?# dangjian-ssh:.*?)```", text, re.S)
    assert m, "the session wrapper is missing from README.md"
    return "\n".join(line[3:] if line.startswith("   ") else line for line in m.group(1).splitlines()) + "\n"


def test_readme_wrapper_is_found():
    w = readme_wrapper()
    assert w.startswith("#!/bin/sh") and "exec /opt/dangjian/bin/dangjian" in w
    assert "DANGJIAN_DB" not in w and "DANGJIAN_CONFIG" not in w


needs_sudo = [
    pytest.mark.skipif(os.geteuid() != 0, reason="creating accounts and sudo rules needs root"),
    pytest.mark.skipif(not shutil.which("sudo") or not shutil.which("runuser"),
                       reason="sudo not installed (Debian: sudo; .ci/run installs it)"),
    pytest.mark.skipif(not server_env.NAMESPACES, reason=server_env.WHY_NOT),
]


@pytest.fixture(scope="module")
def sudo_server(tmp_path_factory):
    """A staff account that may run only the README's wrapper as the service account (root here,
    so that the test needs no world-readable Python), a system config bound over /etc/dangjian in a
    private mount namespace, and a database with one community and the staff member as city user."""
    for mark in needs_sudo:
        if mark.args[0]:
            pytest.skip(mark.kwargs["reason"])
    folder = tmp_path_factory.mktemp("sudo_server")
    os.chmod(folder, 0o755)
    staff = f"djw{uuid.uuid4().hex[:8]}"
    subprocess.run(["useradd", "-M", "-d", "/tmp", "-s", "/bin/sh", "-p", "*", staff], check=True)
    rule = Path(f"/etc/sudoers.d/dangjian_wrap_{staff}")
    try:
        dbdir = folder / "db"
        dbdir.mkdir(mode=0o700)
        url = f"sqlite:///{dbdir / 'dangjian.db'}"
        backups = folder / "backups"
        backups.mkdir(mode=0o700)
        etc = folder / "etc"
        server_env.write_system_config(etc, f'service_account = "root"\ndb = "{url}"\nbackup_dir = "{backups}"\n')
        dangjian = shutil.which("dangjian") or str(Path(sys.executable).with_name("dangjian"))
        wrapper = folder / "dangjian-ssh"
        wrapper.write_text(readme_wrapper().replace("/opt/dangjian/bin/dangjian", dangjian))
        os.chmod(wrapper, 0o755)
        rule.write_text(f"{staff} ALL=(root) NOPASSWD: {wrapper}\n")
        os.chmod(rule, 0o440)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DANGJIAN_", "SUDO_"))}
        env.update(HOME=str(folder), DANGJIAN_DB=url)
        for argv in (["users", "add", staff, "--role", "admin"],):
            p = subprocess.run([dangjian, *argv], env=env, capture_output=True, text=True, timeout=120)
            assert p.returncode == 0, p.stderr
        p = subprocess.run([dangjian, "import", "communities", "-"], input=COMMUNITIES, env=env,
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        with server_env.etc_mountpoint():
            yield {"staff": staff, "wrapper": wrapper, "etc": etc, "db": dbdir / "dangjian.db",
                   "backups": backups}
    finally:
        rule.unlink(missing_ok=True)
        subprocess.run(["userdel", "-f", staff], capture_output=True)


def as_staff(srv, *args, stdin: bytes | None = None):
    argv = ["runuser", "-u", srv["staff"], "--", "sudo", "-n", "-u", "root", str(srv["wrapper"]), *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DANGJIAN_", "SUDO_"))}
    return subprocess.run(server_env.in_namespace(srv["etc"], argv), input=stdin, capture_output=True,
                          env=env, cwd="/", timeout=120)


@pytest.mark.parametrize("args", [
    ["check", "--format", "csv"],
    ["dangjian", "check", "--format", "csv"],
    ["--lang", "en", "check", "--format", "csv"],
    ["--lang=zh", "report", "roster", "--format", "csv"],
    ["report", "--list"],
    ["score", "--list"],
    ["audit"],
    ["users", "list"],
    ["export", "communities", "-"],
    ["template", "members", "-"],
])
def test_wrapper_allows_its_list(sudo_server, args):
    p = as_staff(sudo_server, *args)
    assert p.returncode in (0, 1), p.stderr.decode()
    assert b"Traceback" not in p.stderr


def test_wrapper_import_from_stdin_as_the_staff_member(sudo_server):
    data = COMMUNITIES.replace("S902", "S903").encode("utf-8")
    p = as_staff(sudo_server, "import", "communities", "-", stdin=data)
    assert p.returncode == 0, p.stderr.decode()
    p = as_staff(sudo_server, "export", "communities", "-")
    assert p.returncode == 0 and b"S903" in p.stdout and b"S901" in p.stdout
    con = sqlite3.connect(sudo_server["db"])
    try:
        who = {r[0] for r in con.execute("SELECT user FROM audit_log WHERE \"table\" = 'community'")}
    finally:
        con.close()
    assert sudo_server["staff"] in who


def test_wrapper_identity_is_the_staff_member(sudo_server):
    p = as_staff(sudo_server, "--lang", "en", "users", "list")
    assert p.returncode == 0 and sudo_server["staff"].encode() in p.stdout
    p = as_staff(sudo_server, "check", "--format", "csv")
    assert p.returncode in (0, 1)
    con = sqlite3.connect(sudo_server["db"])
    try:
        runs = con.execute("SELECT count(*) FROM check_run").fetchone()[0]
    finally:
        con.close()
    assert runs >= 1


@pytest.mark.parametrize("args", [
    ["check", "--format", "csv", "--outp", "/tmp/x"],
    ["check", "--output", "/tmp/x"],
    ["check", "-o", "/tmp/x"],
    ["--db", "sqlite:////tmp/x.db", "check"],
    ["--config=/tmp/x.toml", "check"],
    ["import", "members", "/etc/passwd"],
    ["import", "communities", "-", "--partial", "--rejects", "/tmp/r.csv"],
    ["export", "members", "/tmp/m.xlsx"],
    ["template", "members"],
    ["backup"],
    ["restore", "x.db"],
    ["init"],
    ["demo"],
    ["users", "add", "mallory", "--role", "admin"],
    ["--lang", "fr", "check"],
    ["plugins"],
])
def test_wrapper_refuses_the_rest(sudo_server, args):
    before = sudo_server["db"].read_bytes()[:100]
    p = as_staff(sudo_server, *args)
    assert p.returncode == 2, p.stderr.decode()
    assert b"Traceback" not in p.stderr
    assert sudo_server["db"].read_bytes()[:100] == before
    assert not Path("/tmp/x").exists() or Path("/tmp/x").stat().st_mtime < time.time() - 60


def test_program_refuses_an_abbreviation_even_past_a_weaker_wrapper(sudo_server, tmp_path):
    """The critical report: `check --format csv --outp <db>` overwrote the database through a wrapper that
    filtered only full option names.  The program itself now refuses it (and any path) as the service
    account."""
    weak = Path(str(sudo_server["wrapper"]) + "-weak")
    dangjian = shutil.which("dangjian") or str(Path(sys.executable).with_name("dangjian"))
    weak.write_text(f'#!/bin/sh\nexec {dangjian} "$@"\n')
    os.chmod(weak, 0o755)
    rule = Path(f"/etc/sudoers.d/dangjian_weak_{sudo_server['staff']}")
    rule.write_text(f"{sudo_server['staff']} ALL=(root) NOPASSWD: {weak}\n")
    os.chmod(rule, 0o440)
    try:
        srv = dict(sudo_server, wrapper=weak)
        for args in (["check", "--format", "csv", "--outp", str(sudo_server["db"])],
                     ["check", "--format", "csv", "--output", str(sudo_server["db"])],
                     ["--db", f"sqlite:///{tmp_path / 'mine.db'}", "users", "list"]):
            p = as_staff(srv, *args)
            assert p.returncode == 2, p.stderr.decode()
        assert _integrity(sudo_server["db"]) == "ok"
        p = as_staff(srv, "backup")  # an administrator through sudo: a dated file in the backup folder
        assert p.returncode == 0, p.stderr.decode()
        assert any(re.fullmatch(r"dangjian-\d{8}-\d{6}\.db", f.name) for f in sudo_server["backups"].iterdir())
    finally:
        rule.unlink(missing_ok=True)
        weak.unlink(missing_ok=True)
