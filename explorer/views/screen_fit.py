"""Every window the app opens stays on the screen it opens on.

Dialogs are sized for a roomy monitor (a merge review wants 900×560); on a 1366×768 laptop, or
1920×1080 at 2× (960×540 to Qt), that is past the edge, with the buttons out of reach. One
application-wide filter shrinks and moves each top-level dialog as it is shown, instead of each
dialog guessing the screen.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRect
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QDialog, QWidget

# Room for the window manager's title bar and borders, which Qt's geometry does not include.
FRAME_W, FRAME_H = 16, 40


def fitted(rect: QRect, minimum_w: int, minimum_h: int, available: QRect) -> QRect:
    """``rect`` made no larger than the work area (less a frame) and moved inside it."""
    width = max(min(rect.width(), available.width() - FRAME_W), min(minimum_w, available.width() - FRAME_W))
    height = max(min(rect.height(), available.height() - FRAME_H), min(minimum_h, available.height() - FRAME_H))
    x = min(max(rect.x(), available.left() + FRAME_W // 2), available.right() - width - FRAME_W // 2)
    y = min(max(rect.y(), available.top() + FRAME_H - 8), available.bottom() - height - 8)
    return QRect(x, y, width, height)


class DialogFitter(QObject):
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Show and isinstance(obj, QDialog) and obj.isWindow():
            fit_to_screen(obj)
        return False


def fit_to_screen(widget: QWidget) -> None:
    """Shrink to the work area. Only the size: QDialog centres itself on its window after this
    (a move here would pin it to the corner), and Qt keeps a centred dialog on the screen."""
    parent = widget.parentWidget()
    screen = (parent.screen() if parent is not None else None) or widget.screen() or QGuiApplication.primaryScreen()
    available = screen.availableGeometry()
    size = widget.size()
    hint = widget.minimumSizeHint()
    new = fitted(
        QRect(available.topLeft(), size),
        max(hint.width(), widget.minimumWidth()),
        max(hint.height(), widget.minimumHeight()),
        available,
    ).size()
    if new != size:
        widget.resize(new)


_installed: DialogFitter | None = None


def install() -> None:
    """Once per application (the main window calls it; tests make several windows)."""
    global _installed
    app = QApplication.instance()
    if app is None or _installed is not None:
        return
    _installed = DialogFitter(app)
    app.installEventFilter(_installed)
