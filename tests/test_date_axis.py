"""The timeline's date axis: labelled ticks at every zoom, a second row naming the year or the
month they belong to, and no two labels touching, at desk and presentation type sizes."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QRectF
from PySide6.QtGui import QFont, QFontMetricsF, QPainter, QPicture
from PySide6.QtWidgets import QApplication

from explorer import models as m
from explorer import timeline as tm
from explorer.state import AppState
from explorer.views import timeline_items as ti
from explorer.views.theme import BASE_POINT_SIZE, apply_theme
from explorer.views.timeline import LANE_AXIS_MIN_PX, LANE_AXIS_SHARE, TimelineView

MONTHS = set(tm.MONTH_ABBR)
MONTH_YEAR = re.compile(rf"^({'|'.join(tm.MONTH_NAMES + tm.MONTH_ABBR)})(?: (\d{{4}}))?$")

# name: (first day, last day) of the view
SPANS = {
    "20 years": ("2005-06-01", "2025-06-01"),
    "1 year": ("2024-09-15", "2025-09-15"),
    "2 months": ("2025-08-10", "2025-10-10"),
    "10 days": ("2025-08-26", "2025-09-05"),
}


def _day(text: str) -> int:
    return m.day_number(dt.date.fromisoformat(text))


@pytest.fixture
def make_view(qtbot, store):
    def make(width: int, scale: float = 1.0) -> TimelineView:
        view = TimelineView(AppState(store))
        qtbot.addWidget(view)
        font = QFont(view.font())
        font.setPointSizeF(BASE_POINT_SIZE * scale)  # what Ctrl +/- and presentation mode set
        view.setFont(font)
        view.resize(width, 600)
        view.show()
        qtbot.waitExposed(view)
        return view

    return make


def _specs(axis: ti.DayAxis) -> tuple:
    picture = QPicture()
    painter = QPainter(picture)
    try:
        return axis.generateDrawSpecs(painter)
    finally:
        painter.end()


def _rows(axis: ti.DayAxis) -> tuple[list[tuple[QRectF, str]], list[tuple[QRectF, str]]]:
    """The labels the axis draws, split into its upper and lower row by height, left to right."""
    _axis, _ticks, texts = _specs(axis)
    tops = sorted({round(rect.top(), 1) for rect, _f, _t in texts})
    assert 1 <= len(tops) <= 2, f"labels on more than two rows: {tops}"
    upper = sorted(((r, t) for r, _f, t in texts if round(r.top(), 1) == tops[0]), key=lambda e: e[0].left())
    lower = sorted(((r, t) for r, _f, t in texts if round(r.top(), 1) != tops[0]), key=lambda e: e[0].left())
    return upper, lower


def _show(view: TimelineView, span: str) -> tuple[dt.date, dt.date]:
    a, b = SPANS[span]
    view.set_view_range(_day(a), _day(b))
    return dt.date.fromisoformat(a), dt.date.fromisoformat(b)


def _assert_readable(axis: ti.DayAxis, upper, lower) -> None:
    """Every label whole inside the axis, wide enough for its text as drawn, apart from its
    neighbours by at least half a digit's width, and the two rows one under the other."""
    bounds = axis.mapRectFromParent(axis.geometry())
    for font, row in ((axis.tick_font(), upper), (axis.context_font(), lower)):
        metrics = QFontMetricsF(font)
        apart = metrics.horizontalAdvance("0") * 0.5
        for rect, text in row:
            assert rect.width() + 0.5 >= metrics.horizontalAdvance(text), text
            assert bounds.left() - 0.5 <= rect.left() and rect.right() <= bounds.right() + 0.5, text
            assert rect.bottom() <= bounds.bottom() + 0.5, f"{text!r} cut off below the axis"
        for (r1, t1), (r2, t2) in itertools.pairwise(row):
            assert r2.left() - r1.right() >= apart, f"{t1!r} and {t2!r} run together"
    if upper and lower:
        assert max(r.bottom() for r, _ in upper) <= min(r.top() for r, _ in lower)


