"""AppState: the one object every view listens to and writes to. Views never call each other."""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from explorer import settings
from explorer.jobs import BackgroundJob, IdleCollector, release_free_memory
from explorer.store import ChangeEvent, Filters, Store, StoreError, queries
from explorer.store.changes import EXTERNAL

if TYPE_CHECKING:
    import numpy as np

    from explorer.jobs import Work
    from explorer.store.queries import RecordDetail, SectorNode, TimelineData
    from explorer.store.scope import FilterScope, PassingIds

log = logging.getLogger("explorer.state")

# Where views prepare their part of new filters' result while the scope is still worked out
# (AppState.add_scope_companion); one thread, as one scope is worked out at a time.
_COMPANIONS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scope-companion")


def error_message(error: BaseException) -> str:
    """The first line of what went wrong, for the status bar (the log has the rest)."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text if text.endswith(".") else text + "."


@dataclass(frozen=True, order=True)
class RecordRef:
    record_type: str
    record_id: int

    def key(self) -> str:
        return f"{self.record_type}:{self.record_id}"

    @classmethod
    def parse(cls, text: str) -> RecordRef | None:
        try:
            kind, _, ident = text.partition(":")
            return cls(kind, int(ident)) if kind else None
        except ValueError:
            return None


class AppState(QObject):
    """The selection, the global filters and the stream of changes.

    Signals:
        selection_changed(list[RecordRef], object): new selection and who made it.
        filters_changed(Filters): the global filters changed.
        records_changed(ChangeEvent, object): a write happened (what it changed, at which
            revision), and who made it (also the event's ``initiator``).
        range_requested(float, float): someone asks the timeline to show these days.
        reveal_requested(list[RecordRef]): someone picked these records (find anything): views
            bring them into sight, the timeline zoomed in on them.
        store_replaced(): a different database is open now, or everything is read again.
        offline_changed(str): the database cannot be read (a sentence why), or again can ("").
        busy_changed(str): what is running in the background ("" when nothing is).
        busy_progress(int): how far the background work is, in percent (-1: unknown).
        background_failed(str): background work failed; a sentence for the user.
        view_range_changed(float, float): the days the timeline shows now (the map may follow it).
    """

    selection_changed = Signal(list, object)
    filters_changed = Signal(object)
    records_changed = Signal(object, object)
    range_requested = Signal(float, float)
    reveal_requested = Signal(list)
    offline_changed = Signal(str)
    store_replaced = Signal()
    busy_changed = Signal(str)
    busy_progress = Signal(int)
    background_failed = Signal(str)
    # A database's records are loaded and what filters look at is in memory (once per store,
    # on large data): what they made lives until another database is opened.
    loaded_in_memory = Signal()
    view_range_changed = Signal(float, float)

    HISTORY_LIMIT = 200
    # Below this many records a filter's queries take less than a frame: run them in line.
    BACKGROUND_FROM_RECORDS = 50_000
    SCOPES_KEPT = 2  # the global filters' and the newest (the tree box's): see _keep_scope
    FREE_STALE_MS = 300
    TIMELINE_PART_ROWS = 300_000  # rows read between two paints of a timeline still loading

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        store.backup_retention = settings.backup_retention  # read when a backup is made
        self._selection: list[RecordRef] = []
        self._filters = Filters()
        self._back: list[list[RecordRef]] = []
        self._forward: list[list[RecordRef]] = []
        self._sector_selection: tuple[int, ...] = ()
        self._shown_sector_selection: tuple[int, ...] = ()
        # Caches below remember the store revision they were worked out at (see revision).
        self._details: dict[RecordRef, Any] = {}
        self._details_revision = store.revision
        self._wanted = self._filters  # the latest filters asked for (committed once their scope is ready)
        self._scopes: dict[Filters, Any] = {}
        # Scopes no longer kept, freed a moment after the result they gave way to is painted:
        # freeing a broad one at 1e6 (arrays, cached rows) takes up to ~30 ms.
        self._stale: list[Any] = []
        self._free_stale = QTimer(self, singleShot=True, interval=self.FREE_STALE_MS)
        self._free_stale.timeout.connect(self._stale.clear)
        self._scope_companions: dict[str, Callable[[Any], Any]] = {}
        # On large data what filters look at is read into memory ahead of the first filter, and
        # caught up (or read again) after writes, in the background (Store.prepare_filters).
        self._prepare = QTimer(self, singleShot=True, interval=self.PREPARE_FILTERS_MS)
        self._prepare.timeout.connect(self._prepare_filters)
        self._jobs: dict[Any, BackgroundJob] = {}
        self._loaded_announced = False
        self._writing = 0  # background writes of ours under way (see background_write)
        self._step_parts: dict[str, tuple[Callable[[], Any], Callable[[Any], None]]] = {}
        self.view_range: tuple[float, float] | None = None  # the days the timeline shows (announce_view_range)
        self._size = store.size_estimate()
        # Writes by other windows, processes and users: the change log is looked at while idle.
        self._stamp = 0
        self._stamp = self._read_stamp()
        self.offline = False
        self._watch = QTimer(self, interval=self.WATCH_MS)
        self._watch.timeout.connect(self.check_for_changes)
        self._watch.start()

    WATCH_MS = 1500  # others' saves show within two seconds
    PREPARE_FILTERS_MS = 1000  # after the timeline loads or a write, once the window is quiet

    @property
    def revision(self) -> int:
        """Moves on by one with every change event (the store counts them): what was worked out
        at another revision is worked out again."""
        return self.store.revision

    # --- other people's writes ---------------------------------------------------------

    def _read_stamp(self) -> int:
        try:
            return self.store.change_stamp()
        except StoreError:
            return self._stamp

    def check_for_changes(self) -> bool:
        """Show what others saved since the last look; True when there was something."""
        if self._jobs or self._writing:
            return False  # a background load or filter is reading, or our own write is under way
        try:
            stamp = self.store.change_stamp()
            if stamp == self._stamp:
                self._set_offline(False)
                return False
            if stamp < self._stamp:  # log rows taken back (a merge undone elsewhere): read it all again
                self._set_offline(False)
                self.reload()
                return True
            newest, changes = self.store.changes_since(self._stamp)
        except StoreError as exc:
            self._set_offline(True, exc.message)
            return False
        self._set_offline(False)
        self._stamp = newest
        if changes is None:
            self.reload()
        elif changes:
            self._apply_changes(changes, EXTERNAL)
        return True

    def mark_offline(self, message: str) -> bool:
        """A read failed because a team server stopped answering: one banner, not a dialog per
        click (the change watcher clears it once the server answers). False for a file, whose
        errors are not about being offline."""
        if self.store.path is not None:
            return False
        self._set_offline(True, message)
        return True

    def _set_offline(self, offline: bool, message: str = "") -> None:
        if offline != self.offline:
            self.offline = offline
            self.offline_changed.emit(message if offline else "")

    def reload(self) -> None:
        """Read everything again (View ▸ Reload, or after a large import elsewhere), keeping the
        selection and filters."""
        self._stamp = self._read_stamp()
        self.store.invalidate()  # every cache keyed on the revision is worked out again
        self._loaded_announced = False
        self._prepare.start()
        selection, filters = list(self._selection), self._filters
        self.store_replaced.emit()
        self.selection_changed.emit(selection, None)
        self.filters_changed.emit(filters)

    # --- selection -------------------------------------------------------------------

    @property
    def selection(self) -> list[RecordRef]:
        return list(self._selection)

    @property
    def current(self) -> RecordRef | None:
        return self._selection[0] if self._selection else None

    def select(self, refs: list[RecordRef] | RecordRef | None, initiator: Any = None) -> None:
        new = [] if refs is None else ([refs] if isinstance(refs, RecordRef) else list(refs))
        if new == self._selection:
            return
        if self._selection:
            self._back.append(self._selection)
            del self._back[: -self.HISTORY_LIMIT]
        self._forward.clear()
        self._set_selection(new, initiator)

    def selection_memo(self) -> tuple[list[RecordRef], list[list[RecordRef]], list[list[RecordRef]]]:
        """The selection with its Back/Forward history, for work that moves the selection and
        must leave it as the user had it (hand-outs step through a story's selections)."""
        return list(self._selection), [list(r) for r in self._back], [list(r) for r in self._forward]

    def restore_selection(
        self, memo: tuple[list[RecordRef], list[list[RecordRef]], list[list[RecordRef]]], initiator: Any = None
    ) -> None:
        selection, back, forward = memo
        self._back, self._forward = [list(r) for r in back], [list(r) for r in forward]
        if selection != self._selection:
            self._set_selection(list(selection), initiator)

    def _set_selection(self, refs: list[RecordRef], initiator: Any) -> None:
        self._selection = refs
        self._details.clear()  # read afresh once per selection, then shared by every view
        self.selection_changed.emit(list(refs), initiator)

    def detail(self, ref: RecordRef) -> RecordDetail:
        """The record with its links, sources and history (store.detail), loaded once for all
        the views that react to the same selection (and the same revision)."""
        if self._details_revision != self.revision:
            self._carry_details()
        found = self._details.get(ref)
        if found is None:
            found = self.store.detail(ref.record_type, ref.record_id)
            self._details[ref] = found
        return found

    def _carry_details(self) -> None:
        """The details read before the writes since, as they read now: when the writes made or
        undid no link (a rename, an amount), a changed record's own fields, sources and history
        are read again but not its links (a thousand deals of a company); a detail listing a
        changed record is read afresh (its name and its place in the list may differ), the rest
        are kept. Any other write: every detail is read afresh."""
        events = self.store.events_since(self._details_revision) if self._details else []
        kept, self._details = self._details, {}
        self._details_revision = self.revision
        if not events:
            return
        changes = [c for event in events for c in event.changes]
        if not queries.links_kept(changes):
            return
        touched = {(c.record_type, c.record_id) for c in changes}
        types = {c.record_type for c in changes}
        for ref, old in kept.items():
            if ref.record_type == "pledge" and types & queries.PLEDGE_DETAIL_READS:
                continue  # its realised figures add up deals
            if any((link.record_type, link.record_id) in touched for link in old.links):
                continue
            if (ref.record_type, ref.record_id) not in touched:
                self._details[ref] = old
                continue
            try:
                self._details[ref] = self.store.detail(ref.record_type, ref.record_id, old.links)
            except StoreError:
                continue  # read again (and the error shown) when a view asks

    def can_go_back(self) -> bool:
        return bool(self._back)

    def can_go_forward(self) -> bool:
        return bool(self._forward)

    def back(self) -> None:
        if self._back:
            self._forward.append(self._selection)
            self._set_selection(self._back.pop(), None)

    def forward(self) -> None:
        if self._forward:
            self._back.append(self._selection)
            self._set_selection(self._forward.pop(), None)

    # --- filters ---------------------------------------------------------------------

    @property
    def filters(self) -> Filters:
        return self._filters

    @property
    def sector_selection(self) -> tuple[int, ...]:
        """The sectors the user picked (before sub-sectors were added)."""
        return self._sector_selection

    def set_filters(self, filters: Filters) -> None:
        """Apply filters: views change together once what passes is known (at once on small
        data; after a background query on large data, while the window stays responsive)."""
        if filters == self._wanted:
            return
        self._wanted = filters
        if filters == self._filters:
            self._cancel_job("filters")
            return
        if not filters.active:
            self._cancel_job("filters")
            self._commit_filters(filters)
            return
        self.request_scope(filters, self._commit_scope, owner="filters", label="Filtering", companions=True)

    def _commit_scope(self, scope: FilterScope) -> None:
        self._commit_filters(scope.filters)

    def _commit_filters(self, filters: Filters) -> None:
        self._shown_sector_selection = self._sector_selection
        if filters != self._filters:
            self._filters = filters
            self.filters_changed.emit(filters)

    def set_sector_filter(self, sector_ids: list[int]) -> None:
        self._sector_selection = tuple(sector_ids)
        expanded = self.store.sector_ids_with_descendants(sector_ids) if sector_ids else frozenset()
        self.set_filters(replace(self._wanted, sector_ids=expanded))

    def set_country_filter(self, country_ids: list[int]) -> None:
        self.set_filters(replace(self._wanted, country_ids=frozenset(country_ids)))

    def set_date_range(self, start_day: int | None, end_day: int | None) -> None:
        if start_day is not None and end_day is not None and end_day < start_day:
            start_day, end_day = end_day, start_day
        self.set_filters(replace(self._wanted, start_day=start_day, end_day=end_day))

    def set_search_text(self, text: str) -> None:
        self.set_filters(replace(self._wanted, text=text.strip()))

    def clear_filters(self) -> None:
        self._sector_selection = ()
        self.set_filters(Filters())

    # --- what passes the filters, worked out once for every view --------------------------

    def scope(self, filters: Filters) -> FilterScope | None:
        """The FilterScope of ``filters`` if it has been worked out already (at this revision)."""
        return self._current_scopes().get(filters)

    def _current_scopes(self) -> dict[Filters, FilterScope]:
        """The scopes worked out at this revision; older ones are freed a moment later."""
        old = [f for f, scope in self._scopes.items() if scope.revision != self.revision]
        for filters in old:
            self._stale.append(self._scopes.pop(filters))
        if old:
            self._free_stale.start()
        return self._scopes

    def timeline_ids(self, filters: Filters) -> dict[str, np.ndarray]:
        """Passing ids per timeline type, from a scope already worked out when there is one."""
        for scope in self._current_scopes().values():
            if scope.timeline_ids is not None and replace(scope.filters, start_day=None, end_day=None) == filters:
                return scope.timeline_ids
        return self.store.timeline_ids(filters)

    def add_scope_companion(self, key: str, work: Callable[[PassingIds], Any]) -> None:
        """Have ``work(passing)`` run in the background for new global filters, as soon as what
        passes them is known (explorer.store.scope.PassingIds) and beside the rest of their scope
        (the tree's aggregates), its result kept as ``scope.extras[key]``: a view prepares what
        it will show there instead of on the GUI thread. ``work`` may only read what nobody
        changes meanwhile (the timeline reads a snapshot it replaces, never edits)."""
        self._scope_companions[key] = work

    def request_scope(
        self,
        filters: Filters,
        on_ready: Callable[[FilterScope], None],
        owner: object,
        label: str,
        *,
        companions: bool = False,
    ) -> None:
        """Call ``on_ready(scope)`` with what passes ``filters``: now if known or cheap, else
        from a background query (a newer request from the same owner replaces it)."""
        self._cancel_job(owner)
        found = self.scope(filters)
        if found is not None:
            on_ready(found)
            return
        if self._size < self.BACKGROUND_FROM_RECORDS:
            try:
                scope = self.store.filter_scope(filters)
            except StoreError:
                log.exception("filtering")
                return
            self._keep_scope(scope)
            on_ready(scope)
            return
        store = self.store

        def ready(scope: FilterScope) -> None:
            self._keep_scope(scope)
            on_ready(scope)

        extras = dict(self._scope_companions) if companions else {}

        def work(cancelled: Callable[[], bool], _report: Callable[[Any], None]) -> FilterScope:
            started: dict[str, Future[Any]] = {}

            def start(passing: PassingIds) -> None:  # on a second thread: numpy there and here overlap
                for key, companion in extras.items():
                    started[key] = _COMPANIONS.submit(companion, passing)

            try:
                scope = store.filter_scope(filters, cancelled, on_passing=start if extras else None)
            except BaseException:
                for future in started.values():
                    future.cancel()
                raise
            for key, future in started.items():
                try:
                    scope.extras[key] = future.result()
                except Exception:  # the view works it out itself then
                    log.exception("preparing %s for new filters", key)
            return scope

        self._start_job(owner, label, work, ready)

    def _start_job(
        self,
        owner: object,
        label: str,
        work: Work,
        on_result: Callable[[Any], None],
        on_progress: Callable[[Any], None] | None = None,
    ) -> None:
        """Run ``work`` as ``owner``'s background job. Its result goes to ``on_result`` on the GUI
        thread (unless another database was opened meanwhile) before the job is announced as
        done, so the status bar counts what the views then show."""
        store = self.store
        job = BackgroundJob(work, label)
        self._jobs[owner] = job

        def finished(result: Any) -> None:
            if store is self.store:
                on_result(result)
            self._forget_job(owner, job)

        def failed(error: Any) -> None:
            self._forget_job(owner, job)
            self._report_failure(label, error)

        if on_progress is not None:
            job.progress.connect(on_progress)
        job.finished.connect(finished)
        job.failed.connect(failed)
        job.start()
        self._announce_busy()

    def load_timeline(self, on_loaded: Callable[[TimelineData | None, bool], None], *, show_parts: bool) -> None:
        """Call ``on_loaded(columns, complete)`` with every dated record's timeline columns: at
        once on small data; on large data from the background, in parts as they arrive when
        ``show_parts`` (the first load), so the window paints before a million rows are read."""
        if self._size < self.BACKGROUND_FROM_RECORDS:
            try:
                on_loaded(self.store.timeline(), True)
            except StoreError:
                log.exception("loading the timeline")
                on_loaded(None, True)
            return
        store, expected = self.store, max(1, self._size)

        def work(cancelled: Callable[[], bool], report: Callable[[Any], None]) -> TimelineData | None:
            data, shown = None, 0
            for data in store.timeline_so_far():
                if cancelled():
                    return None
                rows = len(data)
                if show_parts and (shown == 0 or rows - shown >= self.TIMELINE_PART_ROWS):
                    shown = rows
                    report((data, rows))
                else:
                    report((None, rows))
            return data

        def progress(value: tuple[TimelineData | None, int]) -> None:
            data, rows = value
            self.busy_progress.emit(min(99, int(100 * rows / expected)))
            if data is not None:
                on_loaded(data, False)

        def loaded(data: TimelineData | None) -> None:
            on_loaded(data, True)
            self._prepare.start()

        self._start_job("timeline", "Loading the timeline", work, loaded, progress)

    def _prepare_filters(self) -> None:
        if self._size < self.BACKGROUND_FROM_RECORDS or "prepare-filters" in self._jobs:
            return
        if self._jobs or self._writing:  # a load, filter or write under way: after it
            self._prepare.start()
            return
        store = self.store

        def prepared(_result: object) -> None:
            if not self._loaded_announced:
                self._loaded_announced = True
                self.loaded_in_memory.emit()

        self._start_job(
            "prepare-filters", "Preparing filters", lambda _cancelled, _report: store.prepare_filters(), prepared
        )

    def request_sector_tree(
        self, on_ready: Callable[[list[SectorNode]], None], owner: object, meanwhile: Callable[[], None] | None = None
    ) -> None:
        """Call ``on_ready(sectors)`` with the unfiltered sector tree and its totals: now on
        small data or when the store has them cached, else from the background (after calling
        ``meanwhile()``, so the view can show something in the moment)."""
        self._cancel_job(owner)
        store = self.store
        try:
            sectors = store.cached_sector_tree()
            if sectors is None and self._size < self.BACKGROUND_FROM_RECORDS:
                sectors = store.sector_tree()
        except StoreError:
            log.exception("reading the sector tree")
            sectors = []
        if sectors is not None:
            on_ready(sectors)
            return
        if meanwhile is not None:
            meanwhile()
        self._start_job(owner, "Adding up sector totals", lambda _cancelled, _report: store.sector_tree(), on_ready)

    def _report_failure(self, what: str, error: BaseException) -> None:
        log.error("%s failed", what, exc_info=error)
        self.background_failed.emit(f"{what} did not finish: {error_message(error)} Details are in the log.")

    def _keep_scope(self, scope: FilterScope) -> None:
        """Keep the newest scope and the global filters' one: a scope the tree box superseded
        (each keystroke makes one) would only hold memory, ~30 MB for a broad one at 1e6."""
        self._scopes[scope.filters] = scope
        keep = {scope.filters, self._filters, self._wanted}
        for filters in [f for f in self._scopes if f not in keep]:
            self._stale.append(self._scopes.pop(filters))
        while len(self._scopes) > self.SCOPES_KEPT:
            self._stale.append(self._scopes.pop(next(f for f in self._scopes if f != scope.filters)))
        if self._stale:
            self._free_stale.start()

    def _forget_job(self, owner: object, job: BackgroundJob) -> None:
        if self._jobs.get(owner) is job:
            del self._jobs[owner]
        self._announce_busy()
        if not self._jobs:  # once the result is shown (a millisecond or so)
            QTimer.singleShot(0, release_free_memory)

    def _cancel_job(self, owner: object) -> None:
        job = self._jobs.pop(owner, None)
        if job is not None:
            job.cancel()  # it deletes itself once its thread is done
            self._announce_busy()

    def _announce_busy(self) -> None:
        self.busy_changed.emit(self.busy_text)

    @property
    def busy_text(self) -> str:
        return ", ".join(dict.fromkeys(job.label for job in self._jobs.values()))

    @property
    def busy(self) -> bool:
        return bool(self._jobs)

    def stop_background(self) -> None:
        """Drop every background job and stop looking for others' writes, without telling the
        views (the window is closing)."""
        self._watch.stop()
        for owner in list(self._jobs):
            self._cancel_job(owner)

    def working_for(self, owner: object) -> bool:
        """Whether background work asked for by ``owner`` is still under way."""
        return owner in self._jobs

    def cancel_background(self) -> None:
        """Stop what runs in the background; filters still being worked out are dropped."""
        for owner in list(self._jobs):
            self._cancel_job(owner)
        if self._wanted != self._filters:
            self._wanted = self._filters
            self._sector_selection = self._shown_sector_selection
            self.filters_changed.emit(self._filters)  # controls go back to what is shown

    def wait_idle(self, timeout_ms: int = 120_000) -> None:
        """Wait for background work and deliver it (tests and benchmarks)."""
        from PySide6.QtCore import QCoreApplication, QDeadlineTimer, QThreadPool

        deadline = QDeadlineTimer(timeout_ms)
        while self._jobs and not deadline.hasExpired():
            QThreadPool.globalInstance().waitForDone(50)
            QCoreApplication.processEvents()

    # --- views' parts of a story step -------------------------------------------------

    def add_step_part(self, key: str, save: Callable[[], Any], restore: Callable[[Any], None]) -> None:
        """A view keeps its own part of a story step (the map: its records, centre and zoom):
        ``save()`` gives it (JSON-able; None: nothing to keep), ``restore(part)`` shows it again."""
        self._step_parts[key] = (save, restore)

    def step_parts(self) -> dict[str, Any]:
        parts = {key: save() for key, (save, _restore) in self._step_parts.items()}
        return {key: part for key, part in parts.items() if part is not None}

    def restore_step_parts(self, parts: dict[str, Any]) -> None:
        for key, part in parts.items():
            found = self._step_parts.get(key)
            if found is not None and part is not None:
                found[1](part)

    # --- changes ---------------------------------------------------------------------

    def notify_changed(self, changes: ChangeEvent, initiator: Any = None) -> None:
        """Every write reports here; views refresh what concerns them."""
        if not changes:
            return
        self._stamp = self._read_stamp()  # our own write: not to be shown again as someone else's
        self._apply_changes(changes, initiator)

    def background_write(self, running: bool) -> None:
        """A write of ours starts (True) or ends (False) on another thread or process (a large
        import): meanwhile its rows are not taken for someone else's, the change watcher waits
        for it to be reported."""
        self._writing = max(0, self._writing + (1 if running else -1))

    def _apply_changes(self, changes: ChangeEvent, initiator: Any) -> None:
        # What loads in the background from which size: a big import makes a small database large.
        self._size = max(0, self._size + changes.count("create") - changes.count("delete"))
        # The store counted its own writes and what it read from the log; an event put together
        # elsewhere is counted here. Caches see the new revision and are worked out again.
        self.store.publish(changes)
        if initiator is not None:
            changes.initiator = initiator
        deleted = {(c.record_type, c.record_id) for c in changes.changes if c.action == "delete"}
        if deleted and any((r.record_type, r.record_id) in deleted for r in self._selection):
            self._selection = [r for r in self._selection if (r.record_type, r.record_id) not in deleted]
            self.selection_changed.emit(list(self._selection), None)
        self.records_changed.emit(changes, initiator)
        if self._size >= self.BACKGROUND_FROM_RECORDS:
            self._prepare.start()

    def announce_view_range(self, start_day: float, end_day: float) -> None:
        self.view_range = (float(start_day), float(end_day))
        self.view_range_changed.emit(float(start_day), float(end_day))

    def request_range(self, start_day: float, end_day: float) -> None:
        self.range_requested.emit(float(start_day), float(end_day))

    def reveal(self, refs: list[RecordRef]) -> None:
        self.reveal_requested.emit(list(refs))

    def replace_store(self, store: Store) -> None:
        old = self.store
        for owner in list(self._jobs):
            self._cancel_job(owner)
        self.store = store
        self._loaded_announced = False
        store.backup_retention = settings.backup_retention
        self._size = store.size_estimate()
        self._stamp = self._read_stamp()
        self._details.clear()
        self._scopes.clear()
        self._selection, self._back, self._forward = [], [], []
        self._sector_selection = ()
        self._filters = self._wanted = Filters()
        self.store_replaced.emit()
        self.selection_changed.emit([], None)
        self.filters_changed.emit(self._filters)
        try:
            old.close()
        except StoreError:
            log.exception("closing the previous database")


def collect_out_of_the_way(state: AppState) -> IdleCollector:
    """Keep Python's cycle collector out of what the person waits for. What a large database's
    loading made is frozen out of its full passes once the records and what filters look at
    are in memory (at a million records one pass over them took 50–90 ms, landing in a filter
    or a save at random), as start-up's objects are (explorer.app), and unfrozen when another
    database is opened so the old one's can go. What the session reads later (the tree's
    listings, pages of the records table) is left to full passes run while the person is idle
    (explorer.jobs.IdleCollector), which a selection, filter, write or the timeline moving puts
    off too."""
    state.loaded_in_memory.connect(gc.freeze)
    state.store_replaced.connect(gc.unfreeze)
    collector = IdleCollector.install()
    busy = (state.selection_changed, state.filters_changed, state.records_changed, state.busy_changed)
    for signal in (*busy, state.view_range_changed):  # … and the timeline moving (a story's glide)
        signal.connect(collector.busy)
    return collector
