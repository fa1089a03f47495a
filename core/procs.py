"""Work in a second process: what the check and the import share when they fork a worker.

A worker is forked (POSIX only) from a process with one thread and no open
transaction; it reads the database through a connection of its own
(:func:`core.db.reopen_in_child`) and never writes.  On one core the two
processes would only take turns, so the callers fork only with two or more.
"""
from __future__ import annotations

import os


def cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def can_fork() -> bool:
    """A worker may be forked here: POSIX, one thread (a fork copies only the calling
    thread, and whatever another thread held stays held), no open transaction."""
    import threading

    from core import db

    return hasattr(os, "fork") and threading.active_count() == 1 and not db.database.in_transaction()


def setting(name: str) -> str:
    """A worker switch from the environment: ``0`` never, ``1`` always (where possible), else ``auto``."""
    value = os.environ.get(name, "auto").strip()
    return value if value in ("0", "1") else "auto"
