"""Helpers for driving the app with Pilot."""
from __future__ import annotations


async def settle(pilot, rounds: int = 3) -> None:
    """Let workers finish and the screen repaint."""
    app = pilot.app
    for _ in range(rounds):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause()


def screen_text(app) -> str:
    """What the terminal shows, as plain text lines."""
    return "\n".join(s.text for s in app.screen._compositor.render_strips())


def make_app(**kw):
    from tui.app import DangjianApp

    return DangjianApp(**kw)


def aio(fn):
    """Run an async test with asyncio.run (no pytest-asyncio needed)."""
    import asyncio
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return asyncio.run(fn(*args, **kwargs))

    return wrapper
