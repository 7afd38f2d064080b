"""Typed field editors for record forms. Each keeps what the user typed, so validation can say
exactly what is wrong with it, and reports changes with one signal."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractListModel, QDate, QEvent, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFont, QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCalendarWidget,
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
    QWidgetAction,
)

from explorer.formatting import KIND_LABEL
from explorer.models import Currency, DatePrecision
from explorer.schema import FieldSpec
from explorer.views.theme import icon as theme_icon

if TYPE_CHECKING:
    from explorer.store import Store


class FieldEditor(QWidget):
    """Signals:
    changed(): the value changed through the user or set_value.
    """

    changed = Signal()

    def value(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def set_read_only(self, read_only: bool) -> None:
        self.setEnabled(not read_only)

    def focus_widget(self) -> QWidget:
        return self


def _row(*widgets: QWidget) -> QHBoxLayout:
    layout = QHBoxLayout()
    layout.setContentsMargins(0, 0, 0, 0)
    for w in widgets:
        layout.addWidget(w)
    return layout


class TextEditor(FieldEditor):
    def __init__(self, spec: FieldSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit(self)
        self.edit.setAccessibleName(spec.label)
        self.setLayout(_row(self.edit))
        self.edit.textChanged.connect(self.changed)

    def value(self) -> Any:
        return self.edit.text()

    def set_value(self, value: Any) -> None:
        self.edit.setText("" if value is None else str(value))

    def set_read_only(self, read_only: bool) -> None:
        self.edit.setReadOnly(read_only)

    def focus_widget(self) -> QWidget:
        return self.edit


class NotesEditor(FieldEditor):
    def __init__(self, spec: FieldSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QPlainTextEdit(self)
        self.edit.setAccessibleName(spec.label)
        self.edit.setTabChangesFocus(True)
        self.edit.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 12)
        self.setLayout(_row(self.edit))
        # as tall as its box: spare height in a form goes below the fields, not above the box
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.edit.textChanged.connect(self.changed)

    def value(self) -> Any:
        return self.edit.toPlainText()

    def set_value(self, value: Any) -> None:
        self.edit.setPlainText("" if value is None else str(value))

    def set_read_only(self, read_only: bool) -> None:
        self.edit.setReadOnly(read_only)

    def focus_widget(self) -> QWidget:
        return self.edit


class ChoiceEditor(FieldEditor):
    def __init__(
        self, spec: FieldSpec, parent: QWidget | None = None, choices: tuple[str, ...] | None = None, blank: bool = True
    ) -> None:
        super().__init__(parent)
        self.combo = QComboBox(self)
        self.combo.setAccessibleName(spec.label)
        if blank:
            self.combo.addItem("", "")
        for choice in choices if choices is not None else spec.choices:
            self.combo.addItem(choice.replace("_", " "), choice)
        self.setLayout(_row(self.combo))
        self.combo.currentIndexChanged.connect(lambda _i: self.changed.emit())

    def value(self) -> Any:
        return self.combo.currentData() or ""

    def set_value(self, value: Any) -> None:
        index = self.combo.findData(value or "")
        if index < 0 and value:
            self.combo.addItem(str(value), value)
            index = self.combo.count() - 1
        self.combo.setCurrentIndex(max(index, 0))

    def focus_widget(self) -> QWidget:
        return self.combo


class DateEditor(FieldEditor):
    """An optional date: typed as 2025-08-29 or picked from a calendar; empty means none."""

    def __init__(self, spec: FieldSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("YYYY-MM-DD")
        self.edit.setAccessibleName(spec.label)
        self.edit.setMaxLength(10)
        self.pick = QToolButton(self)
        self.pick.setIcon(theme_icon("calendar"))  # a drawn icon: no font has the calendar glyph everywhere
        self.pick.setToolTip("Pick a date from a calendar")
        self.pick.setAccessibleName(f"Pick {spec.label.lower()} from a calendar")
        self.pick.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.pick)
        self.calendar = QCalendarWidget(menu)
        action = QWidgetAction(menu)
        action.setDefaultWidget(self.calendar)
        menu.addAction(action)
        self.pick.setMenu(menu)
        self.calendar.clicked.connect(self._picked)
        self.setLayout(_row(self.edit, self.pick))
        self.edit.textChanged.connect(self.changed)

    def _picked(self, date: QDate) -> None:
        self.edit.setText(date.toString("yyyy-MM-dd"))
        self.pick.menu().close()

    def value(self) -> Any:
        text = self.edit.text().strip()
        if not text:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return text  # validation says "must be a date like …"

    def set_value(self, value: Any) -> None:
        self.edit.setText("" if value is None else (value.isoformat() if isinstance(value, dt.date) else str(value)))

    def set_read_only(self, read_only: bool) -> None:
        self.edit.setReadOnly(read_only)
        self.pick.setEnabled(not read_only)

    def focus_widget(self) -> QWidget:
        return self.edit


class NumberEditor(FieldEditor):
    """A number typed freely (1,000,000 or 1e12); empty means none."""

    def __init__(self, spec: FieldSpec, parent: QWidget | None = None, integer: bool = False) -> None:
        super().__init__(parent)
        self.integer = integer
        self.edit = QLineEdit(self)
        self.edit.setAccessibleName(spec.label)
        self.edit.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.setLayout(_row(self.edit))
        self.edit.textChanged.connect(self.changed)

    def value(self) -> Any:
        text = self.edit.text().strip().replace(",", "").replace("_", "").replace(" ", "")
        if not text:
            return None
        try:
            number = float(text)
        except ValueError:
            return text
        if self.integer:
            return int(number) if number.is_integer() else text
        return number

    def set_value(self, value: Any) -> None:
        if value is None:
            self.edit.setText("")
        elif isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
            self.edit.setText(f"{int(value):,}")
        elif isinstance(value, int):
            self.edit.setText(f"{value:,}" if not self.integer else str(value))
        else:
            self.edit.setText(str(value))

    def set_read_only(self, read_only: bool) -> None:
        self.edit.setReadOnly(read_only)

    def focus_widget(self) -> QWidget:
        return self.edit


class PickSource:
    """What a record picker asks the store: the records matching typed text, and the labels of
    chosen ids. Never a whole table: at a million records that is 100,000 organisations."""

    def __init__(self, store: Store, record_type: str, exclude: int | None = None) -> None:
        self.store, self.record_type, self.exclude = store, record_type, exclude
        self.kind = KIND_LABEL.get(record_type, record_type).lower()
        self.a_kind = ("an " if self.kind[:1] in "aeiou" else "a ") + self.kind  # "an organisation"

    def matches(self, text: str, limit: int) -> list[tuple[int, str]]:
        return self.store.pick(self.record_type, text, limit, exclude=self.exclude)

    def labels(self, ids: list[int]) -> dict[int, str]:
        return self.store.labels(self.record_type, ids) if ids else {}


class PickModel(QAbstractListModel):
    """At most LIMIT records matching the text typed, and a last row saying when nothing matches
    or more do (that row cannot be picked)."""

    LIMIT = 50
    IdRole = Qt.ItemDataRole.UserRole

    def __init__(self, source: PickSource, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.text: str | None = None  # what the rows match; None before the first query
        self.rows: list[tuple[int, str]] = []
        self.note = ""

    def refresh(self, text: str) -> None:
        text = " ".join(text.split())
        if text == self.text:
            return
        self.beginResetModel()
        rows = self.source.matches(text, self.LIMIT + 1)
        self.rows, self.text = rows[: self.LIMIT], text
        if not rows:
            self.note = f"No {self.source.kind} matches “{text}”." if text else f"There is no {self.source.kind} yet."
        elif len(rows) > self.LIMIT:
            self.note = f"More than {self.LIMIT} match: keep typing to narrow the list."
        else:
            self.note = ""
        self.endResetModel()

    def exact(self, text: str) -> tuple[int, str] | None:
        """The first record named exactly ``text`` (case aside) among the rows."""
        wanted = " ".join(text.split()).casefold()
        return next((row for row in self.rows if row[1].casefold() == wanted), None)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows) + (1 if self.note else 0)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if index.row() >= len(self.rows):
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                return self.note
            if role == Qt.ItemDataRole.FontRole:
                font = QFont()
                font.setItalic(True)
                return font
            if role == Qt.ItemDataRole.ForegroundRole:
                return QApplication.palette().color(QPalette.ColorRole.PlaceholderText)
            return None
        rid, label = self.rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.EditRole):
            return label
        if role == self.IdRole:
            return rid
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if index.isValid() and index.row() < len(self.rows):
            return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return Qt.ItemFlag.NoItemFlags  # the note: arrow keys and clicks pass over it


class RecordPicker(QLineEdit):
    """Type part of a name, pick from the matches with the arrows and Enter (or a click).
    Down (or Alt+Down) opens the list without typing.

    Signals:
        picked(int, str): a record was chosen from the list.
    """

    picked = Signal(int, str)
    # The picker's own completer, deliberately not set with setCompleter (see __init__); the
    # attribute shadows QLineEdit.completer(), which would only ever answer None here.
    completer: QCompleter  # type: ignore[assignment]

    def __init__(self, source: PickSource, accessible_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.setAccessibleName(accessible_name)
        self.setPlaceholderText(f"Type to find {source.a_kind}…")
        self.setClearButtonEnabled(True)
        self.model = PickModel(source, self)
        self.completer = QCompleter(self.model, self)
        self.completer.setWidget(self)  # not setCompleter: the picker, not the line edit, handles a pick
        self.completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.completer.setMaxVisibleItems(12)
        self._popup().setAccessibleName(f"{accessible_name}: matches")
        # PySide6's stubs do not know signals are indexed by overload (activated has str and index ones)
        self.completer.activated[QModelIndex].connect(self._activated)  # type: ignore[index]
        # only typing asks the store (a value shown when a form opens costs no query)
        self.textEdited.connect(lambda _text: self.show_list())

    def _popup(self) -> QAbstractItemView:
        popup = self.completer.popup()
        assert popup is not None  # Qt makes one for every mode but inline completion
        return popup

    def show_list(self) -> None:
        if self.isReadOnly() or not self.isEnabled():
            return
        self.model.refresh(self.text())
        self.completer.complete()
        popup = self._popup()
        if self.model.rows:
            popup.setCurrentIndex(self.completer.completionModel().index(0, 0))

    def browse(self) -> None:
        """The list for what is typed; from the start when nothing is, or when the text names a
        record already (to choose another), with that record highlighted."""
        if self.isReadOnly() or not self.isEnabled():
            return
        text = self.text()
        self.model.refresh(text)
        current = self.model.exact(text)
        if current is not None or not text.strip():
            self.model.refresh("")
        self.completer.complete()
        rows = [rid for rid, _label in self.model.rows]
        if rows:
            row = rows.index(current[0]) if current is not None and current[0] in rows else 0
            self._popup().setCurrentIndex(self.completer.completionModel().index(row, 0))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Down and not self._popup().isVisible():
            self.browse()
            return
        super().keyPressEvent(event)

    def _activated(self, index: QModelIndex) -> None:
        rid = index.data(PickModel.IdRole)
        if rid is not None:
            self.picked.emit(int(rid), str(index.data(Qt.ItemDataRole.DisplayRole)))


class RefEditor(FieldEditor):
    """One linked record (a deal's sector, a pledge's event…): a searchable picker that asks the
    store for a few matches as the analyst types, so it opens at once on any database size."""

    def __init__(self, spec: FieldSpec, source: PickSource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.picker = RecordPicker(source, spec.label, self)
        self.picker.setPlaceholderText(f"None: type to find {source.a_kind}")
        self.browse_button = QToolButton(self)
        self.browse_button.setArrowType(Qt.ArrowType.DownArrow)
        self.browse_button.setToolTip(f"Show {source.kind} choices (Down)")
        self.browse_button.setAccessibleName(f"Show {spec.label} choices")
        self.browse_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keyboard opens the list with Down
        self.browse_button.clicked.connect(self._browse)
        self.setLayout(_row(self.picker, self.browse_button))
        self.setFocusProxy(self.picker)
        self._chosen: tuple[int, str] | None = None
        self._setting = False
        self.picker.textChanged.connect(self._typed)
        self.picker.picked.connect(self._picked)
        self.picker.editingFinished.connect(self._tidy)

    def _browse(self) -> None:
        self.picker.setFocus()
        self.picker.browse()

    def _typed(self, text: str) -> None:
        if self._setting:
            return
        # the picker's model already holds the matches of this text: is one named exactly so?
        self.picker.model.refresh(text)
        self._chosen = self.picker.model.exact(text) if text.strip() else None
        self.changed.emit()

    def _picked(self, rid: int, label: str) -> None:
        self._show(rid, label)
        self.changed.emit()

    def _show(self, rid: int | None, label: str) -> None:
        self._chosen = None if rid is None else (rid, label)
        self._setting = True
        try:
            self.picker.setText(label)
        finally:
            self._setting = False

    def _tidy(self) -> None:
        """Typed in other letter case: show the record's own spelling once the field is left."""
        if self._chosen is not None and self.picker.text() != self._chosen[1]:
            self._show(*self._chosen)

    def value(self) -> Any:
        text = " ".join(self.picker.text().split())
        if not text:
            return None
        if self._chosen is None or self._chosen[1].casefold() != text.casefold():
            return "?"  # typed something that is no record: validation says pick from the list
        return self._chosen[0]

    def set_value(self, value: Any) -> None:
        if value is None or value == "":
            self._show(None, "")
        else:
            rid = int(value)
            label = self.source.labels([rid]).get(rid)
            # a link to a record that is gone shows as such, and validation asks for another
            self._show(rid, label) if label is not None else self._show(None, f"#{rid} (no longer exists)")
        self.changed.emit()

    def set_read_only(self, read_only: bool) -> None:
        self.picker.setReadOnly(read_only)
        self.picker.setClearButtonEnabled(not read_only)
        self.browse_button.setEnabled(not read_only)

    def focus_widget(self) -> QWidget:
        return self.picker


