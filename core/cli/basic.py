"""Handlers of ``dangjian tui``, ``init``, ``demo`` and ``plugins``."""
from __future__ import annotations

import json
import sys

from core import access
from core.errors import UserError
from core.i18n import tr


def confirm(question: str, yes: bool) -> bool:
    """Ask on the terminal; ``--yes`` answers for the user; no terminal means no."""
    if yes:
        return True
    if not sys.stdin or not sys.stdin.isatty():
        raise UserError(tr("需要确认：请加 --yes", "confirmation needed: add --yes"))
    answer = input(f"{question} [y/N] ").strip().lower()
    return answer in ("y", "yes", "是")


def cmd_tui(args) -> int:
    access.current()  # refuse unknown accounts before drawing anything
    import importlib

    # the terminal app is loaded only here, by name: core itself never imports textual or tui
    return importlib.import_module("tui.app").run_app() or 0


def cmd_init(args) -> int:
    from core import db, migrations

    access.current().require_admin(tr("初始化数据库", "initialise the database"))
    old, new = db.last_upgrade if db.last_upgrade and db.last_upgrade[0] < db.last_upgrade[1] else migrations.migrate()
    url = db.redact(db.current_url() or "")
    from core import stored_text

    problems = stored_text.scan()
    if problems:
        print(tr("已存数据中有 {n} 处需要管理员更正（导入时现在会拒绝这些写法）：",
                 "{n} stored value(s) need an administrator's correction (imports now refuse them):",
                 n=len(problems)), file=sys.stderr)
        for line in stored_text.where_lines(problems):
            print("  " + line, file=sys.stderr)
    if old == new:
        print(tr("数据库已是最新版本 {v}：{url}", "database is up to date (version {v}): {url}", v=new, url=url),
              file=sys.stderr)
    else:
        print(tr("数据库已升级 {o} → {n}：{url}", "database upgraded {o} → {n}: {url}", o=old, n=new, url=url),
              file=sys.stderr)
    return 0


def cmd_demo(args) -> int:
    from core import db, demo

    me = access.current()
    has_data = demo.has_data()
    if args.reset:
        me.require_admin(tr("重建演示数据库", "rebuild the demo database"))
        if has_data and not confirm(tr("将删除数据库中的全部数据并重建演示数据，确定吗？",
                                       "This deletes every record in the database and rebuilds the demo. Sure?"),
                                    args.yes):
            print(tr("已取消", "cancelled"), file=sys.stderr)
            return 2
        demo.wipe()
        has_data = False
    if has_data:
        print(tr("数据库已有数据，不作改动，直接打开：{url}", "the database holds data; opening it unchanged: {url}",
                 url=db.redact(db.current_url() or "")), file=sys.stderr)
    else:
        stats = demo.build(size=args.size, seed=args.seed, progress=sys.stderr.isatty())
        print(tr("演示数据已生成：{s}", "demo built: {s}", s=", ".join(f"{k} {v}" for k, v in stats.items())),
              file=sys.stderr)
    if args.no_open:
        return 0
    access.set_current(None)
    return cmd_tui(args)


def cmd_plugins(args) -> int:
    from core import plugins
    from core.output import text_table

    m = plugins.get()
    reg = m.registry
    if args.format == "json":
        data = [{"name": i.name, "source": i.source, "location": i.location, "hooks": i.hooks,
                 "errors": i.errors} for i in m.infos]
        data = {"plugins": data,
                "replacements": [r.__dict__ for r in reg.replacements]}
        print(json.dumps(data, ensure_ascii=False, indent=1))
        return 0
    rows = []
    for i in m.infos:
        rows.append([i.name, i.source, ", ".join(h.replace("dangjian_", "") for h in i.hooks),
                     tr("正常", "ok") if i.ok else "; ".join(i.errors)])
    print(text_table([tr("插件", "plugin"), tr("来源", "source"), tr("钩子", "hooks"), tr("状态", "status")], rows))
    if reg.replacements:
        print()
        rows = [[r.kind, r.id, r.by, r.replaced or tr("（新增）", "(new)"),
                 ", ".join(r.towns) if r.towns else tr("全市", "everywhere")] for r in reg.replacements]
        print(text_table([tr("类别", "kind"), "id", tr("提供者", "by"), tr("替换了", "replaced"),
                          tr("适用", "applies to")], rows))
    counts = tr("规则 {r} 条，评分 {s} 个，报表 {p} 个", "{r} rules, {s} scorers, {p} reports",
                r=len(reg.rule_ids()), s=len(reg.scorer_names()), p=len(reg.reports))
    print(counts, file=sys.stderr)
    return 1 if any(not i.ok for i in m.infos) else 0
