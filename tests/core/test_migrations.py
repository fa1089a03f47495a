"""Schema steps (core.migrations): frozen tables, the same schema as before they were frozen."""
from __future__ import annotations

import ast
import hashlib
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# sqlite_master of a fresh database after steps 1-3, captured (sorted) before step 1 was frozen:
# what those steps create must never change, whatever later happens to core.models.
FRESH_SQLITE_SCHEMA_V3 = """\
CREATE INDEX "attendance_member_id_status" ON "attendance" ("member_id", "status")
CREATE INDEX "audit_log_at" ON "audit_log" ("at")
CREATE INDEX "audit_log_community" ON "audit_log" ("community")
CREATE INDEX "audit_log_table_key" ON "audit_log" ("table", "key")
CREATE INDEX "audit_log_user" ON "audit_log" ("user")
CREATE INDEX "check_run_started_at" ON "check_run" ("started_at")
CREATE INDEX "commitment_member_id" ON "commitment" ("member_id")
CREATE INDEX "commitment_organization_id" ON "commitment" ("organization_id")
CREATE INDEX "community_street_id" ON "community" ("street_id")
CREATE INDEX "community_town_id" ON "community" ("town_id")
CREATE INDEX "diary_entry_community_id" ON "diary_entry" ("community_id")
CREATE INDEX "diary_entry_member_id" ON "diary_entry" ("member_id")
CREATE INDEX "diary_entry_worker_id" ON "diary_entry" ("worker_id")
CREATE INDEX "dues_payment_month" ON "dues_payment" ("month")
CREATE INDEX "duty_post_member_id" ON "duty_post" ("member_id")
CREATE INDEX "duty_report_worker_id" ON "duty_report" ("worker_id")
CREATE INDEX "evaluation_member_id" ON "evaluation" ("member_id")
CREATE INDEX "expenditure_community_id" ON "expenditure" ("community_id")
CREATE INDEX "facility_community_id" ON "facility" ("community_id")
CREATE INDEX "floating_certificate_member_id" ON "floating_certificate" ("member_id")
CREATE INDEX "four_two_decision_community_id" ON "four_two_decision" ("community_id")
CREATE INDEX "funding_allocation_community_id" ON "funding_allocation" ("community_id")
CREATE INDEX "leader_contact_point_community_id" ON "leader_contact_point" ("community_id")
CREATE INDEX "meeting_organization_id" ON "meeting" ("organization_id")
CREATE INDEX "meeting_organization_id_type_date" ON "meeting" ("organization_id", "type", "date")
CREATE INDEX "meeting_type_date" ON "meeting" ("type", "date")
CREATE INDEX "member_community_id_management_class_active" ON "member" ("community_id", "management_class", "active")
CREATE INDEX "member_initials" ON "member" ("initials")
CREATE INDEX "member_name" ON "member" ("name")
CREATE INDEX "member_organization_id_active" ON "member" ("organization_id", "active")
CREATE INDEX "organization_community_id" ON "organization" ("community_id")
CREATE INDEX "organization_kind" ON "organization" ("kind")
CREATE INDEX "organization_parent_id" ON "organization" ("parent_id")
CREATE INDEX "pairing_member_id" ON "pairing" ("member_id")
CREATE INDEX "publication_community_id" ON "publication" ("community_id")
CREATE INDEX "resident_unit_community_id" ON "resident_unit" ("community_id")
CREATE INDEX "residents_committee_community_id" ON "residents_committee" ("community_id")
CREATE INDEX "responsibility_zone_community_id" ON "responsibility_zone" ("community_id")
CREATE INDEX "responsibility_zone_member_id" ON "responsibility_zone" ("member_id")
CREATE INDEX "service_record_community_id" ON "service_record" ("community_id")
CREATE INDEX "stored_finding_run_id_community" ON "stored_finding" ("run_id", "community")
CREATE INDEX "stored_finding_run_id_rule_status" ON "stored_finding" ("run_id", "rule", "status")
CREATE INDEX "street_town_id" ON "street" ("town_id")
CREATE INDEX "training_start_date" ON "training" ("start_date")
CREATE INDEX "training_worker_id" ON "training" ("worker_id")
CREATE INDEX "transfer_member_id" ON "transfer" ("member_id")
CREATE INDEX "unit_consultation_unit_id" ON "unit_consultation" ("unit_id")
CREATE INDEX "visit_community_id" ON "visit" ("community_id")
CREATE INDEX "visit_community_id_kind_date" ON "visit" ("community_id", "kind", "date")
CREATE INDEX "visit_member_id" ON "visit" ("member_id")
CREATE INDEX "visit_member_id_kind_date" ON "visit" ("member_id", "kind", "date")
CREATE INDEX "visit_staff_id" ON "visit" ("staff_id")
CREATE INDEX "volunteer_hours_member_id" ON "volunteer_hours" ("member_id")
CREATE INDEX "volunteer_hours_member_id_date" ON "volunteer_hours" ("member_id", "date")
CREATE INDEX "worker_community_id" ON "worker" ("community_id")
CREATE INDEX "worker_community_id_status" ON "worker" ("community_id", "status")
CREATE INDEX "worker_initials" ON "worker" ("initials")
CREATE INDEX "worker_name" ON "worker" ("name")
CREATE INDEX "worker_pay_worker_id" ON "worker_pay" ("worker_id")
CREATE INDEX "worker_post_post_start_date" ON "worker_post" ("post", "start_date")
CREATE INDEX "worker_post_worker_id" ON "worker_post" ("worker_id")
CREATE TABLE "attendance" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "meeting_id" INTEGER NOT NULL, "member_id" INTEGER NOT NULL, "status" VARCHAR(8) NOT NULL, "leave_reason" VARCHAR(256), FOREIGN KEY ("meeting_id") REFERENCES "meeting" ("id") ON DELETE CASCADE, FOREIGN KEY ("member_id") REFERENCES "member" ("id") ON DELETE CASCADE)
CREATE TABLE "audit_log" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "at" DATETIME NOT NULL, "user" VARCHAR(64) NOT NULL, "action" VARCHAR(8) NOT NULL, "table" VARCHAR(64) NOT NULL, "key" VARCHAR(256) NOT NULL, "old" TEXT, "new" TEXT, "community" INTEGER)
CREATE TABLE "check_run" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "started_at" DATETIME NOT NULL, "finished_at" DATETIME, "year" INTEGER NOT NULL, "as_of" DATE NOT NULL, "town" VARCHAR(64), "street" VARCHAR(64), "community" VARCHAR(32), "rules" TEXT, "user" VARCHAR(64), "counts" TEXT NOT NULL)
CREATE TABLE "commitment" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "member_id" INTEGER, "organization_id" INTEGER, "year" INTEGER NOT NULL, "content" VARCHAR(256) NOT NULL, "fulfilled" INTEGER NOT NULL, "fulfilled_date" DATE, FOREIGN KEY ("member_id") REFERENCES "member" ("id") ON DELETE CASCADE, FOREIGN KEY ("organization_id") REFERENCES "organization" ("id") ON DELETE CASCADE)
CREATE TABLE "community" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "code" VARCHAR(32) NOT NULL, "name" VARCHAR(64) NOT NULL, "town_id" INTEGER NOT NULL, "street_id" INTEGER, FOREIGN KEY ("town_id") REFERENCES "town" ("id") ON DELETE RESTRICT, FOREIGN KEY ("street_id") REFERENCES "street" ("id") ON DELETE RESTRICT)
CREATE TABLE "diary_entry" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "community_id" INTEGER NOT NULL, "member_id" INTEGER, "worker_id" INTEGER, "date" DATE NOT NULL, "content" TEXT NOT NULL, FOREIGN KEY ("community_id") REFERENCES "community" ("id") ON DELETE CASCADE, FOREIGN KEY ("member_id") REFERENCES "member" ("id") ON DELETE SET NULL, FOREIGN KEY ("worker_id") REFERENCES "worker" ("id") ON DELETE SET NULL)
CREATE TABLE "dues_payment" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "member_id" INTEGER NOT NULL, "month" VARCHAR(7) NOT NULL, "due" DECIMAL(14, 2) NOT NULL, "paid" DECIMAL(14, 2) NOT NULL, "paid_date" DATE, FOREIGN KEY ("member_id") REFERENCES "member" ("id") ON DELETE CASCADE)
CREATE TABLE "duty_post" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "member_id" INTEGER NOT NULL, "name" VARCHAR(128) NOT NULL, "duties" VARCHAR(256), "since" DATE, FOREIGN KEY ("member_id") REFERENCES "member" ("id") ON DELETE CASCADE)
CREATE TABLE "duty_report" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "worker_id" INTEGER NOT NULL, "year" INTEGER NOT NULL, "audience" VARCHAR(24) NOT NULL, "date" DATE NOT NULL, "rating" VARCHAR(32), FOREIGN KEY ("worker_id") REFERENCES "worker" ("id") ON DELETE CASCADE)
CREATE TABLE "entry_item" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "name" VARCHAR(128) NOT NULL, "department" VARCHAR(128) NOT NULL, "approval_date" DATE, "funds" DECIMAL(14, 2), "meetings_per_year" INTEGER NOT NULL, "ledgers_per_year" INTEGER NOT NULL, "reports_per_year" INTEGER NOT NULL)
CREATE TABLE "evaluation" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "member_id" INTEGER NOT NULL, "year" INTEGER NOT NULL, "result" VARCHAR(24) NOT NULL, FOREIGN KEY ("member_id") REFERENCES "member" ("id") ON DELETE CASCADE)
CREATE TABLE "expenditure" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "community_id" INTEGER NOT NULL, "date" DATE NOT NULL, "amount" DECIMAL(14, 2) NOT NULL, "purpose" VARCHAR(256) NOT NULL, FOREIGN KEY ("community_id") REFERENCES "community" ("id") ON DELETE CASCADE)
CREATE TABLE "facility" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "community_id" INTEGER NOT NULL, "kind" VARCHAR(24) NOT NULL, "name" VARCHAR(128), "area" DECIMAL(10, 1), "shared" INTEGER NOT NULL, "opened" DATE, FOREIGN KEY ("community_id") REFERENCES "community" ("id") ON DELETE CASCADE)
CREATE TABLE "floating_certificate" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "number" VARCHAR(64) NOT NULL, "member_id" INTEGER NOT NULL, "issued_by" VARCHAR(128), "issue_date" DATE, "destination" VARCHAR(128), "valid_until" DATE, "returned_date" DATE, FOREIGN KEY ("member_id") REFERENCES "member" ("id") ON DELETE CASCADE)
CREATE TABLE "four_two_decision" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "code" VARCHAR(48) NOT NULL, "community_id" INTEGER NOT NULL, "title" VARCHAR(256) NOT NULL, "proposed" DATE, "consulted" DATE, "reviewed" DATE, "resolved" DATE, "published" DATE, "result_published" DATE, FOREIGN KEY ("community_id") REFERENCES "community" ("id") ON DELETE CASCADE)
CREATE TABLE "funding_allocation" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "community_id" INTEGER NOT NULL, "year" INTEGER NOT NULL, "amount" DECIMAL(14, 2) NOT NULL, "source" VARCHAR(24) NOT NULL, "date" DATE NOT NULL, FOREIGN KEY ("community_id") REFERENCES "community" ("id") ON DELETE CASCADE)
CREATE TABLE "leader_contact_point" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "leader_name" VARCHAR(64) NOT NULL, "leader_post" VARCHAR(128), "community_id" INTEGER NOT NULL, "since" DATE NOT NULL, FOREIGN KEY ("community_id") REFERENCES "community" ("id") ON DELETE CASCADE)
CREATE TABLE "meeting" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "code" VARCHAR(48) NOT NULL, "organization_id" INTEGER NOT NULL, "type" VARCHAR(32) NOT NULL, "date" DATE NOT NULL, "topic" VARCHAR(256), FOREIGN KEY ("organization_id") REFERENCES "organization" ("id") ON DELETE RESTRICT)
CREATE TABLE "member" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "id_number" VARCHAR(18) NOT NULL, "name" VARCHAR(64) NOT NULL, "initials" VARCHAR(32) NOT NULL, "sex" VARCHAR(1), "birth_date" DATE, "joined_date" DATE NOT NULL, "full_date" DATE, "organization_id" INTEGER, "community_id" INTEGER, "management_class" VARCHAR(16) NOT NULL, "retired" INTEGER NOT NULL, "mobility_impaired" INTEGER NOT NULL, "registered_date" DATE, "placed_date" DATE, "certificate_no" VARCHAR(64), "contact_person" VARCHAR(64), "education" VARCHAR(24), "phone" VARCHAR(32), "work_unit" VARCHAR(128), "dues_class" VARCHAR(16), "monthly_income" DECIMAL(14, 2), "active" INTEGER NOT NULL, "left_date" DATE, FOREIGN KEY ("organization_id") REFERENCES "organization" ("id") ON DELETE RESTRICT, FOREIGN KEY ("community_id") REFERENCES "community" ("id") ON DELETE RESTRICT)
CREATE TABLE "organization" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "code" VARCHAR(32) NOT NULL, "name" VARCHAR(128) NOT NULL, "kind" VARCHAR(16) NOT NULL, "parent_id" INTEGER, "community_id" INTEGER, "host_kind" VARCHAR(16) NOT NULL, "founded" DATE, "approval_no" VARCHAR(64), FOREIGN KEY ("parent_id") REFERENCES "organization" ("id") ON DELETE RESTRICT, FOREIGN KEY ("community_id") REFERENCES "community" ("id") ON DELETE RESTRICT)
CREATE TABLE "pairing" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "member_id" INTEGER NOT NULL, "household" VARCHAR(128) NOT NULL, "since" DATE NOT NULL, "until" DATE, FOREIGN KEY ("member_id") REFERENCES "member" ("id") ON DELETE CASCADE)
CREATE TABLE "publication" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "community_id" INTEGER NOT NULL, "year" INTEGER NOT NULL, "kind" VARCHAR(24) NOT NULL, "date" DATE NOT NULL, FOREIGN KEY ("community_id") REFERENCES "community" ("id") ON DELETE CASCADE)
CREATE TABLE "resident_unit" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "community_id" INTEGER NOT NULL, "name" VARCHAR(128) NOT NULL, "kind" VARCHAR(24) NOT NULL, "has_party_org" INTEGER NOT NULL, "part_time_member" INTEGER NOT NULL, "joint_meeting_member" INTEGER NOT NULL, FOREIGN KEY ("community_id") REFERENCES "community" ("id") ON DELETE CASCADE)
CREATE TABLE "residents_committee" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "community_id" INTEGER NOT NULL, "name" VARCHAR(64) NOT NULL, FOREIGN KEY ("community_id") REFERENCES "community" ("id") ON DELETE CASCADE)
CREATE TABLE "responsibility_zone" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "member_id" INTEGER NOT NULL, "community_id" INTEGER NOT NULL, "name" VARCHAR(128) NOT NULL, "description" VARCHAR(256), FOREIGN KEY ("member_id") REFERENCES "member" ("id") ON DELETE CASCADE, FOREIGN KEY ("community_id") REFERENCES "community" ("id") ON DELETE CASCADE)
CREATE TABLE "schema_version" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL)
CREATE TABLE "service_record" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "community_id" INTEGER NOT NULL, "target_group" VARCHAR(24) NOT NULL, "free" INTEGER NOT NULL, "date" DATE NOT NULL, "content" VARCHAR(256) NOT NULL, FOREIGN KEY ("community_id") REFERENCES "community" ("id") ON DELETE CASCADE)
CREATE TABLE "stored_finding" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "run_id" INTEGER NOT NULL, "rule" VARCHAR(64) NOT NULL, "clause" INTEGER, "status" VARCHAR(8) NOT NULL, "town" VARCHAR(64), "community" VARCHAR(32), "subject" VARCHAR(64) NOT NULL, "message" TEXT NOT NULL, "evidence" TEXT NOT NULL, FOREIGN KEY ("run_id") REFERENCES "check_run" ("id") ON DELETE CASCADE)
CREATE TABLE "street" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "town_id" INTEGER NOT NULL, "name" VARCHAR(64) NOT NULL, FOREIGN KEY ("town_id") REFERENCES "town" ("id") ON DELETE RESTRICT)
CREATE TABLE "town" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "name" VARCHAR(64) NOT NULL)
CREATE TABLE "training" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "worker_id" INTEGER NOT NULL, "title" VARCHAR(128) NOT NULL, "level" VARCHAR(8) NOT NULL, "start_date" DATE NOT NULL, "days" DECIMAL(6, 1) NOT NULL, FOREIGN KEY ("worker_id") REFERENCES "worker" ("id") ON DELETE CASCADE)
CREATE TABLE "transfer" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "member_id" INTEGER NOT NULL, "direction" VARCHAR(16) NOT NULL, "from_org" VARCHAR(128), "to_org" VARCHAR(128), "date" DATE NOT NULL, "letter_no" VARCHAR(64), FOREIGN KEY ("member_id") REFERENCES "member" ("id") ON DELETE CASCADE)
CREATE TABLE "unit_consultation" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "unit_id" INTEGER NOT NULL, "date" DATE NOT NULL, "subject" VARCHAR(24) NOT NULL, "person" VARCHAR(64), "opinion" VARCHAR(256), FOREIGN KEY ("unit_id") REFERENCES "resident_unit" ("id") ON DELETE CASCADE)
CREATE TABLE "urban_wage" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "year" INTEGER NOT NULL, "amount" DECIMAL(14, 2) NOT NULL, "source" VARCHAR(256))
CREATE TABLE "user" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "login" VARCHAR(64) NOT NULL, "role" VARCHAR(16) NOT NULL, "scope" VARCHAR(128) NOT NULL, "read_only" INTEGER NOT NULL, "full_personal_data" INTEGER NOT NULL, "created_at" DATETIME NOT NULL)
CREATE TABLE "visit" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "community_id" INTEGER NOT NULL, "kind" VARCHAR(24) NOT NULL, "date" DATE NOT NULL, "staff_id" INTEGER, "member_id" INTEGER, "people" INTEGER NOT NULL, "demand" TEXT NOT NULL, "answered_date" DATE, "closed_date" DATE, "refused_reason" VARCHAR(256), FOREIGN KEY ("community_id") REFERENCES "community" ("id") ON DELETE RESTRICT, FOREIGN KEY ("staff_id") REFERENCES "worker" ("id") ON DELETE SET NULL, FOREIGN KEY ("member_id") REFERENCES "member" ("id") ON DELETE SET NULL)
CREATE TABLE "volunteer_hours" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "member_id" INTEGER NOT NULL, "date" DATE NOT NULL, "hours" DECIMAL(6, 1) NOT NULL, "activity" VARCHAR(256), FOREIGN KEY ("member_id") REFERENCES "member" ("id") ON DELETE CASCADE)
CREATE TABLE "worker" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "id_number" VARCHAR(18) NOT NULL, "name" VARCHAR(64) NOT NULL, "initials" VARCHAR(32) NOT NULL, "sex" VARCHAR(1), "birth_date" DATE, "community_id" INTEGER NOT NULL, "education" VARCHAR(24), "certificate" VARCHAR(24) NOT NULL, "certificate_date" DATE, "hired_date" DATE, "college_graduate" INTEGER NOT NULL, "backup_talent" INTEGER NOT NULL, "filing_date" DATE, "election_method" VARCHAR(24), "status" VARCHAR(8) NOT NULL, "exit_reason" VARCHAR(128), "phone" VARCHAR(32), FOREIGN KEY ("community_id") REFERENCES "community" ("id") ON DELETE RESTRICT)
CREATE TABLE "worker_pay" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "worker_id" INTEGER NOT NULL, "year" INTEGER NOT NULL, "base_pay" DECIMAL(14, 2) NOT NULL, FOREIGN KEY ("worker_id") REFERENCES "worker" ("id") ON DELETE CASCADE)
CREATE TABLE "worker_post" ("id" INTEGER NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "worker_id" INTEGER NOT NULL, "post" VARCHAR(24) NOT NULL, "start_date" DATE NOT NULL, "end_date" DATE, FOREIGN KEY ("worker_id") REFERENCES "worker" ("id") ON DELETE CASCADE)
CREATE UNIQUE INDEX "attendance_meeting_id_member_id" ON "attendance" ("meeting_id", "member_id")
CREATE UNIQUE INDEX "community_code" ON "community" ("code")
CREATE UNIQUE INDEX "dues_payment_member_id_month" ON "dues_payment" ("member_id", "month")
CREATE UNIQUE INDEX "duty_report_worker_id_year_audience" ON "duty_report" ("worker_id", "year", "audience")
CREATE UNIQUE INDEX "evaluation_member_id_year" ON "evaluation" ("member_id", "year")
CREATE UNIQUE INDEX "expenditure_community_id_date_purpose" ON "expenditure" ("community_id", "date", "purpose")
CREATE UNIQUE INDEX "floating_certificate_number" ON "floating_certificate" ("number")
CREATE UNIQUE INDEX "four_two_decision_code" ON "four_two_decision" ("code")
CREATE UNIQUE INDEX "funding_allocation_community_id_year_source_date" ON "funding_allocation" ("community_id", "year", "source", "date")
CREATE UNIQUE INDEX "meeting_code" ON "meeting" ("code")
CREATE UNIQUE INDEX "member_id_number" ON "member" ("id_number")
CREATE UNIQUE INDEX "organization_code" ON "organization" ("code")
CREATE UNIQUE INDEX "publication_community_id_year_kind_date" ON "publication" ("community_id", "year", "kind", "date")
CREATE UNIQUE INDEX "resident_unit_community_id_name" ON "resident_unit" ("community_id", "name")
CREATE UNIQUE INDEX "residents_committee_community_id_name" ON "residents_committee" ("community_id", "name")
CREATE UNIQUE INDEX "street_town_id_name" ON "street" ("town_id", "name")
CREATE UNIQUE INDEX "town_name" ON "town" ("name")
CREATE UNIQUE INDEX "training_worker_id_title_start_date" ON "training" ("worker_id", "title", "start_date")
CREATE UNIQUE INDEX "transfer_member_id_date" ON "transfer" ("member_id", "date")
CREATE UNIQUE INDEX "urban_wage_year" ON "urban_wage" ("year")
CREATE UNIQUE INDEX "user_login" ON "user" ("login")
CREATE UNIQUE INDEX "worker_id_number" ON "worker" ("id_number")
CREATE UNIQUE INDEX "worker_pay_worker_id_year" ON "worker_pay" ("worker_id", "year")
CREATE UNIQUE INDEX "worker_post_worker_id_post_start_date" ON "worker_post" ("worker_id", "post", "start_date")
"""