class _LinkList(FieldEditor):
    """Several linked records: the ones chosen in a short list, a picker to add more, a button
    (or Delete) to take the selected ones out. Subclasses say how a row looks."""

    def __init__(self, label: str, source: PickSource, view: QAbstractItemView, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.source = source
        self.view = view
        view.setAccessibleName(label)
        view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        view.setMaximumHeight(150)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)  # spare height goes below
        self.picker = RecordPicker(source, f"Add to {label}", self)
        self.picker.setPlaceholderText(f"Add {source.a_kind}: type a name…")
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.setAccessibleName(f"Remove from {label}")
        self.remove_button.setEnabled(False)
        self.remove_button.clicked.connect(self.remove_selected)
        view.installEventFilter(self)  # Delete or Backspace takes the selected rows out
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.picker_row = _row(self.picker, self.remove_button)
        layout.addLayout(self.picker_row)
        layout.addWidget(view)
        self.picker.picked.connect(self._picked)
        self.read_only = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.view and event.type() in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            key = event.key()  # type: ignore[attr-defined]
            if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and not self.read_only:
                # claimed before any window shortcut (the main window's Delete deletes a record)
                event.accept()
                if event.type() == QEvent.Type.KeyPress:
                    self.remove_selected()
                return True
        return super().eventFilter(watched, event)

    def _picked(self, rid: int, label: str) -> None:
        if rid not in self.ids():
            self.add_row(rid, label)
            self.changed.emit()
        self.picker.clear()

    def _selection_changed(self) -> None:
        self.remove_button.setEnabled(not self.read_only and bool(self.view.selectedIndexes()))

    def ids(self) -> list[int]:
        raise NotImplementedError

    def add_row(self, rid: int, label: str, role: str = "") -> None:
        raise NotImplementedError

    def remove_selected(self) -> None:
        raise NotImplementedError

    def set_read_only(self, read_only: bool) -> None:
        self.read_only = read_only
        self.picker.setEnabled(not read_only)
        self._selection_changed()

    def focus_widget(self) -> QWidget:
        return self.picker  # where typing adds a record


