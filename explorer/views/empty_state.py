"""What the timeline says when it has nothing to draw: an empty database, or filters that hide all."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


class EmptyStateNotice(QFrame):
    """A card centred over the timeline, with the next steps as buttons."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("emptyStateNotice")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.title = QLabel(self)
        self.title.setObjectName("emptyStateTitle")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self.title.setFont(font)
        self.text = QLabel(self)
        self.text.setWordWrap(True)
        self.buttons = QHBoxLayout()
        self.buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.addWidget(self.title)
        layout.addWidget(self.text)
        layout.addLayout(self.buttons)
        self._buttons: list[QPushButton] = []
        parent.installEventFilter(self)
        self.hide()

    def say(self, title: str, text: str, actions: list[QAction]) -> None:
        self.title.setText(title)
        self.text.setText(text)
        for button in self._buttons:
            button.deleteLater()
        self._buttons = []
        for action in actions:
            button = QPushButton(action.text().replace("&", ""), self)
            button.clicked.connect(lambda _c=False, a=action: a.trigger())
            self.buttons.addWidget(button)
            self._buttons.append(button)
        if self._buttons:
            self._buttons[0].setDefault(True)
        self.show()
        self._place()

    def _place(self) -> None:
        parent = self.parentWidget()
        assert parent is not None
        width = min(max(parent.width() * 0.6, 360), parent.width() - 24)
        self.setFixedWidth(int(width))
        self.adjustSize()
        self.move(int((parent.width() - self.width()) / 2), int(max(12, (parent.height() - self.height()) / 2.5)))
        self.raise_()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.parentWidget() and event.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        return False
