"""The import engine: parse, validate, resolve, scope-check, upsert and audit in bulk.

One import is one :func:`core.db.write_tx`.  Rows are processed in chunks:
each chunk's references are fetched in a few set-based queries, the existing
records are fetched by natural key, and inserts, updates and audit rows go
through :func:`core.db.executemany` (13×–65× faster than peewee ``create()``
loops).  Scope checks and audit rows are done here, for every
row — no write bypasses them.

What a kind's rows are — fields, references, natural key, path to the
community — comes from its declaration (:mod:`core.kinds`); the generic
:class:`Handler` serves every kind, and a kind with steps of its own names a
subclass (``Kind.importer``).  Derived values (pinyin initials, the
organization's community, worker posts) and the audit rows of a block come
from the one write path, :mod:`core.records`, computed for a whole block.
"""
from __future__ import annotations

import datetime as dt
import operator
from itertools import compress, repeat
from operator import getitem, is_not, itemgetter, mod, mul
from dataclasses import dataclass, field
from decimal import Decimal

from collections import defaultdict

from core import access, audit, db, ids, kinds, records, validators
from core.dates import today
from core.errors import UserError
from core.i18n import tr
from core.text import BAD_IN_LINE, BAD_IN_LINES
from core.validators import Field, FieldError

CHUNK = 2000


class Item:
    """One data row on its way in."""
    __slots__ = ("rowno", "cells", "rec", "vals", "community", "errors", "id", "extra", "k", "changed", "flag")

    def __init__(self, rowno: int, cells: list, rec: dict | None = None, errors: list | None = None):
        self.rowno = rowno
        self.cells = cells
        self.rec: dict = {} if rec is None else rec  # parsed values, references as natural keys
        self.vals: dict = {}  # model field -> value (references as ids)
        self.community: int | None = None
        self.errors: list = [] if errors is None else errors  # [(field name or '', message)]
        self.id: int | None = None
        self.extra = None  # a handler's own change (worker posts)
        self.k = None  # the model key
        self.changed = None
        self.flag = None  # added to the new values of an update's audit row ({"correction": True})

    def err(self, name: str, msg: str):
        self.errors.append((name, msg))


class Rollback(Exception):
    pass


# ---------------------------------------------------------------- references

class RefCache:
    """Natural key -> (id, community id) of the records that ``ref:``/``idref:`` fields name
    (communities, orgs, meetings, members, workers, units, a plugin's kinds)."""

    def __init__(self):
        self.maps: dict[str, dict] = defaultdict(dict)
        self.loaded: set[str] = set()

    def _query(self, target, keys=None):
        q, col = _ref_select(kinds.ref_kind(target))
        if keys is None:
            return q.tuples()
        out = []
        keys = list(keys)
        for i in range(0, len(keys), 500):
            out.extend(q.where(col.in_(keys[i:i + 500])).tuples())
        return out

    def load_all(self, target):
        if target in self.loaded:
            return
        mp = self.maps[target]
        for k, i, c in self._query(target):
            mp[k] = (i, c)
        self.loaded.add(target)

    def prefetch(self, target, keys):
        if target in self.loaded:
            return
        mp = self.maps[target]
        missing = {k for k in keys if k and k not in mp}
        if missing:
            for k, i, c in self._query(target, missing):
                mp[k] = (i, c)
            for k in missing:
                mp.setdefault(k, None)

    def get(self, target, key):
        mp = self.maps[target]
        if key in mp:
            return mp[key]
        if target in self.loaded:
            return None
        self.prefetch(target, [key])
        return mp.get(key)

    def forget(self, target, keys):
        mp = self.maps[target]
        self.loaded.discard(target)
        for k in keys:
            mp.pop(k, None)


# ---------------------------------------------------------------- context

class Context:
    def __init__(self, kind: str, correct: bool = False):
        self.kind = kind
        self.correct = correct  # members: apply organization / class changes as corrections (an administrator)
        self.principal = access.current()
        self.scope = self.principal.scope_community_ids()
        self.refs = RefCache()
        self.login = self.principal.login
        self.show_id = self.principal.full_personal_data
        self.audit: list[audit.Entry] = []

    def shown(self, id_number: str) -> str:
        return id_number if self.show_id else ids.mask(id_number)


def _q(name: str) -> str:
    return '"' + name + '"'


def same(a, b) -> bool:
    if a == b:
        return True
    if a in (None, "") and b in (None, ""):
        return True
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        try:
            return Decimal(str(a)) == Decimal(str(b))
        except Exception:
            return False
    if isinstance(a, dt.date) and isinstance(b, str):
        return a.isoformat() == b
    if isinstance(b, dt.date) and isinstance(a, str):
        return b.isoformat() == a
    return False


def jsonable(v):
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, (list, tuple, set)):
        return [jsonable(x) for x in v]
    return str(v)


# ---------------------------------------------------------------- references of a kind

def _ref_select(kind):
    """``(select of (natural key, id, community id), natural key column)`` for the kind ``ref:`` names."""
    from peewee import JOIN, SQL, fn

    from core.models import Community

    model = kind.model
    col = getattr(model, kind.ref[1])
    if model is Community:
        return model.select(col, model.id, model.id), col
    path = [model._meta.fields[n] for n in kind.community]
    if not path:
        return model.select(col, model.id, SQL("NULL")), col
    first = path[0]
    if first.rel_model is Community:
        return model.select(col, model.id, first), col
    rel = first.rel_model
    if "community" in rel._meta.fields:
        where = rel.community
        own = model._meta.fields.get("community")
        if own is not None and own.rel_model is Community:  # a member not placed in an organization
            where = fn.COALESCE(rel.community, own)
        return (model.select(col, model.id, where)
                .join(rel, JOIN.LEFT_OUTER, on=(first == rel._meta.primary_key))), col
    return model.select(col, model.id, SQL("NULL")), col


# ---------------------------------------------------------------- handlers

