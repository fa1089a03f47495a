"""Short forms for the common cases of a plugin.

- :class:`ItemScorer` with the items :class:`Base`, :class:`PerCount`, :class:`Capped` and
  :class:`When`: a scorer declared as a list of items, computed set-based (each item's
  counter is called once for the whole scope, never once per subject);
- :func:`share_rule`: a rule that compares a share (numerator / denominator, exactly)
  with a threshold, one finding per community;
- :func:`percentage_split`: the ``dangjian_funding_split`` implementation for fixed
  percentages per town;
- :func:`for_towns`: a hook implementation that acts only for some towns (for the
  others it returns None).

A *counter* is a callable ``counter(ctx, ids)`` returning ``{key: n}``: ``ids`` is what
the scorer scores, ready for ``.in_()`` (a subquery of member ids, worker ids, or the list
of community ids), the key is the subject's id unless the item says ``key=``.  The
set-based helpers of ``core`` (``volunteer_hours``, ``commitments_kept``,
``pairing_counts`` …) are counters as they are; :func:`attended` adapts
``attendance_counts``.  A counter that needs the subjects themselves reads
``ctx.subject_rows`` (the rows being scored, set before any counter is called).
"""
from __future__ import annotations

import functools
import inspect
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from core.api import Rule, Scorer, to_decimal
from core.errors import UserError
from core.i18n import tr

CENT = Decimal("0.01")
ATTENDANCE_STATUSES = ("present", "leave", "absent")


# ---------------------------------------------------------------- values

def _value(spec, params):
    """A number, or the name of a parameter of the scorer (its value in force for the town);
    None when the parameter is not set."""
    if spec is None:
        return None
    if isinstance(spec, str):
        if spec in params:
            return params[spec]
        try:
            return to_decimal(spec)
        except ArithmeticError:
            return None
    return spec


def _cap(points: Decimal, cap) -> Decimal:
    """``points`` limited to ``cap`` (a deduction to ``-cap``); no cap when None or ""."""
    if cap is None or cap == "":
        return points
    cap = to_decimal(cap)
    return min(points, cap) if points >= 0 else max(points, -abs(cap))


def _shown(n):
    """(text for the label, count for the item) of a count or an amount."""
    if isinstance(n, Decimal):
        return format(n.normalize(), "f"), float(n)
    return n, n


# ---------------------------------------------------------------- items

class Item:
    """An item of an :class:`ItemScorer`.  ``prepare(ctx, ids)`` runs once for the scope
    (its queries) and returns what the item needs; ``points_for(prepared, row, key,
    params)`` gives ``(points, count, n)`` for one subject, or None when the item does not
    apply to it; the label (Chinese, English) is formatted with ``n`` unless it is None,
    and with what ``fields(ctx, town)`` returns (once per town) when the item has one."""
    code: str = "item"
    label: tuple = ("", "")
    fields = None  # (ctx, town) -> {name: value} for the label, e.g. a threshold in force in the town

    def prepare(self, ctx, ids):
        return None

    def points_for(self, prepared, row, key, params):
        raise NotImplementedError

    def memo_key(self, prepared, row, key):
        """What ``points_for`` depends on besides the parameters, when that is all: subjects with the
        same key (and town) get the same points, count and label, worked out once.  ``NO_MEMO``
        (the default: an item of a plugin's own may look at anything in the row) works out each."""
        return NO_MEMO


#: :meth:`Item.memo_key` of an item whose points are worked out for each subject.
NO_MEMO = object()


class Base(Item):
    """Points every subject gets: ``Base(60)`` or ``Base("base")`` (a parameter)."""

    def __init__(self, points, *, code: str = "base", label=("基础分", "base points")):
        self.points, self.code, self.label = points, code, tuple(label)

    def points_for(self, prepared, row, key, params):
        return to_decimal(_value(self.points, params)), None, None

    def memo_key(self, prepared, row, key):
        return ()


