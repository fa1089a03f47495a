"""Schema versions (数据库结构版本): numbered ``up`` steps run in order.

``schema_version`` holds the number of the last step applied.  A step runs
inside one write transaction, so a failed upgrade leaves the old schema.
Add a step by appending a function to ``STEPS``; never edit an applied one.
"""
from __future__ import annotations

from core.db import database, write_tx
from core import models


def _step1_initial():
    database.create_tables(models.CORE_MODELS, safe=True)


def _step2_prefix_indexes():
    """PostgreSQL: ``text_pattern_ops`` indexes so ``LIKE 'x%'`` prefix search (names,
    pinyin initials, ID numbers) uses an index under any collation (DESIGN.md).
    SQLite's plain indexes already serve the range form core.queries uses there."""
    from core.db import is_postgres

    if not is_postgres():
        return
    for table, column in (("member", "name"), ("member", "initials"), ("member", "id_number"),
                          ("worker", "name"), ("worker", "initials"), ("worker", "id_number"),
                          ("organization", "name"), ("community", "name")):
        database.execute_sql(f'CREATE INDEX IF NOT EXISTS "{table}_{column}_prefix" '
                             f'ON "{table}" ("{column}" text_pattern_ops)')


def _step3_check_run_scope_columns():
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


STEPS = [_step1_initial, _step2_prefix_indexes, _step3_check_run_scope_columns]


def current_version() -> int:
    if not database.table_exists("schema_version"):
        return 0
    row = models.SchemaVersion.select().order_by(models.SchemaVersion.version.desc()).first()
    return row.version if row else 0


def migrate() -> tuple[int, int]:
    """Create or upgrade the schema; idempotent.  Returns (old, new) version."""
    old = current_version()
    if old >= len(STEPS) and database.table_exists("schema_version"):
        _plugin_tables_if_loaded()
        return old, old
    with write_tx():
        database.create_tables([models.SchemaVersion], safe=True)
        old = current_version()  # re-read under the write lock: another process may have done it
        for number, step in enumerate(STEPS, start=1):
            if number > old:
                step()
                models.SchemaVersion.delete().execute()
                models.SchemaVersion.create(version=number)
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

    extra = registered_models()
    if extra:
        with write_tx():
            database.create_tables(extra, safe=True)
