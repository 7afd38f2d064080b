"""The records table's model: the rows of one record type, held as an array of ids.

Only the ids are kept for every row (a million rows are 8 MB); cells are read a page at a time
when the view asks for them. Sorting and filtering ask the store for a new order of ids, which the
view runs in the background; the model then swaps its array in one reset. Edits are not written
here (item models sit below forms): ``edit_requested`` asks the view, which writes through the
same undoable operations as a form.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from explorer import schema
from explorer.formatting import date_text
from explorer.state import AppState, RecordRef
from explorer.store.table import PAGE, TableColumn, columns

Index = QModelIndex | QPersistentModelIndex
# Kinds a cell can be edited in place (a reference is picked in the form).
EDITABLE = {"text", "notes", "int", "float", "money", "rate", "date", "choice", "currency", "precision"}
REF_ROLE = Qt.ItemDataRole.UserRole + 1


class RecordTableModel(QAbstractTableModel):
    """Signals:
    edit_requested(RecordRef, str, object, int): write this field's new value (at this version).
    """

    edit_requested = Signal(object, str, object, int)

    def __init__(self, state: AppState, record_type: str = "deal") -> None:
        super().__init__()
        self.state = state
        self.record_type = record_type
        self.columns: list[TableColumn] = columns(record_type)
        self.ids: np.ndarray = np.zeros(0, dtype=np.int64)
        self._cells: dict[int, tuple[Any, ...]] = {}
        self.sort_column: str | None = None
        self.descending = False
        self.text = ""

    # --- what it shows ----------------------------------------------------------------------------

    def set_rows(self, record_type: str, ids: np.ndarray) -> None:
        self.beginResetModel()
        if record_type != self.record_type:
            self.record_type = record_type
            self.columns = columns(record_type)
        self.ids = ids
        self._cells.clear()
        self.endResetModel()

    def forget(self, record_ids: set[int] | None = None) -> None:
        """Cells of these records (all if None) are read again: they changed."""
        if record_ids is None:
            self._cells.clear()
        else:
            for rid in record_ids:
                self._cells.pop(rid, None)
        if self.rowCount():
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1))

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's name)
        return 0 if parent.isValid() else int(self.ids.size)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def ref(self, row: int) -> RecordRef:
        return RecordRef(self.record_type, int(self.ids[row]))

    def rows_of(self, refs: list[RecordRef]) -> list[int]:
        wanted = [r.record_id for r in refs if r.record_type == self.record_type]
        if not wanted or not self.ids.size:
            return []
        return [int(i) for i in np.flatnonzero(np.isin(self.ids, np.asarray(wanted, dtype=np.int64)))]

    def cells(self, row: int) -> tuple[Any, ...]:
        """The row's cells (and its version, last), read with its page if not yet known."""
        rid = int(self.ids[row])
        found = self._cells.get(rid)
        if found is None:
            start = row - row % PAGE
            page_ids = [int(i) for i in self.ids[start : start + PAGE] if int(i) not in self._cells]
            self._cells.update(self.state.store.table_page(self.record_type, page_ids))
            found = self._cells.get(rid)
            if found is None:  # deleted since the ids were read
                found = self._cells[rid] = (*([None] * len(self.columns)), None, 0)
        return found

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < self.rowCount()):
            return None
        column = self.columns[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole, Qt.ItemDataRole.ToolTipRole):
            cells = self.cells(index.row())
            value = cells[index.column()]
            if value is None:
                return "" if role != Qt.ItemDataRole.ToolTipRole else None
            editing = role == Qt.ItemDataRole.EditRole
            if isinstance(value, dt.date):
                precision = cells[-2] if column.name == "start_date" else "day"
                return value.isoformat() if editing else date_text(value, precision or "day")
            if isinstance(value, float) and column.kind in ("money", "float", "rate"):
                return repr(value) if editing or not value.is_integer() else f"{value:,.0f}"
            return str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.kind in ("money", "float", "rate", "int"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == REF_ROLE:
            return self.ref(index.row())
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.columns[section].label if 0 <= section < len(self.columns) else None
        return str(section + 1)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if self.columns[index.column()].kind in EDITABLE and not self.state.store.read_only:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not (self.flags(index) & Qt.ItemFlag.ItemIsEditable):
            return False
        column = self.columns[index.column()]
        text = "" if value is None else str(value).strip()
        new: Any = text or None
        if column.kind in ("money", "float", "rate") and text:
            new = text.replace(",", "")  # the store's rules decide whether it is a number
        version = int(self.cells(index.row())[-1])
        self.edit_requested.emit(self.ref(index.row()), column.name, new, version)
        return True  # the cell shows the stored value once the write's change event arrives

    def label_of(self, row: int) -> str:
        kind = schema.kind(self.record_type)
        at = next((i for i, c in enumerate(self.columns) if c.name == kind.title), 0)
        return str(self.cells(row)[at] or "")
