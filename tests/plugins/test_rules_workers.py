"""Rules of clauses 6–9 (workers, training, certificate, reports, pay) at their boundaries."""
from __future__ import annotations

import datetime as dt

import pytest

from core import access, ids
from core.rules import run_check
from tests import factories as f


def check(rule, as_of="2026-06-30", year=None, **kw):
    kw.setdefault("principal", f.FULL_VIEW)  # subjects are full ID numbers for this viewer
    res = run_check(year=year, as_of=f.D(as_of), rule_ids=[rule], store=False, **kw)
    return {x.subject: x for x in res.findings if x.rule == rule}


@pytest.fixture
def c(dangjian_db):
    return f.make_community("KS001", town="玉山镇")


# ------------------------------------------------------------------ 第6条

def test_college_graduate_and_backup(c):
    c2 = f.make_community("KS002")
    f.make_worker(c, college_graduate=True, backup_talent=True)
    f.make_worker(c2, college_graduate=True, backup_talent=True, status="exited")  # exited: not in post
    f.make_worker(c2)
    out = check("worker.college_graduate")
    assert out["KS001"].status == "pass" and out["KS001"].evidence["count"] == 1
    assert out["KS002"].status == "fail" and out["KS002"].evidence["count"] == 0
    out = check("worker.backup_pool")
    assert out["KS001"].status == "pass" and out["KS002"].status == "fail"


def test_worker_hired_after_as_of_not_in_post(c):
    f.make_worker(c, college_graduate=True, hired_date=dt.date(2026, 7, 1))
    assert check("worker.college_graduate")["KS001"].status == "fail"
    assert check("worker.college_graduate", as_of="2026-07-01")["KS001"].status == "pass"


def test_age_structure_info(c):
    empty = f.make_community("KS009")
    for birth in ("1991-06-30", "1981-06-30", "1980-06-29", "1960-01-01"):  # 35, 45, 46, 66 on 2026-06-30
        f.make_worker(c, birth=birth)
    out = check("worker.age_structure")
    assert out["KS001"].status == "info"
    ev = out["KS001"].evidence
    assert ev["workers"] == 4 and ev["in_range"] == 2 and ev["share"] == "1/2"
    assert ev["mean_age"] == pytest.approx((35 + 45 + 46 + 66) / 4)
    assert out[empty.code].status == "info" and out[empty.code].evidence["workers"] == 0


def test_one_shoulder_info(c):
    c2 = f.make_community("KS002")
    f.make_worker(c, posts=("secretary", "director"))
    f.make_worker(c2, posts=("secretary",))
    f.make_worker(c2, posts=("director",))
    out = check("worker.one_shoulder")
    assert out["KS001"].status == "info" and out["KS001"].evidence["one_shoulder"] is True
    assert out["KS002"].evidence["one_shoulder"] is False


# ------------------------------------------------------------------ 第7条

@pytest.mark.parametrize("days,status", [(6, "warn"), (7, "pass")])
def test_train_leader_days(c, days, status):
    w = f.make_worker(c, posts=("secretary",))
    f.make_training(w, "city", "2026-03-01", 3)
    f.make_training(w, "street", "2026-04-01", days - 3)
    f.make_training(w, "city", "2025-12-01", 10)  # last year: does not count
    out = check("train.leader")
    assert out[w.id_number].status == status
    assert out[w.id_number].evidence["days"] == str(days)


def test_train_leader_needs_city_level(c):
    w = f.make_worker(c, posts=("director",))
    f.make_training(w, "town", "2026-03-01", 8)
    out = check("train.leader")
    assert out[w.id_number].status == "warn" and out[w.id_number].evidence["trainings"] == 0
    f.make_training(w, "city", "2026-05-01", 1)
    assert check("train.leader")[w.id_number].status == "pass"


def test_train_yearly_obligation_warn_in_june_fail_in_december(c):
    w = f.make_worker(c, posts=("secretary",))
    s = f.make_worker(c, posts=("committee_member",))
    assert check("train.leader", as_of="2026-06-30")[w.id_number].status == "warn"
    assert "12-31" in check("train.leader", as_of="2026-06-30")[w.id_number].message
    assert check("train.leader", as_of="2026-12-31")[w.id_number].status == "fail"
    assert check("train.staff", as_of="2026-06-30")[s.id_number].status == "warn"
    assert check("train.staff", as_of="2026-12-31")[s.id_number].status == "fail"
    # a past year's check is over: fail
    assert check("train.staff", year=2025, as_of=None)[s.id_number].status == "fail"