class Handler:
    """How the rows of one kind become records: the generic steps, read from the kind's
    declaration (:mod:`core.kinds`) — references resolved by natural key, the community
    by the kind's path, derived fields by :func:`core.records.derive`.  A kind with steps
    of its own names a subclass (``Kind.importer``)."""

    scope_field = ""  # the field named in an out-of-scope error (default: the first of the community path)
    whole_file = False  # process all rows as one ordered list (orgs, transfers)
    audit_posts = False  # the inserts' audit rows carry more than the row (workers' posts)
    build_bad_rows = False  # build() is safe on a row with bad cells (no writes, no missing keys): see Planner.plan

    def __init__(self, ctx: Context, present: set[str]):
        self.ctx = ctx
        self.present = present
        self.spec = kinds.get(ctx.kind)
        self.kind = self.spec.name
        self.model = self.spec.model
        self.key_fields = self.spec.key
        # the model field used to fetch existing rows by key: a key field that cannot be empty (a
        # row whose lookup value is empty would never find its stored record)
        self.lookup = next((n for n in self.key_fields if (self.spec.field(n) or Field(n, "", "")).required),
                           self.key_fields[0])
        if not self.scope_field:
            self.scope_field = (self.spec.community or self.key_fields)[0]
        m = self.model._meta
        self.refs = [(f.name, f.target, f.required) for f in self.spec.fields if f.is_ref and f.name in present]
        self.fields = [f for f in m.sorted_fields if f.name != "id"]
        self.defaults = {}
        for f in self.fields:
            d = f.default
            self.defaults[f.name] = d() if callable(d) else d
        self.table = m.table_name
        self.row_getter = operator.itemgetter(*[f.name for f in self.fields])
        self.insert_sql = (f"INSERT INTO {_q(self.table)} ({', '.join(_q(f.column_name) for f in self.fields)}) "
                           f"VALUES ({', '.join('?' for _ in self.fields)})")
        self.value_fields = self.compute_value_fields()
        set_cols = ", ".join(f"{_q(m.fields[n].column_name)} = ?" for n in self.value_fields)
        self.update_sql = (f"UPDATE {_q(self.table)} SET {set_cols}, {_q('version')} = {_q('version')} + 1 "
                           f"WHERE {_q('id')} = ?")
        self._next_ids: dict[str, int] = {}  # SQLite: table -> the next free id (reserve_ids)
        self._none_stored: dict[str, bool] = {}  # table -> held no row when this import began (none_stored)

    # --- what to write
    def compute_value_fields(self) -> list[str]:
        """Model fields this import sets (those of columns present, and the derived ones they feed)."""
        names = [f.name for f in self.spec.fields if f.name in self.present and f.name in self.model._meta.fields]
        sources = {"initials": "name", "sex": "id_number", "birth_date": "id_number", "community": "organization"}
        for d in records.derived_fields(self.spec):
            if d not in names and sources[d] in self.present:
                names.append(d)
        return names

    def prepare(self, items: list[Item]) -> None:
        """Fetch the references a chunk needs (a few set-based queries)."""
        for name, target, _req in self.refs:
            self.ctx.refs.prefetch(target, {it.rec.get(name) for it in items if it.rec.get(name)})
        path = self.spec.community
        if path and path[0] not in self.key_fields and path[0] in self.spec._by_name:  # existing_community
            target = self.spec.field(path[0]).target
            if target and target != "community":
                self.ctx.refs.load_all(target)

    def build(self, it: Item) -> None:
        """Fill ``it.vals`` (model values) and ``it.community``; add errors to ``it``."""
        rec = it.rec
        vals = {n: rec.get(n) for n in self.value_fields}
        hits = {}
        for name, target, required in self.refs:
            hit = self.ref(it, name, target, required)
            vals[name] = hit[0] if hit else None
            hits[name] = hit
        it.vals = vals
        it.community = self.community_of(vals, hits)

    def community_of(self, vals: dict, hits: dict):
        """The record's community: the first field of the kind's path that has a value."""
        for name in self.spec.community:
            hit = hits.get(name)
            if hit:
                return hit[1]
            if name not in hits and vals.get(name) is not None:
                return vals[name]
        return None

    def derive(self, items: list[Item]) -> None:
        """Derived fields of a block (:func:`core.records.derive`)."""
        records.derive(self.spec, [it.vals for it in items])

    def key(self, vals: dict) -> tuple:
        return tuple(map(vals.get, self.key_fields))

    def chunks(self, items: list[Item]) -> list[list[Item]]:
        return [items]

    # --- reference helpers
    def ref(self, it: Item, name: str, target: str, required: bool = False):
        key = it.rec.get(name)
        if not key:
            if required:
                it.err(name, tr("必填", "required"))
            return None
        hit = self.ctx.refs.get(target, key)
        scope = self.ctx.scope
        if hit is None or (scope is not None and hit[1] is not None and hit[1] not in scope):
            # a record outside the writer's scope answers exactly like an unknown one
            it.err(name, validators.unknown_ref_message(target, key))
            return None
        return hit

    def prefetch_refs(self, items, *pairs):
        for name, target in pairs:
            self.ctx.refs.prefetch(target, {it.rec.get(name) for it in items if it.rec.get(name)})

    # --- existing rows
    def fetch_existing(self, items: list[Item], names: list[str] | None = None) -> dict:
        """Existing rows for the items' keys: {key: {field: value}} (raw SQL, set-based)."""
        from peewee import BooleanField, DateField, DecimalField

        if self.none_stored(self.table):  # a first import into an empty table: nothing to look up, block after block
            return {}
        m = self.model
        if names is None:
            names = list(dict.fromkeys(["id", *self.key_fields, *self.value_fields, *self.scope_extra()]))
        fields_ = [m._meta.fields[n] for n in names]
        conv = [(i, f.python_value) for i, f in enumerate(fields_)
                if isinstance(f, (DateField, DecimalField, BooleanField))]
        lookup_col = m._meta.fields[self.lookup].column_name
        keys = list({it.vals.get(self.lookup) for it in items if it.vals.get(self.lookup) is not None})
        param = db.database.param
        head = (f"SELECT {', '.join(_q(f.column_name) for f in fields_)} FROM {_q(self.table)} "
                f"WHERE {_q(lookup_col)} IN ")
        out = {}
        key = self.key

        def take(cur):
            for row in cur.fetchall():
                if conv:
                    row = list(row)
                    for j, fn in conv:
                        row[j] = fn(row[j])
                d = dict(zip(names, row))
                out.setdefault(key(d), d)

        if any(it.vals.get(self.lookup) is None for it in items):  # an empty key cell is a key value too
            take(db.database.execute_sql(head.replace(" IN ", " IS NULL")))
        for i in range(0, len(keys), 500):
            part = keys[i:i + 500]
            take(db.database.execute_sql(head + "(" + ", ".join(param for _ in part) + ")", part))
        return out

    def scope_extra(self) -> list[str]:
        """Fields of an existing row that tell its community (none when the key does)."""
        path = self.spec.community
        if not path or path[0] in self.key_fields or path[0] not in self.model._meta.fields:
            return []
        return [path[0]]

    def existing_community(self, old: dict):
        """The community of an existing row (None when the key fixes it: same parent, same community)."""
        extra = self.scope_extra()
        if not extra:
            return None
        name = extra[0]
        f = self.spec.field(name)
        if f is None or f.target in (None, "community"):
            return old.get(name)
        if getattr(self, "_ids_community", None) is None:
            self._ids_community = {hit[0]: hit[1] for hit in self.ctx.refs.maps[f.target].values() if hit}
        return self._ids_community.get(old.get(name))

    def audit_key(self, vals: dict) -> str:
        return "|".join("" if v is None else str(v) for v in self.key(vals))

    # --- what was stored before the import, new ids
    def none_stored(self, table: str) -> bool:
        """``table`` held no row when this import began (asked once, at the first call, which comes
        before this import writes into it).

        Look-ups of stored rows may then be skipped: a row of a later block could only find a row
        this import wrote, whose natural key is then a duplicate in the file (refused by the parse);
        a forked planner never sees this import's writes at all, and reads the same."""
        empty = self._none_stored.get(table)
        if empty is None:
            empty = self._none_stored[table] = db.database.execute_sql(
                f"SELECT 1 FROM {_q(table)} LIMIT 1").fetchone() is None
        return empty

    def reserve_ids(self, table: str, n: int):
        """``n`` new row ids of ``table`` (the handler's own, or one its post_write inserts into).

        SQLite: max(id) + 1 … -- nobody else writes while the import holds the
        write lock, and every insert of this import into ``table`` takes its ids
        here.  PostgreSQL: taken from the table's sequence (:func:`core.db.next_ids`).
        """
        if db.is_sqlite():
            start = self._next_ids.get(table)
            if start is None:
                top = db.database.execute_sql(f'SELECT max("id") FROM {_q(table)}').fetchone()[0]
                start = (top or 0) + 1
            self._next_ids[table] = start + n
            return range(start, start + n)
        return db.next_ids(table, n)

    # --- extras (worker posts, transfer effects)
    def load_extra(self, items: list[Item], existing: dict) -> None:
        pass

    def extra_diff(self, it: Item, old: dict | None):
        """A change outside the model row (None when none); may add errors to ``it``."""
        return None

    def after_write(self, inserted: list[Item], updated: list[Item], extra: list[Item]) -> None:
        pass

    # --- hooks that keep the forked planner (see _fork_wanted): planned in the worker, applied by the writer
    def check_existing(self, it: Item, old: dict | None) -> None:
        """More errors of a row once its stored record (``old``, None when new) is known."""

    def plan_post(self, p: "Plan"):
        """Plain data (marshal/pickle) for :meth:`post_write`, worked out when a chunk is planned (None: nothing).

        The audit rows of what :meth:`post_write` will insert go into ``p.entries`` here, with ids
        from :meth:`reserve_ids` (then the planner encodes them, a forked one included)."""
        return None

    def post_write(self, post) -> None:
        """Run by the writer after a chunk's writes, with what :meth:`plan_post` gave; audit rows into ``ctx.audit``."""

    def finish(self) -> None:
        """Run by the writer after the last chunk, in the import's transaction."""

    def ref_errors(self, it: Item) -> None:
        """Unknown references among the good cells of a row that already has errors (so that a
        row's every bad cell is reported at once); nothing is written."""
        bad = {n for n, _ in it.errors}
        scope = self.ctx.scope
        for name, target, _req in self.refs:
            key = it.rec.get(name)
            if not key or name in bad:
                continue
            hit = self.ctx.refs.get(target, key)
            if hit is None or (scope is not None and hit[1] is not None and hit[1] not in scope):
                it.err(name, validators.unknown_ref_message(target, key))


def rebuild_roster(member_ids) -> None:
    """The stored roster spans of ``member_ids`` replayed again (in the import's transaction)."""
    from core import roster_replay

    ids_ = [i for i in member_ids if i is not None]
    if ids_:
        roster_replay.rebuild(db.database, ids_)


def handler_class(kind: str) -> type:
    """The import handler of ``kind``: the generic :class:`Handler` or the one its declaration names."""
    name = kinds.get(kind, importable=True).importer
    if not name:
        return Handler
    import importlib

    module, _, cls = name.partition(":")
    return getattr(importlib.import_module(module), cls)


# ---------------------------------------------------------------- kinds with steps of their own

class Communities(Handler):
    """Towns and streets named by a row are created when new; a community's community is itself."""
    scope_field = "code"

    def compute_value_fields(self):
        return ["code", "name", "town", "street"]

    def _load(self):
        from core.models import Street, Town
        if getattr(self, "towns", None) is None:
            self.towns = {n: i for i, n in Town.select(Town.id, Town.name).tuples()}
            self.streets = {(t, n): i for i, t, n in Street.select(Street.id, Street.town, Street.name).tuples()}

    def build(self, it):
        from core.models import Street, Town
        self._load()
        town = it.rec["town"]
        tid = self.towns.get(town)
        if tid is None:
            tid = Town.insert(name=town, version=1).execute()
            self.towns[town] = tid
            self.ctx.audit.append(audit.Entry("create", Town._meta.table_name, tid, None, {"name": town}))
        sid = None
        street = it.rec.get("street")
        if street:
            sid = self.streets.get((tid, street))
            if sid is None:
                sid = Street.insert(town=tid, name=street, version=1).execute()
                self.streets[(tid, street)] = sid
                self.ctx.audit.append(audit.Entry("create", Street._meta.table_name, sid, None,
                                                  {"town": tid, "name": street}))
        it.vals = {"code": it.rec["code"], "name": it.rec["name"], "town": tid, "street": sid}
        hit = self.ctx.refs.get("community", it.rec["code"])
        it.community = hit[0] if hit else None

    def scope_extra(self):
        return []

    def existing_community(self, old):
        return old.get("id")

    def after_write(self, inserted, updated, extra):
        self.ctx.refs.forget("community", [it.vals["code"] for it in inserted + updated])


