"""SectorTreeView: the sector → organisation → deal tree with its filter box, linked to AppState."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from PySide6.QtCore import QEvent, QItemSelection, QItemSelectionModel, QModelIndex, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLineEdit, QStyle, QTreeView, QVBoxLayout, QWidget

from explorer.itemmodels.sector_tree import GAP, REF_ROLE, SectorTreeModel
from explorer.state import AppState, RecordRef
from explorer.store import ChangeEvent, Filters, StoreError
from explorer.store.changes import Interest
from explorer.store.filtering import passing_unchanged
from explorer.store.queries import TIMELINE_TYPES
from explorer.store.search import MIN_TRIGRAM

if TYPE_CHECKING:
    from explorer.itemmodels.sector_tree import Node
    from explorer.store.queries import SectorNode
    from explorer.store.scope import FilterScope
EXPAND_ORGANISATIONS = 40  # organisations opened by themselves under a filter
EXPAND_DEAL_ROWS = 60  # … while the deals they show stay about this many (two screens)
EXPAND_ROWS = 150  # rows that opening matching sectors may add, at most (a few screens)
REOPEN_ROWS = 400  # … and reopening under a new filter what was open without one

_DEAL_AMOUNT = ("amount", "currency", "usd_rate", "rate_date", "amount_usd")  # what its USD comes from
_DEAL_DATE = ("start_date", "date_precision", "end_date")  # its day (rows are in date order)
# What the unfiltered tree shows of each record type: a change to other fields (notes, kinds,
# statuses, people, events…) leaves it as it is, expanded rows and all.
SHOWN: Interest = {
    "sector": None,
    "organisation": frozenset({"name", "country_id", "sector_id"}),
    "deal": frozenset({"title", "sector_id", "place_id", "organisations", *_DEAL_AMOUNT, *_DEAL_DATE}),
    "country": frozenset({"name"}),
    "place": frozenset({"country_id"}),  # a deal's country is its place's
}


def _number(value: object) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


class SectorTreeView(QWidget):
    """Signals:
    context_menu_requested(RecordRef, QPoint): right click on a row (forms hook in here).
    """

    context_menu_requested = Signal(object, object)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._syncing = False
        self._unfiltered_expansion: list[RecordRef] = []
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText("Filter sectors, organisations and deals (3+ letters)…")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setAccessibleName("Filter the sector tree")
        self.model = SectorTreeModel(state.store, self, load=False)
        self.tree = QTreeView(self)
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSortingEnabled(True)
        self.tree.sortByColumn(3, Qt.SortOrder.DescendingOrder)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header = self.tree.header()
        header.setStretchLastSection(False)
        self.tree.setIndentation(14)
        header.setMinimumSectionSize(40)
        # Name takes what the numbers leave, but never less than a readable width (then scroll).
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(1, self.fontMetrics().horizontalAdvance("Country") + 16)
        for column in (2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        self._name_min = self.MIN_NAME_WIDTH
        self._fit_number_columns()
        self.tree.viewport().installEventFilter(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.tree)

        # Filtering on every keystroke would query per letter; a short pause batches typing.
        self._filter_timer = QTimer(self, singleShot=True, interval=120)
        self._requested_filters = Filters()
        self._filter_timer.timeout.connect(self._apply_typed_filter)
        self.filter_edit.textChanged.connect(lambda _t: self._filter_timer.start())
        self.tree.selectionModel().selectionChanged.connect(self._on_tree_selection)
        # After the scrolling, not during it: the range also changes while the view lays out
        # rows (a selection opening its way), and each look at a row's place lays out again.
        self._more_timer = QTimer(self, singleShot=True, interval=0)
        self._more_timer.timeout.connect(self._show_more_at_the_end)
        self.tree.verticalScrollBar().valueChanged.connect(lambda _v: self._more_timer.start())
        self.tree.customContextMenuRequested.connect(self._on_context_menu)
        self.tree.clicked.connect(self._open_gap)
        self.tree.activated.connect(self._open_gap)
        state.selection_changed.connect(self._on_state_selection)
        state.filters_changed.connect(lambda _f: self._apply_filters())
        state.records_changed.connect(self._on_records_changed)
        state.store_replaced.connect(self._on_store_replaced)
        self._reload(Filters())

    MIN_NAME_WIDTH = 150
    COUNTRY_WIDTH = 80

    def _fit_number_columns(self) -> None:
        # Widths from the top-level rows, whose figures are the largest (totals roll up), and the
        # header: ResizeToContents asks every loaded row for its size hint on each change, which
        # was most of a keystroke with thousands of rows open.
        metrics = self.tree.fontMetrics()
        bold = QFontMetrics(self.model.data(self.model.index(0, 0), Qt.ItemDataRole.FontRole) or self.tree.font())
        header = self.tree.header()
        for column in (2, 3):
            texts = [str(self.model.index(r, column).data() or "") for r in range(self.model.rowCount())]
            widest = max(
                [bold.horizontalAdvance(t) for t in texts]
                + [
                    header.fontMetrics().horizontalAdvance(self.model.COLUMNS[column]) + 14,
                    metrics.horizontalAdvance("0,000"),
                ]
            )
            header.resizeSection(column, widest + 14)
        # The sector names are the tree's headings: never cut ("Human capital and …"); a
        # narrow dock scrolls sideways instead. Deeper rows keep their full name as a tooltip.
        names = [str(self.model.index(r, 0).data() or "") for r in range(self.model.rowCount())]
        widest_name = max([bold.horizontalAdvance(n) for n in names] + [0])
        self._name_min = max(self.MIN_NAME_WIDTH, min(widest_name + self.tree.indentation() + 24, 360))
        self._fit_name_column()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit_number_columns()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # The viewport's own resize: the view's comes before its layout has resized the tree.
        if watched is self.tree.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_name_column()
        return super().eventFilter(watched, event)

    def wanted_width(self) -> int:
        """The dock width that shows the sector names, deals and totals without scrolling."""
        header = self.tree.header()
        columns = self._name_min + header.sectionSize(2) + header.sectionSize(3)
        layout = self.layout()
        margins = 0 if layout is None else layout.contentsMargins().left() + layout.contentsMargins().right()
        scroll = self.tree.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        return columns + 2 * self.tree.frameWidth() + scroll + margins

    def _fit_name_column(self) -> None:
        header = self.tree.header()
        figures = header.sectionSize(2) + header.sectionSize(3)
        width = self.tree.viewport().width()
        # A narrow tree drops the country column before the names or the totals get cut (the
        # detail pane still says where each record is).
        name_min = self._name_min
        narrow = width - figures - self.COUNTRY_WIDTH < name_min
        if narrow != header.isSectionHidden(1):
            header.setSectionHidden(1, narrow)
        others = figures + (0 if narrow else header.sectionSize(1))
        header.resizeSection(0, max(name_min, width - others))

    # --- filters ---------------------------------------------------------------------

    def local_text(self) -> str:
        """The box's words of three letters or more: shorter ones match most of a large
        database and cannot use the trigram index, so typing waits for the third letter."""
        return " ".join(w for w in self.filter_edit.text().split() if len(w) >= MIN_TRIGRAM)

    def effective_filters(self) -> Filters:
        base = self._state.filters
        text = " ".join(t for t in (base.text, self.local_text()) if t)
        return replace(base, text=text)

    def _apply_filters(self) -> None:
        self._filter_timer.stop()
        filters = self.effective_filters()
        if not filters.active:
            self._reload(filters)
            return
        # What passes is worked out once (in the background on large data) and shared with
        # the other views when the filters are the global ones.
        self._requested_filters = filters
        self._state.request_scope(filters, self._install_scope, owner=self, label="Filtering the tree")

    def _apply_typed_filter(self) -> None:
        # A space or a word still under three letters leaves the filter as it is: the tree
        # stays as shown (and a query under way for it goes on) instead of being rebuilt.
        filters = self.effective_filters()
        if filters == self.model.filters or (filters == self._requested_filters and self._state.working_for(self)):
            self._filter_timer.stop()
            return
        self._apply_filters()

    def _install_scope(self, scope: FilterScope) -> None:
        if scope.filters == self.effective_filters():
            self._reload(scope.filters, scope)

    def apply_pending_filter(self) -> None:
        """Apply a typed filter now (tests and Enter don't wait for the pause)."""
        if self._filter_timer.isActive():
            self._apply_typed_filter()

    def _reload(self, filters: Filters | None = None, scope: FilterScope | None = None) -> None:
        was_filtered = self.model.filters.active
        expanded = self._expanded_refs()
        if filters is None:
            if was_filtered:
                # the scope of these filters is stale after a write: work it out again
                self._apply_filters()
                return
            filters = Filters()
        if not filters.active:
            # Unfiltered totals take a moment on large data: the tree keeps what it shows
            # meanwhile (the sectors by name when it shows nothing yet).
            def meanwhile() -> None:
                if not self.model.rowCount():
                    self.model.show_names_only(self._state.store.sector_hierarchy())

            self._state.request_sector_tree(
                lambda sectors: self._show(Filters(), None, sectors, expanded, was_filtered),
                owner=self,
                meanwhile=meanwhile,
            )
            return
        self._show(filters, scope, None, expanded, was_filtered)

    def _show(
        self,
        filters: Filters,
        scope: FilterScope | None,
        sectors: list[SectorNode] | None,
        expanded: list[RecordRef],
        was_filtered: bool,
    ) -> None:
        self._syncing = True
        try:
            self.model.set_filters(filters, scope, sectors=sectors)
            self._fit_number_columns()
            if not was_filtered and filters.active:
                self._unfiltered_expansion = expanded  # what the user had open, for when filters clear
            if filters.active:
                if not was_filtered:
                    self._reopen(expanded, REOPEN_ROWS)
                self._expand_matches()
            else:
                self._reopen(self._unfiltered_expansion if was_filtered else expanded)
        finally:
            self._syncing = False
        self._show_selection(self._state.selection, scroll=False)

    def _reopen(self, refs: list[RecordRef], budget: int | None = None) -> None:
        """Open again what was open, where it is still shown: sectors, and organisations of
        sectors reopened (found in memory, no query per row). With a ``budget`` of rows, sectors
        open in tree order while the rows they show (the first chunk of each) stay within it:
        after selections opened forty listings, reopening them all under a filter laid out 4,000
        rows (60 ms)."""
        for ref in refs:
            if ref.record_type == "sector":
                node = self.model.sector_node(ref.record_id)
                if node is None:
                    continue
                if budget is not None:
                    rows = len(node.children) + (self.model.CHUNK if node.has_more else 0)
                    if rows > budget:
                        continue
                    budget -= rows
                self.tree.expand(self.model.index_of_node(node))
        wanted = {ref for ref in refs if ref.record_type == "organisation"}
        if not wanted:
            return
        opened = []
        for node in self.model.loaded_nodes("organisation"):
            if node.ref in wanted:
                opened.append(node)
        self.model.fetch_deals_of(opened)
        for node in opened:
            self.tree.expand(self.model.index_of_node(node))

    def _expand_matches(self) -> None:
        """Under a filter the remaining branches open so the matches are visible: sectors
        while the rows they open stay few (the view lays out every row of an open branch on
        each change), and the deals of the first organisations."""
        scope = self.model.scope
        budget = EXPAND_ROWS
        organisations: list[Node] = []
        for node in self.model.loaded_nodes("sector"):
            index = self.model.index_of_node(node)
            if not self.model.hasChildren(index):
                continue
            subsectors = any(c.kind == "sector" for c in node.children)
            if scope is None or node.fetched:
                self.model.ensure_fetched(node)
                size = len(node.children)
            else:
                size = len(scope.organisation_ids_in_sector(node.record_id))
            if not subsectors and size > budget:
                continue
            self.tree.expand(index)
            if not subsectors:
                self.model.ensure_fetched(node)
                budget -= len(node.children)
                organisations += [c for c in node.children if c.kind == "organisation"]
        # Open organisations until about a screenful of deals shows: more rows than anyone
        # reads cost the window a freeze on every keystroke.
        chosen, rows = [], 0
        for node in organisations[:EXPAND_ORGANISATIONS]:
            if rows >= EXPAND_DEAL_ROWS:
                break
            chosen.append(node)
            rows += node.deal_count or 0
        organisations = chosen
        self.model.fetch_deals_of(organisations)
        for node in organisations:
            if node.children:
                self.tree.expand(self.model.index_of_node(node))

    def _show_more_at_the_end(self) -> None:
        """Near the end of the list, big sectors show their next chunk of organisations."""
        bar = self.tree.verticalScrollBar()
        if bar.value() < bar.maximum() - bar.pageStep():
            return
        bottom = self.tree.viewport().height()
        due = [  # all looked at before any shows more: each showing lays the rows out again
            node
            for node in self.model.loaded_parents()
            if node.pending
            and node.children
            and self.tree.isExpanded(self.model.index_of_node(node))
            and self.tree.visualRect(self.model.index_of_node(node.children[-1])).top() <= bottom
        ]
        for node in due:
            self.model.show_more(node)

    def _expanded_refs(self) -> list[RecordRef]:
        # Only rows whose children are loaded can be open: no walk over every loaded row.
        return [
            node.ref for node in self.model.loaded_parents() if self.tree.isExpanded(self.model.index_of_node(node))
        ]

    # Fields only shown in a record's own rows (its name, country and, for a deal, its USD
    # amount, added to the totals it counts in): a change to them alone is written into the rows
    # showing it, expansion and scroll kept. Reading the tree again took seconds at a million
    # deals, most of it opening the way to the selection again.
    ROW_FIELDS: ClassVar[Interest] = {
        "organisation": frozenset({"name", "country_id"}),
        "deal": frozenset({"title", "place_id", *_DEAL_AMOUNT}),
    }
    PATCH_AT_MOST = 200  # records changed by one write that are patched in place, not reloaded
    AMOUNTS_AT_MOST = 20  # … of which deals whose amount changed (each one's placement is read)

    def _on_records_changed(self, changes: ChangeEvent, _initiator: object) -> None:
        # Under a filter, words match notes, kinds and statuses too: any field may change what passes.
        wanted: Interest = dict.fromkeys(SHOWN) if self.model.filters.active else SHOWN
        if changes.concerns(wanted) and not self._patch(changes):
            self._reload()

    def _patch(self, changes: ChangeEvent) -> bool:
        """Write the new names, countries and amounts into the rows and totals, unfiltered or
        under filters the change leaves passing the same records (a title or an amount; the
        filter's scope is then worked out again in the background for what opens later); False
        when the tree is to be read again."""
        filters = self.model.filters
        if filters.active and not passing_unchanged(filters, changes.changes):
            return False
        concerning = [c for c in changes.changes if c.record_type in SHOWN and c.concerns(SHOWN[c.record_type])]
        if not concerning or len(concerning) > self.PATCH_AT_MOST:
            return False
        ids: dict[str, list[int]] = {"deal": [], "organisation": []}
        moved: dict[int, float] = {}  # deal id → change of its USD amount
        for c in concerning:
            allowed, shown = self.ROW_FIELDS.get(c.record_type), SHOWN[c.record_type]
            if c.action != "update" or not c.fields or allowed is None or shown is None:
                return False
            if not shown.intersection(c.fields) <= allowed:
                return False
            if "amount_usd" in c.fields:
                old, new = c.fields["amount_usd"]
                if not (_number(old) and _number(new)):  # text from the change log (another's write)
                    return False
                moved[c.record_id] = float(new or 0.0) - float(old or 0.0)  # type: ignore[arg-type]
            ids[c.record_type].append(c.record_id)
        if len(moved) > self.AMOUNTS_AT_MOST:
            return False
        if filters.active and moved:  # only a passing deal's amount counts in the totals shown
            scope = self.model.scope
            if scope is None or not np.isin(np.fromiter(moved, dtype=np.int64), scope.ids["deal"]).all():
                return False
        store = self._state.store
        try:
            deals = {row.id: row for row in store.deal_rows(ids["deal"])} if ids["deal"] else {}
            organisations = store.organisation_names(ids["organisation"]) if ids["organisation"] else {}
            amounts = {d: (delta, *store.deal_placement(d)) for d, delta in moved.items() if delta}
        except StoreError:
            return False
        if not self.model.patch_rows(deals, organisations, amounts):
            return False
        if filters.active:
            self._state.request_scope(filters, self._adopt_scope, owner=self, label="Filtering the tree")
        return True

    def _adopt_scope(self, scope: FilterScope) -> None:
        """A scope of the filters shown, worked out after a write the rows already show: later
        listings are read from it (the rows shown stay as they are)."""
        if scope.filters == self.model.filters:
            self.model.adopt_scope(scope)

    def _on_store_replaced(self) -> None:
        self.filter_edit.clear()
        self._unfiltered_expansion = []
        self.model.set_store(self._state.store, load=False)
        self._reload(Filters())

    # --- selection both ways ---------------------------------------------------------

    def selected_refs(self) -> list[RecordRef]:
        rows = self.tree.selectionModel().selectedRows(0)
        return sorted({ref for index in rows if (ref := index.data(REF_ROLE)) is not None})  # a gap row has none

    def _on_tree_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        if self._syncing:
            return
        refs = self.selected_refs()
        if refs:
            self._state.select(refs, initiator=self)

    def _on_state_selection(self, refs: list[RecordRef], initiator: object) -> None:
        if initiator is self:
            return
        self._show_selection(refs, scroll=True)

    def _tree_refs_for(self, refs: list[RecordRef]) -> list[RecordRef]:
        """The tree rows that stand for a selection: timeline items map to their deals,
        organisations and sector."""
        out: list[RecordRef] = []
        for ref in refs:
            if ref.record_type in ("sector", "organisation", "deal"):
                out.append(ref)
            elif ref.record_type in TIMELINE_TYPES or ref.record_type in ("person", "place", "country"):
                try:
                    links = self._state.detail(ref).links
                except Exception:
                    continue
                linked = [
                    RecordRef(link.record_type, link.record_id)
                    for link in links
                    if link.record_type in ("deal", "organisation", "sector")
                ]
                out.extend(linked)
        return list(dict.fromkeys(out))

    def _show_selection(self, refs: list[RecordRef], *, scroll: bool) -> None:
        self._syncing = True
        try:
            selection = QItemSelection()
            first: QModelIndex | None = None
            for ref in self._tree_refs_for(refs):
                for index in self.model.indexes_for(ref):
                    parent = index.parent()
                    while parent.isValid():
                        self.tree.expand(parent)
                        parent = parent.parent()
                    if ref.record_type != "deal":
                        self.tree.expand(index)
                    last = index.siblingAtColumn(self.model.columnCount() - 1)
                    selection.select(index, last)
                    first = first or index
            flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            self.tree.selectionModel().select(selection, flags)
            if first is not None:
                self.tree.selectionModel().setCurrentIndex(first, QItemSelectionModel.SelectionFlag.NoUpdate)
                if scroll:
                    self.tree.scrollTo(first, QAbstractItemView.ScrollHint.PositionAtCenter)
        finally:
            self._syncing = False

    def _open_gap(self, index: QModelIndex) -> None:
        """A click (or Enter) on a row standing for rows not shown shows the next of them."""
        node = self.model.node(index)
        if node is not None and node.kind == GAP:
            self.model.open_gap(node)
            self._show_selection(self._state.selection, scroll=False)  # the click had taken it

    def _on_context_menu(self, pos: QPoint) -> None:
        index = self.tree.indexAt(pos)
        viewport = self.tree.viewport()
        ref = index.data(REF_ROLE) if index.isValid() else None
        if ref is not None and viewport is not None:
            self.context_menu_requested.emit(ref, viewport.mapToGlobal(pos))

    # --- helpers for tests and the window ---------------------------------------------

    def index_of(self, ref: RecordRef) -> QModelIndex:
        found = self.model.indexes_for(ref)
        return found[0] if found else QModelIndex()
