"""Field validators (字段校验) shared by the importer and the UI forms.

One set of rules for every way a record gets in: ``dangjian import`` and the
TUI edit forms call the same functions, so a value the form accepts imports,
and the other way round.

API
===

Parsers — each takes a raw value (a string from a form or CSV cell, or an
openpyxl cell value: ``datetime``, ``int``, ``float``…) and returns the parsed
value, ``None`` for an empty cell ("not known"), or raises
:class:`FieldError` whose ``str()`` is the reason in the interface language::

    parse_text(v, max_length=None)      -> str | None
    parse_date(v, not_future=False)     -> datetime.date | None   (YYYY-MM-DD or an Excel date cell)
    parse_month(v)                      -> 'YYYY-MM' | None
    parse_bool(v)                       -> bool | None            (是/否, also yes/no, 1/0, true/false)
    parse_money(v)                      -> Decimal | None         (yuan, ≤ 2 decimals, not negative)
    parse_int(v, lo=None, hi=None)      -> int | None
    parse_decimal(v, places=1, positive=True) -> Decimal | None
    parse_id_number(v)                  -> str | None             (GB 11643 via core.ids)
    parse_choice(choice, v)             -> code | None            (message names the allowed values)
    parse_posts(v)                      -> list[code]             (职务: several posts separated by 、)
    not_in_future(date)                 -> date                   (against core.dates.today())

Record kinds — the fields of every kind (English field name, Chinese label =
the import header, English label, type, required, optional column, natural
key, value set) are declared once, in :mod:`core.kinds`; :func:`fields`
reads them.

Record validation — the entry point for a form::

    errors = validate_record(kind, data)        # -> [(field, message), …]
    record, errors = clean_record(kind, data)   # parsed values too

Each error is a ``(field, message)`` tuple (:class:`FieldMessage`) whose
``str()`` is "标签: message" (the field's Chinese label, or English with
``--lang en``), so a form can put it beside the input or print it whole.

``data`` is keyed by the English field names of ``fields(kind)``; values may
be raw (strings) or already parsed.  Reference fields (``community``,
``organization``, ``parent``, ``member``, ``worker``, ``staff``, ``meeting``)
are given by their natural key: community code, org code, ID number, meeting
code (a model instance is accepted too); with ``check_refs=True`` (default)
they are looked up in the database and an unknown one is an error.
Cross-field rules (sex and birth date agree with the ID number, 请假 needs a
reason, answered/closed not before the visit …) are applied, and finally the
plugins' ``dangjian_validate_record(kind, record, town, community)`` hook is
called with the parsed record (references as their natural keys) and the
record's town and community code (:func:`record_place`); a message it gives as
``(column, message)`` is returned under that field, a plain string with field
``""``.  Field ``""`` means "the record as a whole".  A record of a town served
by a plugin that failed to load, or whose validator raised, gets a message
naming the plugin: it is refused, never saved unchecked.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from core import enums, ids, kinds
from core.dates import today
from core.kinds import Field
from core.text import BAD_IN_LINE, BAD_IN_LINES, bad_character
from core.i18n import get_lang, tr


class FieldError(ValueError):
    """A value that does not pass; ``str(exc)`` is the reason for the user."""


# ---------------------------------------------------------------- parsers

_EMPTY = (None, "")


def _blank(v) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def as_text(v) -> str:
    """A cell as text: ints stay ints (a code cell 123 reads "123"), floats that are whole too."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float):
        if v.is_integer():
            return str(int(v))
        return repr(v)
    if isinstance(v, dt.datetime):
        if v.time() == dt.time(0):
            return v.date().isoformat()
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v).strip()


def parse_text(v, max_length: int | None = None, multiline: bool = False) -> str | None:
    if _blank(v):
        return None
    s = as_text(v)
    if multiline and "\r" in s:
        s = s.replace("\r\n", "\n")  # a Windows line break is a line break
    why = bad_character(s, multiline)
    if why:
        raise FieldError(why)
    if max_length and len(s) > max_length:
        raise FieldError(tr("过长：最多{n}个字符，实为{m}个", "too long: at most {n} characters, has {m}",
                            n=max_length, m=len(s)))
    return s


