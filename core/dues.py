"""Party-dues calculator (党费测算): the monthly amount a member should pay.

2008 rules (中共中央组织部《关于中国共产党党费收缴、使用和管理的规定》), on
after-tax regular monthly pay, rates from ``[dues]`` in config:

- in-service (在职): ≤ 3000 (inclusive) 0.5 %, ≤ 5000 1 %, ≤ 10000 1.5 %, > 10000 2 %;
- retirees (离退休), on pension: ≤ 5000 0.5 %, > 5000 1 %;
- students, unemployed, those on relief, others: 0.20 yuan a month;
- farmers: 0.20–1.00 yuan a month (the calculator proposes the lower end;
  :func:`farmer_range` gives both).

The rate applies to the whole income, so there is a cliff (3000.00 → 15.00,
3000.01 → 30.00).  Amounts round half up to the fen.

What is owed (欠交) has one definition here, which the dues screen, ``dangjian
report dues`` and the ``dues.*`` rules all use: a month is owed once its last
day is on or before the as-of date (:func:`months_owed`; on the 1st and the
15th the current month is not owed yet, on its last day it is), and a month
owed is settled when nothing was due or it was paid in full on or before the
as-of date (:func:`settled`, and :func:`settled_sql` for set-based queries).
:func:`arrears` puts the two together.

Use::

    from core.dues import propose
    propose("employed", Decimal("4200"))   # Decimal('42.00')
"""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

FEN = Decimal("0.01")
INCOME_CLASSES = ("employed", "retired")
FIXED_CLASSES = ("student", "unemployed", "farmer", "other")


def _dues_config(config) -> dict:
    if config is None:
        from core import config as cfg

        return cfg.get().section("dues")
    if hasattr(config, "section"):
        return config.section("dues")
    return config.get("dues", config) if isinstance(config, dict) else dict(config)


def _money(value, what: str) -> Decimal:
    from core.errors import UserError
    from core.i18n import tr

    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise UserError(tr("{w} 不是金额：{v}", "{w} is not an amount: {v}", w=what, v=value)) from None
    if not d.is_finite() or d < 0:
        raise UserError(tr("{w} 不能为负数：{v}", "{w} must not be negative: {v}", w=what, v=value))
    return d


def rate(dues_class: str, monthly_income, config=None) -> Decimal | None:
    """The rate (a fraction) for an income-based class, None for a fixed-amount class."""
    from core.enums import DUES_CLASS
    from core.errors import UserError
    from core.i18n import tr

    code = DUES_CLASS.parse(dues_class) if dues_class is not None else None
    if code is None:
        raise UserError(tr("未知党费类别：{c}；可选：{a}", "unknown dues class: {c}; allowed: {a}", c=dues_class,
                           a="、".join(DUES_CLASS.labels("zh"))))
    if code not in INCOME_CLASSES:
        return None
    income = _money(monthly_income, tr("月收入", "monthly income"))
    bands = _dues_config(config).get(code)
    if not bands:
        raise UserError(tr("配置 [dues] 缺少 {c} 费率", "config [dues] has no rates for {c}", c=code))
    for upper, r in bands:
        if upper is None or Decimal(str(upper)) < 0 or income <= Decimal(str(upper)):
            return Decimal(str(r))
    return Decimal(str(bands[-1][1]))


def propose(dues_class: str, monthly_income=None, config=None) -> Decimal | None:
    """The proposed monthly dues (yuan, to the fen) for ``dues_class`` (code or
    Chinese label) and declared after-tax ``monthly_income``.

    ``config`` is a :class:`core.config.Config`, a dict holding a ``dues``
    section or the section itself; None uses the configuration in force.
    For 在职/离退休 with no declared income (None or empty) the amount is not
    known: returns None.  An unknown class or a bad income raises
    :class:`core.errors.UserError`.
    """
    from core.enums import DUES_CLASS

    code = DUES_CLASS.parse(dues_class) if dues_class is not None else None
    if code in INCOME_CLASSES and (monthly_income is None or str(monthly_income).strip() == ""):
        return None
    r = rate(dues_class, monthly_income, config)
    if r is None:
        return _money(_dues_config(config).get(code, "0.20"), code).quantize(FEN, rounding=ROUND_HALF_UP)
    income = _money(monthly_income, "monthly income")
    return (income * r).quantize(FEN, rounding=ROUND_HALF_UP)


def proposal(dues_class: str | None, monthly_income=None, config=None) -> Decimal | None:
    """:func:`propose` for a list of many members: None when it cannot say (no dues class,
    no declared income, or a class or income it refuses)."""
    from core.errors import UserError

    if not dues_class:
        return None
    try:
        return propose(dues_class, monthly_income, config)
    except UserError:
        return None


def farmer_range(config=None) -> tuple[Decimal, Decimal]:
    """(lowest, highest) monthly amount for farmers (0.20–1.00 yuan by default)."""
    sec = _dues_config(config)
    return (Decimal(str(sec.get("farmer", "0.20"))).quantize(FEN),
            Decimal(str(sec.get("farmer_max", "1.00"))).quantize(FEN))


# ---------------------------------------------------------------- what is owed

