"""Schema versions (数据库结构版本): numbered ``up`` steps run in order.

``schema_version`` holds the number of the last step applied.  A step runs
inside one write transaction, so a failed upgrade leaves the old schema.
Add a step by appending a function to ``STEPS``; never edit an applied one.

Every step declares the tables it creates or changes itself (frozen peewee
models or SQL written here), never the live models of :mod:`core.models`: a
later change to a model must not change what an old step does.  A model
change therefore comes with a new step (``tests/core/test_migrations.py``
checks that the steps and the models give the same schema).

The steps are handed the database: :func:`core.db.connect` binds this module
to the database it opened (:func:`bind`), so this module imports nothing of
``core.db`` or ``core.models``.
"""
from __future__ import annotations

import peewee as pw


class SchemaVersion(pw.Model):
    """``schema_version``: the number of the last step applied (one row)."""
    version = pw.IntegerField()

    class Meta:
        table_name = "schema_version"


_database = None   # the database core.db.connect opened (its DatabaseProxy)
_write_tx = None   # and its write transaction (BEGIN IMMEDIATE on SQLite, in the writers' queue)


def bind(database, write_tx) -> None:
    """Called by :func:`core.db.connect`: the database the steps run on and its write transaction."""
    global _database, _write_tx
    _database, _write_tx = database, write_tx
    SchemaVersion.bind(database, bind_refs=False, bind_backrefs=False)


def _bound():
    if _database is None:
        raise RuntimeError("no database: core.db.connect() first")
    return _database, _write_tx


def _is_postgres(database) -> bool:
    return isinstance(getattr(database, "obj", database), pw.PostgresqlDatabase)


# ---------------------------------------------------------------- step 1: the first schema


