"""BackgroundJob: work that can take longer than a frame, run on Qt's thread pool.

The GUI thread stays free while a query runs; the result (or the error) comes back as a
signal on the GUI thread. Cancelling sets a flag the work polls between steps, and a
cancelled job's result is dropped even if it finishes anyway.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QThreadPool, QTimer, Signal

log = logging.getLogger("explorer.jobs")

_RUNNING: set[BackgroundJob] = set()


def release_free_memory() -> None:
    """Hand memory freed after a big read back to the system (glibc keeps it otherwise, and
    the next big read then stacks on top: tens of MB at a million records)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (musl, …): nothing to do
        pass


_collector_holds = 0
_collector_lock = threading.Lock()
_thresholds = gc.get_threshold()
FULL_PASSES_OFF = 1 << 30  # a third threshold no count reaches: only the young generations by themselves
_FULL_DUE = max(_thresholds[2], 1)  # CPython's: young passes between full ones


@contextmanager
def collector_young_only() -> Iterator[None]:
    """Python's cycle collector stops every thread while it walks the heap: with a large
    import's rows in memory one full pass takes 0.1–0.4 s, a frozen window although the work
    runs on another thread. While background work runs, only the young generations are
    collected (short passes over what was just made); reference counting frees as usual, and
    the full passes resume when the last such work ends."""
    global _collector_holds
    with _collector_lock:
        _collector_holds += 1
        if _collector_holds == 1:
            gc.set_threshold(_thresholds[0], _thresholds[1], FULL_PASSES_OFF)
    try:
        yield
    finally:
        with _collector_lock:
            _collector_holds -= 1
            if _collector_holds == 0:
                gc.set_threshold(*_thresholds)


