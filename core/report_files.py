"""Reports as files from the terminal app (报表文件): every report, the printable HTML-only
ones too, for the app's year and scope (or one community chosen for a report that is one
community's book, such as the ledger).

Where the file goes depends on who runs the app (:func:`core.server.deployment`):

- as an ordinary account (single-user mode, or staff running the program as their own
  accounts): :func:`save` writes it into the ``[reports] dir`` of the config — when that is
  empty, the ``dangjian`` folder in the user's documents folder (``platformdirs``
  ``user_documents_dir()``, e.g. ``~/Documents/dangjian``); created ``0700`` when missing —
  with mode ``0600``, never onto the database, its side files or the backup folder;
- as the service account of a city server, which takes no path arguments and cannot write
  into the staff member's home: nothing is written; :func:`fetch_command` is the command the
  staff member runs on their own machine, ``ssh LOGIN@HOST report NAME … > FILE``, which
  streams the same report through the session wrapper to stdout.
"""
from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import UserError
from core.i18n import get_lang, tr

#: formats a table report may be saved in from the app (in this order, where the report has them)
TABLE_FORMATS = ("html", "xlsx", "csv")


@dataclass
class Delivery:
    """What became of a report asked for in the app: a saved file, or the command that fetches it."""
    title: str               # the report's title, with the community or town and the year
    path: Path | None = None  # the file written (not under the service account)
    command: str | None = None  # the command to run on one's own machine (under the service account)
    filename: str = ""
    withheld: list = field(default_factory=list)  # lines naming what failed plugins left out


def serving() -> bool:
    """True when the app runs as a city server's service account (outputs only stream to stdout)."""
    from core import server

    return server.deployment().service


def formats_of(report) -> tuple[str, ...]:
    """The formats the app offers for ``report``: HTML alone for a printable report."""
    from core.reports import html_only

    if html_only(report):
        return ("html",)
    return tuple(f for f in TABLE_FORMATS if f in report.formats) or ("html",)


def reports_dir() -> Path:
    """``[reports] dir`` of the config (``~`` expanded, relative to the current folder), or
    the ``dangjian`` folder in the user's documents folder."""
    from core import config

    d = str(config.get().section("reports").get("dir") or "").strip()
    if d:
        return Path(os.path.abspath(os.path.expanduser(d)))
    from platformdirs import user_documents_dir

    return Path(user_documents_dir()) / "dangjian"


_SAFE = re.compile(r"[^0-9A-Za-z._-]+")


def file_name(name: str, year: int, community: str | None = None, fmt: str = "html") -> str:
    """``ledger-320583100001-2026.html``: the report, the community code when one was chosen, the year."""
    parts = [name] + ([community] if community else []) + [str(year)]
    stem = "-".join(_SAFE.sub("_", p).strip("._") or "_" for p in parts)
    return f"{stem}.{fmt}"


def _scope_label(view, community: str | None) -> str:
    if community:
        ref = next((c for c in view.communities() if c.code == community), None)
        return ref.name if ref else community
    return view.town or tr("全市", "city")


def render(result, report, fmt: str) -> bytes:
    """A report's result (a page or a :class:`core.reports.ReportTable`) as the bytes of a file in ``fmt``."""
    import io

    from core import output

    if isinstance(result, str):
        return result.encode("utf-8")
    title = result.title or report.name
    if fmt == "html":
        body = output.html_table(result.headers, result.rows, result.status_col)
        body += "".join(f"<p>{__import__('html').escape(str(n))}</p>" for n in result.notes or [])
        return output.html_page(title, body).encode("utf-8")
    if fmt == "csv":
        return output.csv_text(result.headers, result.rows).encode("utf-8-sig")
    if fmt == "json":
        data = result.records if result.records is not None else (dict(zip(result.headers, r)) for r in result.rows)
        return output.json_lines(data).encode("utf-8")
    if fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = (title or "sheet")[:31].replace("/", "_")
        ws.append(list(result.headers))
        for r in result.rows:
            output.append_row(ws, [output._xlsx_value(c) for c in r])
        ws.freeze_panes = "A2"
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()
    raise UserError(tr("未知格式 {f}", "unknown format {f}", f=fmt))