def month_end(month: str) -> dt.date:
    """The last day of ``month`` ('YYYY-MM')."""
    y, m = int(month[:4]), int(month[5:7])
    return (dt.date(y + (m == 12), m % 12 + 1, 1)) - dt.timedelta(days=1)


def months_owed(year: int, as_of: dt.date, joined: dt.date | None = None) -> tuple[str, ...]:
    """The months ('YYYY-MM') of ``year`` a member owes dues for at ``as_of``: from the later of
    January and the month of joining (入党) to the last month whose last day is on or before
    ``as_of`` (empty while none has ended)."""
    first = 1 if joined is None or joined.year < year else (13 if joined.year > year else joined.month)
    return _months_owed(year, as_of, first)


@lru_cache(maxsize=256)
def _months_owed(year: int, as_of: dt.date, first: int) -> tuple[str, ...]:
    out = []
    for m in range(first, 13):
        label = f"{year:04d}-{m:02d}"
        if month_end(label) > as_of:
            break
        out.append(label)
    return tuple(out)


def settled(due, paid, paid_date, as_of: dt.date) -> bool:
    """A month's payment settles it at ``as_of``: nothing was due, or it was paid in full on
    or before ``as_of`` (advance payment allowed).  ``due`` None: no payment recorded."""
    if due is None:
        return False
    if Decimal(str(due)) <= 0:
        return True
    return (paid is not None and Decimal(str(paid)) >= Decimal(str(due))
            and paid_date is not None and paid_date <= as_of)


def settled_sql(as_of: dt.date):
    """:func:`settled` as a peewee condition on ``DuesPayment`` rows (for set-based queries)."""
    from core.models import DuesPayment

    return ((DuesPayment.due <= 0)
            | ((DuesPayment.paid >= DuesPayment.due) & DuesPayment.paid_date.is_null(False)
               & (DuesPayment.paid_date <= as_of)))


def on_time_sql(as_of: dt.date):
    """A month paid on time, as a peewee condition on ``DuesPayment`` rows: settled by the
    as-of date (:func:`settled_sql`) and paid by the month's end (or nothing was due) — what
    ``dues.on_time`` and the member points' late months both count."""
    from core.models import DuesPayment
    from core.db import month_of

    return settled_sql(as_of) & ((DuesPayment.due <= 0) | (month_of(DuesPayment.paid_date) <= DuesPayment.month))


def arrears(year: int, as_of: dt.date, joined: dt.date | None, payments: dict, months=None) -> list[str]:
    """The months of ``year`` owed at ``as_of`` and not settled by then.  ``payments`` maps a
    month to its ``(due, paid, paid_date)``; a month without a payment is not settled.
    ``months``: the months owed when already known (:meth:`Obligations.months`)."""
    owed = months_owed(year, as_of, joined) if months is None else months
    return [m for m in owed if not settled(*payments.get(m, (None, None, None)), as_of)]


class Obligations:
    """Which months each member owes dues for — the one definition the dues screen, the dues
    report and ``dues.on_time`` share: the months of :func:`months_owed` (from the later of
    January and the month of joining, each month whose last day is on or before the as-of date)
    on whose last day the member was on the city's roster with their relationship in a
    community (社区党员 or 流出党员 in an organization there).  A member who became 社区党员 in
    July owes from July; one who arrived on 30 April owes from April.

    Only members whose roster changed since ``since`` (default: 1 January of the previous year,
    so runs can look back across the year boundary) are looked up, from the communities
    ``community_ids`` (a whole scope: one query) or among ``member_ids`` (a branch's grid)."""

    def __init__(self, year: int, as_of: dt.date, *, community_ids=None, member_ids=None,
                 since: dt.date | None = None):
        from core import roster

        self.year, self.as_of = year, as_of
        self.since = since or dt.date(year - 1, 1, 1)
        if community_ids is not None:
            moved = roster.moved_members(community_ids, self.since, as_of)
            if member_ids is not None:
                moved &= set(member_ids)
            self._spans = roster.spans(moved, self.since, as_of) if moved else {}
        else:
            self._spans = roster.spans(list(member_ids or ()), self.since, as_of)
        self._in_class_on, self._classes = roster.in_class_on, roster.RELATIONSHIP_CLASSES

    def moved(self, member_id) -> bool:
        """Whether the member's roster changed in the window (their months need a look each)."""
        spans = self._spans.get(member_id)
        return spans is not None and not (len(spans) == 1 and spans[0][0] <= self.since and spans[0][1] is None)

    def owes(self, member_id, month: str) -> bool:
        """Whether the member owes ``month`` ('YYYY-MM') as far as the roster goes."""
        spans = self._spans.get(member_id)
        if spans is None:
            return True  # not moved: on the roster, relationship here, the whole window
        return self._in_class_on(spans, month_end(month), self._classes, placed=True)

    def months(self, member_id, joined: dt.date | None) -> tuple[str, ...]:
        """The months of the year the member owes at the as-of date."""
        owed = months_owed(self.year, self.as_of, joined)
        if member_id not in self._spans:
            return owed
        return tuple(m for m in owed if self.owes(member_id, m))
