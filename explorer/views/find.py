"""Find anything: a result list under the search field, of records of every type, to pick one.

Typing shows the best matches (summits, pledges, deals, organisations, people, places, sources,
initiatives, stories) with their kind and date; arrows move in the list, Enter selects the record in
every view and the timeline glides to it. Alt+Enter, or the "filter as you type" toggle, filters
every view by the text instead, as the search field always did.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from explorer.formatting import KIND_LABEL, day_text
from explorer.state import AppState, RecordRef
from explorer.store import StoreError
from explorer.store.search import FoundRecord

ModelIndex = QModelIndex | QPersistentModelIndex
RESULTS = 50
KEYS_HINT = "↑ ↓ choose · Enter select · Alt+Enter filter every view · Esc close"
SHORT_HINT = "Names starting with these letters · a third letter searches every record"
VISIBLE_ROWS = 12


def kind_text(found: FoundRecord) -> str:
    """ "Summit", "Visit", "Person", "Deal": what the user would call the record."""
    if found.record_type == "event" and found.kind:
        return found.kind.capitalize()
    return KIND_LABEL.get(found.record_type, found.record_type.capitalize())


class FindResultsModel(QAbstractTableModel):
    """The ranked matches: title, kind, date."""

    HEADERS = ("Record", "Kind", "Date")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[FoundRecord] = []

    def set_results(self, rows: list[FoundRecord]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        found = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            if index.column() == 0:
                return found.title
            if index.column() == 1:
                return kind_text(found)
            return day_text(found.start_day, found.precision) if found.start_day is not None else ""
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 0:
            return found.title
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def found(self, row: int) -> FoundRecord:
        return self._rows[row]


class FindPopup(QFrame):
    """The list under the search field. A child of the window, not a popup window: the field keeps
    the keyboard focus, and the list can never open off-screen."""

    activated = Signal(int)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("findPopup")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.model = FindResultsModel(self)
        self.view = QTreeView(self)
        self.view.setObjectName("findResults")
        self.view.setAccessibleName("Search results")
        self.view.setModel(self.model)
        self.view.setRootIsDecorated(False)
        self.view.setUniformRowHeights(True)
        self.view.setHeaderHidden(True)
        self.view.setAllColumnsShowFocus(True)
        self.view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.view.clicked.connect(lambda index: self.activated.emit(index.row()))
        self.message = QLabel(self)
        self.message.setObjectName("findMessage")
        self.message.setWordWrap(True)
        self.message.setMargin(8)
        self.hint = QLabel(KEYS_HINT, self)
        self.hint.setObjectName("findHint")
        self.hint.setMargin(4)
        self.hint.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(1, 1, 1, 1)
        layout.setSpacing(0)
        layout.addWidget(self.message)
        layout.addWidget(self.view)
        layout.addWidget(self.hint)
        self.hide()

    def show_results(self, rows: list[FoundRecord], text: str) -> None:
        self.model.set_results(rows)
        short = all(len(w) < 3 for w in text.split())
        if rows:
            self.message.hide()
            self.view.show()
            self.set_current(0)
        else:
            self.message.setText(
                f"Nothing matches “{text}”. "
                + (
                    "Type a third letter to search every record."
                    if short
                    else "Check the spelling, or try fewer or shorter words."
                )
            )
            self.message.show()
            self.view.hide()
        self.hint.setText(SHORT_HINT if short else KEYS_HINT)
        self.hint.setVisible(bool(rows))

    def current_row(self) -> int:
        index = self.view.currentIndex()
        return index.row() if index.isValid() else -1

    def set_current(self, row: int) -> None:
        count = self.model.rowCount()
        if count == 0:
            return
        row = max(0, min(count - 1, row))
        index = self.model.index(row, 0)
        self.view.setCurrentIndex(index)
        self.view.scrollTo(index)

    def place_under(self, anchor: QWidget) -> None:
        """Below the search field, right-aligned with it, inside the window."""
        parent = self.parentWidget()
        assert parent is not None
        bottom_right = anchor.mapTo(parent, QPoint(anchor.width(), anchor.height()))
        fm = self.view.fontMetrics()
        width = min(max(anchor.width(), fm.averageCharWidth() * 95), parent.width() - 8)
        rows = min(max(self.model.rowCount(), 1), VISIBLE_ROWS)
        row_h = self.view.sizeHintForRow(0) if self.model.rowCount() else fm.height() + 6
        height = rows * max(row_h, fm.height()) + 8 if self.view.isVisibleTo(self) else 0
        height += self.message.sizeHint().height() if self.message.isVisibleTo(self) else 0
        height += self.hint.sizeHint().height() if self.hint.isVisibleTo(self) else 0
        height = min(height + 4, parent.height() - bottom_right.y() - 4)
        x = max(4, min(bottom_right.x() - width, parent.width() - width - 4))
        self.setGeometry(x, bottom_right.y() + 2, width, max(height, 40))
        self.raise_()


class FindController(QObject):
    """Wires the search field to the result list and the shared state."""

    def __init__(
        self,
        state: AppState,
        edit: QLineEdit,
        window: QWidget,
        filter_views: Callable[[], None],
        picked: Callable[[RecordRef], None],
    ) -> None:
        super().__init__(window)
        self.state = state
        self.edit = edit
        self.window = window
        self._filter_views = filter_views  # filters every view by the field's text
        self._picked = picked  # where the keyboard goes next (the timeline, or the details)
        self.popup = FindPopup(window)
        self.popup.activated.connect(self.choose)
        self.filter_action = QAction("Filter every view as you type", edit, checkable=True)
        self.filter_action.setToolTip("Filter every view as you type (Alt+Enter filters once)")
        self.filter_action.setObjectName("filterAsYouType")
        self._timer = QTimer(self, singleShot=True, interval=120)
        self._timer.timeout.connect(self.refresh)
        edit.textEdited.connect(lambda _t: self._timer.start())
        edit.installEventFilter(self)
        window.installEventFilter(self)

    @property
    def filtering(self) -> bool:
        """Typing filters every view: the toggle is on, or a search filter is already applied."""
        return self.filter_action.isChecked() or bool(self.state.filters.text)

    def refresh(self) -> None:
        self._timer.stop()
        text = self.edit.text().strip()
        if not text or self.filter_action.isChecked():
            self.popup.hide()
            return
        try:
            rows = self.state.store.find(text, RESULTS)
        except StoreError as exc:
            self.state.background_failed.emit(exc.message)
            rows = []
        self.popup.show_results(rows, text)
        self.popup.show()
        self.popup.place_under(self.edit)

    def choose(self, row: int) -> None:
        """Select the record in every view; the timeline glides to it."""
        if not (0 <= row < self.popup.model.rowCount()):
            return
        found = self.popup.model.found(row)
        ref = RecordRef(found.record_type, found.record_id)
        self.popup.hide()
        self.state.select([ref], self)
        self.state.reveal([ref])
        self._picked(ref)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if obj is self.window:
            if kind in (QEvent.Type.Resize, QEvent.Type.LayoutRequest) and self.popup.isVisible():
                self.popup.place_under(self.edit)
            return False
        if obj is not self.edit:
            return False
        if kind == QEvent.Type.FocusOut:
            self.popup.hide()
        elif kind == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            return self._key(event)
        return False

    def _key(self, event: QKeyEvent) -> bool:
        key, mods = event.key(), event.modifiers()
        shown = self.popup.isVisible() and self.popup.model.rowCount() > 0
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if mods & Qt.KeyboardModifier.AltModifier or self.filter_action.isChecked():
                self.popup.hide()
                self._filter_views()
                return True
            if self._timer.isActive() or not self.popup.isVisible():
                self.refresh()  # Enter typed faster than the list: pick from the list for this text
            if self.popup.model.rowCount():
                self.choose(max(self.popup.current_row(), 0))
            return True
        if key == Qt.Key.Key_Escape and self.popup.isVisible():
            self.popup.hide()
            return True
        if not shown:
            if key == Qt.Key.Key_Down and self.edit.text().strip():
                self.refresh()
                return True
            return False
        step = {
            Qt.Key.Key_Down: 1,
            Qt.Key.Key_Up: -1,
            Qt.Key.Key_PageDown: VISIBLE_ROWS - 1,
            Qt.Key.Key_PageUp: -(VISIBLE_ROWS - 1),
        }.get(Qt.Key(key))
        if step is not None:
            self.popup.set_current(self.popup.current_row() + step)
            return True
        return False