class MultiRefEditor(_LinkList):
    """Several records linked to this one (an event's participants)."""

    def __init__(self, label: str, source: PickSource, parent: QWidget | None = None) -> None:
        self.list = QListWidget()
        super().__init__(label, source, self.list, parent)
        self.list.itemSelectionChanged.connect(self._selection_changed)

    def items(self) -> list[QListWidgetItem]:
        return [self.list.item(r) for r in range(self.list.count())]

    def ids(self) -> list[int]:
        return [int(i.data(Qt.ItemDataRole.UserRole)) for i in self.items()]

    def add_row(self, rid: int, label: str, role: str = "") -> None:
        item = QListWidgetItem(label, self.list)
        item.setData(Qt.ItemDataRole.UserRole, rid)

    def remove_selected(self) -> None:
        if self.read_only or not self.list.selectedItems():
            return
        for item in self.list.selectedItems():
            self.list.takeItem(self.list.row(item))
        self.changed.emit()

    def value(self) -> Any:
        return sorted(self.ids())

    def set_value(self, value: Any) -> None:
        wanted = sorted({int(i) for i in value or []})
        labels = self.source.labels(wanted)
        self.list.clear()
        for rid in wanted:
            self.add_row(rid, labels.get(rid, f"#{rid} (no longer exists)"))
        self.changed.emit()


