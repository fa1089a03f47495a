"""``dangjian import KIND FILE [--partial] [--rejects PATH] [--encoding ENC] [--correct]``,
``dangjian export KIND [FILE] [--format csv|xlsx] [--town NAME] [--community CODE]`` and
``dangjian template KIND [FILE] [--format csv|xlsx]``; the import engine, the export and the
templates are :mod:`core.importing`."""
from __future__ import annotations

import sys

from core import access, validators
from core.errors import UserError
from core.i18n import tr
from core.importing import authorize, authorize_correct, check_kind, files, import_file, write_export, write_template
from core.importing.engine import REJECT_COLUMN, Result
from core.numbers import format_count


def _column(name: str, msg) -> str:
    """The field an error belongs under: its own, or the column a plugin's validator named."""
    return name or getattr(msg, "column", "") or ""


def error_lines(res: Result, fname: str) -> list[str]:
    out = []
    labels = res.labels
    for it in sorted(res.rejected, key=lambda i: i.rowno):
        for name, msg in it.errors:
            name = _column(name, msg)
            label = labels.get(name) or (validators.label_of(res.kind, name) if name else "")
            if not label:
                label = next(iter(labels.values()), "")
            out.append(f"{fname} row {it.rowno}, {label}: {msg}")
    return out


def write_rejects(res: Result, table, path) -> None:
    headers = [h for h in table.header if h != REJECT_COLUMN]
    idx = [i for i, h in enumerate(table.header) if h != REJECT_COLUMN]
    labels = getattr(res, "labels", {})
    rows = []
    for it in sorted(res.rejected, key=lambda i: i.rowno):
        cells = list(it.cells)
        vals = [validators.as_text(cells[i]) if i < len(cells) else "" for i in idx]
        errors = [(_column(n, m), m) for n, m in it.errors]
        reason = "；".join(f"{labels.get(n) or validators.label_of(res.kind, n) if n else ''}"
                          f"{': ' if n else ''}{m}" for n, m in errors)
        rows.append(vals + [reason])
    files.write_csv(path, headers + [REJECT_COLUMN], rows)


def summary(kind: str, res: Result) -> str:
    return tr("{k}：新增 {i}，更新 {u}，未变 {n}，拒绝 {r}", "{k}: inserted {i}, updated {u}, unchanged {n}, rejected {r}",
              k=kind, i=format_count(res.inserted), u=format_count(res.updated), n=format_count(res.unchanged),
              r=format_count(len(res.rejected)))


def cmd_import(args) -> int:
    """``import KIND FILE``; ``FILE`` ``-`` reads stdin completely into a private spool first
    (XLSX when it starts with the zip signature, else CSV; at most ``[import] max_bytes``),
    so a slow sender never holds the write lock; ``--partial`` rejects then go to stdout."""
    import os

    from core.output import check_writable

    kind = check_kind(args.kind)
    authorize(kind)  # before reading anything
    # --correct (members, an administrator): organization and class changes applied as corrections, audited
    correct = bool(getattr(args, "correct", False))
    if correct:
        authorize_correct(kind)
    from_stdin = args.file == "-"
    rej = None
    if args.partial:
        rej = args.rejects or ("-" if from_stdin else f"{args.file}.rejects.csv")
        check_writable(rej)  # a bad rejects path is refused before anything is written
    spool = files.spool_stdin() if from_stdin else None
    name = "stdin" if from_stdin else args.file
    try:
        res, table = import_file(kind, spool or args.file, partial=args.partial, encoding=args.encoding, name=name,
                                 correct=correct)
    finally:
        if spool is not None:
            os.unlink(spool)
    for plugin, error in res.plugin_errors:  # the rows it did not check are refused, each naming it
        print(tr("插件 {p} 出错：{e}", "plugin {p} failed: {e}", p=plugin, e=error), file=sys.stderr)
    for line in error_lines(res, name):
        print(line, file=sys.stderr)
    if res.rejected and args.partial:
        write_rejects(res, table, rej)
        print(tr("被拒绝的行已存入 {p}", "rejected rows saved to {p}", p=tr("标准输出", "stdout") if rej == "-" else rej),
              file=sys.stderr)
    if res.rejected and not args.partial:
        print(tr("{k}：{r} 行有错误，未写入任何记录（可用 --partial 只写入正确的行）",
                 "{k}: {r} row(s) with errors; nothing was written (--partial writes the good rows)",
                 k=kind, r=format_count(len({it.rowno for it in res.rejected}))), file=sys.stderr)
        res.inserted = res.updated = res.unchanged = 0
        print(summary(kind, res), file=sys.stderr)
        return 2
    print(summary(kind, res), file=sys.stderr)
    if any(getattr(m, "plugin", "") for it in res.rejected for _n, m in it.errors):
        return 2  # rows refused because a plugin failed: loud, as every command a failed plugin touches
    return 1 if res.rejected else 0


def _out_file(args, kind: str) -> str:
    """The FILE operand of export/template: default ``KIND.xlsx`` here; ``-`` stdout; --format must agree."""
    path = args.file or f"{kind}.xlsx"
    fmt = getattr(args, "format", None)
    if path != "-":
        if fmt and fmt != ("xlsx" if files.is_xlsx(path) else "csv"):
            raise UserError(tr("--format {f} 与文件名 {p} 不符（文件名的扩展名决定格式）",
                               "--format {f} does not match {p} (the file's extension decides the format)",
                               f=fmt, p=path))
        from core.output import check_writable

        check_writable(path)
    return path


def cmd_export(args) -> int:
    kind = check_kind(args.kind)
    access.current()
    path = _out_file(args, kind)
    from core.output import write_errors

    with write_errors(path):  # a file that cannot be written: one line; a reader of stdout gone: quiet
        n, masked = write_export(kind, path, args.town, args.community, fmt=getattr(args, "format", None))
    where = tr("标准输出", "stdout") if path == "-" else path
    msg = tr("{k}：导出 {n} 条到 {f}", "{k}: exported {n} record(s) to {f}", k=kind, n=format_count(n), f=where)
    if masked:
        msg += tr("（身份号码和电话已遮盖，此文件不能再导入）", " (ID numbers and phones masked; this file cannot be imported)")
    print(msg, file=sys.stderr)
    return 0


def cmd_template(args) -> int:
    kind = check_kind(args.kind)
    path = _out_file(args, kind)
    try:
        write_template(kind, path, fmt=getattr(args, "format", None))
    except OSError as exc:
        raise UserError(tr("无法写入 {f}：{e}", "cannot write {f}: {e}", f=path, e=exc.strerror or exc)) from None
    print(tr("已写出模板 {f}", "template written: {f}", f=tr("标准输出", "stdout") if path == "-" else path),
          file=sys.stderr)
    return 0
