"""Excel and CSV in and out (导入导出): templates, import with row-level errors, export.

Library use: :func:`import_file` (returns an :class:`engine.Result`),
:func:`export_rows` (headers and rows of a kind in scope), :func:`write_export`,
:func:`write_template`.  The commands ``dangjian import / export / template``
are :mod:`core.cli.importing`.
The kinds, headers, value sets and natural keys are declared in :mod:`core.kinds`.
"""
from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal

from core import access, enums, kinds, records, validators
from core.errors import UserError
from core.fsmodes import open_output
from core.i18n import tr
from core.importing import files
from core.importing.engine import Result, run
from core.view import View

def check_kind(kind: str) -> str:
    """The name of the importable kind ``kind`` names; else a UserError listing the kinds.

    An old name still accepted (``leader_points``, now ``contact_points``) gives the kind's
    name now, with a warning on stderr that the old name will go away."""
    spec = kinds.get(kind, importable=True)  # raises a UserError listing the kinds
    if spec.name != kind:
        print(tr("提示：类型名 {o} 已改为 {n}，旧名称下一版本起不再接受",
                 "note: the kind {o} is now called {n}; the old name will not be accepted in the next release",
                 o=kind, n=spec.name), file=sys.stderr)
    return spec.name


def authorize(kind: str):
    """The current user, if they may write ``kind`` (an admin-only kind needs an administrator)."""
    p = access.current()
    p.require_write()
    if kinds.get(kind).admin_only:
        p.require_admin(tr("导入{k}", "import {k}", k=kind))
    return p


# ---------------------------------------------------------------- import

def authorize_correct(kind: str):
    """``import members --correct``: an administrator only, and for members only."""
    if kind != "members":
        raise UserError(tr("--correct 只用于 members（党员）导入", "--correct is for members imports only"))
    p = access.current()
    p.require_write()
    p.require_admin(tr("用 --correct 更正党员的组织或类别", "correct a member's organization or class with --correct"))
    return p


def import_file(kind: str, path, *, partial: bool = False, encoding: str | None = None,
                progress: bool = True, name: str | None = None, correct: bool = False) -> tuple[Result, object]:
    """Import ``path`` as ``kind``; returns (result, table).  Raises UserError for file-level problems.

    ``name`` is how messages name the file (default: the path).  ``correct`` (members, an
    administrator only): a row may change the organization or the management class of a
    member already on record, as a correction without history (audited as a correction);
    without it such a row is refused and names the kind that records the move."""
    kind = check_kind(kind)
    authorize(kind)
    if correct:
        authorize_correct(kind)
    table = files.Table(path, encoding, want_total=progress and sys.stderr.isatty(), name=name)
    if table.masked:
        table.close()
        raise UserError(tr("{f} 是身份号码已遮盖的导出文件，不能导入（会破坏数据）；请由有权查看完整身份号码的用户导出",
                           "{f} is an export with masked ID numbers and cannot be imported (it would corrupt "
                           "data); export it as a user allowed to see full ID numbers", f=path))
    bar = files.Progress(tr("导入 {k}", "importing {k}", k=kind), table.total) if progress else None
    try:
        res = run(kind, table, partial, bar, correct=correct)
    finally:
        table.close()
        if bar:
            bar.done()
    return res, table


# ---------------------------------------------------------------- export

def _cell(f: validators.Field, v, xlsx: bool, view: View, masked: bool, year: int):
    if v is None or v == "" or v == []:
        return None
    t = f.type
    if t in ("id",) or t.startswith("idref:"):
        return view.mask_id(v) if masked else v
    if f.personal and masked:
        return view.mask_phone(v)
    if f.name == "birth_date" and masked:
        return view.born(v, year)
    if t == "choice":
        return f.choice.label(v, "zh")
    if t == "bool":
        return "是" if v else "否"
    if t == "posts":
        return validators.format_posts(v)
    if t == "date":
        if isinstance(v, str):
            v = dt.date.fromisoformat(v[:10])
        return v if xlsx else v.isoformat()
    if t == "money":
        d = Decimal(str(v)).quantize(Decimal("0.01"))
        return d if xlsx else f"{d:.2f}"
    if t == "days":
        d = Decimal(str(v)).quantize(Decimal("0.1"))
        d = d.normalize() if d == d.to_integral_value() else d
        return (int(d) if d == d.to_integral_value() else d) if xlsx else format(d, "f")
    if t in ("int", "year"):
        return int(v)
    return str(v)


