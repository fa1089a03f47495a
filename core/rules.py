"""Rule engine (规则引擎): runs every registered :class:`core.Rule` over a scope.

A rule's ``evaluate(ctx)`` yields findings for exactly its subject set.  The
engine gives each rule its own :class:`Context`: the year, the as-of date,
the communities in scope (already limited by ``--town``/``--community``, the
user's scope, and — for a town-only replacement — the towns it serves),
``ctx.params(town)`` resolved from defaults, town plugins and config, and
period helpers.  Rules query the whole scope set-based (a few SQL queries per
rule, not one per member).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction

from core.api import Finding, Rule
from core.dates import today as _today


@dataclass(frozen=True)
class CommunityRef:
    id: int
    code: str
    name: str
    town: str
    town_id: int


@dataclass(frozen=True)
class Period:
    """A quarter, month or week: ``label`` like ``2026Q1``, ``2026-03``, ``2026-W09``."""
    label: str
    start: dt.date
    end: dt.date

    def contains(self, d: dt.date) -> bool:
        return self.start <= d <= self.end


def resolve_dates(year: int | None, as_of: dt.date | None) -> tuple[int, dt.date]:
    """SPEC §3: year defaults to the year of --as-of, else this year; as-of is
    31 December of the year or today, whichever is earlier."""
    if year is None:
        year = as_of.year if as_of else _today().year
    if as_of is None:
        as_of = min(dt.date(year, 12, 31), _today())
    return year, as_of


def quarters_ended(year: int, as_of: dt.date) -> list[Period]:
    out = []
    for q in range(4):
        start = dt.date(year, 3 * q + 1, 1)
        end = (dt.date(year, 3 * q + 4, 1) if q < 3 else dt.date(year + 1, 1, 1)) - dt.timedelta(days=1)
        if end <= as_of:
            out.append(Period(f"{year}Q{q + 1}", start, end))
    return out


def months_ended(year: int, as_of: dt.date) -> list[Period]:
    out = []
    for m in range(1, 13):
        start = dt.date(year, m, 1)
        end = (dt.date(year, m + 1, 1) if m < 12 else dt.date(year + 1, 1, 1)) - dt.timedelta(days=1)
        if end <= as_of:
            out.append(Period(f"{year}-{m:02d}", start, end))
    return out


def weeks_ended(year: int, as_of: dt.date) -> list[Period]:
    """Monday-to-Sunday weeks whose Sunday falls inside ``year`` and on or before ``as_of``."""
    out = []
    d = dt.date(year, 1, 1)
    sunday = d + dt.timedelta(days=(6 - d.weekday()))
    while sunday.year == year and sunday <= as_of:
        monday = sunday - dt.timedelta(days=6)
        iso = monday.isocalendar()
        out.append(Period(f"{iso[0]}-W{iso[1]:02d}", monday, sunday))
        sunday += dt.timedelta(days=7)
    return out


def fraction(value) -> Fraction:
    """A config fraction: 0.9, "1/3", 1 → exact Fraction."""
    if isinstance(value, float):
        return Fraction(str(value))
    return Fraction(value)


@dataclass
class Context:
    """What a rule's ``evaluate(ctx)`` gets (see ``core.api.Rule``)."""
    rule: Rule
    year: int
    as_of: dt.date
    communities: list[CommunityRef]
    principal: object = None
    lang: str = "zh"
    _params_cache: dict = field(default_factory=dict)

    # -- scope
    @property
    def community_ids(self) -> list[int]:
        return [c.id for c in self.communities]

    @property
    def towns(self) -> list[str]:
        return sorted({c.town for c in self.communities})

    def community(self, community_id: int) -> CommunityRef:
        return self._by_id()[community_id]

    def _by_id(self):
        if "_by_id" not in self._params_cache:
            self._params_cache["_by_id"] = {c.id: c for c in self.communities}
        return self._params_cache["_by_id"]

    # -- dates
    @property
    def year_start(self) -> dt.date:
        return dt.date(self.year, 1, 1)

    @property
    def year_end(self) -> dt.date:
        return dt.date(self.year, 12, 31)

    @property
    def year_over(self) -> bool:
        """True when the as-of date is 31 December: yearly obligations fail, not warn."""
        return self.as_of >= self.year_end

    def quarters_ended(self) -> list[Period]:
        return quarters_ended(self.year, self.as_of)

    def months_ended(self) -> list[Period]:
        return months_ended(self.year, self.as_of)

    def weeks_ended(self) -> list[Period]:
        return weeks_ended(self.year, self.as_of)

    # -- parameters
    def params(self, town: str | None = None) -> dict:
        """The rule's parameters in force for ``town`` (the city's when None)."""
        key = ("p", town)
        if key not in self._params_cache:
            self._params_cache[key] = resolve_params(self.rule, town)[0]
        return self._params_cache[key]

    # -- personal data
    def show_id(self, id_number: str | None) -> str:
        """An ID number as this user may see it (masked unless allowed)."""
        from core import ids

        if self.principal is not None and getattr(self.principal, "full_personal_data", False):
            return id_number or ""
        return ids.mask(id_number)

    # -- findings
    def finding(self, subject, status, message, evidence=None, community=None, town=None) -> Finding:
        """Make a finding of this rule.  ``community`` is a community id, code or
        CommunityRef; ``town`` defaults to the community's town."""
        code = None
        if isinstance(community, CommunityRef):
            code, town = community.code, town or community.town
        elif isinstance(community, int):
            ref = self._by_id().get(community)
            if ref:
                code, town = ref.code, town or ref.town
        elif isinstance(community, str):
            code = community
            if town is None:
                for c in self.communities:
                    if c.code == community:
                        town = c.town
                        break
        return Finding(rule=self.rule.id, clause=self.rule.clause, status=status, town=town,
                       community=code, subject=str(subject), message=message, evidence=evidence or {})


def resolve_params(rule: Rule, town: str | None = None) -> tuple[dict, dict]:
    """(values, origin) of a rule's parameters for ``town``."""
    from core import config, plugins

    town_defaults = plugins.get().town_params(town).get(rule.id) if town else None
    return config.get().rule_params(rule.id, rule.params, town, town_defaults)
