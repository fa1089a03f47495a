"""Records of any kind (:mod:`core.kinds`): the generic record lists and one record's
values, a one-line description of a record, and references by code / ID number / name.
Writes go through :mod:`core.records`, never here."""
from __future__ import annotations

from core import kinds
from core import models as m
from core.read.members import member_by_id_number
from core.read.organizations import community_by_code, org_by_code
from core.read.paging import PAGE
from core.read.workers import worker_by_id_number
from core.view import View


def ref_label(model, pk) -> str:
    """A short human label of a referenced record: code, ID number or name (unmasked: show
    it through the view, as :func:`describe` does)."""
    if pk is None:
        return ""
    obj = model.get_or_none(model.id == pk)
    if obj is None:
        return ""
    for attr in ("code", "id_number", "name", "number", "login"):
        if attr in model._meta.fields:
            return str(getattr(obj, attr))
    return str(pk)


def resolve_ref(view: View, model, text: str):
    """The id of the record of ``model`` named by ``text`` (code / ID number / name) in the view, or None."""
    text = (text or "").strip()
    if not text:
        return None
    if model is m.Member:
        r = member_by_id_number(view, text)
    elif model is m.Worker:
        r = worker_by_id_number(view, text)
    elif model is m.Organization:
        r = org_by_code(view, text)
    elif model is m.Community:
        r = community_by_code(view, text)
    else:
        key = None
        for attr in ("code", "number", "name"):
            if attr in model._meta.fields:
                key = attr
                break
        q = view.select(model)
        if key:
            obj = q.where(getattr(model, key) == text).first()
        elif text.isdigit():
            obj = q.where(model.id == int(text)).first()
        else:
            obj = None
        r = None if obj is None else {"id": obj.id}
    return None if r is None else r["id"]


def record(view: View, kind: str, pk: int) -> dict | None:
    """One record as a dict of field values (FKs as ids) with its ``version``; None when not in the view."""
    model = kinds.get(kind).model
    obj = view.select(model).where(model.id == pk).first()
    if obj is None:
        return None
    out = {}
    for name, field in model._meta.fields.items():
        out[name] = getattr(obj, field.column_name if hasattr(field, "rel_model") else name)
    return out


def describe(view: View, model, obj) -> str:
    """A one-line description of a record for the drill-down list, as the view shows it
    (ID numbers and phones masked, an age instead of a birth date, unless the user may see them;
    codes by their label, a yes/no field by its name when yes)."""
    from core.i18n import get_lang
    from core.numbers import format_money

    kind = kinds.of_model(model)
    declared = {f.name: f for f in kind.fields} if kind is not None else {}
    lang = get_lang()
    parts = []
    for name, field in model._meta.fields.items():
        if name in ("id", "version", "initials"):
            continue
        val = getattr(obj, field.column_name if hasattr(field, "rel_model") else name)
        if val in (None, ""):
            continue
        kf = declared.get(name)
        if (kf is not None and kf.type == "bool") or isinstance(val, bool):
            if not val:
                continue
            val = (kf.label if lang == "zh" else kf.en) if kf is not None else name
        elif kf is not None and kf.choice is not None:
            val = kf.choice.label(val, lang)
        elif hasattr(field, "rel_model"):
            val = ref_label(field.rel_model, val)
            if field.rel_model in (m.Member, m.Worker):
                val = view.mask_id(val)
        elif kf is not None and kf.type == "money":  # an amount as everywhere: 15,000.00
            val = format_money(val)
        else:
            val = view.mask_values({name: val})[name]
        parts.append(str(view.mask_text(str(val))))
        if len(parts) >= 6:
            break
    return " ".join(parts)


def record_rows(view: View, kind: str, *, after: int | None = None, limit: int = PAGE, offset: int = 0,
                count: bool = False):
    """A page of records of ``kind`` in the view (newest id first); values as stored, FKs as ids,
    with ``_text`` the one-line description.  ``after`` = last id seen (ids smaller follow)."""
    model = kinds.get(kind).model
    q = view.select(model)
    if count:
        return q.count()
    if after:
        q = q.where(model.id < after)
    rows = []
    for o in q.order_by(model.id.desc()).offset(offset or None).limit(limit):
        rows.append({"id": o.id, "version": o.version, "_text": describe(view, model, o)})
    return rows


def record_count(view: View, kind: str) -> int:
    return view.select(kinds.get(kind).model).count()
