"""Hard edges of the CLI: bad input is refused with one line on stderr (file or option, and why), exit 2,
never a traceback, and nothing written.

- stalled or endless input (a FIFO without a writer, /dev/zero, stdin) never hangs and never holds the
  write lock; files are read completely into a private copy first;
- ``--partial`` with a rejects path that cannot be written is refused before any row is written;
- encodings that are not text encodings, unreadable files, output paths that are folders, /proc files,
  pipes or the database itself, malformed database URLs, out-of-range years, dates and limits;
- config values: non-finite numbers, negative money and counts, scores above 100;
- leftovers: an interrupted backup removes its own ``.part`` and journal, ``--prune`` removes old ones;
  ``export --community`` outside the user's scope is refused like ``check``.

Shared helpers (``run_cli``, ``fingerprint``, ``audit_rows``) are used by ``test_cli_fuzz.py`` too.
"""
from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from core import access, db
from core.access import Principal
from core.cli import main
from core.testing import build_tiny_city

REPO = Path(__file__).resolve().parents[2]
TODAY = "2026-01-15"  # the tiny city's year (2025) is over; next year is 2027
#: tables whose rows a refused command may add: the audit log (one row for a refused import) and stored check runs
VOLATILE = {"audit_log", "check_run", "stored_finding"}
ROOT = os.geteuid() == 0


# ---------------------------------------------------------------- helpers

def cli_env(db_path, home, **extra) -> dict:
    """The environment of a ``dangjian`` subprocess: this database, English, a fixed today, HOME in tmp."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANGJIAN_")}
    env.update(DANGJIAN_DB=f"sqlite:///{db_path}", DANGJIAN_LANG="en", DANGJIAN_TODAY=TODAY, HOME=str(home),
               XDG_DATA_HOME=str(Path(home) / "data"), PYTHONPATH=os.pathsep.join(
                   [str(REPO)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])))
    env.update(extra)
    return env


def run_cli(argv, env, *, stdin=subprocess.DEVNULL, cwd=None, timeout=60, prefix=()) -> subprocess.CompletedProcess:
    """``python -m core.cli ARGV`` (``prefix``: e.g. ``runuser -u USER --``); bytes on stdin when given bytes."""
    kw = {"input": stdin} if isinstance(stdin, bytes) else {"stdin": stdin}
    proc = subprocess.run([*prefix, sys.executable, "-m", "core.cli", *map(str, argv)], env=env, cwd=cwd,
                          capture_output=True, timeout=timeout, **kw)
    proc.stdout_text = proc.stdout.decode("utf-8", "replace")
    proc.stderr_text = proc.stderr.decode("utf-8", "replace")
    return proc


def fingerprint(path) -> dict:
    """A digest of every table's rows, except the audit log and stored check runs."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        out = {}
        for t in tables:
            if t in VOLATILE:
                continue
            h = hashlib.sha256()
            # every row in a stable order (a WITHOUT ROWID table has no rowid: sorted in Python)
            for row in sorted(con.execute(f'SELECT * FROM "{t}"'), key=repr):
                h.update(repr(row).encode())
            out[t] = h.hexdigest()
        return out
    finally:
        con.close()


def audit_rows(path) -> int:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return con.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    finally:
        con.close()