_DATE_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")


def parse_date(v, not_future: bool = False) -> dt.date | None:
    """YYYY-MM-DD (also YYYY/MM/DD, YYYY.MM.DD) or an Excel date cell."""
    if _blank(v):
        return None
    if isinstance(v, dt.datetime):
        d = v.date()
    elif isinstance(v, dt.date):
        d = v
    else:
        s = as_text(v)
        m = _DATE_RE.match(s)
        if not m:
            raise FieldError(tr("日期“{v}”格式不对，应为 YYYY-MM-DD", "date '{v}' is not YYYY-MM-DD", v=s[:40]))
        try:
            d = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            raise FieldError(tr("日期 {v} 不存在", "date {v} does not exist", v=s)) from None
    if d.year < 1900:
        raise FieldError(tr("日期 {d} 早于1900年", "date {d} is before 1900", d=d.isoformat()))
    if not_future:
        not_in_future(d)
    return d


def not_in_future(d: dt.date) -> dt.date:
    t = today()
    if d > t:
        raise FieldError(tr("日期 {d} 晚于今天（{t}）", "date {d} is in the future (today is {t})",
                            d=d.isoformat(), t=t.isoformat()))
    return d


_MONTH_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})$")


def parse_month(v) -> str | None:
    """YYYY-MM (an Excel date cell gives its month)."""
    if _blank(v):
        return None
    if isinstance(v, (dt.date, dt.datetime)):
        return f"{v.year:04d}-{v.month:02d}"
    s = as_text(v)
    m = _MONTH_RE.match(s)
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1900:
        raise FieldError(tr("月份“{v}”格式不对，应为 YYYY-MM", "month '{v}' is not YYYY-MM", v=s[:40]))
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"


_TRUE = {"是", "yes", "y", "true", "1", "√", "t"}
_FALSE = {"否", "no", "n", "false", "0", "×", "f"}


def parse_bool(v) -> bool | None:
    if _blank(v):
        return None
    if isinstance(v, bool):
        return v
    s = as_text(v).lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise FieldError(tr("“{v}”不是 是/否", "'{v}' is not 是/否 (yes/no)", v=as_text(v)[:40]))


_MONEY_RE = re.compile(r"^-?\d+(\.\d+)?$")


def parse_money(v) -> Decimal | None:
    """Yuan, at most two decimals, not negative (commas and ¥ allowed)."""
    if _blank(v):
        return None
    if isinstance(v, bool):
        raise FieldError(tr("金额“{v}”不是数字", "amount '{v}' is not a number", v=v))
    if isinstance(v, Decimal):
        d = v
    elif isinstance(v, int):
        d = Decimal(v)
    elif isinstance(v, float):
        d = Decimal(repr(v))
    else:
        s = as_text(v).replace(",", "").replace("，", "").replace("¥", "").replace("￥", "").strip()
        if s.endswith("元"):
            s = s[:-1].strip()
        if not _MONEY_RE.match(s):
            raise FieldError(tr("金额“{v}”不是数字", "amount '{v}' is not a number", v=as_text(v)[:40]))
        d = Decimal(s)
    if not d.is_finite():
        raise FieldError(tr("金额“{v}”不是数字", "amount '{v}' is not a number", v=v))
    if d < 0:
        raise FieldError(tr("金额不能为负数：{v}", "amount must not be negative: {v}", v=d))
    if d != d.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP"):
        raise FieldError(tr("金额最多两位小数：{v}", "amount has more than two decimals: {v}", v=d))
    if d >= Decimal("1e12"):
        raise FieldError(tr("金额过大：{v}", "amount too large: {v}", v=d))
    return d.quantize(Decimal("0.01"))


