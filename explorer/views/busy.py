"""BusyIndicator: the status bar's note of background work, with a progress bar and Cancel."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from explorer.state import AppState


class BusyIndicator(QWidget):
    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self.label = QLabel(self)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 0)  # queries report no steps: a moving bar says "working"
        self.bar.setTextVisible(False)
        self.bar.setFixedWidth(140)
        self.bar.setAccessibleName("Background work in progress")
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop the background work; the views keep what they show")
        self.cancel_button.setAccessibleName("Cancel background work")
        self.cancel_button.clicked.connect(state.cancel_background)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 6, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        state.busy_changed.connect(self._show)
        self.setVisible(False)

    def _show(self, what: str) -> None:
        self.label.setText(f"{what}…" if what else "")
        self.setVisible(bool(what))