def one_error_line(stderr: str, *fragments) -> str:
    """The single line a refusal prints: starts ``dangjian:``, holds every fragment, no traceback."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("dangjian: "), stderr
    for f in fragments:
        assert str(f) in lines[0], (f, stderr)
    return lines[0]


def immutable(path: Path) -> bool:
    """Make ``path`` not writable even for root (chattr +i), or for us (mode 0444); False when impossible."""
    if not ROOT:
        path.chmod(0o444)
        return True
    return subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode == 0


def mutable(path: Path) -> None:
    if ROOT:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True)
    path.chmod(0o644)


@pytest.fixture
def city(dangjian_env, monkeypatch):
    """The tiny city in an SQLite file (``city.path``), DANGJIAN_DB naming it, today 2026-01-15."""
    path = dangjian_env / "city.db"
    url = f"sqlite:///{path}"
    monkeypatch.setenv("DANGJIAN_DB", url)
    monkeypatch.setenv("DANGJIAN_TODAY", TODAY)
    monkeypatch.setenv("DANGJIAN_LANG", "en")
    db.connect(url)
    c = build_tiny_city()
    c.path = path
    c.env = cli_env(path, dangjian_env / "home")
    yield c
    db.close()


def cli(capsys, *argv):
    """``dangjian ARGV`` in this process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def dues_csv(city, folder: Path, bad: bool = True) -> Path:
    """A dues file: one good new row (李娜's November) and, with ``bad``, one bad row (row 3)."""
    number = city.member("李娜").id_number
    lines = ["公民身份号码,所属月份,应交金额,实交金额,交纳日期", f"{number},2025-11,20.00,20.00,2025-11-05"]
    if bad:
        lines.append(f"{number},2025-12,abc,20.00,2025-12-05")
    path = folder / ("dues_bad.csv" if bad else "dues_good.csv")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- 11: stalled or endless input

@pytest.mark.parametrize("make", ["fifo", "dev_zero", "folder"])
def test_import_refuses_what_is_not_a_regular_file_without_waiting(city, tmp_path, make):
    if make == "fifo":
        path = tmp_path / "pipe.csv"
        os.mkfifo(path)  # nobody ever writes to it
    elif make == "dev_zero":
        path = Path("/dev/zero")
    else:
        path = tmp_path / "folder.csv"
        path.mkdir()
    before = fingerprint(city.path)
    start = time.monotonic()
    p = run_cli(["import", "members", path], city.env, timeout=30)
    assert time.monotonic() - start < 20
    assert p.returncode == 2
    one_error_line(p.stderr_text, path, "folder" if make == "folder" else "not a regular file")
    assert fingerprint(city.path) == before


def test_endless_stdin_is_capped(city, tmp_path):
    cfg = tmp_path / "small.toml"
    cfg.write_text("[import]\nmax_bytes = 1000000\n", encoding="utf-8")
    spools = tmp_path / "tmp"
    spools.mkdir()
    before = fingerprint(city.path)
    with open("/dev/zero", "rb") as zero:
        p = run_cli(["--config", cfg, "import", "members", "-"], dict(city.env, TMPDIR=str(spools)), stdin=zero,
                    timeout=30)
    assert p.returncode == 2
    one_error_line(p.stderr_text, "stdin", "larger than the import limit of 1000000 bytes", "[import] max_bytes")
    assert fingerprint(city.path) == before
    assert list(spools.iterdir()) == []  # the partial spool is gone