def write_file(folder: Path, filename: str, data: bytes) -> Path:
    """``data`` into ``folder/filename``, mode 0600: written beside it first and then moved over
    it, so a symlink planted at the name is replaced, never followed; never the database, its
    side files or the backup folder."""
    from core.fsmodes import OUTPUT_MODE
    from core.server import check_output_path

    path = folder / filename
    check_output_path(path)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not folder.is_dir():
            raise UserError(tr("{d} 不是文件夹", "{d} is not a folder", d=folder))
        tmp = folder / f".{filename}.{os.getpid()}.part"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(tmp, flags, OUTPUT_MODE)
        try:
            os.fchmod(fd, OUTPUT_MODE)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except OSError as exc:
        raise UserError(tr("无法写入 {f}：{e}", "cannot write {f}: {e}", f=path, e=exc.strerror or exc)) from None
    return path


def ssh_host() -> str:
    """The server's name in the fetch command: ``[reports] ssh_host`` when the config has one, else
    the host name of this machine."""
    import socket

    from core import config

    host = str(config.get().section("reports").get("ssh_host") or "").strip()
    return host or socket.gethostname()


def fetch_command(login: str, host: str, name: str, year: int | None, town: str | None, community: str | None,
                  fmt: str, filename: str, lang: str | None = None, with_format: bool = True) -> str:
    """``ssh LOGIN@HOST report NAME [--year Y] [--town T | --community C] [--format F] > FILE``
    (``with_format`` False: a printable report, HTML without saying so)."""
    words = ["ssh", f"{login}@{host}"]
    if lang:
        words.append(f"--lang={lang}")
    words += ["report", name]
    if year is not None:
        words += ["--year", str(year)]
    if community:
        words += ["--community", community]
    elif town:
        words += ["--town", town]
    if with_format:
        words += ["--format", fmt]
    return " ".join(_quote(w) for w in words) + " > " + _quote(filename)


_PLAIN = re.compile(r"[\w@%+=:,./-]+")


def _quote(word: str) -> str:
    """A word for the shell: as it is when plain (Chinese names too), else quoted."""
    return word if _PLAIN.fullmatch(word) else shlex.quote(word)


def deliver(view, name: str, year: int, community: str | None = None, fmt: str | None = None,
            html: str | None = None) -> Delivery:
    """Report ``name`` for ``year`` over ``view`` (narrowed to ``community`` when given): saved
    (see the module doc) or, under the service account, the command that fetches it.

    ``html`` is the page when the app has it already (an HTML-only report just shown)."""
    from core import plugins
    from core.reports import get_report, html_only, last_withheld, run_report
    from core.rules import resolve_dates

    report = get_report(name)
    fmt = fmt or formats_of(report)[0]
    if fmt not in formats_of(report):
        raise UserError(tr("报表 {n} 不能保存为 {f}", "report {n} cannot be saved as {f}", n=name, f=fmt))
    community = community or view.community
    town = None if community else view.town
    title = f"{report.title(get_lang())}（{_scope_label(view, community)}，{year}）" if get_lang() == "zh" \
        else f"{report.title('en')} ({_scope_label(view, community)}, {year})"
    filename = file_name(name, year, community, fmt)
    result = html if html is not None else run_report(name, year=year, town=town, community=community,
                                                      principal=view.principal)
    withheld = [plugins.withheld_line(t, f) for t, f in dict.fromkeys(
        last_withheld() if isinstance(result, str) else result.withheld)] if html is None else []
    if serving():
        from core import config

        default_year = resolve_dates(None, None)[0]
        lang = get_lang() if get_lang() != config.get().lang else None
        cmd = fetch_command(view.principal.login, ssh_host(), name, None if year == default_year else year,
                            town, community, fmt, filename, lang, with_format=not html_only(report))
        return Delivery(title, command=cmd, filename=filename, withheld=withheld)
    return Delivery(title, path=write_file(reports_dir(), filename, render(result, report, fmt)), filename=filename,
                    withheld=withheld)
