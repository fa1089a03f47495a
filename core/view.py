"""A user's view of the data (用户视图): what a user may see and write, and how personal data show.

A :class:`View` is built once per command or screen from the principal (the user,
:mod:`core.access`) and an optional narrowing to a town and/or a community::

    view = View.of(principal, town="玉山镇")          # principal None: the current user

and passed explicitly to whatever reads or writes for that command or screen.  It is
the one home of

- **scope** — :attr:`View.community_ids` (a frozenset, or None for everything),
  :meth:`View.communities` (``CommunityRef`` list), :meth:`View.contains`;
- **reading in scope** — :meth:`View.scoped` limits a select of a model (by the paths
  from a record to its community, :func:`path_fields`, the same ones :mod:`core.records`
  writes by) or a query on a community-id column; :meth:`View.select`;
- **writing in scope** — :meth:`View.sees` tells :mod:`core.records` whether a referenced
  record is inside the view (a reference outside it is refused like an unknown one);
- **personal data** — :meth:`mask_id` (``320583********536*``: the birth date and the
  check character hidden), :meth:`mask_phone` (``138****5678``), :meth:`mask_text`
  (every ID number and mobile number inside a text), :meth:`mask_values` (a record's
  values), :meth:`born` (the birth date, or for a masked user the age reached in the
  year: year − birth year), :attr:`allows_id_prefix_search`;
- **ref** — :meth:`View.ref`: a stable opaque id of a record, an HMAC (keyed BLAKE2) of
  its table and natural key under a secret kept in the database, so subjects whose
  masked ID numbers coincide stay distinguishable without the row id leaking counts.

Everything masked is masked for users without full personal data
(``Principal.full_personal_data``); the masked forms themselves are
:func:`core.ids.mask` and :func:`core.ids.mask_phone`.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
from dataclasses import dataclass

import peewee

from core import ids, kinds
from core.errors import AccessDenied, UserError
from core.i18n import tr

# For tables that are no record kind: which foreign keys lead to the community, first
# non-empty one wins (a record kind declares its own path: core.kinds, ``community``).
_PATH_ORDER = ("community", "meeting", "organization", "member", "worker", "unit")

# Reference data every user may read: no community, nothing personal.
_GLOBAL_READABLE = ("UrbanWage", "EntryItem", "Town", "Street")

_ID_IN_TEXT = re.compile(r"(?<![0-9])\d{17}[0-9Xx](?![0-9A-Za-z])")
_PHONE_IN_TEXT = re.compile(r"(?<![0-9])1[3-9]\d{9}(?![0-9])")
_LONG_DIGITS = re.compile(r"\d{11}")
_ID_ALONE = re.compile(r"\d{17}[0-9Xx]")
_dumps = json.JSONEncoder(ensure_ascii=False, default=str, check_circular=False).encode

# the tables a finding's subject names, by the rule's ``subjects``
_SUBJECT_TABLES = {"member": "member", "worker": "worker", "organization": "organization",
                   "community": "community", "decision": "four_two_decision", "town": "town"}


@dataclass(frozen=True)
class CommunityRef:
    """A community of a view: id, code, name, its town's name and id."""
    id: int
    code: str
    name: str
    town: str
    town_id: int


# ---------------------------------------------------------------- paths to the community

@functools.lru_cache(maxsize=None)
def path_fields(model) -> tuple:
    """The foreign-key fields that lead from ``model`` to its community, in priority order."""
    from core.models import Community

    fks = {f.name: f for f in model._meta.sorted_fields if isinstance(f, peewee.ForeignKeyField)}
    kind = kinds.of_model(model)
    names = kind.community if kind is not None else tuple(n for n in _PATH_ORDER if n in fks)
    out = []
    for n in names:
        f = fks.get(n)
        if f is None or f.rel_model is model:
            continue
        if f.rel_model is Community or path_fields(f.rel_model):
            out.append(f)
    return tuple(out)


