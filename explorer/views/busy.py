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
        self.bar.setRange(0, 0)  # until a job reports how far it is, a moving bar says "working"
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
        state.busy_progress.connect(self._progress)
        self._show(state.busy_text)  # work may have started while the window was being built

    def _show(self, what: str) -> None:
        self.label.setText(f"{what}…" if what else "")
        self.setVisible(bool(what))
        if not what:
            self.bar.setRange(0, 0)

    def _progress(self, percent: int) -> None:
        if percent < 0:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, 100)
            self.bar.setValue(percent)
