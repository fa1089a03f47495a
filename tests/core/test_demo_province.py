"""The province demo (``demo --size province``): ten cities, each with its own area code and towns,
at 1 % here; deterministic; and the same check findings whether it is built on SQLite or on
PostgreSQL (``DANGJIAN_TEST_DB``)."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections import Counter

import pytest

from core import db, demo, ids, models
from core.cli import main
from tests.core.test_demo import HASHED, INFO_ONLY, TODAY, table_hash

AREAS = {c.area for c in demo.CITIES}


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setenv("DANGJIAN_TODAY", TODAY)
    return dt.date.fromisoformat(TODAY)


def _use(url: str, monkeypatch) -> None:
    """Bind ``url`` as a fresh database (PostgreSQL: emptied the way the ``dangjian_db`` fixture does)."""
    from core import testing

    db.close()
    if url.startswith("postgres"):
        db.connect(url, migrate=False)
        testing._reset_pg()
    monkeypatch.setenv("DANGJIAN_DB", url)
    db.connect(url)
    if url.startswith("postgres"):
        testing._mark_pg_schema()


def _check(tmp_path, name: str, year: int) -> list[dict]:
    out = tmp_path / f"{name}-{year}.json"
    rc = main(["check", "--year", str(year), "--format", "json", "--output", str(out)])
    assert rc in (0, 1)
    return json.loads(out.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- the shape at 1 %

def test_province_at_one_percent(dangjian_db, today):
    counts = demo.build("province", scale=0.01)
    assert counts["城市"] == 10
    assert counts["社区"] == 35 and counts["党员"] == 10_000 and counts["工作者"] == 300  # 1 % of each
    assert models.Member.select().count() == 10_000 and models.Community.select().count() == 35
    # ~20 M attendance rows and ~2 × 9 M dues rows at full size
    assert 150_000 < counts["出勤"] == models.Attendance.select().count() < 250_000
    assert 120_000 < counts["党费"] == models.DuesPayment.select().count() < 250_000

    # ten cities: each its own area code, towns and communities coded <area><town><community>
    towns = {t.id: t.name for t in models.Town.select()}
    by_area = Counter()
    for c in models.Community.select():
        assert len(c.code) == 12 and c.code.isdigit()
        by_area[c.code[:6]] += 1
        city = next(k for k in demo.CITIES if k.area == c.code[:6])
        assert (towns[c.town_id], c.code[:9]) in {(t[0], t[1]) for t in city.towns}
    assert set(by_area) == AREAS and len(AREAS) == 10 and sorted(by_area.values()) == [3] * 5 + [4] * 5
    assert len(set(towns.values())) == len(towns) == 35

    # valid, unique ID numbers; a community's own people mostly carry its city's area code
    seen = set()
    local = Counter()
    comm_area = {c.id: c.code[:6] for c in models.Community.select()}
    for m in models.Member.select():
        assert ids.validate(m.id_number, today) == m.id_number
        assert ids.sex(m.id_number) == m.sex and ids.birth_date(m.id_number) == m.birth_date
        assert m.id_number[:6] in AREAS | set(demo.OTHER_AREAS)
        seen.add(m.id_number)
        local[m.id_number[:6] == comm_area[m.community_id]] += 1
    assert len(seen) == 10_000
    assert local[True] > 0.75 * 10_000
    workers = list(models.Worker.select())
    assert len({w.id_number for w in workers}) == 300
    for w in workers:
        assert ids.validate(w.id_number, today) == w.id_number
        assert w.id_number[:6] == comm_area[w.community_id]  # workers are local
    # the local names follow the city: 张家港's secretaries train at 张家港市's courses
    T = models.Training
    zjg = models.Community.select(models.Community.id).where(models.Community.code.startswith("320582"))
    titles = {t.title for t in T.select().join(models.Worker).where(models.Worker.community.in_(zjg))}
    assert any("张家港市" in t for t in titles) and not any("昆山" in t for t in titles)

    # org tree conventions and moves of every kind, in every city
    O = models.Organization
    for c in models.Community.select():
        tops = list(O.select().where(O.community == c, O.parent.is_null()))
        assert len(tops) == 1 and tops[0].code.startswith(c.code)
    for g in O.select().where(O.kind == "group"):
        assert g.parent.kind == "branch"
    M = models.Member
    assert not M.select().join(O, on=(M.organization == O.id)).where(M.community != O.community).exists()
    directions = Counter(t.direction for t in models.Transfer.select())
    assert min(directions[d] for d in ("in", "out", "intra_city")) >= 10
    assert models.ClassChange.select().count() >= 30
    movers = {t.member_id for t in models.Transfer.select()}
    assert {comm_area[m.community_id] for m in M.select().where(M.id.in_(list(movers)))} == AREAS
    assert models.RosterPeriod.select().count() > 10_000
    months = {d.month for d in models.DuesPayment.select(models.DuesPayment.month).distinct()}
    assert min(months) == f"{today.year - 1}-01" and max(months) == f"{today.year}-{today.month:02d}"


def test_same_seed_same_province_in_another_process(dangjian_env, today, tmp_path):
    """Same seed and today: the same tables, also in another process with another hash seed;
    another seed: another province."""
    db.connect(f"sqlite:///{tmp_path / 'a.db'}")
    demo.build("province", scale=0.005)
    here = table_hash(*HASHED)
    db.close()
    code = ("import sys; from core import db, demo; from tests.core.test_demo import table_hash, HASHED; "
            "db.connect(sys.argv[1]); demo.build('province', seed=int(sys.argv[2]), scale=0.005); "
            "print(table_hash(*HASHED))")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = []
    for name, seed in (("b", 20111), ("c", 7)):
        env = dict(os.environ, PYTHONHASHSEED="4242", DANGJIAN_TODAY=TODAY, PYTHONPATH=root)
        r = subprocess.run([sys.executable, "-c", code, f"sqlite:///{tmp_path / name}.db", str(seed)],
                           capture_output=True, text=True, env=env, timeout=300, cwd=root)
        assert r.returncode == 0, r.stderr
        out.append(r.stdout.strip())
    assert out[0] == here
    assert out[1] != here

    # the first city is the city demo (at the same scale: 2 communities, 500 members, 15 workers)
    def first_rows(path, n_members):
        db.close()
        db.connect(f"sqlite:///{path}")
        M = models.Member
        first = M.select(M.id).where(M.id <= n_members)
        rows = [list(M.select().where(M.id <= n_members).order_by(M.id).tuples())]
        for model in (models.Attendance, models.DuesPayment):
            rows.append(list(model.select().where(model.member.in_(first)).order_by(model.id).tuples()))
        return rows

    db.close()
    db.connect(f"sqlite:///{tmp_path / 'city.db'}")
    assert demo.build("city", scale=0.005)["党员"] == 500
    assert first_rows(tmp_path / "city.db", 500) == first_rows(tmp_path / "a.db", 500)


# ---------------------------------------------------------------- SQLite and PostgreSQL agree

def _canonical(findings: list[dict]) -> list[str]:
    """Findings as sorted JSON texts, without the per-database ``ref`` and with the lists inside
    the evidence sorted: the first comparison, whose failure shows which findings differ; the
    order is compared after it."""
    def norm(v):
        if isinstance(v, dict):
            return {k: norm(x) for k, x in v.items()}
        if isinstance(v, list):
            return sorted((norm(x) for x in v), key=lambda x: json.dumps(x, sort_keys=True, ensure_ascii=False))
        return v

    return sorted(json.dumps(norm({k: v for k, v in f.items() if k != "ref"}), sort_keys=True, ensure_ascii=False)
                  for f in findings)


def test_province_findings_identical_on_sqlite_and_postgresql(dangjian_env, today, tmp_path, monkeypatch):
    years = (today.year - 1, today.year)
    _use(f"sqlite:///{tmp_path / 'province.db'}", monkeypatch)
    demo.build("province", scale=0.01)
    lite = {y: _check(tmp_path, "sqlite", y) for y in years}

    # what the demo promises, province-wide: every rule has failing and passing subjects
    statuses: dict[str, set] = {}
    for y in years:
        assert len(lite[y]) > 15_000
        for f in lite[y]:
            statuses.setdefault(f["rule"], set()).add(f["status"])
    from core import plugins

    assert set(plugins.get().registry.rule_ids()) <= set(statuses)
    assert not any("error" in s for s in statuses.values())
    assert {r: s for r, s in statuses.items() if r not in INFO_ONLY and not ("pass" in s and s & {"fail", "warn"})} == {}

    url = os.environ.get("DANGJIAN_TEST_DB", "")
    if not url.startswith("postgres"):
        pytest.skip("the PostgreSQL half needs DANGJIAN_TEST_DB=postgresql://… (the SQLite half passed)")
    _use(url, monkeypatch)
    demo.build("province", scale=0.01)
    for y in years:
        pg = _check(tmp_path, "postgresql", y)
        assert Counter((f["rule"], f["status"]) for f in pg) == Counter((f["rule"], f["status"]) for f in lite[y])
        assert _canonical(pg) == _canonical(lite[y]), y
        # and in the same order, finding for finding (only the per-database ref differs)
        strict = [[{k: v for k, v in f.items() if k != "ref"} for f in side] for side in (pg, lite[y])]
        bad = [(a["rule"], a["subject"], b["subject"]) for a, b in zip(*strict) if a != b]
        assert not bad, (y, len(bad), bad[:5])


# ---------------------------------------------------------------- failures and the command line

def test_a_failed_build_leaves_the_schema_whole_and_the_database_empty(dangjian_db, today, monkeypatch):
    """PostgreSQL drops the keys and indexes for the load: a build that stops puts them back."""
    def schema():
        if db.is_postgres():
            keys = db.database.execute_sql(
                "SELECT count(*) FROM pg_constraint WHERE connamespace = current_schema()::regnamespace").fetchone()
            idx = db.database.execute_sql(
                "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema()").fetchone()
            return keys[0], idx[0]
        return db.database.execute_sql("SELECT count(*) FROM sqlite_master WHERE type = 'index'").fetchone()[0]

    before = schema()

    def boom(self):
        raise RuntimeError("stopped")

    monkeypatch.setattr(demo._Generator, "emit_roster", boom)
    with pytest.raises(RuntimeError):
        demo.build("province", scale=0.001)
    assert schema() == before
    assert not demo.has_data()
    monkeypatch.undo()
    monkeypatch.setenv("DANGJIAN_TODAY", TODAY)
    assert demo.build("province", scale=0.001)["党员"] == 1000
    assert schema() == before


def test_cli_province_and_its_errors(dangjian_db, today, capsys):
    assert main(["demo", "--size", "province", "--scale", "0.001", "--no-open"]) == 0
    err = capsys.readouterr().err
    assert "城市 10" in err and "党员 1000" in err
    before = models.Member.select().count()
    for bad in ("0", "-1", "nan", "inf"):
        assert main(["demo", "--size", "province", "--scale", bad, "--reset", "--yes", "--no-open"]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and "倍数" in err, err
        assert models.Member.select().count() == before  # nothing wiped
    for args in (["--scale", "lots"], ["--size", "huge"]):  # refused by the option parser, with its usage line
        with pytest.raises(SystemExit) as e:
            main(["demo", *args, "--no-open"])
        assert e.value.code == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and err.strip().splitlines()[-1].startswith("dangjian:")
    assert all(s in err for s in ("small", "city", "province"))
    with pytest.raises(SystemExit):
        main(["--lang", "en", "demo", "--help"])
    out = capsys.readouterr().out
    assert "province" in out and "--scale" in out and "benchmarks" in out


def test_unknown_size_names_all_three(dangjian_db, today):
    from core.errors import UserError

    with pytest.raises(UserError) as e:
        demo.build("county")
    assert all(s in str(e.value) for s in ("small", "city", "province"))
    assert not demo.has_data()
