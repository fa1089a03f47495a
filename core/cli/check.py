"""``dangjian check``: run the rules, write the findings, exit 0 / 1 / 2.

Formats: table (tabulate, Chinese aligned), md, csv, xlsx (needs --output),
html (self-contained page: summary by community and by rule, red / amber /
green) and json (a list of findings).  table, md and html show error, fail
and warn findings grouped by community with a summary of counts by rule and
status; ``--all`` adds passes and infos.  csv, xlsx and json hold every
finding.  The one-line summary goes to stderr.  Exit: 2 on any ``error``
finding (or bad usage / data), else 1 on any ``fail``, else 0.
"""
from __future__ import annotations

import html
import json
import sys

from core.errors import UserError
from core.i18n import get_lang, tr
from core.numbers import Count, aligns, cell_text, format_count

STATUS_ORDER = ("error", "fail", "warn", "info", "pass")
SHOWN = ("error", "fail", "warn")


def _status_label(code: str) -> str:
    from core.enums import FINDING_STATUS

    return FINDING_STATUS.label(code, get_lang())


def finding_headers() -> list[str]:
    """The CSV/XLSX column headers, in the interface language; the last, 标识, is the ``ref``
    of the subject's record (subjects whose masked ID numbers coincide stay apart)."""
    return [tr("规则", "rule"), tr("条款", "clause"), tr("结论", "status"), tr("区镇", "town"),
            tr("社区", "community"), tr("对象", "subject"), tr("说明", "message"), tr("依据", "evidence"),
            tr("标识", "ref")]


def finding_row(f) -> list:
    """A finding as shown (:func:`core.findings.shown`) as a CSV/XLSX row: the status as its label
    in the interface language (通过 / 不符合 / 提醒 / 信息 / 错误; JSON keeps the codes), the evidence
    as JSON."""
    return [f.rule, f.clause, _status_label(f.status), f.town or "", f.community or "", f.subject, f.message,
            json.dumps(f.evidence, ensure_ascii=False, sort_keys=True, default=str), f.ref or ""]


def _parse_date(text):
    from core.dates import parse_as_of

    return None if text is None else parse_as_of(text)


def _group_key(f):
    """The order of the groups (a community's findings, a town's own, the city's own) of table,
    md and html: the city's own last, a town's own after its communities'."""
    return (f.town or "\uffff", f.community or "\uffff")


def _row_key(f):
    """The order of a group's findings in table, md and html, on the findings as shown (a masked
    ID number sorts as it reads: the order never tells what the mask hides)."""
    return (STATUS_ORDER.index(f.status) if f.status in STATUS_ORDER else 9, f.rule, f.subject)


def _group_label(f, names=None) -> str:
    """The heading of a community's findings: town, community name and code (:mod:`core.evidence`)."""
    if f.community:
        if names is not None:
            return names.community_heading(f.town, f.community)
        return f"{f.town or ''} {f.community}".strip()
    if f.town:
        return tr("{t}（区镇）", "{t} (town)", t=f.town)
    return tr("全市 / 系统", "city / system")


def _rule_titles() -> dict:
    from core import plugins

    reg = plugins.get().registry
    out = {}
    for rid in reg.rule_ids():
        r = reg.rule_for(rid, None) or reg.rule_variants(rid)[0]
        out[rid] = r.title(get_lang())
    out.setdefault("plugin", tr("插件", "plugin"))
    return out


def summary_by_rule(cells) -> tuple[list, list]:
    """Counts by rule and status of ``cells`` -- ``(rule, clause, status, town, community, n)``,
    as :func:`core.findings.count_cells` counts findings and a stored run keeps them."""
    titles = _rule_titles()
    counts: dict = {}
    clauses: dict = {}
    for rule, clause, status, _town, _community, n in cells:
        mine = counts.setdefault(rule, {})
        mine[status] = mine.get(status, 0) + n
        clauses.setdefault(rule, set()).add(clause)
    headers = [tr("规则", "rule"), tr("条款", "clause"), tr("名称", "title")] + [_status_label(s) for s in STATUS_ORDER]
    rows = [[rid, _clause_cell(clauses[rid]), titles.get(rid, ""),
             *[Count(counts[rid].get(s, 0)) for s in STATUS_ORDER]] for rid in sorted(counts)]
    return headers, rows


