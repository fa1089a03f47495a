"""The findings store (core.findings): one finder of the latest run covering a view, used by the
dashboard, the compliance screen, scoring and reports; what a run covered kept in columns; the
migration of runs stored with the old one-string scope."""
from __future__ import annotations

import datetime as dt

import pytest

from core import access, findings
from core.read import dashboard
from core.cli import main
from core.models import CheckRun, User
from core.view import View
from tests import factories as f

TODAY = "2026-06-15"


@pytest.fixture
def towns(dangjian_db, monkeypatch):
    """玉山镇 (YS001 and YS002 in 城中街道, YS003 with no street) and 巴城镇 (BC001)."""
    monkeypatch.setenv("DANGJIAN_TODAY", TODAY)
    ys1 = f.make_community("YS001", town="玉山镇", name="城中社区", street="城中街道")
    ys2 = f.make_community("YS002", town="玉山镇", name="城南社区", street="城中街道")
    ys3 = f.make_community("YS003", town="玉山镇", name="城北社区")
    bc1 = f.make_community("BC001", town="巴城镇", name="湖滨社区")
    for c in (ys1, ys2, ys3, bc1):
        f.make_members(4, f.make_org(c, "branch"))
    return {"YS001": ys1, "YS002": ys2, "YS003": ys3, "BC001": bc1}


def _login_as(role: str, scope: str) -> access.Principal:
    """The OS account running the tests becomes a user with ``role`` and ``scope``."""
    User.delete().execute()
    User.create(login=access.os_login(), role=role, scope=scope, full_personal_data=False)
    access.set_current(None)
    return access.current()


def _check(capsys, *argv) -> int:
    code = main(["check", "--format", "json", *argv])
    capsys.readouterr()
    access.set_current(None)
    return code


def _both_screens(me, town=None, community=None):
    """(the dashboard's run id, the compliance screen's run id) for the view, through the very
    query functions the two screens call in their workers."""
    from tui.screens.compliance import load_matrix

    view = View.of(me, town, community)  # what the app gives both screens (LedgerApp.view)
    access.set_current(me)
    dash = dashboard.dashboard(view, 2026)["check"]
    run, matrix = load_matrix(2026, view)
    return (dash or {}).get("run_id"), (run.id if run is not None else None), matrix


# ---------------------------------------------------------------- the reported bug and its relatives

def test_a_town_users_check_town_is_on_the_dashboard_and_the_compliance_screen(towns, capsys):
    me = _login_as("town", "玉山镇")
    assert _both_screens(me)[:2] == (None, None)
    _check(capsys, "--town", "玉山镇")
    run = CheckRun.select().get()
    assert (run.town, run.street, run.community, run.rules) == ("玉山镇", None, None, None)
    me = _login_as("town", "玉山镇")
    dash, comp, matrix = _both_screens(me)
    assert dash == comp == run.id  # was: the dashboard said no check had run
    assert {c["code"] for c in matrix["communities"] if not c["code"].startswith("@")} == {"YS001", "YS002", "YS003"}
    # narrowed to one community of the town, both still show the town's run
    assert _both_screens(me, community="YS002")[:2] == (run.id, run.id)


def test_a_community_user_sees_the_latest_run_covering_the_community(towns, capsys):
    _login_as("town", "玉山镇")
    _check(capsys)  # the town user's own scope: 玉山镇
    town_run = CheckRun.select().order_by(CheckRun.id.desc()).get()
    me = _login_as("community", "YS002")
    assert _both_screens(me)[:2] == (town_run.id, town_run.id)
    _check(capsys)  # the community user's own run: newer, and it covers the view
    mine = CheckRun.select().order_by(CheckRun.id.desc()).get()
    assert (mine.town, mine.street, mine.community) == ("玉山镇", "城中街道", "YS002")
    me = _login_as("community", "YS002")
    assert _both_screens(me)[:2] == (mine.id, mine.id)
    # another community user: the YS002 run does not cover YS001, the town's run does
    me = _login_as("community", "YS001")
    assert _both_screens(me)[:2] == (town_run.id, town_run.id)


def test_street_runs_cover_their_communities_only(towns, capsys):
    _login_as("street", "玉山镇/城中街道")
    _check(capsys)
    run = CheckRun.select().get()
    assert (run.town, run.street, run.community) == ("玉山镇", "城中街道", None)
    assert _both_screens(_login_as("street", "玉山镇/城中街道"))[:2] == (run.id, run.id)
    assert _both_screens(_login_as("community", "YS001"))[:2] == (run.id, run.id)
    assert _both_screens(_login_as("community", "YS003"))[:2] == (None, None)  # no street: not in it
    assert _both_screens(_login_as("town", "玉山镇"))[:2] == (None, None)


