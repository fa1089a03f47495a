"""The check's forked worker: two processes share the rules of a large scope, and the result
is the one process's result, finding for finding; a rule or hook failing in the worker is
reported as if it failed here; a worker that dies fails the whole check, nothing stored."""
from __future__ import annotations

import os

import pytest

from core import Rule, plugins, procs, rules
from core.cli import main
from core.errors import UserError
from core.models import CheckRun, User

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the check's worker needs os.fork (POSIX)")


def _check(monkeypatch, worker: str, **kw):
    monkeypatch.setenv("DANGJIAN_CHECK_WORKER", worker)
    return rules.run_check(store=False, **kw)


def test_two_processes_give_the_same_findings_in_the_same_order(small_demo, forks, monkeypatch):
    one = _check(monkeypatch, "0")
    forks = forks()
    two = _check(monkeypatch, "1")
    assert forks, "the check did not fork its worker"
    assert len(one.findings) > 100
    assert [f.as_dict() for f in two.findings] == [f.as_dict() for f in one.findings]
    assert two.exit_code == one.exit_code


def _prepared_here(res):
    """What run_check(prepare=True) must carry, made here from the findings themselves."""
    from core.findings import evidence_texts

    texts = evidence_texts(res.findings)
    return texts, res.view.finding_refs(res.findings), res.view.holding_personal(texts)


@pytest.mark.parametrize("worker", ["0", "1"])
def test_prepared_texts_refs_and_holds_match_the_findings(small_demo, forks, monkeypatch, worker):
    """The evidence texts, refs and holds a prepared run carries -- made by each process for its
    own rules where the rules ran in two -- are each finding's own, in the findings' order; and
    the same in one process and in two."""
    count = forks()
    res = _check(monkeypatch, worker, prepare=True)
    assert bool(count) == (worker == "1")
    assert len(res.findings) > 100
    assert (res.evidence_json, res.refs, res.holds) == _prepared_here(res)
    assert len(set(res.refs)) > 10  # not one ref for all
    plain = _check(monkeypatch, worker)  # not asked: none carried
    assert plain.evidence_json is None and plain.refs is None and plain.holds is None


def test_prepared_columns_are_made_again_after_a_load_failure_taints_the_run(small_demo, monkeypatch):
    """A plugin that failed to load turns the findings of its towns into error findings after the
    rules ran: what the processes prepared no longer matches, and is made again."""
    pm = plugins.get()
    pm._record(plugins.Failure("brokentown", "load", "import failed: SyntaxError", "brokentown.py:3", None,
                               at_load=True))
    res = _check(monkeypatch, "1", prepare=True)
    assert {f.status for f in res.findings} == {"error"}
    assert (res.evidence_json, res.refs, res.holds) == _prepared_here(res)


def test_holds_marks_the_evidence_a_masked_user_must_not_see(small_demo, monkeypatch):
    """A rule whose evidence names a phone: the holds the worker and this process prepared say
    which evidence texts the outputs mask, and no others."""
    def phone(ctx):
        for c in ctx.communities:
            yield ctx.finding(c.code, "warn", "电话", {"phone": "13912345678", "n": 1}, community=c)
    plugins.get().registry.add_rule(Rule("zz.phone", 5, "电话", "phone", phone), "tests")
    res = _check(monkeypatch, "1", prepare=True, rule_ids=["zz.phone", "org.kind_size"])
    phones = [h for f, h in zip(res.findings, res.holds) if f.rule == "zz.phone"]
    assert phones and all(phones)
    assert not any(h for f, h in zip(res.findings, res.holds) if f.rule == "org.kind_size")


def test_auto_forks_only_for_a_large_scope_on_two_cpus(small_demo, forks, monkeypatch):
    monkeypatch.setattr(procs, "cpus", lambda: 2)
    monkeypatch.setattr(rules, "FORK_MIN_COMMUNITIES", 1)
    forks = forks()
    _check(monkeypatch, "auto", rule_ids=["org.kind_size", "dues.on_time"])
    assert len(forks) == 1
    monkeypatch.setattr(procs, "cpus", lambda: 1)  # one core: the two would only take turns
    _check(monkeypatch, "auto", rule_ids=["org.kind_size", "dues.on_time"])
    assert len(forks) == 1
    monkeypatch.setattr(procs, "cpus", lambda: 2)
    monkeypatch.setattr(rules, "FORK_MIN_COMMUNITIES", 10_000)  # a small scope: not worth a fork
    _check(monkeypatch, "auto", rule_ids=["org.kind_size", "dues.on_time"])
    assert len(forks) == 1


