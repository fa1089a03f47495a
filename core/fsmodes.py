"""File modes of what dangjian creates (文件权限).

The database, its ``-wal``/``-shm`` files and the write-lock file are created
``0660`` when their folder is setgid to a group (the service group on a city
server, or the staff group of an install where staff run as their own
accounts), otherwise ``0600``; every output (exports, reports, rejects,
backups) is created ``0600``.  Nothing here follows a symlink planted where a
file of ours is to be created.
"""
from __future__ import annotations

import os
import stat

OUTPUT_MODE = 0o600


def shared_mode(folder) -> int:
    """0o660 in a setgid folder (the group shares the database), else 0o600."""
    try:
        st = os.stat(folder)
    except OSError:
        return 0o600
    return 0o660 if st.st_mode & stat.S_ISGID else 0o600


def create_exclusive(path, mode: int) -> bool:
    """Create ``path`` empty with ``mode`` (umask not applied) unless it exists; never through a symlink.

    Returns True when this call created it.  Raises OSError (ELOOP) for a symlink."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, mode)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, mode)
    finally:
        os.close(fd)
    return True


def open_output(path, binary: bool = False, encoding: str = "utf-8", newline: str | None = ""):
    """Open an output file for writing, created 0600; an existing file of ours is narrowed
    to 0600 too (an old export left readable by others does not stay so)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, OUTPUT_MODE)
    try:
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid() and stat.S_IMODE(st.st_mode) & 0o077:
            os.fchmod(fd, OUTPUT_MODE)
    except OSError:
        os.close(fd)
        raise
    if binary:
        return os.fdopen(fd, "wb")
    return os.fdopen(fd, "w", encoding=encoding, newline=newline)
