"""Fuzz the command line: every subcommand of ``core.cli.build_parser()`` with generated option values,
encodings and paths, run as a real process (``python -m core.cli``) with a timeout.

Paths come from a fixed menu inside a temporary folder — a folder, a FIFO, symlinks (to the database and
to a file not there yet), a file that cannot be written (``chattr +i`` as root, mode 0444 otherwise), the
database and its ``-wal`` and ``.writelock`` files, inputs good and bad, a missing folder — plus
``/dev/null`` and ``/proc/self/status``, never another system path (CI runs as root).  Left out: ``tui``
and ``demo`` (slow, interactive), and ``restore`` always gets ``--yes`` (else it would ask).

Every run: no traceback, exit 0, 1 or 2, the last line on stderr is a summary or one ``dangjian:`` error,
and when the usage or input was refused (exit 2; not a check or score that ran and found ``error``
findings) no record changed (every table but the audit log and stored check runs; a refused import may
add its one audit row).  Each example starts from a fresh copy of a small database (the tiny
city of ``core.testing``).

Who runs it: as root, the CLI runs as a throw-away unprivileged account (``useradd`` +
``runuser -u``) when that account can reach the Python interpreter, its libraries and this checkout;
where it cannot — e.g. an interpreter under ``/root``, which is mode 0700 — it runs as the current user
(root), which is what this docstring warns of: a root run cannot show permission refusals, so the
non-writable file is made immutable with ``chattr +i`` instead.
"""
from __future__ import annotations

import argparse
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from core.cli import as_of_type, build_parser, year_type
from tests.core.test_hard_edges import REPO, TODAY, audit_rows, cli_env, fingerprint, run_cli

EXCLUDED = {"tui", "demo"}
#: examples per subcommand (about 40 s in all on two busy cores); DANGJIAN_FUZZ_EXAMPLES=500 digs deeper
EXAMPLES = int(os.environ.get("DANGJIAN_FUZZ_EXAMPLES", "25"))

ENCODINGS = ["utf-8", "utf-8-sig", "gbk", "gb18030", "latin-1", "utf-16", "utf-16-le", "utf-32", "idna",
             "rot13", "base64", "hex", "zlib", "uu", "bz2", "undefined", "no-such-codec", ""]
TEXT = {
    "kind": ["members", "dues", "wages", "communities", "orgs", "meetings", "visits", "nope", ""],
    "name": ["funding", "ledger", "roster", "points", "town-summary", "member-points", "community-score",
             "worker-appraisal", "nope", ""],
    "town": ["巴城镇", "玉山镇", "不存在", ""],
    "community": ["BC01", "YS01", "NOPE", ""],
    "rule": ["train.leader", "org.kind_size", "no.such", ""],
    "explain": ["train.leader", "funding.floor", "no.such"],
    "login": ["clerk", "root", "nobody-here", "a b", ""],
    "user": ["clerk", "root", ""],
    "scope": ["city", "BC01", "巴城镇", "巴城镇/东街道", "ZZ", ""],
    "since": ["2025-01-01", "2025-13-01", "0001-01-01", "x", "2025-01-01 10:00"],
    "record": ["member", "member:1", "dues_payment:3", "x:y", ":"],
    "encoding": ENCODINGS,
}
PATH_DESTS = {"output", "rejects", "file", "config"}
YEARS = ["-1", "0", "1", "1920", "1921", "2024", "2025", "2026", "2027", "2028", "99999",
         "99999999999999999999", "abc", ""]
DATES = ["0001-01-01", "1920-12-31", "1921-01-01", "2025-06-30", "2025-12-31", "2026-01-15", "2027-12-31",
         "2028-01-01", "2025-02-30", "20250101", "yesterday", ""]
COUNTS = ["-1", "0", "1", "2", "30", "200", "36500", "36501", "1000000", "1000001", "99999999999999999999",
          "1.5", "x"]
#: the last line on stderr: one error, a row error (``FILE row N, COLUMN: reason``) or a command's summary,
#: in English or Chinese
SUMMARY = re.compile(r"^(dangjian: |.+ row \d+(, [^:]+)?: |.+ 第\d+行|checked |检查\d+年|\S+: inserted \d+|"
                     r"\S+：新增 \d+|\S+: exported \d+|\S+：导出 \d+|\d+ |template written|backed up|restored|"
                     r"removed \d+|cancelled|database |user |users? |已)")
#: a check or score that ran and exits 2 because of ``error`` findings or a failed scorer: not a refusal
RAN = re.compile(r"^(checked |检查\d+年|[\d,]+ subjects scored|[\d,]+ 个对象已评分)")
PY_ERROR = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt)\b")


# ---------------------------------------------------------------- the parser's commands

def _subparsers(parser) -> dict:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices
    return {}


def commands() -> dict[tuple, argparse.ArgumentParser]:
    """(command words) → parser, for every runnable subcommand (``users`` expanded)."""
    out = {}
    for name, sub in _subparsers(build_parser()).items():
        if name in EXCLUDED:
            continue
        nested = _subparsers(sub)
        if nested:
            for inner, p in nested.items():
                out[(name, inner)] = p
        else:
            out[(name,)] = sub
    return out