class Orgs(Handler):
    """Parents before children (a parent may come later in the file); members follow an
    organization that moves to another community."""
    whole_file = True

    def chunks(self, items):
        by_code = {it.rec["code"]: it for it in items if it.rec.get("code")}
        level: dict[str, int] = {}

        def depth(code, seen):
            if code in level:
                return level[code]
            it = by_code[code]
            parent = it.rec.get("parent")
            if not parent or parent not in by_code:
                level[code] = 0
            elif parent in seen:
                level[code] = -1
            else:
                d = depth(parent, seen | {code})
                level[code] = -1 if d < 0 else d + 1
            return level[code]

        out: dict[int, list] = {}
        for it in items:
            if it.rec.get("code") not in by_code:  # no readable code: rejected with the first chunk
                out.setdefault(0, []).append(it)
                continue
            d = depth(it.rec["code"], frozenset())
            if d < 0:
                it.err("parent", tr("上级组织形成循环", "the parent organizations form a cycle"))
            out.setdefault(max(d, 0), []).append(it)
        return [out[k] for k in sorted(out)]

    def prepare(self, items):
        self.ctx.refs.forget("org", [])
        self.ctx.refs.load_all("org")
        self.ctx.refs.load_all("community")

    def build(self, it):
        r = it.rec
        if r.get("parent") and r["parent"] == r["code"]:
            it.err("parent", tr("不能是自己", "cannot be the organization itself"))
            it.rec = dict(r, parent=None)
        super().build(it)
        it.rec = r

    def after_write(self, inserted, updated, extra):
        self.ctx.refs.forget("org", [it.vals["code"] for it in inserted + updated])
        moved = {it.id: it.vals["community"] for it in updated
                 if it.changed and "community" in it.changed[0] and it.vals.get("community") is not None}
        if moved:
            records.follow_org_community(moved, self.ctx.audit)


def ORG_CHANGE_REFUSED(old: str, new: str) -> str:
    return tr("不能用党员导入更改已登记党员的所在党组织（{o} → {n}）：组织关系的变动是有日期的转接，请用 transfers"
              "（组织关系转接）导入；只有未编入的流入党员可以在此编入党组织（并填编入日期）",
              "a members import cannot change the organization of a member already on record ({o} → {n}): a "
              "move is a dated transfer, import it as transfers; only an unplaced floating-in member may be "
              "placed here (with the placed date)", o=old or tr("空", "empty"), n=new or tr("空", "empty"))


def CLASS_CHANGE_REFUSED(old: str, new: str) -> str:
    return tr("不能用党员导入更改已登记党员的党员类别（{o} → {n}）：类别的变动有日期，请用 class_changes"
              "（党员类别变更）导入",
              "a members import cannot change the management class of a member already on record ({o} → {n}): "
              "a change of class has a date, import it as class_changes", o=old, n=new)


class Members(Handler):
    """A member's community is the organization's; a stated one must agree with it.

    The history stays true: a row never changes the organization or the management class
    of a member already on record (those are dated moves: ``transfers``, ``class_changes``)
    — except the placement of an unplaced 流入党员 and, with ``--correct`` (an
    administrator), corrections without history, audited as such.  流动党员活动证号 links
    the member's certificate of that number (made when new).  The roster spans of the
    members written are rebuilt at the end."""
    build_bad_rows = True

    def compute_value_fields(self):
        names = super().compute_value_fields()
        for extra in ("initials", "sex", "birth_date", "full_date", "community"):
            if extra not in names:
                names.append(extra)
        return names

    def prepare(self, items):
        self.ctx.refs.load_all("org")
        self.ctx.refs.load_all("community")
        self._orgs = self.ctx.refs.maps["org"]
        if getattr(self, "_org_community", None) is None:
            self._org_community = {hit[0]: hit[1] for hit in self._orgs.values() if hit}

    def build(self, it):
        r = it.rec
        org = comm = None
        code = r.get("organization")
        if code:
            hit = self._orgs.get(code)  # loaded whole in prepare(); unknown or out-of-scope codes: ref() says so
            scope = self.ctx.scope
            if hit is None or (scope is not None and hit[1] not in scope):
                hit = self.ref(it, "organization", "org")
            if hit:
                org, comm = hit
        given = None
        if r.get("community"):
            hit = self.ref(it, "community", "community")
            if hit:
                given = hit[0]
                if comm is not None and given != comm:
                    it.err("community", tr("与所在党组织的社区不一致", "disagrees with the community of the organization"))
        vals = dict(r)
        vals.pop("status", None)
        vals["organization"] = org
        vals["community"] = given  # else the organization's: records.derive
        it.vals = vals
        it.community = comm if comm is not None else given

    def derive(self, items):
        records.derive(self.spec, [it.vals for it in items], org_community=self._org_community)

    def load_extra(self, items, existing):
        from core.models import FloatingCertificate as C

        if getattr(self, "_certs", None) is None:
            self._certs = {}  # certificate number -> member id (None: no certificate of that number)
            self._claims = {}  # certificate number -> the ID number of the row of this import that names it
            self._touched = set()
        numbers = list({it.vals.get("certificate_no") for it in items} - {None, ""} - set(self._certs))
        if numbers and self.none_stored(C._meta.table_name):  # no certificate on record: none to look up
            self._certs.update(dict.fromkeys(numbers))
            return
        for i in range(0, len(numbers), 500):
            part = numbers[i:i + 500]
            found = dict(C.select(C.number, C.member).where(C.number.in_(part)).tuples())
            for n in part:
                self._certs[n] = found.get(n)

    def check_existing(self, it, old):
        vals = it.vals
        if old is not None and "full_date" not in self.present:
            # 转正日期 left out of the file: the stored date stays while it agrees with 党员状态 (the
            # date one year after 入党日期 is only for a member whose status says otherwise)
            stored = old.get("full_date")
            if (it.rec.get("status") == "full") == (stored is not None and stored <= today()):
                vals["full_date"] = stored
        if "community" not in self.present and vals.get("organization") is None and not it.errors:
            # no organization and 社区编码 left out of the file: the stored member's community stays
            if old is None or old.get("community") is None:
                it.err("community", validators.COMMUNITY_REQUIRED())
            else:
                vals["community"] = old["community"]
        if old is not None:
            flag = False
            o_org, n_org = old.get("organization"), vals.get("organization")
            o_cls, n_cls = old.get("management_class"), vals.get("management_class")
            if o_org != n_org:
                placing = (o_org is None and n_org is not None and o_cls == n_cls == "floating_in"
                           and vals.get("placed_date") is not None)
                if placing:
                    pass
                elif self.ctx.correct:
                    flag = True
                else:
                    codes = self._codes()
                    it.err("organization", ORG_CHANGE_REFUSED(codes.get(o_org, ""), codes.get(n_org, "")))
            if o_cls != n_cls and n_cls is not None:
                if self.ctx.correct:
                    flag = True
                else:
                    it.err("management_class", CLASS_CHANGE_REFUSED(_class_label(o_cls), _class_label(n_cls)))
            if flag:
                it.flag = {"correction": True}
        number = vals.get("certificate_no")
        if number and not it.errors:
            owner = self._certs.get(number)
            claimed = self._claims.get(number)
            if (owner is not None and (old is None or owner != old["id"])) or \
                    (claimed is not None and claimed != vals.get("id_number")):
                it.err("certificate_no", tr("流动党员活动证号 {n} 已属于另一名党员", "the floating certificate {n} "
                                            "belongs to another member", n=number))
            else:
                self._claims[number] = vals.get("id_number")

    def _codes(self) -> dict:
        if getattr(self, "_org_codes", None) is None:
            from core.models import Organization

            self._org_codes = dict(Organization.select(Organization.id, Organization.code).tuples())
        return self._org_codes

    def plan_post(self, p):
        """The certificates to make (their ids reserved, their audit rows added to ``p.entries``), the
        updated members to replay at the end, and the new members' roster spans."""
        from core import roster_replay
        from core.models import FloatingCertificate as C

        links = []
        for it in p.inserts + p.updates + p.same:
            number = it.vals.get("certificate_no")
            if number and self._certs.get(number) is None:
                self._certs[number] = it.id
                links.append((number, it.id, it.community))
        if links:
            table = C._meta.table_name
            rows = []
            for cid, (number, mid, comm) in zip(self.reserve_ids(table, len(links)), links):
                rows.append((cid, number, mid))
                p.entries.append(audit.Entry("create", table, cid, None, {"number": number, "member": mid}, comm))
            links = rows
        # the roster spans: a new member's from the row itself (no moves yet; copied in SQL when it is one
        # open span from joining on, else replayed here), others replayed at the end
        joined, replayed = [], []
        for it in p.inserts:
            v = it.vals
            if v.get("joined_date") and not v.get("placed_date"):
                joined.append(it.id)
            else:
                replayed.append((it.id, v.get("joined_date"), v.get("placed_date"), v.get("organization"),
                                 v.get("community"), v.get("management_class") or "resident"))
        spans = roster_replay.new_members_rows(replayed, self._org_community)
        reads = roster_replay.MEMBER_FIELDS  # an update of none of them (a phone) leaves the spans as they are
        members = [it.id for it in p.updates if reads.intersection(it.changed[0])]
        return (links, members, spans, joined) if links or members or spans or joined else None

    def post_write(self, post):
        if not post:
            return
        links, members, spans, joined = post
        if spans or joined:
            from core import roster_replay

            roster_replay.insert_joined_spans(db.database, joined)
            roster_replay.insert_rows(db.database, spans)
        if links:  # one executemany, ids reserved by plan_post (their audit rows are the plan's)
            db.executemany('INSERT INTO "floating_certificate" ("id", "number", "member_id", "version") '
                           'VALUES (?, ?, ?, 1)', links)
        if getattr(self, "_touched", None) is None:
            self._touched = set()
        self._touched.update(members)

    def finish(self):
        rebuild_roster(getattr(self, "_touched", None) or ())