class PerCount(Item):
    """``points`` for each one counted by ``counter`` (see the module's notes); the item is
    left out for a subject counted 0.  ``every``: points per that many (hours per point:
    ``PerCount(1, volunteer_hours, every="volunteer_hours_per_point")``; 0 gives 0 points);
    ``cap``: at most that many points (a deduction at most that many off); ``key``: the
    subject's field the counter's keys are (default its id).  ``label`` (Chinese, English)
    may use ``{n}``, and the names ``fields(ctx, town)`` returns (once per town: a threshold
    in force there, say).  Numbers may be given as parameter names of the scorer."""

    def __init__(self, points, counter, cap=None, *, code: str | None = None, label=("{n}", "{n}"),
                 every=None, key: str | None = None, fields=None):
        self.points, self.counter, self.cap, self.every, self.key = points, counter, cap, every, key
        self.code = code or getattr(counter, "__name__", "count")
        self.label = tuple(label)
        self.fields = fields

    def prepare(self, ctx, ids):
        return self.counter(ctx, ids) or {}, {}

    def _settle(self, params):
        """(points per one, every, cap) in force with ``params``."""
        every = None if self.every is None else to_decimal(_value(self.every, params) or 0)
        return to_decimal(_value(self.points, params)), every, _value(self.cap, params)

    def points_for(self, prepared, row, key, params):
        counts, settled = prepared
        n = counts.get(key if self.key is None else _field(row, self.key), 0)
        if not n:
            return None
        values = settled.get(id(params))
        if values is None:  # once per town's parameters in a run
            values = settled[id(params)] = self._settle(params)
        per, every, cap = values
        if every is None:
            pts = per * n
        else:
            pts = per * to_decimal(n) / every if every else Decimal(0)
        pts = _cap(pts, cap)
        text, count = _shown(n)
        return pts, count, text

    def memo_key(self, prepared, row, key):
        n = prepared[0].get(key if self.key is None else _field(row, self.key), 0)
        return n.__class__, n  # 1 and Decimal("1") are equal, but not shown alike


class Capped(Item):
    """``item`` with its points limited to ``cap`` (a number or a parameter name; a deduction
    at most ``cap`` off; no cap when the parameter is not set)."""

    def __init__(self, item: Item, cap):
        self.item, self.cap = item, cap
        self.code, self.label, self.fields = item.code, item.label, item.fields

    def prepare(self, ctx, ids):
        return self.item.prepare(ctx, ids)

    def points_for(self, prepared, row, key, params):
        got = self.item.points_for(prepared, row, key, params)
        if got is None:
            return None
        pts, count, n = got
        return _cap(pts, _value(self.cap, params)), count, n

    def memo_key(self, prepared, row, key):
        return self.item.memo_key(prepared, row, key)


class When(Item):
    """``points`` for each subject for which ``condition`` holds: ``condition(ctx, ids)``
    returns the keys (ids unless ``key=``) it holds for, once for the scope.  ``fields`` as
    for :class:`PerCount`."""

    def __init__(self, condition, points, *, code: str | None = None, label=("", ""), key: str | None = None,
                 fields=None):
        self.condition, self.points, self.key = condition, points, key
        self.code = code or getattr(condition, "__name__", "when")
        self.label = tuple(label)
        self.fields = fields

    def prepare(self, ctx, ids):
        return self.condition(ctx, ids) or frozenset()

    def points_for(self, prepared, row, key, params):
        if (key if self.key is None else _field(row, self.key)) not in prepared:
            return None
        return to_decimal(_value(self.points, params)), None, None

    def memo_key(self, prepared, row, key):
        return (key if self.key is None else _field(row, self.key)) in prepared


def _field(row, name):
    return row[name] if isinstance(row, dict) else getattr(row, name)


def attended(status: str = "present", *, org_community: bool = False):
    """A counter of meetings attended with ``status`` (``present`` / ``leave`` / ``absent``)
    in the year up to the as-of date; ``org_community`` as for ``attendance_counts``.  The
    counters of one scoring run share one query."""
    from core.sets import attendance_counts

    def counter(ctx, ids):
        memo = ctx.__dict__.setdefault("_shortform_memo", {})
        key = ("attendance", org_community)
        if key not in memo:  # the statuses the scorer's attended counters ask for (ItemScorer notes them)
            statuses = memo.get(("attendance_statuses", org_community), ATTENDANCE_STATUSES)
            memo[key] = attendance_counts(ctx, ids, statuses, org_community=org_community)
        counts = memo[key]
        return {mid: n for (mid, st), n in counts.items() if st == status}

    counter.__name__ = f"attended_{status}"
    counter.attendance = (status, org_community)
    return counter


# ---------------------------------------------------------------- the scorer

