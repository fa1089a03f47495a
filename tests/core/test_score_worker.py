"""The score's forked worker: an item scorer's counts are computed by two processes, and the
JSON records written by two, and the result is the one process's, byte for byte; a counter or
hook failing in the worker is reported exactly as if it failed here; a worker that dies is an
error, never a silent half."""
from __future__ import annotations

import os

import pytest

from core import Base, ItemScorer, PerCount, attended, plugins, procs, scoring, shortforms
from core.cli import main
from core.errors import UserError

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the score's worker needs os.fork (POSIX)")


def _score_json(monkeypatch, tmp_path, worker: str, name: str = "member-points") -> tuple[int, bytes]:
    monkeypatch.setenv("DANGJIAN_SCORE_WORKER", worker)
    out = tmp_path / f"{name}-{worker}.json"
    code = main(["score", name, "--format", "json", "--output", str(out)])
    return code, out.read_bytes()


def _run(monkeypatch, worker: str, name: str):
    monkeypatch.setenv("DANGJIAN_SCORE_WORKER", worker)
    return scoring.run_scorer_full(name)


def _register(name: str, *counters) -> None:
    """A city-wide item scorer ``name``: base points, then a PerCount item per counter."""
    items = [Base(10)] + [PerCount(1, c, code=f"c{i}", label=("{n}", "{n}")) for i, c in enumerate(counters)]
    plugins.get().registry.add_scorer(ItemScorer(name, "测试评分", "test scorer", items, subjects="member"), "tests")


def _present(ctx, ids):
    """Meetings attended; slow enough that the worker (which takes the items from the back) has
    started and taken the last item before this process is done with the first."""
    import time

    time.sleep(0.5)
    return attended("present")(ctx, ids)


def test_two_processes_give_the_same_scores_byte_for_byte(small_demo, forks, monkeypatch, tmp_path, capsys):
    one = _score_json(monkeypatch, tmp_path, "0")
    forks = forks()
    two = _score_json(monkeypatch, tmp_path, "1")
    assert len(forks) == 2, "the counts and the JSON records were not made in two processes"
    assert one[0] == two[0] == 0
    assert two[1] == one[1] and one[1].count(b'"subject"') > 100
    capsys.readouterr()


def test_every_format_and_every_built_in_scorer_match_without_the_worker(small_demo, monkeypatch, tmp_path, capsys):
    main(["check", "--format", "json", "--output", str(tmp_path / "c.json")])  # community-score reads the run
    for name in ("member-points", "community-score", "worker-appraisal", "in-service-performance"):
        assert _score_json(monkeypatch, tmp_path, "1", name) == _score_json(monkeypatch, tmp_path, "0", name), name
    for fmt in ("csv", "table", "md"):
        outs = []
        for worker in ("0", "1"):
            monkeypatch.setenv("DANGJIAN_SCORE_WORKER", worker)
            out = tmp_path / f"mp-{worker}.{fmt}"
            assert main(["score", "member-points", "--format", fmt, "--output", str(out)]) == 0
            outs.append(out.read_bytes())
        assert outs[0] == outs[1], fmt
    capsys.readouterr()


def test_auto_forks_only_for_many_subjects_on_two_cpus(small_demo, forks, monkeypatch):
    monkeypatch.setattr(procs, "cpus", lambda: 2)
    monkeypatch.setattr(shortforms, "PREPARE_FORK_MIN_SUBJECTS", 1)
    forks = forks()
    _run(monkeypatch, "auto", "member-points")
    assert len(forks) == 1
    monkeypatch.setattr(procs, "cpus", lambda: 1)  # one core: the two would only take turns
    _run(monkeypatch, "auto", "member-points")
    assert len(forks) == 1
    monkeypatch.setattr(procs, "cpus", lambda: 2)
    monkeypatch.setattr(shortforms, "PREPARE_FORK_MIN_SUBJECTS", 10 ** 9)  # a small scope: not worth a fork
    _run(monkeypatch, "auto", "member-points")
    assert len(forks) == 1