def test_a_rule_raising_in_the_worker_is_an_error_finding(small_demo, monkeypatch):
    def boom(ctx):
        raise RuntimeError("kaput")
    plugins.get().registry.add_rule(Rule("zz.boom", 5, "坏规则", "bad rule", boom, subjects="member"), "tests")
    seq = _check(monkeypatch, "0", rule_ids=["zz.boom", "org.kind_size"])
    par = _check(monkeypatch, "1", rule_ids=["zz.boom", "org.kind_size"])
    assert [f.as_dict() for f in par.findings] == [f.as_dict() for f in seq.findings]
    errs = [f for f in par.findings if f.rule == "zz.boom"]
    assert errs and {f.status for f in errs} == {"error"} and all("kaput" in f.message for f in errs)
    assert par.exit_code == 2


def test_evidence_pickle_cannot_carry_comes_back_as_it_is_shown(small_demo, monkeypatch):
    """A rule's evidence holding, say, a function: the worker sends it as every output shows
    it (its text), and the check's JSON is the same as in one process."""
    import time

    class Odd:  # a class local to the test: pickle cannot carry it
        def __str__(self):
            return "奇"

    def odd(ctx):
        time.sleep(0.5)  # two such rules, taken first: each process gets one
        for c in ctx.communities:
            yield ctx.finding(c.code, "pass", "ok", {"f": Odd(), "n": 1}, community=c)
    for rid in ("zz.odd1", "zz.odd2"):
        plugins.get().registry.add_rule(Rule(rid, 5, "怪证据", "odd evidence", odd), "tests")
    monkeypatch.setattr(rules, "_SUBJECT_WEIGHT", {"community": -1})
    ids = ["zz.odd1", "zz.odd2", "org.kind_size"]
    seq = _check(monkeypatch, "0", rule_ids=ids)
    par = _check(monkeypatch, "1", rule_ids=ids)
    from core.findings import evidence_texts

    assert evidence_texts(par.findings) == evidence_texts(seq.findings)
    assert [f.status for f in par.findings] == [f.status for f in seq.findings]


def test_a_hook_raising_in_the_worker_is_recorded_here(small_demo, monkeypatch):
    """A failure seen only by the worker reaches this process's plugin manager (so the run is
    tainted and ``dangjian plugins`` can show it)."""
    def hooked(ctx):
        pm = plugins.get()
        pm.hook_error("zz_plugin", "dangjian_funding_split", RuntimeError("split broke"))
        return []
    plugins.get().registry.add_rule(Rule("zz.hooked", 5, "钩子", "hook", hooked, subjects="member"), "tests")
    monkeypatch.setattr(rules, "_SUBJECT_WEIGHT", {"member": 9})  # let the worker take it
    res = _check(monkeypatch, "1", rule_ids=["zz.hooked", "org.kind_size"])
    failures = [f for f in plugins.get().failures if f.plugin == "zz_plugin"]
    assert failures and "split broke" in failures[0].message
    assert any(f.rule == "plugin" and "zz_plugin" in f.message for f in res.findings)


def test_a_worker_that_dies_fails_the_check_and_stores_nothing(small_demo, dies_in_worker, monkeypatch):
    dies_in_worker(rules, "_run_rule")
    monkeypatch.setenv("DANGJIAN_CHECK_WORKER", "1")
    before = CheckRun.select().count()
    with pytest.raises(UserError, match="工作进程"):
        rules.run_check(store=True)
    assert CheckRun.select().count() == before


def test_cli_check_with_the_worker_matches_without(small_demo, monkeypatch, tmp_path, capsys):
    outs = []
    for worker in ("0", "1"):
        monkeypatch.setenv("DANGJIAN_CHECK_WORKER", worker)
        out = tmp_path / f"w{worker}.json"
        code = main(["check", "--format", "json", "--output", str(out), "--no-store"])
        outs.append((code, out.read_bytes()))
    assert outs[0] == outs[1]


