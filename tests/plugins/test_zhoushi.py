"""周市镇's measures (tests/plugins/zhoushi/zhoushi_measures.py), a town plugin written only
against ``core``'s documented names, tested through the plugin kit at each boundary."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

PLUGIN = Path(__file__).parent / "zhoushi" / "zhoushi_measures.py"
TOWN = "周市镇"
AS_OF = dt.date(2025, 12, 31)


@pytest.fixture
def kit(plugin_kit):
    renamed = plugin_kit.add_town_like(TOWN, "巴城镇")
    assert renamed["BC01"] == "ZS01" and renamed["张伟"] == "周市张伟"
    kit = plugin_kit.load(PLUGIN, towns=[TOWN])
    assert kit.errors() == []
    return kit


def _items(kit, name, **kw):
    row = next(r for r in kit.score("member-points", **kw) if r.name == name)
    return row, {i["code"]: i for i in row.items}


def _add_hours(name, hours, day=dt.date(2025, 7, 1)):
    from core import models as m
    from core.db import write_tx

    with write_tx():
        m.VolunteerHours.create(member=m.Member.get(m.Member.name == name), date=day,
                                hours=Decimal(hours), activity="测试")


# ---------------------------------------------------------------- member points


def test_add_town_like_mirrors_the_town(kit):
    from core import models as m

    assert "周市镇" in kit.city.towns and kit.city.communities["ZS01"].town.name == TOWN
    assert kit.city.orgs["ZS01-XZ"].parent.code == "ZS01-ZB"
    like = {r.name: r for r in kit.score("member-points", plugin=False, town="巴城镇")}
    mirror = {r.name: r for r in kit.score("member-points", plugin=False, town=TOWN)}
    assert {"周市" + n: r.points for n, r in like.items()} == {n: r.points for n, r in mirror.items()}
    assert m.Meeting.select().where(m.Meeting.code.startswith("ZS01-")).count() == 20


def test_base_60_for_a_formal_member_none_for_a_probationary_one(kit):
    kit.add_member("周市新甲", "ZS01", birth=dt.date(1998, 1, 1), joined=dt.date(2025, 3, 1),
                   full=AS_OF)                                  # formal on the as-of date itself
    kit.add_member("周市新乙", "ZS01", birth=dt.date(1998, 1, 2), joined=dt.date(2025, 3, 1),
                   full=AS_OF + dt.timedelta(days=1))           # formal only the day after
    assert _items(kit, "周市张伟")[1]["base"]["points"] == 60
    row, items = _items(kit, "周市新甲")
    assert items["base"]["points"] == 60 and row.points == 60
    row, items = _items(kit, "周市新乙")
    assert items["base"]["points"] == 0 and row.points == 0
    # an as-of date before he is formal: the same member is probationary then
    _, items = _items(kit, "周市新甲", as_of=AS_OF - dt.timedelta(days=1))
    assert items["base"]["points"] == 0


def test_meetings_and_absences(kit):
    row, items = _items(kit, "周市张伟")      # 4 assemblies, 4 lectures, 12 group meetings; 6 hours
    assert items["attended"]["points"] == 40 and "absent" not in items
    assert row.points == 60 + 40 + 6
    row, items = _items(kit, "周市李娜")      # absent without leave at the Q4 assembly
    assert items["attended"]["points"] == 2 * 7 and items["absent"]["points"] == -5
    assert row.points == 60 + 14 - 5
    # only the year up to the as-of date: before the Q4 assembly she had no absence
    _, items = _items(kit, "周市李娜", as_of=dt.date(2025, 12, 9))
    assert "absent" not in items


def test_volunteer_hours_capped_at_20(kit):
    _add_hours("周市张伟", 14)                # 6 + 14 = 20 hours
    _, items = _items(kit, "周市张伟")
    assert items["volunteer"]["points"] == 20
    _add_hours("周市张伟", 1)                 # 21 hours
    _, items = _items(kit, "周市张伟")
    assert items["volunteer"]["points"] == 20 and items["volunteer"]["count"] == 21


def test_other_towns_keep_the_city_scheme(kit):
    with_plugin = kit.points("member-points")
    without = kit.points("member-points", plugin=False)
    for name in ("张伟", "李娜", "刘洋", "陈静", "杨军", "黄磊"):
        assert with_plugin[name] == without[name]
    assert with_plugin["周市张伟"] != without["周市张伟"]


def test_other_towns_score_output_byte_identical(plugin_kit):
    plugin_kit.add_town_like(TOWN, "巴城镇")
    args = [("score", "member-points", "--year", "2025", "--town", t, *f)
            for t in ("巴城镇", "玉山镇") for f in ((), ("--format", "json"), ("--format", "csv"))]
    before = [plugin_kit.cli(*a) for a in args]
    kit = plugin_kit.load(PLUGIN, towns=[TOWN])
    after = [kit.cli(*a) for a in args]
    assert after == before
    assert all(code == 0 and out for code, out, _ in after)
    code, out, _ = kit.cli("score", "member-points", "--year", "2025", "--town", TOWN, "--format", "json")
    assert code == 0 and "zhoushi_measures" in out


# ---------------------------------------------------------------- youth share (clause 12)


def _youth(kit):
    return [(f.community, f.status, f.evidence) for f in kit.check(rule_ids=["zhoushi.youth_share"])]


def test_youth_share_at_15_percent_passes_just_below_warns(kit):
    # ZS01's formal members whose relationship is there: 周市张伟 and 周市李娜 (both over 35)
    kit.add_member("青年甲", "ZS01", birth=dt.date(1990, 12, 31))   # 35 on the as-of date
    kit.add_member("青年乙", "ZS01", birth=dt.date(1995, 6, 1))
    kit.add_member("青年丙", "ZS01", birth=dt.date(1999, 6, 1), klass="floating_out")
    kit.add_member("预备丁", "ZS01", birth=dt.date(2000, 6, 1), joined=dt.date(2025, 6, 1),
                   full=False)                                   # probationary: not counted
    kit.add_member("在职戊", "ZS01", birth=dt.date(2000, 6, 1), klass="in_service")  # not here
    for i in range(15):
        kit.add_member(f"老党员{i}", "ZS01", birth=dt.date(1960, 1, 1 + i))
    assert _youth(kit) == [("ZS01", "pass", {"young": 3, "members": 20})]   # 3/20 = 15 %
    kit.add_member("老党员末", "ZS01", birth=dt.date(1960, 2, 1))
    assert _youth(kit) == [("ZS01", "warn", {"young": 3, "members": 21})]   # 3/21 < 15 %


def test_youth_share_age_boundary(kit):
    for i in range(15):
        kit.add_member(f"老党员{i}", "ZS01", birth=dt.date(1960, 1, 1 + i))
    kit.add_member("青年甲", "ZS01", birth=dt.date(1995, 6, 1))
    kit.add_member("青年乙", "ZS01", birth=dt.date(1995, 6, 2))
    kit.add_member("三十六", "ZS01", birth=dt.date(1989, 12, 31))  # 36 on the as-of date
    assert _youth(kit) == [("ZS01", "warn", {"young": 2, "members": 20})]


def test_youth_share_only_in_zhoushi(kit):
    assert [c for c, _, _ in _youth(kit)] == ["ZS01"]
    assert _youth(kit)[0][1] == "warn"                           # nobody 35 or younger
    assert "zhoushi.youth_share" not in {f.rule for f in kit.check(town="巴城镇")}


# ---------------------------------------------------------------- funding, training, validation


def test_funding_split_40_60(kit):
    assert kit.funding_split(TOWN, "ZS01", "15000.00") == {"city": Decimal("6000.00"),
                                                           "town": Decimal("9000.00")}
    split = kit.funding_split(TOWN, "ZS01", "100.01")
    assert split == {"city": Decimal("40.00"), "town": Decimal("60.01")}
    assert kit.funding_split("巴城镇", "BC01", "15000.00") == kit._without_plugin(
        lambda: kit.funding_split("巴城镇", "BC01", "15000.00"))


def _staff(kit, community):
    return {(f.subject, f.status) for f in kit.check(rule_ids=["train.staff"]) if f.community == community}


def test_train_staff_min_days_6_in_zhoushi_only(kit):
    from core import models as m
    from core.db import write_tx

    assert kit.town_params(TOWN)["train.staff"] == {"min_days": 6}
    assert "train.staff" not in kit.town_params("巴城镇")
    wu_zs, wu_bc = kit.city.workers["周市吴婷"], kit.city.workers["吴婷"]   # 5 days of training
    assert _staff(kit, "ZS01") == {(wu_zs.id_number, "fail")}
    assert _staff(kit, "BC01") == {(wu_bc.id_number, "pass")}
    with write_tx():
        m.Training.update(days=6).where(m.Training.worker.in_([wu_zs.id, wu_bc.id])).execute()
    assert _staff(kit, "ZS01") == {(wu_zs.id_number, "pass")}
    assert _staff(kit, "BC01") == {(wu_bc.id_number, "pass")}


def test_meeting_topic_at_least_4_characters(kit):
    short = kit.validate("meetings", {"topic": "学党史", "organization": "ZS01-ZB"})
    assert len(short) == 1 and short[0].column == "主题" and "4" in short[0]
    assert kit.validate("meetings", {"topic": "学习党史", "organization": "ZS01-ZB"}) == []
    assert kit.validate("meetings", {"topic": "学党史", "organization": "BC01-ZB"}) == []


# ---------------------------------------------------------------- the screen


def test_youth_screen(kit):
    from textual.screen import Screen

    kit.add_member("青年甲", "ZS01", birth=dt.date(1995, 6, 1))
    screens = {name: (title, factory, plugin) for name, title, factory, plugin in kit.screens()}
    title, factory, plugin = screens["zhoushi-youth"]
    assert plugin == "zhoushi_measures" and "青年" in title
    screen = factory()
    assert isinstance(screen, Screen)
    rows = _plugin_module().youth_rows(2025, None)
    assert rows == [("ZS01", "周市社区", 1, 3)]
    assert _plugin_module().share_text(1, 3) == "1/3（33.3%）"


def _plugin_module():
    import sys

    return next(m for n, m in sys.modules.items() if n.endswith("zhoushi_measures"))


# ---------------------------------------------------------------- the size of the plugin


def test_plugin_is_short():
    lines = PLUGIN.read_text(encoding="utf-8").splitlines()
    code = [line for line in lines if line.strip() and not line.strip().startswith("#")]
    assert len(code) <= 120
    assert max(len(line) for line in lines) <= 100


def test_plugin_uses_only_the_public_api():
    import ast

    tree = ast.parse(PLUGIN.read_text(encoding="utf-8"))
    mods = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    mods |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert mods <= {"core", "tui.api", "textual.widgets", "decimal", "fractions"}
