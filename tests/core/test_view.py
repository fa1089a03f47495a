"""core.view: one view of what a user sees and writes — scope, masking, ref, and writes
refused outside the view exactly like references to nothing."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest

from core import access, ids, records
from core.access import Principal
from core.errors import AccessDenied, UserError
from core.models import Member, Worker
from core.view import View

MASKED = Principal("clerk", "city", "city", read_only=False, full_personal_data=False)
FULL = Principal("chief", "city", "city", read_only=False, full_personal_data=True)
# two members whose masked ID numbers coincide: same area code, same sequence digits
TWINS = (ids.make("320583", dt.date(1971, 1, 2), 536), ids.make("320583", dt.date(1990, 8, 9), 536))


@pytest.fixture
def city(dangjian_city):
    branch = dangjian_city.orgs["BC01-ZB"]
    for i, number in enumerate(TWINS):
        Member.create(id_number=number, name=f"双胞{i}", sex="M", birth_date=ids.birth_date(number),
                      joined_date=dt.date(2005, 7, 1), full_date=dt.date(2006, 7, 1), organization=branch,
                      community=branch.community_id, management_class="resident", phone=f"1365555{i:04d}",
                      dues_class="employed")
    return dangjian_city


def _personal():
    """Every full ID number, phone and birth date (YYYY-MM-DD) of the city's people."""
    out = set()
    for model in (Member, Worker):
        for number, phone, birth in model.select(model.id_number, model.phone, model.birth_date).tuples():
            out |= {number, ids.birth_date(number).isoformat()} | ({phone} if phone else set())
            if birth:
                out.add(birth.isoformat())
    return out


def _assert_clean(text: str, where: str):
    leaked = sorted(x for x in _personal() if x in text)
    assert not leaked, (where, leaked)


def _run(principal, argv, capsys):
    from core.cli import main

    access.set_current(principal)
    capsys.readouterr()
    code = main(argv)
    out = capsys.readouterr()
    access.set_current(None)
    return code, out.out, out.err


# ---------------------------------------------------------------- the forms

def test_masked_forms():
    masked, full = View(MASKED, None), View(FULL, None)
    assert masked.mask_id("320583198001015368") == "320583********536*"  # birth date and check character hidden
    assert masked.mask_id("32058319800101536X") == "320583********536*"
    assert masked.mask_phone("13812345678") == "138****5678"
    assert masked.born(dt.date(1980, 12, 31), 2026) == 46  # the age reached in the year: year − birth year
    assert masked.born("1980-01-01", 2026) == 46
    assert masked.mask_text("张伟 320583198001015368 13812345678") == "张伟 320583********536* 138****5678"
    assert masked.mask_values({"id_number": "320583198001015368", "phone": "13812345678",
                               "birth_date": "1980-01-01", "name": "张伟"}, 2026) == {
        "id_number": "320583********536*", "phone": "138****5678", "birth_date": 46, "name": "张伟"}
    assert not masked.allows_id_prefix_search and full.allows_id_prefix_search
    assert full.mask_id("320583198001015368") == "320583198001015368"
    assert full.born(dt.date(1980, 1, 1), 2026) == dt.date(1980, 1, 1)


def test_narrowing(city):
    admin = View.of(FULL)
    assert admin.everything and len(admin.communities()) == 2
    bc = View.of(FULL, town="巴城镇")
    assert [c.code for c in bc.communities()] == ["BC01"] and not bc.everything
    assert bc.scoped(Member.select(), Member.community).count() == bc.select(Member).count() == 6
    with pytest.raises(UserError):
        View.of(FULL, town="无此镇")
    with pytest.raises(UserError):
        View.of(FULL, community="XX99")
    clerk = Principal("c", "community", "BC01", False, False)
    with pytest.raises(AccessDenied):
        View.of(clerk, community="YS01")


# ---------------------------------------------------------------- outputs of a masked user

def _check_json(principal, capsys, *argv):
    code, out, err = _run(principal, ["check", "--all", "--year", "2025", "--format", "json", *argv], capsys)
    assert code in (0, 1), err
    return out, json.loads(out)


