"""Typed field editors for record forms. Each keeps what the user typed, so validation can say
exactly what is wrong with it, and reports changes with one signal."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QDate, QSignalBlocker, QStringListModel, Qt, Signal
from PySide6.QtWidgets import (
    QCalendarWidget,
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPlainTextEdit,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
    QWidgetAction,
)

from explorer.models import Currency, DatePrecision
from explorer.store.validation import FieldSpec

INVALID = object()  # a value the user typed that cannot be read: validation reports it


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
    def __init__(self, spec: FieldSpec, parent: QWidget | None = None, choices: tuple[str, ...] | None = None,
                 blank: bool = True) -> None:
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
        self.pick.setText("📅")
        self.pick.setToolTip("Pick a date")
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


class RefEditor(FieldEditor):
    """Pick a record from a searchable list (type to filter, completion by any part of the name)."""

    NONE = "(none)"

    def __init__(self, spec: FieldSpec, choices: list[tuple[int, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox(self)
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.combo.setAccessibleName(spec.label)
        self.combo.setMaxVisibleItems(15)
        self.combo.addItem(self.NONE, None)
        for rid, label in choices:
            self.combo.addItem(label, rid)
        completer = QCompleter(QStringListModel([label for _, label in choices]), self.combo)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.combo.setCompleter(completer)
        self.setLayout(_row(self.combo))
        self.combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
        # The line edit's own signal: the combo's editTextChanged misses keys the completer handles.
        self.combo.lineEdit().textChanged.connect(lambda _t: self.changed.emit())
        completer.activated.connect(lambda _t: self.changed.emit())

    def value(self) -> Any:
        text = self.combo.currentText().strip()
        if not text or text == self.NONE:
            return None
        index = self.combo.findText(text, Qt.MatchFlag.MatchFixedString)
        if index < 0:
            return "?"  # typed something that is no record: validation says pick from the list
        return self.combo.itemData(index)

    def set_value(self, value: Any) -> None:
        index = self.combo.findData(value) if value is not None else 0
        with QSignalBlocker(self.combo):
            self.combo.setCurrentIndex(max(index, 0))
            self.combo.setEditText(self.combo.itemText(max(index, 0)))
        self.changed.emit()

    def focus_widget(self) -> QWidget:
        return self.combo


class MultiRefEditor(FieldEditor):
    """Several records ticked in a filterable list (an event's participants)."""

    def __init__(self, label: str, choices: list[tuple[int, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter…")
        self.filter.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        self.list.setAccessibleName(label)
        self.list.setMaximumHeight(150)
        for rid, name in choices:
            item = QListWidgetItem(name, self.list)
            item.setData(Qt.ItemDataRole.UserRole, rid)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filter)
        layout.addWidget(self.list)
        self.filter.textChanged.connect(self._filter)
        self.list.itemChanged.connect(lambda _i: self.changed.emit())

    def _filter(self, text: str) -> None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            item.setHidden(text.lower() not in item.text().lower())

    def items(self) -> list[QListWidgetItem]:
        return [self.list.item(r) for r in range(self.list.count())]

    def value(self) -> Any:
        return sorted(i.data(Qt.ItemDataRole.UserRole) for i in self.items() if i.checkState() == Qt.CheckState.Checked)

    def set_value(self, value: Any) -> None:
        wanted = set(value or [])
        with QSignalBlocker(self.list):
            for item in self.items():
                checked = item.data(Qt.ItemDataRole.UserRole) in wanted
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.changed.emit()

    def set_read_only(self, read_only: bool) -> None:
        self.list.setEnabled(not read_only)
        self.filter.setEnabled(not read_only)


class PartnersEditor(FieldEditor):
    """The organisations in a deal, each with its role (lead, partner, investor)."""

    ROLES = ("lead", "partner", "investor")

    def __init__(self, label: str, choices: list[tuple[int, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter organisations…")
        self.filter.setClearButtonEnabled(True)
        self.tree = QTreeWidget(self)
        self.tree.setAccessibleName(label)
        self.tree.setHeaderLabels(["Organisation", "Role"])
        self.tree.setRootIsDecorated(False)
        self.tree.setMaximumHeight(170)
        self._roles: dict[int, QComboBox] = {}
        for rid, name in choices:
            item = QTreeWidgetItem(self.tree, [name])
            item.setData(0, Qt.ItemDataRole.UserRole, rid)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Unchecked)
            combo = QComboBox(self.tree)
            combo.addItems(self.ROLES)
            combo.setCurrentText("partner")
            combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
            self.tree.setItemWidget(item, 1, combo)
            self._roles[rid] = combo
        self.tree.resizeColumnToContents(0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filter)
        layout.addWidget(self.tree)
        self.filter.textChanged.connect(self._filter)
        self.tree.itemChanged.connect(lambda _i, _c: self.changed.emit())

    def _filter(self, text: str) -> None:
        for item in self.items():
            item.setHidden(text.lower() not in item.text(0).lower())

    def items(self) -> list[QTreeWidgetItem]:
        return [self.tree.topLevelItem(r) for r in range(self.tree.topLevelItemCount())]

    def value(self) -> Any:
        out = []
        for item in self.items():
            if item.checkState(0) == Qt.CheckState.Checked:
                rid = item.data(0, Qt.ItemDataRole.UserRole)
                out.append((rid, self._roles[rid].currentText()))
        return sorted(out)

    def set_value(self, value: Any) -> None:
        roles = {int(o): r for o, r in (value or [])}
        with QSignalBlocker(self.tree):
            for item in self.items():
                rid = item.data(0, Qt.ItemDataRole.UserRole)
                item.setCheckState(0, Qt.CheckState.Checked if rid in roles else Qt.CheckState.Unchecked)
                if rid in roles:
                    self._roles[rid].setCurrentText(roles[rid])
        self.changed.emit()

    def check(self, org_id: int, role: str = "partner") -> None:
        current = dict(self.value())
        current[org_id] = role
        self.set_value(sorted(current.items()))

    def set_read_only(self, read_only: bool) -> None:
        self.tree.setEnabled(not read_only)
        self.filter.setEnabled(not read_only)


def editor_for(spec: FieldSpec, ref_choices: list[tuple[int, str]] | None = None,
               parent: QWidget | None = None) -> FieldEditor:
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
    if spec.kind == "ref":
        return RefEditor(spec, ref_choices or [], parent)
    return TextEditor(spec, parent)