class ItemScorer(Scorer):
    """A :class:`core.Scorer` declared by its items: ``ItemScorer(name, title_zh, title_en,
    items=[Base("base"), PerCount("per_pairing", pairing_counts, label=(…, …)) …],
    subjects="member", classes=("in_service",))``.

    ``subjects``: ``member`` (the members on the roster in scope of ``classes``, as
    ``members_in_scope`` gives them), ``worker`` (the workers in post) or ``community``;
    ``where(row)`` keeps only some of them; ``klass(total, params)`` gives the class label
    of a result.  Each item's counter runs once for the scope; the results are the same
    ``(subject, points, items)`` a hand-written scorer yields, items in the order given
    (an item that does not apply is left out)."""

    def __init__(self, name, title_zh, title_en, items, subjects: str = "member", towns=None, params=None,
                 *, classes=None, where=None, klass=None):
        if subjects not in ("member", "worker", "community"):
            raise ValueError(f"ItemScorer scores members, workers or communities, not {subjects!r}")
        super().__init__(name, title_zh, title_en, self._score, subjects=subjects, towns=towns,
                         params=dict(params or {}))
        self.items = list(items)
        self.classes = classes
        self.where = where
        self.klass = klass

    def _subjects(self, ctx):
        """(rows, ids for counters, row → (key, subject, community id, meta))."""
        if self.subjects == "member":
            from core.sets import members_in_scope, scope_member_ids

            rows = members_in_scope(ctx, self.classes)
            return rows, lambda: scope_member_ids(ctx, self.classes), \
                lambda m: (m["id"], m["id_number"], m["community_id"], {"name": m["name"], "org": m["org"]})
        if self.subjects == "worker":
            from core.rules import workers_in_post
            from core.sets import scope_worker_ids

            rows = workers_in_post(ctx.community_ids, ctx.as_of)
            return rows, lambda: scope_worker_ids(ctx), lambda w: (w.id, w.id_number, w.community_id, {"name": w.name})
        rows = list(ctx.communities)
        return rows, lambda: list(ctx.community_ids), lambda c: (c.id, c.code, c.id, {"name": c.name})

    def _score(self, ctx):
        rows, ids_of, unpack = self._subjects(ctx)
        if self.where is not None:
            rows = [r for r in rows if self.where(r)]
        if not rows:
            return
        ctx.subject_rows = rows
        ids = ids_of()
        memo = ctx.__dict__.setdefault("_shortform_memo", {})
        for item in self.items:  # the attended counters of the run share one query of the statuses they need
            inner = item.item if isinstance(item, Capped) else item
            status, org_community = getattr(getattr(inner, "counter", None), "attendance", (None, None))
            if status is not None:
                wanted = memo.setdefault(("attendance_statuses", org_community), ())
                if status not in wanted:
                    memo[("attendance_statuses", org_community)] = wanted + (status,)
        states = prepare_items(self.items, ctx, ids, len(rows))
        prepared = [(item, state, tr(*item.label), {}, {}, type(item).memo_key is not Item.memo_key)
                    for item, state in zip(self.items, states)]
        zero = Decimal(0)

        def worked_out(item, state, text, per_town, row, key, p, town):
            """(points, count, label) of ``item`` for a subject, or None where it does not apply."""
            got = item.points_for(state, row, key, p)
            if got is None:
                return None
            pts, count, n = got
            if item.fields is not None:
                if town not in per_town:  # once per town in a run
                    per_town[town] = dict(item.fields(ctx, town) or {})
                label = text.format(**per_town[town], **({} if n is None else {"n": n}))
            else:
                label = text if n is None else text.format(n=n)
            return ctx.item(item.code, label, pts, count)

        for row in rows:
            key, subject, community_id, meta = unpack(row)
            ref = ctx.community(community_id)
            town = ref.town
            p = ctx.params(town)
            out = []
            total = zero
            for item, state, text, per_town, memo, memoable in prepared:
                mk = item.memo_key(state, row, key) if memoable else NO_MEMO
                if mk is NO_MEMO:
                    made = worked_out(item, state, text, per_town, row, key, p, town)
                else:  # the same key, parameters and town: the same item, worked out once
                    slot = (mk, id(p), town if item.fields is not None else None)
                    proto = memo.get(slot, memo)
                    if proto is memo:
                        proto = memo[slot] = worked_out(item, state, text, per_town, row, key, p, town)
                    made = None if proto is None else dict(proto)
                if made is not None:
                    total += made["points"]
                    out.append(made)
            klass = None if self.klass is None else self.klass(total, p)
            yield ctx.result(subject, out, community=ref, klass=klass, points=total, **meta)


# ---------------------------------------------------------------- the items' counts in two processes

#: Subjects from which an :class:`ItemScorer` computes its items' counts in two processes (``auto``).
PREPARE_FORK_MIN_SUBJECTS = 5000


