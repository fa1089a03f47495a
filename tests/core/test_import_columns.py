"""The importer's column-at-once parsing gives exactly what parsing cell by cell gives.

``engine.parse_items`` parses a block of rows column by column, taking the
common cell shapes in one pass (engine._column_fast) and leaving anything else
to the field's own parser.  The reference below is the per-cell loop it
replaced: for every kind and random cells (valid shapes, near misses, garbage,
short and long rows, xlsx-like non-text cells) both must give the same records,
the same errors in the same order, and the same duplicates.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import ids, kinds, validators
from core.i18n import tr
from core.importing import engine
from core.validators import FieldError
from tests.core.import_fixtures import M1, TODAY, W1

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def reference(kind, rows, colmap, present, key_names, labels):
    """The per-cell parse (the engine's loop before column parsing)."""
    parsers = engine._parsers(colmap)
    width = max((i for i, _ in colmap), default=-1) + 1
    seen = {}
    out = []
    for rowno, cells in rows:
        rec, errors = {}, []
        n = len(cells)
        for idx, f, name, required, parse in parsers:
            raw = cells[idx] if idx < n else None
            if raw is None or raw == "":
                val = None
            else:
                try:
                    val = parse(raw)
                except FieldError as exc:
                    errors.append((name, str(exc)))
                    continue
            if required and (val is None or val == []):
                errors.append((name, tr("必填", "required")))
                continue
            rec[name] = val
        if n > width and any(c not in (None, "") and str(c).strip() for c in cells[width:]):
            errors.append(("", tr("有表头以外的内容", "has cells beyond the last column")))
        bad = {n for n, _ in errors}
        errors.extend(e for e in validators.cross_check(kind, rec, present - bad) if e[0] not in bad)
        if not bad.intersection(key_names):
            k = tuple("" if rec.get(x) is None else rec.get(x) for x in key_names)
            if k in seen:
                errors.append((key_names[0], tr("与第{n}行重复（{k}）", "duplicate of row {n} ({k})", n=seen[k],
                                                k="/".join(labels.get(x, x) for x in key_names))))
            else:
                seen[k] = rowno
        out.append((rowno, rec, errors))
    return out


def columns(kind, rows, colmap, present, key_names, labels, block):
    return [(it.rowno, it.rec, it.errors)
            for it in engine.parse_items(kind, rows, colmap, present, {}, key_names, labels, block=block)]


def _ids():
    out = [M1, W1, M1.lower(), " " + M1 + " "]
    for i, (y, m, d) in enumerate([(1950, 1, 1), (1999, 12, 31), (2000, 2, 29), (1900, 1, 1)]):
        out.append(ids.make("320583", dt.date(y, m, d), i))
    good = ids.make("320583", dt.date(1980, 5, 6), 7)
    out += [good[:17] + ("0" if good[17] != "0" else "1"),  # wrong check character
            "320583189912310018", "32058320230230001X", "３２０５８３１９８０" + good[10:],  # fullwidth digits
            good[:17], good + "1", "320583*******0011", "32058319800506007x"]
    return out


SHAPES = ["", " ", "是", "否", "yes", "0", "2024-01-01", "2024-1-1", "2024/01/02", "2099-01-01", "2024-02-30",
          "1899-12-31", "1900-01-01", "2024-W01-1", "20240101", "-1", "0", "-0", "1.005", "12.5", "1.230", "1e2",
          "1E+2", "1_000", " 12 ", "NaN", "sNaN", "inf", "1e13", "12,000", "¥5", "O2", "O1", "C001", "C002",
          "MT1", "党支部", "党委", "正式党员", "预备党员", "社区党员", "流入党员", "在职党员", "出席", "请假",
          "2024-01", "X" * 70, "王" * 65, "a\x00b", "0123", "党组织书记、居委会主任", " 社区党员 ", "full", "本科"]

cell = st.one_of(st.sampled_from(SHAPES), st.sampled_from(_ids()), st.text(max_size=8),
                 st.sampled_from([None, 5, 2.5, 3.0, True, dt.date(2024, 1, 1), dt.datetime(2023, 5, 6, 7, 8),
                                  Decimal("1.5")]))


def _plausible(f):
    """Mostly well-formed text for field ``f`` (so that whole columns take the fast path), some near misses."""
    t = f.type
    if t == "choice":
        good = list(f.choice.labels("zh")) + list(f.choice.codes)
    elif t == "date":
        good = ["2001-07-01", "1990-02-28", "2024-06-30", "2024-07-01", "1900-01-01", "", "2000-02-29"]
    elif t == "bool":
        good = ["是", "否", "否", ""]
    elif t == "id" or t.startswith("idref:"):
        good = _ids()[:8] + [M1, W1, ids.make("320583", dt.date(1899, 12, 31), 1),
                             ids.make("320583", dt.date(2024, 7, 1), 2), ids.make("320583", dt.date(2024, 6, 30), 3)]
    elif t == "money":
        good = ["3000.00", "12.5", "0", "999999999999.99", "1000000000000", "7", "1.005", "-3", "1.230", "5E+1"]
    elif t.startswith("ref:"):
        good = ["O1", "O2", "C001", "C002", "MT1", ""]
    else:
        good = ["王伟", "张三", "", " 李四 ", "a" * (f.max_length or 10)]
    return st.one_of(st.sampled_from(good), st.sampled_from(good), st.sampled_from(good), st.sampled_from(SHAPES))


def _kind_rows(kind, data):
    colmap = [(i, f) for i, f in enumerate(validators.fields(kind))]
    width = len(colmap)
    n = data.draw(st.integers(1, 12))
    rows = []
    for r in range(n):
        shape = data.draw(st.sampled_from(["plausible", "plausible", "text", "any", "copy"]))
        if shape == "copy" and rows:  # duplicates of earlier rows
            rows.append((r + 2, list(data.draw(st.sampled_from(rows))[1])))
            continue
        length = data.draw(st.sampled_from([width, width, width, max(width - 2, 0), width + 1]))
        if shape == "plausible":
            row = [data.draw(_plausible(f)) for _, f in colmap][:length]
            row += [data.draw(st.sampled_from(["", "x"])) for _ in range(length - len(row))]
        else:
            strat = st.one_of(st.sampled_from(SHAPES), st.sampled_from(_ids())) if shape == "text" else cell
            row = [data.draw(strat) for _ in range(length)]
        rows.append((r + 2, row))
    return colmap, rows


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setenv("DANGJIAN_TODAY", TODAY)


@SETTINGS
@given(kind=st.sampled_from(sorted(k.name for k in kinds.BUILTIN_LIST if k.importable)), data=st.data(), block=st.sampled_from([1, 3, 2000]))
def test_column_parsing_equals_cell_parsing(today, kind, data, block):
    colmap, rows = _kind_rows(kind, data)
    present = {f.name for _, f in colmap}
    labels = {f.name: f.label for _, f in colmap}
    key_names = [f.name for f in validators.fields(kind) if f.key]
    want = reference(kind, rows, colmap, present, key_names, labels)
    got = columns(kind, rows, colmap, present, key_names, labels, block)
    assert [(r, e) for r, _, e in got] == [(r, e) for r, _, e in want]
    for (_, g, _), (_, w, _) in zip(got, want):
        assert g == w
        assert [type(v) for v in g.values()] == [type(v) for v in w.values()]
        assert list(g) == list(w)  # same key order too


def test_members_block_of_good_rows_takes_the_column_path(today):
    """A clean block: every column of the members file parses in one pass (no per-cell fallback)."""
    fields_ = validators.fields("members")
    parsers = [(f, validators.parser_for(f)) for f in fields_]
    ident = [ids.make("320583", dt.date(1960 + i, 1 + i % 12, 1 + i % 28), i) for i in range(20)]
    cols = {"name": ["王伟"] * 20, "id_number": ident, "joined_date": ["2001-07-01"] * 20,
            "status": ["正式党员"] * 20, "organization": ["O2"] * 20, "management_class": ["社区党员"] * 20,
            "retired": ["是", "否"] * 10, "mobility_impaired": ["否"] * 20, "registered_date": [""] * 20,
            "monthly_income": ["3000.00", "12.5"] * 10}
    for f, parse in parsers:
        if f.name not in cols:
            continue
        vals = engine._column_fast(f, parse)(cols[f.name])
        assert vals is not None and engine._REDO not in vals, f.name
        assert vals == [None if c == "" else parse(c) for c in cols[f.name]], f.name


def _base13_fake(head17: str) -> str:
    """A string the base-13 check accepts although it is not all digits (letters a–c are base-13 digits)."""
    return head17 + ids.CHECK_CHARS[2 * int(head17, 13) % 11]


def test_each_column_fast_path_agrees_with_the_field_parser(today):
    """Every field of every kind: a clean column with one odd cell — each value the column path gives
    (not left to the per-cell parser) is the per-cell parser's value; the odd cell never slips through."""
    odd = SHAPES + _ids() + ["1.005", "2.345", "1e2", "-0.01", "1000000000000.00", "999999999999.994",
                             ids.make("320583", dt.date(1899, 12, 31), 1), ids.make("320583", dt.date(2024, 7, 1), 2),
                             _base13_fake("3205831980050a011"), _base13_fake("32058319800506b01")]
    checked = 0
    for kind in sorted(k.name for k in kinds.BUILTIN_LIST if k.importable):
        for f in validators.fields(kind):
            parse = validators.parser_for(f)
            fast = engine._column_fast(f, parse)
            if fast is None:
                continue
            clean = [c for c in odd if isinstance(c, str) and c.strip()]
            clean = [c for c in clean if _ok(parse, c)][:3] or ["x"]
            for value in odd:
                col = clean + [value] + clean
                vals = fast(list(col))
                if vals is None:
                    continue
                assert len(vals) == len(col)
                for raw, v in zip(col, vals):
                    if v is engine._REDO:
                        continue
                    want = None if raw in (None, "") else parse(raw)  # must not raise: the fast path took it
                    assert v == want and type(v) is type(want), (kind, f.name, raw, v, want)
                    checked += 1
    assert checked > 1000


def _ok(parse, raw):
    try:
        return parse(raw) is not None
    except FieldError:
        return False


def test_audit_json_is_the_reference_text():
    """audit.to_json's fast encoders write what json.dumps(sort_keys, ensure_ascii=False, default) writes."""
    import json

    from core import audit

    samples = [
        {"b": dt.date(2024, 1, 2), "a": Decimal("1.50"), "c": "中\"\n\\", "d": None, "e": True, "f": 1.5, "g": 3},
        {"at": dt.datetime(2024, 1, 2, 3, 4, 5), "m": Decimal("0.00")},  # datetime: ISO with T, not str()
        {"posts": ["secretary", "director"], "post_date": "2024-01-01", "n": 0},
        {"nested": {"z": dt.date(2020, 1, 1), "y": [Decimal("2"), None]}, "k": float("inf")},
        {}, {"x": b"bytes"}, {2: "int key", 1: dt.date(2020, 5, 6)},
    ]
    for values in samples:
        want = json.dumps(values, ensure_ascii=False, sort_keys=True, default=audit._default)
        assert audit.to_json(values) == want
    assert audit.to_json(None) is None