def step1_tables(database) -> list[type[pw.Model]]:
    """The tables of schema version 1, frozen as step 1 creates them (bound to ``database``)."""

    class _Frozen(pw.Model):
        version = pw.IntegerField()

        class Meta:
            database = None
            legacy_table_names = False  # table and index names from the class names: audit_log, audit_log_at …

    class Town(_Frozen):
        name = pw.CharField(unique=True, max_length=64)

    class Street(_Frozen):
        town = pw.ForeignKeyField(Town, backref="+", on_delete="RESTRICT")
        name = pw.CharField(max_length=64)

        class Meta:
            indexes = ((("town", "name"), True),)

    class Community(_Frozen):
        code = pw.CharField(unique=True, max_length=32)
        name = pw.CharField(max_length=64)
        town = pw.ForeignKeyField(Town, backref="+", on_delete="RESTRICT")
        street = pw.ForeignKeyField(Street, backref="+", on_delete="RESTRICT", null=True)

    class ResidentsCommittee(_Frozen):
        community = pw.ForeignKeyField(Community, backref="+", on_delete="CASCADE")
        name = pw.CharField(max_length=64)

        class Meta:
            indexes = ((("community", "name"), True),)

    class Organization(_Frozen):
        code = pw.CharField(unique=True, max_length=32)
        name = pw.CharField(max_length=128)
        kind = pw.CharField(index=True, max_length=16)
        parent = pw.ForeignKeyField("self", backref="+", on_delete="RESTRICT", null=True)
        community = pw.ForeignKeyField(Community, backref="+", on_delete="RESTRICT", null=True)
        host_kind = pw.CharField(max_length=16)
        founded = pw.DateField(null=True)
        approval_no = pw.CharField(null=True, max_length=64)

    class Member(_Frozen):
        id_number = pw.CharField(unique=True, max_length=18)
        name = pw.CharField(index=True, max_length=64)
        initials = pw.CharField(index=True, max_length=32)
        sex = pw.CharField(null=True, max_length=1)
        birth_date = pw.DateField(null=True)
        joined_date = pw.DateField()
        full_date = pw.DateField(null=True)
        organization = pw.ForeignKeyField(Organization, backref="+", on_delete="RESTRICT", null=True, index=False)
        community = pw.ForeignKeyField(Community, backref="+", on_delete="RESTRICT", null=True, index=False)
        management_class = pw.CharField(max_length=16)
        retired = pw.BooleanField()
        mobility_impaired = pw.BooleanField()
        registered_date = pw.DateField(null=True)
        placed_date = pw.DateField(null=True)
        certificate_no = pw.CharField(null=True, max_length=64)
        contact_person = pw.CharField(null=True, max_length=64)
        education = pw.CharField(null=True, max_length=24)
        phone = pw.CharField(null=True, max_length=32)
        work_unit = pw.CharField(null=True, max_length=128)
        dues_class = pw.CharField(null=True, max_length=16)
        monthly_income = pw.DecimalField(null=True, max_digits=14, decimal_places=2)
        active = pw.BooleanField()
        left_date = pw.DateField(null=True)

        class Meta:
            indexes = ((("community", "management_class", "active"), False), (("organization", "active"), False),)

    class Transfer(_Frozen):
        member = pw.ForeignKeyField(Member, backref="+", on_delete="CASCADE")
        direction = pw.CharField(max_length=16)
        from_org = pw.CharField(null=True, max_length=128)
        to_org = pw.CharField(null=True, max_length=128)
        date = pw.DateField()
        letter_no = pw.CharField(null=True, max_length=64)

        class Meta:
            indexes = ((("member", "date"), True),)

    class FloatingCertificate(_Frozen):
        number = pw.CharField(unique=True, max_length=64)
        member = pw.ForeignKeyField(Member, backref="+", on_delete="CASCADE")
        issued_by = pw.CharField(null=True, max_length=128)
        issue_date = pw.DateField(null=True)
        destination = pw.CharField(null=True, max_length=128)
        valid_until = pw.DateField(null=True)
        returned_date = pw.DateField(null=True)

    class Worker(_Frozen):
        id_number = pw.CharField(unique=True, max_length=18)
        name = pw.CharField(index=True, max_length=64)
        initials = pw.CharField(index=True, max_length=32)
        sex = pw.CharField(null=True, max_length=1)
        birth_date = pw.DateField(null=True)
        community = pw.ForeignKeyField(Community, backref="+", on_delete="RESTRICT")
        education = pw.CharField(null=True, max_length=24)
        certificate = pw.CharField(max_length=24)
        certificate_date = pw.DateField(null=True)
        hired_date = pw.DateField(null=True)
        college_graduate = pw.BooleanField()
        backup_talent = pw.BooleanField()
        filing_date = pw.DateField(null=True)
        election_method = pw.CharField(null=True, max_length=24)
        status = pw.CharField(max_length=8)
        exit_reason = pw.CharField(null=True, max_length=128)
        phone = pw.CharField(null=True, max_length=32)

        class Meta:
            indexes = ((("community", "status"), False),)

    class WorkerPost(_Frozen):
        worker = pw.ForeignKeyField(Worker, backref="+", on_delete="CASCADE")
        post = pw.CharField(max_length=24)
        start_date = pw.DateField()
        end_date = pw.DateField(null=True)

        class Meta:
            indexes = ((("worker", "post", "start_date"), True), (("post", "start_date"), False),)

    class WorkerPay(_Frozen):
        worker = pw.ForeignKeyField(Worker, backref="+", on_delete="CASCADE")
        year = pw.IntegerField()
        base_pay = pw.DecimalField(max_digits=14, decimal_places=2)

        class Meta:
            indexes = ((("worker", "year"), True),)

    class Training(_Frozen):
        worker = pw.ForeignKeyField(Worker, backref="+", on_delete="CASCADE")
        title = pw.CharField(max_length=128)
        level = pw.CharField(max_length=8)
        start_date = pw.DateField()
        days = pw.DecimalField(max_digits=6, decimal_places=1)

        class Meta:
            indexes = ((("worker", "title", "start_date"), True), (("start_date",), False),)

    class DutyReport(_Frozen):
        worker = pw.ForeignKeyField(Worker, backref="+", on_delete="CASCADE")
        year = pw.IntegerField()
        audience = pw.CharField(max_length=24)
        date = pw.DateField()
        rating = pw.CharField(null=True, max_length=32)

        class Meta:
            indexes = ((("worker", "year", "audience"), True),)

    class UrbanWage(_Frozen):
        year = pw.IntegerField(unique=True)
        amount = pw.DecimalField(max_digits=14, decimal_places=2)
        source = pw.CharField(null=True, max_length=256)

    class Meeting(_Frozen):
        code = pw.CharField(unique=True, max_length=48)
        organization = pw.ForeignKeyField(Organization, backref="+", on_delete="RESTRICT")
        type = pw.CharField(max_length=32)
        date = pw.DateField()
        topic = pw.CharField(null=True, max_length=256)

        class Meta:
            indexes = ((("organization", "type", "date"), False), (("type", "date"), False),)

    class Attendance(_Frozen):
        meeting = pw.ForeignKeyField(Meeting, backref="+", on_delete="CASCADE", index=False)
        member = pw.ForeignKeyField(Member, backref="+", on_delete="CASCADE", index=False)
        status = pw.CharField(max_length=8)
        leave_reason = pw.CharField(null=True, max_length=256)

        class Meta:
            indexes = ((("meeting", "member"), True), (("member", "status"), False),)

    class Evaluation(_Frozen):
        member = pw.ForeignKeyField(Member, backref="+", on_delete="CASCADE")
        year = pw.IntegerField()
        result = pw.CharField(max_length=24)

        class Meta:
            indexes = ((("member", "year"), True),)

    class DuesPayment(_Frozen):
        member = pw.ForeignKeyField(Member, backref="+", on_delete="CASCADE", index=False)
        month = pw.CharField(max_length=7)
        due = pw.DecimalField(max_digits=14, decimal_places=2)
        paid = pw.DecimalField(max_digits=14, decimal_places=2)
        paid_date = pw.DateField(null=True)

        class Meta:
            indexes = ((("member", "month"), True), (("month",), False),)

    class Visit(_Frozen):
        community = pw.ForeignKeyField(Community, backref="+", on_delete="RESTRICT")
        kind = pw.CharField(max_length=24)
        date = pw.DateField()
        staff = pw.ForeignKeyField(Worker, backref="+", on_delete="SET NULL", null=True)
        member = pw.ForeignKeyField(Member, backref="+", on_delete="SET NULL", null=True)
        people = pw.IntegerField()
        demand = pw.TextField()
        answered_date = pw.DateField(null=True)
        closed_date = pw.DateField(null=True)
        refused_reason = pw.CharField(null=True, max_length=256)

        class Meta:
            indexes = ((("community", "kind", "date"), False), (("member", "kind", "date"), False),)

    class Publication(_Frozen):
        community = pw.ForeignKeyField(Community, backref="+", on_delete="CASCADE")
        year = pw.IntegerField()
        kind = pw.CharField(max_length=24)
        date = pw.DateField()

        class Meta:
            indexes = ((("community", "year", "kind", "date"), True),)

    class FundingAllocation(_Frozen):
        community = pw.ForeignKeyField(Community, backref="+", on_delete="CASCADE")
        year = pw.IntegerField()
        amount = pw.DecimalField(max_digits=14, decimal_places=2)
        source = pw.CharField(max_length=24)
        date = pw.DateField()

        class Meta:
            indexes = ((("community", "year", "source", "date"), True),)

    class Expenditure(_Frozen):
        community = pw.ForeignKeyField(Community, backref="+", on_delete="CASCADE")
        date = pw.DateField()
        amount = pw.DecimalField(max_digits=14, decimal_places=2)
        purpose = pw.CharField(max_length=256)

        class Meta:
            indexes = ((("community", "date", "purpose"), True),)

    class ServiceRecord(_Frozen):
        community = pw.ForeignKeyField(Community, backref="+", on_delete="CASCADE")
        target_group = pw.CharField(max_length=24)
        free = pw.BooleanField()
        date = pw.DateField()
        content = pw.CharField(max_length=256)

    class Commitment(_Frozen):
        member = pw.ForeignKeyField(Member, backref="+", on_delete="CASCADE", null=True)
        organization = pw.ForeignKeyField(Organization, backref="+", on_delete="CASCADE", null=True)
        year = pw.IntegerField()
        content = pw.CharField(max_length=256)
        fulfilled = pw.BooleanField()
        fulfilled_date = pw.DateField(null=True)

    class ResponsibilityZone(_Frozen):
        member = pw.ForeignKeyField(Member, backref="+", on_delete="CASCADE")
        community = pw.ForeignKeyField(Community, backref="+", on_delete="CASCADE")
        name = pw.CharField(max_length=128)
        description = pw.CharField(null=True, max_length=256)

    class DutyPost(_Frozen):
        member = pw.ForeignKeyField(Member, backref="+", on_delete="CASCADE")
        name = pw.CharField(max_length=128)
        duties = pw.CharField(null=True, max_length=256)
        since = pw.DateField(null=True)

    class VolunteerHours(_Frozen):
        member = pw.ForeignKeyField(Member, backref="+", on_delete="CASCADE")
        date = pw.DateField()
        hours = pw.DecimalField(max_digits=6, decimal_places=1)
        activity = pw.CharField(null=True, max_length=256)

        class Meta:
            indexes = ((("member", "date"), False),)

    class Pairing(_Frozen):
        member = pw.ForeignKeyField(Member, backref="+", on_delete="CASCADE")
        household = pw.CharField(max_length=128)
        since = pw.DateField()
        until = pw.DateField(null=True)

    class DiaryEntry(_Frozen):
        community = pw.ForeignKeyField(Community, backref="+", on_delete="CASCADE")
        member = pw.ForeignKeyField(Member, backref="+", on_delete="SET NULL", null=True)
        worker = pw.ForeignKeyField(Worker, backref="+", on_delete="SET NULL", null=True)
        date = pw.DateField()
        content = pw.TextField()

    class FourTwoDecision(_Frozen):
        code = pw.CharField(unique=True, max_length=48)
        community = pw.ForeignKeyField(Community, backref="+", on_delete="CASCADE")
        title = pw.CharField(max_length=256)
        proposed = pw.DateField(null=True)
        consulted = pw.DateField(null=True)
        reviewed = pw.DateField(null=True)
        resolved = pw.DateField(null=True)
        published = pw.DateField(null=True)
        result_published = pw.DateField(null=True)

    class Facility(_Frozen):
        community = pw.ForeignKeyField(Community, backref="+", on_delete="CASCADE")
        kind = pw.CharField(max_length=24)
        name = pw.CharField(null=True, max_length=128)
        area = pw.DecimalField(null=True, max_digits=10, decimal_places=1)
        shared = pw.BooleanField()
        opened = pw.DateField(null=True)

    class ResidentUnit(_Frozen):
        community = pw.ForeignKeyField(Community, backref="+", on_delete="CASCADE")
        name = pw.CharField(max_length=128)
        kind = pw.CharField(max_length=24)
        has_party_org = pw.BooleanField()
        part_time_member = pw.BooleanField()
        joint_meeting_member = pw.BooleanField()

        class Meta:
            indexes = ((("community", "name"), True),)

    class UnitConsultation(_Frozen):
        unit = pw.ForeignKeyField(ResidentUnit, backref="+", on_delete="CASCADE")
        date = pw.DateField()
        subject = pw.CharField(max_length=24)
        person = pw.CharField(null=True, max_length=64)
        opinion = pw.CharField(null=True, max_length=256)

    class LeaderContactPoint(_Frozen):
        leader_name = pw.CharField(max_length=64)
        leader_post = pw.CharField(null=True, max_length=128)
        community = pw.ForeignKeyField(Community, backref="+", on_delete="CASCADE")
        since = pw.DateField()

    class EntryItem(_Frozen):
        name = pw.CharField(max_length=128)
        department = pw.CharField(max_length=128)
        approval_date = pw.DateField(null=True)
        funds = pw.DecimalField(null=True, max_digits=14, decimal_places=2)
        meetings_per_year = pw.IntegerField()
        ledgers_per_year = pw.IntegerField()
        reports_per_year = pw.IntegerField()

    class CheckRun(_Frozen):
        started_at = pw.DateTimeField(index=True)
        finished_at = pw.DateTimeField(null=True)
        year = pw.IntegerField()
        as_of = pw.DateField()
        town = pw.CharField(null=True, max_length=64)
        street = pw.CharField(null=True, max_length=64)
        community = pw.CharField(null=True, max_length=32)
        rules = pw.TextField(null=True)
        user = pw.CharField(null=True, max_length=64)
        counts = pw.TextField()

    class StoredFinding(_Frozen):
        run = pw.ForeignKeyField(CheckRun, backref="+", on_delete="CASCADE", index=False)
        rule = pw.CharField(max_length=64)
        clause = pw.IntegerField(null=True)
        status = pw.CharField(max_length=8)
        town = pw.CharField(null=True, max_length=64)
        community = pw.CharField(null=True, max_length=32)
        subject = pw.CharField(max_length=64)
        message = pw.TextField()
        evidence = pw.TextField()

        class Meta:
            indexes = ((("run", "community"), False), (("run", "rule", "status"), False),)

    class User(_Frozen):
        login = pw.CharField(unique=True, max_length=64)
        role = pw.CharField(max_length=16)
        scope = pw.CharField(max_length=128)
        read_only = pw.BooleanField()
        full_personal_data = pw.BooleanField()
        created_at = pw.DateTimeField()

    class AuditLog(_Frozen):
        at = pw.DateTimeField(index=True)
        user = pw.CharField(index=True, max_length=64)
        action = pw.CharField(max_length=8)
        table = pw.CharField(max_length=64)
        key = pw.CharField(max_length=256)
        old = pw.TextField(null=True)
        new = pw.TextField(null=True)
        community = pw.IntegerField(null=True, index=True)

        class Meta:
            indexes = ((("table", "key"), False),)

    tables = _Frozen.__subclasses__()  # in the order above
    for table in tables:
        table.bind(database, bind_refs=False, bind_backrefs=False)
    return tables