@pytest.mark.parametrize("scale", [1.0, 2.0, 3.5])
@pytest.mark.parametrize("width", [900, 1366, 1900])
def test_every_zoom_labels_its_ticks_with_year_or_month_context(make_view, width, scale):
    view = make_view(width, scale)
    axis = view.date_axis

    start, _end = _show(view, "20 years")
    upper, lower = _rows(axis)
    assert len(upper) >= 3 and all(re.fullmatch(r"\d{4}", t) for _, t in upper), upper
    _assert_readable(axis, upper, lower)

    start, _end = _show(view, "1 year")
    upper, lower = _rows(axis)
    assert len(upper) >= 3 and all(t in MONTHS for _, t in upper), upper
    # the year under the months: the one the view starts in, at the left, then the next
    assert [t for _, t in lower] == [str(start.year), str(start.year + 1)], lower
    _assert_readable(axis, upper, lower)

    for span in ("2 months", "10 days"):
        start, _end = _show(view, span)
        upper, lower = _rows(axis)
        assert len(upper) >= 3 and all(t.isdigit() and 1 <= int(t) <= 31 for _, t in upper), (span, upper)
        # the month (and year, where it fits) of the first day shown at the left edge, then
        # each month with its year at its start
        assert lower, (span, upper)
        first = MONTH_YEAR.match(lower[0][1])
        assert first and first.group(1).startswith(start.strftime("%b")), lower
        assert first.group(2) is None or int(first.group(2)) == start.year
        assert lower[0][0].left() < axis.mapRectFromParent(axis.geometry()).width() * 0.1
        assert all(MONTH_YEAR.match(t) and MONTH_YEAR.match(t).group(2) for _, t in lower[1:]), lower
        assert any(MONTH_YEAR.match(t).group(2) for _, t in lower), f"no year under {span}: {lower}"
        _assert_readable(axis, upper, lower)


def test_desk_sizes_name_the_months_in_full_over_days(make_view):
    view = make_view(1366)
    _show(view, "2 months")
    upper, lower = _rows(view.date_axis)
    assert [t for _, t in lower] == ["August 2025", "September 2025", "October 2025"]
    assert [t for _, t in upper][:4] == ["11", "13", "15", "17"]  # every other day, odd days from the 1st
    assert "1" in [t for _, t in upper]  # each month starts at a labelled 1
    _show(view, "10 days")
    upper, lower = _rows(view.date_axis)
    assert [t for _, t in upper] == ["27", "28", "29", "30", "31", "1", "2", "3", "4"]
    assert [t for _, t in lower] == ["August 2025", "September 2025"]
    _show(view, "1 year")
    upper, _lower = _rows(view.date_axis)
    assert [t for _, t in upper] == ["Oct", "Nov", "Dec", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep"]


def test_labels_sit_on_their_ticks_and_the_grid_draws_the_same_ticks(make_view):
    view = make_view(1366)
    axis = view.date_axis
    for span in SPANS:
        _show(view, span)
        _axis, ticks, _texts = _specs(axis)
        tick_x = np.array(sorted({round(p1.x(), 3) for _pen, p1, _p2 in ticks}))
        upper, _lower = _rows(axis)
        for rect, text in upper:
            assert np.min(np.abs(tick_x - rect.center().x())) < 0.5, (span, text)
        lo, hi = axis.range
        plan = axis.plan(lo, hi, axis.length_px())
        grid = np.sort(np.concatenate(axis.grid_values(lo, hi)))
        assert np.array_equal(grid, np.sort(np.concatenate([plan.major, plan.minor])) * tm.SECONDS_PER_DAY)


def test_a_pan_keeps_the_labelling_and_each_date_its_label(make_view):
    view = make_view(1366)
    axis = view.date_axis
    for span in SPANS:
        a, b = (_day(d) for d in SPANS[span])
        seen: dict[float, str] = {}
        steps = set()
        for shift in (0.0, 0.02, 0.05, -0.03):
            view.set_view_range(a + (b - a) * shift, b + (b - a) * shift)
            plan = axis.plan(*axis.range, axis.length_px())
            steps.add((plan.scale.unit, plan.scale.step))
            for day, label in zip(plan.major.tolist(), plan.labels, strict=True):
                assert seen.setdefault(day, label) == label
        assert len(steps) == 1, (span, steps)


def test_the_axis_grows_with_the_type_to_fit_both_rows(make_view):
    heights = []
    for scale in (1.0, 2.0):
        view = make_view(1366, scale)
        _show(view, "2 months")
        upper, lower = _rows(view.date_axis)
        assert upper and lower
        heights.append(view.date_axis.height())
        assert lower[-1][0].bottom() <= view.date_axis.height() + 0.5
    assert heights[1] > heights[0] * 1.6


def test_presentation_mode_axis_reads_in_large_type(qtbot, window):
    app = QApplication.instance()
    font, palette, sheet = app.font(), app.palette(), app.styleSheet()
    # as at start-up: the theme (and its style sheet) is in place before presentation mode
    apply_theme(app, scale=1.0)
    try:
        window.presentation.enter()
        qtbot.wait(50)  # the full-screen layout
        view = window.timeline
        axis = view.date_axis
        assert axis.tick_font().pointSizeF() >= 2 * BASE_POINT_SIZE - 0.01
        assert axis.height() >= 2 * QFontMetricsF(axis.tick_font()).height()
        # The offscreen screen is 800 px wide: beside the lane names and the details the axis
        # gets ~170 px, room for one or two labels in 21 pt type, but they still read.
        for span, pattern in (("20 years", r"\d{4}"), ("1 year", r"\d{4}|[A-Z][a-z]{2}"), ("10 days", r"\d{1,2}")):
            _show(view, span)
            upper, lower = _rows(axis)
            assert upper and all(re.fullmatch(pattern, t) for _, t in upper), (span, upper)
            assert span != "10 days" or lower, lower
            _assert_readable(axis, upper, lower)
    finally:
        window.presentation.leave()
        app.setStyleSheet(sheet)
        app.setPalette(palette)
        app.setFont(font)


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (2, [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 1]),  # no 29 squeezed against 1 March
        (5, [1, 5, 10, 15, 20, 25, 1]),
        (10, [1, 10, 20, 1]),
    ],
)
def test_day_labels_follow_the_calendar_and_keep_clear_of_the_next_month(step, expected):
    gap = dict(tm.axis._DAY_STEPS)[step]
    days = tm.axis._day_ticks(_day("2024-02-01"), _day("2024-03-01"), step, gap)
    assert [dt.date(1970, 1, 1) + dt.timedelta(days=int(d)) for d in days][-1] == dt.date(2024, 3, 1)
    labels = [(dt.date(1970, 1, 1) + dt.timedelta(days=int(d))).day for d in days]
    assert labels == expected
    assert np.diff(days).min() >= gap


