"""Reading and writing the import/export table files: ``.xlsx`` and ``.csv``.

CSV is read as UTF-8, UTF-8 with BOM or GBK (detected; ``--encoding``
overrides) and streamed row by row; ``.xlsx`` through openpyxl's read-only
mode (the first sheet).  Rows come out as ``(row_number, cells)`` with the
row number as Excel numbers it (the header is row 1).
"""
from __future__ import annotations

import codecs
import csv
import io
import re
import sys
import zipfile
from pathlib import Path

from core.errors import UserError
from core.fsmodes import open_output
from core.i18n import tr
from core.output import csv_cell
from core.text import csv_unguard

MASK_MARK_ZH = "已遮盖"
MASK_MARK_EN = "masked"
MASK_COMMENT = "# 身份号码和电话已遮盖（masked: ID numbers and phones），本文件不能导入 / this file cannot be imported"

csv.field_size_limit(1 << 20)
_UNDECODED = re.compile("[\udc80-\udcff]")  # what errors="surrogateescape" makes of an undecodable byte


def is_xlsx(path) -> bool:
    return str(path).lower().endswith((".xlsx", ".xlsm"))


def detect_encoding(path: Path, name=None) -> str:
    """'utf-8-sig' (BOM), 'utf-8' or 'gbk'; a file that is none of them is refused (``name`` names it)."""
    with open(path, "rb") as fh:
        head = fh.read(3)
        if head == codecs.BOM_UTF8:
            return "utf-8-sig"
        fh.seek(0)
        for enc in ("utf-8", "gb18030"):
            dec = codecs.getincrementaldecoder(enc)()
            fh.seek(0)
            try:
                while True:
                    block = fh.read(1 << 20)
                    if not block:
                        dec.decode(b"", final=True)
                        break
                    dec.decode(block)
                return "utf-8" if enc == "utf-8" else "gbk"
            except UnicodeDecodeError:
                continue
    raise UserError(tr("{f}：无法识别文件编码（应为 UTF-8 或 GBK），可用 --encoding 指定",
                       "{f}: cannot tell the file's encoding (UTF-8 or GBK expected); use --encoding",
                       f=name or path))


def text_encoding(encoding: str) -> str:
    """The codec name for ``--encoding``: only text encodings that can decode (not rot13, base64, zlib,
    "undefined" …); GBK and its aliases become GB18030, its superset (what Excel calls GBK)."""
    enc = str(encoding).strip()
    if enc.lower().replace("_", "-") in ("gbk", "gb2312", "cp936"):
        enc = "gb18030"
    try:
        info = codecs.lookup(enc)
    except (LookupError, ValueError):
        raise UserError(tr("未知编码 {e}", "unknown encoding {e}", e=encoding)) from None
    if not getattr(info, "_is_text_encoding", True):
        raise UserError(tr("--encoding {e} 不是文本编码（可用 utf-8、gbk、utf-16 等）",
                           "--encoding {e} is not a text encoding (use utf-8, gbk, utf-16 …)", e=encoding))
    try:
        codecs.getincrementaldecoder(info.name)().decode(b"", final=True)
    except (UnicodeError, LookupError, ValueError, TypeError):
        raise UserError(tr("--encoding {e} 不能用于读取文件", "--encoding {e} cannot be used to read a file",
                           e=encoding)) from None
    return info.name


def count_lines(path: Path) -> int:
    n = 0
    with open(path, "rb") as fh:
        while True:
            block = fh.read(1 << 20)
            if not block:
                break
            n += block.count(b"\n")
    return n


ZIP_SIGNATURE = b"PK\x03\x04"


def max_bytes() -> int:
    from core import config

    return int(config.get().section("import").get("max_bytes", 512 * 1024 * 1024))


def _too_large(name, limit: int) -> UserError:
    return UserError(tr("{f} 超过导入上限 {m} 字节（配置 [import] max_bytes）",
                        "{f} is larger than the import limit of {m} bytes ([import] max_bytes)", f=name, m=limit))


#: spools this process made of stdin: read as they are (not copied again)
_STDIN_SPOOLS: set = set()


STALE_AFTER = 24 * 3600  # seconds: no import runs this long; an older copy is a killed import's


