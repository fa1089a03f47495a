"""``dangjian audit [--user LOGIN] [--since DATE] [--record TABLE[:KEY]] [--limit N]``: the audit log
(:mod:`core.audit` reads it)."""
from __future__ import annotations

import datetime as dt
import json
import sys

from core import access
from core.audit import ACTIONS, query
from core.errors import UserError
from core.i18n import tr
from core.numbers import format_count
from core.view import View


def _parse_since(text: str) -> dt.datetime:
    for fmt in ("%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            pass
    raise UserError(tr("--since 的日期格式应为 YYYY-MM-DD：{v}", "--since must be a date YYYY-MM-DD: {v}", v=text))


def _short(values: dict | None, width: int | None = None) -> str:
    if not values:
        return ""
    text = json.dumps(values, ensure_ascii=False, sort_keys=True)
    if width and len(text) > width:
        text = text[: width - 3] + "..."
    return text


def _kinds_by_table() -> dict:
    from core import kinds

    return {k.model._meta.table_name: k for k in kinds.all_kinds(None)}


def _readable(values: dict | None, kind) -> dict | None:
    """Values for people to read: the codes of choice fields as their labels in the interface
    language (性别 男 / 女, not M / F), true / false as 是 / 否; the JSON output keeps the codes."""
    if not values:
        return values
    from core.i18n import get_lang

    out = {}
    for name, v in values.items():
        f = kind.field(name) if kind is not None else None
        if f is not None and f.choice is not None and isinstance(v, str):
            v = f.choice.label(v, get_lang())
        elif isinstance(v, bool):
            v = tr("是", "yes") if v else tr("否", "no")
        out[name] = v
    return out


def cmd_audit(args) -> int:
    """``dangjian audit [--user LOGIN] [--since DATE] [--record TABLE[:KEY]]``."""
    from core.output import check_writable, render

    access.current()
    check_writable(args.output)  # before any work
    since = _parse_since(args.since) if args.since else None
    table = key = None
    if args.record:
        table, _, key = args.record.partition(":")
        key = key or None
    rows = []
    records = []
    view = View.of()
    width = 60 if args.format in ("table", "md") else None
    by_table = _kinds_by_table() if args.format != "json" else {}
    for r in query(user=args.user, since=since, table=table, key=key, limit=args.limit, view=view):
        old = view.mask_values(json.loads(r.old) if r.old else None)
        new = view.mask_values(json.loads(r.new) if r.new else None)
        at = r.at if isinstance(r.at, str) else r.at.strftime("%Y-%m-%d %H:%M:%S")
        rows.append([at, r.user, tr({"create": "新增", "update": "修改", "delete": "删除", "refuse": "拒绝导入"}[r.action], r.action)
                     if r.action in ACTIONS else r.action, r.table, r.key, _short(_readable(old, by_table.get(r.table)), width),
                     _short(_readable(new, by_table.get(r.table)), width)])
        records.append({"at": at, "user": r.user, "action": r.action, "table": r.table, "key": r.key,
                        "old": old, "new": new})
    headers = [tr("时间", "time"), tr("用户", "user"), tr("操作", "action"), tr("表", "table"),
               tr("记录", "key"), tr("原值", "old"), tr("新值", "new")]
    render(headers, rows, args.format, title=tr("审计日志", "Audit log"), output=args.output, records=records)
    print(tr("{n} 条审计记录", "{n} audit rows", n=format_count(len(rows))), file=sys.stderr)
    return 0
