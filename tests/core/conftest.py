"""Fixtures shared by the core tests."""
import subprocess
import uuid

import pytest


@pytest.fixture
def os_user():
    """A factory of throw-away OS accounts (useradd, root only), removed afterwards."""
    made = []

    def make(prefix="dju"):
        name = f"{prefix}{uuid.uuid4().hex[:8]}"
        subprocess.run(["useradd", "-M", "-s", "/bin/sh", "-p", "*", name], check=True)
        made.append(name)
        return name

    yield make
    for name in made:
        subprocess.run(["userdel", "-f", name], capture_output=True)


@pytest.fixture
def service_mode(dangjian_env, monkeypatch):
    """This process runs as a server's service account ``djsvc`` (in-process: the system config is a
    file in tmp, the effective login is patched).  Returns a function that rewrites the system config
    (TOML text; ``db`` and ``backup_dir`` are filled in when not given)."""
    import os
    from pathlib import Path

    from core import server

    folder = Path(dangjian_env) / "etc"
    db_url = f"sqlite:///{dangjian_env / 'server.db'}"
    backups = Path(dangjian_env) / "backups"
    backups.mkdir()

    def write(text: str = "") -> Path:
        if "service_account" not in text:
            text = 'service_account = "djsvc"\n' + text
        if "\ndb =" not in "\n" + text:
            text += f'\ndb = "{db_url}"\n'
        if "backup_dir" not in text:
            text += f'\nbackup_dir = "{backups}"\n'
        folder.mkdir(exist_ok=True)
        path = folder / "config.toml"
        path.write_text(text, encoding="utf-8")
        os.chmod(path, 0o640)
        server.reset()
        return path

    monkeypatch.setattr(server, "SYSTEM_CONFIG", folder / "config.toml")
    monkeypatch.setattr(server, "effective_login", lambda: "djsvc")
    if os.geteuid() != 0:  # the file cannot be root's here: its owner check is tested as root
        monkeypatch.setattr(server, "_check_mode", lambda path: None)
    for var in ("SUDO_USER", "SUDO_UID", "SUDO_GID", "SUDO_COMMAND"):
        monkeypatch.delenv(var, raising=False)
    write()
    write.db_url = db_url
    write.backups = backups
    yield write
    server.reset()


@pytest.fixture
def small_demo(dangjian_db, monkeypatch):
    """The small demo city, "today" 2026-11-28 (the forked workers' tests)."""
    from core import demo

    monkeypatch.setenv("DANGJIAN_TODAY", "2026-11-28")
    demo.build()


@pytest.fixture
def towns_demo(dangjian_db, monkeypatch):
    """The city demo at 1 % (1,000 members in four towns), "today" 2026-11-28: work split by towns."""
    from core import demo

    monkeypatch.setenv("DANGJIAN_TODAY", "2026-11-28")
    demo.build("city", scale=0.01)


@pytest.fixture
def forks(monkeypatch):
    """The pids of the workers forked from now on (the real fork still happens): ``forks()`` turns
    the count on and returns the list it fills."""
    import os

    def start() -> list:
        seen = []
        real = os.fork

        def fork():
            pid = real()
            if pid:
                seen.append(pid)
            return pid
        monkeypatch.setattr(os, "fork", fork)
        return seen
    return start


@pytest.fixture
def dies_in_worker(monkeypatch):
    """``dies_in_worker(owner, name)``: ``owner.name`` ends a forked worker that calls it (``os._exit``,
    no answer), and works as before in this process."""
    import os

    parent = os.getpid()

    def patch(owner, name: str) -> None:
        real = getattr(owner, name)

        def dying(*a, **kw):
            if os.getpid() != parent:
                os._exit(3)
            return real(*a, **kw)
        monkeypatch.setattr(owner, name, dying)
    return patch
