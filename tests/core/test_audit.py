"""Audit log: rows for every change, `dangjian audit` filters, scoped reading, masking, bulk helper."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from core import access, audit, records
from core.access import Principal
from core.cli import main
from core.db import write_tx
from core.models import AuditLog, Member, Meeting, Visit
from tests.core.test_records import as_user, build_tree


@pytest.fixture
def tree(dangjian_db):
    access.set_current(Principal("admin1", "admin", "city"))
    return build_tree()


def _audit_json(capsys, *argv):
    capsys.readouterr()
    assert main(["audit", "--format", "json", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_filters(tree, capsys):
    a1, b1 = tree["comm"]["A1"], tree["comm"]["B1"]
    as_user("community", "A1", login="alice")
    v = records.create(Visit, {"community": a1.id, "kind": "reception", "date": "2024-01-02"})
    records.update(Visit, v.id, {"people": 3}, version=1)
    as_user("community", "B1", login="bob")
    records.create(Visit, {"community": b1.id, "kind": "reception", "date": "2024-01-03"})
    AuditLog.update(at=dt.datetime(2020, 1, 1)).where(AuditLog.user == "bob").execute()
    access.set_current(Principal("admin1", "admin", "city"))  # the CLI runs as the admin here
    rows = _audit_json(capsys)
    assert [(r["user"], r["action"]) for r in rows] == [("alice", "update"), ("alice", "create"), ("bob", "create")]
    assert rows[0]["old"] == {"people": 1} and rows[0]["new"] == {"people": 3}
    assert [r["user"] for r in _audit_json(capsys, "--user", "bob")] == ["bob"]
    assert {r["user"] for r in _audit_json(capsys, "--since", "2023-06-01")} == {"alice"}
    assert len(_audit_json(capsys, "--record", f"visit:{v.id}")) == 2
    assert len(_audit_json(capsys, "--record", "visit")) == 3
    assert _audit_json(capsys, "--record", "member") == []
    assert main(["--lang", "en", "audit", "--since", "yesterday"]) == 2
    assert "--since must be a date" in capsys.readouterr().err
    assert main(["--lang", "zh", "audit"]) == 0
    out = capsys.readouterr().out
    assert "alice" in out and "修改" in out


def test_scoped_audit_reading_and_masking(tree, capsys):
    access.set_current(Principal("admin1", "admin", "city"))
    for code in ("A1", "B1"):
        m = tree["member"][code]
        records.update(Member, m.id, {"phone": "13900009999"}, version=1)
    as_user("community", "A1", login="alice")  # masked personal data
    rows = _audit_json(capsys)
    assert len(rows) == 1 and rows[0]["new"] == {"phone": "139****9999"}
    assert rows[0]["key"] == str(tree["member"]["A1"].id)
    as_user("town", "乙镇", full=True)
    rows = _audit_json(capsys)
    assert len(rows) == 1 and rows[0]["new"] == {"phone": "13900009999"}
    as_user("town", "乙镇", full=True)  # main() forgets the principal when it returns
    assert audit.history("member", tree["member"]["A1"].id) == []
    assert len(audit.history("member", tree["member"]["B1"].id)) == 1


def test_bulk_helper_is_part_of_the_callers_transaction(tree):
    access.set_current(Principal("importer", "admin", "city"))
    entries = [audit.Entry("create", "meeting", i, None, {"code": f"M{i}", "date": dt.date(2024, 1, i)},
                           community=tree["comm"]["A1"].id) for i in range(1, 6)]
    with write_tx():
        assert audit.record_many(entries) == 5
    assert AuditLog.select().where(AuditLog.user == "importer").count() == 5
    row = AuditLog.get(AuditLog.key == "3")
    assert json.loads(row.new) == {"code": "M3", "date": "2024-01-03"} and row.action == "create"
    with pytest.raises(RuntimeError):
        with write_tx():
            audit.record_many(entries)
            raise RuntimeError("import failed half-way")
    assert AuditLog.select().count() == 5
    with pytest.raises(ValueError):
        audit.record_many([audit.Entry("upsert", "meeting", 1)])


def test_every_change_through_records_is_audited_once(tree):
    as_user("admin", "city", login="root")
    org = tree["org"]["A1"]
    n0 = AuditLog.select().count()
    ms = [records.create(Meeting, {"code": f"M{i}", "organization": org.id, "type": "assembly",
                                   "date": f"2024-01-{i:02d}"}) for i in range(1, 4)]
    for m in ms:
        records.update(Meeting, m.id, {"topic": "t"}, version=1)
    records.update(Meeting, ms[0].id, {"topic": "t"}, version=2)  # no change: no audit row
    records.delete(Meeting, ms[1].id, version=2)
    assert AuditLog.select().count() - n0 == 3 + 3 + 1
