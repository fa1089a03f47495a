"""Plugin status (插件状态): every plugin, where it came from, its hooks and errors, what
replaced what, and the last plugin failures kept in the database by any command or the app."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from core.i18n import tr
from tui.api import DangjianScreen
from tui.widgets import text_table


def plugin_status() -> dict:
    """(worker) The plugins, what replaced what, and the last failures kept in the database by any
    command or the app (:mod:`core.plugin_status`, this process's own kept first)."""
    from core import access, plugin_status as kept, plugins

    m = plugins.get()
    reg = m.registry
    stored, error = [], ""
    try:
        kept.save(command="tui plugins", user=access.current().login)
        stored = kept.stored()
    except Exception as exc:  # noqa: BLE001 - shown on the screen
        error = str(exc).splitlines()[0] if str(exc) else repr(exc)
    return {
        "plugins": [(i.name, i.source, i.location, list(i.hooks), list(i.errors)) for i in m.infos],
        "replacements": [(r.kind, r.id, r.by, r.replaced, r.towns) for r in reg.replacements],
        "counts": (len(reg.rule_ids()), len(reg.scorer_names()), len(reg.reports)),
        "stored": stored,
        "stored_error": error,
    }


class PluginsScreen(DangjianScreen):
    SCREEN_NAME = "plugins"

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(classes="body", id="plugins-body"):
            yield Static(tr("正在加载……", "Loading…"), id="plugins-text")

    def on_mount(self) -> None:
        self.query_one("#plugins-body").focus()

    def refresh_data(self) -> None:
        self.run_db(plugin_status, on_done=self._show)

    def _show(self, d: dict) -> None:
        out = Text()
        r, s, p = d["counts"]
        bad = [x for x in d["plugins"] if x[4]]
        out.append(tr("插件 {n} 个，规则 {r} 条，评分 {s} 个，报表 {p} 个", "{n} plugins, {r} rules, {s} scorers, "
                      "{p} reports", n=len(d["plugins"]), r=r, s=s, p=p), style="bold")
        if bad:
            out.append("\n" + tr("有 {n} 个插件出错：", "{n} plugins failed:", n=len(bad)), style="bold red")
            for name, _src, loc, _h, errors in bad:
                for e in errors:
                    out.append(f"\n  {name}: {e}", style="red")
        out.append("\n\n")
        lately = {f["plugin"] for f in d["stored"]}
        rows = [[name, src, tr("出错", "FAILED") if errors else tr("正常；最近有故障", "ok; failed lately")
                 if name in lately else tr("正常", "ok"), ", ".join(h.replace("dangjian_", "") for h in hooks)]
                for name, src, _loc, hooks, errors in d["plugins"]]
        styles = ["red" if x[4] else None for x in d["plugins"]]
        out.append_text(text_table([tr("插件", "Plugin"), tr("来源", "Source"), tr("状态", "Status"),
                                    tr("钩子", "Hooks")], rows, max_width=max(60, self.size.width - 2),
                                   styles=styles))
        if d["replacements"]:
            out.append("\n\n" + tr("替换与新增", "Replacements"), style="bold")
            out.append("\n")
            rows = [[kind, ident, by, replaced or tr("（新增）", "(new)"),
                     "、".join(towns) if towns else tr("全市", "everywhere")]
                    for kind, ident, by, replaced, towns in d["replacements"]]
            out.append_text(text_table([tr("类别", "Kind"), "id", tr("提供者", "By"), tr("替换了", "Replaced"),
                                        tr("适用", "Applies to")], rows, max_width=max(60, self.size.width - 2)))
        if d["stored_error"]:
            out.append("\n\n" + tr("无法读取或记录已记录的插件故障：{e}", "The kept plugin failures cannot be read or "
                                     "kept: {e}", e=d["stored_error"]), style="bold red")
        if d["stored"]:
            out.append("\n\n" + tr("最近的插件故障（各命令和界面中发生的，每个插件、钩子和区镇保留最后一次）",
                                     "The last plugin failures (of any command and the app; the last one per "
                                     "plugin, hook and town)"), style="bold red")
            out.append("\n")
            rows = [[f["plugin"], f["hook"], f["where"], "、".join(f["towns"]) if f["towns"] else tr("全市", "city"),
                     f["at"], f"dangjian {f['command']}" if f["command"] else "", f["message"]] for f in d["stored"]]
            out.append_text(text_table([tr("插件", "Plugin"), tr("钩子", "Hook"), tr("位置", "Where"),
                                        tr("区镇", "Towns"), tr("时间", "When"), tr("命令", "Command"),
                                        tr("错误", "Error")], rows, max_width=max(60, self.size.width - 2),
                                       styles=["red"] * len(rows)))
        self.query_one("#plugins-text", Static).update(out)