def _clause_cell(clauses: set):
    """A rule's clause (第N条) in a summary: the number; none, ""; several (variants of a rule
    that cite different clauses), each."""
    known = sorted(c for c in clauses if c is not None)
    return known[0] if len(known) == 1 else "、".join(str(c) for c in known)


def summary_by_community(cells) -> tuple[list, list]:
    counts: dict = {}
    for _rule, _clause, status, town, community, n in cells:
        mine = counts.setdefault((town or "", community or ""), {})
        mine[status] = mine.get(status, 0) + n
    headers = [tr("区镇", "town"), tr("社区", "community")] + [_status_label(s) for s in STATUS_ORDER]
    rows = [[t, c, *[Count(counts[(t, c)].get(s, 0)) for s in STATUS_ORDER]] for (t, c) in sorted(counts)]
    return headers, rows


def _detail_headers():
    return [tr("结论", "status"), tr("规则", "rule"), tr("条款", "clause"), tr("对象", "subject"), tr("说明", "message"),
            tr("依据", "evidence")]


def _detail_row(f, subject: str, names=None):
    """A finding as shown (masked) as a row of table, md and html: ``subject`` its subject by name
    (:meth:`core.evidence.Names.subject`), the evidence as labelled lines (a list;
    :func:`core.evidence.evidence_lines`)."""
    from core.evidence import evidence_lines

    return [_status_label(f.status), f.rule, f.clause if f.clause is not None else "", subject or f.subject,
            f.message, evidence_lines(f.evidence, names)]


def _joined(lines) -> str:
    return ("；" if get_lang() == "zh" else "; ").join(lines)


def _memory_groups(findings, show_all):
    """The findings to show, by group (:func:`_group_key`), each group in the findings' order:
    what :func:`core.findings.run_findings_in_order` reads of a stored run."""
    return sorted((f for f in findings if show_all or f.status in SHOWN), key=_group_key)


def _grouped(ordered, view, names):
    """``(heading, rows, statuses)`` of each community (or town, or the city) of findings given
    by group (:func:`_memory_groups`): each group's people named in one read, its findings
    shown as ``view`` shows them (masked) and sorted as shown (:func:`_row_key`), its rows made
    by :func:`_detail_row` -- one group held at a time."""
    from itertools import groupby

    from core import findings as store

    for _key, items in groupby(ordered, key=lambda f: (f.town, f.community)):
        items = list(items)
        names.prime(items)
        shown = store.shown(view, items)
        order = sorted(range(len(items)), key=lambda i: _row_key(shown[i]))  # stable: ties as stored
        yield (_group_label(items[0], names),
               [_detail_row(shown[i], names.subject(items[i]), names) for i in order],
               [shown[i].status for i in order])


def render_text(result, fmt: str, cells, groups):
    """The table (``simple``) or Markdown (``md``) text of a check, piece by piece: ``cells`` its
    counts (:func:`summary_by_rule`), ``groups`` its findings to show (:func:`_grouped`)."""
    from core.output import text_table

    tablefmt = "github" if fmt == "md" else "simple"
    title = tr("规则检查 {y}年（截至 {d}）", "rule check {y} (as of {d})", y=result.year, d=result.as_of.isoformat())
    yield f"# {title}\n" if fmt == "md" else f"{title}\n"
    h, rows = summary_by_rule(cells)
    yield ("## " if fmt == "md" else "") + tr("按规则汇总", "summary by rule") + "\n"
    yield text_table(h, rows, tablefmt) + "\n"
    empty = True
    for label, rows, _statuses in groups:
        empty = False
        yield "\n" + ("## " if fmt == "md" else "== ") + label + ("" if fmt == "md" else " ==") + "\n"
        yield text_table(_detail_headers(), [[*r[:-1], _joined(r[-1])] for r in rows], tablefmt) + "\n"
    if empty:
        yield "\n" + tr("没有不符合、提醒或错误的结论。", "no failing, warning or error findings.") + "\n"


