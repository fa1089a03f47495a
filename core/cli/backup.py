"""``dangjian backup [FILE] [--prune DAYS]`` and ``dangjian restore FILE [--yes]`` (admin only);
what a backup and a restore do is :mod:`core.backup`."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from core import access, db
from core.backup import backup, dated_name, prune, restore, service_backup_dir
from core.cli.basic import confirm
from core.errors import UserError
from core.i18n import tr


def cmd_backup(args) -> int:
    """``backup [FILE] [--prune DAYS]``: under the service account no FILE (a dated file in the
    configured backup folder); elsewhere FILE, or a dated file in the current folder."""
    folder = service_backup_dir()
    if folder is not None and args.file:
        raise UserError(tr("服务账号下备份不接受文件名（备份写入 {d}）", "no backup file name under the service account "
                           "(backups go to {d})", d=folder))
    target = Path(args.file) if args.file else (folder or Path.cwd()) / dated_name()
    path = backup(target)
    size = path.stat().st_size
    print(tr("已备份到 {f}（{n} 字节）", "backed up to {f} ({n} bytes)", f=path, n=size), file=sys.stderr)
    if args.prune is not None:
        removed = prune(path.parent, args.prune, keep=path)
        print(tr("已删除 {n} 个超过 {d} 天的旧备份", "removed {n} backup(s) older than {d} days", n=len(removed),
                 d=args.prune), file=sys.stderr)
    return 0


def cmd_restore(args) -> int:
    access.current().require_admin(tr("恢复数据库", "restore the database"))
    folder = service_backup_dir()
    if folder is not None:  # under the service account: only a file of the backup folder
        real = os.path.realpath(folder / args.file)
        if os.path.dirname(real) != os.path.realpath(folder):
            raise UserError(tr("服务账号下只能恢复备份目录 {d} 中的文件", "under the service account only a file of the "
                               "backup folder {d} can be restored", d=folder))
        args.file = real
    if not Path(args.file).expanduser().is_file():
        raise UserError(tr("备份文件不存在：{f}", "no such backup file: {f}", f=args.file))
    if not confirm(tr("将用 {f} 替换数据库 {db} 中的全部数据，确定吗？",
                      "This replaces every record in {db} with the backup {f}. Sure?",
                      f=args.file, db=db.redact(db.current_url() or "")), args.yes):
        print(tr("已取消", "cancelled"), file=sys.stderr)
        return 2
    restore(args.file)
    print(tr("已从 {f} 恢复", "restored from {f}", f=args.file), file=sys.stderr)
    return 0
