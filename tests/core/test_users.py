"""dangjian users add/list/remove/set: bootstrap, refusal of unknown accounts, admin-only commands.

Real OS accounts are created with useradd (root only) and the CLI runs under
their effective uid, so identity is proven to come from the uid.
"""
from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import textwrap

import pytest

from core import access
from core.cli import main
from core.models import AuditLog, User

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="creating OS accounts and changing uid needs root")

PRELOAD = ("core.cli core.cli.basic core.cli.users core.cli.audit core.cli.backup core.users core.audit core.backup "
           "core.records core.output core.config "
           "core.i18n core.plugins core.migrations core.models tabulate wcwidth json csv tomllib "
           "plugins playhouse.db_url platformdirs sqlite3 decimal datetime").split()


@pytest.fixture
def shared_db(dangjian_env, monkeypatch):
    """An SQLite file in a world-writable folder, so processes under other uids can use it."""
    if os.environ.get("DANGJIAN_TEST_DB"):
        url = os.environ["DANGJIAN_TEST_DB"]
        from core import db
        from core.testing import _drop_all_pg

        db.connect(url, migrate=False)
        _drop_all_pg()
        db.connect(url)
        monkeypatch.setenv("DANGJIAN_DB", url)
        yield url
        db.close()
        return
    folder = tempfile.mkdtemp(prefix="dj_shared_")
    os.chmod(folder, 0o777)
    url = f"sqlite:///{folder}/shared.db"
    from core import db

    db.connect(url)
    db.close()
    for f in os.listdir(folder):
        os.chmod(os.path.join(folder, f), 0o666)
    monkeypatch.setenv("DANGJIAN_DB", url)
    db.connect(url)
    yield url
    db.close()
    shutil.rmtree(folder, ignore_errors=True)


def cli_as(login: str | None, argv: list[str], url: str) -> subprocess.CompletedProcess:
    """Run ``dangjian ARGV`` in a subprocess whose effective uid is ``login`` (None: root), USER=root."""
    uid = pwd.getpwnam(login).pw_uid if login else 0
    prog = textwrap.dedent(f"""
        import os, sys, importlib, pkgutil
        for m in {PRELOAD!r}:
            importlib.import_module(m)
        import core  # every module of core, read as root (a new one must not need adding here)
        for _m in pkgutil.walk_packages(core.__path__, "core."):
            if not _m.name.endswith("__main__"):
                importlib.import_module(_m.name)
        import plugins as _p
        for m in _p.DEFAULT_PLUGINS:
            importlib.import_module(m)
        # the shipped defaults are read now, as root: a checkout in a private folder (mode 0700,
        # as mkdtemp makes them) is not readable by the test account, unlike an installed copy
        import core.config as _c
        _dp = _c.default_path()
        _dd = _c._load(_dp)
        _orig_load = _c._load
        _c._load = lambda path: _dd if str(path) == str(_dp) else _orig_load(path)
        _c.default_path = lambda: _dp
        os.seteuid({uid})
        from core.cli import main
        sys.exit(main({argv!r}))
    """)
    env = dict(os.environ, USER="root", LOGNAME="root", DANGJIAN_DB=url, DANGJIAN_LANG="en",
               HOME=tempfile.gettempdir())
    return subprocess.run([sys.executable, "-c", prog], env=env, capture_output=True, text=True, cwd="/")


def _users():
    return {u.login: (u.role, u.scope, u.read_only, u.full_personal_data) for u in User.select()}


@pytest.fixture
def tree(shared_db):
    from tests.core.test_records import build_tree

    access.set_current(access.Principal("setup", "admin", "city"))
    t = build_tree()
    access.set_current(None)
    return t


