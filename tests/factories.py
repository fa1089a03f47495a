"""Small hand-built cities for tests (测试数据构造).

Call these inside a test that uses the ``dangjian_db`` fixture.  Every
function has sensible defaults and returns the peewee record it made::

    from tests import factories as f

    c = f.make_community("KS001", town="玉山镇")
    br = f.make_org(c, "branch")
    f.make_members(51, br)                     # 51 formal resident members
    w = f.make_worker(c, posts=("secretary",))
    f.make_training(w, "city", "2026-03-01", 7)

ID numbers are valid (``core.ids.make``) and unique within a test process.
Dates may be given as ``datetime.date`` or ``"YYYY-MM-DD"`` strings.
"""
from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from core import ids, roster_replay
from core import models as m
from core.db import database, write_tx

_seq = itertools.count(1)


def D(value) -> dt.date | None:
    """A date from a date or an ISO string (None stays None)."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def new_id(birth="1980-06-15", sex: str = "M") -> str:
    """A fresh valid ID number with this birth date (odd sequence for men)."""
    n = next(_seq)
    area = f"{320583 + (n // 500) % 600:06d}"
    seq = (n % 500) * 2 + (1 if sex == "M" else 0)
    return ids.make(area, D(birth), seq)


def make_town(name: str = "玉山镇") -> m.Town:
    town, _ = m.Town.get_or_create(name=name)
    return town


def make_street(town="玉山镇", name: str = "城中街道") -> m.Street:
    t = town if isinstance(town, m.Town) else make_town(town)
    street, _ = m.Street.get_or_create(town=t, name=name)
    return street


def make_community(code: str | None = None, town="玉山镇", name: str | None = None, street=None) -> m.Community:
    t = town if isinstance(town, m.Town) else make_town(town)
    code = code or f"C{next(_seq):05d}"
    existing = m.Community.get_or_none(m.Community.code == code)
    if existing:
        return existing
    if isinstance(street, str):
        street = make_street(t, street)
    return m.Community.create(code=code, name=name or f"{code}社区", town=t, street=street)


def make_org(community=None, kind: str = "branch", parent=None, code: str | None = None,
             approval_no: str | None = None, name: str | None = None, **kw) -> m.Organization:
    """An organization: kind committee / general_branch / branch / group."""
    code = code or f"O{next(_seq):05d}"
    return m.Organization.create(code=code, name=name or f"{code}党组织", kind=kind, parent=parent,
                                 community=community, approval_no=approval_no, **kw)


def make_member(org=None, community=None, *, management_class: str = "resident",
                full_date="2010-01-01", joined_date=None, birth="1970-05-05", sex: str = "M",
                retired: bool = False, name: str | None = None, id_number: str | None = None,
                **kw) -> m.Member:
    """A member.  ``full_date=None`` makes a probationary member; the
    community defaults to the organization's."""
    full_date = D(full_date)
    joined = D(joined_date) or ((full_date - dt.timedelta(days=365)) if full_date else dt.date(2025, 1, 1))
    if community is None and org is not None:
        community = org.community_id
    idn = id_number or new_id(birth, sex)
    return m.Member.create(id_number=idn, name=name or f"党员{idn[-6:]}", sex=sex, birth_date=D(birth),
                           joined_date=joined, full_date=full_date, organization=org, community=community,
                           management_class=management_class, retired=retired, **kw)


def make_members(n: int, org=None, community=None, *, management_class: str = "resident",
                 full_date="2010-01-01", joined_date=None, birth="1970-05-05", retired: bool = False,
                 **kw) -> list[int]:
    """``n`` members in one bulk insert; returns their ids."""
    full_date = D(full_date)
    joined = D(joined_date) or ((full_date - dt.timedelta(days=365)) if full_date else dt.date(2025, 1, 1))
    if community is None and org is not None:
        community = org.community_id
    community_id = community.id if isinstance(community, m.Community) else community
    org_id = org.id if isinstance(org, m.Organization) else org
    rows = []
    for _ in range(n):
        idn = new_id(birth)
        rows.append(dict(id_number=idn, name=f"党员{idn[-6:]}", sex="M", birth_date=D(birth),
                         joined_date=joined, full_date=full_date, organization=org_id,
                         community=community_id, management_class=management_class, retired=retired,
                         **kw))
    with write_tx():
        for chunk in range(0, len(rows), 200):
            m.Member.insert_many(rows[chunk:chunk + 200]).execute()
    ids = [x.id for x in m.Member.select(m.Member.id).where(m.Member.id_number.in_([r["id_number"] for r in rows]))]
    roster_replay.rebuild(database, ids)
    return ids


