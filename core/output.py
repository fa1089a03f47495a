"""Tables out (表格输出): one place that writes table / md / csv / xlsx / html / json.

Used by ``check``, ``report``, ``score`` and ``export``.  Text tables use
tabulate with ``disable_numparse=True`` (codes like ``0123`` stay text) and
wcwidth installed, so Chinese lines up.

Numbers (:mod:`core.numbers`): table, md and html show a count as ``123,258``, money as
``15,000.00`` and a score as ``82.20``, and right-align a column of numbers; csv, xlsx
and json keep the plain number (``15000.00``; a numeric cell; ``15000``).
"""
from __future__ import annotations

import csv
import html
import io
import json
import os
import stat
import sys
from contextlib import contextmanager
from decimal import Decimal

from core.errors import UserError
from core.fsmodes import open_output
from core.i18n import tr
from core.numbers import aligns, cell_text
from core.text import csv_guard, printable

FORMATS = ("table", "md", "csv", "xlsx", "html", "json")


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return tr("是", "yes") if v else tr("否", "no")
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False, default=str)
    return str(v)


def _jsonable(v):
    if isinstance(v, Decimal):
        return float(v) if v != v.to_integral_value() else int(v)
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


def _for_people(v) -> str:
    """A cell for people (table, md, html): counts, money and scores in their formats
    (:func:`core.numbers.cell_text`)."""
    return _cell(v) if isinstance(v, (dict, list)) else cell_text(v)


def _shown(v) -> str:
    """A cell for a terminal or Markdown table: as :func:`_for_people`, control characters
    escaped, whatever is stored."""
    return printable(_for_people(v))


def text_table(headers, rows, fmt: str = "simple") -> str:
    """A text table; columns of numbers are right-aligned (in Markdown, ``github``, by the
    ``---:`` of a pipe table)."""
    from tabulate import tabulate

    rows = rows if isinstance(rows, list) else list(rows)
    colalign = aligns(rows, max([len(headers)] + [len(r) for r in rows]))
    if fmt == "github" and "right" in colalign:
        fmt = "pipe"  # GitHub's Markdown; the pipe table writes the alignment row
    return tabulate([[_shown(c) for c in r] for r in rows], headers=[_shown(h) for h in headers], tablefmt=fmt,
                    disable_numparse=True, colalign=colalign or None)


def csv_text(headers, rows) -> str:
    return "".join(csv_chunks(headers, rows))


def csv_chunks(headers, rows, block: int = 5000):
    """CSV text (a header line, then ``rows``, each cell through :func:`csv_cell`) a block of
    rows at a time: a writer that streams (:func:`write_stream`) never holds it whole."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(headers)
    for i, r in enumerate(rows, 1):
        w.writerow([csv_cell(c) for c in r])
        if i % block == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def csv_cell(v) -> str:
    """A value as a CSV cell: text that a spreadsheet would run as a formula gets one
    leading ``'``; control characters but the line feed are escaped."""
    if isinstance(v, str):
        return csv_guard(printable(v, keep_newlines=True))
    return _cell(v)


