"""EditController: the Edit actions (new, edit, duplicate, delete, undo, redo, history)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QPoint
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QInputDialog, QMenu, QMessageBox, QWidget

from explorer import schema, shortcuts
from explorer.formatting import KIND_LABEL
from explorer.forms.history import EditHistoryDialog
from explorer.forms.operations import Operations
from explorer.settings import analyst_name, set_analyst_name
from explorer.state import AppState, RecordRef
from explorer.store import StoreError
from explorer.store.queries import record_label

if TYPE_CHECKING:  # the forms and their editors load on the first form opened, not at start-up
    from explorer.forms.record_form import RecordForm

log = logging.getLogger("explorer.edit")

# What analysts add most, first in the list Edit ▸ New offers; every other type follows.
NEW_FIRST = ("deal", "pledge", "event", "organisation", "sector", "initiative", "target", "person", "place")


def new_types() -> list[str]:
    """The types Edit ▸ New offers, from the registry."""
    names = [k.name for k in schema.kinds() if k.creatable]
    return sorted(names, key=lambda n: NEW_FIRST.index(n) if n in NEW_FIRST else len(NEW_FIRST))


class EditController(QObject):
    """Owns the undo stack and the actions that open forms; used by the window and context menus."""

    def __init__(self, state: AppState, parent_widget: QWidget) -> None:
        super().__init__(parent_widget)
        self.state = state
        self.window = parent_widget
        self.ops = Operations(state, self)
        self.ops.failed.connect(self._on_failed)
        self.last_form: RecordForm | None = None

        def act(text: str, slot: Callable[[], object], *keys: QKeySequence | QKeySequence.StandardKey | str) -> QAction:
            action = QAction(text, parent_widget)
            action.setShortcuts(shortcuts.keys(*keys))
            action.triggered.connect(lambda _c=False: slot())
            parent_widget.addAction(action)
            return action

        self.new_action = act("&New Record…", self.new_record, QKeySequence.StandardKey.New)
        self.edit_action = act("&Edit Selected…", self.edit_current, "Ctrl+E", "F2")
        self.duplicate_action = act("D&uplicate Selected…", self.duplicate_current, "Ctrl+D")
        self.delete_action = act("&Delete Selected…", self.delete_current, QKeySequence.StandardKey.Delete)
        self.undo_action = self.ops.undo_stack.createUndoAction(parent_widget, "&Undo")
        self.undo_action.setShortcuts(shortcuts.keys(QKeySequence.StandardKey.Undo))
        self.redo_action = self.ops.undo_stack.createRedoAction(parent_widget, "&Redo")
        self.redo_action.setShortcuts(shortcuts.keys(QKeySequence.StandardKey.Redo))
        parent_widget.addAction(self.undo_action)
        parent_widget.addAction(self.redo_action)
        self.history_action = act("Edit &History…", self.show_history, "Ctrl+H")
        state.selection_changed.connect(lambda *_: self._update_enabled())
        state.store_replaced.connect(self._update_enabled)
        self._update_enabled()

    def actions(self) -> list[QAction | None]:
        return [
            self.undo_action,
            self.redo_action,
            self.history_action,
            None,
            self.new_action,
            self.edit_action,
            self.duplicate_action,
            self.delete_action,
        ]

    def _update_enabled(self) -> None:
        ro = self.state.store.read_only
        has = self.state.current is not None
        self.new_action.setEnabled(not ro)
        self.edit_action.setEnabled(has)
        self.edit_action.setText("&View Selected…" if ro else "&Edit Selected…")
        self.duplicate_action.setEnabled(has and not ro)
        self.delete_action.setEnabled(has and not ro)

    def _on_failed(self, exc: StoreError) -> None:
        log.info("write refused: %s", exc.message)

    # --- forms -----------------------------------------------------------------------

    def open_form(
        self, record_type: str, record_id: int | None = None, initial: dict[str, Any] | None = None
    ) -> RecordForm:
        from explorer.forms.record_form import form_for

        form = form_for(self.state, self.ops, record_type, record_id, initial, self.window)
        if not form.read_only and analyst_name() is None:
            form.ask_author(self.state.store.user, set_analyst_name)  # the first edit asks, once
        self.last_form = form
        # Window-modal without a nested event loop: the window waits, the app keeps running
        # (background loads, the change watcher) and the caller gets the form at once.
        form.open()
        return form

    def new_record(self, record_type: str | None = None) -> RecordForm | None:
        if record_type is None:
            offered = new_types()
            labels = [KIND_LABEL[t] for t in offered]
            current = self.state.current
            start = offered.index(current.record_type) if current and current.record_type in offered else 0
            choice, ok = QInputDialog.getItem(self.window, "New record", "What kind of record?", labels, start, False)
            if not ok:
                return None
            record_type = offered[labels.index(choice)]
        return self.open_form(record_type)

    def edit(self, ref: RecordRef) -> RecordForm | None:
        from explorer.forms.record_form import FORMS

        if ref.record_type not in FORMS:
            return None
        return self.open_form(ref.record_type, ref.record_id)

    def edit_current(self) -> RecordForm | None:
        current = self.state.current
        return self.edit(current) if current else None

    def duplicate_current(self) -> RecordForm | None:
        from explorer.forms.record_form import FORMS

        current = self.state.current
        if current is None or current.record_type not in FORMS:
            return None
        _version, values = self.state.store.snapshot(current.record_type, current.record_id)
        for key in ("title", "name"):
            if values.get(key):
                values[key] = f"{values[key]} (copy)"
        return self.open_form(current.record_type, None, values)

    # --- delete ----------------------------------------------------------------------

    def delete_current(self) -> bool:
        current = self.state.current
        return self.delete(current) if current else False

    def delete(self, ref: RecordRef, confirm: bool = True) -> bool:
        store = self.state.store
        try:
            record = store.get(ref.record_type, ref.record_id)
            refs = store.references_to(ref.record_type, ref.record_id)
        except StoreError as exc:
            QMessageBox.warning(self.window, exc.title, exc.message)
            return False
        label = record_label(record)
        kind = KIND_LABEL.get(ref.record_type, ref.record_type).lower()
        if confirm:
            if refs:
                listed = "".join(
                    f"<li>{KIND_LABEL.get(r.record_type, r.record_type)}: {r.label}</li>" for r in refs[:12]
                )
                more = f"<li>… and {len(refs) - 12} more</li>" if len(refs) > 12 else ""
                text = (
                    f"<p>{len(refs)} record(s) refer to the {kind} <b>{label}</b>:</p><ul>{listed}{more}</ul>"
                    "<p>Delete it and remove those links (citations of it are deleted)? "
                    "Undo (Ctrl+Z) puts everything back.</p>"
                )
            else:
                text = f"<p>Delete the {kind} <b>{label}</b>? Undo (Ctrl+Z) puts it back.</p>"
            answer = QMessageBox.question(
                self.window,
                f"Delete {kind}",
                text,
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        try:
            self.ops.delete(ref.record_type, ref.record_id, record.version, label)
        except StoreError as exc:
            QMessageBox.warning(self.window, exc.title, exc.message)
            return False
        return True

    # --- history and menus -----------------------------------------------------------

    def show_history(self) -> QDialog:
        dialog = getattr(self, "history_dialog", None)
        if not isinstance(dialog, EditHistoryDialog):
            dialog = EditHistoryDialog(self.ops.undo_stack, self.window)
            self.history_dialog = dialog
        dialog.show()
        dialog.raise_()
        return dialog

    def context_menu(self, ref: RecordRef, global_pos: QPoint) -> QMenu:
        menu = QMenu(self.window)
        ro = self.state.store.read_only
        menu.addAction("View…" if ro else "Edit…", lambda: self.edit(ref))
        if not ro:

            def duplicate() -> None:
                self.state.select(ref)
                self.duplicate_current()

            menu.addAction("Duplicate…", duplicate)
            menu.addAction("Delete…", lambda: self.delete(ref))
            menu.addSeparator()
            menu.addAction("New record…", lambda: self.new_record())
        menu.popup(global_pos)
        self.last_menu = menu
        return menu
