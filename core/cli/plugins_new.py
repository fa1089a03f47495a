"""``dangjian plugins new NAME --town TOWN [--dir DIR]``: start a town plugin.

Writes ``DIR/NAME.py`` — one example of each hook a town most often uses (a rule, a
scorer, town parameters, a funding split, a record validator, a screen) — and
``DIR/tests/test_NAME.py``, a test on the plugin kit that passes as written, then prints
the config lines that load the plugin and bind it to its town.  Existing files are never
overwritten.  Needs no database: nothing is read or written but the two files.
"""
from __future__ import annotations

import json
import keyword
from pathlib import Path
from string import Template

from core.errors import UserError
from core.i18n import tr

PLUGIN = Template('''"""$town implementation measures ($name): one example of each hook, to change or delete.

Load it from a plugin folder and bind it to $town in the city's config:

    plugin_dirs = [$dir_q]

    [plugins."$name"]
    towns = [$town_q]

The hooks and the names imported from core are described in the plugin guide
(docs/plugins.md): a plugin imports nothing of dangjian but ``core`` (and ``tui.api``
inside a screen factory).
"""
from decimal import Decimal

from core import (Community, Rule, Scorer, Town, attendance_counts, hookimpl, members_in_scope,
                  relationship_member_counts, round_cents, scope_member_ids, to_decimal, tr)

TOWN = $town_q
SCORED = ("resident", "floating_out", "floating_in")  # classes on the roster at the as-of date


# ---------------------------------------------------------------- a scorer: the town's member points

def member_points(ctx):
    """Base points, and points per meeting attended from 1 January to the as-of date."""
    members = members_in_scope(ctx, SCORED)
    attended = attendance_counts(ctx, scope_member_ids(ctx, SCORED))
    for m in members:
        ref = ctx.community(m["community_id"])
        p = ctx.params(ref.town)
        n = attended.get((m["id"], "present"), 0)
        items = [ctx.item("base", tr("基础分", "base points"), p["base"]),
                 ctx.item("attended", tr("出席 {n} 次", "{n} meetings attended", n=n),
                          to_decimal(p["per_meeting"]) * n, n)]
        yield ctx.result(m["id_number"], items, community=ref, name=m["name"], org=m["org"])


@hookimpl
def dangjian_register_scorers(register):
    register(Scorer("member-points", "党员积分（$town）", "member points ($town)",
                    member_points, subjects="member", towns=[TOWN],
                    params={"base": 60, "per_meeting": 2}))


# ---------------------------------------------------------------- a rule

def min_members(ctx):
    """Each community has at least min_members formal members whose relationship is there."""
    counts = relationship_member_counts(ctx.community_ids, ctx.as_of)
    for c in ctx.communities:
        need, n = ctx.params(c.town)["min_members"], counts.get(c.id, 0)
        yield ctx.finding(c.code, "pass" if n >= need else "warn",
                          tr("{n} 名正式党员（不少于 {k} 名）", "{n} formal members (at least {k})", n=n, k=need),
                          evidence={"members": n}, community=c)


@hookimpl
def dangjian_register_rules(register):
    register(Rule(id="$name.min_members", clause=3, title_zh="党员人数（$town）",
                  title_en="member count ($town)", evaluate=min_members, params={"min_members": 3},
                  subjects="community", towns=[TOWN]))


# ---------------------------------------------------------------- town parameters

@hookimpl
def dangjian_town_params(town):
    if town != TOWN:
        return None
    return {"train.staff": {"min_days": 6}}          # a stricter parameter of a city rule


# ---------------------------------------------------------------- the funding split (clause 19)

@hookimpl
def dangjian_funding_split(town, community, year, amount):
    if town != TOWN:
        return None                                  # the next plugin (or the town alone) pays
    city = round_cents(amount * Decimal("0.4"))
    return {"city": city, "town": amount - city}


# ---------------------------------------------------------------- checking imported or edited records

@hookimpl
def dangjian_validate_record(kind, record, town):
    if town != TOWN:
        return []                                    # other towns' records are not ours to judge
    if kind == "meetings" and not (record.get("topic") or "").strip():
        return [("主题", tr("$town要求填写会议主题", "$town: a meeting needs a topic"))]
    return []


# ---------------------------------------------------------------- a screen of the terminal app

def town_communities(view):
    """[(code, name)] of the town's communities the user may see."""
    q = (Community.select(Community.id, Community.code, Community.name)
         .join(Town).where(Town.name == TOWN))
    return [(code, name) for cid, code, name in q.order_by(Community.code).tuples()
            if view is None or view.community_ids is None or cid in view.community_ids]


@hookimpl
def dangjian_register_screens(register):
    def factory():                                   # textual is imported here, never at the top
        from textual.widgets import Static
        from tui.api import DangjianScreen

        class TownScreen(DangjianScreen):
            TITLE_ZH, TITLE_EN = "$town", "$town"

            def compose_body(self):
                yield Static("", id="$name-text")

            def refresh_data(self):                  # on mount, and when the year or the scope change
                self.run_db(town_communities, self.app.view, on_done=self.show)

            def show(self, rows):
                self.query_one("#$name-text", Static).update("\\n".join(f"{c} {n}" for c, n in rows))
        return TownScreen()
    register("$name", $town_q, factory)
''')