class PartnersEditor(_LinkList):
    """Linked records each with a role (a deal's organisations: lead, partner, investor)."""

    def __init__(
        self,
        label: str,
        source: PickSource,
        parent: QWidget | None = None,
        *,
        roles: tuple[str, ...],
        default_role: str,
        heading: str,
    ) -> None:
        self.roles, self.default_role = roles, default_role
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels([heading, "Role"])
        self.tree.setRootIsDecorated(False)
        super().__init__(label, source, self.tree, parent)
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self._roles: dict[int, QComboBox] = {}

    def items(self) -> list[QTreeWidgetItem]:
        return [item for r in range(self.tree.topLevelItemCount()) if (item := self.tree.topLevelItem(r)) is not None]

    def ids(self) -> list[int]:
        return [int(i.data(0, Qt.ItemDataRole.UserRole)) for i in self.items()]

    def add_row(self, rid: int, label: str, role: str = "") -> None:
        item = QTreeWidgetItem(self.tree, [label])
        item.setData(0, Qt.ItemDataRole.UserRole, rid)
        combo = QComboBox(self.tree)
        combo.addItems(self.roles)
        combo.setCurrentText(role or self.default_role)
        combo.setAccessibleName(f"Role of {label}")
        combo.setEnabled(not self.read_only)
        combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.tree.setItemWidget(item, 1, combo)
        self._roles[rid] = combo
        self.tree.resizeColumnToContents(0)

    def remove_selected(self) -> None:
        if self.read_only or not self.tree.selectedItems():
            return
        for item in self.tree.selectedItems():
            self._roles.pop(int(item.data(0, Qt.ItemDataRole.UserRole)), None)
            self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(item))
        self.changed.emit()

    def value(self) -> Any:
        return sorted((rid, self._roles[rid].currentText()) for rid in self.ids())

    def set_value(self, value: Any) -> None:
        roles = {int(o): r for o, r in (value or [])}
        labels = self.source.labels(list(roles))
        self.tree.clear()
        self._roles.clear()
        for rid in sorted(roles, key=lambda i: labels.get(i, "").casefold()):
            self.add_row(rid, labels.get(rid, f"#{rid} (no longer exists)"), roles[rid])
        self.changed.emit()

    def check(self, org_id: int, role: str = "") -> None:
        current = dict(self.value())
        current[org_id] = role or self.default_role
        self.set_value(sorted(current.items()))

    def set_read_only(self, read_only: bool) -> None:
        super().set_read_only(read_only)
        for combo in self._roles.values():
            combo.setEnabled(not read_only)


