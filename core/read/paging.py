"""Keyset-paged sources of the read queries' lists, as ``tui.widgets.lazytable`` wants them."""
from __future__ import annotations

PAGE = 200


def key_id(row: dict):
    return row["id"]


def key_date_id(row: dict):
    return (row["date"], row["id"])


def newest_first(q, model, after, offset, limit) -> list[dict]:
    """Rows of ``q`` newest first by ``(model.date, model.id)``: after the key ``after`` (a
    :func:`key_date_id`), or from ``offset``; at most ``limit``."""
    if after:
        d, i = after
        q = q.where((model.date < d) | ((model.date == d) & (model.id < i)))
    return list(q.order_by(model.date.desc(), model.id.desc()).offset(offset or None).limit(limit).dicts())


class RowSource:
    """A keyset-paged source (``count``/``page``/``seek``, as ``tui.widgets.lazytable`` wants)
    over one of the list queries (``visits.visit_rows``, ``workers.worker_rows`` …):
    ``RowSource(visit_rows, key_date_id, view=view, open_only=True)``.  Rows are ``(key, row dict)``."""

    def __init__(self, fn, key=key_id, **filters):
        self.fn = fn
        self.key = key
        self.filters = filters

    def count(self) -> int:
        return self.fn(count=True, **self.filters)

    def page(self, after_key, limit: int) -> list[tuple]:
        return [(self.key(r), r) for r in self.fn(after=after_key, limit=limit, **self.filters)]

    def seek(self, after_key, n: int):
        rows = self.fn(after=after_key, limit=1, offset=max(0, n - 1), **self.filters)
        return self.key(rows[0]) if rows else None

    def first(self, limit: int = PAGE) -> tuple[int, list[tuple]]:
        """(count, first block) — call in a worker, hand to ``LazyTable.set_source``."""
        return self.count(), self.page(None, limit)