def test_check_json_and_csv_masked_with_refs(city, capsys, tmp_path):
    out, findings = _check_json(MASKED, capsys)
    _assert_clean(out, "check json")
    masked_twin = ids.mask(TWINS[0])
    assert masked_twin == ids.mask(TWINS[1]) and masked_twin in out
    assert all(re.fullmatch(r"[0-9a-f]{12}", f["ref"]) for f in findings)
    # the twins' findings of one rule: the same masked subject, two different refs
    twins = [f for f in findings if f["subject"] == masked_twin]
    by_rule: dict = {}
    for f in twins:
        by_rule.setdefault(f["rule"], set()).add(f["ref"])
    assert by_rule and all(len(refs) == 2 for refs in by_rule.values())
    # stable across runs (and the same for a user who sees everything)
    _, again = _check_json(MASKED, capsys)
    assert [f["ref"] for f in again] == [f["ref"] for f in findings]
    out_full, full = _check_json(FULL, capsys, "--no-store")
    assert TWINS[0] in out_full
    refs_full = {(f["rule"], f["ref"]) for f in full if f["subject"] in TWINS}
    assert refs_full == {(f["rule"], f["ref"]) for f in twins}
    # CSV: 标识 is the last column, the same refs
    path = tmp_path / "check.csv"
    code, _out, err = _run(MASKED, ["check", "--all", "--year", "2025", "--format", "csv", "--output", str(path)],
                           capsys)
    text = path.read_bytes().decode("utf-8-sig")
    _assert_clean(text, "check csv")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][-1] == "标识" and sorted(r[-1] for r in rows[1:]) == sorted(f["ref"] for f in findings)


def test_stored_findings_are_shown_through_the_view(city, capsys):
    """A run stored by a user who sees everything, read on the compliance screen by one who does not."""
    from core.read import compliance
    from core.rules import run_check

    access.set_current(FULL)
    result = run_check(year=city.year, principal=FULL, store=True)
    twin_rule = next(f.rule for f in result.findings if f.subject == TWINS[0])
    access.set_current(MASKED)
    rows = compliance.cell_findings(View.of(MASKED), result.run_id, twin_rule, "BC01")
    _assert_clean(json.dumps(rows, ensure_ascii=False, default=str), "cell findings")
    twins = [r for r in rows if r["subject"] == ids.mask(TWINS[0])]
    assert len(twins) == 2 and len({r["ref"] for r in twins}) == 2
    access.set_current(None)


def test_reports_scorers_audit_and_export_masked(city, capsys, tmp_path):
    from core import plugins

    # an audited change with personal data in it
    access.set_current(FULL)
    records.create(Member, {"id_number": ids.make("320583", dt.date(1966, 6, 6), 777), "name": "新党员",
                            "joined_date": "2010-01-01", "organization": city.orgs["BC01-ZB"].id,
                            "phone": "13700001111"})
    reg = plugins.get().registry
    for name, rep in sorted(reg.reports.items()):
        fmt = "json" if "json" in (rep.formats or ()) else "html"
        code, out, err = _run(MASKED, ["report", name, "--year", "2025", "--community", "BC01", "--format", fmt],
                              capsys)
        assert code in (0, 1), (name, err)
        _assert_clean(out, f"report {name}")
    code, out, err = _run(MASKED, ["report", "roster", "--year", "2025", "--format", "json"], capsys)
    assert "138****" in out  # phones shown masked, not dropped
    for name in reg.scorer_names():
        code, out, err = _run(MASKED, ["score", name, "--year", "2025", "--format", "json"], capsys)
        assert code in (0, 1), (name, err)
        _assert_clean(out, f"score {name}")
    code, out, err = _run(MASKED, ["audit", "--format", "json"], capsys)
    assert code == 0, err
    _assert_clean(out, "audit")
    assert "320583********777*" in out and "137****1111" in out
    for kind in ("members", "workers", "dues", "attendance", "trainings"):
        path = tmp_path / f"{kind}.csv"
        code, _out, err = _run(MASKED, ["export", kind, str(path)], capsys)
        assert code == 0, err
        text = path.read_bytes().decode("utf-8-sig")
        _assert_clean(text, f"export {kind}")
        rows = [r for r in csv.reader(io.StringIO(text)) if r and not r[0].startswith("#")]
        assert rows[0][-1] == "标识" and len({r[-1] for r in rows[1:]}) == len(rows) - 1, kind
        if kind == "members":
            assert "年龄" in rows[0] and "出生日期" not in rows[0]
            twins = [r for r in rows[1:] if ids.mask(TWINS[0]) in r]
            assert len(twins) == 2 and twins[0][-1] != twins[1][-1]
        # a masked export is still refused on import
        access.set_current(FULL)
        with pytest.raises(UserError):
            from core.importing import import_file

            import_file(kind, path, progress=False)
        access.set_current(None)


