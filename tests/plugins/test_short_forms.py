"""The short forms for the common cases: ItemScorer and its items, share_rule,
percentage_split and for_towns, each at both sides of its boundary, over the tiny city."""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

import core

DOCS = (Path(__file__).resolve().parents[2] / "docs" / "plugins.md").read_text(encoding="utf-8")

# 张伟 (巴城镇): 20 meetings attended, 6 volunteer hours, 1 commitment kept; 李娜: no hours
SCORER = '''
from core import Base, Capped, ItemScorer, PerCount, When, attended, commitments_kept, hookimpl, volunteer_hours


def _kept_any(ctx, ids):
    return set(commitments_kept(ctx, ids))


@hookimpl
def dangjian_register_scorers(register):
    register(ItemScorer("member-points", "党员积分（测试）", "member points (test)", items=[
        Base("base"),
        PerCount("per_meeting", attended("present"), code="meetings", label=("参加 {{n}} 次", "{{n}} meetings")),
        PerCount(1, volunteer_hours, every="hours_per_point", cap={cap!r}, code="hours",
                 label=("志愿服务 {{n}} 小时", "{{n}} hours")),
        Capped(PerCount("per_meeting", attended("present"), code="meetings_capped", label=("{{n}}", "{{n}}")), 5),
        When(_kept_any, 7, code="kept", label=("践行承诺", "kept a commitment")),
    ], subjects="member", classes=("resident",), towns=["巴城镇"],
       params={{"base": 50, "per_meeting": 1, "hours_per_point": {every!r}}}))
'''


def _items(kit, name):
    r = next(r for r in kit.score("member-points") if r.name == name)
    return r, {i["code"]: i for i in r.items}


@pytest.mark.parametrize("cap, every, hours_points", [
    (3, 2, Decimal("3")),       # 6 hours / 2 = 3: exactly at the cap
    (2, 2, Decimal("2")),       # over the cap: capped
    (None, 2, Decimal("3")),    # no cap
    ("", 4, Decimal("1.5")),    # "" is no cap; 6 / 4
    (3, 0, Decimal("0")),       # every 0 gives 0 points
])
def test_item_scorer_items_at_both_sides_of_the_cap(plugin_kit, cap, every, hours_points):
    kit = plugin_kit.write("short_scorer", SCORER.format(cap=cap, every=every))
    assert kit.errors() == []
    r, items = _items(kit, "张伟")
    assert items["base"]["points"] == Decimal("50.00")
    assert items["meetings"]["points"] == Decimal("20.00") and items["meetings"]["count"] == 20
    assert items["meetings"]["label"] == "参加 20 次"
    assert items["hours"]["points"] == hours_points and items["hours"]["count"] == 6.0
    assert items["hours"]["label"] == "志愿服务 6 小时"
    assert items["meetings_capped"]["points"] == Decimal("5.00")  # 20 capped at 5
    assert items["kept"]["points"] == Decimal("7.00")
    assert [i["code"] for i in r.items] == ["base", "meetings", "hours", "meetings_capped", "kept"]
    assert r.points == sum(i["points"] for i in r.items)
    # 李娜: no hours, no commitment kept: those items are left out, not 0
    _r, items = _items(kit, "李娜")
    assert "hours" not in items and "kept" not in items and "base" in items
    # 玉山镇 keeps the city's member points
    assert kit.points("member-points")["陈静"] == kit.points("member-points", plugin=False)["陈静"]


def test_capped_caps_a_deduction_too():
    from core.shortforms import Capped, PerCount

    item = Capped(PerCount(-2, lambda ctx, ids: {}), 3)
    assert item.points_for(({1: 5}, {}), {}, 1, {}) == (Decimal("-3"), 5, 5)   # -10 → -3
    assert item.points_for(({1: 1}, {}), {}, 1, {}) == (Decimal("-2"), 1, 1)   # inside the cap
    assert item.points_for(({1: 0}, {}), {}, 1, {}) is None                    # 0: left out
    per_param = PerCount("per", lambda ctx, ids: {}, cap="max")
    assert per_param.points_for(({1: 4}, {}), {}, 1, {"per": 3, "max": 10}) == (Decimal("10"), 4, 4)
    assert per_param.points_for(({1: 3}, {}), {}, 1, {"per": 3, "max": 10}) == (Decimal("9"), 3, 3)
    assert per_param.points_for(({1: 4}, {}), {}, 1, {"per": 3}) == (Decimal("12"), 4, 4)  # cap not set