def export_rows(kind: str, town: str | None = None, community: str | None = None, xlsx: bool = False,
                view: View | None = None):
    """(headers, rows, masked) for ``kind`` in ``view`` (default: the current user's view narrowed
    to ``town`` / ``community``; an unknown name, or a narrowing outside the user's scope, is refused).

    A kind holding ID numbers or phones is masked for a user without full personal data (and
    the file then says it cannot be imported): ID numbers and phones masked, the age reached
    this year instead of a birth date, and a last column 标识 with the ``ref`` of each record
    (:meth:`core.view.View.ref` of its natural key), so records whose masked ID numbers
    coincide stay apart."""
    from core.dates import today

    check_kind(kind)
    view = view or View.of(None, town, community)
    spec = kinds.get(kind)
    specs = validators.fields(kind)
    masked = bool(spec.personal) and not view.full_personal_data
    year = today().year
    headers = [("年龄" if masked and f.name == "birth_date" else f.label) for f in specs]
    if masked:
        headers.append("标识")
    table = spec.model._meta.table_name
    rows = []
    source = _consultation_records() if kind == "consultations" else records.export_records(kind)
    for comm, rec in source:
        if not view.contains(comm):
            continue
        row = [_cell(f, rec.get(f.name), xlsx, view, masked, year) for f in specs]
        if masked:
            row.append(view.ref(table, *(rec.get(k) for k in spec.key)))
        rows.append(row)
    return headers, rows, masked


def _consultation_records():
    """``(community id, record)`` of every consultation: the unit is named by its community
    and its name (a unit's name is unique only inside its community)."""
    from core.models import Community, ResidentUnit, UnitConsultation

    codes = dict(Community.select(Community.id, Community.code).tuples())
    units = {i: (c, n) for i, c, n in ResidentUnit.select(ResidentUnit.id, ResidentUnit.community,
                                                         ResidentUnit.name).tuples()}
    for r in UnitConsultation.select().order_by(UnitConsultation.id).dicts().iterator():
        comm, name = units.get(r["unit"], (None, None))
        yield comm, dict(r, community=codes.get(comm), unit=name)


def _stdout_bytes(data: bytes) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def _refuse_xlsx_to_terminal() -> None:
    if sys.stdout.isatty():
        raise UserError(tr("XLSX 不能输出到终端：请重定向到文件（> 文件.xlsx）",
                           "XLSX cannot be written to a terminal: redirect stdout to a file (> FILE.xlsx)"))


def write_export(kind: str, path, town=None, community=None, fmt: str | None = None) -> tuple[int, bool]:
    """Write ``kind`` to ``path`` (``-``: stdout, CSV unless ``fmt`` is ``xlsx``)."""
    import io

    from core.server import check_output_path

    to_stdout = str(path) == "-"
    xlsx = (fmt == "xlsx") if to_stdout else files.is_xlsx(path)
    if xlsx and to_stdout:
        _refuse_xlsx_to_terminal()
    if not to_stdout:
        check_output_path(path)
    headers, rows, masked = export_rows(kind, town, community, xlsx=xlsx)
    if xlsx:
        from openpyxl import Workbook

        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        from core.output import xlsx_cells

        wb = Workbook(write_only=True)  # streams rows: 100k members in bounded memory
        ws = wb.create_sheet((f"{kind}（{files.MASK_MARK_ZH} {files.MASK_MARK_EN}）" if masked else kind)[:31])
        _column_widths(ws, validators.fields(kind))
        ws.freeze_panes = "A2"
        bold = Font(bold=True)
        head = []
        for h in headers:
            c = WriteOnlyCell(ws, value=h)
            c.font = bold
            head.append(c)
        ws.append(head)
        for r in rows:
            ws.append(xlsx_cells(ws, r))
        if to_stdout:
            buf = io.BytesIO()
            wb.save(buf)
            _stdout_bytes(buf.getvalue())
        else:
            from core.output import write_errors

            with write_errors(path), open_output(path, binary=True) as fh:
                wb.save(fh)
    else:
        files.write_csv(path, headers, rows, comment=files.MASK_COMMENT if masked else None)
    return len(rows), masked


# ---------------------------------------------------------------- template

def _width(f: validators.Field) -> int:
    from wcwidth import wcswidth

    width = max(wcswidth(f.label), 8)
    if f.type == "date":
        width = max(width, 12)
    elif f.type in ("id",) or f.type.startswith("idref:"):
        width = max(width, 21)
    elif f.type in ("text",) and (f.max_length or 0) >= 128:
        width = max(width, 24)
    elif f.type == "posts":
        width = max(width, 24)
    elif f.choice is not None:
        width = max(width, max(wcswidth(x) for x in f.choice.labels("zh")) + 2)
    return width + 2


def _column_widths(ws, specs):
    from openpyxl.utils import get_column_letter

    for i, f in enumerate(specs, start=1):
        ws.column_dimensions[get_column_letter(i)].width = _width(f)


SHEET_ROWS = 1048576  # rows of a sheet (Excel's limit): formats and drop-downs reach the last one


