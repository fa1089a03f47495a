"""The one write path (写入路径): every record written by the UI, the CLI and the importer.

Single records — :func:`create`, :func:`update` and :func:`delete` each run in one
:func:`core.db.write_tx` (``BEGIN IMMEDIATE`` on SQLite) and

- check the user's view (:class:`core.view.View`, default: the current user's whole
  scope): not read-only, the record's community inside the view (before *and* after an
  update, so a record cannot be moved out of — or into — someone else's community),
  and every record it refers to inside the view — a reference outside it is refused
  exactly like a reference to nothing (:func:`not_found`);
  the record kinds (:mod:`core.kinds`) say which kinds only an administrator
  writes (and towns and streets are admin-only), and records with no
  community at all (entry items, city-level organizations) need a whole-city
  scope;
- validate: types and lengths (``max_length`` is enforced here on every
  backend, NUL characters refused), ``core.validators.validate_record`` (which
  asks every plugin's ``dangjian_validate_record`` too);
- lock optimistically: ``UPDATE … SET version = version + 1 WHERE id = ? AND
  version = ?``; when no row matches, :class:`core.errors.StaleEdit` carries
  both the values the user tried to write (``mine``) and the current ones
  (``theirs``) — nothing is overwritten silently;
- write one audit row (:mod:`core.audit`) in the same transaction; an
  organization that moves to another community takes its members along.

A form's record of any kind — :func:`save` parses, validates, resolves the
references in scope, derives fields and writes (posts of a worker with their
history) in one transaction; :func:`delete_record` deletes one.
Several writes in one transaction — :func:`write_all`, and
:func:`save_attendance` for a meeting's attendance.

Blocks (the importer) — the same derived values and audit rows, set-based:
:func:`derive` (pinyin initials, sex and birth date from the ID number, the
organization's community, defaults: the one home of every derived value),
:func:`post_changes` / :func:`open_posts` / :func:`apply_posts` (worker
posts), :func:`follow_org_community`, :func:`insert_audit_rows`.

Reading in scope: :func:`select` and :func:`get` read through a view
(:meth:`core.view.View.scoped`); :func:`community_of` tells which community a
record belongs to (along :func:`core.view.path_fields`).

SQLite may still say "database is locked" in rare cases even with a busy
timeout (e.g. a checkpoint racing a writer); every write here is retried a
few times with back-off before the error reaches the user
(:func:`with_retry`, usable by other write paths).
"""
from __future__ import annotations

import datetime as dt
import decimal
import functools
import random
import time
from dataclasses import dataclass, field as dc_field
from typing import Any, Callable

import peewee

from core import audit, kinds, roster
from core.pinyin import initials as _pinyin_initials  # light: the character table loads at first use
from core.view import View, path_fields
from core.db import database, write_tx
from core.errors import AccessDenied, StaleEdit, UserError
from core.i18n import tr

# Tables that are no record kind and that only an administrator changes (the record kinds
# say who writes them: core.kinds, ``writers``).
ADMIN_TABLES = ("Town", "Street")
# Never written through this module.
NOT_EDITABLE = ("User", "AuditLog", "SchemaVersion", "CheckRun", "StoredFinding", "StoredCount")

NO_COMMUNITY = None

# References to a place, checked as the record's own community (:func:`_check_scope`).
_PLACES = ("Community", "Town", "Street")


class RecordInvalid(UserError):
    """The record breaks a rule of its own (bad value, plugin validation); ``errors`` lists them."""

    def __init__(self, errors: list):
        super().__init__("; ".join(e if isinstance(e, str) else f"{e[0]}: {e[1]}" for e in errors))
        self.errors = errors


class NotFound(UserError):
    """The record does not exist (or was deleted by someone else)."""


# ---------------------------------------------------------------- paths to the community

def _model_name(model) -> str:
    return model.__name__


def _fk_id(value):
    if value is None:
        return None
    if isinstance(value, peewee.Model):
        return value.get_id()
    return value


def community_of(model, values: dict) -> int | None:
    """Community id of a record given its field values (FK values as ids or instances), or None."""
    from core.models import Community

    if model is Community:
        return values.get("id")
    for f in path_fields(model):
        target = _fk_id(values.get(f.name))
        if target is None:
            continue
        if f.rel_model is Community:
            return target
        row = f.rel_model.select().where(f.rel_model._meta.primary_key == target).dicts().first()
        if row is None:
            return None
        return community_of(f.rel_model, row)
    return NO_COMMUNITY


def select(model, *fields, view: View | None = None):
    """``model.select(*fields)`` limited to ``view`` (default: the current user's whole scope)."""
    return (view or View.of()).select(model, *fields)


def get(model, id, view: View | None = None) -> Any:
    """One record by id inside ``view`` (default: the current user's whole scope); :class:`NotFound` otherwise."""
    obj = select(model, view=view).where(model._meta.primary_key == id).first()
    if obj is None:
        raise NotFound(tr("记录不存在或不在您的权限范围内：{t} {id}", "no such record in your scope: {t} {id}",
                          t=model._meta.table_name, id=id))
    return obj


# ---------------------------------------------------------------- checks

