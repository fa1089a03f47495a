"""The one write path for single records (单条记录的增删改), from the UI and the CLI.

:func:`create`, :func:`update` and :func:`delete` each run in one
:func:`core.db.write_tx` (``BEGIN IMMEDIATE`` on SQLite) and

- check the current user (:func:`core.access.current`): not read-only, and the
  record's community inside the user's scope (before *and* after an update,
  so a record cannot be moved out of — or into — someone else's community);
  towns, streets, communities and urban wages are admin-only, and records
  with no community at all (entry items, city-level organizations) need a
  whole-city scope;
- validate: types and lengths (``max_length`` is enforced here on every
  backend, NUL characters refused), ``core.validators.validate_record`` when
  it exists, and every plugin's ``dangjian_validate_record``;
- lock optimistically: ``UPDATE … SET version = version + 1 WHERE id = ? AND
  version = ?``; when no row matches, :class:`core.errors.StaleEdit` carries
  both the values the user tried to write (``mine``) and the current ones
  (``theirs``) — nothing is overwritten silently;
- write one audit row (:mod:`core.audit`) in the same transaction.

Reading in scope: :func:`scoped` limits any select of any model to the
current user's scope (:func:`scope_condition` gives the bare expression),
:func:`get` fetches one record in scope, :func:`community_of` tells which
community a record belongs to.

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
from typing import Any, Callable

import peewee

from core import access, audit
from core.db import database, write_tx
from core.errors import AccessDenied, StaleEdit, UserError
from core.i18n import tr

# Import kinds of SPEC §5 for the models that have one; other models use their table name.
KIND_OF = {
    "Community": "communities", "Organization": "orgs", "Member": "members", "Worker": "workers",
    "WorkerPay": "pay", "Training": "trainings", "Meeting": "meetings", "Attendance": "attendance",
    "Evaluation": "evaluations", "DuesPayment": "dues", "Visit": "visits", "DutyReport": "reports_given",
    "Publication": "publications", "FundingAllocation": "funding", "Expenditure": "expenditures",
    "UrbanWage": "wages", "Transfer": "transfers",
}

# Reference data only an administrator changes (SPEC §7: importing communities and wages is admin-only).
ADMIN_ONLY = ("Town", "Street", "Community", "UrbanWage")
# Never written through this module.
NOT_EDITABLE = ("User", "AuditLog", "SchemaVersion", "CheckRun", "StoredFinding")

# Which foreign keys lead to the community, first non-empty one wins.  Models
# not listed follow a direct ``community`` key, then the keys below in this order.
_PATH_ORDER = ("community", "meeting", "organization", "member", "worker", "unit")
_PATHS = {
    "Member": ("community", "organization"),
    "Organization": ("community",),
    "Attendance": ("meeting", "member"),
    "Commitment": ("member", "organization"),
    "Visit": ("community",),
    "DiaryEntry": ("community",),
}

NO_COMMUNITY = None


class RecordInvalid(UserError):
    """The record breaks a rule of its own (bad value, plugin validation); ``errors`` lists them."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


class NotFound(UserError):
    """The record does not exist (or was deleted by someone else)."""


# ---------------------------------------------------------------- paths to the community

def _model_name(model) -> str:
    return model.__name__


@functools.lru_cache(maxsize=None)
def path_fields(model) -> tuple:
    """The foreign-key fields that lead from ``model`` to its community, in priority order."""
    from core.models import Community

    fks = {f.name: f for f in model._meta.sorted_fields if isinstance(f, peewee.ForeignKeyField)}
    names = _PATHS.get(_model_name(model)) or tuple(n for n in _PATH_ORDER if n in fks)
    out = []
    for n in names:
        f = fks.get(n)
        if f is None or f.rel_model is model:
            continue
        if f.rel_model is Community or path_fields(f.rel_model):
            out.append(f)
    return tuple(out)


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


def scope_condition(model, ids):
    """A peewee expression limiting ``model`` to the community ids ``ids``, or None for no limit."""
    from core.models import AuditLog, Community, Street, Town

    if ids is None:
        return None
    ids = sorted(ids)
    if model is Community:
        return Community.id.in_(ids)
    if model is Town:
        return Town.id.in_(Community.select(Community.town).where(Community.id.in_(ids)))
    if model is Street:
        return Street.id.in_(Community.select(Community.street).where(Community.id.in_(ids)))
    if model is AuditLog:
        return AuditLog.community.in_(ids)
    fields = path_fields(model)
    if not fields:
        return None if model.__name__ not in ("User",) else (model.login == access.current().login)
    cond = None
    earlier_null = None
    for f in fields:
        if f.rel_model is Community:
            here = f.in_(ids)
        else:
            target = f.rel_model
            here = f.in_(target.select(target._meta.primary_key).where(scope_condition(target, ids)))
        term = here if earlier_null is None else (earlier_null & here)
        cond = term if cond is None else (cond | term)
        earlier_null = f.is_null() if earlier_null is None else (earlier_null & f.is_null())
    return cond


def _global_readable(model) -> bool:
    """Reference data every user may read: wages, entry items (no community, not personal)."""
    return model.__name__ in ("UrbanWage", "EntryItem", "Town", "Street")


def scoped(query, model=None):
    """Limit ``query`` (a select of ``model``) to the current user's scope.

    Records with no community (city-level organizations, entry items) are
    visible to whole-city users; reference data (wages, entry items) to all.
    """
    model = model or query.model
    ids = access.current().scope_community_ids()
    if ids is None:
        return query
    cond = scope_condition(model, ids)
    if cond is None:
        if _global_readable(model):
            return query
        return query.where(peewee.SQL("1 = 0"))
    return query.where(cond)