def parse_int(v, lo: int | None = None, hi: int | None = None) -> int | None:
    if _blank(v):
        return None
    if isinstance(v, bool):
        raise FieldError(tr("“{v}”不是整数", "'{v}' is not a whole number", v=v))
    if isinstance(v, int):
        n = v
    elif isinstance(v, float) and v.is_integer():
        n = int(v)
    else:
        s = as_text(v)
        if s.endswith(".0"):
            s = s[:-2]
        if not re.fullmatch(r"-?\d{1,12}", s):
            raise FieldError(tr("“{v}”不是整数", "'{v}' is not a whole number", v=s[:40]))
        n = int(s)
    if lo is not None and n < lo:
        raise FieldError(tr("{n} 小于 {lo}", "{n} is less than {lo}", n=n, lo=lo))
    if hi is not None and n > hi:
        raise FieldError(tr("{n} 大于 {hi}", "{n} is greater than {hi}", n=n, hi=hi))
    return n


def parse_year(v) -> int | None:
    y = parse_int(v, 1900, 2999)
    if y is not None and y > today().year:
        raise FieldError(tr("年度 {y} 晚于今年", "year {y} is in the future", y=y))
    return y


def parse_decimal(v, places: int = 1, positive: bool = True) -> Decimal | None:
    if _blank(v):
        return None
    try:
        d = Decimal(repr(v)) if isinstance(v, float) else Decimal(as_text(v))
    except (InvalidOperation, ValueError):
        raise FieldError(tr("“{v}”不是数字", "'{v}' is not a number", v=as_text(v)[:40])) from None
    if not d.is_finite() or isinstance(v, bool):
        raise FieldError(tr("“{v}”不是数字", "'{v}' is not a number", v=as_text(v)[:40]))
    if positive and d <= 0:
        raise FieldError(tr("应大于0：{v}", "must be greater than 0: {v}", v=d))
    if d < 0:
        raise FieldError(tr("不能为负数：{v}", "must not be negative: {v}", v=d))
    q = Decimal(1).scaleb(-places)
    if d != d.quantize(q):
        raise FieldError(tr("最多{p}位小数：{v}", "at most {p} decimal(s): {v}", p=places, v=d))
    if d >= Decimal("1e6"):
        raise FieldError(tr("数值过大：{v}", "value too large: {v}", v=d))
    return d.quantize(q)


def parse_id_number(v) -> str | None:
    """A GB 11643 ID number, normalised (upper-case X); checksum and birth date checked."""
    if _blank(v):
        return None
    if isinstance(v, float):
        raise FieldError(tr("身份号码被 Excel 存成了数字（精度已丢失），请把该列设为文本",
                            "the ID number was stored by Excel as a number (digits lost); "
                            "format the column as text"))
    s = as_text(v)
    if "*" in s:
        raise FieldError(tr("身份号码已遮盖，不能导入", "the ID number is masked and cannot be imported"))
    try:
        return ids.validate(s, today())
    except ids.IdNumberError as exc:
        raise FieldError(exc.en if get_lang() == "en" else exc.zh) from None


def parse_choice(choice: enums.Choice, v) -> str | None:
    if _blank(v):
        return None
    code = choice.parse(as_text(v))
    if code is None:
        raise FieldError(tr("“{v}”不在可选值中：{a}", "'{v}' is not one of: {a}", v=as_text(v)[:40],
                            a="/".join(choice.labels("zh"))))
    return code


POST_SEPARATORS = re.compile(r"[、,，;；/]")


def parse_posts(v) -> list[str]:
    """职务: several posts separated by 、 (also , ， ; ；); codes in POST order, no repeats."""
    if _blank(v):
        return []
    out = []
    for part in POST_SEPARATORS.split(as_text(v)):
        part = part.strip()
        if not part:
            continue
        code = parse_choice(enums.POST, part)
        if code not in out:
            out.append(code)
    return sorted(out, key=enums.POST.codes.index)


def format_posts(codes) -> str:
    return "、".join(enums.POST.label(c, "zh") for c in sorted(set(codes), key=enums.POST.codes.index))


# ---------------------------------------------------------------- fields of the record kinds

def fields(kind: str) -> list[Field]:
    """The fields of ``kind`` (:mod:`core.kinds`); a UserError naming the kinds when unknown."""
    return kinds.fields(kind)


