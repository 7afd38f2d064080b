"""Edit ▸ Edit History: this session's changes, to step back to any of them."""

from __future__ import annotations

from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QUndoView, QVBoxLayout, QWidget


class EditHistoryDialog(QDialog):
    """The undo stack as a list of what was done, newest at the bottom; clicking a row undoes or
    redoes everything after or up to it. Saved changes stay in the database either way: undo
    writes the previous values back, as a new change."""

    def __init__(self, stack: QUndoStack, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("editHistoryDialog")
        self.setWindowTitle("Edit History")
        self.stack = stack
        intro = QLabel(
            "The changes made in this window, oldest first. Click a row to go back to just after "
            "that change; click a later row to redo. Each record's own history is in its details.",
            self,
        )
        intro.setWordWrap(True)
        self.view = QUndoView(stack, self)
        self.view.setEmptyLabel("When this window opened (no changes yet)")
        self.view.setAccessibleName("Changes made in this window")
        self.summary = QLabel(self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.undo_button = QPushButton("Undo", self)
        self.redo_button = QPushButton("Redo", self)
        buttons.addButton(self.undo_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.redo_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.undo_button.clicked.connect(stack.undo)
        self.redo_button.clicked.connect(stack.redo)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.summary)
        layout.addWidget(buttons)
        stack.indexChanged.connect(self._update)
        self._update()
        self.resize(560, 440)

    def _update(self, *_args: object) -> None:
        count, index = self.stack.count(), self.stack.index()
        if count == 0:
            self.summary.setText("Nothing changed yet.")
        else:
            undone = count - index
            self.summary.setText(
                f"{count} change{'s' * (count != 1)} in this window" + (f", {undone} undone" if undone else "") + "."
            )
        self.undo_button.setEnabled(self.stack.canUndo())
        self.redo_button.setEnabled(self.stack.canRedo())