def test_when_holds_or_not():
    from core.shortforms import When

    item = When(lambda ctx, ids: {1}, "bonus", code="b", label=("奖励", "bonus"))
    assert item.points_for({1}, {}, 1, {"bonus": 4}) == (Decimal(4), None, None)
    assert item.points_for({1}, {}, 2, {"bonus": 4}) is None
    by_number = When(lambda ctx, ids: {"X"}, 1, key="id_number")
    assert by_number.points_for({"X"}, {"id_number": "X"}, 9, {}) is not None
    assert by_number.points_for({"X"}, {"id_number": "Y"}, 9, {}) is None


FIELDS_SCORER = '''
from core import Base, ItemScorer, When, hookimpl

CALLS = []


def _everyone(ctx, ids):
    return {m["id"] for m in ctx.subject_rows}


def _limit(ctx, town):
    CALLS.append(town)
    return {"d": {"巴城镇": 3, "玉山镇": 7}[town]}


@hookimpl
def dangjian_register_scorers(register):
    register(ItemScorer("member-points", "党员积分（测试）", "member points (test)", items=[
        Base(1),
        When(_everyone, 2, code="limit", label=("期限 {d} 天", "within {d} days"), fields=_limit),
    ], subjects="member", classes=("resident",)))
'''


def test_a_label_quotes_a_value_in_force_in_the_subjects_town(plugin_kit):
    """``fields(ctx, town)`` gives the label its names, once per town of the run."""
    kit = plugin_kit.write("fields_scorer", FIELDS_SCORER)
    assert kit.errors() == []
    import sys

    module = next(m for name, m in sys.modules.items() if name.endswith("fields_scorer"))
    module.CALLS.clear()
    results = kit.score("member-points")
    labels = {(r.town, i["label"]) for r in results for i in r.items if i["code"] == "limit"}
    assert labels == {("巴城镇", "期限 3 天"), ("玉山镇", "期限 7 天")}
    assert sorted(module.CALLS) == ["巴城镇", "玉山镇"]  # once per town, however many members
    assert sum(1 for r in results if r.town == "巴城镇") > 1


OWN_ITEM = '''
from core import Base, ItemScorer, PerCount, hookimpl
from core.shortforms import Item


def _one_each(ctx, ids):
    """1 for each member: an int for even ids, a Decimal (shown as an amount) for odd ones."""
    from decimal import Decimal

    return {m["id"]: 1 if m["id"] % 2 == 0 else Decimal("1.0") for m in ctx.subject_rows}


class ByName(Item):
    """An item of the plugin's own: its points follow the subject's row, not a count."""
    code, label = "own", ("编号尾数 {n}", "id ending {n}")

    def points_for(self, prepared, row, key, params):
        return row["id"] % 10, None, row["id"] % 10


@hookimpl
def dangjian_register_scorers(register):
    register(ItemScorer("member-points", "党员积分（测试）", "member points (test)", items=[
        Base("base"), ByName(), PerCount("per_one", _one_each, code="one", label=("{n} 次", "{n} times")),
    ], subjects="member", classes=("resident",), params={"base": 10, "per_one": 1}))
'''


