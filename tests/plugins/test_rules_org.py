"""org.kind_size (第3条) on both sides of every threshold."""
from __future__ import annotations

import pytest

from core.rules import run_check
from tests import factories as f

AS_OF = "2026-06-30"


def check(rule="org.kind_size", as_of=AS_OF, **kw):
    res = run_check(as_of=f.D(as_of), rule_ids=[rule], store=False, **kw)
    return {x.subject: x for x in res.findings if x.rule == rule}


@pytest.fixture
def c(dangjian_db):
    return f.make_community("KS001", town="玉山镇")


@pytest.mark.parametrize("n,status", [(50, "fail"), (51, "pass")])
def test_general_branch_needs_more_than_50(c, n, status):
    gb = f.make_org(c, "general_branch", code="GB")
    br = f.make_org(c, "branch", parent=gb, code="B1")
    f.make_members(n - 10, br)
    f.make_members(10, gb)  # members of the 总支 itself count too ("in it and below it")
    out = check()
    assert out["GB"].status == status
    assert out["GB"].evidence["formal_members"] == n


@pytest.mark.parametrize("n,approval,status", [(100, "昆组复〔2011〕1号", "fail"), (101, "昆组复〔2011〕1号", "pass"),
                                               (101, None, "fail")])
def test_committee_more_than_100_and_approval(c, n, approval, status):
    pw = f.make_org(c, "committee", code="PW", approval_no=approval)
    gb = f.make_org(c, "general_branch", parent=pw, code="GB")
    br = f.make_org(c, "branch", parent=gb, code="B1")
    grp = f.make_org(c, "group", parent=br, code="G1")
    f.make_members(n - 1, br)
    f.make_members(1, grp)  # a group's member counts for every level above
    out = check()
    assert out["PW"].status == status
    assert out["PW"].evidence["formal_members"] == n
    assert "G1" not in out  # 党小组 is not a subject
    if approval is None:
        assert "批准文号" in out["PW"].message


@pytest.mark.parametrize("n,status", [(2, "warn"), (3, "pass"), (50, "pass"), (51, "warn")])
def test_branch_bounds(c, n, status):
    f.make_org(c, "branch", code="B")
    br = f.make_org(c, "branch", code="B1")
    f.make_members(n, br)
    out = check()
    assert out["B1"].status == status
    assert out["B"].status == "warn" and out["B"].evidence["formal_members"] == 0


def test_only_formal_members_with_relationship_count(c):
    br = f.make_org(c, "branch", code="B1")
    f.make_members(49, br)
    f.make_members(1, br, management_class="floating_out")  # keeps the relationship: counts
    f.make_members(5, br, management_class="in_service")  # relationship elsewhere
    f.make_members(5, br, management_class="floating_in")  # relationship elsewhere
    f.make_members(5, br, full_date=None)  # probationary
    f.make_members(5, br, full_date="2026-07-01")  # full only after the as-of date
    f.make_members(5, br, active=False, left_date=f.D("2026-01-10"))  # transferred out before
    f.make_members(1, br, active=False, left_date=f.D("2026-08-01"))  # left after the as-of date: counts
    out = check()
    assert out["B1"].evidence["formal_members"] == 51
    assert out["B1"].status == "warn"
    # on 2026-07-01 the five become full (56), and the one who left in August still counts
    assert check(as_of="2026-07-01")["B1"].evidence["formal_members"] == 56


def test_one_finding_per_subject_and_scope(c):
    other = f.make_community("BC001", town="巴城镇")
    f.make_org(c, "branch", code="B1")
    f.make_org(other, "branch", code="B2")
    f.make_org(other, "group", code="G2")
    res = run_check(as_of=f.D(AS_OF), rule_ids=["org.kind_size"], store=False)
    subjects = [x.subject for x in res.findings]
    assert sorted(subjects) == ["B1", "B2"]
    only = run_check(as_of=f.D(AS_OF), rule_ids=["org.kind_size"], town="巴城镇", store=False)
    assert [x.subject for x in only.findings] == ["B2"]
    assert only.findings[0].community == "BC001" and only.findings[0].town == "巴城镇"
    assert only.findings[0].clause == 3