def test_the_whole_city_needs_a_whole_city_run(towns, capsys):
    _check(capsys, "--town", "玉山镇")  # single-user mode: the administrator
    town_run = CheckRun.select().get()
    admin = access.current()
    assert _both_screens(admin)[:2] == (None, None)
    assert _both_screens(admin, town="玉山镇")[:2] == (town_run.id, town_run.id)
    _check(capsys, "--rule", "org.kind_size")  # partial: never the latest run of a view
    assert _both_screens(admin)[:2] == (None, None)
    _check(capsys)
    city = CheckRun.select().order_by(CheckRun.id.desc()).get()
    assert city.town is None and city.community is None and city.rules is None
    assert _both_screens(admin)[:2] == (city.id, city.id)
    assert _both_screens(admin, town="巴城镇")[:2] == (city.id, city.id)


def test_scoring_and_reports_read_the_same_run(towns, capsys, monkeypatch):
    """A town's current run answers a score over that town without running the rules again."""
    from core import rules, scoring
    from core.view import View

    _check(capsys, "--town", "玉山镇", "--year", "2026")
    run = CheckRun.select().get()
    refs = View.of(town="玉山镇").communities()
    assert findings.find_run({c.id for c in refs}, 2026, as_of=dt.date(2026, 6, 15), current=True).id == run.id

    def no_rerun(**kw):
        raise AssertionError("the rule engine ran again")

    monkeypatch.setattr(rules, "run_check", no_rerun)
    counts = scoring.finding_counts(2026, dt.date(2026, 6, 15), refs)
    assert counts and {k[0] for k in counts} <= {"YS001", "YS002", "YS003"}
    assert scoring.stored_findings(2026, dt.date(2026, 6, 15), refs)
    # another as-of date, or a write since the run: not current
    assert findings.find_run({c.id for c in refs}, 2026, as_of=dt.date(2026, 6, 30)) is None
    from core.db import write_tx
    from core.models import AuditLog

    with write_tx():
        AuditLog.create(user="someone", action="update", table="member", key="1")
    assert findings.find_run({c.id for c in refs}, 2026, current=True) is None
    assert findings.find_run({c.id for c in refs}, 2026).id == run.id


# ---------------------------------------------------------------- one Pilot test: the two screens agree

def test_dashboard_and_compliance_screen_show_the_same_run_pilot(towns, capsys):
    from tests.tui.ledger_fixtures import open_screen, run, screen_text, settle

    _login_as("town", "玉山镇")
    _check(capsys, "--town", "玉山镇")
    stored = CheckRun.select().get()
    _login_as("town", "玉山镇")

    async def go():
        from tui.screens.compliance import ComplianceScreen

        async with open_screen(ComplianceScreen()) as (app, pilot):
            await settle(pilot, rounds=4)
            assert app.screen.run is not None and app.screen.run.id == stored.id
            text = screen_text(app)
            assert "检查时间" in text and "尚无检查结果" not in text
            await pilot.press("escape")
            await settle(pilot, rounds=4)
            dash = app.screen
            assert type(dash).__name__ == "DashboardScreen"
            assert dash.data["check"]["run_id"] == stored.id
            text = screen_text(app)
            assert "合规检查（" in text and "尚未运行检查" not in text

    run(go)


# ---------------------------------------------------------------- the migration

