"""``dangjian report [NAME | --list] [--year Y] [--as-of D] [--town T] [--community C] [--format F]
[--output FILE]``; what a report computes is :mod:`core.reports`."""
from __future__ import annotations

import sys

from core import plugins
from core.errors import UserError
from core.i18n import get_lang, tr
from core.numbers import format_count
from core.reports import get_report, html_only, run_report


def list_reports():
    """(headers, rows): every report, its plugin and its formats."""
    reg = plugins.get().registry
    rows = []
    for name in sorted(reg.reports):
        r = reg.reports[name]
        fmts = tr("仅 HTML（打印）", "HTML only (printable)") if html_only(r) else ", ".join(r.formats)
        rows.append([name, r.title(get_lang()), r.plugin or "", fmts])
    return [tr("报表", "report"), tr("名称", "title"), tr("插件", "plugin"), tr("格式", "formats")], rows


def cmd_report(args) -> int:
    """``dangjian report NAME [--year Y] [--as-of D] [--town T] [--community C] [--format F] [--output FILE]``."""
    from core.output import check_writable, render, write_text

    check_writable(args.output)  # before any work: a folder, /proc, a missing folder, the database …
    if args.list or not args.name:
        headers, rows = list_reports()
        fmt = args.format if (args.format != "xlsx" or args.output) else "table"
        render(headers, rows, fmt, title=tr("报表", "reports"), output=args.output)
        if not args.list:
            print("dangjian: " + tr("请给出报表名称（见上表）", "name a report (see the list above)"), file=sys.stderr)
            return 2
        return 0
    report = get_report(args.name)
    if html_only(report) and args.format not in ("table", "html"):
        raise UserError(tr("报表 {n} 只有可打印的 HTML 格式（--format html）",
                           "report {n} is printable HTML only (--format html)", n=report.name))
    if not html_only(report) and args.format not in report.formats:
        raise UserError(tr("报表 {n} 不支持格式 {f}；可选：{a}", "report {n} has no format {f}; choose from: {a}",
                           n=report.name, f=args.format, a=", ".join(report.formats)))
    from core.reports import last_withheld

    result = run_report(args.name, year=args.year, as_of=args.as_of, town=args.town, community=args.community)
    if isinstance(result, str):
        write_text(result, args.output)
        if args.output:
            print(tr("已写入 {f}", "written to {f}", f=args.output), file=sys.stderr)
        return withheld_exit(last_withheld())
    if result.headers or result.rows:
        render(result.headers, result.rows, args.format, title=result.title or report.name, output=args.output,
               records=result.records, status_col=result.status_col)
    for note in result.notes:
        print(f"dangjian: {note}", file=sys.stderr)
    print(tr("{n} 行", "{n} rows", n=format_count(len(result.rows))), file=sys.stderr)
    return withheld_exit(result.withheld)


def withheld_exit(withheld) -> int:
    """Name plugin, town and hook of every withheld part on stderr; 2 when anything was withheld."""
    if not withheld:
        return 0
    for town, f in dict.fromkeys(withheld):
        print("dangjian: " + plugins.withheld_line(town, f), file=sys.stderr)
    return 2
