"""``in_ids``: ids written into the SQL as integer literals, and nothing else gets in."""
from __future__ import annotations

import pytest

from core import in_ids
from core.models import Community
from tests import factories as f


@pytest.fixture
def three(dangjian_db):
    return [f.make_community(f"YS00{i}", town="玉山镇").id for i in range(1, 4)]


def test_a_list_selects_those_rows(three):
    got = [c.id for c in Community.select().where(Community.id.in_(in_ids(three[:2]))).order_by(Community.id)]
    assert got == three[:2]


def test_an_empty_list_selects_nothing(three):
    assert Community.select().where(Community.id.in_(in_ids([]))).count() == 0


def test_a_subquery_and_an_id_list_pass_through(three):
    sub = Community.select(Community.id).where(Community.code == "YS003")
    assert in_ids(sub) is sub
    lst = in_ids(three)
    assert in_ids(lst) is lst
    assert [c.id for c in Community.select().where(Community.id.in_(in_ids(sub)))] == [three[2]]


def test_tens_of_thousands_of_ids_in_one_statement(three):
    ids = list(range(10_000_000, 10_060_000)) + [three[0]]  # more than SQLite's parameter limit
    assert [c.id for c in Community.select().where(Community.id.in_(in_ids(ids)))] == [three[0]]


@pytest.mark.parametrize("bad", [["1); DROP TABLE community; --"], [1.5], [True], [None], ["7"]])
def test_only_integers_get_into_the_sql(three, bad):
    with pytest.raises(TypeError, match="integer ids"):
        in_ids(bad)
    assert Community.select().count() == 3


HOSTILE = ["tab\there", "line\nbreak", "cr\rhere", "back\\slash", "\\N", "\\.", "末尾\\", "中文 '引号' \"双\"", ""]


def test_stored_findings_keep_every_character(dangjian_db):
    """A run's findings go in by COPY on PostgreSQL and by executemany on SQLite; either way
    what comes back is what went in: tabs, line breaks, backslashes, a literal \\N, None."""
    import datetime as dt

    from core.api import Finding
    from core.findings import RunScope, run_findings, store_run

    fs = [Finding("zz.rule", i, "warn", "玉山镇" if i % 2 else None, None, f"S{i}", text, {"text": text, "n": i})
          for i, text in enumerate(HOSTILE)]
    fs.append(Finding("zz.rule", None, "pass", None, None, "S-none", "no clause", {}))
    run = store_run(fs, 2026, dt.date(2026, 6, 30), RunScope(None, None, None, None))
    back = run_findings(run)
    assert [(f.rule, f.clause, f.status, f.town, f.community, f.subject, f.message, f.evidence) for f in back] == \
        [(f.rule, f.clause, f.status, f.town, f.community, f.subject, f.message, f.evidence) for f in fs]


# ---------------------------------------------------------------- bulk inserts: COPY on PostgreSQL

@pytest.mark.parametrize("sql,slots", [
    ('INSERT INTO "t" ("a", "b") VALUES (?, ?)', [None, None]),
    ('INSERT INTO "t" ("a", "b", "c") VALUES (?, 1, \'it\'\'s, ok\')', [None, "1", "it's, ok"]),
    ('INSERT INTO "t" ("a", "b") VALUES (?, NULL)', [None, "\\N"]),
    ('INSERT INTO "t" ("a", "b") VALUES (?, -5)', [None, "-5"]),
])
def test_a_plain_insert_becomes_a_copy(sql, slots):
    from core.db import _copy_form

    copy, got = _copy_form(sql)
    assert copy.startswith('COPY "t" (') and copy.endswith(") FROM STDIN") and got == slots


@pytest.mark.parametrize("sql", [
    'INSERT INTO "t" ("a") VALUES (?) ON CONFLICT DO NOTHING',
    'INSERT INTO "t" ("a") VALUES (?) ON CONFLICT ("a") DO UPDATE SET "a" = (EXCLUDED."a")',
    'INSERT INTO "t" ("a", "b") VALUES (?, now())',
    'INSERT INTO "t" ("a") VALUES (?) RETURNING ("a")',
    'UPDATE "t" SET "a" = ? WHERE "id" = ?',
    'INSERT INTO "t" ("a", "b") VALUES (?, \'unterminated)',
])
def test_anything_else_stays_an_insert(sql):
    from core.db import _copy_form

    assert _copy_form(sql) is None