def test_bootstrap_records_running_account_first(tree, capsys):
    me = access.os_login()
    assert main(["--lang", "en", "users", "list"]) == 0
    assert "single-user mode" in capsys.readouterr().err
    assert main(["--lang", "en", "users", "add", "alice", "--role", "community", "--scope", "A1"]) == 0
    assert "recorded the running account" in capsys.readouterr().err
    # recorded as admin with personal data masked, as in single-user mode (users set --full-personal-data)
    assert _users() == {me: ("admin", "city", False, False), "alice": ("community", "A1", False, False)}
    assert main(["users", "list", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["login"] for r in rows} == {me, "alice"}
    assert AuditLog.select().where(AuditLog.table == "user").count() == 2


def test_bootstrap_cannot_lock_the_runner_out(tree, capsys):
    me = access.os_login()
    assert main(["--lang", "en", "users", "add", me, "--role", "community", "--scope", "A1"]) == 2
    assert "must first be recorded" in capsys.readouterr().err
    assert _users() == {}
    assert main(["users", "add", me, "--role", "admin"]) == 0
    assert _users() == {me: ("admin", "city", False, False)}


def test_add_validates_role_and_scope(tree, capsys):
    for argv in (["alice", "--role", "community", "--scope", "NOPE"], ["bob", "--role", "town", "--scope", "丙镇"],
                 ["carl", "--role", "street", "--scope", "东街道"], ["dora", "--role", "city", "--scope", "A1"]):
        assert main(["--lang", "en", "users", "add", *argv]) == 2
        err = capsys.readouterr().err
        assert err.startswith("dangjian: ") and "Traceback" not in err
    assert _users() == {}  # nothing written by a refused add, not even the bootstrap admin


def test_remove_and_set_protect_last_admin(tree, capsys):
    me = access.os_login()
    assert main(["users", "add", "alice", "--role", "town", "--scope", "甲镇"]) == 0
    assert main(["--lang", "en", "users", "remove", me]) == 2
    assert "last administrator" in capsys.readouterr().err
    assert main(["--lang", "en", "users", "set", me, "--read-only"]) == 2
    assert main(["users", "set", "alice", "--role", "community", "--scope", "A2", "--read-only",
                 "--full-personal-data"]) == 0
    assert _users()["alice"] == ("community", "A2", True, True)
    assert main(["users", "set", "alice", "--writable", "--masked-personal-data"]) == 0
    assert _users()["alice"] == ("community", "A2", False, False)
    assert main(["users", "remove", "alice"]) == 0
    assert "alice" not in _users()
    actions = [(r.action, r.table) for r in AuditLog.select().order_by(AuditLog.id)]
    assert actions == [("create", "user"), ("create", "user"), ("update", "user"), ("update", "user"),
                       ("delete", "user")]


@needs_root
def test_real_accounts_by_uid(tree, os_user):
    url = os.environ["DANGJIAN_DB"]
    staff, stranger = os_user(), os_user()
    # bootstrap as root, then staff is a read-only community user
    assert main(["users", "add", staff, "--role", "community", "--scope", "A1", "--read-only"]) == 0
    p = cli_as(stranger, ["users", "list"], url)
    assert p.returncode == 2 and f"account {stranger} is not a user" in p.stderr, p.stderr
    assert "Traceback" not in p.stderr
    p = cli_as(staff, ["users", "list"], url)
    assert p.returncode == 2 and "only an administrator" in p.stderr, p.stderr
    p = cli_as(staff, ["users", "add", stranger, "--role", "admin"], url)
    assert p.returncode == 2 and stranger not in _users()
    p = cli_as(staff, ["audit"], url)  # a known user gets in (USER=root in the environment changes nothing)
    assert p.returncode == 0, p.stderr
    p = cli_as(staff, ["backup", os.path.join(os.path.dirname(url[len("sqlite:///"):]), "b.db")], url)
    assert p.returncode == 2 and "only an administrator" in p.stderr
    p = cli_as(staff, ["init"], url)
    assert p.returncode == 2 and "only an administrator" in p.stderr
    # promote: now staff may list
    assert main(["users", "set", staff, "--role", "admin", "--writable"]) == 0
    p = cli_as(staff, ["users", "list"], url)
    assert p.returncode == 0 and staff in p.stdout, p.stderr


def test_admin_only_commands_refused_for_others(tree, capsys, tmp_path):
    me = access.os_login()
    assert main(["users", "add", "someone", "--role", "city"]) == 0
    assert main(["users", "set", me, "--role", "admin"]) == 0
    # demote myself is refused (last admin); make another admin and then demote me
    assert main(["users", "set", "someone", "--role", "admin"]) == 0
    assert main(["users", "set", me, "--role", "town", "--scope", "甲镇"]) == 0
    capsys.readouterr()
    for argv in (["users", "list"], ["init"], ["backup", str(tmp_path / "x.db")],
                 ["restore", str(tmp_path / "x.db"), "--yes"], ["demo", "--reset", "--yes", "--no-open"]):
        assert main(["--lang", "en", *argv]) == 2, argv
        err = capsys.readouterr().err
        assert "only an administrator" in err, (argv, err)
    assert not (tmp_path / "x.db").exists()