def _step1_initial(database):
    database.create_tables(step1_tables(database), safe=True)


def _step2_prefix_indexes(database):
    """PostgreSQL: ``text_pattern_ops`` indexes so ``LIKE 'x%'`` prefix search (names,
    pinyin initials, ID numbers) uses an index under any collation.
    SQLite's plain indexes already serve the range form core.read uses there."""
    if not _is_postgres(database):
        return
    for table, column in (("member", "name"), ("member", "initials"), ("member", "id_number"),
                          ("worker", "name"), ("worker", "initials"), ("worker", "id_number"),
                          ("organization", "name"), ("community", "name")):
        database.execute_sql(f'CREATE INDEX IF NOT EXISTS "{table}_{column}_prefix" '
                             f'ON "{table}" ("{column}" text_pattern_ops)')


def _step3_check_run_scope_columns(database):
    """check_run: what a run covered as columns (town, street, community, rules) instead of
    one ``;``-joined ``scope`` text such as ``town=玉山镇;user=玉山镇;rules=a,b``.  The old
    text is read here, once, and dropped.  (A database created by step 1 of this version
    already has the columns.)"""
    from peewee import CharField, Table, TextField
    from playhouse.migrate import SchemaMigrator, migrate as apply

    if "scope" not in {c.name for c in database.get_columns("check_run")}:
        return
    migrator = SchemaMigrator.from_database(database.obj)
    apply(migrator.add_column("check_run", "town", CharField(max_length=64, null=True)),
          migrator.add_column("check_run", "street", CharField(max_length=64, null=True)),
          migrator.add_column("check_run", "community", CharField(max_length=32, null=True)),
          migrator.add_column("check_run", "rules", TextField(null=True)))
    places = {code: (town, street) for code, town, street in database.execute_sql(
        "SELECT c.code, t.name, s.name FROM community c JOIN town t ON t.id = c.town_id "
        "LEFT JOIN street s ON s.id = c.street_id").fetchall()}
    run = Table("check_run", ("id", "scope", "town", "street", "community", "rules")).bind(database)
    for run_id, scope in list(run.select(run.id, run.scope).tuples()):
        town = street = community = rules = None
        for part in (scope or "").split(";"):
            key, _, value = part.partition("=")
            if key == "town":
                town = value
            elif key == "community":
                community = value
            elif key == "rules":
                rules = value or None
            elif key == "user":  # the scope of the user who ran it: town/street, a community code or a town
                if "/" in value:
                    town, street = value.split("/", 1)
                elif value in places:
                    community = community or value
                else:
                    town = town or value
        if community in places:
            town, street = places[community]
        run.update({run.town: town, run.street: street, run.community: community, run.rules: rules}
                   ).where(run.id == run_id).execute()
    apply(migrator.drop_column("check_run", "scope"))