def test_bulk_inserted_text_keeps_every_character(dangjian_db):
    """The bulk path (COPY on PostgreSQL, executemany on SQLite) stores tabs, newlines, backslashes,
    quotes, NULLs and dates exactly as given."""
    import datetime as dt

    from core import db
    from core.models import AuditLog

    odd = ["a\tb", "line\nnext\r", "back\\slash \\N", "it's \"q\"", "张伟\u3000明", ""]
    rows = [(dt.datetime(2026, 1, 2, 3, 4, 5), "u", "create", "member", i, None, text, None, 1)
            for i, text in enumerate(odd, 1)]
    sql = ('INSERT INTO "audit_log" ("at", "user", "action", "table", "key", "old", "new", "community", "version") '
           "VALUES (?, ?, ?, ?, ?, NULL, ?, ?, 1)")
    with db.write_tx():
        db.executemany(sql, [(a, u, c, t, k, n, co) for a, u, c, t, k, _o, n, co, _v in rows])
    got = {int(r.key): r for r in AuditLog.select().where(AuditLog.table == "member")}
    assert [got[i].new for i in range(1, len(odd) + 1)] == odd
    assert all(got[i].old is None and got[i].community is None and got[i].version == 1 for i in got)
    assert str(got[1].at).startswith("2026-01-02 03:04:05")


def test_bulk_insert_literals_keep_percent_signs(dangjian_db):
    """A text literal written into the INSERT (not bound) goes into every row as it is, ``%``
    and all: on PostgreSQL the literals are put into each COPY line's form once, and the row's
    values into that form's ``%s`` by ``%``."""
    import datetime as dt

    from core import db
    from core.models import AuditLog

    at = dt.datetime(2026, 1, 2, 3, 4, 5)
    sql = ('INSERT INTO "audit_log" ("at", "user", "action", "table", "key", "old", "new", "community", "version") '
           "VALUES (?, '批量 100%s %% %d', ?, 'member', ?, NULL, ?, NULL, 1)")
    values = ["%s", "a%%b", "%(x)s", "plain"]
    with db.write_tx():
        db.executemany(sql, [(at, "create", i, v) for i, v in enumerate(values, 1)])
    got = {int(r.key): r for r in AuditLog.select().where(AuditLog.table == "member")}
    assert [got[i].new for i in range(1, len(values) + 1)] == values
    assert {r.user for r in got.values()} == {"批量 100%s %% %d"}


def test_a_bulk_load_streams_many_rows_and_a_failure_midway_leaves_none(dangjian_db):
    """Rows are encoded as they are sent (PostgreSQL: one COPY fed a chunk at a time): every one of
    many rows arrives in order; a row that cannot be encoded halfway through stops the load and
    the transaction keeps none of it."""
    import datetime as dt

    from core import db
    from core.models import AuditLog

    at = dt.datetime(2026, 1, 2, 3, 4, 5)
    cols = ("at", "user", "action", "table", "key", "new", "version")
    with db.write_tx():
        db.copy_in("audit_log", cols, ((at, "u", "create", "bulk", str(i), "值" * (i % 7), 1) for i in range(25_000)))
    keys = [int(k) for (k,) in AuditLog.select(AuditLog.key).where(AuditLog.table == "bulk").order_by(AuditLog.id).tuples()]
    assert keys == list(range(25_000))

    def rows():
        for i in range(10_000):
            if i == 6_000:
                raise ValueError("row 6000 cannot be read")
            yield (at, "u", "create", "half", str(i), None, 1)
    with pytest.raises(ValueError, match="row 6000"):
        with db.write_tx():
            db.copy_in("audit_log", cols, rows())
    assert not AuditLog.select().where(AuditLog.table == "half").exists()


# ---------------------------------------------------------------- bulk updates: one UPDATE … FROM on PostgreSQL

@pytest.mark.parametrize("sql,want", [
    ('UPDATE "member" SET "phone" = ?, "version" = "version" + 1 WHERE "id" = ?',
     ('"member"', '"id"', [('"phone"', None), ('"version"', '"version" + 1')])),
    ('UPDATE "worker_post" SET "end_date" = ?, "start_date" = ? WHERE "id" = ?',
     ('"worker_post"', '"id"', [('"end_date"', None), ('"start_date"', None)])),
])
def test_a_keyed_update_becomes_set_based(sql, want):
    from core.db import _update_form

    assert _update_form(sql) == want


