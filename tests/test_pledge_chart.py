"""The pledged-against-realised chart in the detail pane, as a room reads it: a pledge with no
linked deal says so on the plot; linking a deal puts it on the realised curve; presenting makes
the chart's type as large as the rest."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from sqlmodel import select

from explorer import models as m
from explorer.state import AppState, RecordRef
from explorer.store import Store
from explorer.views.detail import SERIES, DetailPane
from explorer.views.main_window import MainWindow


def pledge(store: Store, amount: float) -> m.Pledge:
    with store.read() as s:
        return s.exec(select(m.Pledge).where(m.Pledge.amount == amount)).one()


def curves_in(pane: DetailPane, kind: str) -> list:
    colour = SERIES[kind][0].lower()
    out = []
    for item in pane.chart.plot.getPlotItem().listDataItems():
        pen = item.opts.get("pen")
        if pen is not None and not isinstance(pen, str) and pen.color().name() == colour:
            out.append(item)
    return out


def inside_the_plot(pane: DetailPane) -> bool:
    viewbox = pane.chart.plot.getPlotItem().getViewBox()
    return viewbox.sceneBoundingRect().contains(pane.chart.notice.sceneBoundingRect())


def test_a_pledge_without_linked_deals_says_so_instead_of_counting_its_period(qtbot, store: Store) -> None:
    state = AppState(store)
    pane = DetailPane(state)
    qtbot.addWidget(pane)
    pane.resize(420, 900)
    pane.show()
    state.select(RecordRef("pledge", pledge(store, 5e12).id))
    chart = pane.chart
    assert chart.isVisible()
    assert chart.notice_text() == "No deal is linked to this pledge"
    # Once laid out, the notice is wrapped inside the plot, not cut off at its edge.
    qtbot.waitUntil(lambda: inside_the_plot(pane), timeout=2000)
    qtbot.waitUntil(lambda: bool(pane.chart.value_labels), timeout=2000)
    notice = pane.chart.notice.sceneBoundingRect()
    assert not any(item.sceneBoundingRect().intersects(notice) for item in pane.chart.value_labels)
    assert "not counted US$11.8 bn" in [item.toPlainText() for item in pane.chart.value_labels]
    key = chart.key.text()
    assert "Realised: no deal is linked to this pledge" in key
    assert "Not counted: US$11.8 bn in 12 deals dated in its period but linked to no pledge" in key
    assert "Realised US$" not in key
    assert curves_in(pane, "realised") == []  # nothing drawn as realised
    assert curves_in(pane, "in_period")  # the period's deals, apart and labelled
    assert "Pledged US$42 bn (¥5 tn)" in chart.caption.text()


def test_linking_a_deal_puts_it_on_the_realised_curve_at_its_own_rate(qtbot, store: Store) -> None:
    state = AppState(store)
    pane = DetailPane(state)
    qtbot.addWidget(pane)
    pane.resize(480, 900)  # a details dock on a projected 1366×768 screen, give or take
    pane.show()
    target = pledge(store, 5e12)
    state.select(RecordRef("pledge", target.id))
    with store.read() as s:
        autos = s.exec(select(m.Deal).where(m.Deal.title.contains("Rs 600 bn"))).one()
    state.notify_changed(store.update("deal", autos.id, {"pledge_id": target.id}, expected_version=autos.version))
    qtbot.waitUntil(lambda: "Realised US$7.02 bn" in pane.chart.key.text(), timeout=3000)
    assert pane.chart.notice_text() == ""
    (curve,) = curves_in(pane, "realised")
    xs, ys = curve.getData()
    assert ys[-1] == pytest.approx(600e9 * 0.0117 / 1e9)
    assert xs[-1] == pytest.approx(autos.start_day * 86400.0)
    assert "Still open US$35 bn" in pane.chart.key.text()
    # The figures are also written on the plot, inside it and clear of each other.
    viewbox = pane.chart.plot.getPlotItem().getViewBox()

    def texts() -> list[str]:
        return [item.toPlainText() for item in pane.chart.value_labels]

    qtbot.waitUntil(lambda: {"realised US$7.02 bn", "open US$35 bn"} <= set(texts()), timeout=2000)
    assert set(texts()) <= {"realised US$7.02 bn", "open US$35 bn", "not counted US$4.76 bn", "not counted"}
    qtbot.waitUntil(
        lambda: all(viewbox.sceneBoundingRect().contains(i.sceneBoundingRect()) for i in pane.chart.value_labels),
        timeout=2000,
    )
    rects = [item.sceneBoundingRect() for item in pane.chart.value_labels]
    assert not any(a.intersects(b) for n, a in enumerate(rects) for b in rects[n + 1 :])
    # In a narrow pane a label that would not fit is left to the key, never drawn over another.
    pane.resize(260, 700)
    qtbot.waitUntil(lambda: viewbox.sceneBoundingRect().width() < 220, timeout=2000)
    qtbot.wait(50)
    rects = [item.sceneBoundingRect() for item in pane.chart.value_labels]
    assert not any(a.intersects(b) for n, a in enumerate(rects) for b in rects[n + 1 :])
    assert all(viewbox.sceneBoundingRect().contains(r) for r in rects)
    assert "Not counted: US$4.76 bn in 11 deals" in pane.chart.key.text()


def test_presenting_makes_the_chart_as_large_as_the_rest(qtbot, window: MainWindow) -> None:
    state = window.state
    state.select(RecordRef("pledge", pledge(state.store, 10e12).id))
    chart = window.detail.chart
    axis = chart.plot.getPlotItem().getAxis("bottom")
    desk_tick, desk_height = axis.style["tickFont"].pointSizeF(), chart.plot.height()
    qtbot.keyClick(window, Qt.Key.Key_F5)
    try:
        assert window.presentation.active
        qtbot.waitUntil(lambda: axis.style["tickFont"].pointSizeF() >= 1.9 * desk_tick, timeout=3000)
        assert chart.notice.textItem.font().pointSizeF() >= 1.2 * QApplication.font().pointSizeF()  # above the rest
        assert chart.plot.height() >= 1.9 * desk_height
        assert chart.notice_text() == "No deal is linked to this pledge"
    finally:
        window.presentation.leave()
