"""Scorers (SPEC §4) on the tiny city of core.testing and hand-built findings:
points add up item by item, classes change at their thresholds, a town
override applies to that town only, ranks only where config turns them on."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from core.api import Finding

Y = 2025
AS_OF = dt.date(2025, 12, 31)


def use_config(tmp_path, monkeypatch, text: str):
    from core import config, plugins

    path = tmp_path / "city.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("DANGJIAN_CONFIG", str(path))
    config.reset()
    plugins.reset()


def scores(name, **kw):
    from core.scoring import run_scorer

    kw.setdefault("year", Y)
    kw.setdefault("as_of", AS_OF)
    return {r.name: r for r in run_scorer(name, **kw)}


def codes(result):
    return {i["code"]: i["points"] for i in result.items}


def cli(capsys, *argv):
    from core.cli import main

    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------- member points

def test_member_points_add_up_item_by_item(dangjian_city):
    r = scores("member-points")
    zw = r["张伟"]  # 巴城镇: 4 assemblies + 4 lectures + 12 group meetings, 6 volunteer hours, 1 commitment kept
    assert codes(zw) == {"base": Decimal(60), "meetings_attended": Decimal(20), "volunteer_hours": Decimal(3),
                         "commitments_kept": Decimal(2)}
    assert zw.points == Decimal(85) == zw.items_total()
    ln = r["李娜"]  # 7 attended, 1 absent without leave, November and December unpaid
    assert codes(ln) == {"base": Decimal(60), "meetings_attended": Decimal(7), "absence_without_leave": Decimal(-2),
                         "late_dues": Decimal(-2)}
    assert ln.points == Decimal(63)
    assert [i for i in ln.items if i["code"] == "late_dues"][0]["count"] == 2
    # leave is neither counted nor deducted; a placed floating-in member is scored
    assert codes(r["刘洋"]) == {"base": Decimal(60), "meetings_attended": Decimal(6)}
    # in-service members are not in member points (they have in-service-performance)
    assert "王强" not in r and "赵敏" not in r
    for res in r.values():
        assert res.points == sum(i["points"] for i in res.items)
        assert all(i["label"] for i in res.items)


def test_member_points_never_count_online_time_or_check_ins():
    import tomllib

    from core.config import default_path

    items = tomllib.loads(default_path().read_text(encoding="utf-8"))["scoring"]["member-points"]
    assert not [k for k in items if any(w in k for w in ("online", "login", "check_in", "checkin", "sign"))]


def test_volunteer_points_are_capped(dangjian_city):
    from core.db import write_tx
    from core.models import VolunteerHours

    with write_tx():  # 6 + 13 = 19 hours → 9.5 points; +1 hour → 10 (the cap); +5 more → still 10
        VolunteerHours.create(member=dangjian_city.members["张伟"], date=dt.date(Y, 7, 1), hours=Decimal("13"))
    assert codes(scores("member-points")["张伟"])["volunteer_hours"] == Decimal("9.5")
    with write_tx():
        VolunteerHours.create(member=dangjian_city.members["张伟"], date=dt.date(Y, 8, 1), hours=Decimal("1"))
    assert codes(scores("member-points")["张伟"])["volunteer_hours"] == Decimal(10)
    with write_tx():
        VolunteerHours.create(member=dangjian_city.members["张伟"], date=dt.date(Y, 9, 1), hours=Decimal("5"))
    assert codes(scores("member-points")["张伟"])["volunteer_hours"] == Decimal(10)


def test_late_dues_paid_after_month_end_counts(dangjian_city):
    from core.db import write_tx
    from core.models import DuesPayment

    with write_tx():
        DuesPayment.update(paid_date=dt.date(Y, 4, 1)).where(
            DuesPayment.member == dangjian_city.members["张伟"], DuesPayment.month == f"{Y}-03").execute()
    assert codes(scores("member-points")["张伟"])["late_dues"] == Decimal(-1)
    # as of mid-year only months ended count
    r = scores("member-points", as_of=dt.date(Y, 6, 30))["李娜"]
    assert "late_dues" not in codes(r)


def test_late_dues_count_only_the_months_owed_as_the_dues_rule_does(dangjian_city):
    """Member points' late months are dues.on_time's: a month with nothing due is not late,
    and a member who became 社区党员 on 15 July owes from July only (the roster of each
    month's last day), whatever was unpaid before."""
    from core import records
    from core.db import write_tx
    from core.models import ClassChange, DuesPayment

    zw = dangjian_city.members["张伟"]
    with write_tx():
        DuesPayment.update(due=0, paid=0, paid_date=None).where(
            DuesPayment.member == zw, DuesPayment.month == f"{Y}-03").execute()
    assert "late_dues" not in codes(scores("member-points")["张伟"])
    records.create(ClassChange, {"member": zw, "new_class": "in_service", "date": dt.date(Y, 1, 1)})
    records.create(ClassChange, {"member": zw, "new_class": "resident", "date": dt.date(Y, 7, 15)})
    with write_tx():
        DuesPayment.delete().where(DuesPayment.member == zw, DuesPayment.month <= f"{Y}-06").execute()
    assert "late_dues" not in codes(scores("member-points")["张伟"])
    with write_tx():
        DuesPayment.delete().where(DuesPayment.member == zw, DuesPayment.month == f"{Y}-07").execute()
    assert codes(scores("member-points")["张伟"])["late_dues"] == Decimal(-1)
    res = __import__("core.rules", fromlist=["run_check"]).run_check(year=Y, as_of=AS_OF, rule_ids=["dues.on_time"],
                                                                        store=False)
    mine = [f for f in res.findings if f.evidence.get("member_id") == getattr(zw, "id", zw)]
    assert mine and mine[0].evidence["months_required"] == 6 and mine[0].evidence.get("unpaid_months") == [f"{Y}-07"]


def test_town_config_override_applies_to_that_town_only(dangjian_city, tmp_path, monkeypatch):
    use_config(tmp_path, monkeypatch, '[towns."巴城镇".scoring."member-points"]\nbase = 70\nper_meeting_attended = 2\n')
    r = scores("member-points")
    assert codes(r["张伟"])["base"] == Decimal(70) and codes(r["张伟"])["meetings_attended"] == Decimal(40)
    assert codes(r["陈静"])["base"] == Decimal(60) and codes(r["陈静"])["meetings_attended"] == Decimal(8)


def test_city_config_override_applies_everywhere(dangjian_city, tmp_path, monkeypatch):
    use_config(tmp_path, monkeypatch, '[scoring."member-points"]\nbase = 50\n')
    r = scores("member-points")
    assert codes(r["张伟"])["base"] == codes(r["陈静"])["base"] == Decimal(50)


def test_town_only_scorer_replacement_scores_its_town_only(plugin_kit):
    kit = plugin_kit.write("town_points", '''
from core import Scorer, hookimpl

def score(ctx):
    from core.models import Member, Organization
    for m in Member.select().join(Organization).where(Organization.community.in_(ctx.community_ids)):
        yield ctx.result(m.id_number, [ctx.item("flat", "统一", ctx.params()["flat"])],
                         community=m.organization.community_id, name=m.name)

@hookimpl
def dangjian_register_scorers(register):
    register(Scorer("member-points", "巴城积分", "Bacheng points", score, towns=["巴城镇"], params={"flat": 99}))
''')
    r = {x.name: x for x in kit.score("member-points")}
    assert r["张伟"].points == Decimal(99) and r["李娜"].points == Decimal(99)
    assert r["陈静"].points == Decimal(85 - 12) and r["陈静"].scorer.plugin == "plugins.scorers_default"
    assert {x.town for x in r.values() if x.scorer.plugin == "town_points"} == {"巴城镇"}


# ---------------------------------------------------------------- rankings

def test_no_rank_column_by_default(dangjian_city, capsys):
    code, out, err = cli(capsys, "score", "member-points", "--year", Y, "--format", "csv")
    assert code == 0
    assert out.splitlines()[0].lstrip("\ufeff").split(",")[0] == "区镇"
    assert "名次" not in out


def test_rank_column_when_show_ranking(dangjian_city, tmp_path, monkeypatch, capsys):
    use_config(tmp_path, monkeypatch, "[points]\nshow_ranking = true\n")
    code, out, err = cli(capsys, "score", "member-points", "--year", Y, "--format", "json")
    data = json.loads(out)
    ranks = {d["name"]: d["rank"] for d in data}
    assert ranks == {"张伟": 1, "刘洋": 2, "李娜": 3, "陈静": 1, "黄磊": 2, "杨军": 3}


def test_rank_only_for_the_town_that_turns_it_on(dangjian_city, tmp_path, monkeypatch, capsys):
    use_config(tmp_path, monkeypatch, '[towns."巴城镇".points]\nshow_ranking = true\n')
    code, out, err = cli(capsys, "--lang", "en", "score", "member-points", "--year", Y, "--format", "json")
    ranks = {d["name"]: d["rank"] for d in json.loads(out)}
    assert ranks["张伟"] == 1 and ranks["陈静"] is None
    code, out, err = cli(capsys, "score", "member-points", "--year", Y, "--town", "玉山镇", "--format", "csv")
    assert "名次" not in out


def test_equal_points_share_a_rank(dangjian_city, tmp_path, monkeypatch):
    from core.db import write_tx
    from core.models import VolunteerHours

    use_config(tmp_path, monkeypatch, "[points]\nshow_ranking = true\n")
    with write_tx():  # 李娜 63 + 3 = 66, equal to 刘洋
        VolunteerHours.create(member=dangjian_city.members["李娜"], date=dt.date(Y, 7, 1), hours=Decimal("6"))
    r = scores("member-points", town="巴城镇")
    assert r["李娜"].points == r["刘洋"].points == Decimal(66)
    assert (r["张伟"].rank, r["刘洋"].rank, r["李娜"].rank) == (1, 2, 2)


# ---------------------------------------------------------------- community score

GOOD_RULES = {"leadership": "org.kind_size", "cadres": "worker.certificate", "mechanism": "democracy.affairs_published",
              "performance": "service.reception_weekly", "masses": "service.demand_response"}


def findings_for(code, statuses, town="巴城镇"):
    """One finding per good's rule, with the given status for every good (or per good)."""
    out = []
    for good, rule in GOOD_RULES.items():
        s = statuses[good] if isinstance(statuses, dict) else statuses
        out.append(Finding(rule, 3, s, town, code, code, "x"))
    return out


def community(code="BC01", findings=None, **kw):
    from core.scoring import run_scorer

    return run_scorer("community-score", year=Y, as_of=AS_OF, community=code, findings=findings, **kw)[0]


def test_community_score_rolls_up_five_goods(dangjian_city):
    r = community(findings=findings_for("BC01", {"leadership": "pass", "cadres": "warn", "mechanism": "fail",
                                                 "performance": "pass", "masses": "pass"}))
    # no public evaluation: the goods alone, 20 % each → (100 + 50 + 0 + 100 + 100) / 5 = 70
    assert r.points == Decimal(70) == sum(i["points"] for i in r.items)
    assert [i["code"] for i in r.items] == [f"good.{g}" for g in GOOD_RULES]
    assert r.klass == "一般"
    assert r.extra["党员干部队伍好"] == Decimal("50.00")  # a Score: shown 50.00, plain in csv/json


def test_rules_are_averaged_per_rule_and_info_error_do_not_count(dangjian_city):
    fs = findings_for("BC01", "pass")
    # 3 member findings of one cadres rule (2 fail, 1 pass) and the cadres community rule passing:
    # cadres = mean(1.0, 1/3) = 2/3 → 66.67
    fs += [Finding("dues.on_time", 13, s, "巴城镇", "BC01", f"m{i}", "x") for i, s in enumerate(["fail", "fail", "pass"])]
    fs += [Finding("worker.age_structure", 6, "info", "巴城镇", "BC01", "BC01", "x"),
           Finding("worker.backup_pool", 6, "error", "巴城镇", "BC01", "BC01", "x"),
           Finding("org.kind_size", 3, "fail", "玉山镇", "YS01", "YS01-ZB", "elsewhere")]
    r = community(findings=fs)
    assert r.extra["党员干部队伍好"] == Decimal("66.67")
    assert r.points == sum(i["points"] for i in r.items)


@pytest.mark.parametrize("pe,points,klass", [("25", "85.00", "先进"), ("24.95", "84.99", "一般")])
def test_advanced_class_at_its_threshold(dangjian_city, tmp_path, monkeypatch, pe, points, klass):
    use_config(tmp_path, monkeypatch, f'[scoring."community-score".public_evaluation."{Y}"]\nBC01 = {pe}\n')
    r = community(findings=findings_for("BC01", "pass"))  # goods 100 × 80 % = 80, plus pe × 20 %
    assert r.points == Decimal(points) and r.klass == klass
    assert r.items[-1]["code"] == "public_evaluation"
    assert r.points == sum(i["points"] for i in r.items)


@pytest.mark.parametrize("pe,points,klass", [("100", "60.00", "一般"), ("99.95", "59.99", "后进")])
def test_lagging_class_at_its_threshold(dangjian_city, tmp_path, monkeypatch, pe, points, klass):
    use_config(tmp_path, monkeypatch, f'[scoring."community-score".public_evaluation."{Y}"]\nBC01 = {pe}\n')
    r = community(findings=findings_for("BC01", "warn"))  # goods 50 × 80 % = 40
    assert r.points == Decimal(points) and r.klass == klass


def test_class_thresholds_come_from_config_per_town(dangjian_city, tmp_path, monkeypatch):
    use_config(tmp_path, monkeypatch, '[towns."巴城镇".scoring."community-score"]\nadvanced_min = 70\n')
    fs = findings_for("BC01", {"leadership": "pass", "cadres": "warn", "mechanism": "fail", "performance": "pass",
                               "masses": "pass"})
    fs += findings_for("YS01", {"leadership": "pass", "cadres": "warn", "mechanism": "fail", "performance": "pass",
                                "masses": "pass"}, town="玉山镇")
    from core.scoring import run_scorer

    r = {x.community: x for x in run_scorer("community-score", year=Y, as_of=AS_OF, findings=fs)}
    assert r["BC01"].points == r["YS01"].points == Decimal(70)
    assert (r["BC01"].klass, r["YS01"].klass) == ("先进", "一般")


def test_public_evaluation_out_of_range_is_a_clear_error(dangjian_city, tmp_path, monkeypatch):
    from core.errors import UserError

    use_config(tmp_path, monkeypatch, f'[scoring."community-score".public_evaluation."{Y}"]\nBC01 = 120\n')
    with pytest.raises(UserError, match="0"):
        community(findings=findings_for("BC01", "pass"))


def test_community_score_from_the_rule_engine(dangjian_city):
    """Without injected findings the scorer runs the rules over its communities."""
    r = scores("community-score")
    assert set(r) == {"巴城社区", "玉山社区"}
    for res in r.values():
        assert res.points == sum(i["points"] for i in res.items)
        assert res.klass in ("先进", "一般", "后进")


# ---------------------------------------------------------------- worker appraisal

def test_worker_appraisal_items(dangjian_city):
    r = scores("worker-appraisal")
    zm = r["周明"]  # secretary and director: 7 city-level days, certificate, filed, both reports, 1 reception
    assert codes(zm) == {"base": Decimal(60), "training_days": Decimal(7), "training_met": Decimal(5),
                         "certificate": Decimal(10), "secretary_filed": Decimal(5), "dual_report": Decimal(10),
                         "visits": Decimal("0.2")}
    assert zm.points == Decimal("97.2") == zm.items_total()
    # 孙丽: director, only 5 street-level days → training requirement of clause 7 not met
    assert codes(r["孙丽"]) == {"base": Decimal(60), "training_days": Decimal(5)}
    # 吴婷: staff, 5 days → met
    assert codes(r["吴婷"])["training_met"] == Decimal(5)


def test_worker_training_requirement_at_min_days(dangjian_city):
    from core.db import write_tx
    from core.models import Training

    with write_tx():
        Training.update(days=Decimal("6")).where(Training.worker == dangjian_city.workers["周明"]).execute()
    assert "training_met" not in codes(scores("worker-appraisal")["周明"])  # 6 < 7 days
    with write_tx():
        Training.update(days=Decimal("4")).where(Training.worker == dangjian_city.workers["吴婷"]).execute()
    assert "training_met" not in codes(scores("worker-appraisal")["吴婷"])  # 4 < 5 days


def test_worker_late_demand_deduction(dangjian_city):
    from core.db import write_tx
    from core.models import Visit

    with write_tx():  # answered on day 15: fine; day 16: late
        Visit.create(community=dangjian_city.communities["BC01"], kind="reception", date=dt.date(Y, 5, 1),
                     staff=dangjian_city.workers["吴婷"], demand="甲", answered_date=dt.date(Y, 5, 16))
    assert "demands_late" not in codes(scores("worker-appraisal")["吴婷"])
    with write_tx():
        Visit.create(community=dangjian_city.communities["BC01"], kind="reception", date=dt.date(Y, 6, 1),
                     staff=dangjian_city.workers["吴婷"], demand="乙", answered_date=dt.date(Y, 6, 17))
    assert codes(scores("worker-appraisal")["吴婷"])["demands_late"] == Decimal(-2)


# ---------------------------------------------------------------- in-service performance

def test_in_service_performance_and_grade_threshold(dangjian_city, tmp_path, monkeypatch):
    r = scores("in-service-performance")
    assert set(r) == {"王强", "赵敏"}
    wq = r["王强"]  # 4 assemblies, 10 volunteer hours, 1 commitment, 1 pairing
    assert codes(wq) == {"base": Decimal(60), "activities": Decimal(8), "volunteer_hours": Decimal(5),
                         "commitments_kept": Decimal(3), "pairings": Decimal(5)}
    assert wq.points == Decimal(81) and wq.klass == "好"
    use_config(tmp_path, monkeypatch, '[scoring."in-service-performance"]\ngood_min = 81\n')
    assert scores("in-service-performance")["王强"].klass == "好"  # 81 ≥ 81
    use_config(tmp_path, monkeypatch, '[scoring."in-service-performance"]\ngood_min = 81.01\n')
    assert scores("in-service-performance")["王强"].klass == "一般"


# ---------------------------------------------------------------- dangjian score

@pytest.mark.parametrize("fmt", ["table", "md", "csv", "html", "json", "xlsx"])
@pytest.mark.parametrize("name", ["member-points", "community-score", "worker-appraisal", "in-service-performance"])
def test_score_every_format(dangjian_city, tmp_path, capsys, name, fmt):
    out_file = tmp_path / f"out.{fmt}"
    code, out, err = cli(capsys, "score", name, "--year", Y, "--format", fmt, "--output", out_file)
    assert code == 0, err
    if fmt == "xlsx":
        from openpyxl import load_workbook

        ws = load_workbook(out_file).active
        assert ws.max_row >= 3 and ws.cell(1, 1).value == "区镇"
        return
    text = out_file.read_text(encoding="utf-8-sig")
    if fmt == "json":
        data = json.loads(text)
        assert data and all(sum(Decimal(str(i["points"])) for i in d["items"]) == Decimal(str(d["points"]))
                            for d in data if d["items"])
    else:
        assert ("巴城" in text) and ("玉山" in text)


def test_score_masks_ids_unless_allowed(dangjian_city, capsys):
    from core import access
    from core.db import write_tx
    from core.models import User

    from tests.factories import record_me

    full = dangjian_city.members["张伟"].id_number
    code, out, err = cli(capsys, "score", "member-points", "--year", Y, "--format", "csv")
    assert full not in out  # single-user mode masks
    record_me(full_personal_data=True)
    code, out, err = cli(capsys, "score", "member-points", "--year", Y, "--format", "csv")
    assert full in out  # an admin allowed full personal data
    with write_tx():
        record_me(full_personal_data=False, role="city")
    code, out, err = cli(capsys, "score", "member-points", "--year", Y, "--format", "csv")
    assert code == 0 and full not in out and full[:6] + "********" + full[14:17] + "*" in out


def test_score_list_and_bad_names(dangjian_city, capsys):
    code, out, err = cli(capsys, "score", "--list")
    assert code == 0
    for name in ("member-points", "community-score", "worker-appraisal", "in-service-performance"):
        assert name in out
    assert "plugins.scorers_default" in out
    code, out, err = cli(capsys, "score", "no-such")
    assert code == 2 and "no-such" in err and "Traceback" not in err
    code, out, err = cli(capsys, "score", "member-points", "--community", "NOPE")
    assert code == 2 and "NOPE" in err
    code, out, err = cli(capsys, "score", "member-points", "--as-of", "2025-13-01")
    assert code == 2 and "2025-13-01" in err


def test_score_community_scope(dangjian_city, capsys):
    code, out, err = cli(capsys, "score", "member-points", "--year", Y, "--community", "YS01", "--format", "json")
    assert {d["community"] for d in json.loads(out)} == {"YS01"}


def test_community_score_reads_a_current_stored_run(dangjian_city, capsys, monkeypatch):
    from core import rules
    from core.db import write_tx
    from core.models import AuditLog

    code, out, err = cli(capsys, "check", "--year", Y, "--format", "json")  # the run is stored
    fresh = {k: v.points for k, v in scores("community-score").items()}

    def no_rerun(**kw):
        raise AssertionError("the rule engine ran again")

    monkeypatch.setattr(rules, "run_check", no_rerun)
    assert {k: v.points for k, v in scores("community-score").items()} == fresh
    code, out, err = cli(capsys, "report", "town-summary", "--year", Y, "--format", "json")
    assert code == 0 and {d["town"] for d in json.loads(out)} == {"巴城镇", "玉山镇"}
    # another as-of date: the stored run does not answer
    from core.errors import UserError

    with pytest.raises(UserError, match="ran again"):
        scores("community-score", as_of=dt.date(Y, 6, 30))
    # a write since the run makes it stale
    with write_tx():
        AuditLog.create(user="someone", action="update", table="member", key="1")
    with pytest.raises(UserError, match="ran again"):
        scores("community-score")