def test_a_stalled_stdin_does_not_hold_the_write_lock(city, tmp_path):
    """A sender that stops half-way blocks only its own import: the data is spooled before the lock."""
    good = dues_csv(city, tmp_path, bad=False)
    stalled = subprocess.Popen([sys.executable, "-m", "core.cli", "import", "dues", "-"], env=city.env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        stalled.stdin.write(good.read_bytes()[:40])  # part of the header, then nothing
        stalled.stdin.flush()
        time.sleep(1.0)
        other = run_cli(["import", "dues", good], city.env, timeout=25)  # another writer gets in
        assert other.returncode == 0, other.stderr_text
        assert "inserted 1" in other.stderr_text
        stalled.stdin.write(good.read_bytes()[40:])
        stalled.stdin.close()
        assert stalled.wait(timeout=30) == 0
        err = stalled.stderr.read().decode()
        assert "unchanged 1" in err, err  # the same row, now on record
    finally:
        if stalled.poll() is None:
            stalled.kill()
            stalled.wait()


def test_a_file_is_read_into_a_private_copy_before_importing(city, tmp_path):
    from core.errors import UserError
    from core.importing import files

    good = dues_csv(city, tmp_path, bad=False)
    table = files.Table(good)
    copy = table._read
    assert copy != good and copy.exists() and stat.S_IMODE(copy.stat().st_mode) == 0o600
    good.write_text("changed after opening\n", encoding="utf-8")  # the import goes on with what it read
    rows = list(table.rows())
    assert len(rows) == 1 and rows[0][1][1] == "2025-11"
    assert not copy.exists()  # deleted on close
    with pytest.raises(UserError, match="larger than the import limit of 10 bytes"):
        files.spool_file(dues_csv(city, tmp_path), "dues.csv", 10)


# ---------------------------------------------------------------- 12: --partial with a bad --rejects path

@pytest.mark.parametrize("where", ["folder", "proc_missing", "proc_file", "missing_folder", "not_writable"])
def test_partial_with_a_bad_rejects_path_writes_nothing(city, tmp_path, where):
    src = dues_csv(city, tmp_path)
    rejects = {"folder": tmp_path, "proc_missing": Path("/proc/x"), "proc_file": Path("/proc/self/status"),
               "missing_folder": tmp_path / "no" / "such" / "r.csv", "not_writable": tmp_path / "ro.csv"}[where]
    reason = {"folder": "is a folder", "proc_missing": "No such file", "proc_file": "Invalid argument",
              "missing_folder": "no such folder", "not_writable": "cannot write"}[where]
    if where == "not_writable":
        rejects.write_text("old\n", encoding="utf-8")
        if not immutable(rejects):
            pytest.skip("cannot make a file read-only for this account here (chattr)")
    try:
        before, audits = fingerprint(city.path), audit_rows(city.path)
        p = run_cli(["import", "dues", src, "--partial", "--rejects", rejects], city.env)
        assert p.returncode == 2, p.stderr_text
        one_error_line(p.stderr_text, str(rejects), reason)
        assert fingerprint(city.path) == before and audit_rows(city.path) == audits
        if where == "not_writable":
            assert rejects.read_text(encoding="utf-8") == "old\n"
    finally:
        if where == "not_writable":
            mutable(rejects)


def test_partial_with_a_good_rejects_path_still_works(city, tmp_path):
    src = dues_csv(city, tmp_path)
    out = tmp_path / "rej.csv"
    p = run_cli(["import", "dues", src, "--partial", "--rejects", out], city.env)
    assert p.returncode == 1, p.stderr_text
    assert "inserted 1" in p.stderr_text and "rejected 1" in p.stderr_text
    assert "abc" in out.read_text(encoding="utf-8-sig")


# ---------------------------------------------------------------- 13: no tracebacks

@pytest.mark.parametrize("encoding, fragment", [
    ("rot13", "--encoding rot13 is not a text encoding"), ("base64", "not a text encoding"),
    ("hex", "not a text encoding"), ("zlib", "not a text encoding"), ("uu", "not a text encoding"),
    ("bz2", "not a text encoding"), ("undefined", "--encoding undefined cannot be used"),
    ("utf-16", "row 1: cannot be decoded as utf-16"), ("no-such-codec", "unknown encoding no-such-codec"),
])
def test_encodings_that_cannot_read_text_are_refused(city, tmp_path, capsys, encoding, fragment):
    src = dues_csv(city, tmp_path)
    before = fingerprint(city.path)
    code, _, err = cli(capsys, "import", "dues", src, "--encoding", encoding)
    assert code == 2
    one_error_line(err, fragment)
    assert fingerprint(city.path) == before


def test_an_undecodable_row_is_named_exactly(city, tmp_path, capsys):
    number = city.member("李娜").id_number
    rows = ["公民身份号码,所属月份,应交金额,实交金额,交纳日期"] + [f"{number},2024-{m:02d},1.00,1.00,2024-{m:02d}-05"
                                                    for m in range(1, 10)]
    data = ("\n".join(rows[:6]) + "\n").encode() + f"{number},2024-10,1.00,1.00,2024-10-05,".encode() \
        + "备注".encode("gbk") + b"\n" + ("\n".join(rows[6:]) + "\n").encode()
    src = tmp_path / "mixed.csv"
    src.write_bytes(data)
    before = fingerprint(city.path)
    code, _, err = cli(capsys, "import", "dues", src, "--encoding", "utf-8")
    assert code == 2
    one_error_line(err, f"{src} row 7: cannot be decoded as utf-8")
    assert fingerprint(city.path) == before


def test_an_unreadable_file_is_refused(city, tmp_path, capsys):
    """/proc/self/mem is a 'regular' file nobody can read from its start (root neither); a mode-000 file
    too when not root."""
    code, _, err = cli(capsys, "import", "dues", "/proc/self/mem")
    assert code == 2
    one_error_line(err, "cannot read /proc/self/mem")
    if not ROOT:
        src = dues_csv(city, tmp_path)
        src.chmod(0)
        code, _, err = cli(capsys, "import", "dues", src)
        assert code == 2
        one_error_line(err, "permission denied")


@pytest.mark.parametrize("make, fragment", [
    ("binary", "not a UTF-8 text file"), ("folder", "is a folder"), ("fifo", "not a regular file"),
    ("missing", "no such config file"),
])
def test_a_config_that_is_not_a_config_file(city, tmp_path, make, fragment):
    path = tmp_path / "c.toml"
    if make == "binary":
        path.write_bytes(bytes(range(256)) * 8)
    elif make == "folder":
        path.mkdir()
    elif make == "fifo":
        os.mkfifo(path)
    p = run_cli(["--config", path, "check", "--no-store"], city.env, timeout=30)
    assert p.returncode == 2
    one_error_line(p.stderr_text, path, fragment)


@pytest.mark.parametrize("url, fragment", [
    ("sqlite:////dev/null", "/dev/null is not a regular file"),
    ("postgresql://u:sekrit@host:abc/db", "Port could not be cast to integer"),
    ("postgresql://u:sekrit@host:99999/db", "Port out of range"),
    ("postgresql://u:sekrit@[::1/db", "Invalid IPv6 URL"),
    ("postgresql://u:sekrit@[zz::1]:5432/db", "zz::1"),
])
def test_malformed_database_urls(tmp_path, url, fragment):
    if url.startswith("postgres"):
        pytest.importorskip("psycopg2")
    before = set(os.listdir("/dev"))
    p = run_cli(["--db", url, "check"], cli_env(tmp_path / "unused.db", tmp_path))
    assert p.returncode == 2
    line = one_error_line(p.stderr_text, fragment)
    assert "sekrit" not in line
    assert set(os.listdir("/dev")) == before  # no journal or lock file beside /dev/null


@pytest.mark.parametrize("argv", [
    ["check", "--no-store"], ["report", "funding"], ["score", "member-points"], ["audit"],
])
@pytest.mark.parametrize("target, fragment", [
    ("FOLDER", "is a folder"), ("/proc/x", "cannot write /proc/x"), ("/proc/self/status", "Invalid argument"),
    ("FIFO", "not a regular file"), ("DB", "it is the database"), ("MISSING", "no such folder"),
])
def test_output_paths_that_cannot_be_written(city, tmp_path, capsys, argv, target, fragment):
    path = {"FOLDER": str(tmp_path), "FIFO": str(tmp_path / "fifo"), "DB": str(city.path),
            "MISSING": str(tmp_path / "no" / "out.txt")}.get(target, target)
    if target == "FIFO":
        os.mkfifo(path)
    before = fingerprint(city.path)
    code, out, err = cli(capsys, *argv, "--output", path)
    assert code == 2
    one_error_line(err, fragment)
    assert out == "" and fingerprint(city.path) == before


@pytest.mark.parametrize("argv, fragment", [
    (["report", "funding", "--year", "0"], "--year: must lie between 1921 and 2027: 0"),
    (["report", "funding", "--year", "99999"], "--year: must lie between 1921 and 2027"),
    (["score", "member-points", "--year", "0"], "--year: must lie between"),
    (["score", "member-points", "--year", "99999"], "--year: must lie between"),
    (["audit", "--limit", "99999999999999999999"], "--limit: must lie between 1 and 1000000"),
    (["backup", "/proc/x.db"], "cannot write the backup /proc/x.db"),
    (["backup", "FOLDER"], "is a folder"),
    (["backup", "/dev/null"], "/dev/null is not a regular file"),
    (["export", "members", "/proc/x.xlsx"], "cannot write /proc/x.xlsx"),
    (["export", "members", "/proc/x.csv"], "cannot write /proc/x.csv"),
    (["template", "members", "/proc/x.xlsx"], "cannot write /proc/x.xlsx"),
    (["check", "--output", "DB"], "refusing to write"),
])
def test_no_traceback(city, tmp_path, capsys, argv, fragment):
    argv = [str(tmp_path) if a == "FOLDER" else str(city.path) if a == "DB" else a for a in argv]
    before = fingerprint(city.path)
    code, _, err = cli(capsys, *argv)
    assert code == 2
    one_error_line(err, fragment)
    assert fingerprint(city.path) == before
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


# ---------------------------------------------------------------- 14: validation gaps

@pytest.mark.parametrize("text, fragments", [
    ('[params."service.reception_weekly"]\nmin_share = nan\n', ["min_share = nan", "finite"]),
    ('[params."funding.floor"]\nminimum = 1e400\n', ["minimum = inf", "finite"]),
    ('[params."funding.floor"]\nper_member = -150\n', ["per_member = -150", "must not be negative"]),
    ('[dues]\nstudent = "-0.20"\n', ["student", "not negative"]),
    ('[dues]\nemployed = [[3000, 1.5]]\n', ["employed", "rate from 0 to 1"]),
    ("[check]\nkeep_runs = -1\n", ["keep_runs = -1", "from 0 to 100000"]),
    ("[import]\nmax_bytes = 0\n", ["max_bytes = 0"]),
    ('[params."service.demand_response"]\nmax_days = 1e300\n', ["max_days", "number of days"]),
    ('[params."service.schedule_published"]\ndeadline = "02-30"\n', ["deadline", "MM-DD"]),
    ('[scoring."community-score".public_evaluation."2025"]\nBC01 = 1000\n', ["BC01", "score from 0 to 100"]),
    ('[scoring."community-score"]\nadvanced_min = 850\n', ["advanced_min = 850", "score from 0 to 100"]),
    ('[scoring."member-points"]\nvolunteer_hours_per_point = 0\n', ["volunteer_hours_per_point", "above 0"]),
    ('[towns."巴城镇".params."train.staff"]\nmin_days = -5\n', ['towns."巴城镇"', "min_days = -5"]),
])
def test_config_values_out_of_bounds(city, tmp_path, capsys, text, fragments):
    cfg = tmp_path / "city.toml"
    cfg.write_text(text, encoding="utf-8")
    code, _, err = cli(capsys, "--config", cfg, "check", "--no-store")
    assert code == 2
    one_error_line(err, cfg, *fragments)


def test_sensible_config_values_still_pass(city, tmp_path, capsys):
    cfg = tmp_path / "city.toml"
    cfg.write_text('[check]\nkeep_runs = 0\n[params."funding.floor"]\nper_member = 0\n'
                   '[scoring."member-points"]\nper_absence_without_leave = -5\n'
                   '[scoring."community-score".weights]\nleadership = 3\n'
                   '[scoring."community-score".public_evaluation."2025"]\nBC01 = 92.5\n', encoding="utf-8")
    code, _, err = cli(capsys, "--config", cfg, "plugins")
    assert code == 0, err


def _year_commands():
    """Every (subcommand, option) of the parser taking --year or --as-of."""
    from core.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    out = []
    for name, parser in sub.choices.items():
        opts = {o for a in parser._actions for o in a.option_strings}
        out += [(name, o) for o in ("--year", "--as-of") if o in opts]
    return out


def test_every_year_and_as_of_option_is_bounded(city, capsys):
    commands = _year_commands()
    assert {c for c, _ in commands} >= {"check", "report", "score"}
    for command, option in commands:
        head = [command] + (["funding"] if command == "report" else ["member-points"] if command == "score" else [])
        tail = ["--no-store"] if command == "check" else []
        bad = ["1920", "2028", "1", "0", "-1", "99999"] if option == "--year" else \
            ["0001-01-01", "1920-12-31", "2028-01-01", "2025-02-30", "yesterday"]
        for value in bad:
            code, _, err = cli(capsys, *head, option, value, *tail)
            assert code == 2, (command, option, value)
            one_error_line(err, option)
        good = ["1921", "2027"] if option == "--year" else ["1921-01-01", "2027-12-31"]
        for value in good:
            code, _, err = cli(capsys, *head, option, value, *tail)
            assert code in (0, 1, 2) and "Traceback" not in err and f"{option}:" not in err, (command, value, err)


def test_explain_with_an_unknown_town_exits_2(city, capsys):
    code, _, err = cli(capsys, "check", "--explain", "train.leader", "--town", "不存在")
    assert code == 2
    one_error_line(err, "unknown town: 不存在")
    code, out, _ = cli(capsys, "check", "--explain", "train.leader", "--town", "巴城镇")
    assert code == 0 and "train.leader" in out


@pytest.mark.parametrize("value, code", [("-1", 2), ("0", 2), ("1000001", 2), ("abc", 2), ("1", 0), ("1000000", 0)])
def test_audit_limit_is_a_positive_integer(city, capsys, value, code):
    got, _, err = cli(capsys, "audit", "--limit", value)
    assert got == code, err
    if code == 2:
        one_error_line(err, "--limit")


def test_prune_days_checked_before_backing_up(city, tmp_path, capsys):
    target = tmp_path / "b.db"
    code, _, err = cli(capsys, "backup", target, "--prune", "0")
    assert code == 2 and not target.exists()
    one_error_line(err, "--prune")


@pytest.mark.parametrize("url, secret, shown", [
    ("postgresql://u@h/db?password=secret", "secret", "postgresql://u@h/db?password=***"),
    ("postgresql://u:secret@h:5432/db", "secret", "postgresql://u:***@h:5432/db"),
    ("postgres://u:a%40b@h/db?sslmode=require&password=x1y2&sslpassword=k3y", "x1y2",
     "postgres://u:***@h/db?sslmode=require&password=***&sslpassword=***"),
    ("postgresql://u:pw@[::1/db", "pw", "postgresql://u:***@[::1/db"),
])
def test_redact_hides_every_password(url, secret, shown):
    assert db.redact(url) == shown
    assert secret not in db.redact(url)
    assert db.scrub(f"failed for {secret}", url) == "failed for ***"


def test_a_password_in_the_query_string_is_never_printed(tmp_path):
    pytest.importorskip("psycopg2")
    p = run_cli(["--db", "postgresql://u@127.0.0.1:1/db?password=secret", "check"],
                cli_env(tmp_path / "unused.db", tmp_path), timeout=60)
    assert p.returncode == 2
    line = one_error_line(p.stderr_text, "password=***")
    assert "secret" not in line


# ---------------------------------------------------------------- 15: leftovers

INTERRUPTED_BACKUP = textwrap.dedent("""
    import sys, time
    import core.backup as b
    from core.cli import main

    def slow_copy(src, dst):
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = DELETE")
        dst.execute("BEGIN IMMEDIATE")
        dst.execute("CREATE TABLE pending (x)")  # a write in progress: the journal exists
        print("copying", flush=True)
        time.sleep(60)

    b._copy = slow_copy
    sys.exit(main(["backup", sys.argv[1]]))
""")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_backup_removes_its_part_and_journal(city, tmp_path, sig):
    folder = tmp_path / "backups"
    folder.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", INTERRUPTED_BACKUP, str(folder / "b.db")], env=city.env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "copying"
        assert any(p.name.endswith(".part-journal") for p in folder.iterdir()), list(folder.iterdir())
        proc.send_signal(sig)
        assert proc.wait(timeout=30) == 130
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in err and "interrupted" in err
    assert list(folder.iterdir()) == []


def test_sigterm_handler_is_restored_after_a_backup(city, tmp_path, capsys):
    before = signal.getsignal(signal.SIGTERM)
    code, _, err = cli(capsys, "backup", tmp_path / "b.db")
    assert code == 0, err
    assert signal.getsignal(signal.SIGTERM) is before


def test_prune_removes_old_part_files_and_their_journals(city, tmp_path, capsys):
    folder = tmp_path / "backups"
    folder.mkdir()
    old = time.time() - 2 * 3600
    leftovers = [folder / ".dangjian-20250101-000000.db.abc.part", folder / ".dangjian-20250101-000000.db.abc.part-journal"]
    fresh = folder / ".dangjian-20260115-000000.db.def.part"
    for p in leftovers + [fresh]:
        p.write_bytes(b"x")
    for p in leftovers:
        os.utime(p, (old, old))
    code, _, err = cli(capsys, "backup", folder / "dangjian-20260115-120000.db", "--prune", "30")
    assert code == 0, err
    names = {p.name for p in folder.iterdir()}
    assert names == {fresh.name, "dangjian-20260115-120000.db"}


def test_export_community_outside_the_scope_is_refused_like_check(city, capsys):
    clerk = Principal("clerk", "community", "BC01", read_only=False, full_personal_data=False)
    answers = []
    for argv in (["check", "--community", "YS01", "--no-store"], ["export", "members", "-", "--community", "YS01"]):
        access.set_current(clerk)
        code, out, err = cli(capsys, *argv)
        assert code == 2 and out == ""
        answers.append(one_error_line(err, "community YS01 is outside your scope"))
    assert answers[0] == answers[1]
    access.set_current(clerk)
    code, _, err = cli(capsys, "export", "members", "-", "--community", "NOPE")
    assert code == 2
    one_error_line(err, "unknown community code: NOPE")
    access.set_current(clerk)
    code, out, err = cli(capsys, "export", "members", "-", "--community", "BC01")
    assert code == 0 and "exported 4 record(s)" in err, err


def test_an_xlsx_longer_than_a_sheet_continues_on_the_next(tmp_path, monkeypatch):
    """A table with more rows than a sheet holds (a province's findings) goes on over sheets
    NAME, NAME (2), … each with the header; text that looks like a formula stays text."""
    from openpyxl import load_workbook

    from core import output

    monkeypatch.setattr(output, "XLSX_MAX_ROWS", 4)  # three rows a sheet besides the header
    rows = [[i, f"行{i}", "=1+1" if i == 7 else "x"] for i in range(1, 9)]
    target = tmp_path / "long.xlsx"
    output.write_xlsx(target, [("结论", ["序号", "名称", "说明"], rows)])
    wb = load_workbook(target)
    assert wb.sheetnames == ["结论", "结论 (2)", "结论 (3)"]
    got = [[c for c in r] for ws in wb for r in ws.iter_rows(min_row=2, values_only=True)]
    assert got == [[i, f"行{i}", "=1+1" if i == 7 else "x"] for i in range(1, 9)]
    assert all(next(ws.iter_rows(max_row=1, values_only=True)) == ("序号", "名称", "说明") for ws in wb)
    assert wb["结论 (3)"]["C2"].data_type == "s"  # the formula-like text is a string
    # exactly full: no empty extra sheet
    output.write_xlsx(target, [("结论", ["序号"], [[1], [2], [3]])])
    assert load_workbook(target).sheetnames == ["结论"]