def prepare_items(items, ctx, ids, subjects: int) -> list:
    """Each item's ``prepare(ctx, ids)`` (its counter's queries, once for the scope), in the items'
    order.  With two CPUs and many ``subjects`` (``DANGJIAN_SCORE_WORKER``: ``0`` never, ``1``
    always where possible) a forked worker computes some of them while this process computes the
    others: this process takes the items from the front, the worker from the back, and the
    worker sends back what it computed and the plugin failures it saw.  The items whose counters
    raised (in either process), or whose counts pickle cannot carry, are computed again here in
    the items' order, so that the error raised (or the counts) is the one process's; a worker
    that died is an error."""
    from core import procs

    tasks = _prepare_tasks(items)
    states: list = [None] * len(items)
    if len(tasks) < 2 or not procs.wanted("DANGJIAN_SCORE_WORKER", subjects, PREPARE_FORK_MIN_SUBJECTS):
        for i, item in enumerate(items):
            states[i] = item.prepare(ctx, ids)
        return states
    _prepare_in_two(items, tasks, ctx, ids, states)
    return states


def _prepare_tasks(items) -> list[list[int]]:
    """The items to prepare as tasks (lists of item indexes): the attended counters of a run share
    one query (:func:`attended`), so they are one task, first (it is the costly one); items with
    nothing to prepare are no task."""
    tasks: list[list[int]] = []
    shared: dict = {}
    for i, item in enumerate(items):
        if type(item).prepare is Item.prepare:
            continue
        inner = item.item if isinstance(item, Capped) else item
        attendance = getattr(getattr(inner, "counter", None), "attendance", None)
        if attendance is None:
            tasks.append([i])
        elif attendance[1] in shared:
            shared[attendance[1]].append(i)
        else:
            shared[attendance[1]] = [i]
    return list(shared.values()) + tasks


def worker_failed(exc) -> UserError:
    """The error a score gives when its forked worker (:func:`core.procs.in_two`) failed or died."""
    return UserError(tr("评分的工作进程出错：\n{e}", "the score's worker process failed:\n{e}", e=exc.detail))


def _prepare_in_two(items, tasks, ctx, ids, states) -> None:
    import pickle

    from core import plugins, procs

    take = procs.work_queue(len(tasks))
    manager = plugins.get()

    def worker():
        done = []
        while (k := take(from_back=True)) is not None:
            with manager.watch() as seen:
                try:
                    got = [(i, items[i].prepare(ctx, ids)) for i in tasks[k]]
                    blob = pickle.dumps(got, pickle.HIGHEST_PROTOCOL)
                except Exception:  # noqa: BLE001 - computed again by the parent, which raises it
                    blob = None
            done.append((k, blob, list(seen) if blob is not None else []))
        return done, manager.ran_so_far()

    def here() -> list:
        failed = []
        while (k := take()) is not None:
            try:
                for i in tasks[k]:
                    states[i] = items[i].prepare(ctx, ids)
            except Exception:  # noqa: BLE001 - computed again below, in the items' order
                failed.append(k)
        return failed

    try:
        again, (done, ran) = procs.in_two(worker, here)
    except procs.WorkerFailed as exc:
        raise worker_failed(exc) from None
    for k, blob, seen in sorted(done):
        if blob is None:
            again.append(k)
            continue
        manager.adopt(seen)
        for i, state in pickle.loads(blob):
            states[i] = state
    manager.adopt_ran(ran)
    for k in sorted(again, key=lambda k: min(tasks[k])):  # the first item that raises is raised, as in one process
        for i in tasks[k]:
            states[i] = items[i].prepare(ctx, ids)


# ---------------------------------------------------------------- share rule

def _pct(fr: Fraction) -> str:
    v = fr * 100
    return f"{v.numerator} %" if v.denominator == 1 else f"{float(v):.1f} %"


