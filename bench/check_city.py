"""Benchmark of ``dangjian check`` on a whole city.

Measures, on a city database (~100,000 members):

1. the whole city: ``dangjian check --format json --output FILE`` in a child
   process — wall time and peak memory (max RSS of the child);
2. one community's check timed inside the process (the UI's drill-down case):
   ``core.rules.run_check(community=CODE, store=False)`` for a few communities;
3. each rule alone over the whole city (in process), to find a slow one.

Targets (2-core machine): whole city ≤ 10 s and ≤ 500 MB; one
community ≤ 0.3 s.

The database: ``--db PATH`` (default ``/tmp/dangjian_city.db``, which the demo
generator leaves when built with ``dangjian demo --size city --no-open`` and
DANGJIAN_TODAY=2026-11-28).  When it does not exist, ``--generate`` builds a
synthetic city of the same size with the generator below (a bench-only data
set: 10 towns, 330 communities, ~100k members, org life, dues and visits for
2026 and the second half of 2025).

    python bench/check_city.py [--db PATH] [--generate] [--today 2026-11-28] [--quick]

Measured 2026-11-28 on the city demo (350 communities, 100,000 members,
2.5M attendance rows, 1.8M dues rows; 29 rules, 194,320 findings) while the
2-core machine ran other jobs (load average ~8): whole city 9.3 s of CPU
(28 s wall under that load), peak 454 MB; one community 0.07–0.2 s wall,
≤ 0.08 s CPU.  The biggest costs: dues.on_time and
orglife.absence_without_leave (~2 s CPU each; the latter also sets the
memory peak, ~380 MB alone), storing the run (~1.6 s, in a second thread
while the output is written) and encoding the evidence (~0.6 s).

Measured again on a quiet machine (load average < 1), same database, after
the roster and context changes: whole city 8.1 s wall (8.0 s CPU), peak
391 MB; one community median 0.034 s.  Both targets met.

Measured 2026-12-07 on a quiet machine (load ~1), after the roster history and
with the rules shared between two processes (``DANGJIAN_CHECK_WORKER``): whole
city 7.59 s wall (10.4 s CPU of both processes), peak 388 MB; one community
median 0.041 s.  The code before the one-home reshape, same session: 8.12 s.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# ---------------------------------------------------------------- synthetic city (bench only)

TOWNS = ["昆山开发区", "花桥经济开发区", "昆山高新区", "旅游度假区", "玉山镇", "巴城镇", "周市镇", "陆家镇", "张浦镇", "千灯镇"]


def _bulk(model, rows: list[dict]):
    from core import db

    if not rows:
        return
    cols = list(rows[0])
    fields = model._meta.fields
    names = [fields[c].column_name for c in cols] + ["version"]
    sql = (f'INSERT INTO "{model._meta.table_name}" ({", ".join(names)}) '
           f'VALUES ({", ".join("?" for _ in names)})')
    with db.write_tx():
        db.executemany(sql, [tuple(r[c] for c in cols) + (1,) for r in rows])


def generate(url: str, today: dt.date, seed: int = 7, communities_per_town: int = 33, members_per_community: int = 300):
    from core import db, ids
    from core import models as m

    rnd = random.Random(seed)
    db.connect(url)
    year = today.year
    t0 = time.perf_counter()
    seq = 0

    def new_id(birth):
        nonlocal seq
        seq += 1
        return ids.make(f"{320500 + seq // 1000 % 99:06d}", birth, seq % 1000)

    towns = {}
    for name in TOWNS:
        towns[name] = m.Town.create(name=name)
    comms = []
    with db.write_tx():
        for name, town in towns.items():
            for i in range(communities_per_town):
                comms.append(m.Community.create(code=f"{len(comms) + 1:04d}", name=f"{name}第{i + 1}社区", town=town))
    orgs, members, workers, posts = [], [], [], []
    org_id = 0
    member_orgs = []  # (community index, branch id, group ids)
    for ci, c in enumerate(comms):
        org_id += 1
        top = org_id
        kind = "committee" if ci % 10 == 0 else "general_branch"
        orgs.append(dict(id=top, code=f"{c.code}-00", name=f"{c.name}党{kind}", kind=kind, parent=None, community=c.id,
                         host_kind="community", approval_no="昆组复〔2011〕1号" if kind == "committee" else None))
        nb = rnd.randint(3, 6)
        for b in range(nb):
            org_id += 1
            bid = org_id
            orgs.append(dict(id=bid, code=f"{c.code}-{b + 1:02d}", name=f"{c.name}第{b + 1}支部", kind="branch",
                             parent=top, community=c.id, host_kind="community", approval_no=None))
            gids = []
            for g in range(2):
                org_id += 1
                gids.append(org_id)
                orgs.append(dict(id=org_id, code=f"{c.code}-{b + 1:02d}-{g + 1}", name=f"第{g + 1}党小组",
                                 kind="group", parent=bid, community=c.id, host_kind="community", approval_no=None))
            member_orgs.append((ci, bid, gids))
    _bulk(m.Organization, orgs)
    by_comm: dict = {}
    for ci, bid, gids in member_orgs:
        by_comm.setdefault(ci, []).append((bid, gids))
    mid = 0
    member_group = {}
    for ci, c in enumerate(comms):
        n = members_per_community + rnd.randint(-60, 60)
        for _ in range(n):
            mid += 1
            bid, gids = rnd.choice(by_comm[ci])
            birth = dt.date(rnd.randint(1940, 2000), rnd.randint(1, 12), rnd.randint(1, 28))
            joined = dt.date(rnd.randint(max(birth.year + 18, 1960), year), rnd.randint(1, 12), rnd.randint(1, 28))
            if joined > today:
                joined = today - dt.timedelta(days=400)
            full = joined + dt.timedelta(days=365) if rnd.random() > 0.03 else None
            if full and full > today:
                full = None
            r = rnd.random()
            cls = "resident" if r < 0.8 else "in_service" if r < 0.9 else "floating_in" if r < 0.95 else "floating_out"
            idn = new_id(birth)
            members.append(dict(id=mid, id_number=idn, name=f"党员{mid}", initials="dy", sex="M", birth_date=birth,
                                joined_date=joined, full_date=full, organization=bid, community=c.id,
                                management_class=cls, retired=birth.year < 1966,
                                mobility_impaired=rnd.random() < 0.03,
                                registered_date=joined if cls == "floating_in" else None,
                                placed_date=joined + dt.timedelta(days=rnd.randint(5, 60)) if cls == "floating_in" else None,
                                certificate_no=f"LD{mid}" if cls == "floating_out" else None,
                                contact_person="联系人" if cls == "floating_out" else None, active=True))
            member_group[mid] = (bid, rnd.choice(gids))
    _bulk(m.Member, members)
    wid = 0
    for ci, c in enumerate(comms):
        for k in range(10):
            wid += 1
            birth = dt.date(rnd.randint(1965, 2000), rnd.randint(1, 12), rnd.randint(1, 28))
            workers.append(dict(id=wid, id_number=new_id(birth), name=f"社工{wid}", initials="sg", birth_date=birth,
                                community=c.id, education=rnd.choice(["college", "bachelor", "high_school"]),
                                certificate=rnd.choice(["none", "assistant", "social_worker"]),
                                certificate_date=dt.date(2018, 1, 1), hired_date=dt.date(2012, 1, 1),
                                college_graduate=k == 3 and rnd.random() < 0.9, backup_talent=k == 4,
                                filing_date=dt.date(2020, 1, 1) if k == 0 and rnd.random() < 0.9 else None,
                                status="active"))
            post = "secretary" if k == 0 else "director" if k == 1 else "committee_member" if k < 5 else "other"
            posts.append(dict(worker=wid, post=post, start_date=dt.date(2019, 1, 1), end_date=None))
    _bulk(m.Worker, workers)
    _bulk(m.WorkerPost, posts)
    trainings, pay, reports = [], [], []
    for w in workers:
        for i in range(2):
            trainings.append(dict(worker=w["id"], title=f"培训{i}", level=rnd.choice(["city", "town", "street"]),
                                  start_date=dt.date(year, rnd.randint(1, 10), 1 + i), days=rnd.randint(1, 5)))
        pay.append(dict(worker=w["id"], year=year, base_pay=rnd.randint(90000, 160000)))
        reports.append(dict(worker=w["id"], year=year, audience="street_committee", date=dt.date(year, 3, 1)))
    _bulk(m.Training, trainings)
    _bulk(m.WorkerPay, pay)
    _bulk(m.DutyReport, reports)
    _bulk(m.UrbanWage, [dict(year=year - 1, amount=110000, source="统计公报"),
                        dict(year=year - 2, amount=105000, source="统计公报")])
    # org life: 2025-07 .. today
    start = dt.date(year - 1, 7, 1)
    meetings, attendance = [], []
    meet_id = 0
    branch_members: dict = {}
    group_members: dict = {}
    for mid_, (bid, gid) in member_group.items():
        branch_members.setdefault(bid, []).append(mid_)
        group_members.setdefault(gid, []).append(mid_)
    months = []
    d = start
    while d <= today:
        months.append(d)
        d = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    for ci, bid, gids in member_orgs:
        for mo in months:
            day = mo + dt.timedelta(days=rnd.randint(0, 25))
            if day > today:
                continue
            kinds = ["committee_meeting"]
            if mo.month % 3 == 1:
                kinds += ["assembly", "lecture"]
            for kind in kinds:
                if rnd.random() < 0.05:
                    continue
                meet_id += 1
                meetings.append(dict(id=meet_id, code=f"M{meet_id}", organization=bid, type=kind, date=day, topic=""))
                if kind != "committee_meeting":
                    for x in branch_members.get(bid, []):
                        r = rnd.random()
                        attendance.append(dict(meeting=meet_id, member=x,
                                               status="present" if r < 0.85 else "leave" if r < 0.93 else "absent",
                                               leave_reason="事假" if 0.85 <= r < 0.93 else None))
            for gid in gids:
                if rnd.random() < 0.05:
                    continue
                meet_id += 1
                meetings.append(dict(id=meet_id, code=f"M{meet_id}", organization=gid, type="group_meeting", date=day,
                                     topic=""))
                for x in group_members.get(gid, []):
                    r = rnd.random()
                    attendance.append(dict(meeting=meet_id, member=x, status="present" if r < 0.9 else "absent",
                                           leave_reason=None))
    for ci, c in enumerate(comms):
        top = next(o["id"] for o in orgs if o["community"] == c.id and o["parent"] is None)
        for q in range(4):
            day = dt.date(year, 3 * q + 2, 10)
            if day <= today and rnd.random() < 0.9:
                meet_id += 1
                meetings.append(dict(id=meet_id, code=f"M{meet_id}", organization=top, type="opinion", date=day,
                                     topic=""))
    _bulk(m.Meeting, meetings)
    for i in range(0, len(attendance), 200000):
        _bulk(m.Attendance, attendance[i:i + 200000])
    n_att = len(attendance)
    del attendance
    dues = []
    for mm in members:
        if mm["management_class"] not in ("resident", "floating_out"):
            continue
        for mo in months:
            if mo > today.replace(day=1):
                break
            key = f"{mo.year:04d}-{mo.month:02d}"
            r = rnd.random()
            paid_date = mo + dt.timedelta(days=10) if r < 0.95 else None
            dues.append(dict(member=mm["id"], month=key, due=20, paid=20 if paid_date else 0, paid_date=paid_date))
        if len(dues) > 300000:
            _bulk(m.DuesPayment, dues)
            dues = []
    _bulk(m.DuesPayment, dues)
    visits, pubs, allocs = [], [], []
    for ci, c in enumerate(comms):
        d = start
        while d <= today:
            for kind in ("reception", "home_visit"):
                if rnd.random() < 0.93:
                    visits.append(dict(community=c.id, kind=kind, date=d + dt.timedelta(days=rnd.randint(0, 4)),
                                       staff=ci * 10 + 1, member=None, people=3, demand="诉求" if rnd.random() < 0.3
                                       else "", answered_date=None, closed_date=d + dt.timedelta(days=rnd.randint(1, 20)),
                                       refused_reason=None))
            d += dt.timedelta(days=7)
        for kind in ("visit_schedule", "funding", "party_affairs"):
            if rnd.random() < 0.85:
                pubs.append(dict(community=c.id, year=year, kind=kind, date=dt.date(year, 1, 20)))
        allocs.append(dict(community=c.id, year=year, amount=rnd.choice([15000, 30000, 60000]), source="town_finance",
                           date=dt.date(year, 3, 1)))
    visits = [v for v in visits if v["date"] <= today]
    _bulk(m.Visit, visits)
    _bulk(m.Publication, pubs)
    _bulk(m.FundingAllocation, allocs)
    _bulk(m.Evaluation, [dict(member=mm["id"], year=year - 1, result="qualified") for mm in members])
    db.close()
    print(f"generated {len(comms)} communities, {len(members)} members, {len(workers)} workers, "
          f"{len(meetings)} meetings, {n_att} attendance rows in {time.perf_counter() - t0:.1f} s", file=sys.stderr)


# ---------------------------------------------------------------- measurements

def whole_city(url: str, today: str, out_dir: Path) -> dict:
    out = out_dir / "findings.json"
    env = dict(os.environ, DANGJIAN_TODAY=today)
    cmd = [sys.executable, "-m", "core.cli", "--db", url, "check", "--format", "json", "--output", str(out)]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = r0.ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=str(ROOT))
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_kb = r1.ru_maxrss
    cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    findings = json.loads(out.read_text(encoding="utf-8")) if out.exists() else []
    return {"seconds": round(wall, 2), "cpu_seconds": round(cpu, 2), "peak_mb": round(max(peak_kb, before) / 1024, 1), "exit": proc.returncode,
            "findings": len(findings), "stderr": proc.stderr.strip().splitlines()[-1:] if proc.stderr else []}


def in_process(url: str, today: str, n_communities: int = 5, per_rules: bool = True) -> dict:
    os.environ["DANGJIAN_TODAY"] = today
    from core import config, db, plugins
    from core.models import Community
    from core.rules import run_check

    config.load()
    plugins.load()
    db.connect(url)
    codes = [c.code for c in Community.select(Community.code).order_by(Community.id)]
    pick = [codes[int(i * (len(codes) - 1) / max(1, n_communities - 1))] for i in range(n_communities)]
    run_check(community=pick[0], store=False)  # warm-up (imports, caches)
    times, cpu = {}, {}
    for code in pick:
        t0, c0 = time.perf_counter(), time.process_time()
        run_check(community=code, store=False)
        times[code] = round(time.perf_counter() - t0, 3)
        cpu[code] = round(time.process_time() - c0, 3)
    per_rule = {}
    for rid in plugins.get().registry.rule_ids() if per_rules else []:
        t0 = time.perf_counter()
        res = run_check(rule_ids=[rid], store=False)
        per_rule[rid] = (round(time.perf_counter() - t0, 3), len(res.findings))
    t0 = time.perf_counter()
    res = run_check(store=True)
    store_all = round(time.perf_counter() - t0, 2)
    return {"community_seconds": times, "community_median": statistics.median(times.values()),
            "community_max": max(times.values()), "community_cpu_max": max(cpu.values()), "per_rule": per_rule, "whole_city_in_process_with_store": store_all,
            "findings": len(res.findings)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="/tmp/dangjian_city.db")
    ap.add_argument("--generate", action="store_true", help="build a synthetic city when the file does not exist")
    ap.add_argument("--today", default="2026-11-28")
    ap.add_argument("--quick", action="store_true", help="skip the per-rule timings")
    args = ap.parse_args(argv)
    url = f"sqlite:///{args.db}"
    if not Path(args.db).exists():
        if not args.generate:
            print(f"{args.db} does not exist: build it with `DANGJIAN_TODAY={args.today} dangjian --db {url} demo "
                  f"--size city --no-open`, or pass --generate", file=sys.stderr)
            return 2
        os.environ["DANGJIAN_TODAY"] = args.today
        generate(url, dt.date.fromisoformat(args.today))
    with tempfile.TemporaryDirectory() as tmp:
        city = whole_city(url, args.today, Path(tmp))
    print(f"whole city: {city['seconds']} s wall ({city['cpu_seconds']} s CPU), peak {city['peak_mb']} MB, exit {city['exit']}, "
          f"{city['findings']} findings (targets: ≤ 10 s, ≤ 500 MB)")
    if city["stderr"]:
        print("  " + city["stderr"][0])
    inner = in_process(url, args.today, per_rules=not args.quick)
    print(f"one community (in process): median {inner['community_median']} s, max {inner['community_max']} s "
          f"wall, max {inner['community_cpu_max']} s CPU "
          f"(target ≤ 0.3 s) {inner['community_seconds']}")
    print(f"whole city in process incl. storing the run: {inner['whole_city_in_process_with_store']} s, "
          f"{inner['findings']} findings")
    print("per rule, whole city (s, findings):")
    for rid, (sec, n) in sorted(inner["per_rule"].items(), key=lambda kv: -kv[1][0]):
        print(f"  {rid:36s} {sec:7.3f}  {n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
