"""Plugin status (插件故障记录): the last failures of the plugins, kept in the database.

A failure is seen by the process it happens in (:class:`core.plugins.Failure`: plugin,
file:line, towns, hook, message); this module keeps it, so that ``dangjian plugins`` and the
app's red banner and plugin status show what failed in any command — a nightly ``check``, a
colleague's ``report funding``, the app — not only in this one.

One row per plugin, hook and town (``plugin_failure``; the town empty for a failure of the
whole city), with file:line, when and in which command it last failed and who ran that.
:func:`save` writes what this process saw since its last save: the failures (a row per town
they touched, replacing the one before) and what ran without failing — a hook that ran for a
town without raising takes its row for that town away (for the whole city: all its rows), a
plugin that loaded takes its load failures away; a failure of this process wins over a success
of the same process.  Nothing is written when there is nothing to write.
"""
from __future__ import annotations

import datetime as dt

LIST_LIMIT = 500  # rows :func:`stored` returns at most (newest first)


def save(manager=None, command: str = "", user: str | None = None) -> int:
    """Write what ``manager`` (default: the loaded plugin manager) saw since its last save;
    returns the number of rows written or removed.  Raises the database's error (the caller
    says so: the failures themselves were already shown)."""
    from core import plugins

    manager = manager or plugins.get_loaded()
    if manager is None:
        return 0
    new, ok, loaded = manager.status_pending()
    if not new and not ok and not loaded:
        return 0
    from core import db
    from core.models import PluginFailure as P

    failing = {(f.plugin, f.hook, t) for f in manager.failures for t in (f.towns or [""])}
    gone = []
    if ok or loaded:
        for row_id, plugin, hook, town, at_load in P.select(P.id, P.plugin, P.hook, P.town, P.at_load).tuples():
            if (plugin, hook, town) in failing:
                continue
            towns_ok = ok.get((plugin, hook))
            if (at_load and plugin in loaded) or (not at_load and towns_ok is not None
                                                  and (None in towns_ok or town in towns_ok)):
                gone.append(row_id)
    if not new and not gone:
        return 0
    last: dict = {}  # one row per plugin, hook and town: the last of this process's failures there
    for f in new:
        for town in f.towns or [""]:
            last[(f.plugin, f.hook, town)] = {
                "plugin": f.plugin, "hook": f.hook, "town": town, "location": f.where or "", "message": f.message,
                "at_load": f.at_load, "at": f.at, "command": command or "", "user": user, "version": 1}
    rows = list(last.values())
    with db.write_tx():
        for i in range(0, len(gone), 500):
            P.delete().where(P.id.in_(gone[i:i + 500])).execute()
        for i in range(0, len(rows), 200):
            (P.insert_many(rows[i:i + 200])
             .on_conflict(conflict_target=[P.plugin, P.hook, P.town],
                          preserve=[P.location, P.message, P.at_load, P.at, P.command, P.user])
             .execute())
    manager.status_kept(new)
    return len(rows) + len(gone)


def stored(limit: int = LIST_LIMIT) -> list[dict]:
    """The kept failures, newest first, the rows of one failure (same plugin, hook, place,
    message, time and command) joined into one with its ``towns`` (None: the whole city):
    ``{"plugin", "hook", "where", "towns", "message", "at_load", "at", "command", "user"}``."""
    from core.models import PluginFailure as P

    groups: dict = {}
    for r in P.select().order_by(P.at.desc(), P.plugin, P.hook, P.town).limit(limit):
        key = (r.plugin, r.hook, r.location, r.message, r.at, r.command)
        g = groups.setdefault(key, (r, set(), []))
        if r.town:
            g[1].add(r.town)
        else:
            g[2].append(True)  # a row of the whole city
    return [{"plugin": r.plugin, "hook": r.hook, "where": r.location, "towns": None if city else sorted(towns),
             "message": r.message, "at_load": bool(r.at_load), "at": _text(r.at), "command": r.command,
             "user": r.user} for r, towns, city in groups.values()]


def _text(at) -> str:
    if isinstance(at, dt.datetime):
        return at.isoformat(sep=" ", timespec="seconds")
    return str(at or "")[:19]


def command_of(args) -> str:
    """What ``dangjian`` ran, for the record: the command, the scorer, report or kind it named and
    its scope options (never a path or a login)."""
    command = str(getattr(args, "command", "") or "")
    parts = [command]
    if command in ("score", "report") and getattr(args, "name", None):
        parts.append(str(args.name))
    if getattr(args, "kind", None):
        parts.append(str(args.kind))
    for opt in ("year", "as_of", "town", "community", "rule"):
        value = getattr(args, opt, None)
        if value:
            shown = ",".join(value) if isinstance(value, list) else str(value)
            parts.append(f"--{opt.replace('_', '-')} {shown}")
    return " ".join(p for p in parts if p)
