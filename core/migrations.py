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


STEPS = [_step1_initial, _step2_prefix_indexes]


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
