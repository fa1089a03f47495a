"""The city-server deployment (市级服务器部署): the system config, the service account, safe paths.

On a server the database belongs to a service account (say ``dangjian``)
that nobody logs in as; staff reach it through ``ssh`` → ``sudo -u dangjian``
→ the session wrapper.  This module is the one home of what that deployment
decides:

- :data:`SYSTEM_CONFIG` (``/etc/dangjian/config.toml``, owner root, group the
  service group, mode 0640): read only by :func:`deployment`; refused when
  group- or world-writable or not owned by root.  It names the
  ``service_account``, the ``db`` URL, ``backup_dir``, ``plugin_dirs``,
  plugin bindings and the city's parameters.
- :func:`deployment` tells whether this process runs *as the service account*
  (its effective account is the one the system config names).  There the
  system config is the only config: ``--db``, ``--config`` and the
  environment variables ``DANGJIAN_DB``, ``DANGJIAN_CONFIG``,
  ``DANGJIAN_PLUGIN_DIRS`` are errors, and no command takes a path argument
  (stdin in, stdout out: :func:`refuse_path_arguments`).
- :func:`verified_sudo_user` is the identity check behind ``SUDO_USER``: the
  nearest ``sudo`` ancestor must have real uid ``SUDO_UID`` and effective
  uid 0, and ``SUDO_UID`` must be ``SUDO_USER``'s uid.  Whatever cannot be
  verified is refused with the fix, never taken on trust.
- :func:`check_output_path`: no file the program writes may resolve to the
  database, its ``-wal``/``-shm``/``-journal``/``.writelock`` files, or the
  backup folder.
"""
from __future__ import annotations

import os
import pwd
import stat
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import UserError
from core.i18n import tr

SYSTEM_CONFIG = Path("/etc/dangjian/config.toml")
#: keys that only the system config may hold (a user's config naming them is an error)
SYSTEM_ONLY_KEYS = ("service_account", "db", "backup_dir")
#: environment variables that choose a database, config or code: errors under the service account
SERVICE_FORBIDDEN_ENV = ("DANGJIAN_DB", "DANGJIAN_CONFIG", "DANGJIAN_PLUGIN_DIRS")
#: the terminal library's settings that write files, send the screen away, type keys or import a module
SERVICE_FORBIDDEN_TEXTUAL_ENV = ("TEXTUAL", "TEXTUAL_DRIVER", "TEXTUAL_LOG", "TEXTUAL_SCREENSHOT",
                                 "TEXTUAL_SCREENSHOT_LOCATION", "TEXTUAL_SCREENSHOT_FILENAME", "TEXTUAL_PRESS",
                                 "TEXTUAL_DEVTOOLS_HOST", "TEXTUAL_DEVTOOLS_PORT")
#: what the service account's own crontab (no SUDO_USER) may run
SYSTEM_COMMANDS = ("backup", "check", "report")
#: what runs on a server whose user table is still empty
BOOTSTRAP_COMMANDS = (("init", None), ("users", "add"))
#: how far up the process tree the sudo ancestor is looked for
_MAX_ANCESTORS = 16


class SystemConfigError(UserError):
    """The system config is missing a key, unsafe, or unreadable."""


