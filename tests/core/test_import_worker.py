"""The forked import worker (core.importing.engine._run_forked): the same outcome as planning in-process.

A big SQLite import is planned by a forked worker while the parent writes;
``DANGJIAN_IMPORT_WORKER=1`` forces it for small files, ``0`` turns it off.
Every test compares with the in-process path or checks that nothing is
written when the import fails, whichever process the failure is in.
"""
from __future__ import annotations

import datetime as dt
import os
import threading

import pytest

from core import db, ids, procs
from core import models as m
from core.cli import main
from core.importing import engine
from tests.core import import_fixtures as fx
from tests.core.import_fixtures import CSV, ORDER

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the import worker needs os.fork (not on Windows)")

TABLES = [m.Community, m.Organization, m.Member, m.Transfer, m.Worker, m.WorkerPost, m.WorkerPay, m.Training,
          m.DutyReport, m.UrbanWage, m.Meeting, m.Attendance, m.Evaluation, m.DuesPayment, m.Visit, m.Publication,
          m.FundingAllocation, m.Expenditure]
HEAD = "姓名,公民身份号码,入党日期,党员状态,所在党组织编码,党员类别,离退休,行动不便,报到日期,编入日期,流动党员活动证号,联系人,学历,联系电话,党费类别,月收入"
N = 900  # rows of the generated members file: the worker sends chunks of 250, 500, 1000 … rows


def member_rows(n=N, start=0):
    out = []
    for i in range(start, start + n):
        number = ids.make("320583", dt.date(1960, 1, 1) + dt.timedelta(days=i * 7), 100 + i % 800)
        cls = ["社区党员", "在职党员", "流出党员", "社区党员"][i % 4]
        out.append(f"单{'伟芳娜敏'[i % 4]}{i},{number},{2000 + i % 20}-0{1 + i % 9}-1{i % 10},"
                   f"{'正式党员' if i % 7 else '预备党员'},{'O2' if i % 3 else 'O3'},{cls},"
                   f"{'是' if i % 5 == 0 else '否'},{'是' if i % 11 == 0 else '否'},,,"
                   f"{'LD-%d' % i if cls == '流出党员' else ''},{'王五' if cls == '流出党员' else ''},"
                   f"{['本科', '大专', ''][i % 3]},{'1381234%04d' % i if i % 2 else ''},在职,{1000 + i}.5")
    return out


def dues_rows(numbers, month="2024-03"):
    return [f"{n},{month},{10 + i % 30}.25,{'' if i % 6 == 0 else str(10 + i % 30) + '.25'},"
            f"{'' if i % 6 == 0 else '2024-03-2' + str(i % 9)}" for i, n in enumerate(numbers)]


class City:
    def __init__(self, url, folder):
        self.url, self.folder = url, folder

    def write(self, name, lines):
        p = self.folder / name
        p.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return p

    def run(self, *argv) -> int:
        rc = main([str(a) for a in argv])
        db.connect(self.url, migrate=False)
        return rc

    def reset(self):
        """An empty database again (SQLite: a new file; PostgreSQL: every table emptied, ids from 1)."""
        if not self.url.startswith("sqlite"):
            from core.testing import _reset_pg

            db.connect(self.url, migrate=False)
            _reset_pg()
            db.connect(self.url)
            return
        db.close()
        path = self.url[len("sqlite:///"):]
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.unlink(path + suffix)
        db.connect(self.url)


@pytest.fixture
def city(dangjian_db, monkeypatch, tmp_path):
    monkeypatch.setenv("DANGJIAN_TODAY", fx.TODAY)
    monkeypatch.chdir(tmp_path)
    return City(dangjian_db, tmp_path)


def everything(with_audit=True):
    out = {t.__name__: sorted(tuple(str(v) for v in r) for r in t.select().tuples()) for t in TABLES}
    if with_audit:  # the time and the order inside a file differ (chunks); who, what, which record, old, new do not
        out["AuditLog"] = sorted((r.user, r.action, r.table, r.key, r.old or "", r.new, r.community or 0)
                                 for r in m.AuditLog.select().where(m.AuditLog.action != "refuse"))
    return out


def forks(monkeypatch):
    calls = []
    real = os.fork

    def spy():
        calls.append(1)
        return real()
    monkeypatch.setattr(os, "fork", spy)
    return calls