HTML_STYLE = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #999;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#eee}td.num{text-align:right;white-space:nowrap}.fail,.error{background:#f8d0d0}.warn{background:#fbe9b7}.pass{background:#d6f0d6}.info{background:#e3ecf7}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.5em}@media print{body{margin:1cm}}
"""


def html_page(title: str, body: str) -> str:
    head, tail = html_page_parts(title)
    return head + body + tail


def html_page_parts(title: str) -> tuple[str, str]:
    """A page's text before its body and after it (:func:`html_page`), for a body written piece
    by piece."""
    return (f"<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}"
            f"</title><style>{HTML_STYLE}</style></head><body><h1>{html.escape(title)}</h1>", "</body></html>")


def html_table(headers, rows, status_col: int | None = None) -> str:
    """A table for a page: numbers in their formats, columns of numbers right-aligned (``td.num``)."""
    rows = rows if isinstance(rows, list) else list(rows)
    num = [a == "right" for a in aligns(rows, max([len(headers)] + [len(r) for r in rows]))]
    out = ["<table><thead><tr>", *(f"<th>{html.escape(str(h))}</th>" for h in headers), "</tr></thead><tbody>"]
    for r in rows:
        cls = f' class="{html.escape(str(r[status_col]))}"' if status_col is not None else ""
        out.append(f"<tr{cls}>" + "".join(("<td class=\"num\">" if num[i] else "<td>")
                                          + html.escape(_for_people(c)) + "</td>" for i, c in enumerate(r)) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


#: rows of an Excel sheet (the header included): a longer table continues on a new sheet
XLSX_MAX_ROWS = 1_048_576
WIDTH_SAMPLE = 2000  # rows looked at for the column widths (a wide first screen, in constant memory)


def _sheet_names(name: str, parts: int) -> list[str]:
    base = name[:31]
    if parts == 1:
        return [base]
    return [base] + [f"{name[:31 - len(f' ({k})')]} ({k})" for k in range(2, parts + 1)]


def write_xlsx(path, sheets: list[tuple[str, list, list]]) -> None:
    """sheets: [(sheet name, headers, rows)]; column widths fit Chinese (wcwidth).

    Written in openpyxl's write-only mode (memory does not grow with the rows); a table longer
    than a sheet holds continues on a new sheet ``NAME (2)``, ``NAME (3)`` … with the header
    repeated.  ``path`` None writes to stdout, which must not be a terminal."""
    if path is None or str(path) == "-":
        if sys.stdout.isatty():
            raise UserError(tr("xlsx 格式需要 --output 文件，或把标准输出重定向到文件",
                               "xlsx needs --output FILE or stdout redirected to a file"))
    else:
        check_output_path(path)
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    from wcwidth import wcswidth

    wb = Workbook(write_only=True)
    per_sheet = XLSX_MAX_ROWS - 1
    for name, headers, rows in sheets:
        rows = rows if isinstance(rows, list) else list(rows)
        widths = [max(4, wcswidth(str(h))) for h in headers]
        for r in rows[:WIDTH_SAMPLE]:
            for i, c in enumerate(r[:len(widths)]):
                v = _xlsx_value(c)
                if v is not None:
                    widths[i] = min(60, max(widths[i], wcswidth(_cell(v)) or 0))
        parts = max(1, -(-len(rows) // per_sheet))
        for k, title in enumerate(_sheet_names(name, parts)):
            ws = wb.create_sheet(title=title)
            for i, w in enumerate(widths, start=1):
                ws.column_dimensions[get_column_letter(i)].width = w + 2
            ws.freeze_panes = "A2"
            ws.append(list(headers))
            for r in rows[k * per_sheet:(k + 1) * per_sheet]:
                ws.append(xlsx_cells(ws, [_xlsx_value(c) for c in r]))
    if path is None or str(path) == "-":
        buf = io.BytesIO()
        wb.save(buf)
        sys.stdout.flush()
        sys.stdout.buffer.write(buf.getvalue())
        sys.stdout.buffer.flush()
    else:
        with write_errors(path), open_output(path, binary=True) as fh:
            wb.save(fh)


def append_row(ws, values) -> None:
    """Append ``values`` to the openpyxl sheet ``ws``: text cells stay text (a value beginning
    with ``=`` is never stored as a formula), control characters are escaped (openpyxl
    refuses them), numbers and dates keep their types."""
    ws.append([printable(v, keep_newlines=True) if isinstance(v, str) else v for v in values])
    for cell in ws[ws.max_row]:
        if cell.data_type == "f":
            cell.data_type = "s"


def xlsx_cells(ws, values) -> list:
    """``values`` for ``ws.append`` on a write-only sheet: text stays text (a value beginning
    with ``=`` becomes a string cell, never a formula), control characters are escaped
    (openpyxl refuses them), numbers and dates keep their types."""
    out = []
    for v in values:
        if isinstance(v, str):
            v = printable(v, keep_newlines=True)
            if v.startswith("="):
                from openpyxl.cell import WriteOnlyCell

                c = WriteOnlyCell(ws, value=v)
                c.data_type = "s"
                v = c
        out.append(v)
    return out


def _xlsx_value(v):
    if isinstance(v, Decimal):
        return v
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False, default=str)
    if isinstance(v, bool):
        return tr("是", "yes") if v else tr("否", "no")
    return v


def json_lines(records) -> str:
    """A JSON list with one record a line (the C encoder: a city's 85,000 scored members in a
    second, where an indented dump takes several and holds every fragment)."""
    return json_list(json_body(records))


def json_encoder(default, separators=(", ", ": ")):
    """``encode(value) -> str``: ``json.JSONEncoder(ensure_ascii=False, default=default,
    separators=separators).encode`` with its C encoder made once for all the values, not once
    a value (a check's 200,000 evidence texts: a third less time); the same text."""
    from json.encoder import c_make_encoder, encode_basestring

    if c_make_encoder is None:  # a Python without the C accelerator
        return json.JSONEncoder(ensure_ascii=False, default=default, separators=separators).encode
    item_sep, key_sep = separators
    markers: dict = {}  # the containers being encoded (a circular value is refused)
    chunks = c_make_encoder(markers, default, encode_basestring, None, key_sep, item_sep, False, False, True)

    def encode(value) -> str:
        if value.__class__ is str:  # as JSONEncoder.encode: a string is one chunk
            return encode_basestring(value)
        try:
            return "".join(chunks(value, 0))
        except BaseException:
            markers.clear()  # left over by the value that failed: the next value starts afresh
            raise
    return encode


def json_body(records) -> str:
    """The records of :func:`json_lines` without the brackets: one record a line, no comma after
    the last (bodies of parts of a list joined by ``",\\n"`` make the whole list's)."""
    return ",\n".join(map(json_encoder(_jsonable), records))


def json_list(*bodies: str) -> str:
    """A JSON list from the bodies of its parts (:func:`json_body`), in order."""
    body = ",\n".join(b for b in bodies if b)
    return f"[\n{body}\n]\n" if body else "[]\n"


def render(headers, rows, fmt: str, *, title: str = "", output: str | None = None,
           records: list[dict] | None = None, status_col: int | None = None) -> None:
    """Write a table in ``fmt`` to ``output`` (a path) or stdout.

    ``records`` (list of dicts) is what JSON writes when given; otherwise rows
    keyed by headers.
    """
    if fmt not in FORMATS:
        raise UserError(tr("未知格式 {f}；可选：{a}", "unknown format {f}; choose from: {a}",
                           f=fmt, a=", ".join(FORMATS)))
    if fmt == "xlsx":
        write_xlsx(output, [(title or "sheet", headers, rows)])
        return
    if fmt == "table":
        text = (title + "\n" if title else "") + text_table(headers, rows) + "\n"
    elif fmt == "md":
        text = (f"# {title}\n\n" if title else "") + text_table(headers, rows, "github") + "\n"
    elif fmt == "csv":
        text = csv_text(headers, rows)
    elif fmt == "html":
        text = html_page(title, html_table(headers, rows, status_col))
    else:
        data = records if records is not None else (dict(zip(headers, r)) for r in rows)
        text = json_lines(data)
    write_text(text, output, bom=(fmt == "csv"))


def check_output_path(path) -> None:
    """No output may land on the database, its side files or the backup folder (core.server)."""
    from core.server import check_output_path as check

    check(path)


def _cannot_write(path, exc: OSError) -> UserError:
    return UserError(tr("无法写入 {f}：{e}", "cannot write {f}: {e}", f=path, e=exc.strerror or exc))


@contextmanager
def write_errors(path):
    """An OSError while writing ``path`` becomes one line naming the file and the reason."""
    try:
        yield
    except BrokenPipeError:  # the reader of stdout stopped reading (``| head``): the CLI ends quietly
        raise
    except OSError as exc:
        raise _cannot_write(path, exc) from None


def check_writable(path) -> None:
    """Refuse, before any work, an output path that cannot be written.

    ``None`` and ``-`` (stdout) pass.  Refused: the database, its side files and
    the backup folder (:func:`check_output_path`); a folder; a missing folder; a
    pipe, socket or block device (opening a pipe would wait for a reader); a file the kernel will
    not let us write (no permission, ``/proc``, a read-only file system) — found
    by opening it for appending and writing nothing, or creating and removing it
    when it does not exist yet.  Nothing is changed.
    """
    if path is None or str(path) == "-":
        return
    check_output_path(path)
    p = os.path.abspath(os.path.expanduser(str(path)))
    try:
        st = os.stat(p)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise UserError(tr("{f} 是文件夹，不能写入", "{f} is a folder and cannot be written", f=path))
    if st is not None and not (stat.S_ISREG(st.st_mode) or stat.S_ISCHR(st.st_mode)):
        raise UserError(tr("{f} 不是普通文件（管道、套接字或设备），不能写入；要写到标准输出请省略文件名",
                           "{f} is not a regular file (a pipe, socket or device) and cannot be written; for stdout "
                           "leave the file out", f=path))
    if st is None and not os.path.isdir(os.path.dirname(p)):
        raise UserError(tr("无法写入 {f}：文件夹不存在", "cannot write {f}: no such folder", f=path))
    flags = os.O_WRONLY | getattr(os, "O_CLOEXEC", 0)
    try:
        if st is not None:
            fd = os.open(p, flags | os.O_APPEND | getattr(os, "O_NONBLOCK", 0))
            try:
                os.write(fd, b"")  # /proc and its kind refuse even an empty write; a file is left as it was
            finally:
                os.close(fd)
        else:
            try:
                fd = os.open(p, flags | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # a dangling symlink, or created meanwhile: the write itself will tell
                return
            os.close(fd)
            os.unlink(p)
    except OSError as exc:
        raise _cannot_write(path, exc) from None


def write_text(text: str, output: str | None, bom: bool = False) -> None:
    """``text`` to the file ``output``, or to stdout (``output`` None or ``-``)."""
    write_stream((text,), output, bom)


def write_stream(parts, output: str | None, bom: bool = False) -> None:
    """Text made piece by piece (an iterable of strings) to the file ``output`` (created 0600)
    or to stdout (``output`` None or ``-``), each piece as it comes: a province's ~2 million
    findings are never held as one text."""
    if output and str(output) != "-":
        check_output_path(output)
        with write_errors(output):
            with open_output(output, encoding="utf-8-sig" if bom else "utf-8") as fh:
                for part in parts:
                    fh.write(part)
    else:
        check_stdout_encoding()
        for part in parts:
            sys.stdout.write(part)
        sys.stdout.flush()


def check_stdout_encoding() -> None:
    """A non-UTF-8 stdout silently prints '?' for Chinese: say so instead."""
    enc = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "")
    if enc and enc not in ("utf8", "utf8sig") and not enc.startswith("gb"):
        try:
            sys.stdout.reconfigure(encoding="utf-8")
        except Exception:
            raise UserError("stdout encoding is %s, not UTF-8: Chinese text cannot be printed; "
                            "set LANG=C.UTF-8 or use --output FILE" % enc) from None
