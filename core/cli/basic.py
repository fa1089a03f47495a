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
    demo.check_size(args.size, args.scale)  # before anything is wiped
    has_data = demo.has_data()
    if args.reset:
        me.require_admin(tr("重建演示数据库", "rebuild the demo database"))
        where = db.redact(db.current_url() or "")
        if has_data and not confirm(tr("将删除数据库 {db} 中的全部数据并重建演示数据，确定吗？",
                                       "This deletes every record in the database {db} and rebuilds the demo. "
                                       "Sure?", db=where), args.yes):
            print(tr("已取消", "cancelled"), file=sys.stderr)
            return 2
        demo.wipe()
        has_data = False
    if has_data:
        print(tr("数据库已有数据，不作改动，直接打开：{url}", "the database holds data; opening it unchanged: {url}",
                 url=db.redact(db.current_url() or "")), file=sys.stderr)
    else:
        stats = demo.build(size=args.size, seed=args.seed, progress=sys.stderr.isatty(), scale=args.scale)
        print(tr("演示数据已生成：{s}", "demo built: {s}", s=", ".join(f"{k} {v}" for k, v in stats.items())),
              file=sys.stderr)
    if args.no_open:
        return 0
    access.set_current(None)
    return cmd_tui(args)


def cmd_plugins(args) -> int:
    """List the plugins: source, the towns each serves, hooks and failures (with file:line), what
    replaced what, and the last failures kept in the database (:mod:`core.plugin_status`: of
    any command or the app, with file:line, time and command).  Failures are a warning here
    (exit 0): this command computes nothing from plugins."""
    from core import plugin_status, plugins
    from core.cli import keep_plugin_status
    from core.output import text_table

    m = plugins.get()
    reg = m.registry
    keep_plugin_status(args)  # this command's own (a plugin that failed to load) among the kept ones
    try:
        stored = plugin_status.stored()
    except Exception as exc:  # noqa: BLE001 - said: the list below lacks them
        stored = []
        print("dangjian: " + tr("警告：无法读取已记录的插件故障：{e}", "warning: the kept plugin failures cannot be "
                                "read: {e}", e=str(exc).splitlines()[0] if str(exc) else repr(exc)), file=sys.stderr)
    by_plugin: dict = {}
    for f in m.failures:
        by_plugin.setdefault(f.plugin, []).append(f)
    kept_for = {f["plugin"] for f in stored}
    if args.format == "json":
        data = [{"name": i.name, "source": i.source, "location": i.location, "hooks": i.hooks,
                 "errors": i.errors, "towns": i.towns,
                 "failures": [f.as_dict() for f in by_plugin.get(i.name, [])]} for i in m.infos]
        data = {"plugins": data,
                "replacements": [r.__dict__ for r in reg.replacements],
                "failures": plugins.current_failures(),
                "stored_failures": stored}
        print(json.dumps(data, ensure_ascii=False, indent=1))
        _warn(m, stored)
        return 0
    rows = []
    for i in m.infos:
        if not i.ok:
            status = "; ".join([f"{f.hook_text()} {f.where}: {f.message}".strip() for f in by_plugin.get(i.name, [])]
                               or i.errors)
        elif i.name in kept_for:
            status = tr("正常；最近有故障（见下表）", "ok; failed lately (see below)")
        else:
            status = tr("正常", "ok")
        rows.append([i.name, i.source, "、".join(i.towns) if i.towns else tr("全市", "the whole city"),
                     ", ".join(h.replace("dangjian_", "") for h in i.hooks), status])
    print(text_table([tr("插件", "plugin"), tr("来源", "source"), tr("服务", "serves"), tr("钩子", "hooks"),
                      tr("状态", "status")], rows))
    if reg.replacements:
        print()
        rows = [[r.kind, r.id, r.by, r.replaced or tr("（新增）", "(new)"),
                 ", ".join(r.towns) if r.towns else tr("全市", "everywhere")] for r in reg.replacements]
        print(text_table([tr("类别", "kind"), "id", tr("提供者", "by"), tr("替换了", "replaced"),
                          tr("适用", "applies to")], rows))
    if stored:
        print()
        print(tr("最近的插件故障（各命令和界面中发生的，每个插件、钩子和区镇保留最后一次；之后运行正常即清除）：",
                 "the last plugin failures (of any command and the app; the last one per plugin, hook and town, "
                 "gone once that hook runs without failing):"))
        rows = [[f["plugin"], f["hook"], f["where"], "、".join(f["towns"]) if f["towns"] else tr("全市", "the whole city"),
                 f["at"], f"dangjian {f['command']}" if f["command"] else "", f["message"]] for f in stored]
        print(text_table([tr("插件", "plugin"), tr("钩子", "hook"), tr("位置", "where"), tr("区镇", "towns"),
                          tr("时间", "when"), tr("命令", "command"), tr("错误", "error")], rows))
    counts = tr("规则 {r} 条，评分 {s} 个，报表 {p} 个", "{r} rules, {s} scorers, {p} reports",
                r=len(reg.rule_ids()), s=len(reg.scorer_names()), p=len(reg.reports))
    print(counts, file=sys.stderr)
    _warn(m, stored)
    return 0


def _warn(m, stored=()) -> None:
    if m.failures:
        print(tr("警告：有插件出错（见上表）；受影响区镇的检查、评分和报表结果不予计算",
                 "warning: plugins failed (see above); check, score and report withhold the results of the towns "
                 "they serve"), file=sys.stderr)
    elif stored:
        print(tr("警告：插件最近出过错（见上表）", "warning: plugins failed lately (see above)"), file=sys.stderr)