def _class_label(code) -> str:
    from core import enums
    from core.i18n import get_lang

    return enums.MEMBER_CLASS.label(code, get_lang()) if code else tr("空", "empty")


class Workers(Handler):
    """职务 and 任职日期 keep the history of posts (:func:`core.records.post_changes`)."""
    audit_posts = True

    def prepare(self, items):
        self.ctx.refs.load_all("community")

    def load_extra(self, items, existing):
        self.open_posts = records.open_posts([old["id"] for old in existing.values()])

    def extra_diff(self, it, old):
        if "posts" not in self.present:
            return None
        cur = self.open_posts.get(old["id"], {}) if old else {}
        ops, error = records.post_changes(cur, it.rec.get("posts"), it.rec.get("post_date"))
        if error:
            it.err(*error)
        return ops

    def after_write(self, inserted, updated, extra):
        changes = [(it.id, records.post_changes({}, it.rec["posts"], it.rec.get("post_date"))[0])
                   for it in inserted if it.rec.get("posts")]
        changes += [(it.id, it.extra) for it in extra]
        records.apply_posts(changes)
        self.ctx.refs.forget("worker", [it.vals["id_number"] for it in inserted])


class Transfers(Handler):
    """In date order, whole file; each member's latest transfer decides roster, organization and community."""
    whole_file = True

    def chunks(self, items):
        return [sorted(items, key=lambda it: (it.rec.get("date") or dt.date.min, it.rowno))]

    def prepare(self, items):
        self.ctx.refs.load_all("org")
        super().prepare(items)

    def build(self, it):
        super().build(it)
        r = it.rec
        direction = r.get("direction")
        orgs = self.ctx.refs.maps["org"]
        inside = {"in": ("to_org",), "out": ("from_org",), "intra_city": ("from_org", "to_org")}.get(direction, ())
        scope = self.ctx.scope
        for name in inside:
            code = r.get(name)
            hit = orgs.get(code) if code else None
            if code and (hit is None or (scope is not None and hit[1] not in scope)):
                # unknown and outside the writer's scope read the same; the hint is the same for everyone
                it.err(name, tr("未知的组织编码 {c}（市内的组织须填组织编码）。{h}",
                                "unknown org code {c} (an organization inside the city is given by its code). {h}",
                                c=code, h=validators.intra_city_hint()))
        side = {"in": "to_org", "out": "from_org", "intra_city": "to_org"}.get(direction)
        if side and r.get(side) and orgs.get(r[side]):
            it.community = orgs[r[side]][1]
        it.extra = None

    def after_write(self, inserted, updated, extra):
        """Apply each member's latest transfer (the write path's rule), then the roster spans."""
        touched = {it.vals["member"] for it in inserted + updated}
        if not touched:
            return
        records.apply_transfers(touched, self.ctx.audit)
        rebuild_roster(touched)


def class_chain(base, changes) -> list:
    """The old class of each of a member's ``changes`` (``(date, new class)``, in date order): the
    class before the first is ``base``, before each other one the class the one before it set."""
    out = []
    prev = base
    for _d, new in changes:
        out.append(prev)
        prev = new
    return out


class ClassChanges(Handler):
    """党员类别变更, whole file, in date order.  Each change's old class is the class in force the
    day before (a chain per member from the class before the member's earliest change: the
    earliest stored change's old class, else the member's class before this import); the
    member's class becomes the latest change's; the member's roster spans are rebuilt."""
    whole_file = True

    def compute_value_fields(self):
        return super().compute_value_fields() + ["old_class"]

    def chunks(self, items):
        return [sorted(items, key=lambda it: (it.rec.get("date") or dt.date.min, it.rowno))]

    def _stored(self, mids) -> dict:
        """{member id: [(date, new class, old class, change id), …] in date order} as stored now."""
        from core.models import ClassChange as CC

        out: dict = defaultdict(list)
        mids = list(mids)
        for i in range(0, len(mids), 500):
            q = (CC.select(CC.member, CC.date, CC.new_class, CC.old_class, CC.id)
                 .where(CC.member.in_(mids[i:i + 500])).order_by(CC.member, CC.date).tuples())
            for mid, d, new, old, cid in q:
                out[mid].append((d, new, old, cid))
        return out

    def derive(self, items):
        from core.models import Member

        mids = {it.vals["member"] for it in items if it.vals.get("member")}
        stored = self._stored(mids)
        classes = {}
        ml = list(mids)
        for i in range(0, len(ml), 500):
            classes.update(Member.select(Member.id, Member.management_class)
                           .where(Member.id.in_(ml[i:i + 500])).tuples())
        base = getattr(self, "_base", None) or {}
        for mid in mids:
            if mid not in base:  # the class before the member's earliest change, before anything is written
                first = stored[mid][0] if stored.get(mid) else None
                base[mid] = first[2] if first is not None and first[2] else classes.get(mid)
        self._base = base
        timeline: dict = defaultdict(dict)
        for mid, rows in stored.items():
            for d, new, _old, _cid in rows:
                timeline[mid][d] = new
        for it in items:
            if it.vals.get("member") and it.vals.get("date"):
                timeline[it.vals["member"]][it.vals["date"]] = it.vals.get("new_class")
        olds = {}
        for mid, by_date in timeline.items():
            dates = sorted(by_date)
            for d, old in zip(dates, class_chain(base.get(mid), [(d, by_date[d]) for d in dates])):
                olds[(mid, d)] = old
        for it in items:
            it.vals["old_class"] = olds.get((it.vals.get("member"), it.vals.get("date")))

    def after_write(self, inserted, updated, extra):
        """The chain again over what is stored now (a row refused by --partial leaves a gap), then the
        member's class; every change audited."""
        from core.models import ClassChange as CC, Member

        touched = {it.vals["member"] for it in inserted + updated}
        if not touched:
            return
        stored = self._stored(touched)
        fixes, members = [], []
        rows = {}
        ml = list(touched)
        for i in range(0, len(ml), 500):
            for mid, cls, comm in (Member.select(Member.id, Member.management_class, Member.community)
                                   .where(Member.id.in_(ml[i:i + 500])).tuples()):
                rows[mid] = (cls, comm)
        for mid in sorted(touched):
            changes = stored.get(mid) or []
            if not changes or mid not in rows:
                continue
            cls, comm = rows[mid]
            olds = class_chain(self._base.get(mid), [(d, new) for d, new, _o, _c in changes])
            for (d, new, old, cid), want in zip(changes, olds):
                if old != want:
                    fixes.append((want, cid))
                    self.ctx.audit.append(audit.Entry("update", CC._meta.table_name, cid, {"old_class": old},
                                                      {"old_class": want}, comm))
            latest = changes[-1][1]
            if latest != cls:
                members.append((latest, mid))
                self.ctx.audit.append(audit.Entry("update", Member._meta.table_name, mid,
                                                  {"management_class": cls}, {"management_class": latest}, comm))
        db.executemany('UPDATE "class_change" SET "old_class" = ?, "version" = "version" + 1 WHERE "id" = ?', fixes)
        db.executemany('UPDATE "member" SET "management_class" = ?, "version" = "version" + 1 WHERE "id" = ?',
                       members)
        rebuild_roster(touched)


class Consultations(Handler):
    """征求社区意见: the unit is named by its community and its name (unique only inside a community)."""

    def __init__(self, ctx, present):
        super().__init__(ctx, present)
        self.key_fields = ("unit", "date", "subject", "person")
        self.lookup = "unit"
        self.scope_field = "community"

    def prepare(self, items):
        from core.models import ResidentUnit as U

        self.ctx.refs.load_all("community")
        if getattr(self, "_units", None) is None:
            self._units = {(c, n): i for i, c, n in U.select(U.id, U.community, U.name).tuples()}

    def _unit(self, it, comm_id):
        name = it.rec.get("unit")
        uid = self._units.get((comm_id, name)) if name else None
        if name and uid is None:
            it.err("unit", validators.unknown_ref_message("unit", name))
        return uid

    def build(self, it):
        vals = {n: it.rec.get(n) for n in self.value_fields}
        hit = self.ref(it, "community", "community", True)
        vals["unit"] = self._unit(it, hit[0]) if hit else None
        if hit and not it.rec.get("unit"):
            it.err("unit", tr("必填", "required"))
        it.vals = vals
        it.community = hit[0] if hit else None

    def ref_errors(self, it):
        bad = {n for n, _ in it.errors}
        if "community" in bad or not it.rec.get("community"):
            return
        hit = self.ctx.refs.get("community", it.rec["community"])
        scope = self.ctx.scope
        if hit is None or (scope is not None and hit[0] not in scope):
            it.err("community", validators.unknown_ref_message("community", it.rec["community"]))
        elif "unit" not in bad:
            self._unit(it, hit[0])


class Certificates(Handler):
    """流动党员活动证: a member's 流动党员活动证号 (what a members export shows) follows the member's
    current certificate — the latest issued of those not returned (kept when all are returned)."""

    def after_write(self, inserted, updated, extra):
        from core.models import FloatingCertificate as C, Member

        touched = list({it.vals["member"] for it in inserted + updated if it.vals.get("member")})
        if not touched:
            return
        current, held = {}, {}
        for i in range(0, len(touched), 500):
            q = (C.select(C.member, C.number, C.issue_date, C.returned_date, C.id)
                 .where(C.member.in_(touched[i:i + 500])).tuples())
            for mid, number, issued, returned, cid in q:
                if returned is None:
                    k = (issued or dt.date.min, cid)
                    if mid not in current or k > current[mid][0]:
                        current[mid] = (k, number)
        for i in range(0, len(touched), 500):
            held.update((mid, (no, comm)) for mid, no, comm in Member.select(Member.id, Member.certificate_no,
                                                                             Member.community)
                        .where(Member.id.in_(touched[i:i + 500])).tuples())
        changes = []
        for mid, (k_number) in current.items():
            number = k_number[1]
            old, comm = held.get(mid, (None, None))
            if old != number:
                changes.append((number, mid))
                self.ctx.audit.append(audit.Entry("update", Member._meta.table_name, mid, {"certificate_no": old},
                                                  {"certificate_no": number}, comm))
        db.executemany('UPDATE "member" SET "certificate_no" = ?, "version" = "version" + 1 WHERE "id" = ?', changes)