def _check_scope(model, community_id, view: View) -> None:
    name = _model_name(model)
    if name in NOT_EDITABLE:
        raise AccessDenied(tr("{t} 不能在这里修改", "{t} cannot be changed here", t=model._meta.table_name))
    kind = kinds.of_model(model)
    if name in ADMIN_TABLES or (kind is not None and kind.admin_only):
        view.principal.require_admin(tr("修改{t}", "change {t}", t=model._meta.table_name))
        return
    if view.everything:
        return
    if community_id is None:
        raise AccessDenied(tr("该记录不属于任何社区，只有全市范围的用户可以修改",
                              "this record belongs to no community; only whole-city users may change it"))
    if not view.contains(community_id):
        raise AccessDenied(tr("该记录不在您的权限范围（{scope}）内", "this record is outside your scope ({scope})",
                              scope=view.principal.scope))


def not_found(value) -> str:
    """What a reference that names nothing the user may see says — an unknown record and a
    record outside the user's view alike, so the answer tells nothing about the other."""
    return tr("未找到或不在您的权限范围内：{v}", "not found or outside your scope: {v}", v=value)


def _check_refs(model, values: dict, view: View) -> None:
    """Refuse a reference (a foreign key in ``values``) to a record outside ``view`` — a
    member, a worker, an organization, a meeting … — exactly like a reference to a record
    that does not exist.  The record's own community (and town, street) is checked by
    :func:`_check_scope`: community codes are no secret, so that refusal names the scope."""
    errors = []
    for name, v in values.items():
        f = model._meta.fields.get(name)
        if v is None or not isinstance(f, peewee.ForeignKeyField) or f.rel_model.__name__ in _PLACES:
            continue
        if not view.sees(f.rel_model, _fk_id(v)):
            errors.append((name, not_found(_fk_id(v))))
    if errors:
        raise RecordInvalid(errors)


def _coerce(model, name: str, value):
    """Check one field value: known field, length, NUL; returns the value to write."""
    field = model._meta.fields.get(name)
    if field is None or name in ("id", "version"):
        raise RecordInvalid([tr("未知字段 {f}", "unknown field {f}", f=name)])
    if isinstance(value, peewee.Model):
        value = value.get_id()
    if value is None:
        if not field.null and field.default is None and not isinstance(field, peewee.AutoField):
            raise RecordInvalid([tr("{f} 不能为空", "{f} must not be empty", f=name)])
        return None
    if isinstance(value, str):
        if "\x00" in value:
            raise RecordInvalid([tr("{f} 含有非法字符（NUL）", "{f} contains a NUL character", f=name)])
        max_len = getattr(field, "max_length", None)
        if isinstance(field, peewee.CharField) and max_len and len(value) > max_len:
            raise RecordInvalid([tr("{f} 超过 {n} 个字符", "{f} is longer than {n} characters", f=name, n=max_len)])
    if isinstance(field, peewee.DateField) and isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            raise RecordInvalid([tr("{f} 日期格式应为 YYYY-MM-DD：{v}", "{f} must be a date YYYY-MM-DD: {v}",
                                    f=name, v=value)]) from None
    if isinstance(field, peewee.DecimalField) and not isinstance(value, decimal.Decimal):
        try:
            value = decimal.Decimal(str(value))
        except decimal.InvalidOperation:
            raise RecordInvalid([tr("{f} 应为数字：{v}", "{f} must be a number: {v}", f=name, v=value)]) from None
    if isinstance(field, peewee.IntegerField) and not isinstance(field, peewee.ForeignKeyField) \
            and not isinstance(value, int):
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise RecordInvalid([tr("{f} 应为整数：{v}", "{f} must be a whole number: {v}", f=name, v=value)]) from None
    return value


def _clean(model, data: dict) -> dict:
    return {k: _coerce(model, k, v) for k, v in data.items()}


def validate(model, record: dict) -> list[str]:
    """Errors from ``core.validators.validate_record`` (which asks the plugins too), else the plugins' hook."""
    from core import validators  # it calls the plugins' hook itself

    kind = kinds.of_model(model)
    errors = [str(e) for e in validators.validate_record(kind.name if kind else model._meta.table_name, dict(record))]
    if model.__name__ == "Meeting" and record.get("organization") and record.get("type"):
        from core.models import Organization

        org = Organization.get_or_none(Organization.id == _fk_id(record["organization"]))
        why = validators.meeting_misfit(record["type"], org.kind) if org is not None else None
        if why:
            errors.append(why)
    return errors


def _history_refusal(old: dict, changed: list, merged: dict) -> str | None:
    """Why an edit of a member may not change the organization or the class in place (they are
    dated moves: a transfer, a class change); None when it may (placing an unplaced 流入党员)."""
    if "organization" in changed and old.get("organization") is not None:
        return tr("所在党组织的变动须作为组织关系转接（transfers）登记，不能直接修改",
                  "a change of organization is a transfer (transfers), not an edit")
    if "management_class" in changed:
        return tr("党员类别的变动须作为党员类别变更（class_changes）登记，不能直接修改",
                  "a change of member class is a class change (class_changes), not an edit")
    if "organization" in changed and merged.get("organization") is not None and not merged.get("placed_date"):
        return tr("编入党组织须填编入日期", "placing a member into an organization needs the placed date")
    return None


def _class_base(model, member_id) -> str | None:
    """Before a write of a class change: the member's class before the earliest change."""
    from core.models import ClassChange, Member

    if model is not ClassChange or member_id is None:
        return None
    first = (ClassChange.select(ClassChange.old_class).where(ClassChange.member == member_id)
             .order_by(ClassChange.date).first())
    if first is not None and first.old_class:
        return first.old_class
    m = Member.get_or_none(Member.id == member_id)
    return m.management_class if m is not None else None


