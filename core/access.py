"""Identity, users and scopes (身份、用户与权限范围), SPEC §7.

The user is the OS account of the effective uid — never an environment
variable — except on a city server: when the effective account is the
configured service account and the process was started by sudo, the user is
``SUDO_USER``.  While the user table is empty the database is in single-user
mode and whoever runs it is admin.

Scope is enforced in core: queries go through :meth:`Principal.scope_communities`
/ :func:`scope_query`, writes through :func:`require_write`.
"""
from __future__ import annotations

import os
import pwd
from dataclasses import dataclass

from core.errors import AccessDenied
from core.i18n import tr


def os_login() -> str:
    """The OS account the user is (see module doc)."""
    login = pwd.getpwuid(os.geteuid()).pw_name
    try:
        from core import config

        service = config.get().get("service_account", "dangjian")
    except Exception:
        service = "dangjian"
    sudo_user = os.environ.get("SUDO_USER")
    if login == service and sudo_user and os.environ.get("SUDO_UID"):
        return sudo_user
    return login


@dataclass
class Principal:
    login: str
    role: str = "admin"  # community / street / town / city / admin
    scope: str = "city"  # community code / town name / town/street / city
    read_only: bool = False
    full_personal_data: bool = True
    single_user: bool = False

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def sees_everything(self) -> bool:
        return self.role in ("admin", "city") or self.scope == "city"

    def scope_community_ids(self):
        """Community ids inside the scope, or None for the whole city."""
        if self.sees_everything:
            return None
        from core.models import Community, Street, Town

        q = Community.select(Community.id)
        if self.role == "community":
            q = q.where(Community.code == self.scope)
        elif self.role == "street" and "/" in self.scope:
            town, street = self.scope.split("/", 1)
            q = q.join(Street).join(Town).where((Town.name == town) & (Street.name == street))
        else:  # town
            q = q.join(Town, on=(Community.town == Town.id)).where(Town.name == self.scope)
        return {c.id for c in q}

    def require_write(self):
        if self.read_only:
            raise AccessDenied(tr("只读用户不能修改记录", "read-only users cannot change records"))

    def require_admin(self, what: str = ""):
        if not self.is_admin:
            raise AccessDenied(tr("只有管理员可以{what}", "only an administrator may {what}", what=what))


_current: Principal | None = None


def resolve(login: str | None = None) -> Principal:
    """Look the login up in the user table (single-user mode while it is empty)."""
    from core.models import User

    login = login or os_login()
    if User.select().count() == 0:
        return Principal(login, "admin", "city", False, True, single_user=True)
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


def scope_query(query, community_field):
    """Limit ``query`` to the current user's scope on ``community_field``."""
    ids = current().scope_community_ids()
    if ids is None:
        return query
    return query.where(community_field.in_(list(ids)))
