"""Users (用户管理, admin only): add, list, remove, set (the command
``dangjian users add/list/remove/set`` is :mod:`core.cli.users`).

A user record maps an OS login to a role (community, street, town, city,
admin), a scope (a community code; a town name; ``town/street``; ``city``),
read-only or not, and whether full ID numbers and phones may be shown.

Bootstrap: while the table is empty the database is in single-user mode.
``users add`` on an empty table first records the running account as admin,
so nobody is locked out; the last administrator can be neither removed nor
demoted.  Every change is written to the audit log (table ``user``).
"""
from __future__ import annotations

from core import access, audit
from core.db import write_tx
from core.errors import UserError
from core.i18n import tr

FIELDS = ("login", "role", "scope", "read_only", "full_personal_data")


def _values(u) -> dict:
    return {k: getattr(u, k) for k in FIELDS}


def _admins_other_than(login: str) -> int:
    from core.models import User

    return User.select().where((User.role == "admin") & (User.login != login)).count()


def add(login: str, role: str, scope: str | None = "city", read_only: bool = False,
        full_personal_data: bool = False) -> list[str]:
    """Add a user; on an empty table first the running account as admin.  Returns the logins added."""
    from core.models import User

    me = access.current()
    me.require_admin(tr("管理用户", "manage users"))
    login = (login or "").strip()
    if not login or any(c.isspace() for c in login) or ":" in login:
        raise UserError(tr("登录名不合法：{l}", "not a valid login: {l}", l=login))
    from core import server

    if login == server.deployment().account:
        raise UserError(tr("服务账号 {l} 不能登记为用户（它自己的定时任务以 system:{l} 运行）",
                           "the service account {l} is never a user (its own jobs run as system:{l})", l=login))
    added = []
    with write_tx():
        scope = access.validate_scope(role, scope)
        if User.select().where(User.login == login).exists():
            raise UserError(tr("用户 {l} 已存在（修改请用 dangjian users set）",
                               "user {l} exists already (use dangjian users set to change it)", l=login))
        if User.select().count() == 0:
            runner = me.login
            if runner == login:
                if role != "admin" or read_only:
                    raise UserError(tr("用户表为空时，您（{l}）必须先以可写的管理员登记，否则将无人能管理用户",
                                       "the user table is empty: you ({l}) must first be recorded as a writable "
                                       "admin, or nobody could manage users", l=login))
            else:
                u = User.create(login=runner, role="admin", scope="city", read_only=False, full_personal_data=False)
                audit.record("create", "user", u.id, None, _values(u), user=runner)
                added.append(runner)
        u = User.create(login=login, role=role, scope=scope, read_only=read_only,
                        full_personal_data=full_personal_data)
        audit.record("create", "user", u.id, None, _values(u), user=me.login)
        added.append(login)
    access.set_current(None)  # single-user mode has ended: resolve again next time
    return added


def remove(login: str) -> None:
    from core.models import User

    me = access.current()
    me.require_admin(tr("管理用户", "manage users"))
    with write_tx():
        u = User.get_or_none(User.login == login)
        if u is None:
            raise UserError(tr("没有用户 {l}", "no user {l}", l=login))
        if u.role == "admin" and _admins_other_than(login) == 0:
            raise UserError(tr("不能删除最后一个管理员 {l}", "cannot remove the last administrator {l}", l=login))
        old = _values(u)
        u.delete_instance()
        audit.record("delete", "user", u.id, old, None, user=me.login)
    access.set_current(None)


def set_(login: str, role: str | None = None, scope: str | None = None, read_only: bool | None = None,
         full_personal_data: bool | None = None) -> dict:
    """Change a user's role, scope or flags; returns the new values."""
    from core.models import User

    me = access.current()
    me.require_admin(tr("管理用户", "manage users"))
    with write_tx():
        u = User.get_or_none(User.login == login)
        if u is None:
            raise UserError(tr("没有用户 {l}", "no user {l}", l=login))
        old = _values(u)
        new_role = role or u.role
        if scope is None and role and role != u.role:
            scope = "city" if new_role in ("city", "admin") else None
            if scope is None:
                raise UserError(tr("改变角色时请同时给出 --scope", "give --scope together with a new --role"))
        new_scope = access.validate_scope(new_role, scope if scope is not None else u.scope)
        new_ro = u.read_only if read_only is None else read_only
        if u.role == "admin" and (new_role != "admin" or new_ro) and _admins_other_than(login) == 0:
            raise UserError(tr("不能降级最后一个管理员 {l}", "cannot demote the last administrator {l}", l=login))
        u.role, u.scope, u.read_only = new_role, new_scope, new_ro
        if full_personal_data is not None:
            u.full_personal_data = full_personal_data
        u.version = u.version + 1
        u.save()
        new = _values(u)
        changed = [k for k in FIELDS if old[k] != new[k]]
        if changed:
            audit.record("update", "user", u.id, {k: old[k] for k in changed}, {k: new[k] for k in changed},
                         user=me.login)
    access.set_current(None)
    return new


def list_users() -> list:
    from core.models import User

    access.current().require_admin(tr("管理用户", "manage users"))
    return list(User.select().order_by(User.login))