def make_worker(community, *, posts=("other",), post_start="2020-01-01", post_end=None,
                birth="1980-06-15", education: str = "bachelor", certificate: str = "social_worker",
                certificate_date="2018-06-01", college_graduate: bool = False, backup_talent: bool = False,
                filing_date="2020-02-01", status: str = "active", name: str | None = None,
                id_number: str | None = None, hired_date="2015-01-01", **kw) -> m.Worker:
    """A worker in post with ``posts`` (codes: secretary, director, deputy_secretary,
    committee_member, other) held from ``post_start`` (to ``post_end``)."""
    idn = id_number or new_id(birth)
    w = m.Worker.create(id_number=idn, name=name or f"社工{idn[-6:]}", birth_date=D(birth), community=community,
                        education=education, certificate=certificate,
                        certificate_date=D(certificate_date) if certificate != "none" else None,
                        college_graduate=college_graduate, backup_talent=backup_talent,
                        filing_date=D(filing_date), status=status, hired_date=D(hired_date), **kw)
    for p in posts or ():
        make_post(w, p, post_start, post_end)
    return w


def make_post(worker, post: str, start="2020-01-01", end=None) -> m.WorkerPost:
    return m.WorkerPost.create(worker=worker, post=post, start_date=D(start), end_date=D(end))


def make_training(worker, level: str = "city", start="2026-03-01", days=1, title: str | None = None) -> m.Training:
    return m.Training.create(worker=worker, level=level, start_date=D(start), days=Decimal(str(days)),
                             title=title or f"培训{next(_seq)}")


def make_wage(year: int, amount) -> m.UrbanWage:
    return m.UrbanWage.create(year=year, amount=Decimal(str(amount)), source="统计公报")


def make_pay(worker, year: int, amount) -> m.WorkerPay:
    return m.WorkerPay.create(worker=worker, year=year, base_pay=Decimal(str(amount)))


def make_duty_report(worker, year: int, audience: str, date=None) -> m.DutyReport:
    return m.DutyReport.create(worker=worker, year=year, audience=audience, date=D(date) or dt.date(year, 6, 1))


def make_allocation(community, year: int, amount, source: str = "town_finance", date=None) -> m.FundingAllocation:
    return m.FundingAllocation.create(community=community, year=year, amount=Decimal(str(amount)), source=source,
                                      date=D(date) or dt.date(year, 3, 1))


def make_publication(community, year: int, kind: str, date=None) -> m.Publication:
    return m.Publication.create(community=community, year=year, kind=kind, date=D(date) or dt.date(year, 1, 15))


def make_meeting(org, type: str, date, code: str | None = None, topic: str = "") -> m.Meeting:
    return m.Meeting.create(code=code or f"M{next(_seq):06d}", organization=org, type=type, date=D(date),
                            topic=topic)


def make_attendance(meeting, member, status: str = "present", leave_reason: str | None = None) -> m.Attendance:
    return m.Attendance.create(meeting=meeting, member=member, status=status, leave_reason=leave_reason)


def make_visit(community, kind: str, date, **kw) -> m.Visit:
    for k in ("answered_date", "closed_date"):
        if k in kw:
            kw[k] = D(kw[k])
    return m.Visit.create(community=community, kind=kind, date=D(date), **kw)


def make_dues(member, month: str, due, paid=None, paid_date=None) -> m.DuesPayment:
    return m.DuesPayment.create(member=member, month=month, due=Decimal(str(due)),
                                paid=Decimal(str(due if paid is None else paid)), paid_date=D(paid_date))


# An admin allowed to see full ID numbers (single-user mode masks them): pass as
# ``principal=`` where a test keys findings by the full number.
from core.access import Principal  # noqa: E402

FULL_VIEW = Principal("tester", "admin", "city", read_only=False, full_personal_data=True)


def record_me(full_personal_data: bool = True, role: str = "admin", scope: str = "city") -> m.User:
    """Record the account running the tests as a user (ends single-user mode), or change it."""
    from core.access import os_login, set_current

    user, _ = m.User.get_or_create(login=os_login(), defaults={"role": role, "scope": scope})
    user.role, user.scope, user.full_personal_data = role, scope, full_personal_data
    user.save()
    set_current(None)
    return user

__all__ = [n for n in dir() if n.startswith("make_")] + ["new_id", "D", "database", "FULL_VIEW", "record_me"]
