"""``dangjian score [NAME | --list] [--year Y] [--as-of D] [--town T] [--community C] [--format F]
[--output FILE]``; what a scorer computes is :mod:`core.scoring`."""
from __future__ import annotations

import sys

from core import access, plugins
from core.i18n import get_lang, tr
from core.numbers import format_count
from core.scoring import parse_date, run_scorer_full, score_json, table


def list_scorers():
    """(headers, rows): every scorer, its plugin, the towns it serves and what replaced what
    (the general scorer's row names the towns that replaced it; a town's row the plugin whose
    scorer it replaces there, or says it is new)."""
    reg = plugins.get().registry
    rows = []
    for name in reg.scorer_names():
        general = reg.scorers.get(name)
        seen = []
        for town, s in sorted(reg.town_scorers.get(name, {}).items()):
            for entry in seen:
                if entry[0] is s:
                    entry[1].append(town)
                    break
            else:
                seen.append((s, [town]))
        if general is not None:
            replaced_in = [t for _s, towns in seen for t in towns]
            note = tr("{t} 已替换", "replaced in {t}", t="、".join(replaced_in)) if replaced_in else ""
            rows.append([name, general.title(get_lang()), general.plugin or "", tr("全市", "everywhere"), note])
        for s, towns in seen:
            note = tr("替换 {p} 的评分", "replaces {p}'s scorer", p=general.plugin) if general is not None \
                else tr("（新增）", "(new)")
            rows.append([name, s.title(get_lang()), s.plugin or "", "、".join(towns), note])
    return [tr("评分", "scorer"), tr("名称", "title"), tr("插件", "plugin"), tr("适用", "applies to"),
            tr("替换", "replacement")], rows


def cmd_score(args) -> int:
    """``dangjian score NAME [--year Y] [--as-of D] [--town T] [--community C] [--format F] [--output FILE]``."""
    from core.output import check_writable, render, write_text

    check_writable(args.output)  # before any work: a folder, /proc, a missing folder, the database …
    if args.list or not args.name:
        headers, rows = list_scorers()
        render(headers, rows, args.format if args.format != "xlsx" or args.output else "table",
               title=tr("评分", "scorers"), output=args.output)
        if not args.list:
            print("dangjian: " + tr("请给出评分名称（见上表）", "name a scorer (see the list above)"), file=sys.stderr)
        return 0 if args.list else 2
    as_of = parse_date(args.as_of, "--as-of")
    principal = access.current()
    if args.format == "json":
        text, scored, errors = score_json(args.name, year=args.year, as_of=as_of, town=args.town,
                                          community=args.community, principal=principal)
        write_text(text, args.output)
    else:
        run = run_scorer_full(args.name, year=args.year, as_of=as_of, town=args.town, community=args.community,
                              principal=principal)
        scored, errors = len(run.results), run.errors
        headers, rows, _ = table(run, want="rows")
        s = run.scorers[0] if run.scorers else plugins.get().registry.scorer_for(args.name, None)
        title = tr("{t} {y}（截至 {d}）", "{t} {y} (as of {d})", t=s.title(get_lang()) if s else args.name,
                   y=run.year, d=run.as_of)
        render(headers, rows, args.format, title=title, output=args.output)
    for e in errors:
        print(f"dangjian: {e}", file=sys.stderr)
    print(tr("{n} 个对象已评分", "{n} subjects scored", n=format_count(scored)), file=sys.stderr)
    return 2 if errors else 0