class IdleCollector(QObject):
    """Full passes of Python's cycle collector when nobody waits: each one walks every tracked
    object not frozen, and what the session reads after start-up stays tracked (a tree opened
    to a company listed in forty sectors holds 440,000 rows: a 150–180 ms pass, which landed
    in the next save or keystroke at random). Automatic full passes are turned off; this runs
    one once they are due (as many young passes as CPython waits for) and the person has not
    typed, clicked, scrolled or moved the pointer for ``QUIET_S``; past ``FORCED_AFTER`` young
    passes it runs one anyway, so cyclic garbage stays bounded in a session without pauses.
    Reference counting frees everything else as usual."""

    QUIET_S = 1.5
    CHECK_MS = 500
    FORCED_AFTER = 400
    INPUT = frozenset(
        {
            QEvent.Type.KeyPress,
            QEvent.Type.KeyRelease,
            QEvent.Type.MouseButtonPress,
            QEvent.Type.MouseButtonRelease,
            QEvent.Type.MouseMove,
            QEvent.Type.Wheel,
            QEvent.Type.TouchBegin,
            QEvent.Type.TouchUpdate,
            QEvent.Type.InputMethod,
        }
    )

    _installed: IdleCollector | None = None

    @classmethod
    def install(cls) -> IdleCollector:
        """The application's one idle collector, made on first call."""
        app = QCoreApplication.instance()
        assert app is not None, "the idle collector needs the application's event loop"
        if cls._installed is None:
            cls._installed = cls(app)
        return cls._installed

    def __init__(self, app: QCoreApplication, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(app)
        global _thresholds
        self._clock = clock
        self._last_activity = clock()
        self.passes: list[float] = []  # ms of each full pass run (the log has them too)
        with _collector_lock:
            self._due = _FULL_DUE
            _thresholds = (_thresholds[0], _thresholds[1], FULL_PASSES_OFF)
            if _collector_holds == 0:
                gc.set_threshold(*_thresholds)
        app.installEventFilter(self)
        self._timer = QTimer(self)
        self._timer.setInterval(self.CHECK_MS)
        self._timer.timeout.connect(self._check)
        self._timer.start()

    def eventFilter(self, _obj: QObject, event: QEvent) -> bool:
        if event.type() in self.INPUT:
            self._last_activity = self._clock()
        return False

    def busy(self, *_args: object) -> None:
        """Something the person is waiting for started (a selection, a filter, a write): not now."""
        self._last_activity = self._clock()

    def _check(self) -> None:
        young = gc.get_count()[2]  # young-generation passes since the last full one
        # a full pass stops every thread: not while background work runs (collector_young_only)
        quiet = self._clock() - self._last_activity >= self.QUIET_S and _collector_holds == 0
        if (young >= self._due and quiet) or young >= self.FORCED_AFTER:
            t0 = time.perf_counter()
            gc.collect()
            ms = (time.perf_counter() - t0) * 1000
            self.passes.append(ms)
            if ms >= 20:
                log.debug("full collector pass while idle: %.0f ms", ms)

    def stop(self) -> None:
        """Automatic full passes again (tests use it to leave the collector as they found it)."""
        global _thresholds
        self._timer.stop()
        app = QCoreApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        with _collector_lock:
            _thresholds = (_thresholds[0], _thresholds[1], self._due)
            if _collector_holds == 0:
                gc.set_threshold(*_thresholds)
        if IdleCollector._installed is self:
            IdleCollector._installed = None


Work = Callable[[Callable[[], bool], Callable[[Any], None]], Any]  # receives "am I cancelled?" and "report this"


class BackgroundJob(QObject):
    """Signals:
    finished(object): the work's result (never emitted once cancelled).
    failed(object): the exception the work raised.
    progress(object): whatever the work reported on the way (a part of the result, a count).
    """

    finished = Signal(object)
    failed = Signal(object)
    progress = Signal(object)
    _reported = Signal(object)
    _done = Signal(object, object)  # from the worker thread, delivered queued on the GUI thread

    def __init__(self, work: Work, label: str) -> None:
        # No Qt parent: the job must outlive whoever started it until its thread is done, or
        # the thread would signal a deleted object. It lets go of itself once delivered.
        super().__init__(None)
        self.label = label
        self._work = work
        self._cancel = threading.Event()
        self._done.connect(self._deliver)
        self._reported.connect(self._relay_progress)

    def start(self) -> None:
        _RUNNING.add(self)
        QThreadPool.globalInstance().start(self._run)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def _run(self) -> None:
        error: Exception | None
        try:
            with collector_young_only():
                result = self._work(self._cancel.is_set, self._report)
        except Exception as exc:  # delivered to the GUI thread, which reports it
            result, error = None, exc
        else:
            error = None
        try:
            self._done.emit(result, error)
        except RuntimeError:  # the application quit while this ran: nobody is waiting
            pass

    def _report(self, value: Any) -> None:
        if self._cancel.is_set():
            return
        try:
            self._reported.emit(value)
        except RuntimeError:
            self._cancel.set()

    def _relay_progress(self, value: Any) -> None:
        if not self._cancel.is_set():
            self.progress.emit(value)

    def _deliver(self, result: Any, error: Exception | None) -> None:
        _RUNNING.discard(self)  # only now: the worker thread may still emit until it has finished
        self.deleteLater()
        if self._cancel.is_set():
            return
        if error is not None:
            self.failed.emit(error)
        else:
            self.finished.emit(result)

    @staticmethod
    def stop_all(timeout_ms: int = 3_000) -> None:
        """Cancel every job and give their threads a moment to finish (quitting)."""
        for job in list(_RUNNING):
            job.cancel()
        QThreadPool.globalInstance().waitForDone(timeout_ms)

    def wait(self, timeout_ms: int = 60_000) -> bool:
        """Block until the pool is idle and deliver the result (tests, benchmarks, shutdown)."""
        from PySide6.QtCore import QCoreApplication

        ok = QThreadPool.globalInstance().waitForDone(timeout_ms)
        QCoreApplication.processEvents()
        return ok