def _chain_classes(member_id, base, login: str) -> None:
    """After a write of a class change: each change's old class is the class the one before it set
    (the first's is ``base``), and the member's class is the latest change's (audited)."""
    from core.models import ClassChange, Member

    if member_id is None or base is None:
        return
    prev = base
    for c in ClassChange.select().where(ClassChange.member == member_id).order_by(ClassChange.date):
        if c.old_class != prev:
            ClassChange.update(old_class=prev).where(ClassChange.id == c.id).execute()
        prev = c.new_class
    m = Member.get_or_none(Member.id == member_id)
    if m is not None and m.management_class != prev:
        Member.update(management_class=prev, version=Member.version + 1).where(Member.id == member_id).execute()
        audit.record("update", Member._meta.table_name, member_id, {"management_class": m.management_class},
                     {"management_class": prev}, community=m.community_id, user=login)


def _row(model, id) -> dict | None:
    return model.select().where(model._meta.primary_key == id).dicts().first()


# ---------------------------------------------------------------- retry

def _is_busy(exc: Exception) -> bool:
    text = str(exc).lower()
    if "database is locked" in text or "database is busy" in text or "database table is locked" in text:
        return True
    code = getattr(getattr(exc, "orig", None) or exc, "pgcode", None)
    return code in ("40001", "40P01")  # serialization failure, deadlock detected


def with_retry(fn: Callable[[], Any], attempts: int = 8, first_wait: float = 0.05):
    """Run ``fn`` (which opens its own write transaction); retry when the database says busy.

    Inside an enclosing transaction there is nothing to retry: the error is raised.
    """
    for attempt in range(attempts):
        try:
            return fn()
        except (peewee.OperationalError, peewee.InternalError) as exc:
            if database.in_transaction() or not _is_busy(exc) or attempt == attempts - 1:
                if _is_busy(exc):
                    raise UserError(tr("数据库繁忙，请稍后重试", "the database is busy; please try again")) from exc
                raise
            time.sleep(first_wait * (2 ** attempt) * (0.5 + random.random()))
    raise AssertionError("unreachable")


# ---------------------------------------------------------------- writes

def _integrity(exc: Exception, model) -> UserError:
    return UserError(tr("与已有记录冲突（重复的编号或引用不存在）：{t}：{e}",
                        "conflicts with an existing record (duplicate key or missing reference): {t}: {e}",
                        t=model._meta.table_name, e=str(exc).splitlines()[0] if str(exc) else type(exc).__name__))


class _Conflict(Exception):
    """The row changed between our read and our write (caught and turned into StaleEdit)."""


def _audit_values(model, values: dict) -> dict:
    out = {}
    for name, v in values.items():
        f = model._meta.fields.get(name)
        if isinstance(f, peewee.DecimalField) and v is not None:
            v = f.db_value(v)
        out[name] = v
    return out


def _replay(model, id, *rows, login: str = "") -> None:
    """The roster's stored spans follow a write of a member, a transfer or a class change."""
    from core.models import ClassChange, Member, Transfer

    if model is Member:
        ids = [id]
    elif model in (Transfer, ClassChange):
        ids = [_fk_id(r.get("member")) for r in rows if r]
    else:
        return
    ids = [i for i in ids if i is not None]
    if model is Transfer:  # the member's state today follows the latest transfer, as an import's does
        entries: list = []
        apply_transfers(ids, entries)
        audit.record_many(entries, user=login)
    roster.rebuild(ids)


def create(model, data: dict, view: View | None = None):
    """Insert one record in ``view`` (default: the current user's whole scope), validated
    and audited; returns the new instance.

    Everything that only reads (scope, references, validation) happens before the write
    transaction, which holds the write lock for two statements: the INSERT and
    its audit row.
    """
    view = view or View.of()
    principal = view.principal
    principal.require_write()
    values = _clean(model, data)
    _check_refs(model, values, view)
    community = community_of(model, values)
    _check_scope(model, community, view)
    full = {}
    for f in model._meta.sorted_fields:
        if f.name == "id":
            continue
        full[f.name] = f.default() if callable(f.default) else f.default
    full.update(values)
    errors = validate(model, full)
    if model.__name__ == "Transfer":
        errors += [msg for _f, msg in transfer_org_errors(full, view)]
    if errors:
        raise RecordInvalid(errors)
    if "version" not in values:
        values = dict(values, version=1)

    def run():
        with write_tx():
            base = _class_base(model, _fk_id(values.get("member")))
            try:
                with database.atomic():  # savepoint: a constraint error leaves the transaction usable
                    new_id = model.insert(**values).execute()
            except peewee.IntegrityError as exc:
                raise _integrity(exc, model) from None
            full["id"] = new_id
            audit.record("create", model._meta.table_name, new_id, None, _audit_values(model, full),
                         community=new_id if model.__name__ == "Community" else community, user=principal.login)
            _chain_classes(_fk_id(values.get("member")), base, principal.login)
            _replay(model, new_id, full, login=principal.login)
            return new_id

    new_id = with_retry(run)
    return model.get_by_id(new_id)


def _plain(row: dict | None) -> dict | None:
    if row is None:
        return None
    return {k: v for k, v in row.items()}


def _same(a, b) -> bool:
    if isinstance(a, decimal.Decimal) or isinstance(b, decimal.Decimal):
        try:
            return decimal.Decimal(str(a)) == decimal.Decimal(str(b))
        except decimal.InvalidOperation:
            return False
    if isinstance(a, dt.date) and isinstance(b, str) or isinstance(b, dt.date) and isinstance(a, str):
        return str(a) == str(b)
    return a == b