def test_old_one_string_scopes_are_converted_by_the_migration(towns):
    """A database whose check_run still has the ``scope`` text (schema version 2) is upgraded:
    the text is read once into the columns and dropped."""
    from peewee import CharField, DateField, DateTimeField, IntegerField, Model, TextField

    from core import migrations, models
    from core.db import database, write_tx

    class OldCheckRun(Model):  # check_run as schema version 2 had it
        version = IntegerField(default=1)
        started_at = DateTimeField(default=dt.datetime.now, index=True)
        finished_at = DateTimeField(null=True)
        year = IntegerField()
        as_of = DateField()
        scope = CharField(max_length=128, default="city")
        user = CharField(max_length=64, null=True)
        counts = TextField(default="{}")

        class Meta:
            database = models.database
            table_name = "check_run"

    old_scopes = {
        "city": (None, None, None, None),
        "town=玉山镇": ("玉山镇", None, None, None),
        "community=YS001": ("玉山镇", "城中街道", "YS001", None),
        "town=玉山镇;user=玉山镇": ("玉山镇", None, None, None),
        "user=YS003": ("玉山镇", None, "YS003", None),
        "user=玉山镇/城中街道": ("玉山镇", "城中街道", None, None),
        "community=BC001;user=巴城镇;rules=dues.on_time,org.kind_size":
            ("巴城镇", None, "BC001", "dues.on_time,org.kind_size"),
        "rules=org.kind_size": (None, None, None, "org.kind_size"),
    }
    with write_tx():
        database.drop_tables([models.StoredCount, models.StoredFinding, models.CheckRun])  # as version 2 had them
        database.create_tables([OldCheckRun, models.StoredFinding])
        ids = {scope: OldCheckRun.create(year=2025, as_of=dt.date(2025, 12, 31), scope=scope).id
               for scope in old_scopes}
        models.SchemaVersion.delete().execute()
        models.SchemaVersion.create(version=2)
    assert migrations.migrate() == (2, len(migrations.STEPS))
    assert "scope" not in {c.name for c in database.get_columns("check_run")}
    for scope, want in old_scopes.items():
        run = CheckRun.get_by_id(ids[scope])
        assert (run.town, run.street, run.community, run.rules) == want, scope
    # the converted rows are found like new ones
    ys = {c.id for c in towns.values() if c.code.startswith("YS")}
    assert findings.find_run(None, 2025).id == ids["city"]
    assert findings.find_run({towns["YS003"].id}, 2025).id == ids["user=YS003"]
    assert findings.find_run(ys, 2025).id == ids["town=玉山镇;user=玉山镇"]
    assert findings.find_run({towns["BC001"].id}, 2025).id == ids["city"]  # the BC001 run is partial
    assert migrations.migrate() == (len(migrations.STEPS), len(migrations.STEPS))  # idempotent


def _grouped(run_id) -> list:
    from peewee import fn

    from core.models import StoredFinding as F

    return sorted(F.select(F.rule, F.clause, F.status, F.town, F.community, fn.COUNT(F.id))
                  .where(F.run == run_id).group_by(F.rule, F.clause, F.status, F.town, F.community).tuples(),
                  key=repr)


def test_a_run_is_counted_as_it_is_stored(towns, capsys):
    """The counts kept with a run are its findings grouped by rule, clause, status, town and
    community, towns' and the city's own findings (no community) included; a view's communities
    narrow them."""
    assert main(["check", "--format", "json", "--output", "-"]) in (0, 1)
    run = findings.find_run(None, 2026)
    counts = sorted(findings.run_counts(run.id), key=repr)
    assert counts == _grouped(run.id)
    assert any(c[4] is None for c in counts) and {c[4] for c in counts} >= {"YS001", "BC001"}
    only = findings.run_counts(run.id, ["YS001"], rollups=False)
    assert only and {c[4] for c in only} == {"YS001"}
    with_rollups = findings.run_counts(run.id, ["YS001"])
    assert {c[4] for c in with_rollups} == {"YS001", None}
    assert {c[3] for c in findings.run_counts(run.id, town="巴城镇")} == {"巴城镇"}


def test_pruned_runs_take_their_counts_with_them(towns, tmp_path):
    from core import config, rules
    from core.models import StoredCount

    cfg = tmp_path / "keep.toml"
    cfg.write_text("[check]\nkeep_runs = 1\n", encoding="utf-8")
    config.load(cfg)
    for _ in range(2):
        rules.run_check(year=2026)
    kept = [r.id for r in CheckRun.select()]
    assert len(kept) == 1
    assert {r for (r,) in StoredCount.select(StoredCount.run).distinct().tuples()} == set(kept)


def test_runs_stored_before_the_counts_existed_are_counted_by_the_upgrade(towns, capsys):
    """A database at schema version 6 (runs stored, no counts table) is upgraded: each run's
    findings are counted once, as a run stored now would be."""
    from core import migrations, models
    from core.db import database, write_tx

    assert main(["check", "--format", "json", "--output", "-"]) in (0, 1)
    assert main(["check", "--community", "YS002", "--format", "json", "--output", "-"]) in (0, 1)
    runs = [r.id for r in CheckRun.select()]
    with write_tx():
        database.drop_tables([models.StoredCount])
        models.SchemaVersion.delete().execute()
        models.SchemaVersion.create(version=6)
    assert migrations.migrate() == (6, len(migrations.STEPS))
    for run_id in runs:
        assert sorted(findings.run_counts(run_id), key=repr) == _grouped(run_id)
