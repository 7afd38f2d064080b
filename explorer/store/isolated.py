"""Store work run in a process of its own: large imports.

Checking and writing a 100,000-row spreadsheet is a minute of Python. On a thread of the app's
own process it still holds the interpreter's lock and its cycle collector for long stretches,
and the window stutters (0.1–0.6 s at a time) although nothing runs on the GUI thread. In a
second process it cannot: the app only waits on a pipe. The child opens the same database
(file or server) as the same user, runs one Store method and sends back its progress and
result; results too large for one message come in parts, so that taking one in stays short.
"""

from __future__ import annotations

import inspect
import logging
import multiprocessing
import multiprocessing.connection
import pickle
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from explorer.store.changes import Change, ChangeEvent
from explorer.store.errors import StoreError

if TYPE_CHECKING:
    from explorer.store import Store

log = logging.getLogger("explorer.store.isolated")

PART = 2_000  # changes (or other items) a message
LARGE_PARTS = ("created", "updated", "versions")  # an ImportResult's lists, sent in parts
# Rows from which a check or import runs in a process of its own: below, starting one (about a
# second) costs more than the stutter it saves.
ISOLATE_ROWS = 5_000


def worth_it(*plans: Any) -> bool:
    """Whether the spreadsheet plans are large enough to check or import in another process."""
    rows: int = sum(p.sheet.row_count for p in plans)
    return rows >= ISOLATE_ROWS


class IsolatedWorkError(StoreError):
    title = "The background import stopped"


def run_isolated(
    store: Store,
    method: str,
    args: tuple[Any, ...],
    progress: Callable[..., None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Any:
    """``getattr(child_store, method)(*args, progress=…, cancelled=…)`` in a child process;
    its result, or the StoreError it raised (raised again here). Blocks the calling thread
    (a background job's), never the GUI thread."""
    where = (store.url, store.user, store.read_only)
    return _in_child(where, method, args, progress, cancelled)


def run_function(
    function: Callable[..., Any],
    args: tuple[Any, ...],
    progress: Callable[..., None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Any:
    """``function(*args)`` (a module-level function, with ``progress``/``cancelled`` if it takes
    them) in a child process, as run_isolated does a Store method. For work with no database
    that would otherwise run as Python on a thread of the app: reading a large spreadsheet there
    keeps the interpreter's lock from the GUI thread, and a dialog opening meanwhile (hundreds of
    calls into Python, each waiting its turn for the lock) freezes for as long as the reading."""
    return _in_child(None, function, args, progress, cancelled)


def _in_child(
    where: tuple[str, str, bool] | None,
    call: str | Callable[..., Any],
    args: tuple[Any, ...],
    progress: Callable[..., None] | None,
    cancelled: Callable[[], bool] | None,
) -> Any:
    ctx = multiprocessing.get_context("spawn")  # a fork of a Qt app with threads is not safe
    mine, theirs = ctx.Pipe()
    stop = ctx.Event()
    name = call if isinstance(call, str) else call.__name__
    child = ctx.Process(
        target=_child_main,
        args=(theirs, stop, where, call, pickle.dumps(args)),
        name=f"explorer-{name}",
        daemon=True,
    )
    child.start()
    theirs.close()
    changes: list[Change] = []
    parts: dict[str, list[Any]] = {}
    try:
        while True:
            if cancelled is not None and cancelled():
                stop.set()
            if not mine.poll(0.05):
                if not child.is_alive() and not mine.poll(0):
                    raise IsolatedWorkError(f"The worker process ended without an answer (exit code {child.exitcode}).")
                continue
            try:
                kind, payload = mine.recv()
            except EOFError:
                raise IsolatedWorkError("The worker process ended without an answer.") from None
            if kind == "progress":
                if progress is not None:
                    progress(*payload)
            elif kind == "changes":
                changes += [Change(a, t, i, f) for a, t, i, f in payload]
            elif kind == "part":
                name, items = payload
                parts.setdefault(name, []).extend(items)
            elif kind == "done":
                for name, items in parts.items():
                    current = getattr(payload, name)
                    setattr(payload, name, dict(items) if isinstance(current, dict) else items)
                return _with_changes(payload, changes)
            elif kind == "error":
                raise payload
            elif kind == "failed":  # an exception that does not pickle, as text
                raise IsolatedWorkError(payload)
    finally:
        stop.set()
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
        mine.close()


def _with_changes(result: Any, changes: list[Change]) -> Any:
    event = result.changes if isinstance(getattr(result, "changes", None), ChangeEvent) else result
    if isinstance(event, ChangeEvent):
        event.changes = changes
        event.revision = 0  # counted by this process's store when published here, not the child's
        event.summarise()
    return result


def _child_main(
    pipe: multiprocessing.connection.Connection,
    stop: Any,
    where: tuple[str, str, bool] | None,
    method: str | Callable[..., Any],
    blob: bytes,
) -> None:
    lock = threading.Lock()

    def send(kind: str, payload: Any) -> None:
        with lock:
            pipe.send((kind, payload))

    store: Store | None = None
    try:
        args = pickle.loads(blob)  # here, so that a file that cannot be read again is reported
        if where is None:
            assert callable(method)
            call = method
        else:
            from explorer.store import open_store

            target, user, read_only = where
            store = open_store(target, read_only=read_only)
            store.user = user
            call = getattr(store, str(method))
        accepts = inspect.signature(call).parameters
        extra: dict[str, Any] = {}
        if "progress" in accepts:
            extra["progress"] = lambda *p: send("progress", p)
        if "cancelled" in accepts:
            extra["cancelled"] = stop.is_set
        result = call(*args, **extra)
        event = result.changes if isinstance(getattr(result, "changes", None), ChangeEvent) else result
        if isinstance(event, ChangeEvent):
            flat = [(c.action, c.record_type, c.record_id, dict(c.fields)) for c in event.changes]
            event.changes = []
            for start in range(0, len(flat), PART):
                send("changes", flat[start : start + PART])
        # An import's lists of what it made and changed (for its undo) come in parts too.
        for name in LARGE_PARTS:
            value = getattr(result, name, None)
            if isinstance(value, list | dict) and len(value) > PART:
                items = list(value.items()) if isinstance(value, dict) else value
                setattr(result, name, type(value)())
                for start in range(0, len(items), PART):
                    send("part", (name, items[start : start + PART]))
        send("done", result)
        if store is not None:
            store.close()
    except StoreError as exc:
        try:
            send("error", exc)
        except Exception:  # an error whose parts do not pickle
            send("failed", str(exc))
    except Exception as exc:
        log.exception("isolated %s failed", method)
        send("failed", f"{type(exc).__name__}: {exc}")
    finally:
        pipe.close()
