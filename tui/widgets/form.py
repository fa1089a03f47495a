"""The record form (记录表单): create or edit any record kind, keyboard only.

    self.app.push_screen(FormScreen("trainings", fixed={"worker": id_number}), on_saved)
    self.app.push_screen(FormScreen("visits", record_id=42), on_saved)   # edit

``FormScreen`` is a ``ModalScreen[int | None]``: it dismisses with the id of the
saved record, or None when the user pressed Esc.  Fields come from the kind's
declaration (:mod:`core.kinds`, the very fields the importer reads — a
plugin's kinds included) and become widgets by type: text/date/month/money/
number/ID number/reference → ``Input``, enumeration → ``Select``, boolean →
a 是/否 ``Select`` (empty: not given).  A field that refers to a member, a
worker or an organization is chosen from a list (Enter or ctrl+o opens the
picker, :mod:`tui.widgets.picker`: a name, pinyin initials or an org code; an
ID-number prefix only for users with full personal data); the form shows the
name with the masked ID number or the code beside it and saves the reference.
Other references (community code, meeting code) are typed by their code.

Saving (F10 or ctrl+s) hands the values to :func:`core.records.save` in a
thread worker — parsing and validation as an import row, references resolved
in the user's scope, derived fields, scope rules, audit log, optimistic
locking, a worker's posts with their history, all in one transaction.  Errors
appear beside their field and nothing is written.  A stale edit (someone
changed the record since the form read it) is shown with both values — yours
and the current ones — and nothing is overwritten; ctrl+r reloads the current
values.

ID numbers and phones are shown masked unless the user may see them; an
unchanged masked value keeps the stored one.

Esc with unsaved changes asks first (y discards, n or Esc goes back to the
form).  An error beside a field goes away as soon as that field changes.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Checkbox, Input, Label, Select, Static

from core import kinds, records
from core import validators as V
from core.read import pickers
from core.dates import today
from core.i18n import get_lang, tr
from tui.api import DangjianModal, LedgerFooter, tb


def label_of(f: V.Field) -> str:
    return f.title()


def pickable(f: V.Field) -> bool:
    """A reference chosen from a list (a member, a worker, an organization)."""
    return f.is_ref and f.target in pickers.TARGETS


def _looks_like_id(text: str) -> bool:
    t = text.strip().upper()
    return len(t) == 18 and t[:17].isdigit() and (t[17].isdigit() or t[17] == "X")


#: the masked-ID message of the import rules, as a form says it
_MASKED = ("身份号码已遮盖，不能导入", "the ID number is masked and cannot be imported")


def form_message(f: V.Field | None, msg: str) -> str:
    """A validation message as a form says it (the import rules speak of files and imports)."""
    if msg in _MASKED:
        if f is not None and pickable(f):
            return tr("身份证号已遮盖：按回车从列表中选择", "the ID number is masked: press Enter to choose from a list")
        return tr("身份证号已遮盖：请填写完整的18位号码", "the ID number is masked: give all 18 characters")
    if f is not None and pickable(f) and msg.startswith(records.not_found("")):
        return msg + tr("（按回车从列表中选择）", " (press Enter to choose from a list)")
    return msg


# ---------------------------------------------------------------- the record as the form shows it

def load_form(kind: str, record_id: int, view) -> dict | None:
    """The record as the form shows it: {"raw": field → text, "original": parsed values,
    "version": n, "hidden": field → (shown, real)} (masked personal data, masked through the
    user's ``view``, keep the real value)."""
    spec = kinds.get(kind)
    model = spec.model
    rec = records.select(model).where(model._meta.primary_key == record_id).dicts().first()
    if rec is None:
        return None
    raw, original, hidden = {}, {}, {}
    for f in spec.fields:
        name = f.name
        val = rec.get(name)
        if f.is_ref:
            original[name] = val
            if val is not None and f.target in pickers.TARGETS:  # the name, with the masked ID / code
                choice = pickers.describe(view, f.target, pk=val)
                if choice is not None:
                    raw[name] = choice.label
                    hidden[name] = (choice.label, choice.key)
                    continue
            text = V._ref_by_id(f.target, val) or "" if val is not None else ""
            if f.personal and text:
                shown = view.mask_id(text)
                if shown != text:
                    hidden[name] = (shown, text)
                text = shown
            raw[name] = text
            continue
        if f.type == "posts":  # the posts held now, and when the latest began
            posts = records.open_posts([record_id]).get(record_id, {})
            raw[name] = V.format_posts(posts)
            raw["post_date"] = max(posts.values()).isoformat() if posts else ""
            continue
        if name == "post_date" and spec.field("posts") is not None:
            continue
        if name not in model._meta.fields:
            if name == "status" and "full_date" in model._meta.fields:  # a member's status at today
                full = rec.get("full_date")
                raw[name] = "full" if full and full <= today() else "probationary"
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
        if f.personal and raw[name]:
            shown = view.mask_id(raw[name]) if f.type == "id" else view.mask_phone(raw[name])
            if shown != raw[name]:
                hidden[name] = (shown, raw[name])
                raw[name] = shown
    return {"raw": raw, "original": original, "version": rec["version"], "hidden": hidden}


# ---------------------------------------------------------------- the form screen

def _show_value(v) -> str:
    if v is None or v == "":
        return tr("（空）", "(empty)")
    if isinstance(v, bool):
        return tr("是", "yes") if v else tr("否", "no")
    if isinstance(v, Decimal):
        return f"{v}"
    return str(v)


class FormScreen(DangjianModal):
    """Create or edit one record of ``kind``; dismisses with the record id (None: cancelled).

    ``fixed``: field → raw value shown but not editable (e.g. the worker of a new training);
    ``defaults``: initial raw values for a new record; ``fields``: the field names to show
    (default all of the kind's spec).
    """

    BINDINGS = [
        tb("f10", "save", "保存|Save", id="form.save"),
        tb("ctrl+s", "save", "保存|Save", id="form.save_ctrl_s", show=False),
        tb("ctrl+r", "reload", "重新读取|Reload", id="form.reload", show=False),
        tb("ctrl+o", "pick", "选择|Choose", id="form.pick"),
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
        self.kind = kind
        self.record_id = record_id
        self.fixed = dict(fixed or {})
        self.defaults = dict(defaults or {})
        self.specs = [f for f in kinds.fields(kind) if fields is None or f.name in fields or f.name in self.fixed]
        self.title_text = title or (tr("修改", "Edit ") if record_id else tr("新增", "New ")) + kinds.get(kind).title()
        self.version: int | None = None
        self.original: dict | None = None
        self.hidden: dict = {}
        self.saving = False
        self.last_result: records.SaveResult | None = None
        self.baseline: dict | None = None  # the values the form started from (None: still loading)
        self.error_values: dict = {}  # field → its value when an error was shown beside it

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
            yield LedgerFooter()

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
            if pickable(f):
                from tui.widgets.picker import hint

                placeholder = tr("回车选择：", "Enter chooses: ") + hint(
                    f.target, self.app.view.allows_id_prefix_search)
            elif f.type.startswith("idref:") or f.type == "id":
                placeholder = tr("18位身份号码", "18-character ID number")
            elif f.is_ref:
                _t, _attr, zh, en = kinds.ref_kind(f.target).ref
                placeholder = tr(zh, en)
            w = Input("", placeholder=placeholder, id=wid, compact=True, disabled=disabled,
                      classes="fwidget pickable" if pickable(f) else "fwidget")
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
                shown = self.app.view.mask_id(str(v))
                if shown != v:
                    self.hidden[f.name] = (shown, v)
        raw = dict(self.defaults)
        raw.update(self._fixed_shown())
        self._fill(raw)
        fixed_refs = {f.name: (f.target, self.fixed[f.name]) for f in self.specs
                      if pickable(f) and self.fixed.get(f.name)}
        if fixed_refs:  # a fixed member / worker / org: its name beside the masked key
            self.run_db(_describe_keys, self.app.view, fixed_refs, on_done=self._fixed_described, group="fixed")
        if self.record_id is not None:
            self.run_db(load_form, self.kind, self.record_id, self.app.view, on_done=self._loaded)
        else:
            self.baseline = self.raw_values()
            self._focus_first()

    def _fixed_described(self, found: dict) -> None:
        for name, choice in found.items():
            self.hidden[name] = (choice.label, choice.key)
            self.query_one(f"#f-{name}", Input).value = choice.label

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
        self.baseline = self.raw_values()
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

    @property
    def dirty(self) -> bool:
        """Whether the user changed anything since the form was filled (or reloaded)."""
        return self.baseline is not None and self.raw_values() != self.baseline

    def _local_errors(self) -> list[tuple[str, str]]:
        """What the form itself can say before saving: a person's field holds typed text
        (a name, a masked ID) instead of a choice from the list, or a masked ID number."""
        errs = []
        for f in self.specs:
            if f.name in self.fixed:
                continue
            w = self.query_one(f"#f-{f.name}")
            if not isinstance(w, Input):
                continue
            v = w.value.strip()
            hidden = self.hidden.get(f.name)
            if not v or (hidden and v == hidden[0]):
                continue
            if pickable(f) and f.target in ("member", "worker"):
                if "*" in v:
                    errs.append((f.name, form_message(f, _MASKED[0])))
                elif not _looks_like_id(v):
                    errs.append((f.name, tr("请按回车从列表中选择（姓名或拼音首字母）",
                                            "press Enter to choose from a list (name or initials)")))
            elif f.type == "id" and "*" in v:
                errs.append((f.name, form_message(f, _MASKED[0])))
        return errs

    # -- actions
    def action_save(self) -> None:
        if self.saving:
            return
        if self.record_id is not None and self.version is None:
            return  # still loading
        self._clear_errors()
        local = self._local_errors()
        if local:
            self._show_errors(local)
            return
        self.saving = True
        self.run_db(records.save, self.kind, self.raw_values(), self.record_id, self.version, self.original,
                    on_done=self._saved, group="save")

    def action_reload(self) -> None:
        if self.record_id is not None:
            self.query_one("#form-stale", Static).update("")
            self.run_db(load_form, self.kind, self.record_id, self.app.view, on_done=self._loaded)

    def action_cancel(self) -> None:
        if not self.dirty:
            self.dismiss(None)
            return
        from tui.widgets.confirm import ConfirmDialog

        def answered(yes) -> None:
            if yes:
                self.dismiss(None)

        self.app.push_screen(ConfirmDialog(
            tr("放弃未保存的修改？", "Discard the unsaved changes?"),
            tr("y 放弃修改并关闭表单；n 或 Esc 回到表单继续编辑", "y discards them and closes the form; "
               "n or Esc goes back to the form"),
            yes=tr("放弃 (y)", "Discard (y)"), no=tr("继续编辑 (n)", "Keep editing (n)")), answered)

    # -- pickers
    def _focused_pickable(self) -> V.Field | None:
        w = self.focused
        if isinstance(w, Input) and w.has_class("pickable") and not w.disabled and w.id:
            return next((f for f in self.specs if f"f-{f.name}" == w.id), None)
        return None

    def check_action(self, action: str, parameters) -> bool | None:
        if action == "pick":
            return self._focused_pickable() is not None
        return True

    def on_descendant_focus(self, event) -> None:
        self.refresh_bindings()  # ctrl+o shows on the fields it chooses for

    def action_pick(self) -> None:
        f = self._focused_pickable()
        if f is None:
            return
        w = self.query_one(f"#f-{f.name}", Input)
        text = w.value.strip()
        hidden = self.hidden.get(f.name)
        if (hidden and text == hidden[0]) or "*" in text:
            text = ""
        from tui.widgets.picker import RefPicker

        def chosen(choice) -> None:
            if choice is None:
                return
            self.hidden[f.name] = (choice.label, choice.key)
            w.value = choice.label
            w.cursor_position = len(w.value)
            w.focus()

        self.app.push_screen(RefPicker(f.target, text), chosen)

    @on(Input.Submitted, ".pickable")
    def _pick_on_enter(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_pick()

    # -- an error beside a field goes when the field changes
    @on(Input.Changed, ".fwidget")
    @on(Select.Changed, ".fwidget")
    def _field_changed(self, event) -> None:
        wid = event.control.id or ""
        name = wid[2:] if wid.startswith("f-") else ""
        if name in self.error_values and self._widget_value(event.control) != self.error_values[name]:
            del self.error_values[name]
            self.query_one(f"#err-{name}", Static).update("")

    @staticmethod
    def _widget_value(w):
        return w.value

    def _clear_errors(self) -> None:
        self.error_values.clear()
        for f in self.specs:
            self.query_one(f"#err-{f.name}", Static).update("")
        self.query_one("#form-errors", Static).update("")
        self.query_one("#form-stale", Static).update("")

    def _show_errors(self, errors) -> None:
        general = []
        first = None
        by_name = {f.name: f for f in self.specs}
        for name, msg in errors:
            f = by_name.get(name)
            if f is not None:
                self.query_one(f"#err-{name}", Static).update(form_message(f, msg))
                self.error_values[name] = self._widget_value(self.query_one(f"#f-{name}"))
                first = first or name
            else:
                msg = form_message(None, msg)
                general.append(msg if not name else f"{name}: {msg}")
        if general:
            self.query_one("#form-errors", Static).update("\n".join(general))
        if first:
            self.query_one(f"#f-{first}").focus()
            self.query_one(f"#row-{first}").scroll_visible()

    def _saved(self, result: records.SaveResult) -> None:
        self.saving = False
        self.last_result = result
        if result.status in ("ok", "unchanged"):
            self.dismiss(result.record_id)
            return
        if result.status == "invalid":
            self._show_errors(result.errors)
            return
        if result.status == "stale":
            lines = [tr("记录已被他人修改，未保存（您的修改没有覆盖对方的修改）。",
                        "The record was changed by someone else; nothing was saved (nothing was overwritten)."),
                     tr("字段：您的值 / 当前值", "field: yours / current")]
            for name, mine in result.mine.items():
                theirs = result.theirs.get(name)
                lab = next((label_of(f) for f in self.specs if f.name == name), name)
                if name in self.hidden or name in ("id_number", "phone") or name.endswith("_id_number"):
                    # the other user's values are personal data too: masked as everywhere else
                    mask = self.app.view.mask_phone if name == "phone" else self.app.view.mask_id
                    mine, theirs = mask(str(mine)) if mine else mine, mask(str(theirs)) if theirs else theirs
                lines.append(f"  {lab}：{_show_value(mine)} / {_show_value(theirs)}")
            lines.append(tr("ctrl+r 读取当前值后再改；Esc 放弃。", "ctrl+r loads the current values; Esc gives up."))
            self.query_one("#form-stale", Static).update("\n".join(lines))
            return
        self.query_one("#form-errors", Static).update(form_message(None, result.message))


def _describe_keys(view, refs: dict) -> dict:
    """field → :class:`core.read.pickers.Choice` of the fixed references ``{field: (target, key)}``."""
    out = {}
    for name, (target, key) in refs.items():
        choice = pickers.describe(view, target, key=str(key))
        if choice is not None:
            out[name] = choice
    return out
