"""The one write path of the UI: every create, edit and delete is an undoable command.

Each command runs one store transaction, then reports what changed through AppState so every
view refreshes. Undo and redo go through the same store writes (with their version checks and
change log), so history records them too and nothing is overwritten silently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from explorer.formatting import KIND_LABEL
from explorer.state import AppState, RecordRef
from explorer.store import ChangeSet, StoreError
from explorer.store.writes import DeleteBundle

log = logging.getLogger("explorer.operations")


class _StoreCommand(QUndoCommand):
    def __init__(self, ops: Operations, text: str) -> None:
        super().__init__(text)
        self.ops = ops
        self.failed: StoreError | None = None
        # Who asked for the write: named in its first event (the asker shows the outcome itself
        # and may skip that event); undo and redo later are the undo stack's (Operations').
        self.initiator: object = None

    def _run(self, fn: Callable[[], ChangeSet]) -> ChangeSet | None:
        try:
            changes = fn()
        except StoreError as exc:
            self.failed = exc
            self.ops.failed.emit(exc)
            self.setObsolete(True)
            return None
        self.failed = None
        initiator, self.initiator = self.initiator or self.ops, None
        self.ops.state.notify_changed(changes, initiator=initiator)
        return changes


class CreateCommand(_StoreCommand):
    def __init__(self, ops: Operations, record_type: str, values: dict[str, Any], label: str) -> None:
        super().__init__(ops, f"Create {KIND_LABEL.get(record_type, record_type).lower()} “{label}”")
        self.record_type = record_type
        self.values = values
        self.record_id: int | None = None
        self.uuid: str | None = None
        self.bundle: DeleteBundle | None = None

    def redo(self) -> None:
        store = self.ops.state.store
        bundle = self.bundle
        if bundle is not None:  # redo after undo: the same record, same id and UUID
            self._run(lambda: store.restore(bundle))
            return
        changes = self._run(lambda: store.create(self.record_type, self.values))
        if changes:
            self.record_id = changes.changes[-1].record_id
            self.uuid = store.get(self.record_type, self.record_id).uuid

    def undo(self) -> None:
        record_id = self.record_id
        if record_id is None:
            return
        store = self.ops.state.store
        self.bundle = store.capture_delete(self.record_type, record_id)
        version = store.get(self.record_type, record_id).version
        self._run(lambda: store.delete(self.record_type, record_id, expected_version=version, detach=True))


class EditCommand(_StoreCommand):
    def __init__(
        self,
        ops: Operations,
        record_type: str,
        record_id: int,
        old: dict[str, Any],
        new: dict[str, Any],
        expected_version: int,
        label: str,
    ) -> None:
        fields = ", ".join(sorted(new)) if len(new) <= 3 else f"{len(new)} fields"
        super().__init__(ops, f"Edit {KIND_LABEL.get(record_type, record_type).lower()} “{label}” ({fields})")
        self.record_type, self.record_id = record_type, record_id
        self.old, self.new = old, new
        self.expected_version = expected_version
        self._first = True

    def redo(self) -> None:
        store = self.ops.state.store
        if self._first:
            self._first = False
            version = self.expected_version
        else:
            version = store.get(self.record_type, self.record_id).version
        self._run(lambda: store.update(self.record_type, self.record_id, self.new, expected_version=version))

    def undo(self) -> None:
        store = self.ops.state.store
        version = store.get(self.record_type, self.record_id).version
        self._run(lambda: store.update(self.record_type, self.record_id, self.old, expected_version=version))


class DeleteCommand(_StoreCommand):
    def __init__(self, ops: Operations, record_type: str, record_id: int, expected_version: int, label: str) -> None:
        super().__init__(ops, f"Delete {KIND_LABEL.get(record_type, record_type).lower()} “{label}”")
        self.record_type, self.record_id = record_type, record_id
        self.expected_version = expected_version
        self.bundle: DeleteBundle | None = None
        self._first = True

    def redo(self) -> None:
        store = self.ops.state.store
        try:
            self.bundle = store.capture_delete(self.record_type, self.record_id)
            version = self.expected_version if self._first else store.get(self.record_type, self.record_id).version
        except StoreError as exc:
            self.failed = exc
            self.ops.failed.emit(exc)
            self.setObsolete(True)
            return
        self._first = False
        self._run(lambda: store.delete(self.record_type, self.record_id, expected_version=version, detach=True))

    def undo(self) -> None:
        bundle = self.bundle
        if bundle is not None:
            self._run(lambda: self.ops.state.store.restore(bundle))


class Operations(QObject):
    """Runs writes as undoable commands.

    Signals:
        failed(StoreError): a write was refused (validation, conflict, read-only, busy).
    """

    failed = Signal(object)

    def __init__(self, state: AppState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.undo_stack = QUndoStack(self)
        state.store_replaced.connect(self.undo_stack.clear)

    def _push(self, command: _StoreCommand, initiator: object = None) -> bool:
        command.initiator = initiator
        self.undo_stack.push(command)
        if command.failed is not None:
            raise command.failed
        return True

    def create(self, record_type: str, values: dict[str, Any], label: str, *, initiator: object = None) -> RecordRef:
        """Create a record (undoably); ``initiator`` is named in the event of the write now."""
        command = CreateCommand(self, record_type, values, label)
        self._push(command, initiator)
        assert command.record_id is not None
        return RecordRef(record_type, command.record_id)

    def edit(
        self,
        record_type: str,
        record_id: int,
        old: dict[str, Any],
        new: dict[str, Any],
        expected_version: int,
        label: str,
        *,
        initiator: object = None,
    ) -> None:
        if not new:
            return
        self._push(EditCommand(self, record_type, record_id, old, new, expected_version, label), initiator)

    def delete(
        self, record_type: str, record_id: int, expected_version: int, label: str, *, initiator: object = None
    ) -> None:
        self._push(DeleteCommand(self, record_type, record_id, expected_version, label), initiator)
