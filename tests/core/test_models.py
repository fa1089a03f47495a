import datetime as dt

import peewee
import pytest

from core import ids, migrations
from core.db import database, write_tx
from core.models import (Attendance, Community, CORE_MODELS, Meeting, Member, Organization, Town,
                         WorkerPost, Worker)


def base():
    town = Town.create(name="玉山镇")
    com = Community.create(code="C001", name="城北社区", town=town)
    org = Organization.create(code="O001", name="城北社区党委", kind="committee", community=com)
    return town, com, org


def test_every_table_exists(dangjian_db):
    for m in CORE_MODELS:
        assert database.table_exists(m._meta.table_name), m


def test_migrate_is_idempotent(dangjian_db):
    v = migrations.current_version()
    assert v == len(migrations.STEPS)
    assert migrations.migrate() == (v, v)


def test_duplicate_natural_keys_rejected(dangjian_db):
    town, com, org = base()
    with pytest.raises(peewee.IntegrityError):
        with write_tx():
            Community.create(code="C001", name="另一个", town=town)
    n = ids.make("320583", dt.date(1970, 1, 1), 11)
    Member.create(id_number=n, name="张伟", joined_date=dt.date(2000, 1, 1), organization=org, community=com)
    with pytest.raises(peewee.IntegrityError):
        with write_tx():
            Member.create(id_number=n, name="李四", joined_date=dt.date(2000, 1, 1))
    with pytest.raises(peewee.IntegrityError):
        with write_tx():
            Organization.create(code="O001", name="x", kind="branch")
    assert Member.select().count() == 1 and Community.select().count() == 1


def test_dangling_references_rejected(dangjian_db):
    base()
    with pytest.raises(peewee.IntegrityError):
        with write_tx():
            Member.create(id_number=ids.make("320583", dt.date(1970, 1, 1), 13), name="王五",
                          joined_date=dt.date(2000, 1, 1), organization=9999)
    with pytest.raises(peewee.IntegrityError):
        with write_tx():
            Meeting.create(code="M1", organization=4242, type="assembly", date=dt.date(2026, 1, 5))
    assert Member.select().count() == 0 and Meeting.select().count() == 0


def test_restrict_delete_of_referenced_org(dangjian_db):
    town, com, org = base()
    Member.create(id_number=ids.make("320583", dt.date(1970, 1, 1), 11), name="张伟",
                  joined_date=dt.date(2000, 1, 1), organization=org, community=com)
    with pytest.raises(peewee.IntegrityError):
        with write_tx():
            org.delete_instance()
    assert Organization.select().count() == 1


def test_attendance_unique_per_meeting_and_member(dangjian_db):
    town, com, org = base()
    m = Member.create(id_number=ids.make("320583", dt.date(1970, 1, 1), 11), name="张伟",
                      joined_date=dt.date(2000, 1, 1), organization=org, community=com)
    mt = Meeting.create(code="M1", organization=org, type="assembly", date=dt.date(2026, 1, 5))
    Attendance.create(meeting=mt, member=m, status="present")
    with pytest.raises(peewee.IntegrityError):
        with write_tx():
            Attendance.create(meeting=mt, member=m, status="absent")


def test_member_status_follows_dates(dangjian_db):
    town, com, org = base()
    m = Member.create(id_number=ids.make("320583", dt.date(1990, 1, 1), 11), name="张伟",
                      joined_date=dt.date(2025, 3, 1), full_date=dt.date(2026, 3, 1),
                      organization=org, community=com)
    assert m.status_at(dt.date(2026, 2, 28)) == "probationary"
    assert m.status_at(dt.date(2026, 3, 1)) == "full"


def test_worker_post_history(dangjian_db):
    town, com, org = base()
    w = Worker.create(id_number=ids.make("320583", dt.date(1980, 1, 1), 21), name="李强", community=com)
    WorkerPost.create(worker=w, post="director", start_date=dt.date(2020, 1, 1), end_date=dt.date(2024, 12, 31))
    WorkerPost.create(worker=w, post="secretary", start_date=dt.date(2025, 1, 1))
    held = [p.post for p in w.posts.where((WorkerPost.start_date <= dt.date(2024, 6, 1)) &
                                          ((WorkerPost.end_date.is_null()) | (WorkerPost.end_date >= dt.date(2024, 6, 1))))]
    assert held == ["director"]