def _show(value) -> str:
    return tr("（空）", "(empty)") if value is None else str(audit._default(value) if not isinstance(value, (str, int)) else value)


def _stale(model, id, mine: dict, current: dict | None, version: int, view: View | None = None) -> UserError:
    """The edit-conflict error: both sides' values as ``view`` may see them (ID numbers, phones
    and birth dates masked unless the user has full personal data)."""
    view = view or View.of()
    mine = view.mask_values(dict(mine)) or {}
    if current is not None:
        current = view.mask_values(dict(current))
    if current is None:
        return NotFound(tr("记录已被他人删除：{t} {id}", "the record was deleted by someone else: {t} {id}",
                           t=model._meta.table_name, id=id))
    theirs = {k: current.get(k) for k in mine}
    theirs["version"] = current.get("version")
    diffs = "; ".join(f"{k}: {_show(mine[k])} / {_show(current.get(k))}" for k in mine)
    msg = tr("记录已被他人修改（您读取的是第 {v} 版，现为第 {cv} 版），未保存。您的值 / 当前值：{d}",
             "the record was changed by someone else (you read version {v}, it is now {cv}); nothing saved. "
             "yours / current: {d}", v=version, cv=current.get("version"), d=diffs)
    return StaleEdit(msg, mine=dict(mine), theirs=theirs)


def update(model, id, changes: dict, version: int, view: View | None = None):
    """Change fields of one record read at ``version``; :class:`StaleEdit` if it changed since.

    Returns the updated instance (its ``version`` is one higher).  Changing
    nothing (all values equal) writes nothing, after checking the version.
    The checks read the row at ``version``; the write transaction then holds
    the write lock only for ``UPDATE … WHERE id = ? AND version = ?`` and the
    audit row — if the row moved on in between, the UPDATE matches nothing and
    the edit is stale.
    """
    view = view or View.of()
    principal = view.principal
    principal.require_write()
    values = _clean(model, changes)
    old = _row(model, id)
    if old is None:
        raise _stale(model, id, values, None, version, view)
    _check_scope(model, community_of(model, old), view)
    _check_refs(model, {k: v for k, v in values.items() if not _same(old.get(k), _fk_id(v))}, view)
    merged = dict(old)
    merged.update(values)
    new_community = id if model.__name__ == "Community" else community_of(model, merged)
    _check_scope(model, new_community, view)
    if old["version"] != version:
        raise _stale(model, id, values, old, version, view)
    changed = [k for k in values if not _same(old.get(k), values[k])]
    if not changed:
        return model.get_by_id(id)
    errors = validate(model, merged)
    if model.__name__ == "Transfer":
        errors += [msg for _f, msg in transfer_org_errors(merged, view)]
    if model.__name__ == "Member":
        why = _history_refusal(old, changed, merged)
        if why:
            errors.append(why)
    if errors:
        raise RecordInvalid(errors)
    pk = model._meta.primary_key
    sets = {k: values[k] for k in changed}

    def run():
        with write_tx():
            base = _class_base(model, _fk_id(old.get("member")))
            q = model.update(**sets, version=model.version + 1).where((pk == id) & (model.version == version))
            try:
                with database.atomic():
                    n = q.execute()
            except peewee.IntegrityError as exc:
                raise _integrity(exc, model) from None
            if n == 0:
                raise _Conflict()
            audit.record("update", model._meta.table_name, id, {k: old.get(k) for k in changed},
                         _audit_values(model, sets), community=new_community, user=principal.login)
            _chain_classes(_fk_id(merged.get("member")), base, principal.login)
            _replay(model, id, merged, old, login=principal.login)
            if model.__name__ == "Organization" and "community" in changed:  # its members follow it
                entries: list = []
                follow_org_community({id: _fk_id(sets["community"])}, entries)
                audit.record_many(entries, user=principal.login)

    try:
        with_retry(run)
    except _Conflict:
        raise _stale(model, id, values, _row(model, id), version, view) from None
    return model.get_by_id(id)


def delete(model, id, version: int, view: View | None = None) -> None:
    """Delete one record read at ``version``; :class:`StaleEdit` if it changed since."""
    view = view or View.of()
    principal = view.principal
    principal.require_write()
    old = _row(model, id)
    if old is None:
        raise _stale(model, id, {}, None, version, view)
    community = id if model.__name__ == "Community" else community_of(model, old)
    _check_scope(model, community, view)
    if old["version"] != version:
        raise _stale(model, id, {}, old, version, view)
    pk = model._meta.primary_key

    def run():
        with write_tx():
            base = _class_base(model, _fk_id(old.get("member")))
            try:
                with database.atomic():
                    n = model.delete().where((pk == id) & (model.version == version)).execute()
            except peewee.IntegrityError as exc:
                raise UserError(tr("还有其他记录引用它，不能删除：{t} {id}",
                                   "other records still refer to it; cannot delete: {t} {id}",
                                   t=model._meta.table_name, id=id)) from exc
            if n == 0:
                raise _Conflict()
            audit.record("delete", model._meta.table_name, id, _plain(old), None, community=community,
                         user=principal.login)
            _chain_classes(_fk_id(old.get("member")), base, principal.login)
            _replay(model, id, old, login=principal.login)

    try:
        with_retry(run)
    except _Conflict:
        raise _stale(model, id, {}, _row(model, id), version, view) from None


