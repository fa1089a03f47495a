"""The demo city (core.demo): counts, determinism, valid data, planted non-compliance, the CLI."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import time

import pytest

from core import db, demo, ids, models
from core.cli import main
from core.pinyin import initials

TODAY = "2026-11-28"

EXCLUDED = {models.CheckRun, models.StoredFinding, models.StoredCount, models.PluginFailure, models.User, models.AuditLog}

# rules that only report a metric (info) and so cannot fail
INFO_ONLY = {"worker.age_structure", "worker.one_shoulder"}


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setenv("DANGJIAN_TODAY", TODAY)
    return dt.date.fromisoformat(TODAY)


@pytest.fixture
def small(dangjian_db, today):
    t = time.perf_counter()
    counts = demo.build()
    return counts, time.perf_counter() - t


def table_hash(*tables) -> str:
    """A digest of whole tables, rows ordered by id (what determinism means here)."""
    h = hashlib.sha256()
    for model in tables:
        cols = [f.column_name for f in model._meta.sorted_fields]
        cursor = db.database.execute_sql(
            f'SELECT {", ".join(chr(34) + c + chr(34) for c in cols)} FROM "{model._meta.table_name}" ORDER BY id')
        for row in cursor:
            h.update(repr(tuple(str(v) for v in row)).encode())
    return h.hexdigest()


HASHED = (models.Community, models.Organization, models.Member, models.Worker, models.WorkerPost,
          models.Meeting, models.Attendance, models.DuesPayment, models.Visit, models.FundingAllocation,
          models.FourTwoDecision, models.Transfer)


# ---------------------------------------------------------------- counts and shape

def test_small_demo_counts(small):
    counts, seconds = small
    assert seconds < 20
    assert counts["社区"] == 3 and counts["党员"] == 300 and counts["工作者"] == 25
    assert counts["区镇"] == 1
    assert [t.name for t in models.Town.select()] == ["玉山镇"]  # the built-in 50/50 funding split applies
    assert models.Community.select().count() == 3
    assert models.Member.select().count() == 300
    assert models.Worker.select().count() == 25
    assert counts["出勤"] == models.Attendance.select().count() > 3000
    assert counts["党费"] == models.DuesPayment.select().count() > 4000
    assert counts["会议"] == models.Meeting.select().count()


def test_every_model_gets_rows(small):
    empty = [m.__name__ for m in models.CORE_MODELS if m not in EXCLUDED and not m.select().exists()]
    assert empty == []
    for m in EXCLUDED:
        assert not m.select().exists() or m is models.AuditLog


def test_wages_for_the_two_previous_years(small, today):
    years = sorted(w.year for w in models.UrbanWage.select())
    assert years == [today.year - 2, today.year - 1]


def test_records_cover_previous_and_current_year_and_nothing_after_today(small, today):
    first = dt.date(today.year - 1, 1, 1)
    checks = [(models.Meeting, models.Meeting.date), (models.Visit, models.Visit.date),
              (models.Training, models.Training.start_date), (models.Transfer, models.Transfer.date),
              (models.FundingAllocation, models.FundingAllocation.date), (models.Publication, models.Publication.date),
              (models.DutyReport, models.DutyReport.date), (models.Expenditure, models.Expenditure.date),
              (models.ServiceRecord, models.ServiceRecord.date), (models.DiaryEntry, models.DiaryEntry.date),
              (models.VolunteerHours, models.VolunteerHours.date)]
    for model, field in checks:
        lo = model.select(field).order_by(field).first()
        hi = model.select(field).order_by(field.desc()).first()
        assert getattr(hi, field.name) <= today, model.__name__
        if model in (models.Meeting, models.Visit, models.ServiceRecord):
            assert getattr(lo, field.name) >= first
            assert getattr(hi, field.name).year == today.year
    for f in ("joined_date", "full_date", "placed_date", "registered_date", "left_date"):
        field = getattr(models.Member, f)
        assert not models.Member.select().where(field > today).exists(), f
    assert not models.DuesPayment.select().where(models.DuesPayment.paid_date > today).exists()
    assert not models.Visit.select().where((models.Visit.answered_date > today)
                                           | (models.Visit.closed_date > today)).exists()
    months = {d.month for d in models.DuesPayment.select(models.DuesPayment.month).distinct()}
    assert min(months) == f"{today.year - 1}-01" and max(months) == f"{today.year}-{today.month:02d}"


def test_foreign_keys_consistent(small):
    """The SQLite build runs with FK checks off for speed; the rows must still be consistent."""
    if not db.is_sqlite():
        pytest.skip("SQLite only")
    assert db.database.execute_sql("PRAGMA foreign_key_check").fetchall() == []
    assert db.database.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1  # switched back on


# ---------------------------------------------------------------- people are realistic

def test_id_numbers_valid_unique_and_consistent(small, today):
    seen = set()
    for m in models.Member.select():
        assert ids.validate(m.id_number, today) == m.id_number
        assert ids.sex(m.id_number) == m.sex
        assert ids.birth_date(m.id_number) == m.birth_date
        assert m.id_number[:6] in ("320583", *demo.OTHER_AREAS)
        assert m.initials == initials(m.name) and m.initials
        assert m.joined_date > m.birth_date
        seen.add(m.id_number)
    assert len(seen) == 300
    for w in models.Worker.select():
        assert ids.validate(w.id_number, today) == w.id_number
        assert ids.sex(w.id_number) == w.sex and ids.birth_date(w.id_number) == w.birth_date
        assert w.initials == initials(w.name)


def test_member_mix(small, today):
    q = models.Member.select()
    total = q.count()
    share = {c: q.where(models.Member.management_class == c).count() / total
             for c in ("resident", "in_service", "floating_in", "floating_out")}
    assert share["resident"] > 0.6 and 0.08 < share["in_service"] < 0.25
    assert 0.01 < share["floating_in"] < 0.12 and 0.01 < share["floating_out"] < 0.12
    retired = q.where(models.Member.retired == True).count() / total  # noqa: E712
    assert 0.25 < retired < 0.55
    probationary = q.where(models.Member.full_date.is_null()).count()
    assert probationary >= 1
    assert {m.education for m in q} >= {"middle_or_below", "high_school", "college", "bachelor"}
    names = [m.name for m in q]
    assert any(n[0] in "单曾解" for n in names)  # polyphonic surnames are in the mix


def test_org_tree_conventions(small):
    O = models.Organization
    for c in models.Community.select():
        tops = list(O.select().where(O.community == c, O.parent.is_null()))
        assert len(tops) == 1 and tops[0].kind in ("committee", "general_branch", "branch")
    for g in O.select().where(O.kind == "group"):
        assert g.parent.kind == "branch"
    for m in models.Member.select().where(models.Member.organization.is_null(False)):
        assert m.organization.kind in ("branch", "group")
        assert m.community_id == m.organization.community_id
    unplaced = models.Member.select().where(models.Member.organization.is_null())
    assert all(m.management_class == "floating_in" and m.placed_date is None for m in unplaced)


# ---------------------------------------------------------------- determinism

def test_same_seed_and_today_give_identical_data(dangjian_env, today, tmp_path):
    digests = []
    for name, seed in (("a", 20111), ("b", 20111), ("c", 7)):
        db.connect(f"sqlite:///{tmp_path / name}.db")
        demo.build(seed=seed)
        digests.append(table_hash(*HASHED))
        db.close()
    assert digests[0] == digests[1]
    assert digests[2] != digests[0]


def test_today_moves_the_demo(dangjian_env, monkeypatch, tmp_path):
    monkeypatch.setenv("DANGJIAN_TODAY", "2027-03-10")
    db.connect(f"sqlite:///{tmp_path / 'later.db'}")
    demo.build()
    assert sorted(w.year for w in models.UrbanWage.select()) == [2025, 2026]
    last = models.Meeting.select().order_by(models.Meeting.date.desc()).first().date
    assert last <= dt.date(2027, 3, 10) and last.year == 2027
    first = models.Meeting.select().order_by(models.Meeting.date).first().date
    assert first.year == 2026


# ---------------------------------------------------------------- the rules see both sides

def test_every_rule_has_failing_and_passing_subjects(small, capsys, tmp_path):
    """SPEC §7: every rule that can pass or fail has failing subjects in the demo (and passing ones)."""
    statuses = {}
    for year in ("2025", "2026"):
        out = tmp_path / f"c{year}.json"
        rc = main(["check", "--year", year, "--format", "json", "--output", str(out)])
        assert rc in (0, 1), capsys.readouterr().err
        for f in json.loads(out.read_text(encoding="utf-8")):
            statuses.setdefault(f["rule"], set()).add(f["status"])
    from core import plugins

    rule_ids = set(plugins.get().registry.rule_ids())
    assert rule_ids, "no rules registered"
    missing = sorted(rule_ids - set(statuses))
    assert missing == [], f"rules with no finding at all: {missing}"
    assert not any("error" in s for s in statuses.values()), {r: s for r, s in statuses.items() if "error" in s}
    one_sided = {r: sorted(s) for r, s in statuses.items()
                 if r not in INFO_ONLY and not ("pass" in s and s & {"fail", "warn"})}
    assert one_sided == {}


def test_funding_split_town_gets_half_city_half(small, today):
    FA = models.FundingAllocation
    for c in models.Community.select():
        city = sum(a.amount for a in FA.select().where(FA.community == c, FA.year == today.year - 1,
                                                      FA.source == "city_finance"))
        town = sum(a.amount for a in FA.select().where(FA.community == c, FA.year == today.year - 1,
                                                      FA.source == "town_finance"))
        assert city > 0 and abs(city - town) <= 1


# ---------------------------------------------------------------- a city-shaped build, scaled down

def test_city_code_path_scaled_down(dangjian_db, today, monkeypatch):
    monkeypatch.setattr(demo, "CHUNK", 700)  # many flushes in mid-loop: no row may be lost
    counts = demo.build("city", scale=0.02)
    assert counts["社区"] == 7 and counts["党员"] == 2000 and counts["工作者"] == 60
    towns = [t.name for t in models.Town.select().order_by(models.Town.id)]
    assert len(towns) == 7 and "玉山镇" in towns and "昆山开发区" in towns
    assert models.Street.select().exists()
    tops = {o.kind for o in models.Organization.select().where(models.Organization.parent.is_null())}
    assert "committee" in tops
    assert models.Transfer.select().where(models.Transfer.direction == "intra_city").exists()
    from peewee import fn

    for model in (models.Attendance, models.DuesPayment, models.Meeting, models.Member, models.Visit):
        n = model.select().count()
        assert n > 700 and model.select(fn.MAX(model.id)).scalar() == n, model.__name__  # ids 1..n, none lost
    # every member whose relationship is here has a dues row for each month on the roll
    M, D = models.Member, models.DuesPayment
    payers = M.select().where(M.management_class.in_(["resident", "floating_out"]), M.active == True,  # noqa: E712
                              M.organization.is_null(False))
    rows = {m: n for m, n in D.select(D.member, fn.COUNT(D.id)).group_by(D.member).tuples()}
    assert all(rows.get(m.id, 0) >= 1 for m in payers)
    assert sum(1 for m in payers if rows.get(m.id) == 23) > 0.9 * payers.count()  # Jan last year .. Nov


def test_unknown_size_is_a_user_error(dangjian_db, today):
    from core.errors import UserError

    with pytest.raises(UserError):
        demo.build("huge")
    assert not demo.has_data()


def test_build_refuses_a_database_with_records(small):
    from core.errors import UserError

    before = models.Member.select().count()
    with pytest.raises(UserError):
        demo.build()
    assert models.Member.select().count() == before


def test_wipe_empties_everything_but_users(small):
    models.User.create(login="someone", role="admin")
    demo.wipe()
    assert not demo.has_data()
    assert [m.__name__ for m in models.CORE_MODELS if m is not models.User and m.select().exists()] == []
    assert models.User.select().count() == 1


# ---------------------------------------------------------------- the CLI

def test_cli_demo_builds_then_leaves_data_alone_then_resets(dangjian_db, today, capsys):
    assert main(["demo", "--no-open"]) == 0
    err = capsys.readouterr().err
    assert "演示数据已生成" in err and "党员 300" in err and "社区 3" in err
    before = table_hash(*HASHED)

    assert main(["demo", "--no-open"]) == 0
    err = capsys.readouterr().err
    assert "不作改动" in err
    assert table_hash(*HASHED) == before

    assert main(["demo", "--reset", "--yes", "--no-open"]) == 0
    err = capsys.readouterr().err
    assert "演示数据已生成" in err
    assert table_hash(*HASHED) == before  # same seed, same today: the same demo again
    assert models.Member.select().count() == 300


def test_cli_demo_reset_without_yes_and_no_terminal_changes_nothing(dangjian_db, today, capsys, monkeypatch):
    assert main(["demo", "--no-open"]) == 0
    before = table_hash(*HASHED)
    monkeypatch.setattr("sys.stdin", None)
    assert main(["demo", "--reset", "--no-open"]) == 2
    assert "--yes" in capsys.readouterr().err
    assert table_hash(*HASHED) == before


def test_cli_demo_english_summary(dangjian_db, today, capsys):
    assert main(["--lang", "en", "demo", "--no-open", "--seed", "5"]) == 0
    err = capsys.readouterr().err
    assert "demo built" in err and "members 300" in err


def test_new_records_after_the_demo_get_fresh_ids(small):
    """Explicit ids are used in bulk; on PostgreSQL the sequences are moved past them."""
    town = models.Town.create(name="新建镇")
    assert town.id == models.Town.select().count()
    comm = models.Community.create(code="X0001", name="新社区", town=town)
    m = models.Member.create(id_number="32058319900101001X", name="新党员", joined_date=dt.date(2020, 1, 1),
                             community=comm)
    assert m.id == 301


@pytest.mark.parametrize("day", ["2027-01-01", "2028-02-29", "2026-12-31"])
def test_edge_days_build_and_date_nothing_after_today(dangjian_db, monkeypatch, day):
    monkeypatch.setenv("DANGJIAN_TODAY", day)
    today = dt.date.fromisoformat(day)
    demo.build(seed=11)
    for model in models.CORE_MODELS:
        for field in model._meta.sorted_fields:
            if type(field).__name__ == "DateField" and field.name != "valid_until":
                assert not model.select().where(field > today).exists(), f"{model.__name__}.{field.name}"
    if today.timetuple().tm_yday > 31:
        assert models.Meeting.select().where(models.Meeting.date.year == today.year).exists()
    assert models.Meeting.select().where(models.Meeting.date.year == today.year - 1).count() > 300


def test_identical_across_processes_and_hash_seeds(dangjian_env, today, tmp_path):
    """No dependence on set/dict ordering: another process with another PYTHONHASHSEED builds the same."""
    import os
    import subprocess
    import sys

    code = ("import sys; from core import db, demo, models; from tests.core.test_demo import table_hash, HASHED; "
            "db.connect(sys.argv[1]); demo.build(); print(table_hash(*HASHED))")
    out = []
    for n, seed in ((1, "1"), (2, "4242")):
        env = dict(os.environ, PYTHONHASHSEED=seed, DANGJIAN_TODAY=TODAY)
        r = subprocess.run([sys.executable, "-c", code, f"sqlite:///{tmp_path / f'p{n}.db'}"], capture_output=True,
                           text=True, env=env, timeout=120, cwd=os.path.dirname(os.path.dirname(os.path.dirname(
                               os.path.abspath(__file__)))))
        assert r.returncode == 0, r.stderr
        out.append(r.stdout.strip())
    assert out[0] == out[1] and len(out[0]) == 64


# ---------------------------------------------------------------- moves: transfers and class changes

CLASS_MOVES = [("resident", "floating_out"), ("floating_out", "resident"), ("in_service", "resident"),
               ("resident", "in_service")]


def _month_last(d: dt.date) -> dt.date:
    return dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1) - dt.timedelta(days=1)


def test_small_demo_moves_of_every_kind(small, today):
    T, CC, O = models.Transfer, models.ClassChange, models.Organization
    by_dir = {d: T.select().where(T.direction == d).count() for d in ("in", "out", "intra_city")}
    assert min(by_dir.values()) >= 3, by_dir
    by_pair = {pair: CC.select().where(CC.old_class == pair[0], CC.new_class == pair[1]).count()
               for pair in CLASS_MOVES}
    assert min(by_pair.values()) >= 3, by_pair
    dates = [t.date for t in T.select()] + [c.date for c in CC.select()]
    assert any(d.day == 1 for d in dates) and any(d == _month_last(d) for d in dates)
    assert {d.year for d in dates} == {today.year - 1, today.year}
    assert all(3 <= d.month <= 10 for d in dates)
    # 市内转移 between branches of one community and between communities
    same = other = 0
    for t in T.select().where(T.direction == "intra_city"):
        a, b = O.get(O.code == t.from_org), O.get(O.code == t.to_org)
        assert a.id != b.id
        same += a.community_id == b.community_id
        other += a.community_id != b.community_id
    assert same >= 1 and other >= 1


def test_small_demo_member_records_are_today_after_their_moves(small, today):
    T, CC, M = models.Transfer, models.ClassChange, models.Member
    for t in T.select():
        mb = t.member
        if t.direction == "out":
            assert not mb.active and mb.left_date == t.date and mb.organization.code == t.from_org
        else:
            assert mb.active and mb.left_date is None and mb.organization.code == t.to_org
            assert mb.community_id == mb.organization.community_id
    for mb in M.select().where(M.id.in_(CC.select(CC.member))):
        chain = list(CC.select().where(CC.member == mb).order_by(CC.date))
        for a, b in zip(chain, chain[1:]):
            assert a.new_class == b.old_class
        assert chain[-1].new_class == mb.management_class
        assert not T.select().where(T.member == mb).exists()  # movers of one kind each: easy to read
    assert not M.select().where((M.active == False) & M.left_date.is_null()).exists()  # noqa: E712
    # the roster's spans are built: one per member on the roster at some time, more for movers
    assert models.RosterPeriod.select().count() >= M.select().count()
    n = models.RosterPeriod.select().count()
    from core import roster_replay

    assert roster_replay.rebuild(db.database) == n


def test_small_demo_movers_attend_where_they_belong_on_the_day(small):
    """A mover attends the old branch's meetings before the move and the new one's from its day."""
    T, A, Mt, O = models.Transfer, models.Attendance, models.Meeting, models.Organization
    checked = 0
    for t in T.select().where(T.direction == "intra_city"):
        old, new = O.get(O.code == t.from_org), O.get(O.code == t.to_org)
        old_ids = {old.id, old.parent_id} if old.kind == "group" else {old.id}
        new_ids = {new.id, new.parent_id} if new.kind == "group" else {new.id}
        rows = list(A.select(A, Mt).join(Mt).where(A.member == t.member))
        for a in rows:
            org = a.meeting.organization_id
            if a.meeting.date < t.date:
                assert org in old_ids, (t.member_id, a.meeting.code)
            else:
                assert org in new_ids, (t.member_id, a.meeting.code)
        checked += bool(rows)
    assert checked >= 2
    for t in T.select().where(T.direction == "in"):
        first = A.select(Mt.date).join(Mt).where(A.member == t.member).order_by(Mt.date).first()
        assert first is None or first.meeting.date >= t.date
    for t in T.select().where(T.direction == "out"):
        last = A.select(Mt.date).join(Mt).where(A.member == t.member).order_by(Mt.date.desc()).first()
        assert last is None or last.meeting.date < t.date


def test_small_demo_class_changes_move_attendance_and_dues(small, today):
    CC, A, Mt, D = models.ClassChange, models.Attendance, models.Meeting, models.DuesPayment
    for c in CC.select():
        dates = [a.meeting.date for a in A.select(A, Mt).join(Mt)
                 .where(A.member == c.member_id, Mt.type.in_(["assembly", "lecture", "group_meeting"]))]
        months = sorted(p.month for p in D.select().where(D.member == c.member_id))
        label = f"{c.date.year}-{c.date.month:02d}"
        before = c.date.replace(day=1) - dt.timedelta(days=1)
        if c.new_class == "in_service":  # no attendance after; dues for the months ending before the change
            assert all(d < c.date for d in dates)
            assert months and months[-1] == f"{before.year}-{before.month:02d}"
        if c.old_class == "in_service":  # attends and pays from the change on
            assert all(d >= c.date for d in dates) and dates
            assert months[0] == label
        if (c.old_class, c.new_class) == ("resident", "floating_out") and \
                not CC.select().where(CC.member == c.member_id, CC.date > c.date).exists():
            assert all(d < c.date for d in dates)
            assert months[-1] == f"{today.year}-{today.month:02d}"  # a floating-out member still pays


@pytest.mark.slow
def test_city_plan_has_twenty_moves_of_each_kind(dangjian_env, today):
    """The city's plan (without writing it): at least 20 moves of each kind, 市内转移 also
    between communities of one town and between towns."""
    from collections import Counter

    gen = demo._Generator("city", 20111, today, False, 1.0)
    gen.plan()
    directions = Counter(p.transfer[0] for p in gen.persons if p.transfer)
    assert min(directions[d] for d in ("in", "out", "intra_city")) >= 20, directions
    pairs = Counter((old, new) for p in gen.persons for _d, old, new in p.changes)
    assert min(pairs[x] for x in CLASS_MOVES) >= 20, pairs
    kinds = Counter()
    for p in gen.persons:
        if p.transfer and p.transfer[0] == "intra_city":
            a, b = p.transfer[1], p.transfer[2]
            kinds["community" if a.comm is b.comm else "town" if a.comm.town is b.comm.town else "city"] += 1
    assert min(kinds[k] for k in ("community", "town", "city")) >= 20, kinds
    days = [p.transfer[3] for p in gen.persons if p.transfer] + [d for p in gen.persons for d, _o, _n in p.changes]
    assert sum(d.day == 1 for d in days) >= 20 and sum(d == _month_last(d) for d in days) >= 20


def test_cli_demo_reset_names_the_database_it_would_wipe(dangjian_db, today, capsys, monkeypatch):
    """The question names the database (password left out), so nobody wipes the wrong one."""
    from core import db
    from core.cli import main
    from core.cli import basic

    assert main(["demo", "--no-open"]) == 0
    asked = []
    monkeypatch.setattr(basic, "confirm", lambda question, yes: asked.append(question) or False)
    assert main(["demo", "--reset", "--no-open"]) == 2
    assert asked and db.redact(db.current_url()) in asked[0]