def _worst(counts: list) -> str:
    # counts in STATUS_ORDER: error, fail, warn, info, pass
    if counts[0] or counts[1]:
        return "fail"
    if counts[2]:
        return "warn"
    return "pass"


def render_html(result, cells, groups, names):
    """The HTML page of a check, piece by piece (as :func:`render_text`)."""
    from core.output import html_page_parts

    title = tr("规则检查 {y}年（截至 {d}）", "rule check {y} (as of {d})", y=result.year, d=result.as_of.isoformat())
    head, tail = html_page_parts(title)
    yield head
    yield "<p>" + html.escape(summary_line(result, with_run=False)) + "</p>"
    h, rows = summary_by_community(cells)
    rows = [[t, names.community(c), *rest] for t, c, *rest in rows]
    yield f"<h2>{html.escape(tr('按社区汇总', 'summary by community'))}</h2>"
    yield _html_rows(h, rows, [_worst(r[2:]) for r in rows])
    h, rows = summary_by_rule(cells)
    yield f"<h2>{html.escape(tr('按规则汇总', 'summary by rule'))}</h2>"
    yield _html_rows(h, rows, [_worst(r[3:]) for r in rows])
    empty = True
    for label, rows, statuses in groups:
        empty = False
        yield f"<h2>{html.escape(label)}</h2>"
        yield _html_rows(_detail_headers(), rows, statuses)
    if empty:
        yield "<p>" + html.escape(tr("没有不符合、提醒或错误的结论。", "no failing, warning or error findings.")) + "</p>"
    yield tail