@pytest.mark.parametrize("sql", [
    'UPDATE "t" SET "a" = COALESCE(?, "a") WHERE "id" = ?',   # a mark inside an expression
    'UPDATE "t" SET "a" = ? WHERE "id" = ? AND "b" = ?',      # more than the key
    'UPDATE "t" SET "a" = ? WHERE "id" > ?',
    'UPDATE "t" SET "a" = \'x, y\' WHERE "id" = ?',          # nothing from the rows but the key
    'UPDATE "t" SET "version" = "version" + 1 WHERE "id" = ?',
    'DELETE FROM "t" WHERE "id" = ?',
])
def test_any_other_update_stays_row_by_row(sql):
    from core.db import _update_form

    assert _update_form(sql) is None


def test_a_bulk_update_sets_each_row_once_as_the_statements_would(dangjian_db, monkeypatch):
    """Many rows (PostgreSQL: staged by COPY, one UPDATE … FROM): each row gets its own values and
    its version counted once, rows not named are left alone, tabs, quotes, NULLs and dates arrive
    as given; a key given twice is applied in order, as one statement a row would."""
    import datetime as dt

    from core import db
    from core.models import Member
    ids = f.make_members(450, f.make_org(f.make_community()))
    members = list(Member.select().where(Member.id.in_(ids)).order_by(Member.id))
    odd = ["a\tb", "it's", None, "back\\slash", "张伟"]
    rows = [(odd[i % len(odd)], dt.date(2020, 1, 1) + dt.timedelta(days=i), m.id) for i, m in enumerate(members[:400])]
    before = {m.id: m.version for m in Member.select()}
    staged = []
    real = db._update_from
    monkeypatch.setattr(db, "_update_from", lambda *a: staged.append(real(*a)) or staged[-1])
    with db.write_tx():
        db.executemany('UPDATE "member" SET "phone" = ?, "joined_date" = ?, "version" = "version" + 1 '
                       'WHERE "id" = ?', rows)
    got = {m.id: m for m in Member.select()}
    for phone, joined, mid in rows:
        assert (got[mid].phone, got[mid].joined_date, got[mid].version) == (phone, joined, before[mid] + 1)
    assert all(got[m.id].version == before[m.id] and got[m.id].phone == m.phone for m in members[400:])
    twice = [("first", members[0].id)] + [(f"p{i}", m.id) for i, m in enumerate(members[1:300])] + [("last", members[0].id)]
    with db.write_tx():
        db.executemany('UPDATE "member" SET "phone" = ?, "version" = "version" + 1 WHERE "id" = ?', twice)
    again = Member.get_by_id(members[0].id)
    assert (again.phone, again.version) == ("last", before[members[0].id] + 3)
    assert staged == ([True, False] if db.is_postgres() else [])  # the key given twice: row by row


# ---------------------------------------------------------------- planner statistics after a bulk load

def _analyzed(table: str):
    from core import db

    return db.database.execute_sql("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = %s",
                                   (table,)).fetchone()[0]


def test_statistics_are_refreshed_by_name_only(dangjian_db):
    from core import db

    for bad in ('member"; DROP TABLE member; --', "Member", "member roster"):
        with pytest.raises(ValueError, match="not a table name"):
            db.refresh_statistics(["member", bad])
    db.refresh_statistics([])  # nothing to do
    db.refresh_statistics(["member", "roster_period"])
    if db.is_sqlite():  # SQLite plans without statistics: none are made
        assert db.database.execute_sql("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()[0] == 0
    else:
        assert _analyzed("member") is not None and _analyzed("roster_period") is not None


def test_a_large_import_refreshes_the_statistics_of_what_it_wrote(dangjian_db, tmp_path, monkeypatch):
    """PostgreSQL plans a table loaded in bulk as nearly empty until autovacuum passes: an import
    of many rows gathers the statistics of its table and the roster at once; a small one leaves
    that to autovacuum."""
    from core import db
    from core.cli import main
    from core.importing import engine

    calls = []
    real = db.refresh_statistics
    monkeypatch.setattr(db, "refresh_statistics", lambda tables: (calls.append(sorted(tables)), real(tables)))
    monkeypatch.setattr(engine, "ANALYZE_AFTER_ROWS", 3)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.csv").write_text("区镇,街道,社区编码,社区名称\n玉山镇,,C1,一社区\n玉山镇,,C2,二社区\n", encoding="utf-8")
    assert main(["import", "communities", "c.csv"]) == 0
    assert calls == []  # two rows: below the threshold
    (tmp_path / "c.csv").write_text("区镇,街道,社区编码,社区名称\n" + "".join(f"玉山镇,,D{i},社区{i}\n" for i in range(3)),
                                    encoding="utf-8")
    assert main(["import", "communities", "c.csv"]) == 0
    assert calls == [["community", "roster_period"]]
    if not db.is_sqlite():
        db.connect(dangjian_db, migrate=False)
        assert _analyzed("community") is not None
