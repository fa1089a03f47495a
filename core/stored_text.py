"""Stored text that the door would refuse today.

Records made before ID numbers were normalised and control characters refused may hold
an ID number in full-width or other digit forms (a second record of the same person)
or a name with an escape sequence.  :func:`scan` finds them; ``dangjian init`` run by
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
    what: str  # "lookalike_id" | "control"
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
    return out


def counts_line(problems: list[Problem]) -> str | None:
    """One line of counts for an automatic upgrade (no record named), or None."""
    if not problems:
        return None
    look = sum(1 for p in problems if p.what == "lookalike_id")
    ctl = len(problems) - look
    return tr("已存数据检查：{a} 个身份号码含全角或其他字形的数字，{b} 处文字含控制字符；"
              "请管理员运行 dangjian init 查看并更正",
              "stored data check: {a} ID number(s) with full-width or other digit forms, {b} text value(s) "
              "with control characters; an administrator sees where with dangjian init", a=look, b=ctl)


def where_lines(problems: list[Problem]) -> list[str]:
    """One line per problem for an administrator: kind, record id, column, reason."""
    return [tr("{k} 记录 {r}，{f}：{why}", "{k} record {r}, {f}: {why}", k=p.kind, r=p.row, f=p.field, why=p.reason)
            for p in problems]