TEST = Template('''"""Tests of the $name plugin on the plugin kit's tiny city.

Run them with ``pytest`` once dangjian is installed with its test extra
(``pip install 'dangjian[test]'``): the fixtures (plugin_kit …) need no conftest.
"""
from decimal import Decimal
from pathlib import Path

import pytest

PLUGIN = Path(__file__).resolve().parents[1] / "$name.py"
TOWN = $town_q


@pytest.fixture
def kit(plugin_kit):
    if TOWN not in plugin_kit.city.towns:
        plugin_kit.add_town_like(TOWN, "巴城镇")     # communities, organizations, members … like 巴城镇's
    kit = plugin_kit.load(PLUGIN, towns=[TOWN])      # as [plugins."$name"] towns = [TOWN] does
    assert kit.errors() == []
    return kit


def _community(kit):
    return next(code for code, c in kit.city.communities.items() if c.town.name == TOWN)


def test_member_points_change_in_the_town_only(kit):
    with_plugin = {r.subject: r for r in kit.score("member-points")}
    without = {r.subject: r for r in kit.score("member-points", plugin=False)}
    ours = [r for r in with_plugin.values() if r.town == TOWN]
    assert ours and all(r.items[0]["points"] == 60 for r in ours)
    assert all(r.points == without[s].points for s, r in with_plugin.items() if r.town != TOWN)


def test_rule_runs_in_the_town_only(kit):
    findings = kit.check(rule_ids=["$name.min_members"])
    assert [f.community for f in findings] == [_community(kit)]
    assert findings[0].status == "warn"               # two formal members there, three wanted


def test_town_params(kit):
    assert kit.town_params(TOWN)["train.staff"] == {"min_days": 6}


def test_funding_split(kit):
    assert kit.funding_split(TOWN, _community(kit), "100.01") == {"city": Decimal("40.00"),
                                                                  "town": Decimal("60.01")}


def test_meetings_need_a_topic(kit):
    org = _community(kit) + "-ZB"
    messages = kit.validate("meetings", {"topic": "", "organization": org})
    assert len(messages) == 1 and messages[0].column == "主题"
    assert kit.validate("meetings", {"topic": "学习", "organization": org}) == []


def test_screen(kit):
    from textual.screen import Screen

    factories = {name: factory for name, _title, factory, _plugin in kit.screens()}
    assert isinstance(factories["$name"](), Screen)
''')


def cmd_plugins_new(args) -> int:
    """Write the plugin and its test; print the config lines that load and bind it."""
    from core import i18n, server

    if args.lang:
        i18n.set_lang(args.lang)
    if server.deployment().service:
        raise UserError(tr("服务账号不能创建插件文件", "the service account does not write plugin files"))
    name, town = args.name, (args.town or "").strip()
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        raise UserError(tr("插件名 {n} 须是 Python 标识符（字母、数字、下划线，不以数字或下划线开头）",
                           "plugin name {n}: a Python identifier is expected (letters, digits, underscores; "
                           "not starting with a digit or an underscore)", n=name))
    if not town or not town.isprintable() or any(ch in town for ch in '"\\'):
        raise UserError(tr("--town：需要区镇名称（不含引号、反斜杠和控制字符）",
                           "--town: a town name is expected (no quotes, backslashes or control characters)"))
    folder = Path(args.dir or ".").expanduser().resolve()
    plugin, test = folder / f"{name}.py", folder / "tests" / f"test_{name}.py"
    existing = [p for p in (plugin, test) if p.exists()]
    if existing:
        raise UserError(tr("已存在，未覆盖：{p}", "already exists, not overwritten: {p}",
                           p=", ".join(str(p) for p in existing)))
    q = {"name": name, "town": town, "town_q": json.dumps(town, ensure_ascii=False),
         "dir_q": json.dumps(str(folder), ensure_ascii=False)}
    try:
        test.parent.mkdir(parents=True, exist_ok=True)
        with open(plugin, "x", encoding="utf-8") as f:  # "x": never over a file made meanwhile
            f.write(PLUGIN.substitute(q))
        with open(test, "x", encoding="utf-8") as f:
            f.write(TEST.substitute(q))
    except OSError as exc:
        raise UserError(tr("无法写入 {p}：{e}", "cannot write {p}: {e}", p=exc.filename or folder,
                           e=exc.strerror or exc)) from None
    print(tr("已写入 {p}", "wrote {p}", p=plugin))
    print(tr("已写入 {p}", "wrote {p}", p=test))
    print()
    print(tr("# 在全市配置文件中（dangjian --config 文件，或 DANGJIAN_CONFIG）加入：",
             "# add to the city's config file (dangjian --config FILE, or DANGJIAN_CONFIG):"))
    print(f"plugin_dirs = [{q['dir_q']}]")
    print()
    print(f'[plugins."{name}"]')
    print(f"towns = [{q['town_q']}]")
    print()
    print(tr("# 然后：dangjian plugins 查看是否加载；pytest {t} 运行测试（需 pip install 'dangjian[test]'）",
             "# then: dangjian plugins to see it loaded; pytest {t} to run its test "
             "(needs pip install 'dangjian[test]')", t=test.parent))
    return 0
