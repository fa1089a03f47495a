"""The record form (记录表单): create or edit any record kind, keyboard only.

    self.app.push_screen(FormScreen("trainings", fixed={"worker": id_number}), on_saved)
    self.app.push_screen(FormScreen("visits", record_id=42), on_saved)   # edit

``FormScreen`` is a ``ModalScreen[int | None]``: it dismisses with the id of the
saved record, or None when the user pressed Esc.  Fields come from the spec of
the kind — ``core.validators.FIELDS`` for the import kinds of SPEC §5 (the
very parsers and cross-field rules the importer uses), :data:`EXTRA_FIELDS`
for the other records — and become widgets by type: text/date/month/money/
number/ID number/reference → ``Input``, enumeration → ``Select``, boolean →
a 是/否 ``Select`` (empty: not given).  References are typed by their natural key (community code,
org code, meeting code, ID number), as in the import files.

Saving (F10 or ctrl+s) runs in a thread worker:

1. every value is parsed and the record validated with
   ``core.validators.clean_record`` — errors appear beside their field and
   nothing is written;
2. references are resolved to ids inside the user's scope;
3. the record goes through ``core.records.create`` / ``update`` (scope rules,
   read-only users, audit log, optimistic locking).  A ``StaleEdit`` (someone
   changed the record since the form read it) is shown with both values —
   yours and the current ones — and nothing is overwritten; F5 reloads the
   current values.

ID numbers and phones are shown masked unless the user may see them; an
unchanged masked value keeps the stored one.

:func:`save_record` is the same save path without the screen (tests, other
screens): ``save_record(kind, raw, record_id=None, version=None)``.
"""
from __future__ import annotations

import ast
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Footer, Input, Label, Select, Static
from textual.worker import Worker, WorkerState

from core import enums
from core import ledger_queries as lq
from core import models as m
from core import validators as V
from core.i18n import get_lang, tr
from tui.app import tb, translate_bindings

F = V.F
E = enums

# ---------------------------------------------------------------- specs of the other record kinds