def _forget_stale_copies(prefix: str) -> None:
    """Remove this account's private copies left by imports that were killed (SIGKILL, power
    cut) more than a day ago — a killed process cannot clean up after itself."""
    import os
    import tempfile
    import time

    folder = tempfile.gettempdir()
    now = time.time()
    try:
        names = [n for n in os.listdir(folder) if n.startswith(prefix)]
    except OSError:
        return
    for n in names:
        path = os.path.join(folder, n)
        try:
            st = os.lstat(path)
            if (os.path.isfile(path) and not os.path.islink(path) and st.st_uid == os.getuid()
                    and now - st.st_mtime > STALE_AFTER):
                os.unlink(path)
        except OSError:
            pass


def _copy_capped(read, name, limit: int, prefix: str) -> tuple[str, bytes]:
    """Copy what ``read(n)`` gives into a new private temporary file (mode 0600), refusing more than
    ``limit`` bytes; returns (its path, the first four bytes).  On any failure the file is removed."""
    import os
    import tempfile

    _forget_stale_copies(prefix)
    fd, tmp = tempfile.mkstemp(prefix=prefix)
    total = 0
    head = b""
    try:
        with os.fdopen(fd, "wb") as out:
            while True:
                try:
                    block = read(1 << 20)
                except OSError as exc:
                    raise UserError(tr("无法读取 {f}：{e}", "cannot read {f}: {e}", f=name,
                                       e=exc.strerror or exc)) from None
                if not block:
                    break
                total += len(block)
                if total > limit:
                    raise _too_large(name, limit)
                if len(head) < 4:
                    head = (head + block)[:4]
                out.write(block)
        return tmp, head
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _named(tmp: str, suffix: str) -> Path:
    """``tmp`` renamed with ``suffix`` (how Table tells .xlsx from .csv)."""
    import os

    try:
        os.replace(tmp, tmp + suffix)
    except BaseException:
        os.unlink(tmp)
        raise
    return Path(tmp + suffix)


#: spools this process made of stdin: read as they are (not copied again)
_STDIN_SPOOLS: set = set()


def spool_stdin(stream=None, limit: int | None = None) -> Path:
    """Read standard input completely into a private temporary file (before any lock is taken).

    The file is named ``.xlsx`` when the data starts with the zip signature, else
    ``.csv``; more than ``limit`` bytes is refused.  The caller deletes the file.
    """
    limit = max_bytes() if limit is None else limit
    stream = stream if stream is not None else sys.stdin.buffer
    tmp, head = _copy_capped(stream.read, "stdin", limit, "dangjian-stdin-")
    final = _named(tmp, ".xlsx" if head == ZIP_SIGNATURE else ".csv")
    _STDIN_SPOOLS.add(str(final))
    return final


def _open_regular(path, name) -> int:
    """A read-only descriptor of ``path``, refused unless it is a readable regular file.

    Opened without blocking and checked on the descriptor itself, so neither a
    FIFO without a writer nor a path swapped after a check can make us wait.
    """
    import os
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise UserError(tr("找不到文件 {f}", "file not found: {f}", f=name)) from None
    except IsADirectoryError:
        raise UserError(tr("{f} 是文件夹，不是文件", "{f} is a folder, not a file", f=name)) from None
    except PermissionError:
        raise UserError(tr("无法读取 {f}：没有读取权限", "cannot read {f}: permission denied", f=name)) from None
    except OSError as exc:
        raise UserError(tr("无法读取 {f}：{e}", "cannot read {f}: {e}", f=name, e=exc.strerror or exc)) from None
    mode = os.fstat(fd).st_mode
    if stat.S_ISREG(mode):
        return fd
    os.close(fd)
    if stat.S_ISDIR(mode):
        raise UserError(tr("{f} 是文件夹，不是文件", "{f} is a folder, not a file", f=name))
    raise UserError(tr("{f} 不是普通文件（管道或设备请用 - 从标准输入读取）",
                       "{f} is not a regular file (for a pipe, read it from stdin with -)", f=name))


def spool_file(path, name, limit: int) -> Path:
    """Copy the regular file ``path`` completely into a private temporary file (mode 0600) and return it.

    The import then reads the copy: a file that keeps growing, or one on a file
    system that stalls, is read before any lock is taken, and no more than
    ``limit`` bytes are ever read.  The caller deletes the copy.
    """
    import os

    with os.fdopen(_open_regular(path, name), "rb") as src:
        if os.fstat(src.fileno()).st_size > limit:
            raise _too_large(name, limit)
        tmp, _ = _copy_capped(src.read, name, limit, "dangjian-import-")  # refuses a file that grew past it
    return _named(tmp, Path(str(path)).suffix.lower()[:8])


