"""Stored text that the door would refuse today.

Records made before ID numbers were normalised and control characters refused may hold
an ID number in full-width or other digit forms (a second record of the same person)
or a name with an escape sequence; meetings recorded before the meeting type had to fit
the organization's kind may not fit it (a 党小组会 of a 党支部, a 党员大会 of a 党小组 …).
:func:`scan` finds them; ``dangjian init`` run by
an administrator prints where they are, an automatic upgrade on first use prints the
counts only (it may run as any user).  Nothing is changed: an administrator corrects
the records (or merges the duplicate member) by hand.
"""
from __future__ import annotations

from dataclasses import dataclass

from core import ids, kinds
from core.i18n import tr
from core.text import BAD_IN_LINE, BAD_IN_LINES, bad_character


@dataclass(frozen=True)
class Problem:
    kind: str  # the record kind (import name)
    row: int  # the record's id
    field: str  # the field's Chinese label
    what: str  # "lookalike_id" | "control" | "meeting_type"
    reason: str


def scan() -> list[Problem]:
    """Every stored ID number that is not plain ASCII (and whether it duplicates another
    record's number once normalised), and every text field holding a control or bidi
    character.  One pass over each table's text columns."""
    from core.db import database

    out: list[Problem] = []
    for kind in kinds.all_kinds():
        model = kind.model
        cols = [f for f in kind.fields if f.type in ("text", "id") and f.name in model._meta.fields]
        if not cols:
            continue
        table = model._meta.table_name
        names = ", ".join(f'"{model._meta.fields[f.name].column_name}"' for f in cols)
        cur = database.execute_sql(f'SELECT "id", {names} FROM "{table}"')
        ascii_ids: dict[str, set] = {}
        odd_ids: list[tuple[int, kinds.Field, str]] = []
        for row in cur:
            rid = row[0]
            for f, v in zip(cols, row[1:]):
                if not isinstance(v, str) or not v:
                    continue
                if f.type == "id":
                    if v.isascii():
                        ascii_ids.setdefault(v, set()).add(rid)
                    else:
                        odd_ids.append((rid, f, v))
                    continue
                pat = BAD_IN_LINES if f.multiline else BAD_IN_LINE
                if pat.search(v):
                    out.append(Problem(kind.name, rid, f.label, "control", bad_character(v, f.multiline) or ""))
        for rid, f, v in odd_ids:
            n = ids.normalize(v)
            twins = sorted(ascii_ids.get(n, set()) - {rid})
            if twins:
                reason = tr("身份号码含全角或其他字形的数字，与记录 {t} 是同一号码",
                            "the ID number has full-width or other digit forms and is the same number as "
                            "record {t}", t=", ".join(map(str, twins)))
            else:
                reason = tr("身份号码含全角或其他字形的数字", "the ID number has full-width or other digit forms")
            out.append(Problem(kind.name, rid, f.label, "lookalike_id", reason))
    out.extend(meeting_misfits())
    return out


def meeting_misfits() -> list[Problem]:
    """Every stored meeting whose type does not fit its organization's kind (imports now refuse
    them): 党员大会, 支委会 and 党课 belong to a 党委, 党总支 or 党支部, 党小组会 only to a 党小组,
    every other type to any kind but a 党小组.  The reason names the community and the meeting code."""
    from core import validators
    from core.models import Community, Meeting, Organization

    communities = dict(Community.select(Community.id, Community.code).tuples())
    q = (Meeting.select(Meeting.id, Meeting.code, Meeting.type, Organization.kind, Organization.code,
                        Organization.community)
         .join(Organization, on=(Meeting.organization == Organization.id)).order_by(Meeting.id).tuples())
    out = []
    for mid, code, type_, org_kind, org_code, comm in q:
        why = validators.meeting_misfit(type_, org_kind)
        if why:
            out.append(Problem("meetings", mid, tr("会议类型", "meeting type"), "meeting_type",
                               tr("社区 {c}，会议 {m}（组织 {o}）：{w}", "community {c}, meeting {m} (organization {o}): {w}",
                                  c=communities.get(comm) or "-", m=code, o=org_code, w=why)))
    return out


def counts_line(problems: list[Problem]) -> str | None:
    """One line of counts for an automatic upgrade (no record named), or None."""
    if not problems:
        return None
    look = sum(1 for p in problems if p.what == "lookalike_id")
    meet = sum(1 for p in problems if p.what == "meeting_type")
    ctl = len(problems) - look - meet
    line = tr("已存数据检查：{a} 个身份号码含全角或其他字形的数字，{b} 处文字含控制字符",
              "stored data check: {a} ID number(s) with full-width or other digit forms, {b} text value(s) "
              "with control characters", a=look, b=ctl)
    if meet:
        line += tr("，{c} 个会议的类型与其党组织的类别不符", ", {c} meeting(s) whose type does not fit the "
                   "organization's kind", c=meet)
    return line + tr("；请管理员运行 dangjian init 查看并更正", "; an administrator sees where with dangjian init")


def where_lines(problems: list[Problem]) -> list[str]:
    """One line per problem for an administrator: kind, record id, column, reason (a meeting
    that does not fit: its community and meeting code)."""
    return [tr("{k} 记录 {r}，{f}：{why}", "{k} record {r}, {f}: {why}", k=p.kind, r=p.row, f=p.field, why=p.reason)
            for p in problems]