@pytest.mark.parametrize("days,status", [(4, "fail"), (5, "pass")])
def test_train_staff_days(c, days, status):
    s = f.make_worker(c, posts=("committee_member",))
    f.make_training(s, "town", "2026-03-01", days)
    assert check("train.staff", as_of="2026-12-31")[s.id_number].status == status


def test_train_subject_sets_split_leaders_and_staff(c):
    lead = f.make_worker(c, posts=("secretary",))
    staff = f.make_worker(c, posts=("other",))
    gone = f.make_worker(c, posts=("other",), status="exited")
    assert set(check("train.leader")) == {lead.id_number}
    assert set(check("train.staff")) == {staff.id_number}
    assert gone.id_number not in check("train.staff")


def test_past_year_uses_posts_held_then(c):
    w = f.make_worker(c, posts=())
    f.make_post(w, "other", "2020-01-01", "2026-03-01")
    f.make_post(w, "secretary", "2026-03-01")
    assert set(check("train.staff", year=2025, as_of=None)) == {w.id_number}
    assert check("train.leader", year=2025, as_of=None) == {}
    assert set(check("train.leader", as_of="2026-06-30")) == {w.id_number}
    assert check("worker.secretary_filed", year=2025, as_of=None) == {}
    # a worker who has exited since, with the post's end recorded, was in post then
    x = f.make_worker(c, posts=(), status="exited", exit_reason="辞职")
    f.make_post(x, "secretary", "2018-01-01", "2026-02-01")
    assert x.id_number in check("worker.secretary_filed", year=2025, as_of=None)
    assert x.id_number not in check("worker.secretary_filed", as_of="2026-06-30")


@pytest.mark.parametrize("birth,education,status", [
    ("1986-06-30", "college", "warn"),   # 40 on 2026-06-30: 以下 includes 40
    ("1985-06-30", "college", "pass"),   # 41
    ("1986-06-30", "bachelor", "pass"),
    ("1990-01-01", None, "warn"),
])
def test_degree_encouraged(c, birth, education, status):
    w = f.make_worker(c, birth=birth, education=education)
    assert check("train.degree_encouraged")[w.id_number].status == status


def test_secretary_quals_trend(c):
    c2 = f.make_community("BC001", town="巴城镇")
    # 玉山镇: last year 1 of 2 certified, now 2 of 2 → pass (and 100 %)
    f.make_worker(c, posts=("secretary",), certificate_date="2020-01-01")
    f.make_worker(f.make_community("KS002"), posts=("secretary",), certificate_date="2026-03-01")
    # 巴城镇: one secretary with 高中 and no certificate in both years → warn
    f.make_worker(c2, posts=("secretary",), education="high_school", certificate="none")
    out = check("train.secretary_quals_trend")
    assert out["玉山镇"].status == "pass" and out["玉山镇"].town == "玉山镇" and out["玉山镇"].community is None
    assert out["玉山镇"].evidence["previous_with_certificate"] == 1
    assert out["玉山镇"].evidence["with_certificate"] == 2
    assert out["巴城镇"].status == "warn"
    assert out["city"].status == "warn" and out["city"].town is None
    # a town's scope has no city roll-up
    assert set(check("train.secretary_quals_trend", town="玉山镇")) == {"玉山镇"}


def test_secretary_quals_trend_flat_share_warns(c):
    f.make_worker(c, posts=("secretary",), certificate_date="2020-01-01")
    f.make_worker(f.make_community("KS002"), posts=("secretary",), certificate="none")
    out = check("train.secretary_quals_trend")
    assert out["玉山镇"].status == "warn"  # certified 1/2 last year and this year


# ------------------------------------------------------------------ 第8条