class Meetings(Handler):
    """A meeting's type must fit its organization's kind (党员大会/支委会/党课: 党委, 党总支, 党支部;
    党小组会: 党小组; the other types: any kind but a 党小组)."""

    def prepare(self, items):
        super().prepare(items)
        if getattr(self, "_org_kinds", None) is None:
            from core.models import Organization as O

            self._org_kinds = dict(O.select(O.id, O.kind).tuples())

    def build(self, it):
        super().build(it)
        org, type_ = it.vals.get("organization"), it.vals.get("type")
        if org is not None and type_:
            msg = validators.meeting_misfit(type_, self._org_kinds.get(org))
            if msg:
                it.err("type", msg)


# ---------------------------------------------------------------- headers

def header_map(kind: str, header: list[str], fname: str) -> list[tuple[int, Field]]:
    """(column index, field) for each column; refuses unknown, repeated and missing columns."""
    specs = validators.fields(kind)
    names = {}
    for f in specs:
        for alias in (f.label, f.en.lower(), f.name.lower()):
            names.setdefault(alias, f)
    problems = []
    out = []
    seen = {}
    for i, h in enumerate(header):
        h = (h or "").strip()
        if not h or h == REJECT_COLUMN:
            continue
        f = names.get(h) or names.get(h.lower())
        if f is None:
            problems.append(tr("{f} row 1, {h}: 未知的列；应为：{a}", "{f} row 1, {h}: unknown column; expected: {a}",
                               f=fname, h=h, a="、".join(x.label for x in specs)))
            continue
        if f.name in seen:
            problems.append(tr("{f} row 1, {h}: 列重复", "{f} row 1, {h}: repeated column", f=fname, h=h))
            continue
        seen[f.name] = i
        out.append((i, f))
    missing = [f.label for f in specs if not f.optional_column and f.name not in seen]
    if missing:
        problems.append(tr("{f} row 1: 缺少列：{m}", "{f} row 1: missing columns: {m}", f=fname, m="、".join(missing)))
    if problems:
        raise UserError("\n".join(problems))
    return out


REJECT_COLUMN = "错误原因"


# ---------------------------------------------------------------- the run

@dataclass
class Result:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list = field(default_factory=list)  # Items with errors
    written: bool = False
    kind: str = ""
    labels: dict = field(default_factory=dict)  # field name -> the file's header for it
    plugin_errors: list = field(default_factory=list)  # (plugin, error) of hooks that raised during this import


def _parsers(colmap):
    out = []
    for idx, f in colmap:
        out.append((idx, f, f.name, f.required, validators.parser_for(f)))
    return out


_REDO = object()  # a cell the column fast path leaves to the field's own parser
_BAD = object()  # a cell with an error (not put into the record)
_BOOLS = {"是": True, "否": False}
_STR_ONLY = {str}
_ISO = dt.date.isoformat
_FROMISO = dt.date.fromisoformat
_HEAD = slice(0, 17)
_BIRTH = slice(6, 14)
_GOOD_YMD: set = set()  # YYYYMMDD strings known to be real dates


def _column_fast(f: Field, parse):
    """A whole-column parser for the common shapes of field ``f``'s cells, or None.

    It takes the column's raw cells and returns their parsed values — the very
    values ``parse`` (the per-cell parser) gives — with ``_REDO`` for cells it
    is not sure of, or returns None to leave the whole column to ``parse``.
    Only plain text cells (CSV, or xlsx text) take it; it never raises.
    """
    t = f.type
    if t == "text" or t.startswith("ref:"):
        ml = f.max_length if t == "text" else validators.ref_max_length(f)
        strip = str.strip
        bad = (BAD_IN_LINES if f.multiline else BAD_IN_LINE).search

        def text(col):
            if set(map(type, col)) - _STR_ONLY:
                return None
            s = list(map(strip, col))
            if bad("".join(s)) or (ml and max(map(len, s), default=0) > ml):
                return None
            return [x or None for x in s]
        return text
    if t == "choice":
        get = f.choice._parse.get
        strip = str.strip

        def choice(col):
            if set(map(type, col)) - _STR_ONLY:
                return None
            s = list(map(strip, col))
            vals = list(map(get, s))
            if None in vals:
                vals = [_REDO if v is None and x else v for v, x in zip(vals, s)]
            return vals
        return choice
    if t == "bool":
        get = _BOOLS.get

        def boolean(col):
            vals = list(map(get, col))
            if None in vals:
                vals = [_REDO if v is None else v for v in vals]
            return vals
        return boolean
    if t == "date":
        nf = f.not_future
        now = today()

        def date(col):
            if set(map(type, col)) - _STR_ONLY:
                return None
            if not any(col):
                return [None] * len(col)
            try:
                ds = list(map(_FROMISO, col))
            except ValueError:
                return None
            # exactly YYYY-MM-DD (what the per-cell fast path takes), in range
            if list(map(_ISO, ds)) != col or min(ds).year < 1900 or (nf and max(ds) > now):
                return None
            return ds
        return date
    if t == "money":
        cent = Decimal("0.01")
        big = Decimal("1e12")

        def money(col):  # the per-cell fast path (Decimal(v), finite, >= 0, <= 2 places, < 1e12), a column at once
            if set(map(type, col)) - _STR_ONLY:
                return None
            try:
                ds = list(map(Decimal, col))
                qs = list(map(Decimal.quantize, ds, repeat(cent)))
                if ds != qs or min(ds) < 0 or max(ds) >= big:
                    return None
            except (ArithmeticError, ValueError):  # blanks, words, NaN, sNaN, too many digits
                return None
            return qs
        return money
    if t == "id" or t.startswith("idref:"):
        checks = ids.CHECK_CHARS
        strip, upper = str.strip, str.upper
        last = today().strftime("%Y%m%d")  # one import, one day (as the per-cell parser)

        def id_number(col):  # the per-cell fast path (18 characters, check character, birth date), a column at once
            if set(map(type, col)) - _STR_ONLY:
                return None
            s = list(map(upper, map(strip, col)))
            if set(map(len, s)) != {18}:
                return None
            heads = list(map(getitem, s, repeat(_HEAD)))
            if not "".join(s).isascii() or not "".join(heads).isdigit():
                return None
            # weights are 2**k mod 11 and 13 ≡ 2 (mod 11): the weighted sum is 2 × (digits in base 13)
            sums = map(mul, map(int, heads, repeat(13)), repeat(2))
            if list(map(checks.__getitem__, map(mod, sums, repeat(11)))) != list(map(getitem, s, repeat(17))):
                return None
            births = set(map(getitem, s, repeat(_BIRTH)))  # YYYYMMDD: string order is date order
            if not births <= _GOOD_YMD:
                for b in births - _GOOD_YMD:
                    try:
                        dt.date(int(b[:4]), int(b[4:6]), int(b[6:]))
                    except ValueError:
                        return None
                    if len(_GOOD_YMD) < 100_000:
                        _GOOD_YMD.add(b)
            if min(births) < "1900" or max(births) > last:
                return None
            return s
        return id_number
    if t in ("id", "money") or t.startswith("idref:"):
        def mapped(col):  # the per-cell parser maps blanks to None and raises only FieldError
            if set(map(type, col)) - _STR_ONLY:
                return None
            try:
                return list(map(parse, col))
            except FieldError:
                return None
        return mapped
    return None


def _parse_cells(col, parse, name, errs):
    """Per-cell parsing of a column (the exact rules); errors into ``errs[i]``."""
    vals = []
    append = vals.append
    for i, raw in enumerate(col):
        if raw is None or raw == "":
            append(None)
            continue
        try:
            append(parse(raw))
        except FieldError as exc:
            errs.setdefault(i, []).append((name, str(exc)))
            append(_BAD)
    return vals


def parse_items(kind, rows, colmap, present, seen, key_names, labels, block: int = CHUNK):
    """Parse raw rows into Items (errors attached); duplicates by natural key are errors.

    Rows are parsed a block at a time, column by column: each column's common
    cell shapes in one pass (:func:`_column_fast`), anything else cell by cell
    with the field's parser.  Per row the result is the same as parsing its
    cells in column order: the same values, the same errors in the same order.
    """
    parsers = [(idx, name, required, parse, _column_fast(f, parse))
               for idx, f, name, required, parse in _parsers(colmap)]
    names = [p[1] for p in parsers]
    cross = validators.cross_check
    width = max((i for i, _ in colmap), default=-1) + 1
    required_msg = tr("必填", "required")
    beyond_msg = tr("有表头以外的内容", "has cells beyond the last column")
    dup_field = key_names[0] if key_names else ""
    dup_labels = "/".join(labels.get(x, x) for x in key_names)
    single_key = key_names[0] if len(key_names) == 1 else None
    blanks = _key_blanks(kind, key_names)
    for buf in _chunked(rows, block):
        yield from _parse_block(buf, kind, parsers, names, width, cross, present, seen, key_names, single_key,
                                dup_field, dup_labels, required_msg, beyond_msg, blanks)