def test_a_stored_run_is_written_by_a_child_the_same_as_by_one_process(small_demo, monkeypatch, tmp_path, capsys):
    """With the worker, json and csv are written by a forked child while this process stores the
    run (table and html are read from the stored run, after it is stored): the same bytes in
    every format, and the run stored once each time."""
    from core.cli import check as cli_check

    children = []
    real = cli_check._store_while_a_child_writes
    monkeypatch.setattr(cli_check, "_store_while_a_child_writes",
                        lambda *a: (children.append(1), real(*a))[1])
    for fmt in ("json", "table", "html", "csv"):
        outs = []
        for worker in ("0", "1"):
            monkeypatch.setenv("DANGJIAN_CHECK_WORKER", worker)
            before = CheckRun.select().count()
            out = tmp_path / f"w{worker}.{fmt}"
            code = main(["check", "--format", fmt, "--output", str(out)])
            assert CheckRun.select().count() == before + 1
            err = capsys.readouterr().err
            assert "已保存为第" in err
            outs.append((code, out.read_bytes()))
        assert outs[0] == outs[1], fmt
    assert len(children) == 2  # json and csv


def test_output_the_child_cannot_write_is_an_error_and_the_run_stays_stored(small_demo, monkeypatch, tmp_path, capsys):
    from core.cli import check as cli_check
    from core.errors import UserError

    def refuse(*a, **kw):
        raise UserError("磁盘已满：out.json")
    monkeypatch.setattr(cli_check, "write_findings", refuse)
    monkeypatch.setenv("DANGJIAN_CHECK_WORKER", "1")
    before = CheckRun.select().count()
    assert main(["check", "--format", "json", "--output", str(tmp_path / "out.json")]) == 2
    assert "磁盘已满：out.json" in capsys.readouterr().err
    assert CheckRun.select().count() == before + 1


def test_a_child_that_dies_while_writing_names_the_stored_run(small_demo, dies_in_worker, monkeypatch, tmp_path,
                                                              capsys):
    from core.cli import check as cli_check

    dies_in_worker(cli_check, "write_findings")
    monkeypatch.setenv("DANGJIAN_CHECK_WORKER", "1")
    assert main(["check", "--format", "json", "--output", str(tmp_path / "out.json")]) == 2
    run = CheckRun.select().order_by(CheckRun.id.desc()).first()
    err = capsys.readouterr().err
    assert f"结论已保存为第{run.id}次运行，但写出结论时出错" in err and "意外退出" in err
    assert "Traceback" not in err


def test_standard_output_written_by_the_child(small_demo, monkeypatch, capfd):
    monkeypatch.setenv("DANGJIAN_CHECK_WORKER", "1")
    assert main(["check", "--format", "json", "--rule", "org.kind_size", "--rule", "funding.floor"]) in (0, 1)
    out, err = capfd.readouterr()
    assert out.startswith("[") and '"rule": "org.kind_size"' in out and out.rstrip().endswith("]")
    assert "已保存为第" in err


def test_standard_output_held_in_memory_is_written_here(small_demo, monkeypatch, capsys):
    """An embedding program's in-memory stdout (no file descriptor) would lose a child's writes:
    this process writes it, the run is stored by a thread."""
    monkeypatch.setenv("DANGJIAN_CHECK_WORKER", "1")
    assert main(["check", "--format", "json", "--rule", "org.kind_size", "--rule", "funding.floor"]) in (0, 1)
    out = capsys.readouterr().out
    assert '"rule": "org.kind_size"' in out


@pytest.mark.parametrize("full", [False, True])
def test_table_md_and_html_read_from_the_stored_run_are_the_text_made_from_the_findings(
        small_demo, monkeypatch, tmp_path, capsys, full):
    """table, md and html of a stored run are read from the store in their order, a community
    at a time, never sorted in memory; the text is the same byte for byte as made from the
    findings themselves (--no-store), with and without --all, masked and in full, and the
    towns' and the city's own findings come after the communities' as they do there."""
    from core import access
    from core.cli import check as cli_check

    if full:
        User.create(login=access.os_login(), role="admin", scope="city", full_personal_data=True)
    real = cli_check._memory_groups
    sorted_here = []
    monkeypatch.setattr(cli_check, "_memory_groups", lambda *a: (sorted_here.append(1), real(*a))[1])
    monkeypatch.setenv("DANGJIAN_CHECK_WORKER", "1")
    for fmt in ("table", "md", "html"):
        for extra in ([], ["--all"]):
            stored, memory = tmp_path / f"s.{fmt}", tmp_path / f"m.{fmt}"
            assert main(["check", "--format", fmt, "--output", str(stored), *extra]) == \
                main(["check", "--format", fmt, "--output", str(memory), "--no-store", *extra])
            assert len(sorted_here) == 1  # only the --no-store run sorted the findings
            sorted_here.clear()
            text = stored.read_text(encoding="utf-8")
            assert text == memory.read_text(encoding="utf-8"), (fmt, extra)
            assert ("全市 / 系统" in text or "（区镇）" in text) and len(text) > 2000
    capsys.readouterr()