def history(model, id) -> list[dict]:
    """The audit history of one record (oldest first); rows outside the user's scope are left out."""
    return audit.history(model, id)


# ---------------------------------------------------------------- derived fields (one home)

@functools.lru_cache(maxsize=1 << 16)
def initials_of(name: str) -> str:
    """The pinyin initials of a name (张伟 → zw), stored beside it for search; names repeat a lot."""
    return _pinyin_initials(name)


def derived_fields(kind) -> tuple:
    """The model fields :func:`derive` may set for ``kind``."""
    names = kind.model._meta.fields
    out = []
    if "initials" in names and "name" in names:
        out.append("initials")
    if "id_number" in names and "sex" in names:
        out += ["sex", "birth_date"] if "birth_date" in names else ["sex"]
    if "community" in names and "organization" in names:
        out.append("community")
    return tuple(out)


def _defaults(model) -> list[tuple[str, Any]]:
    out = []
    for name, f in model._meta.fields.items():
        if not f.null and f.default is not None and name not in ("id", "version"):
            out.append((name, f.default() if callable(f.default) else f.default))
    return out


def derive(kind, rows: list[dict], org_community: dict | None = None) -> None:
    """Fill the derived fields of a block of model values (references as ids), in place.

    The one home of every derived value, for a single record (the forms) and for a
    block of thousands (the importer): pinyin initials from the name; sex and birth
    date from the ID number where not given; the community of the organization where
    the record names an organization but no community (``org_community``: {org id:
    community id} when the caller has it, else one query for the block); an empty
    value of a field that cannot be empty takes the model's default (a boolean left
    unanswered, a visit's demand).
    """
    from core import ids
    from core.models import Organization

    if not rows:
        return
    derived = derived_fields(kind)
    if "initials" in derived:
        for r in rows:
            name = r.get("name")
            if name is not None:
                r["initials"] = initials_of(name)
    if "sex" in derived:
        birth = "birth_date" in derived
        for r in rows:
            idn = r.get("id_number")
            if idn:
                if r.get("sex") is None:
                    r["sex"] = ids.sex(idn)
                if birth and r.get("birth_date") is None:
                    r["birth_date"] = ids.birth_date(idn)
    if "community" in derived:
        need = [r for r in rows if r.get("community") is None and r.get("organization") is not None]
        if need:
            if org_community is None:
                oids = list({_fk_id(r["organization"]) for r in need})
                org_community = {}
                for i in range(0, len(oids), 500):
                    org_community.update(Organization.select(Organization.id, Organization.community)
                                         .where(Organization.id.in_(oids[i:i + 500])).tuples())
            for r in need:
                r["community"] = org_community.get(_fk_id(r["organization"]))
    defaults = _defaults(kind.model)
    for r in rows:
        for name, default in defaults:
            if r.get(name, 0) is None:
                r[name] = default


# ---------------------------------------------------------------- worker posts (history kept)

def post_changes(current: dict, new: list, start: dt.date | None):
    """What making ``new`` (post codes) a worker's current posts from ``start`` changes.

    ``current`` {post: start date} of the posts held now.  Returns ``(ops, error)``:
    ``ops`` None when nothing changes, else {"end": [(post, date)], "add": [(post, date)],
    "move": [(post, date)], "old": …, "new": …} — posts no longer held end on ``start``,
    new ones begin then, the same posts with another date move their start (a
    correction); ``old``/``new`` are what the worker's audit row says.  ``error`` is a
    ``(field, message)`` when ``start`` lies before a post that would end.
    """
    from core import enums
    from core.dates import today
    from core.i18n import get_lang

    new = list(new or [])
    latest = max(current.values()) if current else None
    if set(new) == set(current) and (not new or latest == start):
        return None, None
    if not new and not current:
        return None, None
    when = start or today()
    ops = {"end": [], "add": [], "move": []}
    if set(new) == set(current):
        for p, s in current.items():
            if s == latest:
                ops["move"].append((p, when))
    else:
        for p, s in current.items():
            if p not in new:
                if when < s:
                    return None, ("post_date", tr("早于原职务“{p}”的开始日期 {s}", "before the start {s} of the current "
                                                 "post {p}", p=enums.POST.label(p, get_lang()), s=s.isoformat()))
                ops["end"].append((p, when))
        for p in new:
            if p not in current:
                ops["add"].append((p, when))
    ops["old"] = {"posts": sorted(current), "post_date": latest.isoformat() if latest else None}
    ops["new"] = {"posts": new, "post_date": start.isoformat() if start else None}
    return ops, None


def open_posts(worker_ids) -> dict[int, dict]:
    """{worker id: {post: start date}} of the posts the workers hold now (set-based)."""
    from core.models import WorkerPost

    out: dict[int, dict] = {}
    wids = list(worker_ids)
    for i in range(0, len(wids), 500):
        q = (WorkerPost.select(WorkerPost.worker, WorkerPost.post, WorkerPost.start_date)
             .where(WorkerPost.worker.in_(wids[i:i + 500]) & WorkerPost.end_date.is_null()).tuples())
        for w, p, s in q:
            out.setdefault(w, {})[p] = s
    return out