def _step4_ref_secret(database):
    """ref_secret: the database's secret behind the ``ref`` (标识) of masked outputs, 32
    random bytes made once.  (Upgrading to this version also runs the stored-text check,
    :mod:`core.stored_text`, as every upgrade of stored data does.)"""
    import secrets

    database.execute_sql('CREATE TABLE IF NOT EXISTS "ref_secret" '
                         '("id" INTEGER NOT NULL PRIMARY KEY, "secret" VARCHAR(64) NOT NULL)')
    if database.execute_sql('SELECT 1 FROM "ref_secret" WHERE "id" = 1').fetchone() is None:
        database.execute_sql(f'INSERT INTO "ref_secret" ("id", "secret") VALUES (1, {database.obj.param})',
                             (secrets.token_hex(32),))


class _SqliteOnlyWithoutRowid(pw.Metadata):
    """``WITHOUT ROWID`` on SQLite only (frozen with step 5)."""

    @property
    def without_rowid(self):
        db = getattr(self.database, "obj", self.database)
        return isinstance(db, pw.SqliteDatabase)

    @without_rowid.setter
    def without_rowid(self, value):
        pass


def _step5_roster_history(database):
    """class_change (党员类别变更, dated) and roster_period (the roster's spans, derived from the
    member records, transfers, class changes and placements), then the spans of every member
    already stored.  The tables are frozen here as this step creates them."""

    class _Frozen(pw.Model):
        class Meta:
            database = None
            legacy_table_names = False

    class Member(_Frozen):
        class Meta:
            table_name = "member"

    class ClassChange(_Frozen):
        version = pw.IntegerField()
        member = pw.ForeignKeyField(Member, backref="+", on_delete="CASCADE")
        new_class = pw.CharField(max_length=16)
        old_class = pw.CharField(max_length=16, null=True)
        date = pw.DateField()
        note = pw.CharField(max_length=256, null=True)

        class Meta:
            indexes = ((("member", "date"), True),)

    class RosterPeriod(_Frozen):
        member = pw.ForeignKeyField(Member, backref="+", on_delete="CASCADE", index=False)
        start = pw.DateField()
        end = pw.DateField(null=True)
        organization = pw.IntegerField(null=True)
        community = pw.IntegerField(null=True)
        management_class = pw.CharField(max_length=16)

        class Meta:
            primary_key = pw.CompositeKey("member", "start")
            model_metadata_class = _SqliteOnlyWithoutRowid
            indexes = ((("organization", "start"), False), (("community", "management_class", "start"), False))

    tables = [ClassChange, RosterPeriod]
    database.bind(tables, bind_refs=False, bind_backrefs=False)
    database.create_tables(tables, safe=True)
    from core import roster_replay  # the spans of the members already stored (derived data)

    roster_replay.rebuild(database)