EXTRA_FIELDS: dict[str, list[V.Field]] = {
    "posts": [
        F("worker", "公民身份号码", "ID number", "idref:worker", required=True),
        F("post", "职务", "post", "choice", required=True, choice=E.POST),
        F("start_date", "开始日期", "start date", "date", required=True),
        F("end_date", "结束日期", "end date", "date"),
    ],
    "certificates": [
        F("number", "活动证号", "certificate no", required=True, max_length=64),
        F("member", "公民身份号码", "ID number", "idref:member", required=True),
        F("issued_by", "发证单位", "issued by", max_length=128),
        F("issue_date", "发证日期", "issue date", "date"),
        F("destination", "流向地", "destination", max_length=128),
        F("valid_until", "有效期至", "valid until", "date", not_future=False),
        F("returned_date", "交回日期", "returned date", "date"),
    ],
    "committees": [
        F("community", "社区编码", "community code", "ref:community", required=True),
        F("name", "居委会名称", "name", required=True, max_length=64),
    ],
    "services": [
        F("community", "社区编码", "community code", "ref:community", required=True),
        F("target_group", "服务对象", "target group", "choice", required=True, choice=E.SERVICE_TARGET),
        F("free", "无偿", "free", "bool"),
        F("date", "日期", "date", "date", required=True),
        F("content", "内容", "content", required=True, max_length=256),
    ],
    "commitments": [
        F("member", "党员身份号码", "member ID number", "idref:member"),
        F("organization", "组织编码", "org code", "ref:org"),
        F("year", "年度", "year", "year", required=True),
        F("content", "承诺内容", "content", required=True, max_length=256),
        F("fulfilled", "已兑现", "fulfilled", "bool"),
        F("fulfilled_date", "兑现日期", "fulfilled date", "date"),
    ],
    "zones": [
        F("member", "公民身份号码", "ID number", "idref:member", required=True),
        F("community", "社区编码", "community code", "ref:community", required=True),
        F("name", "责任区", "zone", required=True, max_length=128),
        F("description", "说明", "description", max_length=256),
    ],
    "duty_posts": [
        F("member", "公民身份号码", "ID number", "idref:member", required=True),
        F("name", "岗位", "post", required=True, max_length=128),
        F("duties", "职责", "duties", max_length=256),
        F("since", "设岗日期", "since", "date"),
    ],
    "volunteer_hours": [
        F("member", "公民身份号码", "ID number", "idref:member", required=True),
        F("date", "日期", "date", "date", required=True),
        F("hours", "时长（小时）", "hours", "days", required=True),
        F("activity", "活动", "activity", max_length=256),
    ],
    "pairings": [
        F("member", "公民身份号码", "ID number", "idref:member", required=True),
        F("household", "帮扶对象", "household", required=True, max_length=128),
        F("since", "开始日期", "since", "date", required=True),
        F("until", "结束日期", "until", "date", not_future=False),
    ],
    "diary": [
        F("community", "社区编码", "community code", "ref:community", required=True),
        F("member", "党员身份号码", "member ID number", "idref:member"),
        F("worker", "社工身份号码", "worker ID number", "idref:worker"),
        F("date", "日期", "date", "date", required=True),
        F("content", "内容", "content", required=True, max_length=4000),
    ],
    "decisions": [
        F("code", "事项编号", "decision code", required=True, max_length=48),
        F("community", "社区编码", "community code", "ref:community", required=True),
        F("title", "事项", "title", required=True, max_length=256),
        F("proposed", "党组织提议", "proposed", "date"),
        F("consulted", "两委会商议", "consulted", "date"),
        F("reviewed", "党员大会审议", "reviewed", "date"),
        F("resolved", "居民会议决议", "resolved", "date"),
        F("published", "决议公开", "published", "date"),
        F("result_published", "实施结果公开", "result published", "date"),
    ],
    "facilities": [
        F("community", "社区编码", "community code", "ref:community", required=True),
        F("kind", "阵地类型", "kind", "choice", required=True, choice=E.FACILITY_KIND),
        F("name", "名称", "name", max_length=128),
        F("area", "面积（平方米）", "area (m2)", "days"),
        F("shared", "与居民共用", "shared", "bool"),
        F("opened", "启用日期", "opened", "date"),
    ],
    "units": [
        F("community", "社区编码", "community code", "ref:community", required=True),
        F("name", "单位名称", "name", required=True, max_length=128),
        F("kind", "单位类型", "kind", "choice", required=True, choice=E.UNIT_KIND),
        F("has_party_org", "建有党组织", "has Party org", "bool"),
        F("part_time_member", "兼职委员", "part-time member", "bool"),
        F("joint_meeting_member", "联席会议成员", "joint-meeting member", "bool"),
    ],
    "consultations": [
        F("unit", "驻区单位", "resident unit", "ref:unit", required=True),
        F("date", "日期", "date", "date", required=True),
        F("subject", "事项", "subject", "choice", required=True,
          choice=E.Choice("consult_subject", "事项", [("admission", "发展党员", "admission"),
                                                     ("promotion", "干部提拔", "promotion")])),
        F("person", "对象", "person", max_length=64),
        F("opinion", "社区意见", "opinion", max_length=256),
    ],
    "leader_points": [
        F("leader_name", "领导姓名", "leader name", required=True, max_length=64),
        F("leader_post", "职务", "post", max_length=128),
        F("community", "社区编码", "community code", "ref:community", required=True),
        F("since", "建点日期", "since", "date", required=True),
    ],
    "entry_items": [
        F("name", "事项名称", "name", required=True, max_length=128),
        F("department", "部门", "department", required=True, max_length=128),
        F("approval_date", "批准日期", "approval date", "date"),
        F("funds", "随转经费", "funds", "money"),
        F("meetings_per_year", "每年会议数", "meetings a year", "int"),
        F("ledgers_per_year", "每年台账数", "ledgers a year", "int"),
        F("reports_per_year", "每年报表数", "reports a year", "int"),
    ],
}

# Money fields that the validators parse as "days" (one decimal) but the model keeps as a
# number: fine.  Form-only extras of an import kind (members' status, workers' posts) are
# translated by the save path below.