def editor_for(spec: FieldSpec, source: PickSource | None = None, parent: QWidget | None = None) -> FieldEditor:
    """The editor for a field; a link (``ref``) needs the PickSource its picker asks for matches."""
    if spec.kind == "notes":
        return NotesEditor(spec, parent)
    if spec.kind == "choice":
        return ChoiceEditor(spec, parent, blank=not spec.required)
    if spec.kind == "currency":
        return ChoiceEditor(spec, parent, choices=tuple(c.value for c in Currency))
    if spec.kind == "precision":
        return ChoiceEditor(spec, parent, choices=tuple(p.value for p in DatePrecision), blank=False)
    if spec.kind == "date":
        return DateEditor(spec, parent)
    if spec.kind in ("money", "rate", "float"):
        return NumberEditor(spec, parent)
    if spec.kind == "int":
        return NumberEditor(spec, parent, integer=True)
    if spec.kind == "ref" and source is not None:
        return RefEditor(spec, source, parent)
    return TextEditor(spec, parent)


class CitationsEditor(_LinkList):
    """Where the record's facts come from: each source with the section relied on and a note in
    our own words. The same source may be cited for several sections."""

    new_source_requested = Signal()

    def __init__(self, label: str, source: PickSource, parent: QWidget | None = None) -> None:
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Source", "Section", "Note"])
        self.tree.setRootIsDecorated(False)
        self.tree.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        super().__init__(label, source, self.tree, parent)
        self.picker.setPlaceholderText("Cite a source: type its title…")
        self.new_button = QPushButton("New Source…", self)
        self.new_button.setToolTip("Add a source that is not in the database yet, then cite it here")
        self.new_button.clicked.connect(self.new_source_requested.emit)
        self.picker_row.addWidget(self.new_button)
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self.tree.itemChanged.connect(lambda *_: self.changed.emit())

    def items(self) -> list[QTreeWidgetItem]:
        return [item for r in range(self.tree.topLevelItemCount()) if (item := self.tree.topLevelItem(r)) is not None]

    def ids(self) -> list[int]:
        return []  # citing a source again (another section) is allowed

    def add_row(self, rid: int, label: str, role: str = "", note: str = "") -> None:
        item = QTreeWidgetItem([label, role, note])
        item.setData(0, Qt.ItemDataRole.UserRole, rid)
        item.setToolTip(0, label)
        flags = item.flags() | Qt.ItemFlag.ItemIsEditable if not self.read_only else item.flags()
        item.setFlags(flags)
        self.tree.blockSignals(True)
        self.tree.addTopLevelItem(item)
        self.tree.blockSignals(False)
        self.tree.resizeColumnToContents(0)
        if self.tree.columnWidth(0) > 320:
            self.tree.setColumnWidth(0, 320)

    def remove_selected(self) -> None:
        if self.read_only or not self.tree.selectedItems():
            return
        for item in self.tree.selectedItems():
            self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(item))
        self.changed.emit()

    def value(self) -> Any:
        return [
            (int(i.data(0, Qt.ItemDataRole.UserRole)), i.text(1).strip() or None, i.text(2).strip() or None)
            for i in self.items()
        ]

    def set_value(self, value: Any) -> None:
        cites = [tuple(c) for c in (value or [])]
        labels = self.source.labels(sorted({int(c[0]) for c in cites}))
        self.tree.clear()
        for source_id, section, note in cites:
            self.add_row(
                int(source_id),
                labels.get(int(source_id), f"#{source_id} (no longer exists)"),
                section or "",
                note or "",
            )
        self.changed.emit()

    def cite(self, source_id: int, section: str = "", note: str = "") -> None:
        self.add_row(source_id, self.source.labels([source_id]).get(source_id, f"#{source_id}"), section, note)
        self.changed.emit()

    def set_read_only(self, read_only: bool) -> None:
        super().set_read_only(read_only)
        self.new_button.setEnabled(not read_only)
        for item in self.items():
            editable = item.flags() | Qt.ItemFlag.ItemIsEditable
            item.setFlags(editable & ~Qt.ItemFlag.ItemIsEditable if read_only else editable)