def _step6_plugin_failure(database):
    """plugin_failure: the last failure of each plugin's hook per town, with file:line, time and
    command (``dangjian plugins`` and the app's plugin status read it).  Frozen here as this step
    creates it."""

    class PluginFailure(pw.Model):
        version = pw.IntegerField()
        plugin = pw.TextField()
        hook = pw.TextField()
        town = pw.CharField(max_length=64)
        location = pw.TextField()
        message = pw.TextField()
        at_load = pw.BooleanField()
        at = pw.DateTimeField()
        command = pw.TextField()
        user = pw.CharField(max_length=64, null=True)

        class Meta:
            database = None
            legacy_table_names = False
            indexes = ((("plugin", "hook", "town"), True),)

    database.bind([PluginFailure], bind_refs=False, bind_backrefs=False)
    database.create_tables([PluginFailure], safe=True)


def _step7_stored_count(database):
    """stored_count: each stored run's findings counted by rule, clause, status, town and
    community, which the compliance grid, the dashboard and the scorers read instead of grouping
    a run's findings again each time; the runs already stored are counted here, once."""

    class _Frozen(pw.Model):
        class Meta:
            database = None
            legacy_table_names = False

    class CheckRun(_Frozen):
        class Meta:
            table_name = "check_run"

    class StoredCount(_Frozen):
        version = pw.IntegerField()
        run = pw.ForeignKeyField(CheckRun, backref="+", on_delete="CASCADE", index=False)
        rule = pw.CharField(max_length=64)
        clause = pw.IntegerField(null=True)
        status = pw.CharField(max_length=8)
        town = pw.CharField(null=True, max_length=64)
        community = pw.CharField(null=True, max_length=32)
        n = pw.IntegerField()

        class Meta:
            indexes = ((("run", "community"), False),)

    database.bind([CheckRun, StoredCount], bind_refs=False, bind_backrefs=False)
    database.create_tables([StoredCount], safe=True)
    database.execute_sql(
        'INSERT INTO "stored_count" ("version", "run_id", "rule", "clause", "status", "town", "community", "n") '
        'SELECT 1, "run_id", "rule", "clause", "status", "town", "community", COUNT(*) FROM "stored_finding" '
        'GROUP BY "run_id", "rule", "clause", "status", "town", "community"')


