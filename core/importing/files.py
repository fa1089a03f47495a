"""Reading and writing the table files of SPEC §5: ``.xlsx`` and ``.csv``.

CSV is read as UTF-8, UTF-8 with BOM or GBK (detected; ``--encoding``
overrides) and streamed row by row; ``.xlsx`` through openpyxl's read-only
mode (the first sheet).  Rows come out as ``(row_number, cells)`` with the
row number as Excel numbers it (the header is row 1).
"""
from __future__ import annotations

import codecs
import csv
import io
import sys
import zipfile
from pathlib import Path

from core.errors import UserError
from core.i18n import tr

MASK_MARK_ZH = "已遮盖"
MASK_MARK_EN = "masked"
MASK_COMMENT = "# 身份号码和电话已遮盖（masked: ID numbers and phones），本文件不能导入 / this file cannot be imported"

csv.field_size_limit(1 << 20)


def is_xlsx(path) -> bool:
    return str(path).lower().endswith((".xlsx", ".xlsm"))


def detect_encoding(path: Path) -> str:
    """'utf-8-sig' (BOM), 'utf-8' or 'gbk'; a file that is none of them is refused."""
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
                       f=path))


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


def spool_stdin(stream=None, limit: int | None = None) -> Path:
    """Read standard input completely into a private temporary file (before any lock is taken).

    The file is named ``.xlsx`` when the data starts with the zip signature, else
    ``.csv``; more than ``limit`` bytes is refused.  The caller deletes the file.
    """
    import os
    import tempfile

    limit = max_bytes() if limit is None else limit
    stream = stream if stream is not None else sys.stdin.buffer
    fd, tmp = tempfile.mkstemp(prefix="dangjian-stdin-")  # mode 0600
    total = 0
    head = b""
    try:
        with os.fdopen(fd, "wb") as out:
            while True:
                block = stream.read(1 << 20)
                if not block:
                    break
                total += len(block)
                if total > limit:
                    raise _too_large("stdin", limit)
                if len(head) < 4:
                    head = (head + block)[:4]
                out.write(block)
        final = tmp + (".xlsx" if head == ZIP_SIGNATURE else ".csv")
        os.replace(tmp, final)
        return Path(final)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class Table:
    """An opened input file: ``header`` (list of str, row ``header_row``) and ``rows()``.

    ``name`` is how row messages name the file (``stdin`` for a spooled stdin).
    Only regular files are read (a FIFO or a device is refused), at most
    ``[import] max_bytes``.
    """

    def __init__(self, path, encoding: str | None = None, want_total: bool = False, name: str | None = None):
        import os
        import stat

        self.path = Path(path)
        self.name = name or str(path)
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise UserError(tr("找不到文件 {f}", "file not found: {f}", f=self.name)) from None
        except OSError as exc:
            raise UserError(tr("无法读取 {f}：{e}", "cannot read {f}: {e}", f=self.name, e=exc.strerror or exc)) from None
        if stat.S_ISDIR(st.st_mode):
            raise UserError(tr("{f} 是文件夹，不是文件", "{f} is a folder, not a file", f=self.name))
        if not stat.S_ISREG(st.st_mode):
            raise UserError(tr("{f} 不是普通文件（管道或设备请用 - 从标准输入读取）",
                               "{f} is not a regular file (for a pipe, read it from stdin with -)", f=self.name))
        limit = max_bytes()
        if st.st_size > limit:
            raise _too_large(self.name, limit)
        if not os.access(self.path, os.R_OK):
            raise UserError(tr("无法读取 {f}：没有读取权限", "cannot read {f}: permission denied", f=self.name))
        self.total = None
        self.masked = False
        if is_xlsx(path):
            self._open_xlsx(want_total)
        else:
            self._open_csv(encoding, want_total)

    # ------------------------------------------------------------ csv
    def _open_csv(self, encoding, want_total):
        enc = encoding or detect_encoding(self.path)
        if enc.lower().replace("_", "-") in ("gbk", "gb2312", "cp936"):
            enc = "gb18030"  # a superset: what Excel calls GBK
        try:
            codecs.lookup(enc)
        except LookupError:
            raise UserError(tr("未知编码 {e}", "unknown encoding {e}", e=encoding)) from None
        self.encoding = enc
        self._fh = open(self.path, "r", encoding=enc, newline="", errors="strict")
        self._reader = csv.reader(self._fh)
        self._rowno = 0
        if want_total:
            self.total = count_lines(self.path)
        self.header = None
        try:
            for cells in self._reader:
                self._rowno += 1
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
        except (UnicodeDecodeError, csv.Error) as exc:
            self.close()
            raise self._bad(exc) from None
        if self.header is None:
            self.close()
            raise UserError(tr("{f} 是空文件：没有表头行", "{f} is empty: no header row", f=self.name))

    def _bad(self, exc):
        if isinstance(exc, UnicodeDecodeError):
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
            self._wb = load_workbook(self.path, read_only=True, data_only=True)
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
                for cells in self._reader:
                    n += 1
                    if not "".join(cells).strip():
                        continue
                    self._rowno = n
                    yield n, cells
                self._rowno = n
            except (UnicodeDecodeError, csv.Error) as exc:
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
        fh = getattr(self, "_fh", None)
        if fh is not None:
            fh.close()
        wb = getattr(self, "_wb", None)
        if wb is not None:
            try:
                wb.close()
            except Exception:
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
    from core.server import check_output_path

    check_output_path(path)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        _write_csv_rows(fh, headers, rows, comment)


def _write_csv_rows(fh, headers, rows, comment):
    w = csv.writer(fh, lineterminator="\r\n")
    if comment:
        w.writerow([comment])
    w.writerow(headers)
    for r in rows:
        w.writerow(["" if c is None else c for c in r])


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