@pytest.mark.parametrize("birth,status", [("1981-06-30", "fail"), ("1980-06-30", "pass"), ("1981-07-01", "fail")])
def test_certificate_45_inclusive(c, birth, status):
    # 2026-06-30: born 1981-06-30 is 45 (must hold one); born 1980-06-30 is 46 (exempt)
    w = f.make_worker(c, birth=birth, certificate="none")
    out = check("worker.certificate")[w.id_number]
    assert out.status == status
    if status == "pass":
        assert "免" in out.message


def test_certificate_dated_after_as_of_and_before_2015(c):
    w = f.make_worker(c, birth="1990-01-01", certificate="assistant", certificate_date="2026-09-01")
    assert check("worker.certificate")[w.id_number].status == "fail"
    assert check("worker.certificate", as_of="2026-09-01")[w.id_number].status == "pass"
    v = f.make_worker(c, birth="1990-01-01", certificate="none", hired_date=dt.date(2010, 1, 1))
    old = check("worker.certificate", year=2014, as_of=None)
    assert old[v.id_number].status == "pass" and "2015" in old[v.id_number].message


def test_secretary_filed(c):
    a = f.make_worker(c, posts=("secretary",), filing_date="2020-01-01")
    b = f.make_worker(c, posts=("secretary",), filing_date=None)
    f.make_worker(c, posts=("director",), filing_date=None)  # not a secretary: no finding
    out = check("worker.secretary_filed")
    assert set(out) == {a.id_number, b.id_number}
    assert out[a.id_number].status == "pass" and out[b.id_number].status == "fail"


def test_dual_report(c):
    a = f.make_worker(c, posts=("secretary",))
    b = f.make_worker(c, posts=("secretary",))
    f.make_duty_report(a, 2026, "street_committee", "2026-03-01")
    f.make_duty_report(a, 2026, "members_public", "2026-04-01")
    f.make_duty_report(b, 2026, "street_committee", "2026-03-01")
    f.make_duty_report(b, 2025, "members_public", "2025-04-01")  # last year's
    june = check("worker.dual_report")
    assert june[a.id_number].status == "pass"
    assert june[b.id_number].status == "warn" and june[b.id_number].evidence["missing"] == ["members_public"]
    assert check("worker.dual_report", as_of="2026-12-31")[b.id_number].status == "fail"


# ------------------------------------------------------------------ 第9条

@pytest.mark.parametrize("pay,status", [("119999", "fail"), ("120000", "pass"), ("119999.99", "fail")])
def test_pay_floor_one_yuan_under(c, pay, status):
    w = f.make_worker(c, posts=("secretary",))
    f.make_wage(2025, 100000)
    f.make_wage(2026, 10)  # this year's figure is not the one used
    f.make_pay(w, 2026, pay)
    out = check("pay.secretary_floor")[w.id_number]
    assert out.status == status
    assert out.evidence["floor"] == "120000.00" and out.evidence["wage_year"] == 2025
    assert f"基本报酬{int(float(pay)):,}" in out.message and "平均工资120,000.00元" in out.message


def test_pay_floor_missing_wage_is_error_and_missing_pay_fail(c):
    w = f.make_worker(c, posts=("secretary",))
    f.make_pay(w, 2026, 200000)
    f.make_worker(c, posts=("director",))  # not a subject
    out = check("pay.secretary_floor")
    assert list(out) == [w.id_number]
    assert out[w.id_number].status == "error" and "2025" in out[w.id_number].message
    f.make_wage(2025, 100000)
    v = f.make_worker(c, posts=("secretary",))
    out = check("pay.secretary_floor")
    assert out[w.id_number].status == "pass"
    assert out[v.id_number].status == "fail"


def test_worker_subject_masked_without_full_personal_data(c):
    """A finding carries the full subject; what the user is shown goes through the user's view."""
    from core import findings

    w = f.make_worker(c, posts=("secretary",))
    p = access.Principal("clerk", "town", "玉山镇", full_personal_data=False)
    res = run_check(as_of=f.D("2026-06-30"), rule_ids=["worker.secretary_filed"], store=False, principal=p)
    assert [x.subject for x in res.findings] == [w.id_number]
    shown = findings.shown(res.view, res.findings)
    assert [x.subject for x in shown] == [ids.mask(w.id_number)]
    assert w.id_number not in str(shown[0].as_dict()) and shown[0].ref
