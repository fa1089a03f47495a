"""A tree you narrow by typing (输入即筛选): the F9 scope picker (区镇 → 街道 → 社区) and the
dues screen's branch chooser (区镇 → 社区 → 支部).

:class:`PickNode` is one node (label, value, children; ``value`` None: a heading that only
opens and closes).  :class:`TreePicker` is the dialog: a filter line above a ``Tree``.
Typing filters by name, code or pinyin initials (every node whose text matches, with the
headings above it, all opened); ↓ moves into the tree; Enter picks the highlighted node
(in the filter line: the first match); Esc cancels.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label, Static, Tree

from core.i18n import tr
from core.numbers import format_count
from tui.api import DangjianModal, tb

MAX_SHOWN = 400  # nodes drawn while filtering (the rest: "… more, type more")


@dataclass
class PickNode:
    label: str
    value: Any = None  # None: a heading (opens and closes)
    children: list["PickNode"] = field(default_factory=list)
    keys: str = ""  # extra text the filter matches (code, pinyin initials)
    expanded: bool = False

    def text(self) -> str:
        return f"{self.label} {self.keys}".lower()


def _initials(name: str) -> str:
    try:
        from core.pinyin import initials

        return initials(name) or ""
    except Exception:  # pragma: no cover
        return ""


def node(label: str, value: Any = None, children=None, *, code: str = "", name: str | None = None,
         expanded: bool = False) -> PickNode:
    """A node whose filter text is its label, ``code`` and the pinyin initials of ``name``."""
    return PickNode(label, value, list(children or []), keys=f"{code} {_initials(name or label)}".strip(),
                    expanded=expanded)


def filter_nodes(nodes: list[PickNode], query: str) -> tuple[list[PickNode], int]:
    """The nodes matching ``query`` with their headings (opened), and how many matched.
    A heading that matches keeps all its children."""
    q = query.strip().lower()
    if not q:
        return nodes, -1
    count = 0

    def walk(n: PickNode) -> PickNode | None:
        nonlocal count
        if all(part in n.text() for part in q.split()):
            count += 1
            return PickNode(n.label, n.value, n.children, n.keys, expanded=False)
        kids = [k for k in (walk(c) for c in n.children) if k is not None]
        if kids:
            return PickNode(n.label, n.value, kids, n.keys, expanded=True)
        return None

    out = [k for k in (walk(n) for n in nodes) if k is not None]
    return out, count


class PickTree(Tree):
    """The tree of a :class:`TreePicker` (↑ at the top goes back to the filter line)."""

    BINDINGS = [Binding("left", "close_node", "收起|Close", show=False, id="tree.close"),
                Binding("right", "open_node", "展开|Open", show=False, id="tree.open")]

    def action_close_node(self) -> None:
        n = self.cursor_node
        if n is None:
            return
        if n.is_expanded and n.children:
            n.collapse()
        elif n.parent is not None and n.parent is not self.root:
            self.move_cursor(n.parent)
            n.parent.collapse()

    def action_open_node(self) -> None:
        n = self.cursor_node
        if n is not None and n.allow_expand:
            n.expand()

    def action_cursor_up(self) -> None:
        if self.cursor_line <= 0:
            self.screen.query_one("#pick-filter", Input).focus()
            return
        super().action_cursor_up()


class TreePicker(DangjianModal):
    """Choose one node of a tree, filtering by typing; dismisses with the node's value (None: Esc)."""

    BINDINGS = [tb("escape", "cancel", "取消|Cancel", id="picker.cancel")]
    DEFAULT_CSS = """
    TreePicker { align: center middle; }
    TreePicker > Vertical { width: 80%; min-width: 40; max-width: 100; height: 90%;
        border: round $accent; background: $panel; padding: 0 1; }
    TreePicker #pick-filter { height: 1; border: none; padding: 0; margin: 0 0 0 0; }
    TreePicker #pick-info { height: 1; color: $text-muted; }
    TreePicker PickTree { height: 1fr; background: $panel; }
    """

    def __init__(self, title: str, nodes: list[PickNode], current: Any = None):
        super().__init__()
        self.title_text = title
        self.nodes = nodes
        self.current = current
        self.matches: list[PickNode] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="section-title")
            yield Input(placeholder=tr("输入名称、编码或拼音首字母筛选；↓ 进入列表，回车选定",
                                       "type a name, code or initials; ↓ to the list, Enter picks"),
                        id="pick-filter", compact=True)
            yield Static("", id="pick-info", markup=False)
            tree: PickTree = PickTree(self.title_text, id="pick-tree")
            tree.show_root = False
            tree.auto_expand = False
            tree.guide_depth = 2
            yield tree

    def on_mount(self) -> None:
        self._fill("")
        self.query_one("#pick-filter", Input).focus()

    def _fill(self, query: str) -> None:
        tree = self.query_one(PickTree)
        tree.clear()
        nodes, count = filter_nodes(self.nodes, query)
        shown = 0
        cursor_line = None
        first_pick = None

        def add(parent, n: PickNode) -> None:
            nonlocal shown, cursor_line, first_pick
            if shown >= MAX_SHOWN:
                return
            shown += 1
            if n.children:
                t = parent.add(n.label, data=n, expand=n.expanded)
                for c in n.children:
                    add(t, c)
            else:
                t = parent.add_leaf(n.label, data=n)
            if n.value is not None and first_pick is None and (count < 0 or all(
                    part in n.text() for part in query.strip().lower().split())):
                first_pick = n
            if n.value is not None and n.value == self.current:
                cursor_line = t

        for n in nodes:
            add(tree.root, n)
        self.matches = [first_pick] if first_pick is not None else []
        info = self.query_one("#pick-info", Static)
        if count == 0:
            info.update(tr("无匹配", "no matches"))
        elif count > 0:
            more = tr("（只列出前 {m} 项，再多输入几个字）", " (first {m} shown; type more)", m=MAX_SHOWN) \
                if shown >= MAX_SHOWN else ""
            info.update(tr("匹配 {n} 项", "{n} match(es)", n=format_count(count)) + more)
        else:
            info.update(tr("← → 收起/展开，回车选定，Esc 取消", "← → close/open, Enter picks, Esc cancels"))
        if cursor_line is not None and count < 0:
            node_ = cursor_line
            p = node_.parent
            while p is not None and p is not tree.root:
                p.expand()
                p = p.parent
            self.call_after_refresh(lambda: tree.move_cursor(node_))

    @on(Input.Changed, "#pick-filter")
    def filtered(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#pick-filter")
    def submitted(self, event: Input.Submitted) -> None:
        if self.matches:
            self.dismiss(self.matches[0].value)

    def on_key(self, event) -> None:
        if event.key == "down" and isinstance(self.focused, Input):
            tree = self.query_one(PickTree)
            tree.focus()
            if tree.cursor_line < 0:
                tree.cursor_line = 0
            event.stop()

    @on(Tree.NodeSelected, "#pick-tree")
    def chosen(self, event: Tree.NodeSelected) -> None:
        n: PickNode | None = event.node.data
        if n is None:
            return
        if n.value is None:
            event.node.toggle()
            return
        self.dismiss(n.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