def form_fields(kind: str) -> list[V.Field]:
    if kind in V.FIELDS:
        return V.FIELDS[kind]
    return EXTRA_FIELDS[kind]


def label_of(f: V.Field) -> str:
    return f.en if get_lang() == "en" else f.label


# ---------------------------------------------------------------- the save path (no textual)

REF_MODELS = {"community": m.Community, "org": m.Organization, "meeting": m.Meeting,
              "member": m.Member, "worker": m.Worker, "unit": m.ResidentUnit}


@dataclass
class SaveResult:
    status: str  # ok / invalid / stale / error / unchanged
    record_id: int | None = None
    errors: list = field(default_factory=list)  # [(field, message)]
    mine: dict = field(default_factory=dict)
    theirs: dict = field(default_factory=dict)
    message: str = ""


def _ref_target(f: V.Field) -> str:
    return f.type.split(":", 1)[1]


def _parse_extra(kind: str, raw: dict) -> tuple[dict, list]:
    rec, errs = {}, []
    for f in form_fields(kind):
        try:
            if f.type == "ref:unit":
                val = V.parse_text(raw.get(f.name), 128)
            else:
                val = V.parse_value(f, raw.get(f.name))
        except V.FieldError as exc:
            errs.append((f.name, str(exc)))
            continue
        if f.required and val in (None, []):
            errs.append((f.name, tr("必填", "required")))
            continue
        rec[f.name] = val
    if not errs and kind == "commitments" and not rec.get("member") and not rec.get("organization"):
        errs.append(("member", tr("党员或组织至少填一项", "give a member or an organization")))
    return rec, errs


def _resolve_refs(kind: str, rec: dict) -> tuple[dict, list]:
    """Natural keys → ids, inside the user's scope."""
    out, errs = dict(rec), []
    for f in form_fields(kind):
        if not f.is_ref:
            continue
        v = rec.get(f.name)
        if v in (None, ""):
            out[f.name] = None
            continue
        target = _ref_target(f)
        pk = lq.resolve_ref(REF_MODELS[target], str(v))
        if pk is None:
            errs.append((f.name, tr("未找到或不在您的权限范围内：{v}", "not found or outside your scope: {v}",
                                    v=lq.show_id(v) if f.type.startswith("idref:") else v)))
        out[f.name] = pk
    return out, errs


def _model_values(kind: str, model, rec: dict) -> dict:
    from core import pinyin

    values = {k: v for k, v in rec.items() if k in model._meta.fields and k not in ("id", "version")}
    if kind == "visits":
        values["demand"] = values.get("demand") or ""
        values["people"] = values.get("people") or 1
    if kind == "dues" and values.get("paid") is None:
        values["paid"] = Decimal("0.00")
    if model in (m.Member, m.Worker) and "name" in values:
        values["initials"] = pinyin.initials(values["name"])
    if kind == "members" and values.get("community") is None and values.get("organization"):
        values["community"] = m.Organization.get_by_id(values["organization"]).community_id
    for k, f in model._meta.fields.items():  # booleans left empty take the model default
        if k in values and values[k] is None and not f.null and f.default is not None:
            values[k] = f.default() if callable(f.default) else f.default
    return values


def _split_record_errors(exc) -> list:
    out = []
    for e in getattr(exc, "errors", None) or [str(exc)]:
        if isinstance(e, tuple) and len(e) == 2:
            out.append(e)
            continue
        s = str(e)
        if s.startswith("(") and s.endswith(")"):
            try:
                t = ast.literal_eval(s)
                if isinstance(t, tuple) and len(t) == 2:
                    out.append((str(t[0]), str(t[1])))
                    continue
            except (ValueError, SyntaxError):
                pass
        out.append(("", s))
    return out


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        try:
            return Decimal(str(a)) == Decimal(str(b))
        except Exception:
            return False
    return str(a) == str(b)


