"""The records table: every record of one type in a sortable, filterable table, linked to the
selection both ways, edited in place through the same validated, undoable writes as the forms,
several rows at once (one field), and copied as TSV/CSV for a spreadsheet.

The order of rows (a sort, a filter, a new type) is worked out by a background job; the table
only swaps in the new array of ids, so even a million rows never hold the window.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, Qt, QTimer
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from explorer import schema
from explorer.itemmodels.record_table import EDITABLE, RecordTableModel
from explorer.jobs import BackgroundJob
from explorer.state import AppState, RecordRef
from explorer.store import ChangeEvent, StoreError

if TYPE_CHECKING:
    import numpy as np

    from explorer.forms.operations import Operations


class RecordsTableView(QWidget):
    """The type to list, a filter, the count, the table. ``job``: the ordering running now."""

    def __init__(self, state: AppState, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state, self.ops = state, ops
        self.job: BackgroundJob | None = None
        self._pending_selection: list[RecordRef] = []
        self.type_box = QComboBox(self)
        self.type_box.setAccessibleName("Records of type")
        for kind in schema.kinds():
            if kind.findable:
                self.type_box.addItem(kind.label, kind.name)
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText("Filter these rows…")
        self.filter_edit.setClearButtonEnabled(True)
        self.count_label = QLabel(self)
        # Why the last edit was refused (nothing was written); cleared by the next edit.
        self.problem_label = QLabel(self)
        self.problem_label.setObjectName("bannerLabel")
        self.problem_label.setWordWrap(True)
        self.problem_label.hide()
        self.model = RecordTableModel(state, "deal")
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSortingEnabled(False)  # the header's clicks sort through the store
        header = self.table.horizontalHeader()
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(True)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # in id order until a header is clicked
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.sectionClicked.connect(self._sort_by)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._menu)
        self.copy_action = QAction("Copy Rows (for a Spreadsheet)", self.table)
        self.copy_action.setShortcut(QKeySequence.StandardKey.Copy)
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.copy_action.triggered.connect(lambda: self.copy_rows("\t"))
        self.table.addAction(self.copy_action)
        self.copy_csv_action = QAction("Copy Rows as CSV", self.table)
        self.copy_csv_action.triggered.connect(lambda: self.copy_rows(","))
        self.bulk_action = QAction("Set a Field for the Selected Rows…", self.table)
        self.bulk_action.triggered.connect(self.bulk_edit)

        top = QHBoxLayout()
        top.addWidget(self.type_box)
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.table)

        self._refilter = QTimer(self, singleShot=True, interval=250)
        self._refilter.timeout.connect(self.reload)
        self.filter_edit.textChanged.connect(self._refilter.start)
        self.type_box.currentIndexChanged.connect(self._type_chosen)
        self.model.edit_requested.connect(self._write)
        self.table.selectionModel().selectionChanged.connect(self._rows_selected)
        state.selection_changed.connect(self._on_selection)
        state.records_changed.connect(self._on_records_changed)
        state.store_replaced.connect(self._store_replaced)
        # Hidden, it does nothing (a million ids are not read at start-up for a closed dock);
        # shown, it reads what it missed.
        self._stale = True
        self.type_box.blockSignals(True)
        self.type_box.setCurrentIndex(max(0, self.type_box.findData("deal")))
        self.type_box.blockSignals(False)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        refs = self._pending_selection or list(self.state.selection)
        kinds = [r.record_type for r in refs if self.type_box.findData(r.record_type) >= 0]
        if kinds and self.record_type not in kinds:  # show the type of what is selected
            self._pending_selection = refs
            self.type_box.setCurrentIndex(self.type_box.findData(kinds[0]))
        elif self._stale:
            self.reload()

    def _store_replaced(self) -> None:
        self._stale = True
        if self.isVisible():
            self.reload()

    # --- rows -------------------------------------------------------------------------------------

    @property
    def record_type(self) -> str:
        return str(self.type_box.currentData())

    def _type_chosen(self) -> None:
        self.model.sort_column, self.model.descending = None, False
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self._stale = True
        if self.isVisible():
            self.reload()

    def _sort_by(self, section: int) -> None:
        name = self.model.columns[section].name if 0 <= section < len(self.model.columns) else None
        if name is None:
            return
        self.model.descending = not self.model.descending if self.model.sort_column == name else False
        self.model.sort_column = name
        order = Qt.SortOrder.DescendingOrder if self.model.descending else Qt.SortOrder.AscendingOrder
        self.table.horizontalHeader().setSortIndicator(section, order)
        self.reload()

    def reload(self) -> None:
        """Read the rows' order again (in the background), keeping the selection."""
        self._stale = False
        record_type, sort, descending = self.record_type, self.model.sort_column, self.model.descending
        if record_type != self.model.record_type:
            sort = None
        text = self.filter_edit.text().strip()
        store = self.state.store
        if self.job is not None:
            self.job.cancel()
        if not self._pending_selection:
            self._pending_selection = [r for r in self.state.selection if r.record_type == record_type]
        self.count_label.setText("Reading…")
        job = BackgroundJob(lambda _c, _r: store.table_ids(record_type, sort, descending, text), "records table")
        self.job = job

        def done(ids: np.ndarray) -> None:
            if self.job is job:
                self.job = None
                self._show(record_type, ids)

        def failed(exc: Exception) -> None:
            if self.job is job:
                self.job = None
                self.count_label.setText(str(exc) if isinstance(exc, StoreError) else "Could not read the rows.")

        job.finished.connect(done)
        job.failed.connect(failed)
        job.start()

    def _show(self, record_type: str, ids: np.ndarray) -> None:
        self.model.set_rows(record_type, ids)
        if self.model.sort_column is None or record_type != self.model.record_type:
            self.model.sort_column = None
        label = schema.label(record_type).lower()
        self.count_label.setText(f"{ids.size:,} {label} record{'s' if ids.size != 1 else ''}")
        self._fit_columns()
        refs, self._pending_selection = self._pending_selection, []
        self._select_rows(refs)

    def _fit_columns(self, sample: int = 40) -> None:
        """Widths from the header and the first rows only: Qt's resizeColumnsToContents reads every
        row (half a second at a million)."""
        metrics = self.table.fontMetrics()
        header = self.table.horizontalHeader().fontMetrics()
        rows = min(sample, self.model.rowCount())
        for c in range(self.model.columnCount()):
            texts = [str(self.model.data(self.model.index(r, c)) or "") for r in range(rows)]
            widest = max([metrics.horizontalAdvance(t) for t in texts] or [0])
            label = header.horizontalAdvance(str(self.model.headerData(c, Qt.Orientation.Horizontal))) + 24
            self.table.setColumnWidth(c, min(max(widest + 16, label, 60), 360))

    # --- selection, both ways ---------------------------------------------------------------------

    def selected_rows(self) -> list[int]:
        return sorted({i.row() for i in self.table.selectionModel().selectedRows()})

    def _rows_selected(self, *_args: object) -> None:
        refs = [self.model.ref(r) for r in self.selected_rows()]
        if refs:
            self.state.select(refs, initiator=self)

    def _on_selection(self, refs: list[RecordRef], initiator: object) -> None:
        if initiator is self or not refs:
            return
        if not self.isVisible():
            self._pending_selection = list(refs)  # selected when it is shown
            return
        kinds = {r.record_type for r in refs}
        if self.record_type not in kinds and self.isVisible():
            # Follow the selection to its type (a deal picked in the tree lists the deals).
            first = next((r.record_type for r in refs if self.type_box.findData(r.record_type) >= 0), None)
            if first is not None:
                self._pending_selection = list(refs)
                self.type_box.setCurrentIndex(self.type_box.findData(first))
                return
        self._select_rows(refs)

    def _select_rows(self, refs: list[RecordRef]) -> None:
        rows = self.model.rows_of(refs)
        chosen = QItemSelection()
        for row in rows:
            chosen.select(self.model.index(row, 0), self.model.index(row, self.model.columnCount() - 1))
        model = self.table.selectionModel()
        model.blockSignals(True)
        model.select(chosen, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        if rows:
            model.setCurrentIndex(self.model.index(rows[0], 0), QItemSelectionModel.SelectionFlag.NoUpdate)
        model.blockSignals(False)
        self.table.viewport().update()
        if rows:
            self.table.scrollTo(self.model.index(rows[0], 0), QAbstractItemView.ScrollHint.EnsureVisible)

    # --- writes -----------------------------------------------------------------------------------

    def _on_records_changed(self, changes: ChangeEvent, _initiator: object) -> None:
        if self.model.record_type not in changes.types():
            return
        if not self.isVisible():
            self._stale = True
            return
        touched = changes.ids(self.model.record_type)
        if any(c.action != "update" for c in changes.changes if c.record_type == self.model.record_type):
            self.reload()  # rows came or went
        else:
            self.model.forget(set(touched))

    def _write(self, ref: RecordRef, field: str, value: Any, version: int) -> bool:
        return self.write_many([(ref, version)], field, value)

    def write_many(self, rows: list[tuple[RecordRef, int]], field: str, value: Any) -> bool:
        """One undo step setting ``field`` on every row; refused whole if any is (the store's rules)."""
        store = self.state.store
        self.problem_label.hide()
        label = schema.kind(self.model.record_type).field(field)
        stack = self.ops.undo_stack
        many = len(rows) > 1
        if many:
            stack.beginMacro(f"Set {label.label.lower() if label else field} on {len(rows)} records")
        try:
            for ref, version in rows:
                _version, old = store.snapshot(ref.record_type, ref.record_id)
                if old.get(field) == value:
                    continue
                self.ops.edit(
                    ref.record_type,
                    ref.record_id,
                    {field: old.get(field)},
                    {field: value},
                    version,
                    str(old.get(schema.kind(ref.record_type).title) or ref.record_id),
                    initiator=self,
                )
        except StoreError as exc:
            if many:
                stack.endMacro()
                stack.undo()  # what the macro wrote so far goes too: all rows or none
                many = False
            self.problem_label.setText(f"Not saved — {exc.message}")
            self.problem_label.show()
            return False
        finally:
            if many:
                stack.endMacro()
        return True

    def bulk_edit(self) -> None:
        rows = self.selected_rows()
        if not rows or self.state.store.read_only:
            return
        editable = [c for c in self.model.columns if c.kind in EDITABLE]
        labels = [c.label for c in editable]
        current = self.table.currentIndex().column()
        start = next((i for i, c in enumerate(editable) if c is self.model.columns[current]), 0) if current >= 0 else 0
        choice, ok = QInputDialog.getItem(
            self, "Set a field", f"Field to set on {len(rows)} rows:", labels, start, False
        )
        if not ok:
            return
        column = editable[labels.index(choice)]
        value, ok = QInputDialog.getText(self, "Set a field", f"New {column.label.lower()} for {len(rows)} rows:")
        if ok:
            self.write_many(
                [(self.model.ref(r), int(self.model.cells(r)[-1])) for r in rows], column.name, value or None
            )

    # --- copying ----------------------------------------------------------------------------------

    def copy_rows(self, delimiter: str = "\t") -> str:
        """The selected rows (with a header row) on the clipboard, as a spreadsheet pastes them."""
        rows = self.selected_rows()
        out = io.StringIO()
        writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
        writer.writerow([c.label for c in self.model.columns])
        for r in rows:
            writer.writerow([self.model.data(self.model.index(r, c)) or "" for c in range(self.model.columnCount())])
        text = out.getvalue()
        QGuiApplication.clipboard().setText(text)
        return text

    def _menu(self, pos: Any) -> None:
        menu = QMenu(self)
        menu.addAction(self.copy_action)
        menu.addAction(self.copy_csv_action)
        if not self.state.store.read_only:
            menu.addSeparator()
            menu.addAction(self.bulk_action)
        self.bulk_action.setEnabled(bool(self.selected_rows()))
        menu.exec(self.table.viewport().mapToGlobal(pos))

    def index_of(self, ref: RecordRef) -> QModelIndex:
        rows = self.model.rows_of([ref])
        return self.model.index(rows[0], 0) if rows else QModelIndex()
