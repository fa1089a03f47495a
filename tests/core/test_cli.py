"""CLI: global options, exit codes, one-line errors (never a traceback)."""
import os
import subprocess
import sys

import pytest

from core.cli import main


def run(args, env=None, **kw):
    e = dict(os.environ)
    for var in ("DANGJIAN_DB", "DANGJIAN_CONFIG", "DANGJIAN_LANG"):
        e.pop(var, None)
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "core.cli", *args], capture_output=True, text=True,
                          env=e, timeout=60, **kw)


def test_version(capsys):
    assert main(["--version"]) == 0
    assert "dangjian" in capsys.readouterr().out


def test_bad_usage_exits_2():
    assert run(["no-such-command"]).returncode == 2
    r = run(["check", "--format", "pdf"])
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_init_creates_schema_and_is_idempotent(dangjian_env, tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 'x' / 'a.db'}"
    assert main(["--db", db, "init"]) == 0
    assert (tmp_path / "x" / "a.db").exists()
    assert main(["--db", db, "init"]) == 0
    assert "最新" in capsys.readouterr().err


def test_env_db_and_lang(dangjian_env, tmp_path):
    db = f"sqlite:///{tmp_path / 'env.db'}"
    r = run(["init"], env={"DANGJIAN_DB": db, "DANGJIAN_LANG": "en"})
    assert r.returncode == 0, r.stderr
    assert "up to date" in r.stderr or "upgraded" in r.stderr
    assert (tmp_path / "env.db").exists()


def test_default_db_in_user_data_dir(dangjian_env, tmp_path):
    r = run(["init"], env={"HOME": str(tmp_path / "h"), "XDG_DATA_HOME": str(tmp_path / "h" / "data")})
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "h" / "data" / "dangjian" / "dangjian.db").exists()


@pytest.mark.parametrize("args, fragment", [
    (["--db", "mysql://x/y", "init"], "unsupported database URL"),
    (["--db", "sqlite:///:memory:", "init"], "in-memory"),
    (["--db", "sqlite:////proc/nope/x.db", "init"], "dangjian:"),
])
def test_bad_db_url_is_one_line(tmp_path, args, fragment):
    r = run(args)
    assert r.returncode == 2
    assert fragment in r.stderr
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_bad_config_is_one_line(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("colour = 1\n")
    r = run(["--db", f"sqlite:///{tmp_path / 'a.db'}", "--config", str(cfg), "init"])
    assert r.returncode == 2
    assert str(cfg) in r.stderr and "colour" in r.stderr and "Traceback" not in r.stderr


def test_lang_en_messages(dangjian_env, tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 'a.db'}"
    assert main(["--db", db, "--lang", "en", "init"]) == 0
    err = capsys.readouterr().err
    assert "database" in err and "数据库" not in err


def test_sqlite_process_does_not_load_the_postgres_driver(tmp_path):
    code = ("import sys; sys.argv = ['dangjian', '--db', %r, 'init']\n"
            "from core import cli\n"
            "try:\n    cli.run()\nexcept SystemExit as e:\n    rc = e.code\n"
            "import peewee\n"
            "print(rc, peewee.psycopg2 is None, sys.modules.get('psycopg2'))") % f"sqlite:///{tmp_path / 'a.db'}"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.split() == ["0", "True", "None"], r.stdout + r.stderr


def test_postgres_url_keeps_the_driver(tmp_path):
    from core.cli import _skip_unused_drivers

    before = sys.modules.get("psycopg2", "absent")
    _skip_unused_drivers(["--db", "postgresql://u:p@127.0.0.1:1/x", "init"])
    assert sys.modules.get("psycopg2", "absent") == before