def scenario(city, capsys):
    """Every kind of the fixture city, a 900-row members file, dues for them, then a re-import with edits."""
    out = []
    for kind in ORDER:
        p = city.folder / f"{kind}.csv"
        p.write_text(CSV[kind], encoding="utf-8")
        assert city.run("import", kind, p) == 0, kind
    members = member_rows()
    assert city.run("import", "members", city.write("many.csv", [HEAD, *members])) == 0
    numbers = [line.split(",")[1] for line in members]
    assert city.run("import", "dues", city.write("dues.csv", ["公民身份号码,所属月份,应交金额,实交金额,交纳日期",
                                                              *dues_rows(numbers)])) == 0
    edited = [line.replace("本科", "研究生") if i % 10 == 0 else line for i, line in enumerate(members)]
    edited += member_rows(120, start=N)  # new ones after the changed ones
    assert city.run("import", "members", city.write("edited.csv", [HEAD, *edited])) == 0
    out.append(capsys.readouterr().err)
    return everything(), out


def test_forked_import_writes_exactly_what_the_in_process_import_writes(city, capsys, monkeypatch):
    monkeypatch.setenv("DANGJIAN_IMPORT_WORKER", "0")
    calls = forks(monkeypatch)
    serial, serial_err = scenario(city, capsys)
    assert calls == []
    city.reset()
    monkeypatch.setenv("DANGJIAN_IMPORT_WORKER", "1")
    forked, forked_err = scenario(city, capsys)
    # members (4 files), pay, trainings, meetings, attendance, evaluations, dues (2), visits, reports,
    # publications, funding, expenditures, wages: forked; communities, orgs, workers, transfers: not
    assert len(calls) == 16
    assert forked_err == serial_err
    assert "members：新增 120，更新 30，未变 870，拒绝 0" in forked_err[0]
    assert forked == serial
    assert m.Member.select().count() == 4 + N + 120
    assert m.AuditLog.select().where(m.AuditLog.table == "member", m.AuditLog.action == "create").count() == 4 + N + 120


def stored(tables=("member", "audit_log", "roster_period", "floating_certificate")):
    """Every row of ``tables`` with each value's SQLite storage class (typeof), sorted; the audit rows
    without their time and id (their order follows the chunks, which differ: see everything())."""
    out = {}
    typeof = "typeof" if db.is_sqlite() else "pg_typeof"  # PostgreSQL: the column's type, NULL or not
    for t in tables:
        cols = [c.name for c in db.database.get_columns(t) if t != "audit_log" or c.name not in ("at", "id")]
        sel = ", ".join(f'"{c}", {typeof}("{c}")::text' if typeof == "pg_typeof" else f'"{c}", typeof("{c}")'
                        for c in cols)
        out[t] = sorted(db.database.execute_sql(f'SELECT {sel} FROM "{t}"').fetchall(), key=repr)
    return out


def test_forked_import_stores_the_same_values_of_the_same_storage_class(city, capsys, monkeypatch):
    """The worker sends dates and money as text and writes columns that hold one value in every row
    into the statement (_wire): the rows stored, their storage classes, ids and audit rows, the roster
    spans and the certificates are those of the in-process import, at first import and re-import."""
    lines = member_rows()
    edited = [line.replace("本科", "研究生") if i % 10 == 0 else line for i, line in enumerate(lines)]
    results = {}
    for worker in ("0", "1"):
        monkeypatch.setenv("DANGJIAN_IMPORT_WORKER", worker)
        city.reset()
        _load_orgs(city)
        assert city.run("import", "members", city.write("m.csv", [HEAD, *lines])) == 0
        first = stored()
        assert city.run("import", "members", city.write("e.csv", [HEAD, *edited + member_rows(40, start=N)])) == 0
        results[worker] = (first, stored())
        capsys.readouterr()
    assert results["0"] == results["1"]
    first, _again = results["1"]
    assert len(first["member"]) == N and len(first["roster_period"]) == N
    assert len(first["floating_certificate"]) == N // 4  # every 流出党员's number
    types = {(row[i], row[i + 1]) for row in first["member"] for i in range(0, len(row), 2)}
    assert (1, "integer") in types  # the version, as bound
    if db.is_sqlite():  # (a PostgreSQL column has one type, NULL or not)
        assert (None, "null") in types  # an empty column, as bound


@pytest.mark.parametrize("value", [None, 0, 1, -7, 1 << 61, True, False, "", "a'b", "''", "中文、引号'", "x" * 256,
                                   1.5, 1 << 63, "x" * 257, "a\x00b", "\udcff", b"raw"])