def test_member_search_and_pages_for_a_masked_user(city):
    from core.read import members

    masked = View.of(MASKED)
    f = members.MemberFilter(masked, text=TWINS[0][:10], status="all")
    assert members.member_count(f) == 0  # no ID-prefix search beyond the area code shown
    rows = members.member_page(members.MemberFilter(masked, text="320583", status="all"))
    assert rows and not {r[3] for r in rows} & _personal()
    d = members.member_detail(masked, Member.get(Member.id_number == TWINS[1]).id, 2026)
    assert d["born"] == 2026 - 1990 and d["member"].birth_date is None
    assert d["member"].id_number == ids.mask(TWINS[1]) and "*" in d["member"].phone


# ---------------------------------------------------------------- writes outside the view

def test_references_outside_the_view_are_refused_like_unknown_ones(city):
    clerk = View.of(Principal("c", "community", "BC01", False, True))
    outside_member = city.members["陈静"]  # 玉山镇
    outside_worker = city.workers["徐刚"]
    unknown = ids.make("110105", dt.date(1977, 7, 7), 123)

    def errors(kind, raw):
        res = records.save(kind, raw, view=clerk)
        assert res.status == "invalid", res
        return [(name, msg.replace(str(raw[name]), "?")) for name, msg in res.errors]

    for kind, field, outside, extra in (
            ("dues", "member", outside_member.id_number, {"month": "2025-03", "due": "1.00"}),
            ("trainings", "worker", outside_worker.id_number, {"title": "党课", "level": "city",
                                                                "start_date": "2025-03-01", "days": "1"}),
            ("meetings", "organization", "YS01-ZB", {"code": "M1", "type": "assembly", "date": "2025-03-01"})):
        assert errors(kind, {field: outside, **extra}) == errors(kind, {field: unknown, **extra}), kind
    # the write path itself, given ids
    from core.models import DuesPayment

    with pytest.raises(records.RecordInvalid) as out:
        records.create(DuesPayment, {"member": outside_member.id, "month": "2025-03", "due": "1.00"}, view=clerk)
    with pytest.raises(records.RecordInvalid) as none:
        records.create(DuesPayment, {"member": 987654, "month": "2025-03", "due": "1.00"}, view=clerk)
    assert out.value.errors == [("member", records.not_found(outside_member.id))]
    assert none.value.errors == [("member", records.not_found(987654))]


# ---------------------------------------------------------------- one home

def test_the_other_copies_are_gone():
    from core import audit, rules, scoring
    from core.read import compliance, members, organizations, records as read_records, workers
    from core.rules import ScopedContext

    gone = {access: ("scope_query", "show_id", "show_phone"), audit: ("scoped", "mask_values"),
            **{m: ("scope_ids", "scoped", "in_scope", "mask_ids_in", "_mask_evidence", "as_view")
               for m in (compliance, members, organizations, read_records, workers)},
            rules: ("scope_communities",), scoring: ("resolve_scope", "Scope"),
            records: ("scoped", "scope_condition", "_global_readable"),
            ScopedContext: ("show_id", "show_phone", "full_personal_data")}
    for module, names in gone.items():
        for name in names:
            assert not hasattr(module, name), (module, name)
    assert access.Principal("a").__class__.__dict__.get("in_scope") is None
    assert members.View is View and records.View is View  # everything reads and writes through the one view