class Table:
    """An opened input file: ``header`` (list of str, row ``header_row``) and ``rows()``.

    ``name`` is how row messages name the file (``stdin`` for a spooled stdin).
    Only regular files are read (a FIFO or a device is refused), at most
    ``[import] max_bytes``, and completely, into a private copy, before anything
    else happens (:func:`spool_file`; stdin is spooled by :func:`spool_stdin`):
    a stalled or growing input never holds the write lock.  ``close()``
    deletes the copy.
    """

    def __init__(self, path, encoding: str | None = None, want_total: bool = False, name: str | None = None):
        import os

        self.path = Path(path)
        self.name = name or str(path)
        self.total = None
        self.masked = False
        self._spool = None
        self._owner = os.getpid()
        limit = max_bytes()
        if str(path) in _STDIN_SPOOLS:
            os.close(_open_regular(self.path, self.name))
        else:
            self._spool = spool_file(self.path, self.name, limit)
        self._read = self._spool or self.path
        try:
            if is_xlsx(path):
                self._open_xlsx(want_total)
            else:
                self._open_csv(encoding, want_total)
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------ csv
    def _open_csv(self, encoding, want_total):
        self.encoding = text_encoding(encoding or detect_encoding(self._read, self.name))
        # undecodable bytes are kept as lone surrogates, so the row they are in is named exactly
        self._fh = open(self._read, "r", encoding=self.encoding, newline="", errors="surrogateescape")
        self._reader = csv.reader(self._fh)
        self._rowno = 0
        if want_total:
            self.total = count_lines(self._read)
        self.header = None
        try:
            for cells in self._reader:
                self._rowno += 1
                self._decoded(cells)
                first = cells[0].strip() if cells else ""
                if first.startswith("#"):
                    text = ",".join(cells)
                    if MASK_MARK_ZH in text or MASK_MARK_EN in text.lower():
                        self.masked = True
                    continue
                if not any(c.strip() for c in cells):
                    continue
                self.header = [c.strip().lstrip("\ufeff") for c in cells]
                self.header_row = self._rowno
                break
        except (UnicodeError, csv.Error) as exc:
            self.close()
            raise self._bad(exc) from None
        if self.header is None:
            self.close()
            raise UserError(tr("{f} 是空文件：没有表头行", "{f} is empty: no header row", f=self.name))

    def _decoded(self, cells, n: int | None = None) -> None:
        """Refuse the row (by its number) when a cell holds bytes the encoding could not decode."""
        for cell in cells:
            if _UNDECODED.search(cell):
                raise UserError(tr("{f} 第{n}行：无法按 {e} 解码，可用 --encoding 指定编码",
                                   "{f} row {n}: cannot be decoded as {e}; use --encoding",
                                   f=self.name, n=self._rowno if n is None else n, e=self.encoding))

    def _bad(self, exc):
        if isinstance(exc, UnicodeError):
            return UserError(tr("{f} 第{n}行：无法按 {e} 解码，可用 --encoding 指定编码",
                                "{f} row {n}: cannot be decoded as {e}; use --encoding",
                                f=self.name, n=self._rowno + 1, e=self.encoding))
        return UserError(tr("{f} 第{n}行：不是有效的 CSV（{x}）", "{f} row {n}: not valid CSV ({x})",
                            f=self.name, n=self._rowno + 1, x=exc))

    # ------------------------------------------------------------ xlsx
    def _open_xlsx(self, want_total):
        from openpyxl import load_workbook

        self.encoding = None
        try:
            self._wb = load_workbook(self._read, read_only=True, data_only=True)
            if not self._wb.worksheets:
                raise UserError(tr("{f} 没有工作表", "{f} has no sheet", f=self.name))
            ws = self._wb.worksheets[0]
            if MASK_MARK_ZH in ws.title or MASK_MARK_EN in ws.title.lower():
                self.masked = True
            try:
                if want_total and ws.max_row:
                    self.total = ws.max_row
            except Exception:
                self.total = None
            ws.reset_dimensions()
            self._rows = ws.iter_rows(values_only=True)
            self._rowno = 0
            self.header = None
            for cells in self._rows:
                self._rowno += 1
                vals = ["" if c is None else str(c).strip() for c in cells]
                if vals and vals[0].startswith("#"):
                    if MASK_MARK_ZH in ",".join(vals) or MASK_MARK_EN in ",".join(vals).lower():
                        self.masked = True
                    continue
                if not any(vals):
                    if self._rowno > 1000:
                        break
                    continue
                while vals and not vals[-1]:
                    vals.pop()
                self.header = vals
                self.header_row = self._rowno
                break
        except UserError:
            raise
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, IndexError, EOFError) as exc:
            raise UserError(tr("{f} 不是有效的 .xlsx 文件（{x}）", "{f} is not a valid .xlsx file ({x})",
                               f=self.name, x=type(exc).__name__)) from None
        except Exception as exc:  # openpyxl raises assorted errors on garbled files
            raise UserError(tr("{f} 不是有效的 .xlsx 文件（{x}）", "{f} is not a valid .xlsx file ({x})",
                               f=self.name, x=type(exc).__name__)) from None
        if self.header is None:
            raise UserError(tr("{f} 是空文件：没有表头行", "{f} is empty: no header row", f=self.name))

    def rows(self):
        """Yield (row_number, cells) for the data rows; blank rows are skipped."""
        if self.encoding is not None:
            try:
                n = self._rowno
                undecoded = _UNDECODED.search
                for cells in self._reader:
                    n += 1
                    text = "".join(cells)
                    if not text.strip():
                        continue
                    self._rowno = n
                    if not text.isascii() and undecoded(text):  # one search of the row (one character each)
                        self._decoded(cells, n)
                    if "'" in text:  # an export's guard against formulas: one leading ' comes off
                        cells = [csv_unguard(c) for c in cells]
                    yield n, cells
                self._rowno = n
            except (UnicodeError, csv.Error) as exc:
                raise self._bad(exc) from None
            finally:
                self.close()
        else:
            try:
                for cells in self._rows:
                    self._rowno += 1
                    if not any(c is not None and (not isinstance(c, str) or c.strip()) for c in cells):
                        continue
                    yield self._rowno, cells
            except UserError:
                raise
            except Exception as exc:
                raise UserError(tr("{f} 第{n}行：无法读取（{x}）", "{f} row {n}: cannot be read ({x})",
                                   f=self.name, n=self._rowno + 1, x=type(exc).__name__)) from None
            finally:
                self.close()

    def close(self):
        import os

        fh = getattr(self, "_fh", None)
        if fh is not None:
            fh.close()
        wb = getattr(self, "_wb", None)
        if wb is not None:
            try:
                wb.close()
            except Exception:
                pass
        spool = getattr(self, "_spool", None)
        if spool is not None and os.getpid() == self._owner:  # never from a forked worker
            self._spool = None
            try:
                os.unlink(spool)
            except OSError:
                pass