def scope_condition(model, community_ids, principal=None):
    """A peewee expression limiting ``model`` to the communities ``community_ids``, or None
    when ``model`` has no path to a community (then only whole-city views read it, and
    reference data everyone)."""
    from core.models import AuditLog, Community, Street, Town

    if community_ids is None:
        return None
    ids_ = sorted(community_ids)
    if model is Community:
        return Community.id.in_(ids_)
    if model is Town:
        return Town.id.in_(Community.select(Community.town).where(Community.id.in_(ids_)))
    if model is Street:
        return Street.id.in_(Community.select(Community.street).where(Community.id.in_(ids_)))
    if model is AuditLog:
        return AuditLog.community.in_(ids_)
    fields = path_fields(model)
    if not fields:
        if model.__name__ == "User" and principal is not None:
            return model.login == principal.login
        return None
    cond = None
    earlier_null = None
    for f in fields:
        if f.rel_model is Community:
            here = f.in_(ids_)
        else:
            target = f.rel_model
            here = f.in_(target.select(target._meta.primary_key).where(scope_condition(target, ids_, principal)))
        term = here if earlier_null is None else (earlier_null & here)
        cond = term if cond is None else (cond | term)
        earlier_null = f.is_null() if earlier_null is None else (earlier_null & f.is_null())
    return cond


# ---------------------------------------------------------------- the view