def text_values(dest: str):
    junk = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8)
    return st.one_of(st.sampled_from(TEXT[dest]), junk) if dest in TEXT else junk


def value_for(action, paths):
    """A strategy for one value of ``action``."""
    kind = getattr(action.type, "__qualname__", "")
    if action.choices:
        return st.one_of(st.sampled_from(list(action.choices)), st.sampled_from(["pdf", ""]))
    if action.type is year_type:
        return st.sampled_from(YEARS)
    if action.type is as_of_type:
        return st.one_of(st.sampled_from(DATES), st.dates().map(lambda d: d.isoformat()))
    if kind.startswith("count_type") or action.type is int:
        return st.one_of(st.sampled_from(COUNTS), st.integers(-10**6, 10**6).map(str))
    if action.dest in PATH_DESTS:
        return st.sampled_from(paths)
    return text_values(action.dest)


@st.composite
def argv_for(draw, words: tuple, parser, paths: list[str]):
    """The arguments after the global options: the command words, options, then operands."""
    options, operands = [], []
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        if not action.option_strings:
            if action.nargs == "?" and not draw(st.booleans()):
                continue
            operands.append(draw(value_for(action, paths)))
            continue
        force = words == ("restore",) and action.dest == "yes"  # restore without --yes would ask
        if not force and not draw(st.integers(0, 2)) == 0:  # each option in about a third of the runs
            continue
        flag = draw(st.sampled_from(action.option_strings))
        if action.nargs == 0:
            options.append(flag)
        else:
            for _ in range(draw(st.integers(1, 2)) if isinstance(action, argparse._AppendAction) else 1):
                options += [flag, draw(value_for(action, paths))]
    return [*words, *options, *operands]


@st.composite
def global_args(draw, paths: list[str], work: Path):
    out = ["--lang", draw(st.sampled_from(["en", "en", "zh"]))]
    if draw(st.integers(0, 5)) == 0:
        out += ["--config", draw(st.sampled_from(paths + [str(work / "good.toml"), str(work / "bad.toml")]))]
    if draw(st.integers(0, 7)) == 0:
        url = draw(st.one_of(st.sampled_from(paths).map(lambda p: f"sqlite:///{p}"),
                             st.sampled_from(["postgresql://u:pw@127.0.0.1:abc/db", "postgresql://u:pw@[::1/db",
                                              "postgresql://u@127.0.0.1:1/db?password=pw", "mysql://x/y",
                                              "sqlite:///:memory:", "sqlite://"])))
        out += ["--db", url]
    return out


# ---------------------------------------------------------------- who runs it, and where

def _reachable_by_others(path) -> bool:
    """Whether an unprivileged account can reach ``path``: every folder on the way searchable, the file
    readable, by others."""
    p = Path(path).resolve()
    try:
        if not all(d.stat().st_mode & stat.S_IXOTH for d in p.parents):
            return False
        return bool(p.stat().st_mode & stat.S_IROTH)
    except OSError:
        return False


def _unprivileged_account():
    """A throw-away account to run the CLI as (root only), or None when it could not reach the
    interpreter, the standard library, the dependencies or this checkout."""
    import peewee

    if os.geteuid() != 0 or not (shutil.which("useradd") and shutil.which("runuser")):
        return None
    needed = [sys.executable, os.__file__, peewee.__file__, REPO / "core" / "cli" / "__init__.py"]
    if not all(_reachable_by_others(p) for p in needed):
        return None
    name = f"djz{uuid.uuid4().hex[:8]}"
    if subprocess.run(["useradd", "-M", "-s", "/bin/sh", "-p", "*", name], capture_output=True).returncode:
        return None
    return name


