"""AppState: the one object every view listens to and writes to. Views never call each other."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QObject, Signal

from explorer.store import ChangeSet, Filters, Store, StoreError

log = logging.getLogger("explorer.state")


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
        records_changed(ChangeSet, object): a write happened, and who made it.
        range_requested(float, float): someone asks the timeline to show these days.
        store_replaced(): a different database is open now (every view reloads).
    """

    selection_changed = Signal(list, object)
    filters_changed = Signal(object)
    records_changed = Signal(object, object)
    range_requested = Signal(float, float)
    store_replaced = Signal()

    HISTORY_LIMIT = 200

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self._selection: list[RecordRef] = []
        self._filters = Filters()
        self._back: list[list[RecordRef]] = []
        self._forward: list[list[RecordRef]] = []
        self._sector_selection: tuple[int, ...] = ()
        self._details: dict[RecordRef, Any] = {}

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

    def _set_selection(self, refs: list[RecordRef], initiator: Any) -> None:
        self._selection = refs
        self._details.clear()  # read afresh once per selection, then shared by every view
        self.selection_changed.emit(list(refs), initiator)

    def detail(self, ref: RecordRef) -> Any:
        """The record with its links, sources and history (store.detail), loaded once for all
        the views that react to the same selection."""
        found = self._details.get(ref)
        if found is None:
            found = self.store.detail(ref.record_type, ref.record_id)
            self._details[ref] = found
        return found

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
        if filters != self._filters:
            self._filters = filters
            self.filters_changed.emit(filters)

    def set_sector_filter(self, sector_ids: list[int]) -> None:
        self._sector_selection = tuple(sector_ids)
        expanded = self.store.sector_ids_with_descendants(sector_ids) if sector_ids else frozenset()
        self.set_filters(replace(self._filters, sector_ids=expanded))

    def set_country_filter(self, country_ids: list[int]) -> None:
        self.set_filters(replace(self._filters, country_ids=frozenset(country_ids)))

    def set_date_range(self, start_day: int | None, end_day: int | None) -> None:
        if start_day is not None and end_day is not None and end_day < start_day:
            start_day, end_day = end_day, start_day
        self.set_filters(replace(self._filters, start_day=start_day, end_day=end_day))

    def set_search_text(self, text: str) -> None:
        self.set_filters(replace(self._filters, text=text.strip()))

    def clear_filters(self) -> None:
        self._sector_selection = ()
        self.set_filters(Filters())

    # --- changes ---------------------------------------------------------------------

    def notify_changed(self, changes: ChangeSet, initiator: Any = None) -> None:
        """Every write reports here; views refresh what concerns them."""
        if not changes:
            return
        self._details.clear()
        deleted = {(c.record_type, c.record_id) for c in changes.changes if c.action == "delete"}
        if deleted and any((r.record_type, r.record_id) in deleted for r in self._selection):
            self._selection = [r for r in self._selection if (r.record_type, r.record_id) not in deleted]
            self.selection_changed.emit(list(self._selection), None)
        self.records_changed.emit(changes, initiator)

    def request_range(self, start_day: float, end_day: float) -> None:
        self.range_requested.emit(float(start_day), float(end_day))

    def replace_store(self, store: Store) -> None:
        old = self.store
        self.store = store
        self._details.clear()
        self._selection, self._back, self._forward = [], [], []
        self._sector_selection = ()
        self._filters = Filters()
        self.store_replaced.emit()
        self.selection_changed.emit([], None)
        self.filters_changed.emit(self._filters)
        try:
            old.close()
        except StoreError:
            log.exception("closing the previous database")
