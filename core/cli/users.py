"""``dangjian users add/list/remove/set`` (admin only); how users are stored is :mod:`core.users`."""
from __future__ import annotations

import pwd
import sys

from core import access
from core.errors import UserError
from core.i18n import tr
from core.users import add, list_users, remove, set_


def _os_account_exists(login: str) -> bool:
    try:
        pwd.getpwnam(login)
        return True
    except KeyError:
        return False


def _yes_no(v: bool) -> str:
    return tr("是", "yes") if v else tr("否", "no")


def cmd_users(args) -> int:
    me = access.current()
    me.require_admin(tr("管理用户", "manage users"))
    sub = args.users_command
    if sub == "add":
        added = add(args.login, args.role, args.scope, args.read_only, args.full_personal_data)
        if len(added) > 1:
            print(tr("用户表原为空：已先将当前账号 {me} 登记为管理员", "the user table was empty: recorded the running "
                     "account {me} as administrator first", me=added[0]), file=sys.stderr)
        if not _os_account_exists(args.login):
            print(tr("提醒：本机没有系统账号 {l}（可稍后创建）", "note: there is no OS account {l} on this machine "
                     "(it may be created later)", l=args.login), file=sys.stderr)
        print(tr("已添加用户 {l}", "user {l} added", l=args.login), file=sys.stderr)
        return 0
    if sub == "remove":
        remove(args.login)
        print(tr("已删除用户 {l}", "user {l} removed", l=args.login), file=sys.stderr)
        return 0
    if sub == "set":
        if args.role is None and args.scope is None and args.read_only is None and args.full_personal_data is None:
            raise UserError(tr("没有要修改的内容（--role、--scope、--read-only/--writable、"
                               "--full-personal-data/--masked-personal-data）",
                               "nothing to change (--role, --scope, --read-only/--writable, "
                               "--full-personal-data/--masked-personal-data)"))
        set_(args.login, args.role, args.scope, args.read_only, args.full_personal_data)
        print(tr("已修改用户 {l}", "user {l} changed", l=args.login), file=sys.stderr)
        return 0
    # list
    from core.output import render

    users = list_users()
    headers = [tr("登录名", "login"), tr("角色", "role"), tr("范围", "scope"), tr("只读", "read-only"),
               tr("完整个人信息", "full personal data")]
    rows = [[u.login, u.role, u.scope, _yes_no(u.read_only), _yes_no(u.full_personal_data)] for u in users]
    records = [{"login": u.login, "role": u.role, "scope": u.scope, "read_only": u.read_only,
                "full_personal_data": u.full_personal_data} for u in users]
    render(headers, rows, args.format, title=tr("用户", "Users"), records=records)
    if me.single_user:
        print(tr("单用户模式：用户表为空，当前账号 {l} 视为管理员（dangjian users add 结束单用户模式）",
                 "single-user mode: the user table is empty and {l} counts as administrator "
                 "(dangjian users add ends it)", l=me.login), file=sys.stderr)
    else:
        print(tr("当前用户：{d}", "you are: {d}", d=me.describe()), file=sys.stderr)
    return 0
