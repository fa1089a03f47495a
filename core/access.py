"""Identity, users and scopes (身份、用户与权限范围).

The user is the OS account of the effective uid — never an environment
variable — except on a city server (:mod:`core.server`): when the effective
account is the service account named by the system config
``/etc/dangjian/config.toml``, the user is ``SUDO_USER`` once
:func:`core.server.verified_sudo_user` has verified it against the sudo
process (anything unverifiable is refused, never taken on trust); without
``SUDO_USER`` (the service account's own crontab) the principal is
``system:<account>``: masked, read-only, allowed only ``backup``, ``check``
and ``report``.  The service account itself is never a user.  While the user
table is empty the database is in single-user mode and whoever runs it is
admin — except on a server, where only ``init`` and ``users add`` run.

A principal's scope is :meth:`Principal.scope_community_ids`; what a user sees
and writes — that scope narrowed to a town or community, reading and writing in
it, and how personal data are masked — is a :class:`core.view.View` built from
the principal.
"""
from __future__ import annotations

import os
import pwd
import time
from dataclasses import dataclass, field

from core import server
from core.errors import AccessDenied, UserError
from core.i18n import tr

ROLES = ("community", "street", "town", "city", "admin")
_SCOPE_TTL = 30.0  # seconds a computed scope is reused (new communities show up after this)


def os_login() -> str:
    """The login this process acts for (see module doc): the effective account, or on a
    server the verified ``SUDO_USER``, or ``system:<account>`` for the service account's
    own jobs.  Raises UserError when a sudo identity cannot be verified."""
    d = server.deployment()
    if not d.service:
        return server.effective_login()
    if os.environ.get("SUDO_USER"):
        return server.verified_sudo_user()
    return f"system:{d.account}"


@dataclass
class Principal:
    login: str
    role: str = "admin"  # community / street / town / city / admin
    scope: str = "city"  # community code / town name / town/street / city
    read_only: bool = False
    full_personal_data: bool = True
    single_user: bool = False
    system: bool = False     # the service account's own job (cron): not a user, masked, read-only
    bootstrap: bool = False  # a server whose user table is empty: only init and users add
    _ids: object = field(default=None, repr=False, compare=False)
    _ids_at: float = field(default=0.0, repr=False, compare=False)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def sees_everything(self) -> bool:
        return self.role in ("admin", "city") or (self.scope == "city" and self.role not in ("community",
                                                                                              "street", "town"))

    def scope_community_ids(self):
        """Community ids inside the scope (a frozenset), or None for the whole city."""
        if self.sees_everything:
            return None
        now = time.monotonic()
        if self._ids is not None and now - self._ids_at < _SCOPE_TTL:
            return self._ids
        from core.models import Community, Street, Town

        q = Community.select(Community.id)
        if self.role == "community":
            q = q.where(Community.code == self.scope)
        elif self.role == "street":
            town, _, street = self.scope.partition("/")
            q = q.join(Street, on=(Community.street == Street.id)).join(Town, on=(Street.town == Town.id)).where(
                (Town.name == town) & (Street.name == street))
        else:  # town
            q = q.join(Town, on=(Community.town == Town.id)).where(Town.name == self.scope)
        self._ids = frozenset(c.id for c in q)
        self._ids_at = now
        return self._ids

    def require_write(self):
        if self.read_only:
            raise AccessDenied(tr("只读用户不能修改记录", "read-only users cannot change records"))

    def require_admin(self, what: str = ""):
        if not self.is_admin:
            raise AccessDenied(tr("只有管理员可以{what}", "only an administrator may {what}", what=what))

    def describe(self) -> str:
        """One line for status bars and `dangjian users list`: who, role, scope, flags."""
        role = tr({"community": "社区", "street": "街道", "town": "区镇", "city": "市级", "admin": "管理员"}
                  .get(self.role, self.role), self.role)
        scope = tr("全市", "city") if self.scope == "city" else self.scope
        flags = []
        if self.read_only:
            flags.append(tr("只读", "read-only"))
        if self.single_user:
            flags.append(tr("单用户模式", "single-user mode"))
        return f"{self.login} · {role} · {scope}" + (f" · {'/'.join(flags)}" if flags else "")


_current: Principal | None = None


def resolve(login: str | None = None) -> Principal:
    """Look the login up in the user table (single-user mode while it is empty)."""
    from core.models import User

    d = server.deployment()
    if login is None:
        login = os_login()
        if d.service and login == f"system:{d.account}":
            return Principal(login, "admin", "city", read_only=True, full_personal_data=False, system=True)
    if d.account and login == d.account:
        raise AccessDenied(tr("服务账号 {a} 不是本系统的用户", "the service account {a} is never a user of this system",
                              a=login))
    if User.select().count() == 0:
        if d.service:  # no single-user mode on a server
            return Principal(login, "admin", "city", False, False, bootstrap=True)
        # single-user mode: admin, but personal data stay masked on screen and in outputs
        # until the user records themselves with --full-personal-data (the per-user full-personal-data flag)
        return Principal(login, "admin", "city", False, False, single_user=True)
    user = User.get_or_none(User.login == login)
    if user is None:
        raise AccessDenied(tr("账号 {login} 未登记为本系统用户，请联系管理员（dangjian users add）",
                              "account {login} is not a user of this system; ask an administrator "
                              "(dangjian users add)", login=login))
    return Principal(user.login, user.role, user.scope, user.read_only, user.full_personal_data)


def current() -> Principal:
    global _current
    if _current is None:
        _current = resolve()
    return _current


def set_current(principal: Principal | None) -> None:
    global _current
    _current = principal


def validate_scope(role: str, scope: str | None) -> str:
    """Check a role's scope against the data; returns the normalised scope or raises UserError.

    community: an existing community code; street: ``town/street`` existing;
    town: an existing town name; city and admin: ``city``.
    """
    from core.models import Community, Street, Town

    if role not in ROLES:
        raise UserError(tr("未知角色 {r}；可选：{a}", "unknown role {r}; choose from: {a}", r=role, a=", ".join(ROLES)))
    scope = (scope or "").strip() or "city"
    if role in ("city", "admin"):
        if scope not in ("city", "全市"):
            raise UserError(tr("角色 {r} 的范围只能是 city（全市）", "role {r} has the whole city as scope: use city",
                               r=role))
        return "city"
    if role == "community":
        if not Community.select().where(Community.code == scope).exists():
            raise UserError(tr("社区编码不存在：{s}", "no community with code {s}", s=scope))
        return scope
    if role == "street":
        town, sep, street = scope.partition("/")
        if not sep or not town or not street:
            raise UserError(tr("街道范围的写法是 区镇/街道：{s}", "a street scope is written town/street: {s}", s=scope))
        q = Street.select().join(Town).where((Town.name == town) & (Street.name == street))
        if not q.exists():
            raise UserError(tr("街道不存在：{s}", "no such street: {s}", s=scope))
        return scope
    # town
    if not Town.select().where(Town.name == scope).exists():
        raise UserError(tr("区镇不存在：{s}", "no such town: {s}", s=scope))
    return scope
