"""``in_ids``: ids written into the SQL as integer literals, and nothing else gets in."""
from __future__ import annotations

import pytest

from core import in_ids
from core.models import Community
from tests import factories as f


@pytest.fixture
def three(dangjian_db):
    return [f.make_community(f"YS00{i}", town="玉山镇").id for i in range(1, 4)]


def test_a_list_selects_those_rows(three):
    got = [c.id for c in Community.select().where(Community.id.in_(in_ids(three[:2]))).order_by(Community.id)]
    assert got == three[:2]


def test_an_empty_list_selects_nothing(three):
    assert Community.select().where(Community.id.in_(in_ids([]))).count() == 0


def test_a_subquery_and_an_id_list_pass_through(three):
    sub = Community.select(Community.id).where(Community.code == "YS003")
    assert in_ids(sub) is sub
    lst = in_ids(three)
    assert in_ids(lst) is lst
    assert [c.id for c in Community.select().where(Community.id.in_(in_ids(sub)))] == [three[2]]


def test_tens_of_thousands_of_ids_in_one_statement(three):
    ids = list(range(10_000_000, 10_060_000)) + [three[0]]  # more than SQLite's parameter limit
    assert [c.id for c in Community.select().where(Community.id.in_(in_ids(ids)))] == [three[0]]


@pytest.mark.parametrize("bad", [["1); DROP TABLE community; --"], [1.5], [True], [None], ["7"]])
def test_only_integers_get_into_the_sql(three, bad):
    with pytest.raises(TypeError, match="integer ids"):
        in_ids(bad)
    assert Community.select().count() == 3


HOSTILE = ["tab\there", "line\nbreak", "cr\rhere", "back\\slash", "\\N", "\\.", "末尾\\", "中文 '引号' \"双\"", ""]


def test_stored_findings_keep_every_character(dangjian_db):
    """A run's findings go in by COPY on PostgreSQL and by executemany on SQLite; either way
    what comes back is what went in: tabs, line breaks, backslashes, a literal \\N, None."""
    import datetime as dt

    from core.api import Finding
    from core.findings import RunScope, run_findings, store_run

    fs = [Finding("zz.rule", i, "warn", "玉山镇" if i % 2 else None, None, f"S{i}", text, {"text": text, "n": i})
          for i, text in enumerate(HOSTILE)]
    fs.append(Finding("zz.rule", None, "pass", None, None, "S-none", "no clause", {}))
    run = store_run(fs, 2026, dt.date(2026, 6, 30), RunScope(None, None, None, None))
    back = run_findings(run)
    assert [(f.rule, f.clause, f.status, f.town, f.community, f.subject, f.message, f.evidence) for f in back] == \
        [(f.rule, f.clause, f.status, f.town, f.community, f.subject, f.message, f.evidence) for f in fs]