def ref_max_length(f: Field) -> int:
    """How long a reference by code or name may be: its target's key, at least 48 characters."""
    kind = kinds.ref_kind(f.target)
    return max(48, getattr(kind.model._meta.fields[kind.ref[1]], "max_length", None) or 0)


def parse_value(f: Field, v):
    """Parse one raw value for field ``f`` (references: their natural key, normalised)."""
    t = f.type
    if t == "text":
        return parse_text(v, f.max_length, f.multiline)
    if t == "date":
        return parse_date(v, not_future=f.not_future)
    if t == "choice":
        return parse_choice(f.choice, v)
    if t == "id" or t.startswith("idref:"):
        return parse_id_number(v)
    if t.startswith("ref:"):
        if hasattr(v, "_meta"):
            return getattr(v, kinds.ref_kind(f.target).ref[1])
        return parse_text(v, ref_max_length(f))
    if t == "bool":
        return parse_bool(v)
    if t == "money":
        return parse_money(v)
    if t == "month":
        return parse_month(v)
    if t == "year":
        return parse_year(v)
    if t == "int":
        return parse_int(v, 0, 100000)
    if t == "days":
        return parse_decimal(v, 1, True)
    if t == "posts":
        return parse_posts(v)
    raise ValueError(f"unknown field type {t}")  # pragma: no cover - a spec bug


def parser_for(f: Field):
    """A one-argument parser for field ``f`` (the importer calls it per cell)."""
    t = f.type
    if t == "text":
        ml, lines = f.max_length, f.multiline
        bad = (BAD_IN_LINES if lines else BAD_IN_LINE).search

        def text(v):
            if isinstance(v, str):
                s = v.strip()
                if not s:
                    return None
                if bad(s) or (ml and len(s) > ml):
                    return parse_text(s, ml, lines)
                return s
            return parse_text(v, ml, lines)
        return text
    if t == "date":
        nf = f.not_future
        now = today()  # one import, one day

        def date(v):
            if isinstance(v, str) and len(v) == 10 and v[4] == "-" and v[7] == "-":
                try:
                    d = dt.date.fromisoformat(v)
                except ValueError:
                    return parse_date(v, not_future=nf)
                if d.year >= 1900 and (not nf or d <= now):
                    return d
            return parse_date(v, not_future=nf)
        return date
    if t == "choice":
        ch = f.choice

        def choice(v):
            if isinstance(v, str):
                code = ch._parse.get(v.strip())
                if code is not None:
                    return code
            return parse_choice(ch, v)
        return choice
    if t == "bool":
        def boolean(v):
            if v == "是":
                return True
            if v == "否":
                return False
            return parse_bool(v)
        return boolean
    if t == "id" or t.startswith("idref:"):
        checks = ids.CHECK_CHARS
        now = today()

        def id_number(v):
            if isinstance(v, str):
                s = v.strip().upper()
                if len(s) == 18 and s.isascii() and s[:17].isdigit() and (s[17] == "X" or s[17].isdigit()):
                    # weights are 2**k mod 11 and 13 ≡ 2 (mod 11): the weighted sum is 2 × (digits in base 13)
                    if checks[2 * int(s[:17], 13) % 11] == s[17]:
                        try:
                            b = dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
                        except ValueError:
                            b = None
                        if b is not None and b.year >= 1900 and b <= now:
                            return s
            return parse_id_number(v)
        return id_number
    if t == "money":
        cent = Decimal("0.01")

        def money(v):
            if isinstance(v, str):
                try:
                    d = Decimal(v)
                except (InvalidOperation, ValueError):
                    return parse_money(v)
                if d.is_finite() and d >= 0 and d.as_tuple().exponent >= -2 and d < Decimal("1e12"):
                    return d.quantize(cent)
            return parse_money(v)
        return money
    return lambda v: parse_value(f, v)


_TODAY_CACHE = [0.0, None]


def _today_fast() -> dt.date:
    """core.dates.today(), re-read at most every half second (per-row checks of big imports)."""
    import time

    now = time.monotonic()
    if _TODAY_CACHE[1] is None or now - _TODAY_CACHE[0] > 0.5:
        _TODAY_CACHE[0], _TODAY_CACHE[1] = now, today()
    return _TODAY_CACHE[1]