def _proc_status(pid: int) -> dict:
    """``/proc/PID/status`` as a dict (raises OSError when it cannot be read)."""
    out = {}
    with open(f"/proc/{pid}/status", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def effective_login() -> str:
    """The login of the effective uid (the kernel's word, never the environment's)."""
    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        raise UserError(tr("当前账号（uid {u}）不在系统用户表中", "the running account (uid {u}) has no passwd entry",
                           u=uid)) from None


@dataclass
class Deployment:
    """Where this process stands: a server's service account, or an ordinary account."""

    service: bool = False          # running as the service account named by the system config
    account: str = ""              # the service account's login (when a system config names one)
    raw: dict = field(default_factory=dict)  # the system config's table (empty when there is none)
    path: Path | None = None       # the system config read

    @property
    def db_url(self) -> str | None:
        return self.raw.get("db")

    @property
    def backup_dir(self) -> Path | None:
        d = self.raw.get("backup_dir")
        return Path(d) if d else None


def _check_mode(path: Path) -> None:
    st = path.stat()
    if st.st_uid != 0:
        raise SystemConfigError(tr("{p} 必须属于 root（现属 uid {u}）；请执行 chown root:<服务组> {p}",
                                   "{p} must be owned by root (it is owned by uid {u}): chown root:<service group> {p}",
                                   p=path, u=st.st_uid))
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise SystemConfigError(tr("{p} 可被组或其他用户写入，拒绝使用；请执行 chmod 0640 {p}",
                                   "{p} is writable by its group or by others and is refused: chmod 0640 {p}", p=path))


def read_system_config(path: Path | None = None) -> dict | None:
    """The system config's table, or None when there is none (or this account may not read it)."""
    from core import config

    path = path or SYSTEM_CONFIG
    try:
        if not path.exists():
            return None
        if not os.access(path, os.R_OK):
            return None  # a staff account on the server: the file is for the service group only
    except OSError:
        return None
    _check_mode(path)
    raw = config.load_file(path)
    account = raw.get("service_account")
    if not isinstance(account, str) or not account.strip():
        raise SystemConfigError(tr("{p}：service_account 必须是服务账号的登录名（字符串）",
                                   "{p}: service_account must be the service account's login (a string)", p=path))
    if "db" in raw and not isinstance(raw["db"], str):
        raise SystemConfigError(tr("{p}：db 必须是数据库 URL（字符串）", "{p}: db must be a database URL (a string)", p=path))
    if "backup_dir" in raw and not (isinstance(raw["backup_dir"], str) and os.path.isabs(raw["backup_dir"])):
        raise SystemConfigError(tr("{p}：backup_dir 必须是绝对路径", "{p}: backup_dir must be an absolute path", p=path))
    return raw


_deployment: Deployment | None = None


def deployment(refresh: bool = False) -> Deployment:
    """The deployment this process runs in (read once per process)."""
    global _deployment
    if _deployment is None or refresh:
        raw = read_system_config()
        if raw is None:
            _deployment = Deployment()
        else:
            account = raw["service_account"].strip()
            _deployment = Deployment(service=effective_login() == account, account=account, raw=raw,
                                     path=SYSTEM_CONFIG)
    return _deployment


def reset() -> None:
    global _deployment
    _deployment = None


def refuse_service_overrides(args, environ=None) -> None:
    """Under the service account: ``--db``/``--config`` and the environment that choose them are errors."""
    environ = os.environ if environ is None else environ
    bad = [f"--{name}" for name in ("db", "config") if getattr(args, name, None)]
    bad += [name for name in SERVICE_FORBIDDEN_ENV + SERVICE_FORBIDDEN_TEXTUAL_ENV if environ.get(name)]
    if bad:
        raise UserError(tr("服务账号下不能使用 {b}：数据库、配置和插件目录只由系统配置 {p} 决定，终端库的这些 TEXTUAL 设置不予采用",
                           "{b} cannot be used under the service account: the database, config and plugin "
                           "folders come from the system config {p} only, and these TEXTUAL settings of the "
                           "terminal library are not taken", b=", ".join(bad), p=SYSTEM_CONFIG))


def _path_arguments(args) -> list[str]:
    """The options and operands of ``args`` that name a file the program would open."""
    out = []
    for opt in ("output", "rejects"):
        if getattr(args, opt, None):
            out.append(f"--{opt}")
    cmd = getattr(args, "command", None)
    if cmd in ("import", "export", "template"):
        if getattr(args, "file", None) != "-":
            out.append(tr("文件名（请用 -）", "a file name (use -)"))
    elif cmd == "backup" and getattr(args, "file", None):
        out.append(tr("备份文件名", "a backup file name"))
    return out


def refuse_path_arguments(args) -> None:
    """Under the service account no command takes a path: stdin in, stdout out."""
    bad = _path_arguments(args)
    if bad:
        raise UserError(tr("服务账号下不接受路径参数（{b}）：输出写到标准输出，导入从标准输入读取（dangjian import 类型 -），"
                           "例如 ssh 登录名@服务器 report ledger --community 编码 > ledger.html",
                           "no path arguments under the service account ({b}): output goes to stdout and imports "
                           "read stdin (dangjian import KIND -), e.g. ssh LOGIN@SERVER report ledger --community "
                           "CODE > ledger.html", b=", ".join(bad)))


def verified_sudo_user(environ=None, proc_status=None) -> str:
    """``SUDO_USER``, verified against the sudo process that started us (the identity check).

    Raises UserError (with the fix) whenever it cannot be verified: a ``SUDO_USER``
    of root, a missing or non-numeric ``SUDO_UID``, an unreadable ``/proc`` (e.g.
    mounted ``hidepid=2`` without the service group), no ``sudo`` ancestor, or a
    sudo whose real uid is not ``SUDO_UID``.
    """
    environ = os.environ if environ is None else environ
    proc_status = proc_status or _proc_status
    user = environ.get("SUDO_USER", "")
    if user == "root":
        raise UserError(tr("不能以 root 身份通过 sudo 使用服务账号：请从管理员自己的账号执行 sudo -u 服务账号 dangjian …",
                           "SUDO_USER=root is refused: run sudo -u <service account> dangjian … from your own "
                           "administrator account"))
    try:
        uid = int(environ.get("SUDO_UID", ""))
        if pwd.getpwuid(uid).pw_name != user:
            raise KeyError(uid)
    except (ValueError, KeyError):
        raise UserError(tr("无法核实 sudo 的调用者：SUDO_UID 与 SUDO_USER（{u}）不符",
                           "cannot verify who ran sudo: SUDO_UID does not match SUDO_USER ({u})", u=user)) from None
    pid = os.getppid()
    for _ in range(_MAX_ANCESTORS):
        if pid <= 1:
            break
        try:
            st = proc_status(pid)
        except OSError:
            d = deployment()
            raise UserError(tr(
                "无法核实 sudo 的调用者：看不到上级进程 {pid}（/proc 可能以 hidepid=2 挂载）。"
                "请以 hidepid=2,gid=<服务组> 挂载 /proc，并把服务账号 {a} 加入该组",
                "cannot verify who ran sudo: parent process {pid} cannot be read (/proc mounted hidepid=2?). "
                "Mount /proc with hidepid=2,gid=<service group> and put the service account {a} in that group",
                pid=pid, a=d.account or "dangjian")) from None
        if st.get("Name") == "sudo":
            try:
                real, effective = (int(x) for x in st["Uid"].split()[:2])
            except (KeyError, ValueError):
                break
            if real == uid and effective == 0:
                return user
            raise UserError(tr("无法核实 sudo 的调用者：sudo 进程的真实用户不是 {u}",
                               "cannot verify who ran sudo: the sudo process was not run by {u}", u=user))
        try:
            pid = int(st.get("PPid", "0"))
        except ValueError:
            break
    raise UserError(tr("无法核实 sudo 的调用者：上级进程中没有 sudo（SUDO_USER 不能手工设置）",
                       "cannot verify who ran sudo: no sudo among the parent processes (SUDO_USER cannot be set "
                       "by hand)"))


# ---------------------------------------------------------------- output paths

def _protected_paths() -> tuple[set[str], list[str]]:
    """(files never written, folders never written into) for the current database and deployment."""
    from core import db

    files: set[str] = set()
    folders: list[str] = []
    path = db.sqlite_path()
    if path:
        real = os.path.realpath(path)
        for suffix in ("", "-wal", "-shm", "-journal", ".writelock"):
            files.add(real + suffix)
    d = deployment()
    if d.backup_dir:
        folders.append(os.path.realpath(d.backup_dir))
    return files, folders


def check_output_path(path, *, backup: bool = False) -> None:
    """Refuse an output path that resolves to the database, its side files or the backup folder.

    ``backup=True`` is the backup command itself, which writes into the backup
    folder by design (but never onto the database).
    """
    if path is None or str(path) == "-":
        return
    real = os.path.realpath(os.path.expanduser(str(path)))
    files, folders = _protected_paths()
    if real in files:
        raise UserError(tr("不能写入 {p}：它是数据库文件（或其日志、锁文件）", "refusing to write {p}: it is the database "
                           "(or its journal or lock file)", p=path))
    if not backup:
        for folder in folders:
            if real == folder or real.startswith(folder.rstrip("/") + "/"):
                raise UserError(tr("不能写入 {p}：它在备份目录 {d} 中", "refusing to write {p}: it is inside the backup "
                                   "folder {d}", p=path, d=folder))