def apply_posts(changes) -> None:
    """Write ``[(worker id, ops)]`` (ops from :func:`post_changes`) for a whole block: three
    ``executemany``; the worker's own audit row says what changed (``ops["old"]``/``["new"]``)."""
    from core.db import executemany
    from core.models import WorkerPost

    t = '"' + WorkerPost._meta.table_name + '"'
    ends, adds, moves = [], [], []
    for wid, ops in changes:
        ends += [(when, wid, p) for p, when in ops["end"]]
        adds += [(1, wid, p, when, None) for p, when in ops["add"]]
        moves += [(when, wid, p) for p, when in ops["move"]]
    executemany(f'UPDATE {t} SET "end_date" = ?, "version" = "version" + 1 '
                f'WHERE "worker_id" = ? AND "post" = ? AND "end_date" IS NULL', ends)
    executemany(f'UPDATE {t} SET "start_date" = ?, "version" = "version" + 1 '
                f'WHERE "worker_id" = ? AND "post" = ? AND "end_date" IS NULL', moves)
    executemany(f'INSERT INTO {t} ("version", "worker_id", "post", "start_date", "end_date") '
                f'VALUES (?, ?, ?, ?, ?)', adds)


# ---------------------------------------------------------------- members follow their organization

def follow_org_community(moved: dict, entries: list) -> None:
    """Members of the organizations in ``moved`` ({org id: new community id}) move to that
    community; one audit entry per member changed is appended to ``entries`` (set-based)."""
    from core.db import executemany
    from core.models import Member

    oids = [o for o, c in moved.items() if c is not None]
    changes = []
    for i in range(0, len(oids), 500):
        q = (Member.select(Member.id, Member.organization, Member.community)
             .where(Member.organization.in_(oids[i:i + 500])).tuples())
        for mid, oid, old in q:
            if old != moved[oid]:
                changes.append((moved[oid], mid))
                entries.append(audit.Entry("update", Member._meta.table_name, mid, {"community": old},
                                           {"community": moved[oid]}, moved[oid]))
    executemany('UPDATE "member" SET "community_id" = ?, "version" = "version" + 1 WHERE "id" = ?', changes)
    # every span in these organizations, past ones included, now lies in the new community
    from core.models import RosterPeriod as P

    touched = set()
    for i in range(0, len(oids), 500):
        touched.update(m for (m,) in P.select(P.member).where(P.organization.in_(oids[i:i + 500])).tuples())
    roster.rebuild(touched)


def apply_transfers(member_ids, entries: list) -> None:
    """Each member's latest transfer decides the member's state today: 转出 takes the member off
    the roster from its date; 转入 and 市内转移 put the member in the new organization (and its
    community).  One audit entry per member changed is appended to ``entries``; the roster spans
    are the caller's to rebuild (set-based: one UPDATE for the block)."""
    from core.db import executemany
    from core.models import Member, Organization, Transfer

    mids = sorted({m for m in member_ids if m is not None})
    if not mids:
        return
    latest = {}
    for i in range(0, len(mids), 500):
        q = (Transfer.select(Transfer.member, Transfer.direction, Transfer.to_org, Transfer.date)
             .where(Transfer.member.in_(mids[i:i + 500])).order_by(Transfer.date).tuples())
        for mid, direction, to_org, date in q:
            latest[mid] = (direction, to_org, date)
    codes = sorted({t for d, t, _x in latest.values() if d != "out" and t})
    orgs = {}
    for i in range(0, len(codes), 500):
        orgs.update((c, (o, comm)) for o, c, comm in Organization.select(
            Organization.id, Organization.code, Organization.community).where(
            Organization.code.in_(codes[i:i + 500])).tuples())
    fields = ["organization", "community", "active", "left_date"]
    olds = {}
    for i in range(0, len(mids), 500):
        for row in Member.select(Member.id, *[getattr(Member, f) for f in fields]).where(
                Member.id.in_(mids[i:i + 500])).tuples():
            olds[row[0]] = dict(zip(fields, row[1:]))
    changes = []
    for mid, (direction, to_org, date) in latest.items():
        old = olds.get(mid)
        if old is None:
            continue
        new = dict(old)
        if direction == "out":
            new["active"], new["left_date"] = False, date
        else:
            hit = orgs.get(to_org)
            if hit:
                new["organization"] = hit[0]
                if hit[1] is not None:
                    new["community"] = hit[1]
            new["active"], new["left_date"] = True, None
        diff = [k for k in fields if not _same(old[k], new[k])]
        if diff:
            changes.append((mid, new))
            entries.append(audit.Entry("update", Member._meta.table_name, mid,
                                       {k: audit._default(old[k]) if old[k] is not None and not isinstance(
                                           old[k], (str, int, bool)) else old[k] for k in diff},
                                       {k: audit._default(new[k]) if new[k] is not None and not isinstance(
                                           new[k], (str, int, bool)) else new[k] for k in diff},
                                       new["community"]))
    executemany('UPDATE "member" SET "organization_id" = ?, "community_id" = ?, "active" = ?, '
                '"left_date" = ?, "version" = "version" + 1 WHERE "id" = ?',
                [(n["organization"], n["community"], n["active"], n["left_date"], mid) for mid, n in changes])


def transfer_org_errors(record: dict, view: View) -> list[tuple[str, str]]:
    """``(field, message)`` for each organization of a transfer that must be a code inside the
    writer's view (转入: the new one; 转出: the old one; 市内转移: both) and is not; an unknown
    code and one outside the view read the same, and each ends with the one hint saying who
    may record a 市内转移."""
    from core import validators
    from core.models import Organization

    inside = {"in": ("to_org",), "out": ("from_org",), "intra_city": ("from_org", "to_org")}.get(
        record.get("direction"), ())
    out = []
    for name in inside:
        code = record.get(name)
        if not code:
            continue
        org = Organization.get_or_none(Organization.code == code)
        if org is None or not view.sees(Organization, org.id):
            out.append((name, tr("未知的组织编码 {c}（市内的组织须填组织编码）。{h}",
                                 "unknown org code {c} (an organization inside the city is given by its code). {h}",
                                 c=code, h=validators.intra_city_hint())))
    return out


