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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal

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
            gc.set_threshold(_thresholds[0], _thresholds[1], 1 << 30)
    try:
        yield
    finally:
        with _collector_lock:
            _collector_holds -= 1
            if _collector_holds == 0:
                gc.set_threshold(*_thresholds)


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
