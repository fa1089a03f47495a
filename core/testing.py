"""pytest fixtures for dangjian and for town plugins' own tests.

Installed with ``pip install 'dangjian[test]'`` this module is a pytest plugin (the
``pytest11`` entry point ``core.testing``): its fixtures are available in any test
without a ``conftest.py``.  Without the entry point, name it in a ``conftest.py``
(``pytest_plugins = ["core.testing"]``) or run ``pytest -p core.testing``.  Importing it
costs nothing: no database is opened until a fixture runs.

Fixtures:

- ``dangjian_db`` — a fresh SQLite database file in a temporary folder, bound
  and migrated, single-user admin; yields the URL.
- ``dangjian_env`` — sets ``DANGJIAN_TODAY`` style isolation: its own config
  (no user config), Chinese, plugins reloaded.
- ``dangjian_city`` — ``dangjian_db`` filled with a tiny city
  (:func:`build_tiny_city`: 巴城镇 and 玉山镇, one community each, year 2025).
- ``plugin_kit`` — a :class:`PluginKit` over the tiny city: load a town's
  plugin file as a plugin folder would and run its hooks (docs/plugins.md).
"""
from __future__ import annotations

import pytest


def _reset_all():
    from core import access, config, i18n, plugins, server

    access.set_current(None)
    server.reset()
    config.reset()
    plugins.reset()
    i18n.set_lang(None)