def test_a_constant_column_written_into_the_statement_stores_what_binding_stores(value, tmp_path):
    import sqlite3

    con = sqlite3.connect(tmp_path / "w.db")
    con.execute("CREATE TABLE t (i INTEGER, v, n NUMERIC, s TEXT)")
    rows = [(i, value, value, value) for i in range(engine.FOLD_MIN)]
    sql = "INSERT INTO t (i, v, n, s) VALUES (?, ?, ?, ?)"
    wsql, wrows, kept = engine._wire(sql, rows)
    if engine._literal(value) is None:  # no literal as simple: bound row by row as before
        assert wsql == sql and kept is None
        return
    assert "?" not in wsql.split(" VALUES ", 1)[1].replace("(?, ", "(", 1) and kept[1:] == [(value,)] * 3
    con.executemany(wsql, wrows)
    folded = con.execute("SELECT v, typeof(v), n, typeof(n), s, typeof(s) FROM t ORDER BY i").fetchall()
    con.execute("DELETE FROM t")
    con.executemany(sql, rows)
    assert folded == con.execute("SELECT v, typeof(v), n, typeof(n), s, typeof(s) FROM t ORDER BY i").fetchall()


def test_the_inserts_audit_rows_are_the_same_from_rows_with_columns_in_the_statement(city):
    """Whichever process encodes the inserts' audit rows, it reads the insert rows as sent: the columns
    written into the statement (_wire) come back as their value, the id column included where it stays."""
    planner = engine.Planner("members", engine.handler_class("members")(engine.Context("members"), set()),
                             engine.Context("members"), dt.datetime(2024, 6, 30, 12))
    n = engine.FOLD_MIN + 4
    rows = [(100 + i, 1, f"单伟{i}", None, "resident", i % 2 == 0, "在职") for i in range(n)]
    names = ["dues_class", "management_class", "name", "placed_date", "retired"]
    where = [6, 4, 2, 3, 5]
    communities = [i % 3 for i in range(n)]
    sql = "INSERT INTO t (id, version, name, placed, cls, retired, dues) VALUES (?, ?, ?, ?, ?, ?, ?)"
    wsql, wrows, kept = engine._wire(sql, rows)
    assert wsql.endswith("VALUES (?, 1, ?, NULL, 'resident', ?, '在职')") and len(wrows[0]) == 3
    plain = engine._creates_from_rows(planner, (names, where, communities, 0), rows)
    sent = engine._creates_from_rows(planner, (names, [kept[w] for w in where], communities, kept[0]), wrows)
    assert sent == plain
    assert plain[0][4] == "100" and plain[0][6] == ('{"dues_class": "在职", "management_class": "resident", '
                                                    '"name": "单伟0", "retired": true}')


def test_which_imports_fork(city, monkeypatch, tmp_path):
    small = city.write("s.csv", [HEAD, *member_rows(3)])
    handler = engine.handler_class("members")(engine.Context("members"), set())

    class Table:
        path = small

    monkeypatch.delenv("DANGJIAN_IMPORT_WORKER", raising=False)
    monkeypatch.setattr(procs, "cpus", lambda: 2)
    assert not engine._fork_wanted(handler, Table)  # a small file: not worth a process
    monkeypatch.setattr(engine, "FORK_MIN_BYTES", 100)
    assert engine._fork_wanted(handler, Table)
    monkeypatch.setattr(procs, "cpus", lambda: 1)
    assert not engine._fork_wanted(handler, Table)  # one core: the two processes would only take turns
    monkeypatch.setattr(procs, "cpus", lambda: 2)
    assert engine._fork_wanted(handler, Table)
    monkeypatch.setenv("DANGJIAN_IMPORT_WORKER", "0")
    assert not engine._fork_wanted(handler, Table)
    monkeypatch.setenv("DANGJIAN_IMPORT_WORKER", "1")
    monkeypatch.setattr(procs, "cpus", lambda: 1)
    assert engine._fork_wanted(handler, Table)  # forced
    for kind in ("orgs", "transfers", "workers", "communities"):  # later rows need earlier writes
        assert not engine._fork_wanted(engine.handler_class(kind)(engine.Context(kind), set()), Table), kind
    for kind in ("members", "dues", "attendance", "visits", "wages", "pay", "meetings"):
        assert engine._fork_wanted(engine.handler_class(kind)(engine.Context(kind), set()), Table), kind
    with db.database.atomic():  # inside someone's transaction the worker could not see its writes
        assert not engine._fork_wanted(handler, Table)
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:  # never fork a process with other threads (their locks would be copied held)
        assert not engine._fork_wanted(handler, Table)
    finally:
        stop.set()
        t.join()


