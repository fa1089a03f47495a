"""Work in a second process: what the check and the import share when they fork a worker.

A worker is forked (POSIX only) from a process with one thread and no open
transaction; it reads the database through a connection of its own
(:func:`core.db.reopen_in_child`) and never writes to it.  On one core the two
processes would only take turns, so the callers fork only with two or more.
"""
from __future__ import annotations

import os


def cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def can_fork() -> bool:
    """A worker may be forked here: POSIX, one thread (a fork copies only the calling
    thread, and whatever another thread held stays held), no open transaction."""
    import threading

    from core import db

    return hasattr(os, "fork") and threading.active_count() == 1 and not db.database.in_transaction()


def setting(name: str) -> str:
    """A worker switch from the environment: ``0`` never, ``1`` always (where possible), else ``auto``."""
    value = os.environ.get(name, "auto").strip()
    return value if value in ("0", "1") else "auto"


_halves = False  # this process runs one half of work split in two (:func:`halves`)


def wanted(name: str, size: int, minimum: int) -> bool:
    """Work in a forked worker?  The switch ``name`` (:func:`setting`): ``0`` never, ``1`` always
    where a fork is possible, else when ``size`` reaches ``minimum`` and there are two CPUs (on one
    core the two processes would only take turns).  Never inside one half of work already split
    in two (:func:`halves`): both CPUs are busy."""
    switch = setting(name)
    if switch == "0" or _halves or not can_fork():
        return False
    return switch == "1" or (cpus() >= 2 and size >= minimum)


def work_queue(n: int):
    """``take(from_back=False)``: the next of the tasks ``0 .. n-1`` not yet taken, or None when
    none is left -- shared by this process and a worker forked after the call (a lock and two
    counters in shared memory).  Each side takes from its own end when the costly tasks are
    known to lie at both ends; from the front, when they are put first."""
    import multiprocessing

    mp = multiprocessing.get_context("fork")
    ends, lock = mp.RawArray("i", [0, n]), mp.Lock()

    def take(from_back: bool = False):
        with lock:
            lo, hi = ends[0], ends[1]
            if lo >= hi:
                return None
            if from_back:
                ends[1] = hi - 1
                return hi - 1
            ends[0] = lo + 1
            return lo
    return take


def reap(pid: int, *, stop: bool) -> None:
    """Wait for the worker ``pid`` to end; ``stop``: the parent gave up on it (an error, an
    interrupt), so it is sent SIGTERM first."""
    import signal

    if stop:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    os.waitpid(pid, 0)


def side_by_side(child, here):
    """``child()`` in a forked worker while this process runs ``here()``; returns ``(what here()
    returned, the bytes child() returned)`` -- ``b""`` when the worker died before answering.

    ``child`` runs in the worker only: it opens its own connection first
    (:func:`core.db.reopen_in_child`) and turns its own errors into its answer, which it
    returns as bytes (say, pickled); whatever escapes it ends the worker with no answer.  An
    error or interrupt in ``here`` stops the worker (SIGTERM) before it is raised."""
    r_fd, w_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker
        code = 0
        try:
            os.close(r_fd)
            answer = child()
            with os.fdopen(w_fd, "wb") as out:
                out.write(answer)
        except BaseException:  # noqa: BLE001 - no answer: the parent reports it
            code = 1
        finally:
            os._exit(code)
    os.close(w_fd)
    finished = False
    try:
        mine = here()
        with os.fdopen(r_fd, "rb") as inp:
            r_fd = None
            answer = inp.read()
        finished = True
    finally:
        if r_fd is not None:
            os.close(r_fd)
        reap(pid, stop=not finished)
    return mine, answer


class WorkerFailed(Exception):
    """The worker of :func:`in_two` raised (``detail``: its traceback) or died (``detail`` says so);
    ``mine``: what this process's ``here()`` returned all the same."""

    def __init__(self, detail: str, mine=None):
        super().__init__(detail)
        self.detail, self.mine = detail, mine


def in_two(child, here, plain=None):
    """``(here(), child())``: ``child()`` runs in a forked worker (on a read-only connection of its
    own, :func:`core.db.reopen_in_child`) while this process runs ``here()``, and its value comes
    back pickled.  ``plain(value)``: the value made something pickle can carry, when it cannot carry
    the value itself.  A :class:`core.errors.UserError` in the worker is raised here as it is;
    any other error, or a worker that died, raises :class:`WorkerFailed`."""
    import pickle
    import traceback

    from core import db
    from core.errors import UserError
    from core.i18n import tr

    def worker() -> bytes:
        try:
            db.reopen_in_child()
            value = child()
            try:
                return pickle.dumps(("ok", value), pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001 - only plain() may help
                if plain is None:
                    raise
                return pickle.dumps(("ok", plain(value)), pickle.HIGHEST_PROTOCOL)
        except UserError as exc:
            return pickle.dumps(("user", str(exc)), pickle.HIGHEST_PROTOCOL)
        except BaseException:  # noqa: BLE001 - reported by the parent
            return pickle.dumps(("error", traceback.format_exc()), pickle.HIGHEST_PROTOCOL)

    mine, data = side_by_side(worker, here)
    try:
        tag, value = pickle.loads(data)
    except Exception:  # noqa: BLE001 - the worker died before it could answer
        tag, value = "error", tr("工作进程意外退出", "the worker process ended unexpectedly")
    if tag == "user":
        raise UserError(value)
    if tag != "ok":
        raise WorkerFailed(value, mine)
    return mine, value


class Swap:
    """One value each way between this process and the worker of :func:`in_two`, halfway through
    their work (say, what two halves must agree on before they write).  Made before
    :func:`in_two`; the worker calls :meth:`worker_swap`, this process :meth:`here_take` and then
    :meth:`here_give`.  A worker that ends before its swap gives ``None`` here (its own error
    comes from :func:`in_two`)."""

    def __init__(self):
        self._up = os.pipe()    # worker → here
        self._down = os.pipe()  # here → worker
        self._open = {*self._up, *self._down}

    def _shut(self, *fds) -> None:
        for fd in fds:
            if fd in self._open:
                self._open.discard(fd)
                os.close(fd)

    def _read(self, fd):
        import pickle

        self._open.discard(fd)
        with os.fdopen(fd, "rb") as inp:
            data = inp.read()
        try:
            return pickle.loads(data) if data else None
        except Exception:  # noqa: BLE001 - cut short: the other side ended while it sent
            return None

    def _write(self, fd, value) -> None:
        import pickle

        self._open.discard(fd)
        with os.fdopen(fd, "wb") as out:
            out.write(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))

    def worker_swap(self, value):
        """In the worker: send ``value``, return what this process sends back (None: it gave up)."""
        self._shut(self._up[0], self._down[1])
        self._write(self._up[1], value)
        return self._read(self._down[0])

    def here_take(self):
        """Here: the worker's value, or None when it ended without sending one."""
        self._shut(self._up[1], self._down[0])
        return self._read(self._up[0])

    def here_give(self, value) -> None:
        """Here: send the worker ``value`` (after :meth:`here_take`); a worker already gone is
        not an error here (:func:`in_two` tells its end)."""
        try:
            self._write(self._down[1], value)
        except BrokenPipeError:
            pass

    def close(self) -> None:
        """Here, whatever happened: the ends still open."""
        self._shut(*list(self._open))


def halves(child, here, swap: Swap):
    """:func:`in_two` for work split in two halves that swap a value halfway (``swap``): neither
    half forks a worker of its own (:func:`wanted`)."""
    global _halves
    _halves = True
    try:
        return in_two(child, here)
    finally:
        _halves = False
        swap.close()