# ---------------------------------------------------------------- audit rows of a block

def insert_audit_rows(table: str, names: list[str], columns: list[list], ids, communities, login: str,
                      when: str) -> list[tuple]:
    """Audit rows (``audit.INSERT_SQL``) of a block of inserted records, encoded column by column:
    ``columns[i]`` the values of ``names[i]``; None values are left out."""
    texts = audit.encode_columns(names, columns)
    return [(when, login, "create", table, str(i), None, text, c, 1) for i, text, c in zip(ids, texts, communities)]


# ---------------------------------------------------------------- one record of a kind (forms)

@dataclass
class SaveResult:
    status: str  # ok / invalid / stale / error / unchanged
    record_id: int | None = None
    errors: list = dc_field(default_factory=list)  # [(field, message)]
    mine: dict = dc_field(default_factory=dict)
    theirs: dict = dc_field(default_factory=dict)
    message: str = ""


def resolve_refs(kind, rec: dict, view: View | None = None) -> tuple[dict, list]:
    """References given by natural key → ids, inside ``view`` (default: the current user's
    whole scope); ``(values, [(field, message)])``."""
    view = view or View.of()
    out, errs = dict(rec), []
    for f in kind.fields:
        if not f.is_ref or f.name not in rec:
            continue
        v = rec.get(f.name)
        if v in (None, ""):
            out[f.name] = None
            continue
        target = kinds.ref_kind(f.target)
        model = target.model
        pk = view.select(model, model.id).where(getattr(model, target.ref[1]) == str(v)).scalar()
        if pk is None:
            errs.append((f.name, not_found(view.mask_id(v) if f.personal else v)))
        out[f.name] = pk
    return out, errs


def _errors_of(exc) -> list:
    return [e if isinstance(e, tuple) and len(e) == 2 else ("", str(e)) for e in (getattr(exc, "errors", None) or [str(exc)])]


def _save_posts(kind, worker_id: int, posts: list, start, login: str) -> bool:
    ops, error = post_changes(open_posts([worker_id]).get(worker_id, {}), posts, start)
    if error:
        raise RecordInvalid([error])
    if ops is None:
        return False
    apply_posts([(worker_id, ops)])
    audit.record("update", kind.model._meta.table_name, worker_id, ops["old"], ops["new"],
                 community=community_of(kind.model, _row(kind.model, worker_id) or {}), user=login)
    return True


def save(kind_name: str, raw: dict, record_id: int | None = None, version: int | None = None,
         original: dict | None = None, view: View | None = None) -> SaveResult:
    """Create (``record_id`` None) or update one record of a kind from a form's values.

    ``raw`` is keyed by the kind's field names, values as typed (text, codes, 是/否),
    references by natural key; ``original`` (the parsed values the form started
    from) limits an update to the fields the user changed.  Parsed and validated as
    an import row is (:func:`core.validators.clean_record`), references resolved in
    the user's scope, derived fields filled (:func:`derive`), then written through
    :func:`create` / :func:`update` with a worker's posts (history kept), all in one
    transaction.  Never raises for bad input: the :class:`SaveResult` says what happened.
    """
    from core import validators

    kind = kinds.get(kind_name)
    model = kind.model
    try:
        view = view or View.of()
        # references are looked up in the view (resolve_refs), not in the whole database:
        # one outside the view must read exactly like one to nothing
        rec, errs = validators.clean_record(kind.name, raw, check_refs=False)
        if errs:
            return SaveResult("invalid", errors=[tuple(e) for e in errs])
        resolved, errs = resolve_refs(kind, rec, view)
        if errs:
            return SaveResult("invalid", errors=errs)
        values = {k: v for k, v in resolved.items() if k in model._meta.fields and k not in ("id", "version")}
        derive(kind, [values])
        posts_field = next((f for f in kind.fields if f.type == "posts"), None)
        posts = resolved.get(posts_field.name) if posts_field is not None and posts_field.name in raw else None
        posts_changed = False
        if record_id is None and kind.key and all(k in values for k in kind.key):
            # a new record whose natural key is on record already (say, a month of dues on record as
            # owed) updates that record, as an import of the same row would
            same_key = _by_natural_key(model, kind, values, view)
            if same_key is not None:
                record_id, version = same_key
                stored = model.get_by_id(record_id).__data__
                original = None
                values = {k: v for k, v in values.items()
                          if k not in kind.key and not _same(stored.get(k), _fk_id(v))}
        with write_tx():
            if record_id is None:
                new_id = create(model, values, view).id
            else:
                new_id = record_id
                if original is not None:
                    values = {k: v for k, v in values.items() if k not in original or not _same(original[k], v)}
                if values:
                    update(model, record_id, values, version, view)
            if posts is not None:
                posts_changed = _save_posts(kind, new_id, posts, resolved.get("post_date"), view.principal.login)
        if record_id is not None and not values and not posts_changed:
            return SaveResult("unchanged", record_id=record_id)
        return SaveResult("ok", record_id=new_id)
    except StaleEdit as exc:
        return SaveResult("stale", record_id=record_id, mine=dict(exc.mine or {}), theirs=dict(exc.theirs or {}),
                          message=str(exc))
    except RecordInvalid as exc:
        return SaveResult("invalid", errors=_errors_of(exc))
    except UserError as exc:
        return SaveResult("error", message=str(exc))