def test_items_worked_out_once_per_key_still_follow_each_subject_and_town(plugin_kit, tmp_path, monkeypatch):
    """Members with the same count in one town share how an item is worked out; an item of a plugin's
    own is worked out for each member (its points follow the row), and a town's own parameters give
    its members their own points for the same count."""
    from core import config
    from core.models import Member

    cfg = tmp_path / "town.toml"
    cfg.write_text('[towns."玉山镇".scoring."member-points"]\nper_one = 5\n', encoding="utf-8")
    monkeypatch.setenv("DANGJIAN_CONFIG", str(cfg))
    config.reset()
    kit = plugin_kit.write("own_item", OWN_ITEM)
    assert kit.errors() == []
    results = kit.score("member-points")
    ids = {m.id_number: m.id for m in Member.select(Member.id, Member.id_number)}
    assert len({ids[r.subject] % 10 for r in results}) > 1
    for r in results:
        items = {i["code"]: i for i in r.items}
        own = ids[r.subject] % 10
        assert items["own"]["points"] == own and items["own"]["label"] == f"编号尾数 {own}"
        assert items["one"]["points"] == (5 if r.town == "玉山镇" else 1), r.town
        assert type(items["one"]["count"]) is (int if ids[r.subject] % 2 == 0 else float)  # equal counts, kept apart
        assert r.points == 10 + own + items["one"]["points"]
    assert {r.town for r in results} >= {"玉山镇", "巴城镇"}
    made = [i for r in results for i in r.items]
    assert len({id(i) for i in made}) == len(made)  # each result its own item dicts


def test_item_scorer_refuses_other_subjects():
    with pytest.raises(ValueError):
        core.ItemScorer("x", "x", "x", items=[], subjects="organization")
    assert isinstance(core.ItemScorer("x", "x", "x", items=[core.Base(1)]), core.Scorer)


def test_built_in_scorers_are_item_scorers_with_the_same_items(plugin_kit):
    from plugins import scorers_default

    names = {s.name: s for s in scorers_default.SCORERS}
    assert isinstance(names["member-points"], core.ItemScorer)
    assert isinstance(names["in-service-performance"], core.ItemScorer)
    assert isinstance(names["worker-appraisal"], core.ItemScorer)
    r = next(r for r in plugin_kit.score("member-points") if r.name == "李娜")
    assert [i["code"] for i in r.items] == ["base", "meetings_attended", "absence_without_leave", "late_dues"]
    assert r.points == sum(i["points"] for i in r.items)
    r = next(r for r in plugin_kit.score("in-service-performance") if r.name == "王强")
    assert r.klass and r.points == sum(i["points"] for i in r.items)


# ---------------------------------------------------------------- share_rule

SHARE = '''
from core import hookimpl, share_rule


def _n(ctx, ids):
    return {{i: {n} for i in ids}}


def _d(ctx, ids):
    return {{i: {d} for i in ids}}


@hookimpl
def dangjian_register_rules(register):
    register(share_rule("short.share_min", 5, "至少", "at least", numerator=_n, denominator=_d,
                        threshold="3/20", below="warn"))
    register(share_rule("short.share_max", 5, "至多", "at most", numerator=_n, denominator=_d,
                        threshold=0.15, above="fail", param="max_share"))
'''


@pytest.mark.parametrize("n, d, at_least, at_most", [
    (3, 20, "pass", "pass"),    # exactly 3/20: both pass
    (2, 20, "warn", "pass"),    # below
    (4, 20, "pass", "fail"),    # above
    (299, 2000, "warn", "pass"),  # 0.1495: just below (exact, not float)
    (0, 0, "info", "info"),     # nothing to count
])
def test_share_rule_at_both_sides_of_the_threshold(plugin_kit, n, d, at_least, at_most):
    kit = plugin_kit.write("short_share", SHARE.format(n=n, d=d))
    assert kit.errors() == []
    got = {(f.rule, f.community): f for f in kit.check(rule_ids=["short.share_min", "short.share_max"])}
    assert {c for _r, c in got} == {"BC01", "YS01"}  # one finding per community
    assert got[("short.share_min", "BC01")].status == at_least
    assert got[("short.share_max", "YS01")].status == at_most
    ev = got[("short.share_min", "BC01")].evidence
    assert ev["numerator"] == n and ev["denominator"] == d and ev["threshold"] == "3/20"
    assert got[("short.share_max", "BC01")].evidence["max_share"] == "3/20"


def test_share_rule_needs_one_direction():
    with pytest.raises(ValueError):
        core.share_rule("x", 1, "x", "x", numerator=dict, denominator=dict, below="warn", above="warn")
    assert core.share_rule("x", 1, "x", "x", numerator=dict, denominator=dict).params == {"threshold": "3/20"}


# ---------------------------------------------------------------- percentage_split