def _worker_posts(worker_id: int, posts: list[str], start: dt.date | None) -> None:
    """Make the worker's current posts ``posts`` from ``start``: posts no longer held end on
    ``start``, new ones begin then (history kept).  Through core.records."""
    from core import records

    now = start or lq.today()
    current = list(m.WorkerPost.select().where((m.WorkerPost.worker == worker_id)
                                               & m.WorkerPost.end_date.is_null()))
    held = {p.post for p in current}
    for p in current:
        if p.post not in posts:
            records.update(m.WorkerPost, p.id, {"end_date": now}, p.version)
    for code in posts:
        if code not in held:
            records.create(m.WorkerPost, {"worker": worker_id, "post": code, "start_date": now})


def save_record(kind: str, raw: dict, record_id: int | None = None, version: int | None = None,
                original: dict | None = None) -> SaveResult:
    """Validate ``raw`` (field → text/bool/code) like an import row, then create or update the
    record through :mod:`core.records`.  ``original`` (the parsed values the form started from)
    limits an update to the fields the user changed."""
    from core import records
    from core.db import write_tx
    from core.errors import StaleEdit, UserError

    model = lq.KIND_MODELS[kind]
    try:
        if kind in V.FIELDS:
            rec, errs = V.clean_record(kind, raw)
        else:
            rec, errs = _parse_extra(kind, raw)
        if errs:
            return SaveResult("invalid", errors=errs)
        resolved, errs = _resolve_refs(kind, rec)
        if errs:
            return SaveResult("invalid", errors=errs)
        values = _model_values(kind, model, resolved)
        posts = resolved.get("posts") if kind == "workers" else None
        with write_tx():
            if record_id is None:
                obj = records.create(model, values)
                new_id = obj.id
            else:
                new_id = record_id
                if original is not None:
                    values = {k: v for k, v in values.items() if k not in original or not _same(original[k], v)}
                if values:
                    records.update(model, record_id, values, version)
            if kind == "workers" and posts is not None:
                _worker_posts(new_id, posts, resolved.get("post_date"))
        if record_id is not None and not values and posts is None:
            return SaveResult("unchanged", record_id=record_id)
        return SaveResult("ok", record_id=new_id)
    except StaleEdit as exc:
        return SaveResult("stale", record_id=record_id, mine=dict(exc.mine or {}), theirs=dict(exc.theirs or {}),
                          message=str(exc))
    except records.RecordInvalid as exc:
        return SaveResult("invalid", errors=_split_record_errors(exc))
    except UserError as exc:
        return SaveResult("error", message=str(exc))


def load_form(kind: str, record_id: int) -> dict | None:
    """The record as the form shows it: {"raw": field → text, "original": parsed values,
    "version": n, "hidden": field → (shown, real)} (masked personal data keep the real value)."""
    rec = lq.record(kind, record_id)
    if rec is None:
        return None
    model = lq.KIND_MODELS[kind]
    raw, original, hidden = {}, {}, {}
    for f in form_fields(kind):
        name = f.name
        val = rec.get(name)
        if f.is_ref:
            target = REF_MODELS[_ref_target(f)]
            text = lq.ref_label(target, val) if val is not None else ""
            if target is m.ResidentUnit and val is not None:
                text = m.ResidentUnit.get_by_id(val).name
            original[name] = val
            if f.type.startswith("idref:") and text:
                shown = lq.show_id(text)
                if shown != text:
                    hidden[name] = (shown, text)
                text = shown
            raw[name] = text
            continue
        if kind == "members" and name == "status":
            full = rec.get("full_date")
            raw[name] = "full" if full and full <= lq.today() else "probationary"
            continue
        if kind == "workers" and name in ("posts", "post_date"):
            posts = lq.current_posts([record_id]).get(record_id, [])
            if name == "posts":
                raw[name] = V.format_posts(posts)
            else:
                starts = [p.start_date for p in m.WorkerPost.select().where(
                    (m.WorkerPost.worker == record_id) & m.WorkerPost.end_date.is_null())]
                raw[name] = max(starts).isoformat() if starts else ""
            continue
        if name not in model._meta.fields:
            continue
        original[name] = val
        if f.type == "bool":
            raw[name] = bool(val)
        elif f.type == "choice":
            raw[name] = val
        elif val is None:
            raw[name] = ""
        elif isinstance(val, dt.date):
            raw[name] = val.isoformat()
        else:
            raw[name] = str(val)
        if f.type == "id" and raw[name]:
            shown = lq.show_id(raw[name])
            if shown != raw[name]:
                hidden[name] = (shown, raw[name])
                raw[name] = shown
        if name == "phone" and raw[name]:
            shown = lq.show_phone(raw[name])
            if shown != raw[name]:
                hidden[name] = (shown, raw[name])
                raw[name] = shown
    return {"raw": raw, "original": original, "version": rec["version"], "hidden": hidden}


