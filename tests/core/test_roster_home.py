"""The roster has one home: a member's organization, community, management class, roster flag
and transfer-out date, and the fields of a transfer or class change, appear in query
conditions only in core/roster.py (and core/roster_replay.py, which derives the spans), and in
the write path that sets them.  Everyone else asks the roster ("at a date")."""
from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import core

ROOT = Path(core.__file__).resolve().parent.parent

#: Where the conditions may be written: the roster, and the write path that sets the fields
#: (forms and imports, the demo that writes a city, the schema steps, the models themselves)
#: and the one home of what a user may see (a member's community today decides access).
ALLOWED = {
    "core/roster.py", "core/roster_replay.py",
    "core/records.py", "core/importing/engine.py", "core/importing/__init__.py", "core/demo.py",
    "core/models.py", "core/migrations.py", "core/view.py",
}
MEMBER_FIELDS = {"organization", "community", "management_class", "active", "left_date"}
MOVE_MODELS = {"Transfer", "ClassChange"}
CONDITION_METHODS = {"in_", "not_in", "is_null", "between", "contains", "startswith", "endswith", "regexp"}
# SQL text: a member alias (m, mb, member) with one of the roster columns, or the transfer table
_COL = r"\b(?:m|mb|member|\"member\")\.\"?(?:organization_id|community_id|management_class|active|left_date)\b\"?"
SQL_MEMBER = re.compile(rf"{_COL}\s*(?:=|<>|!=|<|>|\bIN\b|\bIS\b|\bBETWEEN\b|\bLIKE\b)|(?:=|<>|!=|<|>)\s*{_COL}", re.I)
SQL_MOVES = re.compile(r"\b(?:FROM|JOIN)\s+\"?(transfer|class_change)\b", re.I)


class _Finder(ast.NodeVisitor):
    """Conditions (comparisons and peewee condition methods) over the roster fields."""

    def __init__(self):
        self.member_names = {"Member"}
        self.hits: list[tuple[int, str]] = []

    def visit_ImportFrom(self, node):
        for a in node.names:
            if a.name == "Member" and a.asname:
                self.member_names.add(a.asname)
        self.generic_visit(node)

    def visit_Assign(self, node):  # Mb = Member / Member.alias()
        v = node.value
        base = v.func.value if isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) else v
        if self._is_member(base):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    self.member_names.add(t.id)
        self.generic_visit(node)

    def _is_member(self, node) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.member_names
        return isinstance(node, ast.Attribute) and node.attr == "Member"

    def _roster_field(self, node) -> str | None:
        if isinstance(node, ast.Attribute):
            if node.attr in MEMBER_FIELDS and self._is_member(node.value):
                return f"Member.{node.attr}"
            v = node.value
            name = v.id if isinstance(v, ast.Name) else (v.attr if isinstance(v, ast.Attribute) else None)
            if name in MOVE_MODELS and not node.attr.startswith("_") and node.attr not in ("select", "delete",
                                                                                           "insert", "create"):
                return f"{name}.{node.attr}"
        return None

    def _fields_in(self, node) -> list[str]:
        return [f for n in ast.walk(node) if (f := self._roster_field(n))]

    def visit_Compare(self, node):
        for f in self._fields_in(node):
            self.hits.append((node.lineno, f))
        self.generic_visit(node)

    def visit_Call(self, node):
        if isinstance(node.func, ast.Attribute) and node.func.attr in CONDITION_METHODS:
            f = self._roster_field(node.func.value)
            if f:
                self.hits.append((node.lineno, f))
        self.generic_visit(node)


def offenders_in(source: str, rel: str) -> list[str]:
    out = []
    tree = ast.parse(source)
    finder = _Finder()
    finder.visit(tree)
    out += [f"{rel}:{line}: condition on {field}" for line, field in finder.hits]
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            for rx in (SQL_MEMBER, SQL_MOVES):
                m = rx.search(text)
                if m:
                    out.append(f"{rel}:{node.lineno}: SQL text names {m.group(0)!r}")
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
            for rx in (SQL_MEMBER, SQL_MOVES):
                m = rx.search(text)
                if m:
                    out.append(f"{rel}:{node.lineno}: SQL text names {m.group(0)!r}")
    return sorted(set(out))


def _modules():
    for path in sorted(ROOT.glob("*/**/*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.split("/")[0] in ("core", "plugins", "tui") and rel not in ALLOWED:
            yield rel, path.read_text(encoding="utf-8")


def test_roster_conditions_only_in_the_roster_and_the_write_path():
    found = [o for rel, src in _modules() for o in offenders_in(src, rel)]
    assert found == []


PROBES = {
    "peewee": """
        from core.models import Member, Organization
        def mine(ids):
            return Member.select().where(Member.organization.in_(ids))
    """,
    "peewee alias": """
        from core import models as m
        Mb = m.Member.alias()
        def mine(o):
            return Mb.select().join(o, on=(Mb.community == o.id))
    """,
    "transfer dates": """
        from core.models import Transfer
        def arrived(d):
            return Transfer.select().where(Transfer.date > d)
    """,
    "sql": """
        def mine(db, c):
            return db.execute_sql("SELECT COUNT(*) FROM member m WHERE m.community_id = ?", [c])
    """,
    "sql f-string": """
        def mine(db, where):
            return db.execute_sql(f"SELECT m.id FROM member m WHERE m.active = 1 AND {where}")
    """,
    "sql transfers": """
        def mine(db):
            return db.execute_sql('SELECT member_id FROM "transfer" WHERE direction = ?', ["in"])
    """,
}


def test_the_scan_catches_a_private_roster_condition_either_way():
    for name, src in PROBES.items():
        assert offenders_in(textwrap.dedent(src), f"plugins/probe_{name}.py"), name
    # showing today's organization is no condition
    shown = textwrap.dedent("""
        from core.models import Member
        def names():
            return Member.select(Member.name, Member.organization, Member.management_class)
    """)
    assert offenders_in(shown, "plugins/probe_shown.py") == []
