"""Shared helpers of the ledger-screen tests (workers, meetings, dues, visits, funding,
compliance, record forms): a small city and a way to open one screen in the real app."""
from __future__ import annotations

import contextlib

from tests import factories as f

TODAY = "2026-06-15"


def small_city():
    """One town, two communities; a branch with a group and five members; two workers."""
    c1 = f.make_community("KS001", town="玉山镇", name="城中社区")
    c2 = f.make_community("KS002", town="玉山镇", name="城南社区")
    br = f.make_org(c1, "branch", code="ZB01", name="城中第一支部")
    grp = f.make_org(c1, "group", parent=br, code="XZ01", name="第一小组")
    names = ["张伟", "王芳", "李娜", "刘洋", "陈静"]
    members = []
    for i, n in enumerate(names):
        members.append(f.make_member(grp if i >= 3 else br, name=n, dues_class="employed",
                                     monthly_income="4000.00" if i else "2000.00",
                                     joined_date="2005-01-01", full_date="2006-01-01"))
    w1 = f.make_worker(c1, posts=("secretary",), name="赵敏")
    w2 = f.make_worker(c2, posts=("other",), name="孙丽")
    from core import models as m
    from core.pinyin import initials

    for model in (m.Member, m.Worker):
        for obj in model.select():
            model.update(initials=initials(obj.name)).where(model.id == obj.id).execute()
    return {"c1": c1, "c2": c2, "branch": br, "group": grp, "members": members, "w1": w1, "w2": w2}


def run(coro_fn, *args):
    """Run an async test body (no pytest async plugin needed)."""
    import asyncio

    return asyncio.run(coro_fn(*args))


@contextlib.asynccontextmanager
async def open_screen(screen, size=(80, 24), year=None):
    """Run the real app at 80x24 with ``screen`` pushed on top of the dashboard."""
    from tui.app import DangjianApp

    app = DangjianApp(year=year)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        app.push_screen(screen)
        await settle(pilot)
        yield app, pilot


async def settle(pilot, rounds: int = 2):
    """Let thread workers finish and their results reach the screen."""
    from textual.worker import WorkerCancelled, WorkerFailed

    app = pilot.app
    for _ in range(rounds):
        await pilot.pause(0.05)
        try:
            await app.workers.wait_for_complete()
        except (WorkerCancelled, WorkerFailed):  # a superseded exclusive worker; errors show on screen
            pass
        await pilot.pause()


def screen_text(app) -> str:
    """Everything on screen as text (what a user sees), one line per terminal row."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)