def test_a_counter_raising_in_the_worker_is_the_same_error_as_in_one_process(small_demo, forks, monkeypatch):
    """The worker takes the items from the back: the last counter raises there, and is computed
    again here, so its error (and where it was raised) is the one process's."""
    def broken(ctx, ids):
        raise RuntimeError("counter kaput")
    _register("zz-broken", _present, broken)
    seq = _run(monkeypatch, "0", "zz-broken")
    forks = forks()
    par = _run(monkeypatch, "1", "zz-broken")
    assert forks
    assert seq.results == [] and par.results == []
    assert par.errors == seq.errors and any("counter kaput" in e for e in par.errors)
    failures = [f for f in plugins.get().failures if "counter kaput" in f.message]
    assert failures and all("test_score_worker.py" in f.where for f in failures)  # where it raised, not lost
    assert [(t, f.message, f.where) for t, f in par.withheld] == [(t, f.message, f.where) for t, f in seq.withheld]


def test_counters_raising_in_both_processes_give_the_one_process_error(small_demo, monkeypatch):
    def first(ctx, ids):
        raise RuntimeError("first kaput")

    def last(ctx, ids):
        raise RuntimeError("last kaput")
    _register("zz-both", first, _present, last)  # this process takes the first, the worker the last
    seq = _run(monkeypatch, "0", "zz-both")
    par = _run(monkeypatch, "1", "zz-both")
    assert par.errors == seq.errors and any("first kaput" in e for e in par.errors)
    assert not any("last kaput" in e for e in par.errors)


def test_a_hook_raising_in_the_worker_withholds_what_it_fed(small_demo, monkeypatch):
    """A town's hook failing while the worker counts: the failure reaches this process, and the
    towns it fed are withheld exactly as in one process."""
    def hooked(ctx, ids):
        plugins.get().hook_error("zz_plugin", "dangjian_town_params", RuntimeError("params broke"),
                                 towns=[ctx.communities[0].town])
        return {}
    _register("zz-hooked", _present, hooked)
    seq = _run(monkeypatch, "0", "zz-hooked")
    par = _run(monkeypatch, "1", "zz-hooked")
    assert par.withheld and [(t, f.message) for t, f in par.withheld] == [(t, f.message) for t, f in seq.withheld]
    assert [r.subject for r in par.results] == [r.subject for r in seq.results]
    assert par.errors == seq.errors


def test_counts_pickle_cannot_carry_are_computed_again_here(small_demo, monkeypatch):
    class Counts(dict):  # a class local to the test: pickle cannot carry it
        pass

    def odd(ctx, ids):
        return Counts(_present(ctx, ids))
    _register("zz-odd", _present, odd)
    seq = _run(monkeypatch, "0", "zz-odd")
    par = _run(monkeypatch, "1", "zz-odd")
    assert par.results == seq.results and len(par.results) > 100
    assert any(len(r.items) == 3 for r in par.results)


def test_a_worker_that_dies_while_counting_is_an_error(small_demo, monkeypatch):
    parent = os.getpid()

    def dying(ctx, ids):
        if os.getpid() != parent:
            os._exit(3)
        return {}
    _register("zz-dying", _present, dying)
    monkeypatch.setenv("DANGJIAN_SCORE_WORKER", "1")
    with pytest.raises(UserError, match="评分的工作进程出错"):
        scoring.run_scorer_full("zz-dying")


def test_a_worker_that_dies_while_writing_the_records_is_an_error(small_demo, dies_in_worker, monkeypatch, tmp_path,
                                                                  capsys):
    dies_in_worker(scoring, "table")
    monkeypatch.setenv("DANGJIAN_SCORE_WORKER", "1")
    out = tmp_path / "out.json"
    assert main(["score", "member-points", "--format", "json", "--output", str(out)]) == 2
    assert "评分的工作进程出错" in capsys.readouterr().err
    assert not out.exists()
