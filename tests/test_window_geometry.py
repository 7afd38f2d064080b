"""The main window opens inside the screen it is on, and a saved size that no longer fits is dropped."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QRect, Qt
from PySide6.QtGui import QGuiApplication

from explorer.views import window_geometry
from explorer.views.main_window import MainWindow, app_settings


def test_small_screens_open_maximised_and_big_ones_centred() -> None:
    laptop = QRect(0, 0, 1366, 768)
    rect, maximise = window_geometry.first_start_geometry(laptop)
    assert maximise and laptop.contains(rect)
    scaled = QRect(0, 0, 960, 540)  # 1920×1080 at 2×
    rect, maximise = window_geometry.first_start_geometry(scaled)
    assert maximise and scaled.contains(rect)
    big = QRect(0, 0, 2560, 1440)
    rect, maximise = window_geometry.first_start_geometry(big)
    assert not maximise and big.contains(rect) and rect.center() == big.center()


def test_minimum_size_fits_the_smallest_supported_screens() -> None:
    for w, h in ((1366, 768), (960, 540)):
        assert window_geometry.MINIMUM.width() <= w and window_geometry.MINIMUM.height() <= h - 40


def test_fits_needs_one_screen_to_hold_the_whole_frame() -> None:
    screens = [QRect(0, 0, 1920, 1080), QRect(1920, 0, 1366, 768)]
    assert window_geometry.fits(QRect(100, 100, 1600, 900), screens)
    assert window_geometry.fits(QRect(2000, 10, 1200, 700), screens)
    assert not window_geometry.fits(QRect(1800, 0, 600, 600), screens)  # straddles
    assert not window_geometry.fits(QRect(0, 0, 3200, 1920), screens)


def test_first_window_and_a_too_big_saved_one_both_open_inside_the_screen(qtbot, store) -> None:
    from explorer.state import AppState

    available = QGuiApplication.primaryScreen().availableGeometry()
    first = MainWindow(AppState(store))
    qtbot.addWidget(first)
    first.show()
    qtbot.waitExposed(first)
    assert window_geometry.fits(first.frameGeometry(), [available])
    assert first.minimumSize().width() <= available.width()
    # A window saved on a bigger monitor, or before a 2× scale: not restored as it was.
    first.showNormal()
    first.setGeometry(QRect(50, 50, 3200, 1900))
    first.save_settings()
    saved = app_settings().value("geometry")
    assert isinstance(saved, QByteArray)
    first.close()

    second = MainWindow(AppState(store))
    qtbot.addWidget(second)
    second.show()
    qtbot.waitExposed(second)
    assert window_geometry.fits(second.frameGeometry(), [available])
    assert second.width() < 3200


def test_a_saved_geometry_that_fits_is_kept(qtbot, store) -> None:
    from explorer.state import AppState

    first = MainWindow(AppState(store))
    qtbot.addWidget(first)
    first.show()
    first.showNormal()
    first.setWindowState(Qt.WindowState.WindowNoState)
    first.setGeometry(QRect(40, 40, 730, 500))
    qtbot.wait(50)
    first.save_settings()
    first.close()
    second = MainWindow(AppState(store))
    qtbot.addWidget(second)
    second.show()
    qtbot.waitExposed(second)
    assert not second.isMaximized()
    assert (second.width(), second.height()) == (730, 500)


def test_an_old_layout_is_dropped_but_the_other_settings_are_kept(qtbot, store) -> None:
    from explorer import settings
    from explorer.state import AppState

    saved = app_settings()
    settings.LAYOUT.set(settings.LAYOUT_VERSION - 1, saved)  # a layout made with other docks
    settings.GEOMETRY.set(QByteArray(b"not a geometry"), saved)
    settings.THEME.set("dark", saved)
    settings.FILTER_AS_YOU_TYPE.set(True, saved)
    saved.setValue("uiScale", "not a number")  # hand-edited: the default, not a crash
    saved.sync()
    win = MainWindow(AppState(store))
    qtbot.addWidget(win)
    assert win.theme_actions["dark"].isChecked()
    assert win.find.filter_action.isChecked()
    assert win.presentation.desk_scale == settings.UI_SCALE.default
    win.close()


def test_the_filters_take_a_line_of_their_own_rather_than_fold_away(qtbot, window) -> None:
    """Every filter stays on screen at any width: where the filters and the navigation bar do
    not fit side by side (1920 px at 2× is 960), the filters move to a second line instead of
    hiding the country and dates behind the toolbar's » button."""
    from PySide6.QtWidgets import QApplication

    filters = (window.sector_combo, window.country_combo, window.range_label)

    def shown_inside(widget) -> bool:
        bar = window.filter_bar
        box = QRect(widget.mapTo(bar, widget.rect().topLeft()), widget.size())
        return widget.isVisible() and bar.rect().contains(box)

    window.resize(1600, 950)
    QApplication.processEvents()
    assert all(shown_inside(w) for w in filters)
    assert window.filter_bar.y() == window.nav_bar.y()  # one line where there is room
    window.resize(960, 700)
    qtbot.waitUntil(lambda: window.filter_bar.y() > window.nav_bar.y())
    QApplication.processEvents()
    assert all(shown_inside(w) for w in filters)
    assert window.filter_bar.width() <= window.width()
    window.resize(1600, 950)
    qtbot.waitUntil(lambda: window.filter_bar.y() == window.nav_bar.y())