@pytest.mark.parametrize("worker", ["0", "1"])
def test_a_light_run_lets_go_of_the_evidence_it_encoded(small_demo, monkeypatch, worker):
    """run_check(light=True): every finding's evidence is None, its text in evidence_json the
    same as a full run's; everything else the same, in one process and in two."""
    from core.findings import evidence_texts

    full = _check(monkeypatch, worker, prepare=True)
    light = _check(monkeypatch, worker, prepare=True, light=True)
    assert light.light and not full.light
    assert {f.evidence is None for f in light.findings} == {True}
    assert light.evidence_json == full.evidence_json == evidence_texts(full.findings)
    assert (light.refs, light.holds) == (full.refs, full.holds)
    strip = [(f.rule, f.clause, f.status, f.town, f.community, f.subject, f.message) for f in full.findings]
    assert [(f.rule, f.clause, f.status, f.town, f.community, f.subject, f.message) for f in light.findings] == strip


def test_a_run_a_load_failure_taints_keeps_its_evidence(small_demo, monkeypatch):
    """A plugin that failed to load: the findings are made again after the rules, so the run
    keeps every evidence even when asked to be light."""
    plugins.get()._record(plugins.Failure("brokentown", "load", "import failed: SyntaxError", "brokentown.py:3",
                                          None, at_load=True))
    res = _check(monkeypatch, "1", prepare=True, light=True)
    assert not res.light and all(isinstance(f.evidence, dict) for f in res.findings)
    assert res.evidence_json == _prepared_here(res)[0]


def test_formats_made_from_the_evidence_refuse_a_light_run(small_demo, monkeypatch, tmp_path):
    from core.cli import check as cli_check

    res = _check(monkeypatch, "1", prepare=True, light=True)
    for fmt in ("csv", "table"):  # table: without a stored run it is made from the findings
        with pytest.raises(RuntimeError, match="light"):
            cli_check.write_findings(res, fmt, str(tmp_path / f"out.{fmt}"), False)


def test_a_light_stored_run_keeps_every_evidence_in_the_store(small_demo, monkeypatch):
    """The terminal app's checks (stored, then read from the store) run light: the findings in
    memory have no evidence, the stored run has all of it."""
    from core.findings import evidence_texts, run_findings

    from core.view import View

    monkeypatch.setenv("DANGJIAN_CHECK_WORKER", "1")
    full = rules.run_check(store=False)
    asked = []
    real = View.finding_refs
    monkeypatch.setattr(View, "finding_refs", lambda self, fs: (asked.append(1), real(self, fs))[1])
    res = rules.run_check(store=True, light=True)
    assert not asked  # the store needs no refs: none are made
    assert res.light and res.run_id and all(f.evidence is None for f in res.findings)
    assert evidence_texts(run_findings(res.run_id)) == evidence_texts(full.findings)


def test_table_that_cannot_be_written_names_the_stored_run(small_demo, monkeypatch, tmp_path, capsys):
    """table, md and html are written after the run is stored: an output that cannot be written
    is an error that says the run was stored, and the run stays."""
    from core import output

    def full(*a, **kw):
        raise UserError("磁盘已满：out.table")
    monkeypatch.setattr(output, "write_stream", full)
    before = CheckRun.select().count()
    assert main(["check", "--format", "table", "--output", str(tmp_path / "out.table")]) == 2
    err = capsys.readouterr().err
    assert CheckRun.select().count() == before + 1
    stored = CheckRun.select().order_by(CheckRun.id.desc()).first()
    assert "磁盘已满：out.table" in err and f"第{stored.id}次运行" in err
