"""Organization tree (组织架构): 党委 → 总支 → 支部 → 小组 per community, with member counts
and the ``org.kind_size`` verdict (clause 3).  Enter opens the members of an organization."""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Static, Tree

from core.enums import ORG_KIND
from core.i18n import get_lang, tr
from core.numbers import format_count
from core.read.organizations import org_tree
from tui.api import DangjianScreen, tb

STATUS_STYLE = {"pass": "green", "fail": "bold red", "warn": "yellow", "error": "magenta", "info": "dim"}
STATUS_MARK = {"pass": ("合规", "ok"), "fail": ("不符合", "FAIL"), "warn": ("提醒", "warn"),
               "error": ("错误", "error"), "info": ("", "")}


class OrgTreeScreen(DangjianScreen):
    SCREEN_NAME = "orgs"
    BINDINGS = [
        tb("ctrl+e", "expand_all", "全部展开|Expand all", id="orgs.expand_all"),
        tb("ctrl+u", "collapse_all", "全部收起|Collapse all", id="orgs.collapse_all"),
    ]
    DEFAULT_CSS = """
    OrgTreeScreen Tree { height: 1fr; }
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.orgs: dict = {}
        self.verdicts: dict = {}

    def compose_body(self) -> ComposeResult:
        tree: Tree = Tree(tr("组织架构", "Organizations"), id="org-tree")
        tree.auto_expand = False
        tree.show_root = False
        yield Static(tr("正在加载……", "Loading…"), id="org-info", classes="status-line")
        yield tree

    def on_mount(self) -> None:
        self.query_one(Tree).focus()

    def refresh_data(self) -> None:
        app = self.app
        self.run_db(org_tree, app.view, app.year, on_done=self._show)

    def _label(self, o: dict, verdicts: dict) -> Text:
        lang = get_lang()
        t = Text()
        t.append(f"[{ORG_KIND.label(o['kind'], lang)}] ", style="bold")
        t.append(o["name"])
        t.append(" " + tr("{n}人", "{n}", n=format_count(o["subtree"] if o["children"] else o["members"])),
                 style="cyan")
        v = verdicts.get(o["code"])
        if v is not None:
            status, message = v
            mark = STATUS_MARK.get(status, (status, status))
            label = mark[0] if lang == "zh" else mark[1]
            if label:
                t.append(f" {label}", style=STATUS_STYLE.get(status, ""))
            if status in ("fail", "warn"):
                t.append(f" {message}", style="dim")
        return t

    def _show(self, d: dict) -> None:
        tree = self.query_one(Tree)
        tree.clear()
        self.orgs = {o["id"]: o for o in d["orgs"]}
        self.verdicts = d["verdicts"]
        by_comm: dict = {}
        for o in d["orgs"]:
            if o["parent_id"] not in self.orgs:
                by_comm.setdefault(o["community_id"], []).append(o["id"])
        single = len(d["communities"]) == 1
        # nodes below a community are added when it is first expanded (a city has thousands of orgs)
        for cid, code, name, town in d["communities"]:
            tops = by_comm.get(cid, [])
            n = sum(self.orgs[o]["subtree"] for o in tops)
            label = Text.assemble((f"{name}", "bold"), f" ({code}, {town}) ", (tr("{n}人", "{n}", n=format_count(n)), "cyan"))
            cnode = tree.root.add(label, data={"community": code, "children": tops, "loaded": False})
            if single:
                self._load_children(cnode)
                cnode.expand()
        tree.root.expand()
        fails = sum(1 for s, _ in self.verdicts.values() if s == "fail")
        warns = sum(1 for s, _ in self.verdicts.values() if s == "warn")
        info = tr("社区{c}个 党组织{o}个 第3条：不符合{f} 提醒{w} 回车看党员",
                  "{c} communities, {o} orgs; cl. 3: {f} fail, {w} warn; Enter: members",
                  c=format_count(len(d["communities"])), o=format_count(len(d["orgs"])), f=format_count(fails),
                  w=format_count(warns))
        if d["verdict_error"]:
            info += "  " + tr("（未能判断：{e}）", "(no verdict: {e})", e=d["verdict_error"])
        self.query_one("#org-info", Static).update(info)

    def _load_children(self, node) -> None:
        data = node.data
        if not data or data.get("loaded"):
            return
        data["loaded"] = True
        for oid in data["children"]:
            o = self.orgs[oid]
            if o["children"]:
                child = node.add(self._label(o, self.verdicts),
                                 data={"org": o, "children": o["children"], "loaded": False})
                if o["kind"] == "committee":
                    self._load_children(child)
                    child.expand()
            else:
                node.add_leaf(self._label(o, self.verdicts), data={"org": o, "children": [], "loaded": True})

    @on(Tree.NodeExpanded)
    def expanded(self, event: Tree.NodeExpanded) -> None:
        self._load_children(event.node)

    @on(Tree.NodeSelected)
    def selected(self, event: Tree.NodeSelected) -> None:
        o = (event.node.data or {}).get("org")
        if not o:
            self._load_children(event.node)
            event.node.toggle()
            return
        from tui.screens.members import MembersScreen

        self.app.push_screen(MembersScreen(organization=o["id"], organization_name=o["name"]))

    def action_expand_all(self) -> None:
        def load(node):
            self._load_children(node)
            for child in node.children:
                load(child)

        root = self.query_one(Tree).root
        load(root)
        root.expand_all()

    def action_collapse_all(self) -> None:
        for node in self.query_one(Tree).root.children:
            node.collapse_all()
