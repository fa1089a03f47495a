"""dangjian core: the electronic ledger of community Party building (社区党建工作电子台账).

``core`` is the plugin API: everything a plugin needs is importable from ``core`` itself
(``from core import hookimpl, Rule, Member, scope_members``), and the built-in plugins use
nothing else.  The plugin guide (docs/plugins.md, "The core API") documents every name:

- the objects a plugin builds: :class:`Rule`, :class:`Finding`, :class:`Scorer`,
  :class:`Report`, and :func:`hookimpl` that marks a hook implementation;
- the contexts they get (:class:`RuleContext`, :class:`ScoreContext`,
  :class:`ReportContext`: one shape, see "Contexts" in the guide);
- the records a plugin may query (the peewee models: ``Member``, ``Meeting`` …) and the
  value sets (``enums``), ID-number helpers (``ids``);
- the roster at a date (``members_at``, ``member_ids_at``, ``org_member_counts`` …, and the
  columns ``ROSTER_ORG`` / ``ROSTER_COMMUNITY`` / ``ROSTER_CLASS``);
- set-based helpers for the scope (``scope_members``, ``members_in_scope``,
  ``attendance_counts``, ``volunteer_hours``, ``pairing_counts`` …: a few queries for the
  whole scope, never one per member);
- bilingual messages (``tr``), money and points (``to_decimal``, ``round_cents``,
  ``format_points``), how numbers are shown (``format_count``, ``format_money``,
  ``format_score``; ``Count``, ``Money``, ``Score`` in a table's rows), dues months,
  funding, workers in post;
- short forms for the common cases: a scorer declared by its items (``ItemScorer`` with
  ``Base``, ``PerCount``, ``Capped``, ``When``), a share rule (``share_rule``), a funding
  split by percentage (``percentage_split``) and hooks for some towns only (``for_towns``).

Deprecated aliases, kept for one release: ``D`` (use ``to_decimal``), ``q`` (use
``round_cents``), ``fmt_points`` (use ``format_points``).

``core`` never imports textual: the headless CLI must start fast.  The names are resolved
on first use (PEP 562), so ``import core`` stays cheap on the terminal app's start-up path.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

#: public name → (module, attribute): resolved on first use by :func:`__getattr__`
_EXPORTS = {
    # the objects a plugin builds, and its hooks
    "Rule": ("core.api", "Rule"),
    "Finding": ("core.api", "Finding"),
    "Scorer": ("core.api", "Scorer"),
    "Report": ("core.api", "Report"),
    "SUBJECT_KINDS": ("core.api", "SUBJECT_KINDS"),
    "STATUSES": ("core.api", "STATUSES"),
    "COMMUNITY_CLASSES": ("core.api", "COMMUNITY_CLASSES"),
    "hookimpl": ("core.hookspecs", "hookimpl"),
    # money and points
    "to_decimal": ("core.api", "to_decimal"),
    "round_cents": ("core.api", "round_cents"),
    "format_points": ("core.api", "format_points"),
    # how numbers are shown (core.numbers)
    "format_count": ("core.numbers", "format_count"),
    "format_money": ("core.numbers", "format_money"),
    "format_score": ("core.numbers", "format_score"),
    "Count": ("core.numbers", "Count"),
    "Money": ("core.numbers", "Money"),
    "Score": ("core.numbers", "Score"),
    "cell_text": ("core.numbers", "cell_text"),
    "right_aligned": ("core.numbers", "right_aligned"),
    # bilingual messages
    "tr": ("core.i18n", "tr"),
    "get_lang": ("core.i18n", "get_lang"),
    "label": ("core.i18n", "label"),
    # errors a user can act on
    "UserError": ("core.errors", "UserError"),
    # the records (peewee models) a plugin may query
    "BaseModel": ("core.models", "BaseModel"),
    "Town": ("core.models", "Town"),
    "Street": ("core.models", "Street"),
    "Community": ("core.models", "Community"),
    "ResidentsCommittee": ("core.models", "ResidentsCommittee"),
    "Organization": ("core.models", "Organization"),
    "Member": ("core.models", "Member"),
    "Transfer": ("core.models", "Transfer"),
    "ClassChange": ("core.models", "ClassChange"),
    "FloatingCertificate": ("core.models", "FloatingCertificate"),
    "Worker": ("core.models", "Worker"),
    "WorkerPost": ("core.models", "WorkerPost"),
    "WorkerPay": ("core.models", "WorkerPay"),
    "Training": ("core.models", "Training"),
    "DutyReport": ("core.models", "DutyReport"),
    "UrbanWage": ("core.models", "UrbanWage"),
    "Meeting": ("core.models", "Meeting"),
    "Attendance": ("core.models", "Attendance"),
    "Evaluation": ("core.models", "Evaluation"),
    "DuesPayment": ("core.models", "DuesPayment"),
    "Visit": ("core.models", "Visit"),
    "Publication": ("core.models", "Publication"),
    "FundingAllocation": ("core.models", "FundingAllocation"),
    "Expenditure": ("core.models", "Expenditure"),
    "ServiceRecord": ("core.models", "ServiceRecord"),
    "Commitment": ("core.models", "Commitment"),
    "ResponsibilityZone": ("core.models", "ResponsibilityZone"),
    "DutyPost": ("core.models", "DutyPost"),
    "VolunteerHours": ("core.models", "VolunteerHours"),
    "Pairing": ("core.models", "Pairing"),
    "DiaryEntry": ("core.models", "DiaryEntry"),
    "FourTwoDecision": ("core.models", "FourTwoDecision"),
    "Facility": ("core.models", "Facility"),
    "ResidentUnit": ("core.models", "ResidentUnit"),
    "UnitConsultation": ("core.models", "UnitConsultation"),
    "LeaderContactPoint": ("core.models", "LeaderContactPoint"),
    "EntryItem": ("core.models", "EntryItem"),
    # the database a plugin's own tables live in
    "database": ("core.db", "database"),
    "is_sqlite": ("core.db", "is_sqlite"),
    # record kinds a plugin declares
    "Kind": ("core.kinds", "Kind"),
    "KindField": ("core.kinds", "Field"),
    # the user's view and the scope
    "View": ("core.view", "View"),
    "CommunityRef": ("core.view", "CommunityRef"),
    # contexts
    "RuleContext": ("core.rules", "Context"),
    "Period": ("core.rules", "Period"),
    "resolve_dates": ("core.rules", "resolve_dates"),
    "params_for": ("core.rules", "params_for"),
    "fraction": ("core.rules", "fraction"),
    "yearly_status": ("core.rules", "yearly_status"),
    "workers_in_post": ("core.rules", "workers_in_post"),
    "WorkerRow": ("core.rules", "WorkerRow"),
    "LEADER_POSTS": ("core.rules", "LEADER_POSTS"),
    "run_cached": ("core.rules", "run_cached"),
    "ScoreContext": ("core.scoring", "ScoreContext"),
    "ScoreResult": ("core.scoring", "ScoreResult"),
    "score_table": ("core.scoring", "table"),
    # short forms for the common cases
    "ItemScorer": ("core.shortforms", "ItemScorer"),
    "Base": ("core.shortforms", "Base"),
    "PerCount": ("core.shortforms", "PerCount"),
    "Capped": ("core.shortforms", "Capped"),
    "When": ("core.shortforms", "When"),
    "attended": ("core.shortforms", "attended"),
    "share_rule": ("core.shortforms", "share_rule"),
    "percentage_split": ("core.shortforms", "percentage_split"),
    "for_towns": ("core.shortforms", "for_towns"),
    "ReportContext": ("core.reports", "ReportContext"),
    "ReportTable": ("core.reports", "ReportTable"),
    # funding
    "community_funding": ("core.funding", "community_funding"),
    "funding_table": ("core.funding", "funding_table"),
    "CommunityFunding": ("core.funding", "CommunityFunding"),
    # dues
    "dues_months_owed": ("core.dues", "months_owed"),
    "dues_settled": ("core.dues", "settled"),
    "dues_settled_sql": ("core.dues", "settled_sql"),
    "dues_on_time_sql": ("core.dues", "on_time_sql"),
    "dues_arrears": ("core.dues", "arrears"),
    "DuesObligations": ("core.dues", "Obligations"),
    "dues_proposal": ("core.dues", "proposal"),
    "month_end": ("core.dues", "month_end"),
    # the roster at a date
    "ROSTER_ORG": ("core.roster", "ORG"),
    "ROSTER_COMMUNITY": ("core.roster", "COMMUNITY"),
    "ROSTER_CLASS": ("core.roster", "CLASS"),
    "ROSTER_START": ("core.roster", "START"),
    "RELATIONSHIP_CLASSES": ("core.roster", "RELATIONSHIP_CLASSES"),
    "in_relationship": ("core.roster", "in_relationship"),
    "members_at": ("core.roster", "members_at"),
    "member_ids_at": ("core.roster", "member_ids_at"),
    "org_members_at": ("core.roster", "org_members_at"),
    "org_member_counts": ("core.roster", "org_member_counts"),
    "org_counts_on_days": ("core.roster", "org_counts_on_days"),
    "relationship_members": ("core.roster", "relationship_members"),
    "relationship_member_counts": ("core.roster", "relationship_member_counts"),
    "roster_spans": ("core.roster", "spans"),
    "state_on": ("core.roster", "state_on"),
    "in_class_on": ("core.roster", "in_class_on"),
    "join_roster_at": ("core.roster", "join_at"),
    "movers": ("core.roster", "movers"),
    "moved_members": ("core.roster", "moved_members"),
    "movers_among": ("core.roster", "movers_among"),
    # set-based helpers
    "CHUNK": ("core.sets", "CHUNK"),
    "chunks": ("core.sets", "chunks"),
    "in_ids": ("core.db", "in_ids"),
    "month_label": ("core.sets", "month_label"),
    "month_index": ("core.sets", "month_index"),
    "month_from_index": ("core.sets", "month_from_index"),
    "missed_periods": ("core.sets", "missed_periods"),
    "as_date": ("core.sets", "as_date"),
    "raw_rows": ("core.sets", "raw_rows"),
    "agg_text": ("core.db", "agg_text"),
    "month_of": ("core.db", "month_of"),
    "scope_orgs": ("core.sets", "scope_orgs"),
    "scope_members": ("core.sets", "scope_members"),
    "scope_member_ids": ("core.sets", "scope_member_ids"),
    "members_in_scope": ("core.sets", "members_in_scope"),
    "member_status": ("core.sets", "member_status"),
    "member_age": ("core.sets", "member_age"),
    "scope_worker_ids": ("core.sets", "scope_worker_ids"),
    "scope_meetings": ("core.sets", "scope_meetings"),
    "secretary_posts": ("core.sets", "secretary_posts"),
    "member_visits": ("core.sets", "member_visits"),
    "attendance_counts": ("core.sets", "attendance_counts"),
    "volunteer_hours": ("core.sets", "volunteer_hours"),
    "commitments_kept": ("core.sets", "commitments_kept"),
    "pairing_counts": ("core.sets", "pairing_counts"),
    "pairings_by_community": ("core.sets", "pairings_by_community"),
    "diary_entry_counts": ("core.sets", "diary_entry_counts"),
    "training_counts_of_members": ("core.sets", "training_counts_of_members"),
    "late_dues_months": ("core.sets", "late_dues_months"),
}

_MODULES = ("enums", "ids")

#: deprecated name → (its replacement's public name)
_DEPRECATED = {"D": "to_decimal", "q": "round_cents", "fmt_points": "format_points"}

__all__ = sorted([*_EXPORTS, *_MODULES, "__version__"])

if TYPE_CHECKING:  # what editors and type checkers see; at run time the names load lazily
    from core import enums, ids
    from core.api import (Rule, Finding, Scorer, Report, SUBJECT_KINDS, STATUSES, COMMUNITY_CLASSES)
    from core.hookspecs import (hookimpl)
    from core.api import (to_decimal, round_cents, format_points)
    from core.numbers import (format_count, format_money, format_score, Count, Money, Score, cell_text,
        right_aligned)
    from core.i18n import (tr, get_lang, label)
    from core.errors import (UserError)
    from core.models import (BaseModel, Town, Street, Community, ResidentsCommittee, Organization, Member,
        Transfer, ClassChange, FloatingCertificate, Worker, WorkerPost, WorkerPay, Training, DutyReport,
        UrbanWage, Meeting, Attendance, Evaluation, DuesPayment, Visit, Publication, FundingAllocation,
        Expenditure, ServiceRecord, Commitment, ResponsibilityZone, DutyPost, VolunteerHours, Pairing,
        DiaryEntry, FourTwoDecision, Facility, ResidentUnit, UnitConsultation, LeaderContactPoint, EntryItem)
    from core.db import (database, is_sqlite)
    from core.kinds import (Kind, Field as KindField)
    from core.view import (View, CommunityRef)
    from core.rules import (Context as RuleContext, Period, resolve_dates, params_for, fraction,
        yearly_status, workers_in_post, WorkerRow, LEADER_POSTS, run_cached)
    from core.scoring import (ScoreContext, ScoreResult, table as score_table)
    from core.shortforms import (ItemScorer, Base, PerCount, Capped, When, attended, share_rule,
        percentage_split, for_towns)
    from core.reports import (ReportContext, ReportTable)
    from core.funding import (community_funding, funding_table, CommunityFunding)
    from core.dues import (months_owed as dues_months_owed, settled as dues_settled, settled_sql as
        dues_settled_sql, on_time_sql as dues_on_time_sql, arrears as dues_arrears, proposal as dues_proposal, month_end,
        Obligations as DuesObligations)
    from core.roster import (ORG as ROSTER_ORG, COMMUNITY as ROSTER_COMMUNITY, CLASS as ROSTER_CLASS, START as ROSTER_START,
        RELATIONSHIP_CLASSES, in_relationship, members_at, member_ids_at, org_members_at, org_member_counts,
        org_counts_on_days, relationship_members, relationship_member_counts, spans as roster_spans,
        state_on, in_class_on, join_at as join_roster_at, movers, moved_members, movers_among)
    from core.db import agg_text, in_ids, month_of
    from core.sets import (CHUNK, chunks, month_label, month_index, month_from_index, missed_periods,
        as_date, raw_rows, scope_orgs, scope_members, scope_member_ids,
        members_in_scope, member_status, member_age, scope_worker_ids, scope_meetings, secretary_posts,
        member_visits, attendance_counts, volunteer_hours, commitments_kept, pairing_counts,
        pairings_by_community, diary_entry_counts, training_counts_of_members, late_dues_months)

    D = to_decimal
    q = round_cents
    fmt_points = format_points


def __getattr__(name):
    import importlib

    spec = _EXPORTS.get(name)
    if spec is not None:
        value = getattr(importlib.import_module(spec[0]), spec[1])
        globals()[name] = value  # later look-ups skip this function
        return value
    if name in _MODULES:
        return importlib.import_module(f"core.{name}")
    if name in _DEPRECATED:
        import warnings

        new = _DEPRECATED[name]
        warnings.warn(f"core.{name} is deprecated; use core.{new}", DeprecationWarning, stacklevel=2)
        return __getattr__(new)
    raise AttributeError(f"module 'core' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