def test_percentage_split_rounds_the_city_half_up_and_sums():
    split = core.percentage_split({"巴城镇": (30, 70), "昆山开发区": (50, 50), "周市镇": ("33.3", "66.7")})
    assert split("巴城镇", "C", 2026, Decimal("100.00")) == {"city": Decimal("30.00"), "town": Decimal("70.00")}
    assert split("昆山开发区", "C", 2026, Decimal("0.01")) == {"city": Decimal("0.01"), "town": Decimal("0.00")}
    assert split("昆山开发区", "C", 2026, Decimal("0.03")) == {"city": Decimal("0.02"), "town": Decimal("0.01")}
    assert split("周市镇", "C", 2026, Decimal("100")) == {"city": Decimal("33.30"), "town": Decimal("66.70")}
    assert split("玉山镇", "C", 2026, Decimal("100")) is None  # not listed: the next plugin answers
    assert hasattr(split, "dangjian_impl")  # marked as a hook implementation


@pytest.mark.parametrize("pair, ok", [((40, 60), True), ((0, 100), True), ((40, 61), False), ((-1, 101), False),
                                      ((40.5, 59.5), True), ((40.5, 59.4), False)])
def test_percentage_split_shares_must_sum_to_100(pair, ok):
    if ok:
        core.percentage_split({"巴城镇": pair})
    else:
        with pytest.raises(ValueError):
            core.percentage_split({"巴城镇": pair})


def test_built_in_split_is_the_percentage_split(plugin_kit):
    from plugins import funding_split_examples

    assert funding_split_examples.dangjian_funding_split.shares == {"昆山开发区": (50, 50), "玉山镇": (50, 50)}
    assert plugin_kit.funding_split("玉山镇", "YS01", "15000.01") == {"city": Decimal("7500.01"),
                                                                      "town": Decimal("7500.00")}
    assert plugin_kit.funding_split("巴城镇", "BC01", "15000.00") is None  # the town pays 100 %


# ---------------------------------------------------------------- for_towns

FOR_TOWNS = '''
from core import for_towns, hookimpl


@hookimpl
@for_towns("巴城镇")
def dangjian_validate_record(kind, record, town, community):
    return ["巴城镇要求"] if not record.get("topic") else []


@hookimpl
@for_towns(["巴城镇", "周市镇"])
def dangjian_funding_split(town, community, year, amount):
    return {"city": amount, "town": amount - amount}
'''


def test_for_towns_acts_for_its_towns_only(plugin_kit):
    kit = plugin_kit.write("short_towns", FOR_TOWNS)
    assert kit.errors() == []
    assert kit.validate("meetings", {"topic": "", "organization": "BC01-ZB"}) == ["巴城镇要求"]
    assert kit.validate("meetings", {"topic": "", "organization": "YS01-ZB"}) == []
    assert kit.funding_split("巴城镇", "BC01", "10.00") == {"city": Decimal("10.00"), "town": Decimal("0.00")}
    # another town: nothing, so the built-in 50/50 answers for 玉山镇
    assert kit.funding_split("玉山镇", "YS01", "10.00") == {"city": Decimal("5.00"), "town": Decimal("5.00")}


def test_for_towns_keeps_the_signature_and_needs_a_town():
    @core.for_towns("周市镇")
    def hook(town, record=None):
        return "mine"

    assert hook("周市镇") == "mine" and hook(town="周市镇") == "mine"
    assert hook("巴城镇") is None and hook(town="巴城镇", record={}) is None
    import inspect
    assert list(inspect.signature(hook).parameters) == ["town", "record"]
    with pytest.raises(TypeError):
        core.for_towns("周市镇")(lambda register: None)
    with pytest.raises(ValueError):
        core.for_towns()


# ---------------------------------------------------------------- the guide

def test_guide_item_scorer_example_loads_and_stays_in_its_town(plugin_kit):
    m = re.search(r"<!-- example:item_scorer.py -->\s*```python\n(.*?)```", DOCS, re.S)
    assert m
    before = plugin_kit.points("member-points")
    kit = plugin_kit.write("item_scorer", m.group(1))
    assert kit.errors() == []
    assert kit.points("member-points") == before  # 周市镇 is not in the tiny city
