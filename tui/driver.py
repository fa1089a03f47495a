"""The terminal driver: Textual's Linux driver, minus its 10 wakeups a second at rest.

Textual 8.2.8's ``LinuxDriver`` reads keys in a thread that calls
``select(0.1)`` in a loop, so that it notices the end of the session and the
lapse of a lone Escape (the parser waits a moment for the rest of an escape
sequence).  An idle session therefore wakes ten times a second: on a small
server about 5 ms of CPU a second per session, which a hundred SSH sessions
turn into half a core doing nothing.

:class:`QuietDriver` waits with no timeout unless the parser is waiting for
the rest of a sequence (then only until that moment), and the end of input
wakes the wait through a pipe.  Everything else is Textual's driver.

:meth:`tui.app.DangjianApp.get_driver_class` returns this class and never
Textual's ``TEXTUAL_DRIVER`` environment variable, which would import any
module a user names.
"""
from __future__ import annotations

import os
import selectors
import threading
from codecs import getincrementaldecoder

from textual._loop import loop_last
from textual._parser import ParseError
from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

_WAKE = b"\0"


class _WakingEvent(threading.Event):
    """The driver's exit event: setting it also wakes the input thread's wait."""

    def __init__(self, wake_fd: int):
        super().__init__()
        self._wake_fd = wake_fd

    def set(self) -> None:
        super().set()
        try:
            os.write(self._wake_fd, _WAKE)
        except OSError:  # the pipe is full (already woken) or closed (driver gone)
            pass


class QuietDriver(LinuxDriver):
    """``LinuxDriver`` whose input thread sleeps until there is input, a parser deadline or the end."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self.exit_event = _WakingEvent(self._wake_w)

    def _drain_wake(self) -> None:
        try:
            while os.read(self._wake_r, 512):
                pass
        except OSError:  # empty (EAGAIN)
            pass

    def run_input_thread(self) -> None:
        """Textual's loop with a wait that ends on input, on the parser's deadline or on exit."""
        selector = selectors.SelectSelector()
        fileno = self.fileno
        selector.register(fileno, selectors.EVENT_READ)
        selector.register(self._wake_r, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
        feed = parser.feed
        tick = parser.tick
        decode = getincrementaldecoder("utf-8")().decode
        read = os.read

        def timeout() -> float | None:
            deadline = parser._timeout_time  # set while the parser waits for the rest of a sequence
            if deadline is None:
                return None
            return max(0.0, deadline - get_time())

        def process(events, final: bool = False) -> None:
            events = [(key, mask) for key, mask in events if key.fd == fileno]
            for last, (_key, mask) in loop_last(events):
                if mask & selectors.EVENT_READ:
                    data = decode(read(fileno, 1024 * 4), final=final and last)
                    if not data:
                        break
                    for event in feed(data):
                        self.process_message(event)
            for event in tick():
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                events = selector.select(timeout())
                if any(key.fd == self._wake_r for key, _ in events):
                    self._drain_wake()
                process(events)
            selector.unregister(fileno)
            process(selector.select(0.1), final=True)
        finally:
            selector.close()
            try:
                for _event in feed(""):
                    pass
            except (EOFError, ParseError):  # as Textual's driver: nothing left to deliver at the very end
                pass

    def close(self) -> None:
        super().close()
        self.exit_event._wake_fd = -1  # a late set() must not write to a reused descriptor number
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self._wake_r = self._wake_w = -1