@pytest.fixture
def dangjian_env(monkeypatch, tmp_path):
    """Isolated environment: no user config, no plugin dirs, Chinese, home in tmp."""
    for var in ("DANGJIAN_DB", "DANGJIAN_CONFIG", "DANGJIAN_LANG", "DANGJIAN_PLUGIN_DIRS",
                "DANGJIAN_TODAY", "DANGJIAN_TRACE_PLUGINS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / "data"))
    from core import server

    # a machine that is itself a city server must not turn the tests into its service account
    monkeypatch.setattr(server, "SYSTEM_CONFIG", tmp_path / "no-system-config.toml")
    _reset_all()
    yield tmp_path
    _reset_all()
    from core import db

    db.close()


@pytest.fixture
def dangjian_db(dangjian_env, monkeypatch):
    """A fresh database (SQLite file, or a clean schema on DANGJIAN_TEST_DB) bound and migrated."""
    import os

    from core import db

    url = os.environ.get("DANGJIAN_TEST_DB") or f"sqlite:///{dangjian_env / 'test.db'}"
    if url.startswith("postgres"):
        db.connect(url, migrate=False)
        _reset_pg()
    monkeypatch.setenv("DANGJIAN_DB", url)
    db.connect(url)
    if url.startswith("postgres"):
        _mark_pg_schema()
    yield url
    db.close()


def _drop_all_pg():
    from core.db import database

    database.execute_sql("DROP SCHEMA public CASCADE")
    database.execute_sql("CREATE SCHEMA public")


def _pg_fingerprint() -> str:
    """A hash of the DDL the models create (tables and indexes) and the number of migration steps."""
    import hashlib

    from core import migrations, models
    from core.db import database

    h = hashlib.sha1(str(len(migrations.STEPS)).encode())
    for m in [*models.CORE_MODELS, models.SchemaVersion]:
        h.update(database.get_sql_context().sql(m._schema._create_table(safe=True)).query()[0].encode())
        for idx in m._schema._create_indexes(safe=True):
            h.update(database.get_sql_context().sql(idx).query()[0].encode())
    return "dangjian-test " + h.hexdigest()


def _mark_pg_schema() -> None:
    from core.db import database

    database.execute_sql(f"COMMENT ON SCHEMA public IS '{_pg_fingerprint()}'")


def _reset_pg() -> None:
    """Empty every table when the schema is the one the models make (fast: one TRUNCATE);
    otherwise drop and recreate the schema.  Sequences restart, so ids begin at 1 again."""
    from core import models
    from core.db import database

    try:
        mark = database.execute_sql("SELECT obj_description('public'::regnamespace, 'pg_namespace')").fetchone()[0]
        have = {r[0] for r in database.execute_sql(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()}
        want = {m._meta.table_name for m in models.CORE_MODELS} | {"schema_version"}
        secret = ("ref_secret" in have
                  and database.execute_sql('SELECT 1 FROM "ref_secret" WHERE "id" = 1').fetchone() is not None)
        if mark == _pg_fingerprint() and want <= have and secret:
            # the schema version and the ref secret are made by the schema steps: they stay
            tables = ", ".join(f'"{t}"' for t in sorted(have - {"schema_version", "ref_secret"}))
            database.execute_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
            return
    except Exception:  # noqa: BLE001 - anything odd: rebuild
        if not database.is_closed() and database.in_transaction():
            database.rollback()
    _drop_all_pg()


# ---------------------------------------------------------------- plugin kit (for town IT)
#
# A town's plugin is tested in ten lines::
#
#     pytest_plugins = ["core.testing"]
#
#     def test_my_points(plugin_kit):
#         kit = plugin_kit.load("plugins/my_town.py")      # loaded as from a plugin folder
#         assert kit.errors() == []
#         pts = kit.points("member-points")                 # {name: points} over the tiny city
#         assert pts["张伟"] != kit.points("member-points", plugin=False)["张伟"]
#
# ``dangjian_city`` alone gives the tiny city (two towns, 巴城镇 and 玉山镇, one
# community each, year 2025 checked as of 2025-12-31) in a fresh database.

TINY_YEAR = 2025


class TinyCity:
    """Records of the tiny city, by name: ``towns``, ``communities`` (by code),
    ``orgs`` (by code), ``members`` and ``workers`` (by name); ``year`` and
    ``as_of`` (the year is over, so yearly obligations are decided)."""

    def __init__(self):
        import datetime as dt

        self.year = TINY_YEAR
        self.as_of = dt.date(TINY_YEAR, 12, 31)
        self.towns: dict = {}
        self.communities: dict = {}
        self.orgs: dict = {}
        self.members: dict = {}
        self.workers: dict = {}
        self.seq = 0  # numbers the ID numbers of the people made

    def member(self, name):
        return self.members[name]

    def worker(self, name):
        return self.workers[name]


# (town, community code, community name, members [(name, class, retired, sex)], workers [(name, posts)])
TINY_CITY_LAYOUT = [
    ("巴城镇", "BC01", "巴城社区",
     [("张伟", "resident", False, "M"), ("李娜", "resident", True, "F"), ("王强", "in_service", False, "M"),
      ("刘洋", "floating_in", False, "M")],
     [("周明", ("secretary", "director")), ("吴婷", ("other",))]),
    ("玉山镇", "YS01", "玉山社区",
     [("陈静", "resident", False, "F"), ("杨军", "resident", True, "M"), ("赵敏", "in_service", False, "F"),
      ("黄磊", "floating_in", False, "M")],
     [("徐刚", ("secretary",)), ("孙丽", ("director",))]),
]


def build_tiny_city() -> TinyCity:
    """Fill the bound (empty) database with the tiny city and return it.

    Per community: a 党支部 ``<code>-ZB`` with a 党小组 ``<code>-XZ``; two 社区党员
    (the second retired), an 在职党员 registered there, a placed 流入党员; two
    workers; a 党员大会 and a 党课 each quarter with attendance (the first
    member present at all, the second absent without leave at the Q4 assembly),
    dues paid monthly on time except the second member's November and December,
    volunteer hours, commitments, a pairing, trainings, duty reports, funding,
    spending, publications and a reception with a demand.
    """
    from decimal import Decimal

    from core import models as m
    from core.db import write_tx

    city = TinyCity()
    with write_tx():
        m.UrbanWage.create(year=city.year - 1, amount=Decimal("90000"), source="统计公报")
        for t_index, (town_name, code, cname, members, workers) in enumerate(TINY_CITY_LAYOUT):
            _build_town(city, town_name, code, cname, members, workers,
                        area="320583" if t_index == 0 else "320584", group_meetings=(t_index == 0))
    return city


def _build_town(city: TinyCity, town_name, code, cname, members, workers, *, area: str,
                group_meetings: bool, town=None):
    """One town of the tiny city with one community (see :func:`build_tiny_city`); ``town``: add
    the community to that existing town instead of creating ``town_name``."""
    import datetime as dt
    from decimal import Decimal

    from core import ids, models as m
    from core.pinyin import initials

    y = city.year
    D = dt.date
    if town is None:
        town = m.Town.create(name=town_name)
        city.towns[town_name] = town
    comm = m.Community.create(code=code, name=cname, town=town)
    city.communities[code] = comm
    branch = m.Organization.create(code=f"{code}-ZB", name=f"{cname}党支部", kind="branch", community=comm,
                                   founded=D(2000, 7, 1))
    group = m.Organization.create(code=f"{code}-XZ", name=f"{cname}第一党小组", kind="group", parent=branch,
                                  community=comm)
    city.orgs[branch.code] = branch
    city.orgs[group.code] = group
    made = []
    for i, (name, klass, retired, sex) in enumerate(members):
        city.seq += 1
        birth = D(1950 if retired else 1980 + i, 3, 1 + i)
        number = ids.make(area, birth, city.seq * 2 + (1 if sex == "M" else 0))
        org = None if klass == "in_service" else branch
        mem = m.Member.create(
            id_number=number, name=name, initials=initials(name), sex=sex, birth_date=birth,
            joined_date=D(2005, 7, 1), full_date=D(2006, 7, 1), organization=org, community=comm,
            management_class=klass, retired=retired,
            registered_date=D(y - 1, 3, 1) if klass in ("in_service", "floating_in") else None,
            placed_date=D(y - 1, 3, 10) if klass == "floating_in" else None,
            phone=f"1391234{city.seq:04d}", dues_class="retired" if retired else "employed",
            monthly_income=Decimal("3000.00") if not retired else Decimal("4000.00"),
            work_unit="昆山某公司" if klass == "in_service" else None)
        city.members[name] = mem
        made.append(mem)
    for i, (name, posts) in enumerate(workers):
        city.seq += 1
        birth = D(1985 + i, 5, 10)
        number = ids.make(area, birth, city.seq * 2 + 1)
        w = m.Worker.create(id_number=number, name=name, initials=initials(name), sex="M",
                            birth_date=birth, community=comm, education="bachelor",
                            certificate="assistant" if i == 0 else "none",
                            certificate_date=D(2015, 6, 1) if i == 0 else None, hired_date=D(2010, 1, 1),
                            college_graduate=(i == 1), backup_talent=(i == 1),
                            filing_date=D(2018, 3, 1) if "secretary" in posts else None,
                            phone=f"1380000{city.seq:04d}")
        for p in posts:
            m.WorkerPost.create(worker=w, post=p, start_date=D(2018, 1, 1))
        m.WorkerPay.create(worker=w, year=y, base_pay=Decimal("120000"))
        m.Training.create(worker=w, title=f"{y}年社区书记培训" if i == 0 else f"{y}年社区工作者培训",
                          level="city" if i == 0 else "street", start_date=D(y, 4, 10), days=7 if i == 0 else 5)
        if "secretary" in posts:
            m.DutyReport.create(worker=w, year=y, audience="street_committee", date=D(y, 12, 20))
            m.DutyReport.create(worker=w, year=y, audience="members_public", date=D(y, 12, 22))
        city.workers[name] = w
    resident_a, resident_b, in_service, floating = made
    for qn in range(4):
        month = 3 * qn + 3
        for mtype, day in (("assembly", 10), ("lecture", 20)):
            mt = m.Meeting.create(code=f"{code}-{y}{month:02d}-{mtype}", organization=branch, type=mtype,
                                  date=D(y, month, day), topic=f"{y}年第{qn + 1}季度")
            m.Attendance.create(meeting=mt, member=resident_a, status="present")
            status_b = "absent" if (qn == 3 and mtype == "assembly") else "present"
            m.Attendance.create(meeting=mt, member=resident_b, status=status_b)
            m.Attendance.create(meeting=mt, member=floating, status="leave" if qn == 0 else "present",
                                leave_reason="出差" if qn == 0 else None)
            if mtype == "assembly":
                m.Attendance.create(meeting=mt, member=in_service, status="present")
    if group_meetings:  # 巴城 holds its 党小组会 every month; 玉山 does not
        for month in range(1, 13):
            mt = m.Meeting.create(code=f"{code}-{y}{month:02d}-group", organization=group,
                                  type="group_meeting", date=D(y, month, 25), topic="学习")
            m.Attendance.create(meeting=mt, member=resident_a, status="present")
    for mem in (resident_a, resident_b):
        for month in range(1, 13):
            if mem is resident_b and month >= 11:
                continue
            due = Decimal("15.00") if mem is resident_a else Decimal("20.00")
            m.DuesPayment.create(member=mem, month=f"{y}-{month:02d}", due=due, paid=due,
                                 paid_date=D(y, month, 5))
    m.VolunteerHours.create(member=resident_a, date=D(y, 5, 1), hours=Decimal("6"), activity="环境整治")
    m.VolunteerHours.create(member=in_service, date=D(y, 6, 1), hours=Decimal("10"), activity="义诊")
    m.Commitment.create(member=resident_a, year=y, content="帮助邻里", fulfilled=True, fulfilled_date=D(y, 9, 1))
    m.Commitment.create(member=in_service, year=y, content="结对帮扶", fulfilled=True, fulfilled_date=D(y, 10, 1))
    m.Commitment.create(member=resident_b, year=y, content="楼道清洁", fulfilled=False)
    m.Pairing.create(member=in_service, household="困难户甲", since=D(y, 2, 1))
    m.FundingAllocation.create(community=comm, year=y, amount=Decimal("15000"), source="town_finance",
                               date=D(y, 3, 1))
    m.Expenditure.create(community=comm, date=D(y, 6, 1), amount=Decimal("3200.50"), purpose="党员活动")
    m.Publication.create(community=comm, year=y, kind="funding", date=D(y, 12, 28))
    m.Publication.create(community=comm, year=y, kind="visit_schedule", date=D(y, 1, 15))
    secretary = city.workers[workers[0][0]]
    m.Visit.create(community=comm, kind="reception", date=D(y, 3, 3), staff=secretary, people=2,
                   demand="路灯维修", answered_date=D(y, 3, 10), closed_date=D(y, 3, 20))
    m.Visit.create(community=comm, kind="hardship_visit", date=D(y, 4, 3), staff=secretary,
                   member=resident_b, people=1)
    return comm


def add_town_like(city: TinyCity, town: str, like: str, *, prefix: str | None = None,
                  code_prefix: str | None = None) -> dict:
    """Add ``town`` to the tiny city shaped like its town ``like``: for each of ``like``'s
    communities one community, organizations, members, workers and records built the same way
    (same classes, birth dates, attendance, hours, dues, trainings …).  Names are ``prefix``
    (default the town's name without 镇, e.g. ``周市``) + the original name (``周市张伟``);
    community codes ``code_prefix`` (default the town's pinyin initials, ``ZS``) + the original
    number (``ZS01``).  Returns ``{original name or code: the new name or code}``."""
    from core.db import write_tx
    from core.pinyin import initials

    layouts = [entry for entry in TINY_CITY_LAYOUT if entry[0] == like]
    if not layouts:
        raise ValueError(f"{like!r} is not a town of the tiny city ({', '.join(sorted(city.towns))})")
    if town in city.towns:
        raise ValueError(f"{town!r} is already a town of the tiny city")
    base = town[:-1] if town.endswith(("镇", "区", "街道")) and len(town) > 2 else town
    prefix = base if prefix is None else prefix
    code_prefix = code_prefix or initials(base).upper()
    renamed = {}
    area = f"3205{90 + len(city.towns):02d}"
    with write_tx():
        town_row = None
        for _, code, cname, members, workers in layouts:
            new_code = code_prefix + "".join(ch for ch in code if ch.isdigit())
            if new_code in city.communities:
                raise ValueError(f"community code {new_code!r} is taken: pass code_prefix=")
            renamed[code] = new_code
            mems = [(prefix + n, *rest) for n, *rest in members]
            wks = [(prefix + n, posts) for n, posts in workers]
            renamed.update({n: prefix + n for n, *_ in members})
            renamed.update({n: prefix + n for n, _ in workers})
            like_base = like[:-1] if like.endswith("镇") else like
            new_cname = cname.replace(like_base, base) if like_base in cname else prefix + cname
            comm = _build_town(city, town, new_code, new_cname, mems, wks, area=area,
                               group_meetings=(like == TINY_CITY_LAYOUT[0][0]), town=town_row)
            town_row = comm.town
            city.towns[town] = town_row
    return renamed


class PluginKit:
    """Load a plugin the way ``plugin_dirs`` does and run its hooks over the tiny city.

    ``load(path)`` copies a plugin file (or every ``.py`` of a folder) into a
    plugin folder named by ``DANGJIAN_PLUGIN_DIRS`` and reloads the plugins, so
    ``dangjian`` commands run through :meth:`cli` see it too.
    """

    def __init__(self, city: TinyCity, plugin_dir, monkeypatch):
        self.city = city
        self.plugin_dir = plugin_dir
        self._monkeypatch = monkeypatch
        self.loaded: list[str] = []
        self.bindings: dict[str, list[str]] = {}  # plugin -> towns, written as the kit's config

    # -- loading
    def load(self, path, towns=None) -> "PluginKit":
        """Load a plugin file (or every ``.py`` of a folder) as a plugin folder would; with
        ``towns``, bind each to those towns as ``[plugins."<module>"] towns = [...]`` does."""
        import shutil
        from pathlib import Path

        path = Path(path)
        files = sorted(path.glob("*.py")) if path.is_dir() else [path]
        for f in files:
            shutil.copy(f, self.plugin_dir / f.name)
            self.loaded.append(f.stem)
            if towns is not None:
                self.bindings[f.stem] = list(towns)
        self._monkeypatch.setenv("DANGJIAN_PLUGIN_DIRS", str(self.plugin_dir))
        self._write_config()
        self.reload()
        return self

    def write(self, name: str, source: str, towns=None) -> "PluginKit":
        """Write ``source`` as plugin ``name``.py and load it (bound to ``towns`` when given)."""
        import textwrap

        (self.plugin_dir / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        self.loaded.append(name)
        if towns is not None:
            self.bindings[name] = list(towns)
        self._monkeypatch.setenv("DANGJIAN_PLUGIN_DIRS", str(self.plugin_dir))
        self._write_config()
        return self.reload()

    def bind(self, plugin: str, towns) -> "PluginKit":
        """Bind plugin ``plugin`` (its module name) to ``towns``, as the config's
        ``[plugins."<plugin>"] towns = [...]`` does, and reload."""
        self.bindings[plugin] = list(towns)
        self._write_config()
        return self.reload()

    def config_text(self) -> str:
        """The config the kit runs with: the plugin bindings (what a city's config would say)."""
        import json

        return "".join(f'[plugins.{json.dumps(name, ensure_ascii=False)}]\n'
                       f'towns = {json.dumps(towns, ensure_ascii=False)}\n\n'
                       for name, towns in self.bindings.items())

    def _write_config(self) -> None:
        from core import config

        if not self.bindings:
            return
        path = self.plugin_dir.parent / "kit_config.toml"
        path.write_text(self.config_text(), encoding="utf-8")
        self._monkeypatch.setenv("DANGJIAN_CONFIG", str(path))
        config.reset()

    def add_town_like(self, town: str, like: str, **kw) -> dict:
        """Add ``town`` shaped like the tiny city's town ``like`` (see :func:`add_town_like`):
        ``kit.add_town_like("周市镇", "巴城镇")`` makes community ``ZS01`` with 周市张伟, 周市李娜 …
        Returns ``{original name or code: new one}``."""
        renamed = add_town_like(self.city, town, like, **kw)
        self.reload()
        return renamed

    def add_member(self, name: str, community: str, *, birth, joined=None, full=None,
                   klass: str = "resident", sex: str = "M", **fields):
        """Add a member to ``community`` (a code) in its 党支部 (none for an 在职党员): born
        ``birth``, joined ``joined`` (default 2005-07-01), formal from ``full`` (default a year
        after joining; ``False``: no date yet, a 预备党员).  Other ``fields`` go to the record.
        Returns the record; ``kit.city.members[name]`` too."""
        import datetime as dt

        from core import ids, models as m
        from core.db import write_tx
        from core.pinyin import initials

        joined = joined or dt.date(2005, 7, 1)
        if full is None:
            full = joined.replace(year=joined.year + 1)
        comm = self.city.communities[community]
        self.city.seq += 1
        org = None if klass == "in_service" else self.city.orgs[f"{community}-ZB"]
        with write_tx():
            mem = m.Member.create(
                id_number=ids.make("320599", birth, self.city.seq * 2 + (1 if sex == "M" else 0)),
                name=name, initials=initials(name), sex=sex, birth_date=birth, joined_date=joined,
                full_date=full or None, organization=org, community=comm, management_class=klass,
                **fields)
        self.city.members[name] = mem
        return mem

    def reload(self, plugin: bool = True) -> "PluginKit":
        from core import plugins

        if not plugin:
            self._monkeypatch.delenv("DANGJIAN_PLUGIN_DIRS", raising=False)
        plugins.reset()
        plugins.load()
        return self

    @property
    def manager(self):
        from core import plugins

        return plugins.get()

    def errors(self) -> list:
        """[(plugin, message)] of every plugin that failed to load or raised."""
        return self.manager.errors()

    def _without_plugin(self, fn):
        import os

        saved = os.environ.get("DANGJIAN_PLUGIN_DIRS")
        self.reload(plugin=False)
        try:
            return fn()
        finally:
            if saved:
                self._monkeypatch.setenv("DANGJIAN_PLUGIN_DIRS", saved)
            self.reload()

    # -- running hooks
    def score(self, name: str, plugin: bool = True, **kw) -> list:
        """Results of scorer ``name`` (``core.scoring.ScoreResult``) over the tiny city."""
        from core.scoring import run_scorer

        kw.setdefault("year", self.city.year)
        kw.setdefault("as_of", self.city.as_of)
        if not plugin:
            return self._without_plugin(lambda: run_scorer(name, **kw))
        return run_scorer(name, **kw)

    def points(self, name: str, plugin: bool = True, **kw) -> dict:
        """{subject's name: points} of scorer ``name``."""
        return {r.name or r.subject: r.points for r in self.score(name, plugin=plugin, **kw)}

    def check(self, rule_ids=None, plugin: bool = True, **kw) -> list:
        """Findings (``core.api.Finding``) of the rules (all, or ``rule_ids``), not stored."""
        from core.rules import run_check

        kw.setdefault("year", self.city.year)
        kw.setdefault("as_of", self.city.as_of)

        def run():
            return run_check(rule_ids=rule_ids, store=False, **kw).findings
        return self._without_plugin(run) if not plugin else run()

    def report(self, name: str, **kw):
        """A report's table ``(headers, rows)`` or, for an HTML-only report, its page."""
        from core.reports import run_report

        kw.setdefault("year", self.city.year)
        kw.setdefault("as_of", self.city.as_of)
        return run_report(name, **kw)

    def funding_split(self, town: str, community: str, amount, year: int | None = None):
        from decimal import Decimal

        return self.manager.funding_split(town=town, community=community, year=year or self.city.year,
                                          amount=Decimal(str(amount)))

    def town_params(self, town: str) -> dict:
        return self.manager.town_params(town)

    def validate(self, kind: str, record: dict, town: str | None = None, community=None) -> list:
        """The plugins' messages for ``record`` of ``kind`` (the town and community looked up
        from the record when not given, as an import does)."""
        from core import validators  # noqa: F401  -- it tells the plugin manager where records belong

        return self.manager.validate_record(kind, record, town, community)

    def screens(self) -> list:
        """[(name, title, factory, plugin)] registered for the UI (factories not called)."""
        return self.manager.collect_screens()

    def models(self) -> list:
        return self.manager.collect_models()

    def cli(self, *argv) -> tuple:
        """Run ``dangjian ARGV…``: (exit code, stdout, stderr)."""
        import contextlib
        import io

        from core.cli import main

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([str(a) for a in argv])
        self.reload()
        return code, out.getvalue(), err.getvalue()


@pytest.fixture
def dangjian_city(dangjian_db, monkeypatch):
    """The tiny city (:func:`build_tiny_city`) in a fresh database; "today" is in
    January after its year, so the year is over."""
    monkeypatch.setenv("DANGJIAN_TODAY", f"{TINY_YEAR + 1}-01-15")
    return build_tiny_city()


@pytest.fixture
def plugin_kit(dangjian_city, dangjian_env, monkeypatch):
    """A :class:`PluginKit` over the tiny city: ``plugin_kit.load("my_town.py")``."""
    folder = dangjian_env / "kit_plugins"
    folder.mkdir(exist_ok=True)
    return PluginKit(dangjian_city, folder, monkeypatch)