def _by_natural_key(model, kind, values: dict, view: View):
    """``(id, version)`` of the record of ``kind`` in ``view`` with the natural key of ``values``,
    or None."""
    cond = None
    for name in kind.key:
        col, v = getattr(model, name), _fk_id(values.get(name))
        c = col.is_null() if v is None else (col == v)
        cond = c if cond is None else (cond & c)
    row = view.scoped(model.select(model.id, model.version).where(cond), model).tuples().first()
    return tuple(row) if row else None


def delete_record(kind_name: str, record_id: int, version: int, view: View | None = None) -> int:
    """Delete one record of a kind (see :func:`delete`); returns its id."""
    delete(kinds.get(kind_name).model, record_id, version, view)
    return record_id


# ---------------------------------------------------------------- several writes, one transaction

def write_all(changes, view: View | None = None) -> dict:
    """Apply several writes in one transaction (all or none), each through :func:`create`,
    :func:`update` or :func:`delete` (scope, validation, optimistic locking, audit).

    ``changes``: ``("create", model, values)``, ``("update", model, id, values, version)``
    or ``("delete", model, id, version)``.  Returns {"created": n, "updated": n, "deleted": n}.
    """
    counts = {"created": 0, "updated": 0, "deleted": 0}
    view = view or View.of()
    with write_tx():
        for change in changes:
            op = change[0]
            if op == "create":
                create(change[1], change[2], view)
                counts["created"] += 1
            elif op == "update":
                update(change[1], change[2], change[3], change[4], view)
                counts["updated"] += 1
            elif op == "delete":
                delete(change[1], change[2], change[3], view)
                counts["deleted"] += 1
            else:
                raise ValueError(f"unknown write {op!r}")
    return counts


def save_attendance(meeting_id: int, rows: list[dict], view: View | None = None) -> dict:
    """Record the attendance of one meeting in one transaction.

    Each row: ``member_id``, ``attendance_id`` (None: new), ``status``,
    ``leave_reason`` (kept only for 请假), ``version``.  Returns {"created": n, "updated": n}.
    """
    from core.models import Attendance

    changes = []
    for r in rows:
        values = {"status": r["status"], "leave_reason": (r.get("leave_reason") or None)
                  if r["status"] == "leave" else None}
        if r.get("attendance_id") is None:
            changes.append(("create", Attendance, {"meeting": meeting_id, "member": r["member_id"], **values}))
        else:
            changes.append(("update", Attendance, r["attendance_id"], values, r["version"]))
    counts = write_all(changes, view)
    return {"created": counts["created"], "updated": counts["updated"]}


# ---------------------------------------------------------------- records of a kind by natural key (export)

def community_map(model) -> dict:
    """{record id: community id} of every record of ``model``, along its path (set-based)."""
    from core.models import Community

    if model is Community:
        return {i: i for (i,) in Community.select(Community.id).tuples()}
    fields = path_fields(model)
    if not fields:
        return {}
    sub = {f.name: None if f.rel_model is Community else community_map(f.rel_model) for f in fields}
    out = {}
    for row in model.select(model._meta.primary_key, *fields).tuples():
        for f, v in zip(fields, row[1:]):
            if v is not None:
                out[row[0]] = v if sub[f.name] is None else sub[f.name].get(v)
                break
    return out


def export_records(kind_name: str):
    """Yield ``(community id, {field: value})`` for every record of a kind, references as
    their natural keys (code, ID number, name), in the kind's export order.  A field the
    model keeps under a reference (a community's town) gives the referenced record's name;
    a worker's posts are the current ones with the date the latest began; a member's
    status follows from the full-member date."""
    from core.dates import today
    from core.models import Community

    kind = kinds.get(kind_name)
    model = kind.model
    fields = model._meta.fields
    names = {}  # field -> {id: natural key or name}
    for f in kind.fields:
        mf = fields.get(f.name)
        if f.is_ref:
            target = kinds.ref_kind(f.target)
            tm = target.model
            names[f.name] = dict(tm.select(tm.id, getattr(tm, target.ref[1])).tuples())
        elif isinstance(mf, peewee.ForeignKeyField) and "name" in mf.rel_model._meta.fields:
            rel = mf.rel_model
            names[f.name] = dict(rel.select(rel.id, rel.name).tuples())
    communities = None if model is Community else community_map(model)
    posts_field = next((f.name for f in kind.fields if f.type == "posts"), None)
    held = open_posts(i for (i,) in model.select(model.id).tuples()) if posts_field else {}
    status = kind.field("status") is not None and "status" not in fields and "full_date" in fields
    now = today()
    order = [getattr(model, n) for n in kind.order] or [model._meta.primary_key]
    for r in model.select().order_by(*order).dicts().iterator():
        rec = dict(r)
        for name, mp in names.items():
            rec[name] = mp.get(r[name])
        if posts_field:
            cur = held.get(r["id"], {})
            rec[posts_field] = sorted(cur, key=_post_order)
            rec["post_date"] = max(cur.values()) if cur else None
        if status:
            rec["status"] = "full" if r["full_date"] and r["full_date"] <= now else "probationary"
        yield (r["id"] if communities is None else communities.get(r["id"])), rec


def _post_order(code: str) -> int:
    from core import enums

    return enums.POST.codes.index(code) if code in enums.POST.codes else len(enums.POST.codes)
