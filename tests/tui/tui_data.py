"""A small deterministic city for the TUI tests and snapshots (fixed ID numbers)."""
from __future__ import annotations

import datetime as dt

from core import ids, pinyin
from core import models as m
from core.db import write_tx

NAMES = ["张伟", "张伟明", "李娜", "王芳", "单雄", "刘洋", "陈静", "杨帆", "赵磊", "黄敏",
         "周杰", "吴霞", "徐强", "孙丽", "马超", "朱红", "胡军", "郭芳", "何平", "高峰"]


def member_id_number(i: int) -> str:
    return ids.make("320583", dt.date(1970 + i % 30, 1 + i % 12, 1 + i % 28), 2 * i + 1)


def build(extra: int = 30) -> dict:
    """Two communities in two towns, a committee tree, 20 named + ``extra`` numbered members."""
    with write_tx():
        t1 = m.Town.create(name="玉山镇")
        t2 = m.Town.create(name="巴城镇")
        c1 = m.Community.create(code="KS001", name="城东社区", town=t1)
        c2 = m.Community.create(code="BC001", name="湖滨社区", town=t2)
        com = m.Organization.create(code="D001", name="城东社区党委", kind="committee", community=c1,
                                    approval_no="昆组〔2020〕1号")
        gb = m.Organization.create(code="Z001", name="城东第一总支", kind="general_branch", community=c1, parent=com)
        b1 = m.Organization.create(code="B001", name="城东第一支部", kind="branch", community=c1, parent=gb)
        b2 = m.Organization.create(code="B002", name="城东第二支部", kind="branch", community=c1, parent=gb)
        g1 = m.Organization.create(code="G001", name="第一党小组", kind="group", community=c1, parent=b1)
        b3 = m.Organization.create(code="B101", name="湖滨支部", kind="branch", community=c2)
        orgs = [b1, b2, g1, b3]
        classes = ["resident", "resident", "resident", "in_service", "floating_in", "floating_out"]
        out_ids = []
        total = len(NAMES) + extra
        for i in range(total):
            name = NAMES[i] if i < len(NAMES) else f"党员{i:03d}"
            org = orgs[i % len(orgs)]
            idn = member_id_number(i)
            full = dt.date(2010, 1, 1) if i % 9 else None
            mem = m.Member.create(
                id_number=idn, name=name, initials=pinyin.initials(name), sex=ids.sex(idn),
                birth_date=ids.birth_date(idn), joined_date=dt.date(2009, 1, 1) if full else dt.date(2026, 1, 10),
                full_date=full, organization=org, community=org.community_id,
                management_class=classes[i % len(classes)], phone="13812345678",
                active=(i != 7))
            out_ids.append(mem.id)
        m.Transfer.create(member=out_ids[0], direction="in", from_org="外市某支部", to_org="B001",
                          date=dt.date(2020, 5, 1), letter_no="XJ2020-01")
        mt = m.Meeting.create(code="M001", organization=b1, type="assembly", date=dt.date(2026, 3, 5), topic="学习")
        m.Attendance.create(meeting=mt, member=out_ids[0], status="present")
        m.Attendance.create(meeting=mt, member=out_ids[4], status="absent")
        m.DuesPayment.create(member=out_ids[0], month="2026-01", due="5.00", paid="5.00",
                             paid_date=dt.date(2026, 1, 20))
        m.Evaluation.create(member=out_ids[0], year=2025, result="excellent")
        m.Visit.create(community=c1, kind="reception", date=dt.date(2026, 4, 1), demand="楼道灯坏了")
    return {"members": out_ids, "c1": c1.id, "c2": c2.id, "b1": b1.id, "com": com.id}
