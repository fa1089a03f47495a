import pytest


@pytest.fixture
def tui_db(dangjian_db, monkeypatch):
    """The small TUI city in a fresh database, "today" = 2026-06-15, single-user admin."""
    monkeypatch.setenv("DANGJIAN_TODAY", "2026-06-15")
    from core import config, plugins

    config.load(None)
    plugins.load()
    from tests.tui import tui_data

    return tui_data.build()
