"""Presentation mode and UI scale: full screen, large type, high contrast, no editing chrome."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCursor, QFont, QFontMetricsF, QGuiApplication
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QWidget

from explorer import settings
from explorer.views.theme import BASE_POINT_SIZE, FONT_FAMILIES, apply_theme

if TYPE_CHECKING:
    from explorer.views.main_window import MainWindow

MIN_SCALE, MAX_SCALE, STEP = 0.7, 3.5, 0.15
PRESENTATION_DEFAULT_SCALE = settings.PRESENTATION_SCALE.default
POINTER_IDLE_MS = 2500
# Lines of presentation type a screen must hold: legend, lanes, caption and details all read.
# At twice the desk size a 1366×768 projector holds 23; a 1920×1080 screen at 2× scale (960×540
# logical) only 16, and its timeline was squeezed to a 82-pixel strip of overlapping lanes.
MIN_LINES = 22
MAP_SHARE = 0.42  # of the height, for the relationship map while presenting (the timeline keeps the rest)
MAP_BESIDE_BELOW = 700  # window heights (logical pixels) below which the map goes beside the timeline


def clamp_scale(value: float) -> float:
    return round(max(MIN_SCALE, min(MAX_SCALE, value)), 2)


class PresentationController(QObject):
    """Signals:
    active_changed(bool): presentation mode entered or left.
    scale_changed(float): the whole UI was scaled (Ctrl + / Ctrl − / Ctrl 0).
    """

    active_changed = Signal(bool)
    scale_changed = Signal(float)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.active = False
        self.desk_scale = clamp_scale(settings.UI_SCALE.get())
        self.presentation_scale = clamp_scale(settings.PRESENTATION_SCALE.get())
        self._saved_theme = "system"
        self._hidden: list[QWidget] = []
        self._was_maximized = False
        self._idle = QTimer(self, singleShot=True, interval=POINTER_IDLE_MS)
        self._idle.timeout.connect(self._hide_pointer)
        self._pointer_hidden = False
        self._saved_layout: QByteArray | None = None
        self._session_scale: float | None = None  # the presentation scale, fitted to this screen
        # docks restyled for the projector: (dock, its features, its own title bar widget)
        self._dock_looks: list[tuple[QDockWidget, QDockWidget.DockWidgetFeature, QWidget | None]] = []

    @property
    def scale(self) -> float:
        if not self.active:
            return self.desk_scale
        return self._session_scale if self._session_scale is not None else self.presentation_scale

    def fitting_scale(self, wanted: float) -> float:
        """``wanted``, or less where the screen holds fewer than MIN_LINES lines of it (never
        below the desk size). The choice itself is kept: a larger screen gets it back."""
        screen = self.window.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return wanted
        font = QFont()
        font.setFamilies(FONT_FAMILIES)
        font.setPointSizeF(BASE_POINT_SIZE)
        line = QFontMetricsF(font, self.window).lineSpacing()
        room = screen.geometry().height() / (MIN_LINES * max(line, 1.0))
        return clamp_scale(min(wanted, max(1.0, room)))

    def _apply(self) -> None:
        app = QApplication.instance()
        if not isinstance(app, QApplication):
            return
        theme = "contrast" if self.active else self._saved_theme
        apply_theme(app, theme, scale=self.scale)
        self._size_dock_titles()
        self.scale_changed.emit(self.scale)

    def set_scale(self, value: float) -> None:
        value = clamp_scale(value)
        key = settings.PRESENTATION_SCALE if self.active else settings.UI_SCALE
        if self.active:
            self.presentation_scale = value
            self._session_scale = None  # chosen by hand (Ctrl +/−) on this screen: as chosen
        else:
            self.desk_scale = value
        key.set(value)
        self._apply()

    def zoom_in(self) -> None:
        self.set_scale(self.scale + STEP)

    def zoom_out(self) -> None:
        self.set_scale(self.scale - STEP)

    def zoom_reset(self) -> None:
        self.set_scale(PRESENTATION_DEFAULT_SCALE if self.active else 1.0)
        if self.active:  # the default, fitted to this screen as on entering
            self._session_scale = self.fitting_scale(self.presentation_scale)
            self._apply()

    def apply_saved_scale(self) -> None:
        if self.desk_scale != 1.0:
            self._apply()

    # --- presentation ----------------------------------------------------------------

    def toggle(self) -> None:
        self.leave() if self.active else self.enter()

    def enter(self) -> None:
        if self.active:
            return
        w = self.window
        self._saved_theme = settings.THEME.get()
        self._was_maximized = w.isMaximized()
        self._saved_layout = w.saveState()  # before hiding anything, so leaving restores it all
        chrome = [w.menuBar(), w.statusBar(), *w.editing_chrome()]
        self._hidden = [c for c in chrome if c.isVisible()]
        for widget in self._hidden:
            widget.hide()
        self.active = True
        self._session_scale = self.fitting_scale(self.presentation_scale)
        self._restyle_docks()
        self._apply()
        w.showFullScreen()
        QApplication.processEvents()
        # Large type needs the room: the details take a third, the timeline the rest; an open
        # map shares the height with the timeline instead of squeezing its lanes together.
        w.resizeDocks([w.detail_dock], [int(w.width() * 0.33)], Qt.Orientation.Horizontal)
        self.share_height_with_map()
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self._idle.start()
        self.active_changed.emit(True)

    def share_height_with_map(self) -> None:
        """While presenting, an open (docked) map takes at most MAP_SHARE of the window's height;
        on a screen too low for that (1920×1080 at 2× is 540 pixels to Qt) it goes beside the
        timeline, under the details, and the timeline keeps the whole height for its lanes.
        Leaving presentation mode puts the docks back where they were."""
        w = self.window
        dock = getattr(w, "map_dock", None)
        if not self.active or dock is None or not dock.isVisible() or dock.isFloating():
            return
        height = w.height()
        if height < MAP_BESIDE_BELOW:
            details = w.detail_dock
            if w.dockWidgetArea(dock) != Qt.DockWidgetArea.RightDockWidgetArea:
                if details.isVisible() and not details.isFloating():
                    w.splitDockWidget(details, dock, Qt.Orientation.Vertical)
                else:
                    w.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
            w.resizeDocks([details, dock], [int(height * 0.4), int(height * 0.6)], Qt.Orientation.Vertical)
            w.resizeDocks([dock], [int(w.width() * 0.45)], Qt.Orientation.Horizontal)
            return
        w.resizeDocks([dock], [int(height * MAP_SHARE)], Qt.Orientation.Vertical)

    def leave(self) -> None:
        if not self.active:
            return
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self._idle.stop()
        self._show_pointer()
        self.active = False
        for widget in self._hidden:
            widget.show()
        self._hidden = []
        self._restore_docks()
        self._apply()
        if self._saved_layout is not None:
            self.window.restoreState(self._saved_layout)
            self._saved_layout = None
        if self._was_maximized:
            self.window.showMaximized()
        else:
            self.window.showNormal()
        self.active_changed.emit(False)

    # --- docks for the projector -------------------------------------------------------

    def _restyle_docks(self) -> None:
        """No desk-size title bar with float and close buttons (a stray click would undock the
        details in front of the room): a large title instead, and the dock stays put."""
        for dock in self.window.findChildren(QDockWidget):
            self._dock_looks.append((dock, dock.features(), dock.titleBarWidget()))
            dock.setFeatures(QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
            title = QLabel(dock.windowTitle(), dock)
            title.setObjectName("presentationDockTitle")
            dock.setTitleBarWidget(title)

    def _size_dock_titles(self) -> None:
        """The titles a step larger and bolder than the (already large) presentation type."""
        if not self.active:
            return
        size = QApplication.font().pointSizeF() * 1.15
        for dock, _features, _bar in self._dock_looks:
            title = dock.titleBarWidget()
            if isinstance(title, QLabel):
                pad = max(4, round(size * 0.45))
                # in the style sheet, not setFont: the application's sheet would override a font set here
                title.setStyleSheet(
                    f"QLabel#presentationDockTitle {{ font-size: {size:.1f}pt; font-weight: 700;"
                    f" padding: {pad}px {2 * pad}px; border-bottom: 3px solid palette(highlight); }}"
                )

    def _restore_docks(self) -> None:
        for dock, features, bar in self._dock_looks:
            title = dock.titleBarWidget()
            dock.setTitleBarWidget(bar)  # type: ignore[arg-type]  # None gives back Qt's own title bar
            if title is not None and title is not bar:
                title.deleteLater()
            dock.setFeatures(features)
        self._dock_looks = []

    def _hide_pointer(self) -> None:
        if self.active and not self._pointer_hidden:
            QApplication.setOverrideCursor(QCursor(Qt.CursorShape.BlankCursor))
            self._pointer_hidden = True

    def _show_pointer(self) -> None:
        if self._pointer_hidden:
            QApplication.restoreOverrideCursor()
            self._pointer_hidden = False

    @property
    def pointer_hidden(self) -> bool:
        return self._pointer_hidden

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.MouseMove, QEvent.Type.MouseButtonPress, QEvent.Type.Wheel):
            self._show_pointer()
            self._idle.start()
        elif (
            kind == QEvent.Type.KeyPress
            and getattr(event, "key", lambda: None)() == Qt.Key.Key_Escape
            and not self.window.story_player.playing
            and QApplication.activeModalWidget() is None
        ):
            self.leave()
            return True
        return False