def _key_blanks(kind: str, key_names) -> dict:
    """What an empty cell of each key column stands for in the natural key: the empty string, or the
    model's default for a field that cannot be empty (an empty 无偿 is 是), as the stored record has it."""
    model = kinds.get(kind).model._meta.fields
    out = {}
    for name in key_names:
        mf = model.get(name)
        d = None if mf is None or mf.null else mf.default
        out[name] = "" if d is None else (d() if callable(d) else d)
    return out


def _parse_block(buf, kind, parsers, names, width, cross, present, seen, key_names, single_key, dup_field,
                 dup_labels, required_msg, beyond_msg, blanks=None):
    blank = (blanks or {}).get
    cells_list = [cells for _, cells in buf]
    lengths = set(map(len, cells_list))
    padded = cells_list
    if min(lengths) < width:
        padded = [c if len(c) >= width else list(c) + [None] * (width - len(c)) for c in cells_list]
    errs: dict[int, list] = {}
    columns = []
    for idx, name, required, parse, fast in parsers:
        col = list(map(itemgetter(idx), padded))
        vals = fast(col) if fast is not None else None
        if vals is None:
            vals = _parse_cells(col, parse, name, errs)
        elif _REDO in vals:
            for i, v in enumerate(vals):
                if v is _REDO:
                    raw = col[i]
                    if raw is None or raw == "":
                        vals[i] = None
                        continue
                    try:
                        vals[i] = parse(raw)
                    except FieldError as exc:
                        errs.setdefault(i, []).append((name, str(exc)))
                        vals[i] = _BAD
        if required and (None in vals or [] in vals):
            for i, v in enumerate(vals):
                if v is None or v == []:
                    errs.setdefault(i, []).append((name, required_msg))
                    vals[i] = _BAD
        columns.append(vals)
    if max(lengths) > width:
        for i, cells in enumerate(cells_list):
            if len(cells) > width and any(c not in (None, "") and str(c).strip() for c in cells[width:]):
                errs.setdefault(i, []).append(("", beyond_msg))
    for i, values in enumerate(zip(*columns)):
        rowno, cells = buf[i]
        e = errs.get(i)
        if e:
            # every bad cell of the row, not only the first: the rules across fields too, over the good cells
            rec = {n: v for n, v in zip(names, values) if v is not _BAD}
            bad = {n for n, _ in e}
            e.extend(x for x in cross(kind, rec, present - bad) if x[0] not in bad)
            it = Item(rowno, cells, rec, e)
            if not bad.intersection(key_names):
                k = tuple(blank(x, "") if rec.get(x) is None else rec.get(x) for x in key_names)
                first = seen.get(k)
                if first is not None:
                    it.errors.append((dup_field, tr("与第{n}行重复（{k}）", "duplicate of row {n} ({k})", n=first,
                                                    k=dup_labels)))
                else:
                    seen[k] = rowno
            yield it
            continue
        rec = dict(zip(names, values))
        it = Item(rowno, cells, rec, [])
        e = cross(kind, rec, present)
        if e:
            it.errors.extend(e)  # and the duplicate check still (every error of the row)
        if single_key is not None:
            v = rec.get(single_key)
            k = (blank(single_key, "") if v is None else v,)
        else:
            k = tuple(blank(x, "") if rec.get(x) is None else rec.get(x) for x in key_names)
        first = seen.get(k)
        if first is not None:
            it.errors.append((dup_field, tr("与第{n}行重复（{k}）", "duplicate of row {n} ({k})", n=first,
                                            k=dup_labels)))
        else:
            seen[k] = rowno
        yield it


class Plan:
    """What one chunk changes, worked out before anything is written.

    ``writes``: (sql, rows) for :func:`core.db.executemany`, in order (inserts
    with their ids reserved, then updates); ``creates``: what the inserts'
    audit rows say (:meth:`Planner.creates_of` encodes them); ``entries``: the
    other audit rows; the item lists are kept for the handler's ``after_write``.
    """
    __slots__ = ("writes", "creates", "entries", "rejected", "inserts", "updates", "extras", "inserted", "updated",
                 "unchanged", "same", "post")

    def __init__(self):
        self.writes: list[tuple[str, list]] = []
        self.creates = None  # the inserts' audit rows, to encode column by column: (names, vals list)
        self.entries: list[audit.Entry] = []
        self.rejected: list[Item] = []
        self.inserts: list[Item] = []
        self.updates: list[Item] = []
        self.extras: list[Item] = []
        self.same: list[Item] = []  # unchanged records
        self.post = None  # the handler's plan_post(): applied by the writer after the writes (post_write)
        self.inserted = self.updated = self.unchanged = 0


class Planner:
    """Turns chunks of parsed items into :class:`Plan` s: references, scope, plugin checks, upsert, audit.

    It reads the database (references, existing rows, the next free ids) but
    never writes: :func:`run` applies each plan, in this process or — for a big
    file — while a forked worker plans the next chunks (:func:`_run_forked`).
    """

    def __init__(self, kind: str, handler: Handler, ctx: Context, now: dt.datetime):
        from core import plugins as plugins_mod

        self.kind = kind
        self.handler = handler
        self.ctx = ctx
        self.pm = plugins_mod.get()
        try:
            self.hooks = bool(self.pm.pm.hook.dangjian_validate_record.get_hookimpls())
        except Exception:
            self.hooks = True
        self.scope = ctx.scope
        self.login = audit.login_of(ctx.login)
        self.when = now.isoformat(sep=" ")  # as audit.rows_for writes it
        self.sqlite = db.is_sqlite()
        fields_ = handler.fields
        self.insert_sql = (f"INSERT INTO {_q(handler.table)} ({_q('id')}, "
                           f"{', '.join(_q(f.column_name) for f in fields_)}) "
                           f"VALUES ({', '.join('?' for _ in range(len(fields_) + 1))})")

    def reserve_ids(self, n: int):
        """``n`` new row ids for the handler's table (:meth:`Handler.reserve_ids`)."""
        return self.handler.reserve_ids(self.handler.table, n)

    def create_rows(self, names: list[str], columns: list[list], ids, communities) -> list[tuple]:
        """Audit rows of inserted records: ``columns[i]`` the values of ``names[i]``; None values left out."""
        return records.insert_audit_rows(self.handler.table, names, columns, ids, communities, self.login, self.when)

    def creates_of(self, p: Plan) -> list[tuple]:
        if p.creates is None:
            return []
        names, vals_list = p.creates
        return self.create_rows(names, [list(map(dict.get, vals_list, repeat(n))) for n in names],
                                [it.id for it in p.inserts], [it.community for it in p.inserts])

    def plan(self, items: list[Item]) -> Plan:
        handler, kind, scope, pm, hooks = self.handler, self.kind, self.scope, self.pm, self.hooks
        p = Plan()
        rejected = p.rejected
        handler.prepare(items)
        built = []
        half = []  # built with errors: still checked against their stored record (every error of a row at once)
        build_bad = handler.build_bad_rows
        for it in items:
            if it.errors:
                if build_bad:  # built over its good cells: its references and its stored record are checked too
                    bad = {n for n, _ in it.errors}
                    n = len(it.errors)
                    handler.build(it)
                    it.errors[n:] = [e for e in it.errors[n:] if e[0] not in bad]
                    half.append(it)
                else:
                    handler.ref_errors(it)
                    rejected.append(it)
                continue
            handler.build(it)
            if it.errors:
                half.append(it)
            else:
                built.append(it)
        handler.derive(built)  # derived fields for the whole block
        ok = []
        for it in built:
            if scope is not None and it.community not in scope:
                it.err(handler.scope_field, tr("不在你的权限范围内", "outside your scope"))
            if not it.errors and hooks:
                for msg in pm.validate_record(kind, dict(it.rec)):
                    it.err("", msg)
            if it.errors:
                half.append(it)
            else:
                ok.append(it)
        rejected.extend(half)
        checks = type(handler).check_existing is not Handler.check_existing
        half = [it for it in half if it.vals.get(handler.lookup) is not None] if checks else []
        if not ok and not half:
            p.post = handler.plan_post(p)
            return p
        existing = handler.fetch_existing(ok + half)
        handler.load_extra(ok + half, existing)
        for it in half:
            old = existing.get(handler.key(it.vals))
            if old is not None and scope is not None:
                oc = handler.existing_community(old)
                if oc is not None and oc not in scope:
                    continue  # a record outside the writer's scope says nothing more
            bad = {n for n, _ in it.errors}
            n = len(it.errors)
            handler.check_existing(it, old)
            it.errors[n:] = [e for e in it.errors[n:] if e[0] not in bad]
        inserts, updates, extras = p.inserts, p.updates, p.extras
        key = handler.key
        value_fields = handler.value_fields
        has_extra = type(handler).extra_diff is not Handler.extra_diff
        for it in ok:
            it.k = key(it.vals)
            old = existing.get(it.k)
            if old is not None and scope is not None:
                oc = handler.existing_community(old)
                if oc is not None and oc not in scope:
                    if kind in ("members", "workers"):
                        # the number is unique city-wide: one fixed answer, and the refusal is audited
                        it.err("id_number", validators.on_record_elsewhere())
                    else:
                        it.err(handler.scope_field, tr("已有记录不在你的权限范围内",
                                                       "the existing record is outside your scope"))
            if checks and not it.errors:
                handler.check_existing(it, old)
            extra = handler.extra_diff(it, old) if has_extra and not it.errors else None
            if it.errors:
                rejected.append(it)
                continue
            it.extra = extra
            if old is None:
                inserts.append(it)
                continue
            it.id = old["id"]
            vals = it.vals
            if list(map(old.get, value_fields)) == list(map(vals.get, value_fields)):
                changed = []  # equal values are the same (the usual re-import): no per-field comparison
            else:
                changed = [n for n in value_fields if not same(old.get(n), vals.get(n))]
            it.changed = (changed, old)
            if changed:
                updates.append(it)
            elif extra:
                extras.append(it)
            else:
                p.unchanged += 1
                p.same.append(it)
        entries = p.entries
        table = handler.table
        if inserts:
            getter = handler.row_getter
            defaults = handler.defaults
            new_ids = self.reserve_ids(len(inserts))
            for it, new_id in zip(inserts, new_ids):
                it.id = new_id
            p.writes.append((self.insert_sql, [(it.id, *getter({**defaults, **it.vals})) for it in inserts]))
            if not handler.audit_posts and not any(it.extra for it in inserts):
                # the audit rows say the values that are set (see create_rows)
                vals_list = [it.vals for it in inserts]
                p.creates = (sorted(set().union(*vals_list)), vals_list)
            else:
                for it in inserts:
                    vals = it.vals
                    new = dict(compress(vals.items(), map(is_not, vals.values(), repeat(None))))
                    if it.extra is not None:
                        new.update(it.extra["new"])
                    elif handler.audit_posts and it.rec.get("posts"):
                        new["posts"] = it.rec["posts"]
                        new["post_date"] = jsonable(it.rec.get("post_date"))
                    entries.append(audit.Entry("create", table, it.id, None, new, it.community))
        if updates:
            vf = handler.value_fields
            p.writes.append((handler.update_sql, [tuple(it.vals.get(n) for n in vf) + (it.id,) for it in updates]))
        for it in updates + extras:
            changed, old = it.changed
            o = {n: jsonable(old.get(n)) for n in changed}
            nw = {n: jsonable(it.vals.get(n)) for n in changed}
            if it.extra:
                o.update(it.extra["old"])
                nw.update(it.extra["new"])
            if it.flag:
                nw.update(it.flag)
            entries.append(audit.Entry("update", table, it.id, o, nw, it.community))
        p.inserted = len(inserts)
        p.updated = len(updates) + len(extras)
        p.post = handler.plan_post(p)
        return p


