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

Use::

    from core.dues import propose
    propose("employed", Decimal("4200"))   # Decimal('42.00')
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

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


def farmer_range(config=None) -> tuple[Decimal, Decimal]:
    """(lowest, highest) monthly amount for farmers (0.20–1.00 yuan by default)."""
    sec = _dues_config(config)
    return (Decimal(str(sec.get("farmer", "0.20"))).quantize(FEN),
            Decimal(str(sec.get("farmer_max", "1.00"))).quantize(FEN))
