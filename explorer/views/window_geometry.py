"""Where the main window opens: sized to the screen it is on, saved geometry only if it still fits."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize

# The window's natural size on a roomy screen; smaller screens open maximised.
PREFERRED = QSize(1600, 1000)
# Small enough for 1366×768 at 1× and 1920×1080 at 2× (960×540 logical, less a title bar).
MINIMUM = QSize(720, 460)
# A window manager's frame may stick out a few pixels past the work area.
SLACK = 8


def first_start_geometry(available: QRect) -> tuple[QRect, bool]:
    """The rectangle to open in and whether to maximise: maximised when the preferred size would
    fill most of the screen anyway, otherwise the preferred size centred on the screen."""
    if available.width() < PREFERRED.width() * 1.1 or available.height() < PREFERRED.height() * 1.1:
        return QRect(available), True
    rect = QRect(0, 0, PREFERRED.width(), PREFERRED.height())
    rect.moveCenter(available.center())
    return rect, False


def fits(frame: QRect, screens: list[QRect]) -> bool:
    """True when the window's frame lies inside one screen's work area (give or take a border)."""
    return any(area.adjusted(-SLACK, -SLACK, SLACK, SLACK).contains(frame) for area in screens)
