"""pytest fixtures for dangjian and for town plugins' own tests.

Use in a ``conftest.py``::

    pytest_plugins = ["core.testing"]

Fixtures:

- ``dangjian_db`` — a fresh SQLite database file in a temporary folder, bound
  and migrated, single-user admin; yields the URL.
- ``dangjian_env`` — sets ``DANGJIAN_TODAY`` style isolation: its own config
  (no user config), Chinese, plugins reloaded.
"""
from __future__ import annotations

import pytest


def _reset_all():
    from core import access, config, i18n, plugins

    access.set_current(None)
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
        _drop_all_pg()
    monkeypatch.setenv("DANGJIAN_DB", url)
    db.connect(url)
    yield url
    db.close()


def _drop_all_pg():
    from core.db import database

    database.execute_sql("DROP SCHEMA public CASCADE")
    database.execute_sql("CREATE SCHEMA public")