# ---------------------------------------------------------------- writing

def write_csv(path, headers, rows, comment: str | None = None) -> None:
    """CSV in UTF-8 with BOM (Excel opens it correctly); ``comment`` as a first '#' line.

    ``path`` ``-`` writes to stdout."""
    if str(path) == "-":
        from core.output import check_stdout_encoding

        check_stdout_encoding()
        sys.stdout.write("\ufeff")
        _write_csv_rows(sys.stdout, headers, rows, comment)
        sys.stdout.flush()
        return
    from core.output import check_output_path, write_errors

    check_output_path(path)
    with write_errors(path), open_output(path, encoding="utf-8-sig") as fh:
        _write_csv_rows(fh, headers, rows, comment)


def _write_csv_rows(fh, headers, rows, comment):
    w = csv.writer(fh, lineterminator="\r\n")
    if comment:
        w.writerow([comment])
    w.writerow(headers)
    for r in rows:
        w.writerow([csv_cell(c) if c is not None else "" for c in r])


class Progress:
    """A progress bar on stderr when it is a terminal; silent otherwise."""

    def __init__(self, label: str, total: int | None):
        self.on = bool(getattr(sys.stderr, "isatty", lambda: False)())
        self.label = label
        self.total = total
        self.last = 0.0

    def update(self, n: int, force: bool = False):
        if not self.on:
            return
        import time

        now = time.monotonic()
        if not force and now - self.last < 0.2:
            return
        self.last = now
        if self.total:
            frac = min(1.0, n / self.total)
            bar = "#" * int(frac * 30)
            sys.stderr.write(f"\r{self.label} [{bar:<30}] {n}/{self.total}")
        else:
            sys.stderr.write(f"\r{self.label} {n}")
        sys.stderr.flush()

    def done(self):
        if self.on:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def bytes_io_text(data: bytes) -> io.StringIO:  # pragma: no cover - helper for callers
    return io.StringIO(data.decode("utf-8"))
