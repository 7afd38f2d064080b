"""The store: opens the database and offers the queries and writes the app needs. No Qt here."""

from __future__ import annotations

import copy
import logging
import os
import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from explorer import models as m
from explorer import paths, schema
from explorer.store import migrate, pledges, queries, search, stories, writes
from explorer.store.changes import EXTERNAL, Change, ChangeEvent, ChangeSet, ValueChange, from_log
from explorer.store.database import OpenResult, open_database, settle, url_for
from explorer.store.errors import (
    ConflictError,
    CorruptDatabaseError,
    DatabaseLockedError,
    DatabaseMissingError,
    DatabaseUnavailableError,
    EmptyFileError,
    NewerSchemaError,
    NotADatabaseError,
    ReadOnlyError,
    RecordNotFoundError,
    StoreError,
    ValidationError,
)
from explorer.store.filtering import Filters
from explorer.store.queries import TimelineData
from explorer.store.search import FoundRecord, SearchHit

if TYPE_CHECKING:  # imported when first used, not at start-up
    import numpy as np

    from explorer.store.backups import BackupInfo
    from explorer.store.backups import Retention as BackupRetention
    from explorer.store.exchange import ImportReport, ImportResult, Progress
    from explorer.store.kumu import KumuMap
    from explorer.store.merge import MergePlan, MergeResult
    from explorer.store.peer import PeerFile
    from explorer.store.scope import FilterScope, PassingIds
    from explorer.store.spreadsheet import SheetImport

_T = TypeVar("_T")

log = logging.getLogger("explorer.store")

__all__ = [
    "EXTERNAL",
    "Change",
    "ChangeEvent",
    "ChangeSet",
    "ConflictError",
    "CorruptDatabaseError",
    "DatabaseLockedError",
    "DatabaseMissingError",
    "DatabaseUnavailableError",
    "EmptyFileError",
    "Filters",
    "NewerSchemaError",
    "NotADatabaseError",
    "ReadOnlyError",
    "RecordNotFoundError",
    "Store",
    "StoreError",
    "TimelineData",
    "ValidationError",
    "ValueChange",
    "open_store",
    "resolve_target",
]


def _translate_operational(exc: sa.exc.OperationalError) -> StoreError:
    text = str(exc.orig).lower()
    if "locked" in text or "busy" in text:
        return DatabaseLockedError(
            "The database is busy: another program or window is writing to it. "
            "Nothing was saved; try again in a moment.",
            detail=str(exc.orig),
        )
    if "readonly" in text or "read-only" in text:
        return ReadOnlyError("The database is read-only; nothing was saved.", detail=str(exc.orig))
    if "disk" in text and "full" in text:
        return StoreError("The disk is full; nothing was saved.", detail=str(exc.orig))
    return StoreError(f"The database reported a problem; nothing was saved. ({exc.orig})", detail=str(exc.orig))


def _unavailable(exc: sa.exc.SQLAlchemyError) -> StoreError:
    return DatabaseUnavailableError(
        "The database cannot be read just now; what is on screen may be out of date.", detail=str(exc)
    )


@dataclass
class _Kept:
    """Answers worked out at one revision of the store (see Store._unchanged)."""

    revision: int
    values: dict[Any, Any] = field(default_factory=dict)