def one_year_after(d: dt.date) -> dt.date:
    try:
        return d.replace(year=d.year + 1)
    except ValueError:  # 29 Feb
        return d.replace(year=d.year + 1, day=28)


def COMMUNITY_REQUIRED() -> str:
    """The reason a member without an organization needs 社区编码."""
    return tr("所在党组织编码为空时必填", "required when the org code is empty")


def _cross_members(rec: dict, present, errs: list) -> None:
    """cross_check for members (the importer calls it for every row: locals, no closures)."""
    get = rec.get
    idn = get("id_number")
    b = None
    if idn:
        b = dt.date(int(idn[6:10]), int(idn[10:12]), int(idn[12:14]))
        s = "M" if int(idn[16]) % 2 == 1 else "F"
        given = get("birth_date")
        if given is None:
            rec["birth_date"] = b
        elif given != b:
            errs.append(("birth_date", tr("与身份号码不符：身份号码中为 {b}", "disagrees with the ID number, "
                                            "which gives {b}", b=b.isoformat())))
        given = get("sex")
        if given is None:
            rec["sex"] = s
        elif given != s:
            errs.append(("sex", tr("与身份号码不符：身份号码中为{s}", "disagrees with the ID number, which gives {s}",
                                     s=enums.SEX.label(s, get_lang()))))
    joined = get("joined_date")
    status = get("status")
    if status == "probationary":
        if get("full_date") is not None:
            errs.append(("full_date", tr("预备党员不应有转正日期", "a probationary member has no full-member date")))
        rec["full_date"] = None
    elif status == "full" and joined is not None:
        full = get("full_date")
        if full is None:
            derived = one_year_after(joined)
            if derived > _today_fast():
                errs.append(("full_date", tr("入党未满一年（{d}转正）不能为正式党员，请填转正日期或改为预备党员",
                                             "joined less than a year ago (full member on {d}): give the "
                                             "full-member date or make it probationary", d=derived.isoformat())))
            rec["full_date"] = derived
        elif full < joined:
            errs.append(("full_date", tr("转正日期早于入党日期", "full-member date before the joined date")))
    if joined is not None and idn and joined < b:
        errs.append(("joined_date", tr("入党日期早于出生日期", "joined before birth")))
    cls = get("management_class")
    if cls == "floating_in" and get("organization") and not get("placed_date") and \
            (present is None or "placed_date" in present):
        errs.append(("placed_date", tr("流入党员编入党组织须填编入日期（未编入的留空所在党组织编码并填社区编码）",
                                       "a floating-in member placed in an organization needs the placed date "
                                       "(an unplaced one leaves the org code empty and gives the community code)")))
    if cls is not None and not get("organization") and (present is None or "organization" in present):
        if cls not in ("floating_in", "in_service"):
            errs.append(("organization", tr("必填（只有未编入的流入党员可留空并填社区编码）",
                                            "required (only an unplaced floating-in member may leave it "
                                            "empty and give the community code)")))
        elif not get("community") and (present is None or "community" in present):
            # 社区编码 left out of the file: the stored member's community stays (the importer checks)
            errs.append(("community", COMMUNITY_REQUIRED()))
    placed = get("placed_date")
    if placed:
        registered = get("registered_date")
        if registered and placed < registered:
            errs.append(("placed_date", tr("编入日期早于报到日期", "placed before registering")))
    if get("retired") is None and (present is None or "retired" in present):
        rec["retired"] = False
    if get("mobility_impaired") is None and (present is None or "mobility_impaired" in present):
        rec["mobility_impaired"] = False


