"""core.records: the single-record write path — scope, read-only, optimistic locking, audit, validation."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from core import access, audit, records
from core.access import Principal
from core.errors import AccessDenied, StaleEdit, UserError
from core.ids import make
from core.models import (AuditLog, Attendance, Community, DuesPayment, EntryItem, Meeting, Member, Organization,
                         Street, Town, UrbanWage, Visit, Worker)


def build_tree():
    """Two towns; town A has street S with communities A1, A2; town B has B1. One branch and members each."""
    ta = Town.create(name="甲镇")
    tb = Town.create(name="乙镇")
    s = Street.create(town=ta, name="东街道")
    out = {"towns": {"A": ta, "B": tb}, "street": s, "comm": {}, "org": {}, "member": {}}
    for i, (code, town, street) in enumerate([("A1", ta, s), ("A2", ta, None), ("B1", tb, None)]):
        c = Community.create(code=code, name=f"{code}社区", town=town, street=street)
        o = Organization.create(code=f"O-{code}", name=f"{code}党支部", kind="branch", community=c)
        m = Member.create(id_number=make("320583", dt.date(1970, 1, 1), 10 + i * 2 + 1), name=f"党员{code}",
                          joined_date=dt.date(2000, 1, 1), full_date=dt.date(2001, 1, 1), organization=o,
                          community=c, phone="13812345678")
        out["comm"][code] = c
        out["org"][code] = o
        out["member"][code] = m
    return out


def as_user(role, scope, read_only=False, full=False, login=None):
    p = Principal(login or f"u_{role}_{scope}".replace("/", "_"), role, scope, read_only, full)
    access.set_current(p)
    return p


@pytest.fixture
def tree(dangjian_db):
    access.set_current(Principal("admin1", "admin", "city"))
    return build_tree()


def test_create_update_delete_audited(tree):
    as_user("community", "A1", login="alice")
    org = tree["org"]["A1"]
    m = records.create(Meeting, {"code": "M1", "organization": org.id, "type": "assembly",
                                 "date": "2024-03-01", "topic": "学习"})
    assert m.version == 1 and m.date == dt.date(2024, 3, 1)
    m2 = records.update(Meeting, m.id, {"topic": "学习二十大"}, version=1)
    assert m2.version == 2 and m2.topic == "学习二十大"
    records.delete(Meeting, m.id, version=2)
    assert Meeting.get_or_none(Meeting.id == m.id) is None
    rows = list(AuditLog.select().where(AuditLog.table == "meeting").order_by(AuditLog.id))
    assert [r.action for r in rows] == ["create", "update", "delete"]
    assert all(r.user == "alice" and r.key == str(m.id) for r in rows)
    assert all(r.community == tree["comm"]["A1"].id for r in rows)
    assert json.loads(rows[1].old) == {"topic": "学习"} and json.loads(rows[1].new) == {"topic": "学习二十大"}
    assert json.loads(rows[0].new)["code"] == "M1" and rows[0].old is None
    assert json.loads(rows[2].old)["topic"] == "学习二十大" and rows[2].new is None
    hist = records.history(Meeting, m.id)
    assert [h["action"] for h in hist] == ["create", "update", "delete"]


def test_stale_edit_keeps_both_values_and_overwrites_nothing(tree):
    as_user("admin", "city")
    m = tree["member"]["A1"]
    records.update(Member, m.id, {"work_unit": "甲厂"}, version=1)  # someone else saved first
    with pytest.raises(StaleEdit) as err:
        records.update(Member, m.id, {"work_unit": "乙厂"}, version=1)
    assert err.value.mine == {"work_unit": "乙厂"}
    assert err.value.theirs["work_unit"] == "甲厂" and err.value.theirs["version"] == 2
    assert "乙厂" in str(err.value) and "甲厂" in str(err.value)
    assert Member.get_by_id(m.id).work_unit == "甲厂"
    assert AuditLog.select().where(AuditLog.table == "member", AuditLog.action == "update").count() == 1
    with pytest.raises(StaleEdit):
        records.delete(Member, m.id, version=1)
    assert Member.get_or_none(Member.id == m.id) is not None


def _refused_like_unknown(write, field, outside, unknown=999_999):
    """``write(id)`` with a reference outside the view is refused exactly like one to nothing."""
    with pytest.raises(records.RecordInvalid) as out:
        write(outside)
    with pytest.raises(records.RecordInvalid) as none:
        write(unknown)
    assert out.value.errors == [(field, records.not_found(outside))]
    assert none.value.errors == [(field, records.not_found(unknown))]
    assert str(out.value).replace(str(outside), "?") == str(none.value).replace(str(unknown), "?")


def test_scope_blocks_other_community_writes(tree):
    as_user("community", "A1")
    b_org, b_mem = tree["org"]["B1"], tree["member"]["B1"]
    _refused_like_unknown(lambda o: records.create(Meeting, {"code": "X", "organization": o, "type": "assembly",
                                                             "date": "2024-01-05"}), "organization", b_org.id)
    with pytest.raises(AccessDenied):
        records.update(Member, b_mem.id, {"work_unit": "x"}, version=1)
    with pytest.raises(AccessDenied):
        records.delete(Member, b_mem.id, version=1)
    # moving an own record into another community is refused too
    a_mem = tree["member"]["A1"]
    with pytest.raises(AccessDenied):
        records.update(Member, a_mem.id, {"community": tree["comm"]["B1"].id}, version=1)
    # via a two-step path: attendance -> meeting -> organization -> community
    as_user("admin", "city")
    mb = records.create(Meeting, {"code": "MB", "organization": b_org.id, "type": "assembly", "date": "2024-01-05"})
    as_user("community", "A1")
    _refused_like_unknown(lambda x: records.create(Attendance, {"meeting": x, "member": tree["member"]["A1"].id,
                                                                "status": "present"}), "meeting", mb.id)
    a_mt = records.create(Meeting, {"code": "MA", "organization": tree["org"]["A1"].id, "type": "assembly",
                                    "date": "2024-01-05"})
    # a member of another community at an own meeting: the record's community is mine, the reference is not
    _refused_like_unknown(lambda x: records.create(Attendance, {"meeting": a_mt.id, "member": x,
                                                                "status": "present"}), "member", b_mem.id)
    _refused_like_unknown(lambda x: records.create(DuesPayment, {"member": x, "month": "2024-01", "due": "1.00"}),
                          "member", b_mem.id)
    assert Meeting.select().count() == 2 and Attendance.select().count() == 0
    assert Member.get_by_id(b_mem.id).version == 1 and Member.get_by_id(a_mem.id).version == 1
    assert AuditLog.select().where(AuditLog.user == "u_community_A1").count() == 1  # the own meeting


def test_town_and_street_scopes(tree):
    as_user("street", "甲镇/东街道")
    records.create(Visit, {"community": tree["comm"]["A1"].id, "kind": "reception", "date": "2024-01-02"})
    with pytest.raises(AccessDenied):  # A2 is in the town but not on the street
        records.create(Visit, {"community": tree["comm"]["A2"].id, "kind": "reception", "date": "2024-01-02"})
    as_user("town", "甲镇")
    records.create(Visit, {"community": tree["comm"]["A2"].id, "kind": "reception", "date": "2024-01-02"})
    with pytest.raises(AccessDenied):
        records.create(Visit, {"community": tree["comm"]["B1"].id, "kind": "reception", "date": "2024-01-02"})
    assert Visit.select().count() == 2


def test_read_only_cannot_write(tree):
    as_user("city", "city", read_only=True)
    with pytest.raises(AccessDenied):
        records.update(Member, tree["member"]["A1"].id, {"work_unit": "x"}, version=1)
    with pytest.raises(AccessDenied):
        records.create(Visit, {"community": tree["comm"]["A1"].id, "kind": "reception", "date": "2024-01-02"})
    with pytest.raises(AccessDenied):
        records.delete(Member, tree["member"]["A1"].id, version=1)
    assert AuditLog.select().count() == 0


def test_admin_only_reference_data(tree):
    as_user("city", "city")
    with pytest.raises(AccessDenied):
        records.create(UrbanWage, {"year": 2023, "amount": "100000"})
    with pytest.raises(AccessDenied):
        records.update(Community, tree["comm"]["A1"].id, {"name": "改名"}, version=1)
    # entry items are the city's: an administrator writes them (core.kinds: writers)
    with pytest.raises(AccessDenied):
        records.create(EntryItem, {"name": "创卫", "department": "卫健委"})
    as_user("community", "A1")
    with pytest.raises(AccessDenied):
        records.create(EntryItem, {"name": "x", "department": "y"})
    as_user("admin", "city")
    records.create(EntryItem, {"name": "创卫", "department": "卫健委"})
    w = records.create(UrbanWage, {"year": 2023, "amount": "100000.5"})
    assert w.amount == __import__("decimal").Decimal("100000.50")
    c = records.update(Community, tree["comm"]["A1"].id, {"name": "改名社区"}, version=1)
    assert c.name == "改名社区"
    row = AuditLog.get(AuditLog.table == "community")
    assert row.community == tree["comm"]["A1"].id


def test_scoped_reads(tree):
    as_user("community", "A1")
    assert [m.name for m in records.select(Member)] == ["党员A1"]
    assert [o.code for o in records.select(Organization)] == ["O-A1"]
    assert [c.code for c in records.select(Community)] == ["A1"]
    assert [t.name for t in records.select(Town)] == ["甲镇"]
    with pytest.raises(records.NotFound):
        records.get(Member, tree["member"]["B1"].id)
    as_user("admin", "city")
    mb = records.create(Meeting, {"code": "MB", "organization": tree["org"]["B1"].id, "type": "assembly",
                                  "date": "2024-01-05"})
    records.create(Attendance, {"meeting": mb.id, "member": tree["member"]["B1"].id, "status": "present"})
    as_user("town", "甲镇")
    assert sorted(m.name for m in records.select(Member)) == ["党员A1", "党员A2"]
    assert records.select(Meeting).count() == 0 and records.select(Attendance).count() == 0
    assert audit.query().count() == 0  # the admin's changes were in town B
    as_user("town", "乙镇")
    assert records.select(Attendance).count() == 1 and audit.query().count() == 2
    # a member with no community falls back to its organization
    as_user("admin", "city")
    m = records.create(Member, {"id_number": make("320583", dt.date(1980, 2, 2), 21), "name": "无社区",
                                "joined_date": "2010-01-01", "organization": tree["org"]["A2"].id})
    as_user("town", "乙镇")
    assert m.id not in {x.id for x in records.select(Member)}
    as_user("community", "A2")
    assert m.id in {x.id for x in records.select(Member)}
    assert records.community_of(Member, {"organization": tree["org"]["A2"].id}) == tree["comm"]["A2"].id


def test_invalid_values_are_refused_cleanly(tree):
    as_user("admin", "city")
    org = tree["org"]["A1"]
    with pytest.raises(UserError):
        records.create(Meeting, {"code": "M" * 49, "organization": org.id, "type": "assembly", "date": "2024-01-01"})
    with pytest.raises(UserError):
        records.create(Meeting, {"code": "M\x001", "organization": org.id, "type": "assembly", "date": "2024-01-01"})
    with pytest.raises(UserError):
        records.create(Meeting, {"code": "M1", "organization": org.id, "type": "assembly", "date": "2024-13-01"})
    with pytest.raises(UserError):
        records.create(Meeting, {"code": "M1", "organization": org.id, "nonsense": 1, "date": "2024-01-01"})
    records.create(Meeting, {"code": "M1", "organization": org.id, "type": "assembly", "date": "2024-01-01"})
    with pytest.raises(UserError):  # duplicate natural key
        records.create(Meeting, {"code": "M1", "organization": org.id, "type": "assembly", "date": "2024-01-01"})
    with pytest.raises(UserError):  # still referred to by its members
        records.delete(Organization, org.id, version=1)
    assert Meeting.select().count() == 1
    assert AuditLog.select().count() == 1


def test_plugin_validation_errors_block_the_write(tree, monkeypatch):
    from core import plugins

    seen = []

    class FakeManager:
        def validate_record(self, kind, record):
            seen.append((kind, record.get("topic")))
            return ["主题不能为'禁止'"] if record.get("topic") == "禁止" else []

    monkeypatch.setattr(plugins, "get", lambda: FakeManager())
    as_user("admin", "city")
    org = tree["org"]["A1"]
    m = records.create(Meeting, {"code": "M1", "organization": org.id, "type": "assembly", "date": "2024-01-01"})
    with pytest.raises(records.RecordInvalid) as err:
        records.update(Meeting, m.id, {"topic": "禁止"}, version=1)
    assert err.value.errors == ["主题不能为'禁止'"]
    assert ("meetings", "禁止") in seen
    assert Meeting.get_by_id(m.id).version == 1


def test_masking_in_history(tree):
    as_user("admin", "city")
    m = tree["member"]["A1"]
    records.update(Member, m.id, {"phone": "13900001111"}, version=1)
    as_user("community", "A1", full=False)
    h = records.history(Member, m.id)
    assert h[-1]["old"]["phone"] == "138****5678" and h[-1]["new"]["phone"] == "139****1111"
    as_user("community", "A1", full=True)
    assert records.history(Member, m.id)[-1]["new"]["phone"] == "13900001111"
    as_user("community", "B1", full=True)
    assert records.history(Member, m.id) == []


def test_inside_an_outer_write_transaction(tree):
    """The UI's form saves several records in one write_tx: a stale edit rolls the whole save back."""
    from core.db import write_tx

    as_user("admin", "city")
    org = tree["org"]["A1"]
    m = records.create(Meeting, {"code": "M1", "organization": org.id, "type": "assembly", "date": "2024-01-01"})
    records.update(Meeting, m.id, {"topic": "别人先改"}, version=1)
    with pytest.raises(StaleEdit):
        with write_tx():
            records.create(Meeting, {"code": "M2", "organization": org.id, "type": "assembly", "date": "2024-02-01"})
            records.update(Meeting, m.id, {"topic": "我的"}, version=1)
    assert Meeting.select().count() == 1 and Meeting.get_by_id(m.id).topic == "别人先改"
    assert AuditLog.select().where(AuditLog.table == "meeting").count() == 2
    with write_tx():
        records.create(Meeting, {"code": "M2", "organization": org.id, "type": "assembly", "date": "2024-02-01"})
        records.update(Meeting, m.id, {"topic": "我的"}, version=2)
    assert Meeting.select().count() == 2 and AuditLog.select().where(AuditLog.table == "meeting").count() == 4