def _step8_search_indexes(database):
    """Search at a million members.  PostgreSQL: the prefix indexes are ``COLLATE "C"``
    (code-point order, as SQLite's), so one index serves both the prefix range and the
    list's order (a ``text_pattern_ops`` index serves ``LIKE`` but not ``ORDER BY``: a page
    of a one-letter search scanned the whole name index).  Both: ``member_left``, a partial
    index of the members who left the roster, which the members list's count takes away
    from a prefix's count without looking up every match's row."""
    if _is_postgres(database):
        for table, column in (("member", "name"), ("member", "initials"), ("member", "id_number"),
                              ("worker", "name"), ("worker", "initials"), ("worker", "id_number"),
                              ("organization", "name"), ("organization", "code"),
                              ("community", "name"), ("community", "code")):
            database.execute_sql(f'CREATE INDEX IF NOT EXISTS "{table}_{column}_c" '
                                 f'ON "{table}" ("{column}" COLLATE "C")')
            database.execute_sql(f'DROP INDEX IF EXISTS "{table}_{column}_prefix"')
    database.execute_sql('CREATE INDEX IF NOT EXISTS "member_left" ON "member" ("name", "initials", "id_number") '
                         'WHERE active = false')


def _step9_attendance_covering_index(database):
    """Attendance by member, status and meeting in one index (it replaces the one by member and
    status): counting a year's attendance of a whole scope by member and status (the scorers'
    meetings attended and absences, the absence rule's months) reads the index alone instead of
    looking up each of ~2 million rows for its meeting."""
    database.execute_sql('CREATE INDEX IF NOT EXISTS "attendance_member_id_status_meeting_id" '
                         'ON "attendance" ("member_id", "status", "meeting_id")')
    database.execute_sql('DROP INDEX IF EXISTS "attendance_member_id_status"')