# sha1 of the PostgreSQL DDL of step 1's tables (CREATE TABLE, then its indexes, table by table in
# the order of their names), taken from the live models before step 1 was frozen.
STEP1_POSTGRES_DDL_SHA1 = "6684b732b97d93ea39296b8b75bfd599db821ef7"

sqlite_only = pytest.mark.skipif((os.environ.get("DANGJIAN_TEST_DB") or "").startswith("postgres"),
                                 reason="compares SQLite's sqlite_master")


def _sqlite_schema(url: str, create) -> list[str]:
    from core import db

    db.connect(url, migrate=False)
    try:
        create()
        return sorted(sql for (sql,) in db.database.execute_sql(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL"))
    finally:
        db.close()


@sqlite_only
def test_a_fresh_database_gets_the_schema_it_always_got(dangjian_env):
    """Today (three steps) exactly the captured schema; later steps may add to it, and take from it
    only an index a later step replaced with a wider one (named here with its replacement)."""
    from core import migrations

    got = _sqlite_schema(f"sqlite:///{dangjian_env / 'fresh.db'}", migrations.migrate)
    want = FRESH_SQLITE_SCHEMA_V3.splitlines()
    replaced = {'CREATE INDEX "attendance_member_id_status" ON "attendance" ("member_id", "status")':
                'CREATE INDEX "attendance_member_id_status_meeting_id" ON "attendance" '
                '("member_id", "status", "meeting_id")'}  # step 9
    assert not set(replaced) & set(got)
    assert set(replaced.values()) <= set(got)
    assert set(want) - set(replaced) <= set(got)
    if len(migrations.STEPS) == 3:
        assert got == want


@sqlite_only
def test_steps_1_to_3_alone_give_the_captured_schema(dangjian_env):
    """Run only the first three steps: exactly the schema captured above."""
    from core import db, migrations

    def first_three():
        with db.write_tx():
            db.database.create_tables([migrations.SchemaVersion], safe=True)
            for step in migrations.STEPS[:3]:
                step(db.database)

    got = _sqlite_schema(f"sqlite:///{dangjian_env / 'three.db'}", first_three)
    assert got == FRESH_SQLITE_SCHEMA_V3.splitlines()


@sqlite_only
def test_the_steps_and_the_models_agree(dangjian_env):
    """A model changed without a new step (or a step without the model change) is caught here."""
    from core import db, migrations, models

    migrated = _sqlite_schema(f"sqlite:///{dangjian_env / 'migrated.db'}", migrations.migrate)
    created = _sqlite_schema(f"sqlite:///{dangjian_env / 'created.db'}",
                             lambda: db.database.create_tables([*models.CORE_MODELS, models.SchemaVersion]))
    # ref_secret (step 4) holds one value, the secret behind masked refs: a table, not a model
    assert [s for s in migrated if '"ref_secret"' not in s] == created


@sqlite_only
def test_step_4_makes_the_ref_secret_once(dangjian_env):
    """The secret is made by the upgrade, not on first use, and stays the same afterwards."""
    from core import db, migrations, view

    db.connect(f"sqlite:///{dangjian_env / 'v4.db'}")
    first = view.ref_secret()
    assert len(first) == 32
    migrations.migrate()
    assert view.ref_secret() == first
    db.close()


def test_step1_on_postgresql_is_frozen_too():
    import peewee as pw

    from core import migrations

    pg = pw.PostgresqlDatabase("never-connected")
    ddl = []
    for table in sorted(migrations.step1_tables(pg), key=lambda t: t._meta.table_name):
        ddl.append(pg.get_sql_context().sql(table._schema._create_table(safe=True)).query()[0])
        ddl += [pg.get_sql_context().sql(idx).query()[0] for idx in table._schema._create_indexes(safe=True)]
    assert hashlib.sha1("\n".join(ddl).encode()).hexdigest() == STEP1_POSTGRES_DDL_SHA1


def test_the_steps_import_neither_the_models_nor_the_connection():
    """What a step does is written in core/migrations.py; core.db hands it the database."""
    tree = ast.parse((ROOT / "core" / "migrations.py").read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
            imported |= {f"{node.module}.{a.name}" for a in node.names}
    assert not imported & {"core.models", "core.db"}, imported


def test_migrate_without_a_connection_says_so(monkeypatch):
    from core import migrations

    monkeypatch.setattr(migrations, "_database", None)
    with pytest.raises(RuntimeError, match="connect"):
        migrations.migrate()