def _chunked(items_iter, size: int = CHUNK, first: int | None = None):
    """Lists of ``size`` items; the first ones smaller when ``first`` is given (the writer starts sooner)."""
    chunk = []
    want = first or size
    for it in items_iter:
        chunk.append(it)
        if len(chunk) >= want:
            yield chunk
            chunk = []
            want = min(size, want * 2)
    if chunk:
        yield chunk


# A file at least this big is planned by a forked worker while this process writes (~15k member rows).
FORK_MIN_BYTES = 1_500_000


def _fork_wanted(handler: Handler, table) -> bool:
    """Plan in a forked worker?  ``DANGJIAN_IMPORT_WORKER``: ``0`` never, ``1`` always (where possible)."""
    from core import procs

    cls = type(handler)
    # not for kinds whose later rows depend on this import's own writes: orgs and transfers (whole
    # file), communities, workers and meetings (after_write)
    return (not handler.whole_file
            and cls.after_write is Handler.after_write and cls.extra_diff is Handler.extra_diff
            and procs.wanted("DANGJIAN_IMPORT_WORKER", _size(table), FORK_MIN_BYTES))


def _size(table) -> int:
    try:
        return table.path.stat().st_size
    except (AttributeError, OSError):
        return 0


def run(kind: str, table, partial: bool, progress=None, correct: bool = False) -> Result:
    """Import the rows of ``table`` (an opened :class:`files.Table`) as ``kind``.

    ``correct`` (members, an administrator): organization and class changes of members on
    record are applied as corrections without history (the caller checks who may)."""
    from peewee import DatabaseError as PeeweeDBError, IntegrityError

    colmap = header_map(kind, table.header, table.name)
    present = {f.name for _, f in colmap}
    labels = {f.name: table.header[i] for i, f in colmap}
    ctx = Context(kind, correct)
    handler = handler_class(kind)(ctx, present)
    key_names = [f.name for f in validators.fields(kind) if f.key]
    res = Result()
    res.kind = kind
    res.labels = labels
    now = dt.datetime.now()
    planner = Planner(kind, handler, ctx, now)
    forked = _fork_wanted(handler, table)
    known_errors = set(map(tuple, planner.pm.errors()))

    def apply(p: Plan):
        for sql, rows in p.writes:
            db.executemany(sql, rows)
        handler.after_write(p.inserts, p.updates, [it for it in p.updates + p.extras if it.extra])
        handler.post_write(p.post)
        db.executemany(audit.INSERT_SQL, planner.creates_of(p))
        audit.record_many(p.entries + ctx.audit, user=ctx.login, at=now)
        ctx.audit.clear()
        res.rejected.extend(p.rejected)
        res.inserted += p.inserted
        res.updated += p.updated
        res.unchanged += p.unchanged

    import gc

    gc_was = gc.isenabled()
    gc.disable()  # a big import allocates millions of long-lived objects: full collections cost O(n²)
    try:
        with db.write_tx():
            items_iter = parse_items(kind, table.rows(), colmap, present, {}, key_names, labels)
            if forked:
                _run_forked(planner, items_iter, res, partial, now, progress)
            elif handler.whole_file:
                items = list(items_iter)
                for chunk in handler.chunks(items):
                    apply(planner.plan(chunk))
                    if progress:
                        progress.update(res.inserted + res.updated + res.unchanged + len(res.rejected))
            else:
                for chunk in _chunked(items_iter):
                    apply(planner.plan(chunk))
                    if progress:
                        progress.update(chunk[-1].rowno)
            if res.rejected and not partial:
                raise Rollback()
            handler.finish()
            audit.record_many(ctx.audit, user=ctx.login, at=now)
            ctx.audit.clear()
            res.written = True
    except Rollback:
        res.written = False
    except IntegrityError as exc:
        raise UserError(tr("{f}：与已有记录冲突，未写入任何记录（{e}）", "{f}: conflicts with existing records; nothing "
                           "was written ({e})", f=table.name, e=str(exc).splitlines()[0] if str(exc) else "")) from None
    except PeeweeDBError as exc:
        raise UserError(tr("{f}：数据库拒绝写入，未写入任何记录（{e}）", "{f}: the database refused the write; nothing "
                           "was written ({e})", f=table.name, e=str(exc).splitlines()[0] if str(exc) else "")) from None
    finally:
        if gc_was:
            gc.enable()
    if res.written and res.inserted + res.updated >= ANALYZE_AFTER_ROWS:
        db.refresh_statistics({handler.table, "roster_period"})
    res.labels = labels
    res.kind = kind
    if res.rejected:
        _audit_refusal(kind, table.name, res, partial, ctx.login)
    found = planner.pm.errors() + res.plugin_errors  # this process's, then the worker's
    res.plugin_errors = [e for e in dict.fromkeys(map(tuple, found)) if e not in known_errors]
    return res


#: Rows written from which an import refreshes PostgreSQL's planner statistics of what it wrote.
ANALYZE_AFTER_ROWS = 10_000


def _audit_refusal(kind: str, name, res: Result, partial: bool, login: str) -> None:
    """One audit row for an import that refused rows: who, when, the file, the rows refused
    (their numbers, not their content).  Written in its own transaction, so it stays even
    when the import itself wrote nothing."""
    rows = sorted({it.rowno for it in res.rejected})
    with db.write_tx():
        audit.record("refuse", kind, str(name), None,
                     {"file": str(name), "rows_refused": len(rows), "rows": rows[:1000],
                      "written": bool(res.written and partial)}, user=login)


# ---------------------------------------------------------------- the forked planner

# Plain values for marshal (what sqlite3's adapters would have bound: ISO dates, money as text).
_PLAIN = {dt.date: dt.date.isoformat, dt.datetime: lambda v: v.isoformat(sep=" "), Decimal: str}
_PLAIN_TYPES = frozenset(_PLAIN)
_NONE = type(None)


def _plain_columns(cols: list, where=None) -> bool:
    """Dates and money as the text SQLite stores (marshal has no date or Decimal), in ``cols`` (columns
    of rows) in place; True when any changed.

    ``where``: the positions that may hold such values (the others are not looked at); None: all.
    """
    plain = _PLAIN
    changed = False
    for i in range(len(cols)) if where is None else where:
        col = cols[i]
        kinds = set(map(type, col))
        if _PLAIN_TYPES.isdisjoint(kinds):
            continue
        changed = True
        blanks = _NONE in kinds
        kinds.discard(_NONE)
        if len(kinds) == 1:  # one type (and blanks): its conversion, without a look-up per value
            conv = plain[kinds.pop()]
            cols[i] = [None if v is None else conv(v) for v in col] if blanks else list(map(conv, col))
        else:
            cols[i] = [plain[v.__class__](v) if v.__class__ in plain else v for v in col]
    return changed


FOLD_MIN = 16  # rows of an INSERT before its constant columns are written into the statement (_wire)


def _literal(v):
    """``v`` as an SQL literal that stores what binding it stores (None: no such simple literal).

    NULL, integers (a bool is the integer 0 or 1, as sqlite3 binds it) and short text that
    UTF-8 can encode and without NUL; text in single quotes, its quotes doubled."""
    t = v.__class__
    if v is None:
        return "NULL"
    if t is bool:
        return "1" if v else "0"
    if t is int:
        return repr(v) if -(1 << 62) <= v < (1 << 62) else None
    if t is str and len(v) <= 256 and "\x00" not in v:
        try:
            v.encode("utf-8")
        except UnicodeEncodeError:
            return None
        return "'" + v.replace("'", "''") + "'"
    return None