@pytest.mark.parametrize(("width", "scale"), [(900, 3.5), (1000, 2.5), (620, 1.0), (1900, 1.0)])
def test_lane_names_leave_most_of_the_plot_to_the_records(make_view, width, scale):
    view = make_view(width, scale)
    view.resize(width, 1100)  # tall enough that every lane's name has room to be drawn
    QApplication.processEvents()
    _axis, _ticks, texts = _specs(view.lane_axis)
    names = [text for _rect, _flags, text in texts]
    full = view.model.arrangement.lanes.labels
    assert len(names) == len(full) > 1
    assert view.lane_axis.width() <= max(LANE_AXIS_SHARE * view.plot.width(), LANE_AXIS_MIN_PX) + 1
    metrics = QFontMetricsF(view.lane_axis.style["tickFont"])
    for name, whole in zip(names, full, strict=True):
        # a name is either whole or cut with an ellipsis, and always drawn inside the axis
        assert name == whole or (name.endswith("…") and whole.startswith(name[:-1])), (name, whole)
        assert metrics.horizontalAdvance(name) <= view.lane_axis.width()
    cut = [whole for name, whole in zip(names, full, strict=True) if name != whole]
    if scale == 1.0:
        assert names == full  # at desk type every name reads whole
    else:
        assert cut
    # hovering the lane names tells the whole names of those cut
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QToolTip

    axis = view.lane_axis.sceneBoundingRect()
    over = view.plot.mapFromScene(QPointF(axis.center().x(), axis.center().y()))
    viewport = view.plot.viewport()
    event = QHelpEvent(QEvent.Type.ToolTip, over, viewport.mapToGlobal(over))
    QApplication.sendEvent(viewport, event)
    if cut:
        assert QToolTip.isVisible() and QToolTip.text().splitlines() == cut
    else:
        assert not QToolTip.isVisible() or not QToolTip.text()
    QToolTip.hideText()