STEPS = [_step1_initial, _step2_prefix_indexes, _step3_check_run_scope_columns, _step4_ref_secret,
         _step5_roster_history, _step6_plugin_failure, _step7_stored_count, _step8_search_indexes,
         _step9_attendance_covering_index]


def current_version() -> int:
    database, _ = _bound()
    if not database.table_exists("schema_version"):
        return 0
    row = SchemaVersion.select().order_by(SchemaVersion.version.desc()).first()
    return row.version if row else 0


def migrate() -> tuple[int, int]:
    """Create or upgrade the schema; idempotent.  Returns (old, new) version."""
    database, write_tx = _bound()
    old = current_version()
    if old >= len(STEPS) and database.table_exists("schema_version"):
        _plugin_tables_if_loaded()
        return old, old
    with write_tx():
        database.create_tables([SchemaVersion], safe=True)
        old = current_version()  # re-read under the write lock: another process may have done it
        for number, step in enumerate(STEPS, start=1):
            if number > old:
                step(database)
                SchemaVersion.delete().execute()
                SchemaVersion.create(version=number)
    _plugin_tables_if_loaded()
    return old, len(STEPS)


def _plugin_tables_if_loaded():
    """Plugin tables, when the plugins are loaded already: the terminal app loads them
    after its first paint and then calls :func:`plugin_tables` itself."""
    import sys

    mod = sys.modules.get("core.plugins")
    if mod is not None and mod._manager is not None:
        plugin_tables()


def plugin_tables():
    """Create the tables plugins register through ``dangjian_register_models`` (idempotent)."""
    from core.plugins import registered_models

    database, write_tx = _bound()
    extra = registered_models()
    if extra:
        with write_tx():
            database.create_tables(extra, safe=True)