def share_rule(id: str, clause: int, title_zh: str, title_en: str, *, numerator, denominator,
               threshold="3/20", below: str | None = None, above: str | None = None, param: str = "threshold",
               empty: str = "info", towns=None, description_zh: str = "", description_en: str = "") -> Rule:
    """A :class:`core.Rule` over communities: the share ``numerator / denominator`` (each a
    counter ``(ctx, community_ids) → {community id: n}``) compared exactly with
    ``threshold`` (the parameter ``param``, "3/20", 0.15 or a Fraction; config overrides it).

    With ``below`` (``"warn"`` when neither is given) the threshold is a minimum: a share
    below it gets that status, at or above it ``pass``.  With ``above`` instead it is a
    maximum: above it gets that status, at or below it ``pass``.  A community with nothing to count (denominator
    0) gets ``empty``.  One finding per community; evidence ``numerator``,
    ``denominator``, ``share`` (``"n/d"``) and the threshold."""
    if below is not None and above is not None:
        raise ValueError("share_rule: give below= (a minimum share) or above= (a maximum share), not both")
    if above is None:
        below = below or "warn"
    Fraction(threshold if not isinstance(threshold, float) else str(threshold))  # fails early on a bad default

    def evaluate(ctx):
        from core.rules import fraction

        ids = ctx.community_ids
        nums = numerator(ctx, ids) or {}
        dens = denominator(ctx, ids) or {}
        for ref in ctx.communities:
            limit = fraction(ctx.params(ref.town)[param])
            n, d = nums.get(ref.id, 0), dens.get(ref.id, 0)
            ev = {"numerator": n, "denominator": d, param: str(limit)}
            if not d:
                yield ctx.finding(ref.code, empty, tr("无可计算的对象", "nothing to count"), ev, community=ref)
                continue
            ev["share"] = f"{n}/{d}"
            lhs, rhs = n * limit.denominator, d * limit.numerator  # exact: n/d against the limit
            if below is not None:
                ok = lhs >= rhs
                msg = (tr("{n}/{d}（{s}），不低于 {t}", "{n} of {d} ({s}), at least {t}", n=n, d=d,
                          s=_pct(Fraction(n, d)), t=_pct(limit)) if ok else
                       tr("{n}/{d}（{s}），低于 {t}", "{n} of {d} ({s}), below {t}", n=n, d=d,
                          s=_pct(Fraction(n, d)), t=_pct(limit)))
                yield ctx.finding(ref.code, "pass" if ok else below, msg, ev, community=ref)
            else:
                ok = lhs <= rhs
                msg = (tr("{n}/{d}（{s}），不超过 {t}", "{n} of {d} ({s}), at most {t}", n=n, d=d,
                          s=_pct(Fraction(n, d)), t=_pct(limit)) if ok else
                       tr("{n}/{d}（{s}），超过 {t}", "{n} of {d} ({s}), more than {t}", n=n, d=d,
                          s=_pct(Fraction(n, d)), t=_pct(limit)))
                yield ctx.finding(ref.code, "pass" if ok else above, msg, ev, community=ref)

    return Rule(id=id, clause=clause, title_zh=title_zh, title_en=title_en, evaluate=evaluate,
                params={param: threshold}, subjects="community", towns=towns,
                description_zh=description_zh, description_en=description_en)


# ---------------------------------------------------------------- towns

def for_towns(*towns: str):
    """A decorator for a hook implementation that takes ``town``: it acts only for ``towns``
    and returns None (nothing: the next plugin answers) for every other town.  Put it under
    ``@hookimpl``; the hook's argument names are kept."""
    wanted = frozenset(t for group in towns for t in ((group,) if isinstance(group, str) else group))
    if not wanted:
        raise ValueError("for_towns needs at least one town")

    def decorate(fn):
        sig = inspect.signature(fn)
        if "town" not in sig.parameters:
            raise TypeError(f"for_towns: {fn.__name__} takes no 'town' argument")

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            town = sig.bind_partial(*args, **kwargs).arguments.get("town")
            if town not in wanted:
                return None
            return fn(*args, **kwargs)

        wrapper.towns = tuple(sorted(wanted))
        return wrapper

    return decorate


def _percent(value) -> Fraction:
    return Fraction(str(value)) if isinstance(value, float) else Fraction(value)


def percentage_split(shares: dict):
    """The ``dangjian_funding_split`` hook implementation for fixed percentages:
    ``percentage_split({"昆山开发区": (50, 50), "玉山镇": (50, 50)})`` — per town
    ``(city %, town %)`` summing to 100.  The city's share is rounded half up to the 分
    and the town pays the rest, so the shares sum to the amount; other towns get None
    (the next plugin answers).  Assign it at module level::

        dangjian_funding_split = percentage_split({"巴城镇": (30, 70)})
    """
    from core.hookspecs import hookimpl

    table: dict = {}
    for town, pair in shares.items():
        city, own = (_percent(v) for v in pair)
        if city < 0 or own < 0 or city + own != 100:
            raise ValueError(f"percentage_split: {town}'s shares {pair!r} must be ≥ 0 and sum to 100")
        table[town] = city

    def dangjian_funding_split(town, community, year, amount):
        pct = table.get(town)
        if pct is None:
            return None
        amount = Decimal(amount)
        city = (amount * pct.numerator / (pct.denominator * 100)).quantize(CENT, rounding=ROUND_HALF_UP)
        return {"city": city, "town": amount - city}

    dangjian_funding_split.shares = dict(shares)
    return hookimpl(dangjian_funding_split)
