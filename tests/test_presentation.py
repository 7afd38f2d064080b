"""Presentation mode's docks: restyled for the projector, given back as they were."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel

from explorer.views.main_window import MainWindow


def test_docks_lose_desk_title_bars_and_buttons_while_presenting(qtbot, window: MainWindow) -> None:
    dock = window.detail_dock
    features = dock.features()
    assert features & QDockWidget.DockWidgetFeature.DockWidgetClosable
    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert window.presentation.active
    title = dock.titleBarWidget()
    assert isinstance(title, QLabel) and title.text() == "Details" and title.isVisible()
    assert dock.features() == QDockWidget.DockWidgetFeature.NoDockWidgetFeatures  # no float, no close
    app_size = QApplication.font().pointSizeF()
    assert title.font().bold() and title.font().pointSizeF() > app_size
    qtbot.keyClick(window, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)  # larger type: the title too
    assert title.font().pointSizeF() > QApplication.font().pointSizeF() > app_size
    window.presentation.leave()  # (Esc leaves too: test_workshop presses it)
    assert not window.presentation.active
    assert dock.titleBarWidget() is None and dock.features() == features


def test_presentation_type_fits_a_small_screen_and_keeps_the_choice(qtbot, window: MainWindow, monkeypatch) -> None:
    """A screen holding few lines (1920×1080 at 2× is 960×540) gets smaller presentation type,
    never below the desk size; the chosen size comes back where it fits."""
    from explorer.views import presentation

    desk = QApplication.font().pointSizeF()
    monkeypatch.setattr(presentation, "MIN_LINES", 40)
    window.presentation.enter()
    small = QApplication.font().pointSizeF()
    assert desk <= small < 2 * desk
    window.presentation.leave()
    monkeypatch.setattr(presentation, "MIN_LINES", 10)
    window.presentation.enter()
    assert QApplication.font().pointSizeF() >= 2 * desk - 0.01
    window.presentation.leave()


def test_the_details_leave_out_the_edit_history_in_front_of_a_room(qtbot, window: MainWindow) -> None:
    """Who changed which field when is for the analysts at their desks, not for the projector."""
    from explorer.state import RecordRef
    from explorer.store import Store

    store: Store = window.state.store
    deal = store.get("deal", store.list_records("deal")[0][0])
    window.editing.ops.edit(
        "deal", deal.id, {"notes": deal.notes}, {"notes": "Checked against the annual report"}, deal.version, "Notes"
    )
    window.state.select(RecordRef("deal", deal.id))
    qtbot.waitUntil(lambda: "History" in window.detail.plain_text())
    window.presentation.enter()
    shown = window.detail.plain_text()
    assert "History" not in shown and deal.title in shown and "Checked against the annual report" in shown
    window.presentation.leave()
    assert "History" in window.detail.plain_text()


def test_an_open_map_shares_the_projected_height_with_the_timeline(qtbot, window: MainWindow) -> None:
    """Large type needs room: while presenting, the map under the timeline takes under half the
    height, so the timeline's lanes keep their rows instead of being squeezed together."""
    window.map_dock.show()
    qtbot.waitUntil(lambda: not window.map.busy, timeout=10_000)
    window.presentation.enter()
    QApplication.processEvents()
    height = window.height()
    assert window.map_dock.height() <= 0.45 * height
    assert window.timeline.plot.height() > window.map.canvas.height()
    window.presentation.leave()