def test_big_file_forks_by_itself(city, monkeypatch, capsys):
    monkeypatch.delenv("DANGJIAN_IMPORT_WORKER", raising=False)
    monkeypatch.setattr(engine, "FORK_MIN_BYTES", 10_000)
    monkeypatch.setattr(procs, "cpus", lambda: 2)
    calls = forks(monkeypatch)
    for kind in ("communities", "orgs"):
        (city.folder / f"{kind}.csv").write_text(CSV[kind], encoding="utf-8")
        assert city.run("import", kind, city.folder / f"{kind}.csv") == 0
    assert calls == []
    assert city.run("import", "members", city.write("m.csv", [HEAD, *member_rows()])) == 0
    assert calls == [1]
    assert m.Member.select().count() == N


def _load_orgs(city):
    for kind in ("communities", "orgs"):
        (city.folder / f"{kind}.csv").write_text(CSV[kind], encoding="utf-8")
        assert city.run("import", kind, city.folder / f"{kind}.csv") == 0


def _bad_file(city):
    rows = member_rows()
    rows[800] = rows[800].replace("正式党员", "正式", 1)  # in the fourth chunk: three were written already
    rows[850] = rows[850].replace(",O2,", ",O9,", 1).replace(",O3,", ",O9,", 1)
    return city.write("bad.csv", [HEAD, *rows])


@pytest.mark.parametrize("worker", ["0", "1"])
def test_bad_rows_late_in_a_file_leave_nothing_written(city, capsys, monkeypatch, worker):
    monkeypatch.setenv("DANGJIAN_IMPORT_WORKER", worker)
    _load_orgs(city)
    capsys.readouterr()
    before = everything()
    assert city.run("import", "members", _bad_file(city)) == 2
    err = capsys.readouterr().err
    assert "bad.csv row 802, 党员状态: " in err
    assert "bad.csv row 852, 所在党组织编码: " in err
    assert "2 行有错误，未写入任何记录" in err
    assert everything() == before


def test_partial_import_with_the_worker_writes_the_same_rows_and_rejects_file(city, capsys, monkeypatch):
    results = {}
    for worker in ("0", "1"):
        monkeypatch.setenv("DANGJIAN_IMPORT_WORKER", worker)
        city.reset()
        _load_orgs(city)
        capsys.readouterr()
        bad = _bad_file(city)
        assert city.run("import", "members", bad, "--partial") == 1
        err = capsys.readouterr().err
        results[worker] = (err, (city.folder / "bad.csv.rejects.csv").read_text(encoding="utf-8-sig"),
                           everything(with_audit=False))
    assert results["0"] == results["1"]
    err, rejects, data = results["1"]
    assert "新增 898，更新 0，未变 0，拒绝 2" in err
    assert rejects.count("\n") == 3 and "正式" in rejects and "O9" in rejects


def test_a_failing_worker_rolls_everything_back(city, capsys, monkeypatch):
    monkeypatch.setenv("DANGJIAN_IMPORT_WORKER", "1")
    _load_orgs(city)
    before = everything()
    real = engine.Planner.plan
    calls = []

    def third_fails(self, items):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("a bug in a plugin")
        return real(self, items)
    monkeypatch.setattr(engine.Planner, "plan", third_fails)
    with pytest.raises(RuntimeError, match="import worker failed(.|\n)*a bug in a plugin"):
        main(["import", "members", str(city.write("m.csv", [HEAD, *member_rows()]))])
    db.connect(city.url, migrate=False)
    assert everything() == before


def test_a_worker_that_dies_rolls_everything_back(city, capsys, monkeypatch):
    monkeypatch.setenv("DANGJIAN_IMPORT_WORKER", "1")
    _load_orgs(city)
    before = everything()
    capsys.readouterr()
    real = engine.Planner.plan
    calls = []

    def third_dies(self, items):
        calls.append(1)
        if len(calls) == 3:
            os._exit(9)  # killed (out of memory, say): no word to the parent
        return real(self, items)
    monkeypatch.setattr(engine.Planner, "plan", third_dies)
    assert city.run("import", "members", city.write("m.csv", [HEAD, *member_rows()])) == 2
    assert "导入的工作进程意外退出，未写入任何记录" in capsys.readouterr().err
    assert everything() == before


