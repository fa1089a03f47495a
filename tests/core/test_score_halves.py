"""A scorer's JSON made by two processes, each scoring half of the towns: the same bytes, the same
messages and the same exit code as one process; an error or a withheld town in either half makes
the run again whole (and what was told of plugins is told once); a worker that dies is an error."""
from __future__ import annotations

import os

import pytest

from core import Base, ItemScorer, PerCount, attended, plugins, scoring
from core.cli import main
from core.view import View
from tests.core.test_scoring import use_config

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the score's halves need os.fork (POSIX)")


def _score(monkeypatch, tmp_path, capsys, worker: str, name: str = "member-points", *extra) -> tuple:
    monkeypatch.setenv("DANGJIAN_SCORE_WORKER", worker)
    out = tmp_path / f"{name}-{worker}.json"
    code = main(["score", name, "--format", "json", "--output", str(out), *extra])
    err = capsys.readouterr().err
    return code, out.read_bytes() if out.exists() else None, err


def _json(monkeypatch, worker: str, name: str = "member-points") -> tuple:
    """What the score's JSON is made of (a scorer added by the test stays: no plugin reload)."""
    monkeypatch.setenv("DANGJIAN_SCORE_WORKER", worker)
    return scoring.score_json(name)


def _towns() -> list[str]:
    return sorted({r.town for r in View.of().communities()})


def test_halves_give_the_one_process_bytes(towns_demo, forks, monkeypatch, tmp_path, capsys):
    one = _score(monkeypatch, tmp_path, capsys, "0")
    seen = forks()
    two = _score(monkeypatch, tmp_path, capsys, "1")
    assert len(seen) == 1, "one worker for the second half, and no worker inside either half"
    assert two == one and one[0] == 0 and one[1].count(b'"subject"') > 500
    towns = {line.split(b'"town": ')[1].split(b",")[0] for line in two[1].splitlines()[1:-1]}
    assert len(towns) == 4  # both halves' towns are in the file


def test_the_split_falls_where_half_the_members_are(towns_demo, monkeypatch):
    monkeypatch.setenv("DANGJIAN_SCORE_WORKER", "1")
    view = View.of()
    first, second, whole = scoring._town_halves("member-points", view)
    a = {r.town for r in first.communities()}
    b = {r.town for r in second.communities()}
    assert a and b and not a & b and max(a) < min(b) and whole
    assert first.ref("member", "x") == view.ref("member", "x") == second.ref("member", "x")


def test_not_split_when_not_worth_it_or_not_possible(towns_demo, monkeypatch):
    view = View.of()
    monkeypatch.setenv("DANGJIAN_SCORE_WORKER", "0")
    assert scoring._town_halves("member-points", view) is None
    monkeypatch.setenv("DANGJIAN_SCORE_WORKER", "auto")
    assert scoring._town_halves("member-points", view) is None  # 1,000 members: not worth a fork
    monkeypatch.setattr(scoring, "SPLIT_MIN_MEMBERS", 10)
    monkeypatch.setattr("core.procs.cpus", lambda: 2)
    assert scoring._town_halves("member-points", view) is not None
    monkeypatch.setattr("core.procs.cpus", lambda: 1)  # one core: the halves would only take turns
    assert scoring._town_halves("member-points", view) is None
    monkeypatch.setenv("DANGJIAN_SCORE_WORKER", "1")
    assert scoring._town_halves("member-points", View.of(town=_towns()[0])) is None  # one town
    assert scoring._town_halves("community-score", view) is None  # a scorer whose results read one another's


def test_a_town_scored_by_its_own_hand_written_scorer_is_not_split(towns_demo, monkeypatch, tmp_path, capsys):
    from core.api import Scorer

    town = _towns()[-1]
    plugins.get().registry.add_scorer(
        Scorer("member-points", "本镇积分", "town points", lambda ctx: [], subjects="member", towns=[town]), "tests")
    monkeypatch.setenv("DANGJIAN_SCORE_WORKER", "1")
    assert scoring._town_halves("member-points", View.of()) is None
    one, two = _json(monkeypatch, "0"), _json(monkeypatch, "1")
    assert two == one and one[1] > 100 and town.encode() not in one[0].encode()


def test_ranking_on_in_one_town_only_shows_the_rank_in_both_halves(towns_demo, monkeypatch, tmp_path, capsys):
    use_config(tmp_path, monkeypatch, f'[towns."{_towns()[-1]}".points]\nshow_ranking = true\n')
    one = _score(monkeypatch, tmp_path, capsys, "0")
    two = _score(monkeypatch, tmp_path, capsys, "1")
    assert two == one and one[0] == 0
    lines = one[1].splitlines()[1:-1]
    assert all(b'"rank": ' in line for line in lines)  # the first half has no rank of its own
    assert any(b'"rank": null' in line for line in lines) and any(b'"rank": 1' in line for line in lines)


def _register(name: str, counter) -> None:
    items = [Base(10), PerCount(1, attended("present"), code="present"), PerCount(1, counter, code="odd")]
    plugins.get().registry.add_scorer(ItemScorer(name, "测试评分", "test scorer", items, subjects="member"), "tests")


def test_a_half_that_meets_an_error_is_made_again_whole(towns_demo, monkeypatch, tmp_path, capsys):
    """A counter raising only for the first town (in this process's half): one process withholds
    the scorer's towns and says so once; the halves do the same, and the failure is recorded once,
    with all the towns (what this process's half recorded is forgotten)."""
    first = _towns()[0]

    def odd(ctx, ids):
        if first in {c.town for c in ctx.communities}:
            raise RuntimeError("odd kaput")
        return {}
    _register("zz-odd", odd)
    manager = plugins.get()
    before = len(manager.failures)
    two = _json(monkeypatch, "1", "zz-odd")
    failures = [f for f in manager.failures[before:] if "odd kaput" in f.message]
    assert len(failures) == 1 and failures[0].towns == _towns()
    assert len(manager.failures) == before + 1
    del manager.failures[before:]
    one = _json(monkeypatch, "0", "zz-odd")
    assert two == one and one[0] == "[]\n" and any("odd kaput" in e for e in one[2])


def test_a_worker_that_dies_in_its_half_is_an_error(towns_demo, dies_in_worker, monkeypatch, tmp_path, capsys):
    dies_in_worker(scoring, "run_scorer_full")
    code, out, err = _score(monkeypatch, tmp_path, capsys, "1")
    assert code == 2 and out is None and "评分的工作进程出错" in err


def test_a_worker_that_dies_while_writing_its_half_is_an_error(towns_demo, dies_in_worker, monkeypatch, tmp_path,
                                                               capsys):
    dies_in_worker(scoring, "table")
    code, out, err = _score(monkeypatch, tmp_path, capsys, "1")
    assert code == 2 and out is None and "评分的工作进程出错" in err
    assert _score(monkeypatch, tmp_path, capsys, "0")[0] == 0  # this process was never in the way