def _format_sheet(ws, specs, last_row: int, validation: bool = True):
    """Formats and drop-downs of whole columns (row 2 to the sheet's last row): text for ID numbers,
    codes and months, the date format for dates, two decimals for money, a list of the allowed
    values for value sets, 是/否 and posts.  The first ``max(last_row, 1000)`` rows carry the
    number format on each cell as well."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    last = max(last_row, 1000)
    bottom = SHEET_ROWS
    for i, f in enumerate(specs, start=1):
        col = get_column_letter(i)
        cell = ws.cell(row=1, column=i)
        cell.font = Font(bold=True)
        ws.column_dimensions[col].width = _width(f)
        fmt = None
        if f.type == "date":
            fmt = "yyyy-mm-dd"
        elif f.type == "money":
            fmt = "0.00"
        elif f.type in ("id", "text", "month") or f.type.startswith(("idref:", "ref:")):
            fmt = "@"
        if fmt and validation:
            ws.column_dimensions[col].number_format = fmt  # the whole column: a row typed below any formatted one
            for r in range(2, last + 1):
                ws.cell(row=r, column=i).number_format = fmt
        if validation:
            options = None
            if f.choice is not None and f.type == "choice":
                options = f.choice.labels("zh")
            elif f.type == "bool":
                options = ["是", "否"]
            elif f.type == "posts":
                options = enums.POST.labels("zh")
            if options:
                dv = DataValidation(type="list", formula1='"' + ",".join(options) + '"', allow_blank=True)
                if f.type == "posts":  # several posts joined by 、 are allowed too
                    dv.showErrorMessage = False
                else:
                    dv.showErrorMessage = True
                    dv.errorTitle = "取值不对"
                    dv.error = "可选：" + "/".join(options)
                dv.promptTitle = f.label
                dv.prompt = ("可选：" + "/".join(options))[:255]
                dv.showInputMessage = True
                ws.add_data_validation(dv)
                dv.add(f"{col}2:{col}{bottom}")
            elif f.type == "date":
                dv = DataValidation(type="date", operator="greaterThan", formula1="1", allow_blank=True)
                dv.showErrorMessage = True
                dv.error = "请填写日期 YYYY-MM-DD"
                ws.add_data_validation(dv)
                dv.add(f"{col}2:{col}{bottom}")
    ws.freeze_panes = "A2"


TYPE_ZH = {
    "text": "文字", "date": "日期 YYYY-MM-DD", "month": "月份 YYYY-MM", "bool": "是/否", "money": "金额（元，最多两位小数，不能为负）",
    "int": "整数", "year": "年度（四位数字）", "days": "天数（大于0，最多一位小数）", "id": "公民身份号码（18位）",
    "posts": "职务（多个用“、”分隔）",
}


def _type_zh(f: validators.Field) -> str:
    if f.type == "choice":
        return "可选：" + "/".join(f.choice.labels("zh"))
    if f.type.startswith("idref:"):
        who = "党员" if f.type.endswith("member") else "社区工作者"
        return f"已有{who}的公民身份号码"
    if f.type.startswith("ref:"):
        return "已有的" + kinds.ref_kind(f.target).ref[2]
    if f.type == "posts":
        return TYPE_ZH["posts"] + "：" + "/".join(enums.POST.labels("zh"))
    return TYPE_ZH.get(f.type, f.type)


def write_template(kind: str, path, fmt: str | None = None) -> None:
    """An empty template of ``kind`` at ``path`` (``-``: stdout, CSV unless ``fmt`` is ``xlsx``)."""
    import io

    from core.server import check_output_path

    specs = validators.fields(check_kind(kind))
    headers = [f.label for f in specs]
    to_stdout = str(path) == "-"
    xlsx = (fmt == "xlsx") if to_stdout else files.is_xlsx(path)
    if not xlsx:
        files.write_csv(path, headers, [])
        return
    if to_stdout:
        _refuse_xlsx_to_terminal()
    else:
        check_output_path(path)
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = kind
    ws.append(headers)
    _format_sheet(ws, specs, 1, validation=True)
    info = wb.create_sheet("说明")
    info.append(["列名", "English", "是否必填", "可否省略此列", "是否为关键字段", "取值与格式", "说明"])
    for f in specs:
        info.append([f.label, f.en, "必填" if f.required else "可空", "可省略" if f.optional_column else "必须有此列",
                     "是" if f.key else "", _type_zh(f), f.help])
    info.append([])
    keys = "、".join(f.label for f in specs if f.key)
    notes = [
        f"关键字段（{keys}）相同的行视为同一条记录：再次导入会更新该记录，内容相同则不变。",
        "第一行是表头，请勿修改；从第二行起每行一条记录。空单元格表示“不知道”或“不适用”。",
        "日期写作 YYYY-MM-DD（也可以是 Excel 日期单元格）；月份写作 YYYY-MM；是/否 两选一；金额单位为元，最多两位小数。",
        "身份号码、编码请按文本填写（本模板已设为文本格式），避免 Excel 把它们变成数字。",
        "导入时任何一行有错误，默认全部不写入；加 --partial 只写入正确的行，错误的行另存为 .rejects.csv。",
    ]
    for n in notes:
        info.append([n])
    for row in info.iter_rows(min_row=1, max_row=1):
        for c in row:
            c.font = Font(bold=True)
    for col, w in zip("ABCDEFG", (16, 18, 10, 14, 14, 40, 60)):
        info.column_dimensions[col].width = w
    for row in info.iter_rows(min_row=2):
        for c in row:
            c.alignment = Alignment(wrap_text=True, vertical="top")
    if to_stdout:
        buf = io.BytesIO()
        wb.save(buf)
        _stdout_bytes(buf.getvalue())
    else:
        from core.output import write_errors

        with write_errors(path), open_output(path, binary=True) as fh:
            wb.save(fh)