# ---------------------------------------------------------------- thread workers for modal screens

class DbWorkMixin:
    """``run_db(fn, *args, on_done=cb)`` for screens that are not a DangjianScreen (dialogs):
    ``fn`` runs in a ``thread=True, exclusive=True, exit_on_error=False`` worker; the result
    comes back to ``cb`` on the UI thread; errors go to the app's one error handler."""

    def run_db(self, fn: Callable, *args, on_done: Callable | None = None, group: str = "load", **kwargs):
        worker = self.run_worker(lambda: fn(*args, **kwargs), thread=True, exclusive=True, group=group,
                                 exit_on_error=False, name=getattr(fn, "__name__", "db"))
        if not hasattr(self, "_db_callbacks"):
            self._db_callbacks = {}
        if on_done is not None:
            self._db_callbacks[worker] = on_done
        return worker

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        callbacks = getattr(self, "_db_callbacks", {})
        worker = event.worker
        if event.state == WorkerState.SUCCESS:
            cb = callbacks.pop(worker, None)
            if cb is not None and self.is_attached:
                cb(worker.result)
        elif event.state == WorkerState.ERROR:
            callbacks.pop(worker, None)
            report_error(self.app, worker.error)
        elif event.state == WorkerState.CANCELLED:
            callbacks.pop(worker, None)


def report_error(app, error) -> None:
    handler = getattr(app, "report_error", None)
    if handler is not None:
        handler(error)
    elif error is not None:
        app.notify(f"{type(error).__name__}: {error}", severity="error")


# ---------------------------------------------------------------- the form screen

def _show_value(v) -> str:
    if v is None or v == "":
        return tr("（空）", "(empty)")
    if isinstance(v, bool):
        return tr("是", "yes") if v else tr("否", "no")
    if isinstance(v, Decimal):
        return f"{v}"
    return str(v)


