"""The objects plugins build: :class:`Rule`, :class:`Finding`, :class:`Scorer`, :class:`Report`."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable, Iterable

SUBJECT_KINDS = ("member", "worker", "organization", "community", "decision", "town")
STATUSES = ("pass", "fail", "warn", "info", "error")
#: The classes of a community's score (第22条): code → (Chinese, English) label.
COMMUNITY_CLASSES = {"advanced": ("先进", "advanced"), "ordinary": ("一般", "ordinary"), "lagging": ("后进", "lagging")}


@dataclass
class Rule:
    """A checked requirement (规则).

    ``id`` (e.g. ``"org.kind_size"``), ``clause`` (第N条, an int), titles in
    Chinese and English, ``params`` {name: default}, ``subjects`` one of
    member / worker / organization / community / decision / town, ``towns``
    (None: everywhere; a list: this rule applies — and replaces a rule of the
    same id — only in those towns) and ``evaluate(ctx)`` yielding findings
    made with ``ctx.finding(subject, status, message, evidence={}, community=None,
    town=None)``.  ``ctx`` carries ``year``, ``as_of``, ``ctx.params(town)`` and
    the user's scope.
    """
    id: str
    clause: int
    title_zh: str
    title_en: str
    evaluate: Callable[[Any], Iterable["Finding"]]
    params: dict = field(default_factory=dict)
    subjects: str = "community"
    towns: list[str] | None = None
    description_zh: str = ""
    description_en: str = ""
    plugin: str | None = None  # set by the plugin manager

    def title(self, lang: str = "zh") -> str:
        return self.title_zh if lang == "zh" else self.title_en


@dataclass
class Finding:
    """One verdict of a rule on one subject (结论).

    A rule makes it with the full subject (an ID number, an org code …); what a user
    is shown is the finding as the user's view shows it (``core.findings.shown``:
    masked unless the user may see personal data) with ``ref``, a stable opaque id of
    the subject's record that tells apart subjects whose masked ID numbers coincide."""
    rule: str
    clause: int | None
    status: str
    town: str | None
    community: str | None
    subject: str
    message: str
    evidence: dict = field(default_factory=dict)
    ref: str | None = None

    def as_dict(self) -> dict:
        return {"rule": self.rule, "clause": self.clause, "status": self.status, "town": self.town,
                "community": self.community, "subject": self.subject, "message": self.message,
                "evidence": self.evidence, "ref": self.ref}


@dataclass
class Scorer:
    """A scoring system (评分): ``score(ctx)`` yields ``(subject, points, items)``,
    ``items`` listing each addition and deduction.  ``subjects`` as for rules;
    ``towns`` as for rules; ``params`` the default item weights, overridden by
    config ``[scoring."<name>"]`` (and ``[towns."<town>".scoring."<name>"]``).
    """
    name: str
    title_zh: str
    title_en: str
    score: Callable[[Any], Iterable[tuple]]
    subjects: str = "member"
    towns: list[str] | None = None
    params: dict = field(default_factory=dict)  # item weights {name: default}; config [scoring."<name>"] overrides
    plugin: str | None = None

    def title(self, lang: str = "zh") -> str:
        return self.title_zh if lang == "zh" else self.title_en


@dataclass
class Report:
    """A report (报表): ``run(ctx)`` returns a table ``(headers, rows)`` or, for
    HTML-only reports (``formats=("html",)``), a page as a string.
    """
    name: str
    title_zh: str
    title_en: str
    run: Callable[[Any], Any]
    formats: tuple = ("table", "md", "csv", "xlsx", "html", "json")
    plugin: str | None = None

    def title(self, lang: str = "zh") -> str:
        return self.title_zh if lang == "zh" else self.title_en


# ---------------------------------------------------------------- money and points

CENT = Decimal("0.01")


def to_decimal(value) -> Decimal:
    """A number as an exact ``Decimal``: a Decimal as it is, a float through its shortest
    repr (``0.1`` → ``Decimal("0.1")``), an int or a numeric string as written."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def round_cents(value) -> Decimal:
    """``value`` (see :func:`to_decimal`) rounded half up to 0.01 (元 to the 分, points to two places)."""
    return to_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def format_points(value) -> str:
    """Points (or an amount) as text without trailing zeros: ``60``, ``62.5``, ``-2``; ``""`` for None."""
    if value is None:
        return ""
    d = round_cents(value).normalize()
    if d == d.to_integral_value():
        d = d.quantize(Decimal(1))
    return format(d, "f")
