"""The objects plugins build: :class:`Rule`, :class:`Finding`, :class:`Scorer`, :class:`Report`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

SUBJECT_KINDS = ("member", "worker", "organization", "community", "decision", "town")
STATUSES = ("pass", "fail", "warn", "info", "error")


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