def cross_check(kind: str, rec: dict, present: set | None = None) -> list[tuple[str, str]]:
    """Rules across fields of one parsed record; returns [(field, message)].

    Fills derived values in place: members' sex/birth_date from the ID number
    and full_date from joined_date; defaults for booleans, paid, people.
    ``present`` is the set of field names the caller supplied (file columns);
    None means all.
    """
    errs: list[tuple[str, str]] = []

    def has(name):
        return present is None or name in present

    if kind == "members":
        _cross_members(rec, present, errs)
    elif kind == "workers":
        if rec.get("posts") and rec.get("post_date") is None:
            errs.append(("post_date", tr("填写职务时必填", "required when posts are given")))
        for b in ("college_graduate", "backup_talent"):
            if rec.get(b) is None and has(b):
                rec[b] = False
        if rec.get("certificate") is None and has("certificate"):
            rec["certificate"] = "none"
        if rec.get("certificate") not in (None, "none") and rec.get("certificate_date") is None:
            pass  # date unknown is allowed; the certificate rule then counts it as held
        if rec.get("status") is None and has("status"):
            rec["status"] = "active"
    elif kind == "attendance":
        if rec.get("status") == "leave" and not rec.get("leave_reason"):
            errs.append(("leave_reason", tr("请假须填写事由", "leave needs a reason")))
    elif kind == "dues":
        if rec.get("paid") is None and has("paid"):
            rec["paid"] = Decimal("0.00")
    elif kind == "visits":
        if rec.get("people") is None and has("people"):
            rec["people"] = 1
        d = rec.get("date")
        for name in ("answered_date", "closed_date"):
            if d and rec.get(name) and rec[name] < d:
                errs.append((name, tr("早于日期 {d}", "before the visit date {d}", d=d.isoformat())))
        for name in ("staff", "member", "demand"):
            if rec.get(name) is None and has(name):
                rec[name] = ""
    elif kind == "commitments":
        if has("member") and has("organization") and bool(rec.get("member")) == bool(rec.get("organization")):
            errs.append(("member", tr("党员和组织须填且只填一项", "give either a member or an organization")))
    elif kind == "transfers":
        if rec.get("direction") == "intra_city":
            for name in ("from_org", "to_org"):
                if not rec.get(name):
                    errs.append((name, tr("市内转移必填（组织编码）", "required for a move within the city (org code)")))
        elif rec.get("direction") == "in" and not rec.get("to_org"):
            errs.append(("to_org", tr("转入必填（市内组织编码）", "required for a transfer in (an org code in the city)")))
    return errs


# Meeting types and the organization kinds they belong to: 党员大会, 支委会 and 党课 to a 党委, 党总支
# or 党支部; 党小组会 only to a 党小组; every other type to any kind but a 党小组.
BRANCH_MEETINGS = ("assembly", "committee_meeting", "lecture")
GROUP_MEETINGS = ("group_meeting",)
BRANCH_KINDS = ("committee", "general_branch", "branch")


def meeting_fits(type_: str, org_kind: str | None) -> bool:
    """Whether a meeting of ``type_`` belongs to an organization of kind ``org_kind`` (None: not known)."""
    if org_kind is None:
        return True
    if type_ in BRANCH_MEETINGS:
        return org_kind in BRANCH_KINDS
    if type_ in GROUP_MEETINGS:
        return org_kind == "group"
    return org_kind != "group"


def meeting_misfit(type_: str, org_kind: str | None) -> str | None:
    """The reason a meeting of ``type_`` does not belong to an organization of ``org_kind``, or None."""
    if meeting_fits(type_, org_kind):
        return None
    lang = get_lang()
    t, k = enums.MEETING_TYPE.label(type_, lang), enums.ORG_KIND.label(org_kind, lang)
    if type_ in BRANCH_MEETINGS:
        return tr("{t}只属于党委、党总支或党支部，不属于{k}", "a {t} belongs to a Party committee, general branch or "
                  "branch, not to a {k}", t=t, k=k)
    if type_ in GROUP_MEETINGS:
        return tr("{t}只属于党小组，不属于{k}", "a {t} belongs to a Party group only, not to a {k}", t=t, k=k)
    return tr("{t}不属于党小组", "a {t} does not belong to a Party group", t=t)


def ref_exists(target: str, key) -> bool:
    """Whether a record of the kind ``ref:<target>`` points at has the natural key ``key``."""
    kind = kinds.ref_kind(target)
    model = kind.model
    return model.select(model.id).where(getattr(model, kind.ref[1]) == key).exists()