def _html_rows(headers, rows, classes) -> str:
    num = [a == "right" for a in aligns(rows, len(headers))]  # counts right-aligned (td.num)
    out = ["<table><thead><tr>", *(f"<th>{html.escape(str(h))}</th>" for h in headers), "</tr></thead><tbody>"]
    for r, cls in zip(rows, classes):
        out.append(f'<tr class="{html.escape(cls)}">'
                   + "".join(("<td class=\"num\">" if i < len(num) and num[i] else "<td>") + _html_cell(x) + "</td>"
                             for i, x in enumerate(r))
                   + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _html_cell(value) -> str:
    """A cell's text escaped; a list (labelled evidence lines) one line each."""
    if isinstance(value, list):
        return "<br>".join(html.escape(str(x)) for x in value)
    return html.escape(cell_text(value))


def summary_line(result, with_run: bool = True) -> str:
    c = result.counts
    parts = "，".join(f"{_status_label(s)} {format_count(c.get(s, 0))}" for s in STATUS_ORDER) \
        if get_lang() == "zh" else ", ".join(f"{s} {format_count(c.get(s, 0))}" for s in STATUS_ORDER)
    line = tr("检查{y}年（截至{d}），{n}个社区，{k}条结论：{p}",
              "checked {y} (as of {d}), {n} communities, {k} findings: {p}",
              y=result.year, d=result.as_of.isoformat(), n=format_count(len(result.communities)),
              k=format_count(len(result.findings)), p=parts)
    if with_run and result.run_id:
        line += tr("；已保存为第{r}次运行", "; stored as run {r}", r=result.run_id)
    return line


def _need_evidence(result) -> None:
    """Formats made from the findings' evidence itself cannot be made of a light run."""
    if result.light:
        raise RuntimeError("the check's findings were run light (run_check(light=True)): their evidence is "
                           "only in evidence_json")


def write_json(blocks, output: str | None, evidence_json: list | None = None) -> None:
    """A JSON list of findings, one finding a line, streamed (a city run has ~200k, a province's
    ~2 million): ``blocks`` the findings as shown, a block at a time
    (:func:`core.findings.shown_blocks`); each finding's evidence in its compact stored form
    (``evidence_json``: already encoded and shown, one text a finding in the same order; None:
    encoded here from the blocks' evidence)."""
    from core.output import write_stream

    write_stream(json_chunks(blocks, evidence_json), output)


def json_chunks(blocks, evidence_json: list | None = None):
    """:func:`write_json`'s text, a block at a time."""
    from core.findings import evidence_encoder
    from core.output import json_encoder

    enc = json_encoder(str)
    text = json.encoder.encode_basestring  # (C) a string as JSON, as the encoder writes it

    def v(x):
        if x.__class__ is str:
            return text(x)
        if x is None:
            return "null"
        return str(x) if x.__class__ is int else enc(x)
    encode = evidence_encoder()
    n = 0
    yield "["
    for part, subjects, messages, evidence, refs in blocks:  # the evidence as stored (compact)
        evs = evidence_json[n:n + len(part)] if evidence_json is not None else [encode(e) for e in evidence]
        yield "".join((",\n" if n or i else "\n")
                      + f'{{"rule": {v(f.rule)}, "clause": {v(f.clause)}, "status": {v(f.status)}, '
                        f'"town": {v(f.town)}, "community": {v(f.community)}, "subject": {v(s)}, '
                        f'"message": {v(m)}, "ref": {v(r)}, "evidence": {ev}}}'
                      for i, (f, s, m, r, ev) in enumerate(zip(part, subjects, messages, refs, evs)))
        n += len(part)
    yield "\n]\n" if n else "]\n"


def write_findings(result, fmt: str, output: str | None, show_all: bool) -> None:
    """Write the findings as the run's view shows them (masked unless the user may see
    personal data, each with its ``ref``).  ``table``, ``md`` and ``html`` of a stored run
    (``result.run_id``) are read from the store in their order, a community at a time, and
    written as they are made (a province's ~2 million findings are never sorted or held as
    one text); without a stored run, from the findings themselves, in the same order."""
    from core import findings as store
    from core.output import write_stream, write_xlsx
    from core.view import View

    view = result.view or View.of()
    if fmt in ("table", "md", "html"):  # people and communities by name, evidence in words
        from core.evidence import Names

        names = Names(view)
        if result.run_id is not None:  # read from the store: the findings' evidence may have been let go
            cells = store.run_counts(result.run_id)
            ordered = store.run_findings_in_order(result.run_id, None if show_all else SHOWN)
        else:
            _need_evidence(result)
            cells = store.count_cells(result.findings)
            ordered = _memory_groups(result.findings, show_all)
        groups = _grouped(ordered, view, names)
        write_stream(render_html(result, cells, groups, names) if fmt == "html"
                     else render_text(result, fmt, cells, groups), output)
        return
    raw_json = result.evidence_json
    refs = result.refs  # made with the rules (run_check(prepare=True)), else here
    evidence_json = holds = None
    if raw_json is not None:
        holds = result.holds if result.holds is not None else view.holding_personal(raw_json)  # in C
        evidence_json = [view.mask_text(t) if h else t for t, h in zip(raw_json, holds)] if any(holds) else raw_json
    if fmt == "json":  # streamed: the findings are shown a block at a time as they are written
        write_json(store.shown_blocks(view, result.findings, holds, evidence=evidence_json is None, refs=refs),
                   output, evidence_json)
        return
    _need_evidence(result)
    if fmt == "csv":  # streamed, as json
        from core.output import csv_chunks

        rows = (finding_row(f) for f in store.iter_shown(view, result.findings, holds=holds, refs=refs))
        write_stream(csv_chunks(finding_headers(), rows), output, bom=True)
        return
    h, rows = summary_by_rule(store.count_cells(result.findings))  # xlsx
    write_xlsx(output, [(tr("结论", "findings"), finding_headers(),
                         [finding_row(f) for f in store.iter_shown(view, result.findings, holds=holds, refs=refs)]),
                        (tr("按规则汇总", "by rule"), h, rows)])


# ------------------------------------------------------------------ --explain

def _origin_label(origin: str) -> str:
    for en, zh in (("default", "默认值"), ("city config", "市级配置"), ("town config", "区镇配置"),
                   ("town plugin", "区镇插件")):
        if origin.startswith(en):
            return tr(zh, en) + origin[len(en):]
    return origin


def explain_text(info: dict) -> str:
    lines = [f"{info['rule']} — {info['title']}（" + tr("第{c}条", "clause {c}", c=info["clause"]) + "）"
             if get_lang() == "zh" else f"{info['rule']} — {info['title']} (clause {info['clause']})"]
    lines.append(tr("插件：{p}", "plugin: {p}", p=info["plugin"]))
    only = info.get("applies_only_in")
    if only:
        lines.append(tr("仅适用于 {t}", "applies only in {t}", t="、".join(only))
                     + (tr("（不适用于 {a}）", " (not in {a})", a=info["asked_town"]) if info.get("asked_town") else ""))
    has_general = any(not v["towns"] for v in info["variants"])
    for v in [v for v in info["variants"] if v["towns"]]:
        if has_general:
            lines.append(tr("  {t} 使用插件 {p} 的替代规则", "  {t}: replaced by plugin {p}",
                            t="、".join(v["towns"]), p=v["plugin"]))
        elif not only:
            lines.append(tr("  {t}：插件 {p} 新增的规则", "  {t}: a rule added by plugin {p}",
                            t="、".join(v["towns"]), p=v["plugin"]))
    for f in info.get("failures", []):
        lines.append(tr("插件故障：", "plugin failure: ") + f["line"])
    lines.append("")
    lines.append(tr("条文（昆组字〔2011〕23号）：", "clause text (昆组字〔2011〕23号):"))
    lines.append(info["clause_text"] or tr("（无）", "(none)"))
    lines.append("")
    where = info["town"] or tr("全市", "the city")
    lines.append(tr("现行参数（{w}）：", "parameters in force ({w}):", w=where))
    if not info["params"]:
        lines.append(tr("  （无参数）", "  (no parameters)"))
    for p in info["params"]:
        lines.append(f"  {p['name']} = {json.dumps(p['value'], ensure_ascii=False)}    "
                     + tr("来源：", "from: ") + _origin_label(p["origin"]))
    lines.append("")
    lines.append(tr("通过条件：", "what counts as pass:"))
    lines.append(info["passes"] or "-")
    return "\n".join(lines) + "\n"


def explain(rule_id: str, town: str | None) -> dict:
    """:func:`core.rules.explain`, and: a town-only rule asked for elsewhere (or for the city) is
    explained for its own towns with ``applies_only_in``; a parameter a town plugin set names
    that plugin; ``failures`` lists the plugin failures that touch the rule there (an unknown
    rule id that a failed plugin may have provided says so)."""
    from core import plugins, rules

    manager = plugins.get()
    reg = manager.registry
    town_only = sorted(reg.town_rules.get(rule_id, {})) if rule_id not in reg.rules else []
    asked = town
    if town_only and town not in town_only:
        town = town_only[0]
    try:
        info = rules.explain(rule_id, town=town)
    except UserError as exc:
        loads = manager.load_failures()
        if loads:
            raise UserError(str(exc) + "；" + tr("另有插件加载失败，此规则可能由它提供：",
                                                "a plugin failed to load and may provide it: ")
                            + " / ".join(f.line() for f in loads)) from None
        raise
    if town_only and asked not in town_only:
        info["applies_only_in"] = town_only
        info["asked_town"] = asked
        info["town"] = town
    if town:
        sources = manager.town_params_sources(town).get(rule_id, ({}, {}))[1]
        for p in info["params"]:
            if p["origin"].startswith("town plugin") and p["name"] in sources:
                p["origin"] = f"town plugin {sources[p['name']]}"
                p["plugin"] = sources[p["name"]]
    providers = {v["plugin"] for v in info["variants"]}
    failures = [f for f in manager.failures
                if f.plugin in providers or (f.at_load and (town is None or f.serves(town)))]
    info["failures"] = [dict(f.as_dict(), line=f.line()) for f in failures]
    return info


def cmd_check(args) -> int:
    from core import rules
    from core.output import check_writable, write_text

    check_writable(args.output)  # before any work: a folder, /proc, a missing folder, the database …
    if args.explain:
        if args.town is not None:
            from core.view import View

            View.of(town=args.town)  # an unknown town is refused, as everywhere else
        info = explain(args.explain, args.town)
        if args.format == "json":
            write_text(json.dumps(info, ensure_ascii=False, indent=1, default=str) + "\n", args.output)
        else:
            write_text(explain_text(info), args.output)
        for f in info.get("failures", []):
            print("dangjian: " + f["line"], file=sys.stderr)
        return 0
    if args.format == "xlsx" and not args.output:
        raise UserError(tr("xlsx 格式需要 --output 文件", "xlsx needs --output FILE"))
    as_of = _parse_date(args.as_of)
    if args.year is not None:
        from core.dates import check_year

        check_year(args.year)
    # json is written from the encoded evidence, table, md and html of a stored run from the store
    light = args.format == "json" or (args.format in ("table", "md", "html") and not args.no_store)
    result = rules.run_check(year=args.year, as_of=as_of, town=args.town, community=args.community,
                             rule_ids=args.rule, store=False, prepare=True, light=light)
    if args.no_store:
        write_findings(result, args.format, args.output, args.all)
    else:
        _write_and_store(result, args)
    for f in result.findings:  # name plugin, towns and hook of every failure that touched the run
        if f.rule == "plugin":
            print("dangjian: " + f.message, file=sys.stderr)
    print(summary_line(result), file=sys.stderr)
    return result.exit_code


def _write_and_store(result, args) -> None:
    """Store the run while the output is written.  ``table``, ``md`` and ``html`` are read
    from the stored run (:func:`write_findings`): the run is stored first.  For the others, a
    large scope on two CPUs (where the rules ran in two processes,
    :func:`core.rules.fork_wanted`): a forked child writes the output while this process
    stores, each on its own core (a city's ~200k findings cost each ~1-2 s of Python).
    Otherwise a second thread stores: SQLite releases the GIL while it inserts."""
    from core import access, findings, rules

    principal = access.current()
    if result.evidence_json is None:
        result.evidence_json = findings.evidence_texts(result.findings)

    def store():
        return findings.store_run(result.findings, result.year, result.as_of, result.scope, principal,
                                  result.evidence_json)
    if args.format in ("table", "md", "html"):
        result.run_id = store()
        try:
            write_findings(result, args.format, args.output, args.all)
        except UserError as exc:  # as when the output is written beside the storing
            raise _stored_not_written(result.run_id, exc) from None
        return
    if rules.fork_wanted(result.communities) and _child_can_write(args.output):
        result.run_id = _store_while_a_child_writes(result, args, store)
    else:
        result.run_id = _store_in_a_thread(result, args, store)


def _child_can_write(output) -> bool:
    """A forked child's writes reach the output: a file, or a standard output that is a real file
    descriptor (not one this process replaced in memory, as an embedding program may)."""
    if output and output != "-":
        return True
    try:
        sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    return True


def _store_in_a_thread(result, args, store) -> int:
    import threading

    from core import db

    box: dict = {}

    def run():
        try:
            box["id"] = store()
        except BaseException as exc:  # re-raised in the main thread
            box["exc"] = exc
        finally:
            if not db.database.is_closed():
                db.database.close()  # this thread's connection

    worker = threading.Thread(target=run, name="dangjian-store-run")
    worker.start()
    try:
        write_findings(result, args.format, args.output, args.all)
    finally:
        worker.join()
    if "exc" in box:
        raise box["exc"]
    return box["id"]


def _store_while_a_child_writes(result, args, store) -> int:
    """The output written by a forked child (its own read-only connection, for the names of
    table, md and html) while this process stores the run.  The child answers through a pipe:
    done, a user error (the output could not be written: raised here, after the run is stored,
    as the thread would), or a crash (raised as an error naming the stored run)."""
    from core import procs
    from core.view import View

    if result.view is None:
        result.view = View.of()
    result.view.ref_key()  # read here, once, not by the child
    sys.stdout.flush()
    sys.stderr.flush()

    def child() -> None:
        write_findings(result, args.format, args.output, args.all)
        sys.stdout.flush()

    try:  # an error writing the output is raised after the run is stored, as the thread would
        run_id, _ = procs.in_two(child, store)
    except procs.WorkerFailed as exc:
        raise _stored_not_written(exc.mine, exc.detail) from None
    return run_id


def _stored_not_written(run_id, detail) -> UserError:
    """The error of a check whose run was stored but whose output could not be written."""
    return UserError(tr("结论已保存为第{r}次运行，但写出结论时出错：\n{e}",
                        "the findings were stored as run {r}, but writing them out failed:\n{e}",
                        r=run_id, e=detail))