@pytest.mark.parametrize("worker", ["0", "1"])
def test_undecodable_bytes_late_in_the_file(city, capsys, monkeypatch, worker):
    monkeypatch.setenv("DANGJIAN_IMPORT_WORKER", worker)
    _load_orgs(city)
    before = everything()
    capsys.readouterr()
    p = city.write("m.csv", [HEAD, *member_rows()])
    p.write_bytes(p.read_bytes() + "张三,".encode("gbk") + b"\n")
    assert city.run("import", "members", p, "--encoding", "utf-8") == 2
    err = capsys.readouterr().err
    assert "m.csv" in err and "utf-8" in err.lower()
    assert everything() == before


def test_scope_and_plugin_checks_run_in_the_worker(city, capsys, monkeypatch, tmp_path):
    from core import access

    fx.town_plugin(tmp_path, monkeypatch, "no_thirteens",
                   "from core import hookimpl\n"
                   "@hookimpl\n"
                   "def dangjian_validate_record(kind, record):\n"
                   "    return ['不收13号'] if kind == 'members' and record['name'].endswith('13') else []\n")
    _load_orgs(city)
    m.User.create(login="boss", role="admin", scope="city", full_personal_data=True)
    m.User.create(login=access.os_login(), role="community", scope="C001", full_personal_data=True)
    p = city.write("m.csv", [HEAD, *member_rows()])
    errs = {}
    for worker in ("0", "1"):
        monkeypatch.setenv("DANGJIAN_IMPORT_WORKER", worker)
        capsys.readouterr()
        assert city.run("import", "members", p) == 2
        errs[worker] = capsys.readouterr().err
    assert errs["0"] == errs["1"]
    assert "m.csv row 2, 所在党组织编码: 未知的组织编码 O3" in errs["1"]  # row 2 is in O3 (C002): as if unknown
    assert "m.csv row 15, " in errs["1"] and "不收13号" in errs["1"]
    assert m.Member.select().count() == 0


def test_progress_bar_on_a_terminal_while_the_worker_plans(city, tmp_path):
    """In a pty, the parent draws the bar from the row numbers the worker sends; the summary follows."""
    import pty
    import subprocess
    import sys

    _load_orgs(city)
    p = city.write("m.csv", [HEAD, *member_rows()])
    master, slave = pty.openpty()
    env = dict(os.environ, DANGJIAN_IMPORT_WORKER="1", DANGJIAN_DB=city.url)
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", "import", "members", str(p)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=slave, env=env, cwd=str(tmp_path))
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child side closed
            break
        if not chunk:
            break
        out += chunk
    assert proc.wait(timeout=60) == 0
    os.close(master)
    text = out.decode("utf-8", "replace")
    assert "\r导入 members [" in text and f"/{N + 1}" in text
    assert text.rstrip().endswith(f"members：新增 {N}，更新 0，未变 0，拒绝 0")
    db.connect(city.url, migrate=False)
    assert m.Member.select().count() == N


@pytest.mark.parametrize("worker", ["0", "1"])
def test_a_validation_hook_that_raises_is_reported(city, capsys, monkeypatch, tmp_path, worker):
    """A row the plugin could not check is a bad row naming the plugin (never let through
    unchecked): the import is refused and writes nothing, wherever the hook ran."""
    fx.town_plugin(tmp_path, monkeypatch, "buggy",
                   "from core import hookimpl\n"
                   "@hookimpl\n"
                   "def dangjian_validate_record(kind, record):\n"
                   "    return [] if record['name'] != '单伟4' else 1 / 0\n")
    monkeypatch.setenv("DANGJIAN_IMPORT_WORKER", worker)
    _load_orgs(city)
    capsys.readouterr()
    assert city.run("import", "members", city.write("m.csv", [HEAD, *member_rows()])) == 2
    err = capsys.readouterr().err
    assert "buggy" in err and "dangjian_validate_record" in err and "ZeroDivisionError" in err
    assert m.Member.select().count() == 0
    # kept for `dangjian plugins` and the app, wherever the hook ran (the worker sends its failures)
    kept = [(r.plugin, r.hook, r.command) for r in m.PluginFailure.select()]
    assert kept and all(k == ("buggy", "dangjian_validate_record", "import members") for k in kept)
    assert all(r.location.endswith("buggy.py:4") for r in m.PluginFailure.select())