class FormScreen(DbWorkMixin, ModalScreen):
    """Create or edit one record of ``kind``; dismisses with the record id (None: cancelled).

    ``fixed``: field → raw value shown but not editable (e.g. the worker of a new training);
    ``defaults``: initial raw values for a new record; ``fields``: the field names to show
    (default all of the kind's spec).
    """

    BINDINGS = [
        tb("f10", "save", "保存|Save", id="form.save"),
        tb("ctrl+s", "save", "保存|Save", id="form.save_ctrl_s", show=False),
        tb("ctrl+r", "reload", "重新读取|Reload", id="form.reload", show=False),
        tb("escape", "cancel", "取消|Cancel", id="form.cancel"),
    ]

    DEFAULT_CSS = """
    FormScreen { align: center middle; }
    FormScreen > Vertical { width: 100%; max-width: 110; height: 100%; max-height: 40;
        background: $panel; border: round $accent; padding: 0 1; }
    FormScreen #form-title { text-style: bold; color: $accent; height: 1; }
    FormScreen #form-fields { height: 1fr; }
    FormScreen .frow { height: auto; min-height: 1; }
    FormScreen .flabel { width: 16; height: 1; padding: 0 1 0 0; }
    FormScreen .flabel.required { text-style: bold; }
    FormScreen .fwidget { width: 1fr; }
    FormScreen .ferror { width: 26; height: auto; color: $error; padding: 0 0 0 1; }
    FormScreen #form-errors { color: $error; height: auto; }
    FormScreen #form-stale { color: $warning; height: auto; max-height: 10; }
    """

    def __init__(self, kind: str, record_id: int | None = None, *, fixed: dict | None = None,
                 defaults: dict | None = None, fields: list[str] | None = None, title: str | None = None):
        super().__init__()
        translate_bindings(self)
        self.kind = kind
        self.record_id = record_id
        self.fixed = dict(fixed or {})
        self.defaults = dict(defaults or {})
        self.specs = [f for f in form_fields(kind) if fields is None or f.name in fields or f.name in self.fixed]
        self.title_text = title or (tr("修改", "Edit ") if record_id else tr("新增", "New ")) + lq.kind_title(kind)
        self.version: int | None = None
        self.original: dict | None = None
        self.hidden: dict = {}
        self.saving = False
        self.last_result: SaveResult | None = None

    # -- layout
    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, id="form-title")
            with VerticalScroll(id="form-fields"):
                for f in self.specs:
                    with Horizontal(classes="frow", id=f"row-{f.name}"):
                        lab = label_of(f) + ("*" if f.required else "")
                        yield Label(lab, classes="flabel" + (" required" if f.required else ""))
                        yield self._widget(f)
                        yield Static("", classes="ferror", id=f"err-{f.name}", markup=False)
            yield Static("", id="form-errors", markup=False)
            yield Static("", id="form-stale", markup=False)
            yield Footer()

    def _widget(self, f: V.Field):
        wid = f"f-{f.name}"
        disabled = f.name in self.fixed
        if f.type == "choice":
            options = [(f.choice.label(c, get_lang()), c) for c in f.choice.codes]
            w = Select(options, prompt=tr("请选择", "choose"), allow_blank=True, id=wid, compact=True,
                       disabled=disabled, classes="fwidget")
        elif f.type == "bool":  # 是/否 spelled out (a checkbox glyph is unclear on a monochrome terminal)
            w = Select([(tr("是", "yes"), "1"), (tr("否", "no"), "0")], prompt=tr("（未填）", "(not given)"),
                       allow_blank=True, id=wid, compact=True, disabled=disabled, classes="fwidget")
        else:
            placeholder = {"date": "YYYY-MM-DD", "month": "YYYY-MM", "money": tr("元", "yuan"),
                           "year": "YYYY", "posts": tr("如 党组织书记、居委会主任", "e.g. 党组织书记、居委会主任")
                           }.get(f.type, "")
            if f.type.startswith("idref:") or f.type == "id":
                placeholder = tr("18位身份号码", "18-character ID number")
            elif f.type.startswith("ref:"):
                placeholder = {"community": tr("社区编码", "community code"), "org": tr("组织编码", "org code"),
                               "meeting": tr("会议编号", "meeting code"),
                               "unit": tr("单位名称", "unit name")}.get(_ref_target(f), "")
            w = Input("", placeholder=placeholder, id=wid, compact=True, disabled=disabled, classes="fwidget")
            w.cursor_blink = False
        return w

    def on_mount(self) -> None:
        for w in self.query(".fwidget"):
            if isinstance(w, Input):
                w.styles.border = ("none", "black")
                w.styles.height = 1
        for f in self.specs:  # fixed personal data are shown masked, kept whole
            v = self.fixed.get(f.name)
            if v and (f.type == "id" or f.type.startswith("idref:")):
                shown = lq.show_id(str(v))
                if shown != v:
                    self.hidden[f.name] = (shown, v)
        raw = dict(self.defaults)
        raw.update(self._fixed_shown())
        self._fill(raw)
        if self.record_id is not None:
            self.run_db(load_form, self.kind, self.record_id, on_done=self._loaded)
        else:
            self._focus_first()

    def _fixed_shown(self) -> dict:
        return {k: (self.hidden[k][0] if k in self.hidden else v) for k, v in self.fixed.items()}

    def _focus_first(self) -> None:
        for f in self.specs:
            if f.name not in self.fixed:
                self.query_one(f"#f-{f.name}").focus()
                return

    def _fill(self, raw: dict) -> None:
        for f in self.specs:
            if f.name not in raw:
                continue
            w = self.query_one(f"#f-{f.name}")
            v = raw[f.name]
            if isinstance(w, Select) and f.type == "bool":
                try:
                    b = V.parse_bool(v)
                except V.FieldError:
                    b = None
                w.value = Select.NULL if b is None else ("1" if b else "0")
            elif isinstance(w, Select):
                code = f.choice.parse(v) if isinstance(v, str) and v else v
                w.value = code if code in f.choice.codes else Select.NULL
            elif isinstance(w, Checkbox):
                w.value = bool(v) if not isinstance(v, str) else V.parse_bool(v) is True
            else:
                w.value = "" if v is None else (v.isoformat() if isinstance(v, dt.date) else str(v))

    def _loaded(self, data) -> None:
        if data is None:
            self.query_one("#form-errors", Static).update(
                tr("记录不存在或不在您的权限范围内", "the record does not exist or is outside your scope"))
            return
        self.version = data["version"]
        self.original = data["original"]
        self.hidden.update(data["hidden"])
        raw = dict(data["raw"])
        raw.update(self._fixed_shown())
        self._fill(raw)
        self._focus_first()

    # -- values
    def raw_values(self) -> dict:
        raw: dict[str, Any] = {}
        for f in self.specs:
            w = self.query_one(f"#f-{f.name}")
            if isinstance(w, Select):
                raw[f.name] = None if w.value is Select.NULL else w.value
            elif isinstance(w, Checkbox):
                raw[f.name] = bool(w.value)
            else:
                raw[f.name] = w.value.strip()
            hidden = self.hidden.get(f.name)
            if hidden and raw[f.name] == hidden[0]:
                raw[f.name] = hidden[1]
        for name, v in self.fixed.items():
            if name not in raw:
                raw[name] = v
        return raw

    # -- actions
    def action_save(self) -> None:
        if self.saving:
            return
        if self.record_id is not None and self.version is None:
            return  # still loading
        self.saving = True
        self._clear_errors()
        self.run_db(save_record, self.kind, self.raw_values(), self.record_id, self.version, self.original,
                    on_done=self._saved, group="save")

    def action_reload(self) -> None:
        if self.record_id is not None:
            self.query_one("#form-stale", Static).update("")
            self.run_db(load_form, self.kind, self.record_id, on_done=self._loaded)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _clear_errors(self) -> None:
        for f in self.specs:
            self.query_one(f"#err-{f.name}", Static).update("")
        self.query_one("#form-errors", Static).update("")
        self.query_one("#form-stale", Static).update("")

    def _saved(self, result: SaveResult) -> None:
        self.saving = False
        self.last_result = result
        if result.status in ("ok", "unchanged"):
            self.dismiss(result.record_id)
            return
        if result.status == "invalid":
            general = []
            first = None
            names = {f.name for f in self.specs}
            for name, msg in result.errors:
                if name in names:
                    self.query_one(f"#err-{name}", Static).update(msg)
                    first = first or name
                else:
                    general.append(msg if not name else f"{name}: {msg}")
            if general:
                self.query_one("#form-errors", Static).update("\n".join(general))
            if first:
                self.query_one(f"#f-{first}").focus()
                self.query_one(f"#row-{first}").scroll_visible()
            return
        if result.status == "stale":
            lines = [tr("记录已被他人修改，未保存（您的修改没有覆盖对方的修改）。",
                        "The record was changed by someone else; nothing was saved (nothing was overwritten)."),
                     tr("字段：您的值 / 当前值", "field: yours / current")]
            for name, mine in result.mine.items():
                theirs = result.theirs.get(name)
                lab = next((label_of(f) for f in self.specs if f.name == name), name)
                if name in self.hidden or name in ("id_number", "phone"):
                    mine, theirs = lq.show_id(str(mine)) if mine else mine, lq.show_id(str(theirs)) if theirs else theirs
                lines.append(f"  {lab}：{_show_value(mine)} / {_show_value(theirs)}")
            lines.append(tr("ctrl+r 读取当前值后再改；Esc 放弃。", "ctrl+r loads the current values; Esc gives up."))
            self.query_one("#form-stale", Static).update("\n".join(lines))
            return
        self.query_one("#form-errors", Static).update(result.message)