def _wire(sql: str, rows: list[tuple], where=None) -> tuple[str, list[tuple], list | None]:
    """A statement and its rows as the worker sends them: ``(sql, rows, kept)``.

    Dates and money as text (:func:`_plain_columns`); and for an INSERT of at least
    :data:`FOLD_MIN` rows, a column with one and the same value in every row (the audit
    rows' time, user and action, a member's version, a column left empty) is written into
    the statement as a literal instead of being bound row by row: the same rows stored,
    less for the writer to do.  ``kept``: for each column of ``rows``, its position in the
    rows sent, or ``(value,)`` when it went into the statement; None when all were kept.
    """
    if not rows:
        return sql, rows, None
    cols = list(zip(*rows))
    changed = _plain_columns(cols, where)
    head, sep, tail = sql.partition(" VALUES (")
    if len(rows) < FOLD_MIN or tail != ", ".join("?" for _ in cols) + ")":
        return sql, list(zip(*cols)) if changed else rows, None
    n = len(rows)
    marks, kept, keep = [], [], []
    for col in cols:
        first = col[0]
        lit = _literal(first)
        if lit is not None and col.count(first) == n and len(set(map(type, col))) == 1:
            marks.append(lit)
            kept.append((first,))
        else:
            marks.append("?")
            kept.append(len(keep))
            keep.append(col)
    if not keep or len(keep) == len(cols):  # nothing to bind at all: left as it is (executemany needs values)
        return sql, list(zip(*cols)) if changed else rows, None
    return head + sep + ", ".join(marks) + ")", list(zip(*keep)), kept


def _creates_from_rows(planner: "Planner", creates, insert_rows: list[tuple]) -> list[tuple]:
    """The inserts' audit rows encoded from their insert rows as sent (:func:`_wire`): ``creates`` is
    ``(names, where, communities, id_where)``, each ``where`` a position in an insert row or
    ``(value,)``, a value the statement holds."""
    names, where, communities, id_where = creates
    columns = list(zip(*insert_rows))
    n = len(insert_rows)

    def column(w):
        return columns[w] if w.__class__ is int else [w[0]] * n
    return planner.create_rows(names, [column(w) for w in where], column(id_where), communities)


def _typed_positions(handler: Handler, planner: Planner) -> dict[str, list[int]]:
    """For each statement of a plan, the positions of date, time and money values in its rows."""
    from peewee import DateField, DateTimeField, DecimalField

    typed = (DateField, DateTimeField, DecimalField)
    fields_ = handler.model._meta.fields
    return {planner.insert_sql: [i for i, f in enumerate(handler.fields, 1) if isinstance(f, typed)],
            handler.update_sql: [i for i, n in enumerate(handler.value_fields) if isinstance(fields_[n], typed)]}


def _send(out, tag: bytes, meta, writes=None) -> None:
    import marshal
    import pickle
    import struct

    head = pickle.dumps(meta, protocol=pickle.HIGHEST_PROTOCOL)
    body = b""
    how = b"n"
    if writes is not None:
        try:
            body, how = marshal.dumps(writes), b"m"
        except ValueError:  # a value marshal does not know: pickle keeps it (bound by sqlite3's adapters)
            body, how = pickle.dumps(writes, protocol=pickle.HIGHEST_PROTOCOL), b"p"
    out.write(tag + how + struct.pack("<QQ", len(head), len(body)) + head)
    out.write(body)  # written as it is (a chunk's rows are a megabyte or more: not copied into one message)
    out.flush()


def _recv(inp):
    import marshal
    import pickle
    import struct

    top = inp.read(18)
    if len(top) < 18:
        return None, None, None
    tag, how = top[:1], top[1:2]
    n_head, n_body = struct.unpack("<QQ", top[2:])
    meta = pickle.loads(inp.read(n_head))
    body = inp.read(n_body) if n_body else b""
    writes = marshal.loads(body) if how == b"m" else pickle.loads(body) if how == b"p" else None
    return tag, meta, writes


def _worker(planner: Planner, items_iter, out, partial: bool, now, applied) -> None:
    """In the forked worker: plan every chunk and send it (no writes here).

    ``applied`` (memory shared with the writer) counts the chunks the writer
    has written.  The inserts' audit rows are encoded by the writer while it
    keeps up, and here while it is still on an earlier chunk (the writer is
    then the slower of the two).
    """
    db.reopen_in_child()  # the parent's connection, mid-transaction, is never touched here
    ctx = planner.ctx
    failed = False
    position = {f.name: i for i, f in enumerate(planner.handler.fields, 1)}  # in an insert row; 0 is the id
    typed = _typed_positions(planner.handler, planner)
    sent = 0
    for chunk in _chunked(items_iter, first=250):
        p = planner.plan(chunk)
        failed = failed or bool(p.rejected)
        writes = creates = None
        if not (failed and not partial):  # all-or-nothing with a bad row: nothing will be kept, send no rows
            writes, kept = [], []
            for sql, rows in p.writes:
                sql, rows, k = _wire(sql, rows, typed.get(sql))
                writes.append((sql, rows))
                kept.append(k)
            audit_rows = audit.rows_for(p.entries, user=ctx.login, at=now)
            if p.creates is not None and all(n in position for n in p.creates[0]):
                # the inserts' audit rows, from the insert rows: encoded by the writer while it keeps up,
                # here while it is still on an earlier chunk (then it is the slower of the two)
                names = p.creates[0]
                at = (lambda i: i) if kept[0] is None else kept[0].__getitem__  # p.writes[0]: the inserts
                creates = (names, [at(position[n]) for n in names], [it.community for it in p.inserts], at(0))
                if sent - int.from_bytes(applied[:8], "little") >= 1:
                    audit_rows = _creates_from_rows(planner, creates, writes[0][1]) + audit_rows
                    creates = None
            else:
                audit_rows = planner.creates_of(p) + audit_rows
            if creates is None:
                sql, audit_rows, _k = _wire(audit.INSERT_SQL, audit_rows)
            else:  # the writer adds the inserts' rows to these (as they are: it finds them by the statement)
                sql = audit.INSERT_SQL
            writes.append((sql, audit_rows))
        rejected = [(it.rowno, it.cells, it.errors) for it in p.rejected]
        post = p.post if writes is not None else None
        _send(out, b"P", (chunk[-1].rowno, p.inserted, p.updated, p.unchanged, rejected, creates, post), writes)
        sent += 1
    # plugin hooks that raised here: the parent reports them and keeps them (core.plugin_status)
    _send(out, b"D", (planner.pm.errors(), planner.pm.failures))


def _run_forked(planner: Planner, items_iter, res: Result, partial: bool, now, progress) -> None:
    """Plan in a forked worker while this process writes what it sends (one transaction, this process's).

    The worker reads the database through its own connection: it sees what
    was committed before this import began, which is what the planner needs —
    no other writer can commit while this process holds the write lock, and a
    kind whose later rows depend on this import's own writes is never forked.

    SQLite and fork: the worker never uses (or closes) the connection it
    inherits, and it has ended before this process commits, so no checkpoint
    of this import runs while it reads.  Its snapshot is this transaction's
    own (nothing else committed in between), which the read lock this
    process holds keeps from other processes' checkpoints; this process only
    appends to the WAL meanwhile and never writes the database file.
    """
    import mmap
    import os
    import traceback

    from core import procs

    applied = mmap.mmap(-1, 8)  # shared with the worker: chunks written so far
    done_chunks = 0
    r_fd, w_fd = os.pipe()
    try:
        import fcntl

        fcntl.fcntl(w_fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)  # let the worker run chunks ahead
    except (ImportError, OSError):
        pass
    pid = os.fork()
    if pid == 0:  # the worker
        code = 0
        try:
            os.close(r_fd)
            out = os.fdopen(w_fd, "wb", buffering=1 << 20)
            try:
                _worker(planner, items_iter, out, partial, now, applied)
            except UserError as exc:
                _send(out, b"U", str(exc))
            except BaseException:  # noqa: BLE001 - reported by the parent, which rolls back
                _send(out, b"E", traceback.format_exc())
            out.flush()
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(w_fd)
    inp = os.fdopen(r_fd, "rb", buffering=1 << 20)
    done = False
    try:
        while True:
            tag, meta, writes = _recv(inp)
            if tag is None:
                break
            if tag == b"D":
                errors, failures = meta
                res.plugin_errors.extend(errors)
                planner.pm.adopt(failures)
                done = True
                break
            if tag == b"U":
                raise UserError(meta)
            if tag == b"E":
                raise RuntimeError("import worker failed:\n" + meta)
            rowno, inserted, updated, unchanged, rejected, creates, post = meta
            for sql, rows in writes or ():
                if creates is not None and sql == audit.INSERT_SQL:  # the inserts' audit rows come first
                    rows = _creates_from_rows(planner, creates, writes[0][1]) + rows
                db.executemany(sql, rows)
            if post is not None:  # the handler's own writes after the chunk's (certificates, roster members)
                ctx = planner.ctx
                planner.handler.post_write(post)
                audit.record_many(ctx.audit, user=ctx.login, at=now)
                ctx.audit.clear()
            res.inserted += inserted
            res.updated += updated
            res.unchanged += unchanged
            res.rejected.extend(Item(n, cells, None, errors) for n, cells, errors in rejected)
            done_chunks += 1
            applied[:8] = done_chunks.to_bytes(8, "little")
            if progress:
                progress.update(rowno)
        if not done:
            raise UserError(tr("导入的工作进程意外退出，未写入任何记录", "the import worker process ended unexpectedly; "
                               "nothing was written"))
    finally:
        inp.close()
        procs.reap(pid, stop=not done)