class Store:
    """One open database. Reads through :meth:`read`; every write is one transaction.

    ``revision`` moves on by one per change event: each write through this store, and each time
    it notices what others wrote (the change log moved on by rows it did not write). Caches
    remember the revision they were worked out at.
    """

    EVENTS_KEPT = 64  # recent events, for caches to tell what survives them

    def __init__(self, opened: OpenResult, *, user: str | None = None) -> None:
        self._opened = opened
        self.engine = opened.engine
        self.url = opened.url
        self.path: Path | None = opened.path
        self.read_only = opened.read_only
        self.read_only_reason = opened.read_only_reason
        # Who the history names: given by the app (the analyst's name), else the database role
        # on a team server, else the login name.
        self.user = (
            user or (None if self.path is not None else sa.engine.make_url(self.url).username) or writes.os_user()
        )
        self.revision = 0
        self._revision_lock = threading.RLock()  # the tree's totals are read in the background
        self._recent: deque[tuple[int, ChangeEvent | None]] = deque(maxlen=self.EVENTS_KEPT)
        self._seen_stamp = self._log_stamp()  # the newest change log row accounted for
        self._written: int | None = None  # the change log's newest row after the last write
        self._unchanged_cache: _Kept | None = None
        # Which backups to keep after a new one (the app's setting; None: Retention's defaults).
        self.backup_retention: Callable[[], BackupRetention] | None = None
        if not self.read_only:
            self._refresh_search_index_if_stale()

    # --- sessions ----------------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in one IMMEDIATE transaction: committed on success, rolled back on error."""
        if self.read_only:
            raise ReadOnlyError(self.read_only_reason or "The database is open read-only.")
        try:
            with (
                self.engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn,
                conn.begin(),
                Session(bind=conn, expire_on_commit=False) as session,
            ):
                self._written = None
                self._catch_up(conn)  # others' writes before ours are theirs, not this event's
                before = self._seen_stamp
                sa.event.listen(session, "before_flush", _count_log_rows)
                yield session
                session.flush()
                written = self._stamp_of(conn)
                # Only our rows since the look (always on SQLite, whose write lock keeps others
                # out): they are this write's event. Else the next look counts them as others'.
                between = conn.execute(
                    sa.text("SELECT count(*) FROM changelog WHERE id > :b AND id <= :w"), {"b": before, "w": written}
                ).scalar()
                ours = between == session.info.get(_LOG_ROWS, 0)
            self._written = written if ours else None  # accounted for once the event is published
        except sa.exc.OperationalError as exc:
            raise _translate_operational(exc) from exc
        except sa.exc.IntegrityError as exc:
            raise StoreError(
                f"The change breaks a database rule and was not saved. ({exc.orig})", detail=str(exc.orig)
            ) from exc
        except sa.exc.ProgrammingError as exc:
            if "permission denied" in str(exc.orig).lower() or "read-only transaction" in str(exc.orig).lower():
                raise ReadOnlyError(
                    "Your database role may not change this database; nothing was saved.", detail=str(exc.orig)
                ) from exc
            raise

    def close(self) -> None:
        self.engine.dispose()
        if self.path is not None and not self.read_only:
            settle(self.path)  # back to rollback mode: later read-only opens leave no -wal/-shm

    # --- the revision --------------------------------------------------------------------

    def publish(self, event: ChangeEvent | None) -> ChangeEvent | None:
        """Count ``event`` (one more revision) unless it was counted already; None: something
        changed, not known what (every cache is worked out again). Writes through the store
        count theirs; AppState publishes what views put together themselves."""
        with self._revision_lock:
            if event is not None and event.revision:
                return event
            self.revision += 1
            # A large event (an import) is kept as "not known what": caches then start again, as
            # they would anyway, and its values are not held on to.
            small = (
                event is not None
                and len(event.changes) <= self.CHANGES_LOOKED_AT
                and sum(len(c.fields) or 1 for c in event.changes) <= self.CHANGES_LOOKED_AT
            )
            self._recent.append((self.revision, event if small else None))
            if event is not None:
                event.revision = self.revision
            return event

    def invalidate(self) -> None:
        """Everything may have changed (read everything again, data written without a log)."""
        self.publish(None)

    def events_since(self, revision: int) -> list[ChangeEvent] | None:
        """The events after ``revision``, oldest first; None when one of them is not known (or no
        longer kept)."""
        with self._revision_lock:
            if revision == self.revision:
                return []
            events = [event for rev, event in self._recent if rev > revision]
            if len(events) != self.revision - revision or any(e is None for e in events):
                return None
            return [e for e in events if e is not None]

    def _published(self, event: ChangeEvent) -> ChangeEvent:
        """Count a write's event; its change log rows are then accounted for (not others')."""
        if event:
            event.author = event.author or self.user
            with self._revision_lock:
                if self._written is not None:
                    self._seen_stamp = max(self._seen_stamp, self._written)
                self._written = None
                self.publish(event)
        return event

    @staticmethod
    def _stamp_of(conn: sa.Connection) -> int:
        return int(conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM changelog")).scalar() or 0)

    def _log_stamp(self) -> int:
        try:
            with self.engine.connect() as conn:
                return self._stamp_of(conn)
        except sa.exc.SQLAlchemyError:
            return 0

    def _catch_up(self, conn: sa.Connection) -> None:
        """Count what others wrote since the change log was last looked at as one event (from
        the log's rows; not known what when many, or when rows were taken back)."""
        stamp = self._stamp_of(conn)
        with self._revision_lock:
            if stamp == self._seen_stamp:
                return
            event: ChangeEvent | None = None
            if stamp > self._seen_stamp:
                event = self._logged_since(conn, self._seen_stamp, stamp)
            self._seen_stamp = stamp
            if event is None or event:
                self.publish(event)

    def _logged_since(self, conn: sa.Connection, stamp: int, upto: int | None = None) -> ChangeEvent | None:
        """The event of the change log rows after ``stamp`` (up to ``upto``); None when more than
        CHANGES_LOOKED_AT (reading everything again is the quicker way)."""
        rows = conn.execute(
            sa.text(
                "SELECT action, record_type, record_id, field, old_value, new_value, user FROM changelog"
                " WHERE id > :s AND id <= :u ORDER BY id LIMIT :n"
            ),
            {"s": stamp, "u": upto if upto is not None else 2**62, "n": self.CHANGES_LOOKED_AT + 1},
        ).all()
        if len(rows) > self.CHANGES_LOOKED_AT:
            return None
        return from_log(tuple(row) for row in rows)

    # --- facts about the file ----------------------------------------------------------

    def meta(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.text("SELECT value FROM meta WHERE key = :k"), {"k": key}).first()
        return None if row is None else str(row[0])

    @property
    def upgraded_from(self) -> str | None:
        return self._opened.upgraded_from

    @property
    def backup_path(self) -> Path | None:
        return self._opened.backup

    def display_name(self) -> str:
        """How people name the database: the file's name, or "partnership on db.example" for a
        team server (never the connection URL, which is a technical detail and may hold a user)."""
        if self.path is not None:
            return self.path.name
        url = sa.engine.make_url(self.url)
        where = url.host or "this computer"
        return f"{url.database or url.get_backend_name()} on {where}"

    def _refresh_search_index_if_stale(self) -> None:
        if self.meta("search_index_dirty") is None:
            return
        with self.write() as session:
            search.rebuild(session.connection())

    # --- queries -----------------------------------------------------------------------

    def timeline(
        self, start_day: int | None = None, end_day: int | None = None, filters: Filters | None = None
    ) -> TimelineData:
        with self.engine.connect() as conn:
            return queries.timeline(conn, start_day, end_day, filters=filters)

    def timeline_rows(self, record_type: str, record_ids: list[int]) -> queries.TimelineData:
        """Timeline columns of a few records (a view patching what changed)."""
        with self.engine.connect() as conn:
            return queries.timeline_rows(conn, record_type, record_ids)

    def label_qualifiers(self, record_type: str, record_ids: list[int]) -> dict[int, str]:
        """Place, company or country telling apart records that share a title (timeline labels)."""
        with self.engine.connect() as conn:
            return queries.label_qualifiers(conn, record_type, record_ids)

    def timeline_so_far(self) -> Iterator[queries.TimelineData]:
        """Every dated record's timeline columns as they are read: the records so far after each
        chunk, the last one complete (background loading)."""
        with self.engine.connect() as conn:
            yield from queries.timeline_so_far(conn)

    def events_between(self, start_day: int, end_day: int) -> list[tuple[int, str]]:
        with self.engine.connect() as conn:
            return queries.events_between(conn, start_day, end_day)

    def sector_tree(self, filters: Filters | None = None) -> list[queries.SectorNode]:
        with self.engine.connect() as conn:
            if filters is not None and filters.active:
                return queries.sector_tree(conn, filters)
            # Unfiltered totals are asked for by several views at start-up and cost seconds at a
            # million deals: kept until the change log moves on.
            return copy.deepcopy(self._unchanged(conn, ("sector_tree",), lambda: queries.sector_tree(conn, None)))

    def cached_sector_tree(self) -> list[queries.SectorNode] | None:
        """The unfiltered sector tree if its totals are still current (no write since), else None."""
        with self.engine.connect() as conn:
            found: list[queries.SectorNode] | None = self._unchanged(conn, ("sector_tree",), lambda: None)
        return None if found is None else copy.deepcopy(found)

    def eras(self) -> list[tuple[int, str, int, int]]:
        """(id, title, first day, last day) of every dated era, in time order (bands behind the timeline)."""
        table = m.Era.__table__
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(table.c.id, table.c.title, table.c.start_day, table.c.end_day)
                .where(table.c.start_day.is_not(None))
                .order_by(table.c.start_day, table.c.id)
            )
            return [(int(i), str(t), int(s), int(e if e is not None else s)) for i, t, s, e in rows]

    def sector_hierarchy(self) -> list[tuple[int, str, int | None]]:
        """(id, name, parent id) of every sector: cheap, for views that only need the hierarchy."""
        with self.engine.connect() as conn:
            return queries.sector_hierarchy(conn)

    def timeline_ids(self, filters: Filters) -> dict[str, np.ndarray]:
        """Sorted numpy id arrays per timeline type passing ``filters`` (views mask cached columns)."""
        with self.engine.connect() as conn:
            return queries.passing_ids(conn, filters)

    def size_estimate(self) -> int:
        """Roughly how many records there are (highest ids): decides what runs in the background."""
        try:
            with self.engine.connect() as conn:
                return sum(
                    int(conn.execute(sa.text(f"SELECT coalesce(max(id), 0) FROM {name}")).scalar() or 0)
                    for name in (*queries.TIMELINE_TYPES, "organisation")
                )
        except sa.exc.SQLAlchemyError:
            log.exception("estimating the size of the database")
            return 0

    def filter_scope(
        self,
        filters: Filters,
        cancelled: Callable[[], bool] | None = None,
        on_passing: Callable[[PassingIds], None] | None = None,
    ) -> FilterScope:
        """What passes ``filters`` for every view at once (explorer.store.scope.FilterScope);
        ``cancelled()`` is polled between queries so a superseded request stops early, and
        ``on_passing`` is told the passing ids as soon as they are known."""
        from explorer.store.scope import build_scope

        return build_scope(self, filters, cancelled or (lambda: False), on_passing)

    def prepare_filters(self) -> None:
        """Read what filters look at into memory ahead of the first filter (a few seconds at a
        million records; explorer.store.scope_index), or catch it up with the writes since."""
        if self.engine.dialect.name == "sqlite":
            from explorer.store import scope_index

            scope_index.prepare(self)

    def deal_rows(self, deal_ids: list[int]) -> list[queries.DealRow]:
        with self.engine.connect() as conn:
            return queries.deal_rows_by_id(conn, deal_ids)

    def organisation_names(self, organisation_ids: list[int]) -> dict[int, tuple[str, str]]:
        with self.engine.connect() as conn:
            return queries.organisation_names(conn, organisation_ids)

    def bulk_create(self, record_type: str, rows: Iterable[dict[str, Any]]) -> range:
        """Many validated records in one transaction (generated or imported data); returns their ids."""
        from explorer.store import bulk

        try:
            with self.write() as session:
                return bulk.create_many(session, record_type, rows)
        finally:
            self.invalidate()  # bulk rows write no change log: not known what changed

    def organisations_in_sector(self, sector_id: int, filters: Filters | None = None) -> list[queries.OrganisationRow]:
        with self.engine.connect() as conn:
            if filters is not None and filters.active:
                return queries.organisations_in_sector(conn, sector_id, filters)
            # A big sector's rows take a third of a second at a million deals, and the tree asks
            # again whenever it reloads (filters cleared, selection revealed): kept like the totals.
            return list(
                self._unchanged(
                    conn, ("organisations", sector_id), lambda: queries.organisations_in_sector(conn, sector_id, None)
                )
            )

    def _unchanged(self, conn: sa.Connection, key: tuple[object, ...], compute: Callable[[], _T]) -> _T:
        """``compute()``, remembered until the revision moves on by an event (a write from any
        process) that may have changed it; a ``compute`` giving None only asks whether something
        is remembered."""
        self._catch_up(conn)  # another process's write counts once the log shows it
        cache = self._unchanged_cache
        if cache is None or cache.revision != self.revision:
            kept = self._surviving(conn, cache) if cache is not None else {}
            cache = _Kept(self.revision, kept)
            self._unchanged_cache = cache
        if cache.values.get(key) is None:
            cache.values[key] = compute()
        value: _T = cache.values[key]  # what compute() gave for this key
        return value

    CHANGES_LOOKED_AT = 2_000  # more rows than this since the last look: everything is read again

    def change_stamp(self) -> int:
        """The newest change log row: it moves whenever anyone (any process, any user) writes."""
        try:
            with self.engine.connect() as conn:
                return int(conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM changelog")).scalar() or 0)
        except sa.exc.SQLAlchemyError as exc:
            raise _unavailable(exc) from exc

    def changes_since(self, stamp: int) -> tuple[int, ChangeEvent | None]:
        """(newest stamp, what was written after ``stamp``, as one EXTERNAL event with the fields
        and their logged values) — None when so much changed that reading everything again is
        the quicker way. The revision has counted it by then."""
        try:
            with self.engine.connect() as conn:
                self._catch_up(conn)
                newest = self._stamp_of(conn)
                if newest <= stamp:
                    return stamp, ChangeEvent(initiator=EXTERNAL)
                event = self._logged_since(conn, stamp, newest)
        except sa.exc.SQLAlchemyError as exc:
            raise _unavailable(exc) from exc
        if event is None:
            return newest, None
        event.revision = self.revision
        return newest, event

    def _surviving(self, conn: sa.Connection, cache: _Kept) -> dict[tuple[object, ...], Any]:
        """What of the cache the events since it was made cannot have changed: renaming an
        organisation leaves every sector's totals as they were (at a million deals adding them
        up again takes seconds) and only the listings that show it are read again."""
        events = self.events_since(cache.revision)
        if events is None or not cache.values:
            return {}
        rows = [row for event in events for row in event.log_rows()]
        kept = {
            key: value
            for key, value in cache.values.items()
            if value is not None and all(_keeps(key, *row) for row in rows)
        }
        # Listings showing an organisation whose name or country changed get its new ones
        # (reading a big sector's listing again takes a third of a second at a million deals).
        edited = sorted({row[2] for row in rows if row[1] == "organisation"})
        listings = [key for key in kept if key[0] == "organisations"]
        if edited and listings:
            now = queries.organisation_names(conn, edited)
            for key in listings:
                rows_now = [
                    r._replace(name=now[r.id][0], country=now[r.id][1])
                    if r.id in now and now[r.id] != (r.name, r.country)
                    else r
                    for r in kept[key]
                ]
                if any(new is not old for new, old in zip(rows_now, kept[key], strict=True)):
                    kept[key] = queries.in_tree_order(rows_now)
        return kept

    def deals_of_organisation(
        self, organisation_id: int, sector_id: int | None = None, filters: Filters | None = None
    ) -> list[queries.DealRow]:
        with self.engine.connect() as conn:
            return queries.deals_of_organisation(conn, organisation_id, sector_id, filters)

    def unattributed_deals(self, sector_id: int, filters: Filters | None = None) -> list[queries.DealRow]:
        with self.engine.connect() as conn:
            return queries.unattributed_deals(conn, sector_id, filters)

    def unattributed_summary(self, sector_id: int, filters: Filters | None = None) -> tuple[int, float]:
        """(count, USD total) of a sector's deals with no organisation; unfiltered ones are kept
        like the sector rows (the tree asks again whenever it reopens a sector)."""
        with self.engine.connect() as conn:
            if filters is not None and filters.active:
                return queries.unattributed_summary(conn, sector_id, filters)
            return self._unchanged(
                conn, ("unattributed", sector_id), lambda: queries.unattributed_summary(conn, sector_id, None)
            )

    def deal_placement(self, deal_id: int) -> tuple[int | None, list[int]]:
        with self.engine.connect() as conn:
            return queries.deal_placement(conn, deal_id)

    def organisation_sectors(self, organisation_id: int) -> list[int]:
        with self.engine.connect() as conn:
            return queries.organisation_sectors(conn, organisation_id)

    def sector_ids_with_descendants(self, sector_ids: list[int]) -> frozenset[int]:
        with self.engine.connect() as conn:
            return queries.sector_ids_with_descendants(conn, sector_ids)

    def detail(self, record_type: str, record_id: int, links: list[queries.Link] | None = None) -> queries.RecordDetail:
        with self.read() as session:
            return queries.detail(session, record_type, record_id, links)

    def pledge_progress(self, pledge_id: int) -> pledges.PledgeProgress:
        """One pledge's pledged-against-realised figures (``pledges.describe`` puts them in words)."""
        with self.read() as session:
            pledge = queries.get(session, "pledge", pledge_id)
            assert isinstance(pledge, m.Pledge)
            return pledges.pledge_progress(session, pledge)

    def all_pledges(self) -> list[pledges.PledgeProgress]:
        """Every pledge's figures in date order: the hand-out's pledged-against-realised page."""
        with self.read() as session:
            return pledges.all_pledges(session)

    def search(self, text: str, limit: int = 200) -> list[SearchHit]:
        with self.engine.connect() as conn:
            return search.search(conn, text, limit)

    def table_ids(self, record_type: str, sort: str | None = None, descending: bool = False, text: str = "") -> Any:
        """The ids of a type's records in the records table's order (a numpy array); see store.table."""
        from explorer.store import table

        with self.engine.connect() as conn:
            return table.ordered_ids(conn, record_type, sort, descending, text)

    def table_page(self, record_type: str, ids: list[int]) -> dict[int, tuple[Any, ...]]:
        """The records table's cells for these ids (and each record's version, last)."""
        from explorer.store import table

        with self.engine.connect() as conn:
            return table.page(conn, record_type, ids)

    def find(self, text: str, limit: int = 50) -> list[FoundRecord]:
        """Records of every type matching ``text``, best first, with kind and date (find anything)."""
        with self.engine.connect() as conn:
            return search.find(conn, text, limit)

    def get(self, record_type: str, record_id: int) -> m.Record:
        with self.read() as session:
            return queries.get(session, record_type, record_id)

    def snapshot(self, record_type: str, record_id: int) -> tuple[int, dict[str, Any]]:
        """(version, values) of a record as a form opens it."""
        with self.read() as session:
            record = queries.get(session, record_type, record_id)
            return record.version, writes.snapshot(session, record_type, record)

    def citations_of(self, record_type: str, record_id: int) -> list[writes.Cite]:
        """The record's sources as (source id, section, note), in the order they were added."""
        with self.read() as session:
            return writes.citations_of(session, record_type, record_id)

    def references_to(self, record_type: str, record_id: int) -> list[writes.Reference]:
        with self.read() as session:
            return writes.references_to(session, record_type, record_id)

    def list_records(self, record_type: str) -> list[tuple[int, str]]:
        """(id, label) of every record of a type, for pickers."""
        cls = m.RECORD_TYPES[record_type]
        column = schema.kind(record_type).title
        table = cls.__table__
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(table.c.id, table.c[column]).order_by(table.c[column])).all()
        return [(int(i), str(label or "")) for i, label in rows]

    def pick(
        self, record_type: str, text: str, limit: int = 50, *, exclude: int | None = None
    ) -> list[tuple[int, str]]:
        """(id, label) of at most ``limit`` records matching what was typed in a picker (see picking.py)."""
        from explorer.store import picking

        with self.engine.connect() as conn:
            return picking.pick(conn, record_type, text, limit, exclude)

    def labels(self, record_type: str, ids: list[int]) -> dict[int, str]:
        """id → label of the given records that exist (a picker's current value)."""
        from explorer.store import picking

        with self.engine.connect() as conn:
            return picking.labels(conn, record_type, ids)

    # --- writes ------------------------------------------------------------------------

    def create(self, record_type: str, values: dict[str, Any], **kwargs: Any) -> ChangeSet:
        with self.write() as session:
            changes = writes.create(session, record_type, values, user=self.user, **kwargs)
        return self._published(changes)

    def update(
        self,
        record_type: str,
        record_id: int,
        values: dict[str, Any],
        *,
        expected_version: int,
        base: dict[str, Any] | None = None,
    ) -> ChangeSet:
        def attempt() -> ChangeSet:
            with self.write() as session:
                return writes.update(
                    session,
                    record_type,
                    record_id,
                    values,
                    expected_version=expected_version,
                    user=self.user,
                    base=base,
                )

        return self._published(self._retry_if_overtaken(attempt))

    # --- stories -----------------------------------------------------------------------

    def list_stories(self) -> list[tuple[int, str]]:
        with self.read() as session:
            return stories.list_stories(session)

    def story_steps(self, story_id: int) -> list[stories.StepData]:
        with self.read() as session:
            return stories.steps(session, story_id)

    def ids_for_uuids(self, pairs: list[tuple[str, str]]) -> list[tuple[str, int]]:
        with self.read() as session:
            return stories.ids_for_uuids(session, pairs)

    def uuids_for_ids(self, refs: list[tuple[str, int]]) -> list[tuple[str, str]]:
        with self.read() as session:
            return stories.uuids_for_ids(session, refs)

    def capture_delete(self, record_type: str, record_id: int) -> writes.DeleteBundle:
        """Everything a delete of this record would remove or unlink (for undo)."""
        with self.read() as session:
            return writes.capture_delete(session, record_type, record_id)

    def restore(self, bundle: writes.DeleteBundle) -> ChangeSet:
        with self.write() as session:
            changes = writes.restore(session, bundle, user=self.user)
        return self._published(changes)

    def delete(self, record_type: str, record_id: int, *, expected_version: int, detach: bool = False) -> ChangeSet:
        def attempt() -> ChangeSet:
            with self.write() as session:
                return writes.delete(
                    session, record_type, record_id, expected_version=expected_version, user=self.user, detach=detach
                )

        return self._published(self._retry_if_overtaken(attempt))

    @staticmethod
    def _retry_if_overtaken(attempt: Callable[[], ChangeSet]) -> ChangeSet:
        """Run a version-checked write; if another writer committed between our read and our write.

        SQLite's IMMEDIATE transactions rule that out; on a server (read committed) the UPDATE ...
        WHERE version = ? then matches no row and SQLAlchemy raises StaleDataError. Nothing was
        written; running the write once more re-reads the record, so the ordinary version check
        raises the same ConflictError (with the fields changed on both sides) as on SQLite.
        """
        try:
            return attempt()
        except StaleDataError:
            log.info("record changed by another writer during the write; re-checking its version")
            return attempt()

    # --- exchange, merge and backups (explorer/store/exchange.py, merge.py, backups.py) ------

    def export(self, out: Path, *, fmt: str = "json", selection: list[tuple[str, int]] | None = None) -> list[Path]:
        """Write the database (or a selection and what it needs) as JSON, or as a folder of CSV files;
        ``fmt="sqlite"`` writes a whole copy as a database file (history included) to work on offline."""
        from explorer.store import exchange

        if fmt == "sqlite":
            return [exchange.write_sqlite_copy(self.engine, self.path, out)]
        if fmt in ("timelinejs", "ics"):  # to the web and to calendars: the dated records
            import json

            from explorer.store import peer

            with self.read() as session:
                title = "India–Japan partnership"
                if fmt == "ics":
                    data = peer.export_ics(session, title).encode()
                else:
                    data = json.dumps(peer.export_timelinejs(session, title), ensure_ascii=False, indent=1).encode()
            exchange._write_atomically(out, data)
            return [out]
        with self.read() as session:
            rows = exchange.export_rows(session, selection)
            revision = migrate.current_revision(session.connection()) or ""
        if fmt == "csv":
            return exchange.write_csv(rows, out)
        return [exchange.write_json(rows, out, schema=revision)]

    def check_import(self, sources: list[Path]) -> ImportReport:
        """Validate every row of the files (an ImportReport); writes nothing."""
        from explorer.store import exchange

        with self.read() as session:
            return exchange.check(session, sources)

    def import_files(self, sources: list[Path]) -> ImportResult:
        """Validate, back up, then apply every row in one transaction (an ImportResult).

        Raises ImportFailedError with the row-level report if any row is wrong: then nothing
        was written.
        """
        from explorer.store import exchange

        report = self.check_import(sources)
        if not report.ok:
            raise exchange.ImportFailedError(report)
        backup = self.backup_now("before-import")
        with self.write() as session:
            result = exchange.apply(session, sources, user=self.user)
        self._published(result.changes)
        result.backup = backup
        return result

    def check_spreadsheet(
        self,
        plans: list[SheetImport],
        progress: Progress | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> ImportReport:
        """Validate the rows of spreadsheets (SheetImport plans) as an import would; writes nothing.
        Safe on a worker thread; ``cancelled()`` stops it (ImportCancelledError)."""
        from explorer.store import exchange, spreadsheet

        report = exchange.ImportReport()
        with self.read() as session:
            raws = [
                row for plan in plans for row in spreadsheet.to_raw_rows(session, plan, report, progress, cancelled)
            ]
            exchange.check_rows(session, raws, report)
        spreadsheet.rename_problems(report, plans)
        if report.ok and not report.rows:
            report.add(exchange.Problem(", ".join(p.sheet.name for p in plans) or "import", None, "", "holds no rows."))
        return report

    def import_spreadsheet(
        self,
        plans: list[SheetImport],
        progress: Progress | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> ImportResult:
        """Check, back up, then write every row of the spreadsheets in one transaction (an
        ImportResult, undoable like any import). Raises ImportFailedError listing every problem
        by row and column, or ImportCancelledError: then nothing was written."""
        from explorer.store import exchange, spreadsheet

        report = self.check_spreadsheet(plans, progress, cancelled)
        if not report.ok:
            raise exchange.ImportFailedError(report)
        backup = self.backup_now("before-import")
        with self.write() as session:
            result_report = exchange.ImportReport()
            raws = [row for plan in plans for row in spreadsheet.to_raw_rows(session, plan, result_report)]
            try:
                result = exchange.apply_rows(
                    session, raws, user=self.user, report=result_report, progress=progress, cancelled=cancelled
                )
            except exchange.ImportFailedError as exc:
                spreadsheet.rename_problems(exc.report, plans)
                raise
        result.backup = backup
        return result

    def check_peer(self, paths: list[Path]) -> tuple[ImportReport, list[PeerFile]]:
        """Read files of other timeline tools (TimelineJS, vis-timeline, Timeline, .ics) and
        check their rows as an import would; writes nothing. Also what each file had that is not kept."""
        from explorer.store import exchange, peer

        report = exchange.ImportReport()
        peers = [peer.read_peer(p) for p in paths]
        with self.read() as session:
            raws = [row for f in peers for row in peer.to_raw_rows(session, f, report)]
            exchange.check_rows(session, raws, report)
        return report, peers

    def import_peer(self, paths: list[Path]) -> ImportResult:
        """Check, back up, then write the files' events and eras (cited to each file) in one
        transaction; undoable like any import."""
        from explorer.store import exchange, peer

        report, peers = self.check_peer(paths)
        if not report.ok:
            raise exchange.ImportFailedError(report)
        backup = self.backup_now("before-import")
        with self.write() as session:
            fresh = exchange.ImportReport()
            raws = [row for f in peers for row in peer.to_raw_rows(session, f, fresh)]
            result = exchange.apply_rows(session, raws, user=self.user, report=fresh)
        result.backup = backup
        return result

    def check_kumu(self, paths: list[Path]) -> tuple[ImportReport, KumuMap]:
        """A Kumu map's elements and connections checked as an import would; writes nothing."""
        from explorer.store import exchange, kumu

        report = exchange.ImportReport()
        read = kumu.read_kumu(paths)
        with self.read() as session:
            exchange.check_rows(session, kumu.to_raw_rows(session, read, report), report)
        return report, read

    def import_kumu(self, paths: list[Path]) -> ImportResult:
        """Check, back up, then write a Kumu map's records and links in one undoable transaction."""
        from explorer.store import exchange, kumu

        report, _read = self.check_kumu(paths)
        if not report.ok:
            raise exchange.ImportFailedError(report)
        backup = self.backup_now("before-import")
        with self.write() as session:
            fresh = exchange.ImportReport()
            rows = kumu.to_raw_rows(session, kumu.read_kumu(paths), fresh)
            result = exchange.apply_rows(session, rows, user=self.user, report=fresh)
        result.backup = backup
        return result

    def undo_import(self, result: ImportResult) -> ChangeSet:
        """Take an import back (version-checked: refused if an imported record was edited since)."""
        from explorer.store import exchange

        with self.write() as session:
            changes = exchange.undo(session, result, user=self.user)
        return self._published(changes)

    def plan_merge(self, other: Path) -> MergePlan:
        """Compare with another analyst's file (a MergePlan); writes nothing."""
        from explorer.store import merge

        if self.path is not None and Path(other).resolve() == self.path.resolve():
            raise StoreError("That is the database already open; choose the other analyst's file.")
        with self.read() as session:
            return merge.plan(session, Path(other))

    def apply_merge(self, plan: MergePlan, choices: dict[tuple[str, str], str]) -> MergeResult:
        """Back up, then write the reviewed merge in one transaction (a MergeResult)."""
        from explorer.store import merge

        backup = self.backup_now("before-merge")
        with self.write() as session:
            result = merge.apply(session, plan, choices, user=self.user)
        self._published(result.changes)
        result.backup = backup
        return result

    def undo_merge(self, result: MergeResult) -> ChangeSet:
        """Take a merge back exactly (refused if a merged record was edited since)."""
        from explorer.store import merge

        if result.undo is None:
            raise StoreError("This merge cannot be undone.")
        with self.write() as session:
            changes: ChangeEvent = merge.undo(session, result.undo)
        # The merge's log rows are taken back: the log may now end before what was seen.
        self._published(changes)
        self._seen_stamp = min(self._seen_stamp, self._log_stamp())
        return changes

    def backup_now(self, reason: str = "manual") -> Path | None:
        """A backup of a SQLite database in the data folder (None for a server database)."""
        if self.path is None or self.read_only:
            return None
        from explorer.store import backups

        keep = self.backup_retention() if self.backup_retention is not None else backups.Retention()
        return backups.make_backup(self.path, reason, keep=keep)

    def list_backups(self) -> list[BackupInfo]:
        from explorer.store import backups

        return backups.list_backups(self.path) if self.path is not None else []

    def restore_backup(self, backup: Path) -> Path:
        """Replace this database's contents with a backup; returns the backup of the state replaced."""
        if self.path is None:
            raise StoreError("Backups are restored into database files; a server is restored by its administrator.")
        if self.read_only:
            raise ReadOnlyError(self.read_only_reason or "The database is open read-only.")
        from explorer.store import backups

        self.engine.dispose()  # our pooled connections must not keep pages of the old contents
        try:
            return backups.restore_backup(backup, self.path)
        finally:
            self._seen_stamp = self._log_stamp()
            self.invalidate()  # other contents altogether


def resolve_target(target: str | Path | None) -> str:
    """The URL to open: an explicit path/URL, else EXPLORER_DATABASE_URL, else the demo copy."""
    if target:
        return url_for(target)
    env = os.environ.get("EXPLORER_DATABASE_URL")
    if env:
        return url_for(env)
    return url_for(ensure_demo_copy())


def ensure_demo_copy() -> Path:
    """The user's writable copy of the demo database, built from the shipped dataset once."""
    path = paths.default_database_path()
    if not path.exists():
        from explorer.store.demo import build_demo_database

        build_demo_database(path)
    return path


_LOG_ROWS = "change log rows added"


def _count_log_rows(session: Session, _context: object, _instances: object) -> None:
    session.info[_LOG_ROWS] = session.info.get(_LOG_ROWS, 0) + sum(isinstance(o, m.ChangeLog) for o in session.new)


# Record types whose writes never change the sector tree's totals or listings.
_TREE_UNTOUCHED = frozenset(
    {"event", "pledge", "initiative", "target", "person", "place", "source", "citation", "story", "storystep"}
)


# A deal's fields that play no part in where it counts or for how much (not its sector, partners,
# amount or dates): the tree's totals, listings and counts stand after a change to them.
_DEAL_UNCOUNTED = frozenset({"title", "kind", "place_id", "status", "pledge_id", "event_id", "notes"})


def _keeps(key: tuple[object, ...], action: str, record_type: str, _record_id: int, field: str | None) -> bool:
    """Whether one change (field None: not known which) leaves a cached tree answer (see Store._surviving) standing:
    totals, listings and loose deals do not depend on an organisation's fields other than its
    sector (listings get its new name and country there)."""
    if record_type in _TREE_UNTOUCHED:
        return True
    if record_type == "organisation" and action == "update" and field not in ("sector_id", None):
        return True
    if record_type == "deal" and action == "update" and field in _DEAL_UNCOUNTED:
        return True  # a deal's title or place: in no total, listing or count
    if record_type == "country" and action == "update":
        return key[0] != "organisations"  # listings show country names
    return False


def open_store(target: str | Path | None = None, *, read_only: bool = False, set_up_empty: bool = False) -> Store:
    """Open a database; a zero-byte file only with ``set_up_empty`` (the person agreed to it)."""
    url = resolve_target(target)
    try:
        opened = open_database(url, read_only=read_only, backup_dir=paths.backup_dir(), set_up_empty=set_up_empty)
    except sqlite3.Error as exc:  # anything the inspection did not foresee
        raise CorruptDatabaseError(f"The database could not be opened: {exc}", detail=str(exc)) from exc
    return Store(opened)