class World:
    """The fixed menu of paths, a pristine database, and a fresh copy of both for each run."""

    def __init__(self):
        self.account = None
        self.immutable = False
        self.base = Path(tempfile.mkdtemp(prefix="dangjian-fuzz-"))

    def setup(self) -> None:
        self.account = _unprivileged_account()
        self.base.chmod(0o755)
        self.fixed = self.base / "fixed"
        self.fixed.mkdir()
        self.work = self.base / "work"
        self.pristine = self.fixed / "pristine.db"
        self.home = self.base / "home"
        self.home.mkdir()
        env = cli_env(self.pristine, self.home)
        made = subprocess.run([sys.executable, "-c", "from core import db, testing\n"
                               "db.connect(); testing.build_tiny_city(); db.close()"],
                              env=env, capture_output=True, text=True, timeout=120)
        assert made.returncode == 0, made.stderr
        for side in ("-wal", "-shm"):
            Path(f"{self.pristine}{side}").unlink(missing_ok=True)
        import sqlite3

        con = sqlite3.connect(self.pristine)
        self.numbers = [r[0] for r in con.execute("SELECT id_number FROM member ORDER BY id")]
        con.close()
        self.readonly = self.fixed / "readonly.csv"
        self.readonly.write_text("old\n", encoding="utf-8")
        self.immutable = os.geteuid() == 0 and not self.account and subprocess.run(
            ["chattr", "+i", str(self.readonly)], capture_output=True).returncode == 0
        if not self.immutable:
            self.readonly.chmod(0o444)
        self.before = fingerprint(self.pristine)
        self.audits = audit_rows(self.pristine)
        self.db = self.work / "db.sqlite"
        w = self.work
        self.paths = ["-", str(w / "folder"), str(w / "fifo"), str(w / "link_db"), str(w / "link_new"),
                      str(self.readonly), str(self.db), f"{self.db}.writelock", f"{self.db}-wal",
                      str(w / "new.csv"), str(w / "new.xlsx"), str(w / "new.html"), str(w / "new.db"),
                      str(w / "good.csv"), str(w / "bad.csv"), str(w / "gbk.csv"), str(w / "garbage.bin"),
                      str(w / "empty.csv"), str(w / "missing" / "x.csv"), "/dev/null", "/proc/self/status"]
        if self.account:
            for p in (self.base, self.fixed, self.home, self.pristine):
                shutil.chown(p, self.account, self.account)

    def inputs(self) -> dict[str, bytes]:
        a, b = self.numbers[0], self.numbers[1]
        head = "公民身份号码,所属月份,应交金额,实交金额,交纳日期\n"
        good = head + f"{b},2025-11,20.00,20.00,2025-11-05\n"
        bad = good + f"{b},2025-12,abc,20.00,2025-12-05\n{a},2025-13,1,1,2025-01-01\n"
        return {"good.csv": good.encode("utf-8"), "bad.csv": bad.encode("utf-8"), "gbk.csv": bad.encode("gbk"),
                "garbage.bin": bytes(range(256)) * 4, "empty.csv": b"",
                "good.toml": b'[params."train.staff"]\nmin_days = 4\n',
                "bad.toml": b"[check]\nkeep_runs = nan\n"}

    def reset(self) -> None:
        if self.work.exists():
            shutil.rmtree(self.work)
        self.work.mkdir()
        shutil.copyfile(self.pristine, self.db)
        (self.work / "folder").mkdir()
        os.mkfifo(self.work / "fifo")
        (self.work / "link_db").symlink_to(self.db)
        (self.work / "link_new").symlink_to(self.work / "link_target.csv")
        for name, data in self.inputs().items():
            (self.work / name).write_bytes(data)
        if self.account:
            for p in [self.work, *self.work.iterdir()]:
                os.lchown(p, pwd.getpwnam(self.account).pw_uid, pwd.getpwnam(self.account).pw_gid)

    def run(self, argv: list[str]) -> subprocess.CompletedProcess:
        stdin = subprocess.DEVNULL
        if "import" in argv and "-" in argv[argv.index("import"):]:
            stdin = self.inputs()["bad.csv" if len(argv) % 2 else "good.csv"]
        prefix = ("runuser", "-u", self.account, "--") if self.account else ()
        return run_cli(argv, cli_env(self.db, self.home, DANGJIAN_TODAY=TODAY), stdin=stdin, cwd=self.work,
                       timeout=60, prefix=prefix)

    def close(self) -> None:
        if self.immutable:
            subprocess.run(["chattr", "-i", str(self.readonly)], capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)
        if self.account:
            subprocess.run(["userdel", "-f", self.account], capture_output=True)


@pytest.fixture(scope="module")
def world():
    w = World()
    try:
        w.setup()
        yield w
    finally:
        w.close()


def check_run(world: World, argv: list[str], proc) -> None:
    err = proc.stderr_text
    what = f"dangjian {' '.join(argv)}\nexit {proc.returncode}\nstderr:\n{err}"
    assert "Traceback" not in err, what
    assert proc.returncode in (0, 1, 2), what
    lines = [line for line in err.splitlines() if line.strip()]
    if lines:
        assert not PY_ERROR.match(lines[-1]), what
    if proc.returncode == 2:
        assert lines and SUMMARY.match(lines[-1]), what
        if world.db.exists() and not RAN.match(lines[-1]):
            assert fingerprint(world.db) == world.before, "a refused command changed records:\n" + what
            assert audit_rows(world.db) - world.audits <= 1, what
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode), what
    assert not [n for n in os.listdir("/dev") if n.startswith("null") and n != "null"], what
    assert world.readonly.read_text(encoding="utf-8") == "old\n" or not world.immutable, what


COMMANDS = commands()


def test_every_subcommand_is_fuzzed():
    names = {words[0] for words in COMMANDS}
    assert names == {n for n in _subparsers(build_parser())} - EXCLUDED
    assert ("users", "add") in COMMANDS and ("import",) in COMMANDS


@pytest.mark.parametrize("words", sorted(COMMANDS), ids=lambda w: "-".join(w))
def test_cli_fuzz(world, words):
    parser = COMMANDS[words]

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(head=global_args(world.paths, world.work), tail=argv_for(words, parser, world.paths))
    def one(head, tail):
        world.reset()
        argv = head + tail
        check_run(world, argv, world.run(argv))

    one()