def unknown_ref_message(target: str, key) -> str:
    _t, attr, zh, en = kinds.ref_kind(target).ref
    shown = key
    if attr == "id_number":
        from core import access

        try:
            if not access.current().full_personal_data:
                shown = ids.mask(key)
        except Exception:
            shown = ids.mask(key)
    return tr("未知的{what} {k}", "unknown {what} {k}", what=zh if get_lang() != "en" else en, k=shown)


def call_plugins(kind: str, record: dict, town: str | None = None, community=None) -> list[str]:
    """The plugins' ``dangjian_validate_record`` messages for a parsed record: strings whose
    ``column`` attribute names the field they belong under (``""``: the record)."""
    from core import plugins

    given = {k: v for k, v in (("town", town), ("community", community)) if v is not None}
    return plugins.get().validate_record(kind, record, **given)


def _field_name(kind: str, column: str) -> str:
    """A validator's column: a field name, or a column header (Chinese or English) turned into one."""
    k = kinds.find(kind)
    if k is None or not column or k.field(column) is not None:
        return column
    for f in k.fields:
        if column in (f.label, f.en):
            return f.name
    return column


_PLACES: dict = {}  # (target, natural key) -> (town, community code), hits only


def record_place(kind: str, record: dict, town: str | None = None, community=None) -> tuple:
    """(town name, community code) of a record, from ``community`` (a code or a row id) when
    given, else along the kind's path to its community (community, organization, member or
    worker references); (town, None) or (None, None) when it cannot be told."""
    from core.models import Community, Member, Organization, Town, Worker
    from core import roster

    def cached(target, key, find):
        if key is None or key == "":
            return None
        hit = _PLACES.get((target, key))
        if hit is None:
            hit = find(key)
            if hit is not None:
                if len(_PLACES) > 50_000:
                    _PLACES.clear()
                _PLACES[(target, key)] = hit
        return hit

    def by_community(cond):
        row = (Community.select(Town.name, Community.code).join(Town).where(cond).tuples().first())
        return (row[0], row[1]) if row else None

    if community is not None:
        got = cached("community_id" if isinstance(community, int) else "community", community,
                     lambda k: by_community(Community.id == k if isinstance(k, int) else Community.code == str(k)))
        if got:
            return got
    k = kinds.find(kind)
    for name in (k.community if k is not None else ()):
        f = k.field(name)
        value = record.get(name)
        if f is None or value in (None, ""):
            continue
        value = getattr(value, kinds.ref_kind(f.target).ref[1], value) if hasattr(value, "_meta") else value
        target = f.target
        if target == "community":
            got = cached(target, value, lambda v: by_community(Community.code == str(v)))
        elif target == "org":
            got = cached(target, value, lambda v: by_community(Community.id.in_(
                Organization.select(Organization.community).where(Organization.code == str(v)))))
        elif target == "member":
            def member(v):
                row = (Member.select(roster.member_community())
                       .join(Organization, join_type=pw_join_left(), on=roster.org_today())
                       .where(Member.id_number == str(v)).tuples().first())
                return by_community(Community.id == row[0]) if row and row[0] else None
            got = cached(target, value, member)
        elif target == "worker":
            got = cached(target, value, lambda v: by_community(Community.id.in_(
                Worker.select(Worker.community).where(Worker.id_number == str(v)))))
        else:
            got = None
        if got:
            return got
    return town, (community if isinstance(community, str) else None)


def pw_join_left():
    from peewee import JOIN

    return JOIN.LEFT_OUTER


def _tell_plugins() -> None:
    from core import plugins

    plugins.set_place_resolver(record_place)  # imports ask the validators with each row's town


_tell_plugins()


class FieldMessage(tuple):
    """``(field, message)``; ``str()`` gives "标签: message" for callers that want one line."""

    def __new__(cls, kind: str, field: str, message: str):
        obj = super().__new__(cls, (field, message))
        obj.kind = kind
        return obj

    def __str__(self):
        return f"{label_of(self.kind, self[0])}: {self[1]}" if self[0] else self[1]