class View:
    """What one user sees and writes (see the module doc); build it with :meth:`of`."""

    def __init__(self, principal, community_ids, town: str | None = None, community: str | None = None):
        self.principal = principal
        self.community_ids = None if community_ids is None else frozenset(community_ids)
        self.town = town
        self.community = community
        self._refs: list | None = None
        self._key: bytes | None = None
        self._tables: dict = {}

    def __repr__(self) -> str:
        n = "all" if self.community_ids is None else len(self.community_ids)
        return f"View({getattr(self.principal, 'login', None)!r}, town={self.town!r}, " \
               f"community={self.community!r}, communities={n})"

    @classmethod
    def of(cls, principal=None, town: str | None = None, community: str | None = None) -> "View":
        """The view of ``principal`` (default: the current user) narrowed to ``town`` (a
        name) and ``community`` (a code).  An unknown town or community is a
        :class:`UserError` naming it; a narrowing outside the user's scope is refused."""
        from core import access
        from core.models import Community, Town

        principal = principal if principal is not None else access.current()
        allowed = principal.scope_community_ids()
        town = town or None
        community = community or None
        if town is None and community is None:
            return cls(principal, allowed)
        if town is not None and not Town.select().where(Town.name == town).exists():
            known = "、".join(t.name for t in Town.select(Town.name).order_by(Town.name).limit(30))
            raise UserError(tr("未知区镇：{t}（已有：{k}）", "unknown town: {t} (known: {k})", t=town, k=known or "-"))
        q = Community.select(Community.id)
        if community is not None:
            c = Community.get_or_none(Community.code == community)
            if c is None:
                raise UserError(tr("未知社区编码：{c}", "unknown community code: {c}", c=community))
            if town is not None and c.town.name != town:
                raise UserError(tr("社区 {c} 不属于区镇 {t}", "community {c} is not in town {t}", c=community, t=town))
            q = q.where(Community.id == c.id)
        else:
            q = q.join(Town, on=(Community.town == Town.id)).where(Town.name == town)
        found = {i for (i,) in q.tuples()}
        if allowed is not None:
            if community is not None and not found & allowed:
                raise AccessDenied(tr("社区 {c} 不在您的权限范围内", "community {c} is outside your scope", c=community))
            if community is None and found and not found & allowed:
                raise AccessDenied(tr("区镇 {t} 不在您的权限范围内", "town {t} is outside your scope", t=town))
            found &= allowed
        return cls(principal, found, town, community)

    # -------------------------------------------------------- scope

    @property
    def everything(self) -> bool:
        """The whole city, not narrowed."""
        return self.community_ids is None

    def part(self, community_ids) -> "View":
        """This view limited to some of its ``community_ids``: the same user, the same refs."""
        part = View(self.principal, [c for c in community_ids if self.contains(c)], self.town, self.community)
        part._key = self.ref_key()
        return part

    def contains(self, community_id) -> bool:
        """Whether the community (an id) lies inside the view."""
        return self.community_ids is None or community_id in self.community_ids

    def communities(self) -> list[CommunityRef]:
        """The view's communities, by town name and code (one query, kept)."""
        if self._refs is None:
            from core.models import Community, Town

            q = (Community.select(Community.id, Community.code, Community.name, Town.name.alias("town_name"),
                                  Town.id.alias("town_id"))
                 .join(Town, on=(Community.town == Town.id)))
            if self.community_ids is not None:
                q = q.where(Community.id.in_(sorted(self.community_ids)))
            self._refs = [CommunityRef(r.id, r.code, r.name, r.town_name, r.town_id)
                          for r in q.order_by(Town.name, Community.code).objects()]
        return list(self._refs)

    # -------------------------------------------------------- reading and writing in scope

    def scoped(self, query, model_or_field=None):
        """``query`` limited to the view.  ``model_or_field``: the model the query selects
        (default: the query's own model), limited along its paths to the community; or a
        column holding community ids.  Records of no community (city-level organizations)
        are read by whole-city views only; reference data (wages, entry items) by all."""
        if self.community_ids is None:
            return query
        if isinstance(model_or_field, peewee.Field):
            return query.where(model_or_field.in_(sorted(self.community_ids)))
        model = model_or_field or query.model
        cond = scope_condition(model, self.community_ids, self.principal)
        if cond is None:
            return query if model.__name__ in _GLOBAL_READABLE else query.where(peewee.SQL("1 = 0"))
        return query.where(cond)

    def select(self, model, *fields):
        """``model.select(*fields)`` limited to the view."""
        return self.scoped(model.select(*fields), model)

    def sees(self, model, pk) -> bool:
        """Whether the record ``pk`` of ``model`` exists inside the view (a write's reference)."""
        key = model._meta.primary_key
        return self.scoped(model.select(key).where(key == pk), model).exists()

    # -------------------------------------------------------- personal data

    @property
    def full_personal_data(self) -> bool:
        """The user may see full ID numbers, phones and birth dates."""
        return bool(getattr(self.principal, "full_personal_data", False))

    @property
    def allows_id_prefix_search(self) -> bool:
        """Searching by an ID-number prefix longer than the area code (only with full personal data)."""
        return self.full_personal_data

    def mask_id(self, number) -> str:
        """An ID number as this user may see it: ``320583********536*`` unless full personal data."""
        if not number:
            return ""
        return str(number) if self.full_personal_data else ids.mask(str(number))

    def mask_phone(self, phone) -> str:
        """A phone as this user may see it: ``138****5678`` unless full personal data."""
        if not phone:
            return ""
        return str(phone) if self.full_personal_data else ids.mask_phone(str(phone))

    def mask_text(self, text):
        """``text`` with every ID number and mobile number in it masked (unless full personal
        data); anything not a string is returned as it is."""
        if not isinstance(text, str) or len(text) < 11 or self.full_personal_data or not _LONG_DIGITS.search(text):
            return text  # both an ID number and a mobile number hold 11 digits in a row
        if len(text) == 18 and _ID_ALONE.fullmatch(text):  # a finding's subject: the number alone
            return ids.mask(text)
        text = _ID_IN_TEXT.sub(lambda m: ids.mask(m.group(0)), text)
        return _PHONE_IN_TEXT.sub(lambda m: ids.mask_phone(m.group(0)), text)

    def mask_json(self, value):
        """Every string inside ``value`` (dicts, lists) through :meth:`mask_text`."""
        if self.full_personal_data:
            return value
        if isinstance(value, (dict, list, tuple)):
            try:  # the common case, nothing to mask, decided in C: no 11 digits in a row anywhere
                if not _LONG_DIGITS.search(_dumps(value)):
                    return value
            except (TypeError, ValueError):
                pass
        return self._mask_json(value)

    def holding_personal(self, texts) -> list[bool]:
        """:meth:`may_hold_personal` for many texts (strings) at once."""
        if self.full_personal_data:
            return [False] * len(texts)
        search = _LONG_DIGITS.search
        return [search(t) is not None for t in texts]

    def mask_texts(self, texts) -> list:
        """:meth:`mask_text` for many texts at once (anything not a string stays as it is);
        a text seen before is masked once."""
        texts = list(texts)
        if self.full_personal_data:
            return texts
        holds = self.holding_personal([t if t.__class__ is str else "" for t in texts])
        if not any(holds):
            return texts
        done: dict = {}
        mask = self.mask_text
        out = []
        for t, h in zip(texts, holds):
            if h:
                got = done.get(t)
                if got is None:
                    got = done[t] = mask(t)
                t = got
            out.append(t)
        return out

    def may_hold_personal(self, text: str) -> bool:
        """Whether ``text`` (say, a value already encoded as JSON) may hold an ID number or a
        mobile number this user may not see: 11 digits in a row, without full personal data."""
        return not self.full_personal_data and bool(_LONG_DIGITS.search(text))

    def _mask_json(self, value):
        if value.__class__ is str:
            return value if len(value) < 11 else self.mask_text(value)
        if isinstance(value, dict):
            return {k: self._mask_json(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._mask_json(v) for v in value]
        return self.mask_text(value)

    def mask_values(self, values: dict | None, year: int | None = None) -> dict | None:
        """A record's values (field name → value) as this user may see them: ``id_number``
        and ``phone`` masked, ``birth_date`` replaced by the age reached in ``year`` (default:
        this year), other text through :meth:`mask_text`."""
        if not values or self.full_personal_data:
            return values
        out = {}
        for name, v in values.items():
            if name == "id_number":
                v = self.mask_id(v)
            elif name == "phone":
                v = self.mask_phone(v)
            elif name == "birth_date":
                v = self.born(v, year)
            else:
                v = self.mask_json(v)
            out[name] = v
        return out

    @staticmethod
    def age_in(birth, year: int) -> int:
        """The age reached in ``year``: year − birth year (it does not tick over on the birthday)."""
        return int(year) - birth.year

    def born(self, birth, year: int | None = None):
        """A birth date as this user may see it: the date itself with full personal data,
        else the age reached in ``year`` (default: this year) as an int.  None stays None."""
        if birth in (None, ""):
            return None
        if isinstance(birth, str):
            birth = dt.date.fromisoformat(birth[:10])
        if self.full_personal_data:
            return birth
        if year is None:
            from core.dates import today

            year = today().year
        return self.age_in(birth, year)

    # -------------------------------------------------------- ref

    def ref_key(self) -> bytes:
        """The secret :meth:`ref` hashes with, read once (a forked worker and a :meth:`part` share it)."""
        if self._key is None:
            self._key = ref_secret()
        return self._key

    def ref(self, table: str, *key) -> str:
        """A stable opaque id of the record of ``table`` with natural key ``key`` (12 hex digits)."""
        text = "\x1f".join([table, *("" if k is None else str(k) for k in key)])
        return hashlib.blake2b(text.encode("utf-8"), key=self._key or self.ref_key(), digest_size=6).hexdigest()

    def subject_table(self, rule_id: str) -> str:
        """The table a finding of rule ``rule_id`` names by its subject (``finding`` when unknown)."""
        if rule_id not in self._tables:
            from core import plugins

            variants = plugins.get().registry.rule_variants(rule_id) if rule_id else []
            subjects = variants[0].subjects if variants else None
            self._tables[rule_id] = _SUBJECT_TABLES.get(subjects, "finding")
        return self._tables[rule_id]

    def finding_ref(self, finding) -> str:
        """The ``ref`` of a finding's subject (its full, unmasked subject); a subject several
        rules speak of is hashed once."""
        return self.finding_refs((finding,))[0]

    def forget_finding_refs(self) -> None:
        """Let go of the refs :meth:`finding_refs` kept of the subjects it has seen (a province's
        million members: ~150 MB), once no more findings will ask for them."""
        self.__dict__.pop("_finding_refs", None)

    def finding_refs(self, findings) -> list[str]:
        """:meth:`finding_ref` of each of ``findings`` (the refs of the subjects seen are kept
        until :meth:`forget_finding_refs`)."""
        cache = self.__dict__.setdefault("_finding_refs", {})
        tables: dict = {}
        out = []
        for f in findings:
            rule = f.rule
            table = tables.get(rule)
            if table is None:
                table = tables[rule] = self.subject_table(rule)
            key = (table, f.subject)
            got = cache.get(key)
            if got is None:
                got = cache[key] = self.ref(*key)
            out.append(got)
        return out


def as_view(view) -> View:
    """The view a screen's query reads through: ``view`` itself when it is a :class:`View`;
    None — the current user's whole scope; a set of community ids (what the terminal app
    passes until it hands over its :class:`View`) — the current user's view narrowed to them."""
    if isinstance(view, View):
        return view
    mine = View.of()
    if view is None:
        return mine
    ids_ = frozenset(view)
    return View(mine.principal, ids_ if mine.community_ids is None else ids_ & mine.community_ids)


# ---------------------------------------------------------------- the secret behind ref

_SECRET_TABLE = "ref_secret"


def ref_secret() -> bytes:
    """The database's secret for :meth:`View.ref` (32 random bytes made by the schema step
    that created the table ``ref_secret``, so refs are the same in every run and after a backup)."""
    from core.db import database
    from core.errors import UserError

    row = (database.execute_sql(f'SELECT "secret" FROM "{_SECRET_TABLE}" WHERE "id" = 1').fetchone()
           if database.table_exists(_SECRET_TABLE) else None)
    if row is None:
        raise UserError(tr("数据库缺少标识密钥：请管理员运行 dangjian init 升级数据库",
                           "the database has no ref secret: an administrator must run dangjian init to upgrade it"))
    return bytes.fromhex(row[0])
