"""A city server's system config for tests, without touching the machine's /etc.

The program reads its system config from the fixed path ``/etc/dangjian/config.toml``
(no environment variable may move it).  Tests that run real processes (sudo,
sshd) therefore run them in a private mount namespace (``unshare -m``) in which
a temporary folder is bound over ``/etc/dangjian``; nothing outside the
namespace sees it.  In-process tests patch :data:`core.server.SYSTEM_CONFIG`.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

ETC = Path("/etc/dangjian")


def _unshare_works() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    try:
        return subprocess.run(["unshare", "-m", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


NAMESPACES = _unshare_works()
WHY_NOT = "needs root and unshare -m (a private mount namespace) to bind a test system config over /etc/dangjian"


def write_system_config(folder: Path, text: str, group: int = 0, mode: int = 0o640) -> Path:
    """``folder/config.toml`` owned by root with ``mode`` (the folder is what /etc/dangjian becomes)."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o755)
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    if os.geteuid() == 0:
        os.chown(path, 0, group)
    os.chmod(path, mode)
    return path


@contextmanager
def etc_mountpoint():
    """Make sure /etc/dangjian exists as a mount point (removed again if this created it)."""
    made = False
    if not ETC.exists():
        ETC.mkdir(mode=0o755)
        made = True
    try:
        yield
    finally:
        if made:
            try:
                ETC.rmdir()
            except OSError:
                pass


def in_namespace(folder: Path, argv: list[str]) -> list[str]:
    """``argv`` run where /etc/dangjian is ``folder`` (a private mount namespace)."""
    script = 'mount --bind "$0" /etc/dangjian && exec "$@"'
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", script, str(folder), *argv]