def select(model, *fields):
    """``model.select(*fields)`` limited to the current user's scope."""
    return scoped(model.select(*fields), model)


def get(model, id) -> Any:
    """One record by id inside the current user's scope; :class:`NotFound` otherwise."""
    obj = scoped(model.select().where(model._meta.primary_key == id), model).first()
    if obj is None:
        raise NotFound(tr("记录不存在或不在您的权限范围内：{t} {id}", "no such record in your scope: {t} {id}",
                          t=model._meta.table_name, id=id))
    return obj


# ---------------------------------------------------------------- checks

def _check_scope(model, community_id, principal) -> None:
    name = _model_name(model)
    if name in NOT_EDITABLE:
        raise AccessDenied(tr("{t} 不能在这里修改", "{t} cannot be changed here", t=model._meta.table_name))
    if name in ADMIN_ONLY:
        principal.require_admin(tr("修改{t}", "change {t}", t=model._meta.table_name))
        return
    ids = principal.scope_community_ids()
    if ids is None:
        return
    if community_id is None:
        raise AccessDenied(tr("该记录不属于任何社区，只有全市范围的用户可以修改",
                              "this record belongs to no community; only whole-city users may change it"))
    if community_id not in ids:
        raise AccessDenied(tr("该记录不在您的权限范围（{scope}）内", "this record is outside your scope ({scope})",
                              scope=principal.scope))


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
    kind = KIND_OF.get(_model_name(model), model._meta.table_name)
    errors: list[str] = []
    try:
        from core import validators  # written by the import engineer; optional
    except ImportError:
        validators = None
    fn = getattr(validators, "validate_record", None) if validators else None
    if fn is not None:  # it calls the plugins' hook itself
        errors.extend(str(e) for e in (fn(kind, dict(record)) or []))
        return errors
    try:
        from core import plugins

        errors.extend(plugins.get().validate_record(kind, dict(record)))
    except RuntimeError:  # plugins not loaded (a bare library use): nothing to ask
        pass
    return errors


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


def create(model, data: dict):
    """Insert one record in scope, validated and audited; returns the new instance.

    Everything that only reads (scope, validation) happens before the write
    transaction, which holds the write lock for two statements: the INSERT and
    its audit row.
    """
    principal = access.current()
    principal.require_write()
    values = _clean(model, data)
    community = community_of(model, values)
    _check_scope(model, community, principal)
    full = {}
    for f in model._meta.sorted_fields:
        if f.name == "id":
            continue
        full[f.name] = f.default() if callable(f.default) else f.default
    full.update(values)
    errors = validate(model, full)
    if errors:
        raise RecordInvalid(errors)
    if "version" not in values:
        values = dict(values, version=1)

    def run():
        with write_tx():
            try:
                with database.atomic():  # savepoint: a constraint error leaves the transaction usable
                    new_id = model.insert(**values).execute()
            except peewee.IntegrityError as exc:
                raise _integrity(exc, model) from None
            full["id"] = new_id
            audit.record("create", model._meta.table_name, new_id, None, _audit_values(model, full),
                         community=new_id if model.__name__ == "Community" else community, user=principal.login)
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


def _stale(model, id, mine: dict, current: dict | None, version: int) -> UserError:
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


def update(model, id, changes: dict, version: int):
    """Change fields of one record read at ``version``; :class:`StaleEdit` if it changed since.

    Returns the updated instance (its ``version`` is one higher).  Changing
    nothing (all values equal) writes nothing, after checking the version.
    The checks read the row at ``version``; the write transaction then holds
    the write lock only for ``UPDATE … WHERE id = ? AND version = ?`` and the
    audit row — if the row moved on in between, the UPDATE matches nothing and
    the edit is stale.
    """
    principal = access.current()
    principal.require_write()
    values = _clean(model, changes)
    old = _row(model, id)
    if old is None:
        raise _stale(model, id, values, None, version)
    _check_scope(model, community_of(model, old), principal)
    merged = dict(old)
    merged.update(values)
    new_community = id if model.__name__ == "Community" else community_of(model, merged)
    _check_scope(model, new_community, principal)
    if old["version"] != version:
        raise _stale(model, id, values, old, version)
    changed = [k for k in values if not _same(old.get(k), values[k])]
    if not changed:
        return model.get_by_id(id)
    errors = validate(model, merged)
    if errors:
        raise RecordInvalid(errors)
    pk = model._meta.primary_key
    sets = {k: values[k] for k in changed}

    def run():
        with write_tx():
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

    try:
        with_retry(run)
    except _Conflict:
        raise _stale(model, id, values, _row(model, id), version) from None
    return model.get_by_id(id)


def delete(model, id, version: int) -> None:
    """Delete one record read at ``version``; :class:`StaleEdit` if it changed since."""
    principal = access.current()
    principal.require_write()
    old = _row(model, id)
    if old is None:
        raise _stale(model, id, {}, None, version)
    community = id if model.__name__ == "Community" else community_of(model, old)
    _check_scope(model, community, principal)
    if old["version"] != version:
        raise _stale(model, id, {}, old, version)
    pk = model._meta.primary_key

    def run():
        with write_tx():
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

    try:
        with_retry(run)
    except _Conflict:
        raise _stale(model, id, {}, _row(model, id), version) from None


def history(model, id) -> list[dict]:
    """The audit history of one record (oldest first); rows outside the user's scope are left out."""
    return audit.history(model, id)