def _ref_by_id(target: str, pk):
    """The natural key of a referenced row given by its id, or None."""
    kind = kinds.ref_kind(target)
    model = kind.model
    row = model.select(getattr(model, kind.ref[1])).where(model.id == pk).tuples().first()
    return row[0] if row else None


def clean_record(kind: str, data: dict, *, check_refs: bool = True,
                 call_hooks: bool = True) -> tuple[dict, list[tuple[str, str]]]:
    """Parse and validate ``data`` (see module doc); returns (record, [(field, message)]).

    Fields absent from ``data`` are neither parsed nor required, except that a
    member's ``status`` is derived from ``full_date`` when only that is given
    (a record read from the database).  A reference given as an int is a row id.
    """
    errs: list = []
    rec: dict = {}
    if kinds.find(kind) is None:  # a table that is no record kind: only the plugins have a say
        msgs = call_plugins(kind, dict(data)) if call_hooks else []
        return dict(data), [FieldMessage(kind, _field_name(kind, getattr(m, "column", "")), str(m)) for m in msgs]
    data = dict(data)
    if kind == "members" and "status" not in data and "full_date" in data:
        fd = data.get("full_date")
        data["status"] = "full" if fd else "probationary"
    for f in fields(kind):
        if f.name not in data:
            continue
        raw = data[f.name]
        if f.is_ref and raw is not None and hasattr(raw, "_meta"):
            raw = getattr(raw, kinds.ref_kind(f.target).ref[1], None)
        elif f.is_ref and isinstance(raw, int) and not isinstance(raw, bool):
            target = f.target
            found = _ref_by_id(target, raw) if check_refs else str(raw)
            if found is None:
                errs.append(FieldMessage(kind, f.name, tr("引用的记录不存在（id {i}）", "no such record (id {i})", i=raw)))
                continue
            rec[f.name] = found
            continue
        try:
            val = parse_value(f, raw)
        except FieldError as exc:
            errs.append(FieldMessage(kind, f.name, str(exc)))
            continue
        if f.required and (val is None or val == []):
            errs.append(FieldMessage(kind, f.name, tr("必填", "required")))
            continue
        rec[f.name] = val
    if errs:
        return rec, errs
    errs.extend(FieldMessage(kind, n, m) for n, m in cross_check(kind, rec, set(data)))
    if check_refs and not errs:
        for f in fields(kind):
            v = rec.get(f.name)
            if f.is_ref and v and f.name in data and not isinstance(data[f.name], int):
                target = f.target
                if not ref_exists(target, v):
                    errs.append(FieldMessage(kind, f.name, unknown_ref_message(target, v)))
    if call_hooks and not errs:
        errs.extend(FieldMessage(kind, _field_name(kind, getattr(m, "column", "")), str(m))
                    for m in call_plugins(kind, dict(rec)))
    return rec, errs


def validate_record(kind: str, data: dict, *, check_refs: bool = True) -> list[tuple[str, str]]:
    """[(field, message)] for a record a form is about to save; empty when fine.

    Each item is a ``(field, message)`` tuple whose ``str()`` is "标签: message".
    """
    return clean_record(kind, data, check_refs=check_refs)[1]


def label_of(kind: str, name: str) -> str:
    """The column label of a field in the interface language ('' → the record)."""
    f = kinds.get(kind).field(name)
    return f.title() if f is not None else name


def on_record_elsewhere() -> str:
    """The one answer to a members/workers row whose ID number is on record outside the
    writer's scope (it cannot be told apart from a new one by silence)."""
    return tr("身份号码已在本市登记，须经组织关系转接", "the ID number is already on record in the city; "
              "the member moves by a transfer of the organizational relationship")


def intra_city_hint() -> str:
    """The hint that ends every organization error of a transfer."""
    return tr("市内转移须由原组织和新组织都在其权限范围内的用户登记（两个区镇之间的转移由市级用户登记）；"
              "转入、转出须由市内一方组织所在范围的用户登记",
              "a move inside the city is recorded by a user whose scope holds both organizations (between "
              "two towns: a city-level user); a transfer in or out by a user whose scope holds the "
              "organization inside the city")
