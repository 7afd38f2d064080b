"""Timeline labels on screen: never overlapping, similar titles told apart, the selection always
named, presentation mode's larger type, and a million-record view read as a density."""

from __future__ import annotations

import datetime as dt
import itertools
import shutil

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRectF

from explorer import models as m
from explorer import timeline as tm
from explorer.state import AppState, RecordRef
from explorer.store import open_store
from explorer.timeline.lod import P_DAY
from explorer.views.timeline import TimelineView

AUTOMAKER = (
    "Automaker plant capacity in Gujarat",
    "Automaker plant capacity in Karnataka",
    "Automaker plant capacity in Maharashtra",
)


def _ref_titled(view, title: str) -> RecordRef:
    hits = [i for i, label in enumerate(view.model.data.label.tolist()) if label == title]
    assert len(hits) == 1, title
    return view._ref(hits[0])


def _painted(view) -> list[QRectF]:
    """Paint the timeline and return the text boxes every layer drew (row labels, name pills,
    arrow chips), in device pixels."""
    layers = (view.layer, view.highlight_layer, view.arrow_layer)
    for layer in layers:
        layer.painted = []
    view.grab()
    rects = [r for layer in layers for r in layer.painted]
    for layer in layers:
        layer.painted = None
    return rects


def _assert_apart(rects: list[QRectF]) -> None:
    for a, b in itertools.combinations(rects, 2):
        overlap = a.intersected(b)
        assert overlap.width() < 0.5 or overlap.height() < 0.5, (a, b)


def _shown_label(view, ref: RecordRef) -> str:
    g = view._index(ref)
    lay = view._src.layout
    k = int(np.flatnonzero(lay.idx == g)[0])
    return lay.labels[k]


def _named(view, ref: RecordRef) -> bool:
    """The item carries its name: its row label, or a pill with the start of its title."""
    g = view._index(ref)
    title = str(view.model.data.label[g])
    lay = view._src.layout
    hits = np.flatnonzero(lay.idx == g)
    if hits.size and lay.labels[int(hits[0])]:
        return True
    return any(text.startswith(title[:12]) for *_box, text in lay.tags)


@pytest.mark.parametrize("width", [900, 1400, 2200])
@pytest.mark.parametrize("years", [None, ("2005-01-01", "2030-01-01"), ("2024-01-01", "2027-01-01")])
def test_no_two_painted_labels_overlap(qtbot, view, state, width, years):
    view.resize(width, 600)
    qtbot.waitUntil(lambda: abs(view._src.layout.width_px - view._plot_px()[0]) < 1)
    if years:
        view.set_view_range(*(m.day_number(dt.date.fromisoformat(y)) for y in years))
    else:
        view.fit_all()
    plain = _painted(view)
    assert len(plain) >= 8
    _assert_apart(plain)
    # with a selection: its arrows' relation chips take part too
    state.select(_ref_titled(view, "15th India–Japan Annual Summit"))
    with_arrows = _painted(view)
    assert len(view._src.layout.chips) >= 1
    _assert_apart(with_arrows)


def test_similar_titles_show_the_words_that_tell_them_apart(qtbot, view):
    shortened = False
    for width in (1400, 900, 650):  # narrower: the three labels are shortened at the plot's edge
        view.resize(width, 600)
        qtbot.waitUntil(lambda: abs(view._src.layout.width_px - view._plot_px()[0]) < 1)
        view.fit_all()
        shown = [_shown_label(view, _ref_titled(view, title)) for title in AUTOMAKER]
        assert all(shown) and len(set(shown)) == 3, shown
        for text, place in zip(shown, ("Gujarat", "Karnataka", "Maharashtra"), strict=True):
            assert text.endswith(place), text
        shortened |= any("…" in text for text in shown)
    assert shortened  # at some width they were cut, keeping the place


def test_records_sharing_a_title_get_their_place_or_company(view, state, store):
    refs = [_ref_titled(view, title) for title in AUTOMAKER[:2]]
    for ref in refs:
        version = store.get(ref.record_type, ref.record_id).version
        state.notify_changed(
            store.update(
                ref.record_type, ref.record_id, {"title": "Automaker plant capacity"}, expected_version=version
            )
        )
    shown = [_shown_label(view, ref) for ref in refs]
    assert shown[0] != shown[1]
    assert "Gujarat" in shown[0] and "Karnataka" in shown[1]
    assert shown[0].startswith("Automaker plant")


@pytest.mark.parametrize("width", [800, 1400])
def test_the_selected_item_is_always_named(qtbot, view, state, width):
    view.resize(width, 600)
    qtbot.waitUntil(lambda: abs(view._src.layout.width_px - view._plot_px()[0]) < 1)
    view.fit_all()
    for title in (
        "10 trillion yen investment pledge (2025)",
        "Automaker plant capacity in Karnataka",
        "1st India–Japan Annual Summit",
        "Fujitsu hiring Indian engineers for Japan",
    ):
        ref = _ref_titled(view, title) if title in view.model.data.label.tolist() else None
        if ref is None:
            continue
        state.select(ref)
        assert _named(view, ref), title
        _assert_apart(_painted(view))


def test_presentation_mode_labels_are_larger_and_still_apart(qtbot, window):
    tl = window.timeline
    tl.fit_all()
    desk = _painted(tl)
    desk_height = float(np.median([r.height() for r in desk]))
    desk_points = tl._src.style.label_font.pointSizeF()
    window.presentation.enter()
    qtbot.waitUntil(lambda: tl.model.presenting and tl._src.style.label_font.pointSizeF() > 1.5 * desk_points)
    tl.fit_all()
    pill_of = next(i for i, t in enumerate(tl.model.data.label.tolist()) if t.startswith("10 trillion yen"))
    window.state.select(tl._ref(pill_of))
    shown = _painted(tl)
    assert len(shown) >= 3  # the offscreen "full screen" is 800 px wide: a narrow plot
    assert float(np.median([r.height() for r in shown])) >= 1.5 * desk_height
    _assert_apart(shown)
    assert _named(tl, tl._ref(pill_of))
    # fewer labels, each mostly whole: none cut below the presentation share of its length
    lay = tl._src.layout
    for k, text in enumerate(lay.labels):
        if text and "…" in text:
            full = tl._widths.width(tl.model.label_text(int(lay.idx[k])))
            assert tl._widths.width(text) >= 0.55 * min(full, 300.0 * 2)


@pytest.fixture
def large_view(qtbot, large_db, tmp_path):
    path = tmp_path / "large.sqlite"
    shutil.copyfile(large_db, path)
    store = open_store(path)
    state = AppState(store)
    widget = TimelineView(state)
    qtbot.addWidget(widget)
    widget.resize(1400, 700)
    widget.show()
    qtbot.waitExposed(widget)
    state.wait_idle()
    qtbot.waitUntil(lambda: len(widget.model.data) > 50_000, timeout=60_000)
    widget.fit_all()
    yield widget
    store.close()


def test_a_hundred_thousand_records_zoomed_out_read_as_a_density(large_view):
    tl = large_view
    lay = tl._src.layout
    assert {lane for lane, _bins in lay.bins} == set(range(len(tl._src.lanes)))  # every lane aggregated
    tl.layer.painted_density = []
    image = tl.grab().toImage()
    painted = tl.layer.painted_density
    tl.layer.painted_density = None
    assert len(painted) == len(lay.bins)
    for _lane, rects in painted:
        x, heights = rects[:, 0], rects[:, 3]
        # one continuous shape: no gaps between columns where records are...
        step = float(np.median(np.diff(x)))
        assert np.count_nonzero(np.diff(x) > step * 1.5) <= 2
        # ...and a smooth outline, not a barcode of lone bars of random height
        jumps = np.abs(np.diff(heights)) / heights.max()
        assert np.quantile(jumps, 0.95) < 0.08 and jumps.max() < 0.35
        # it fills the lane from its floor, on screen
        floor = int(rects[0, 1] + rects[0, 3]) - 1
        cols = [int(v) + 1 for v in np.linspace(x.min() + 5, x.max() - 5, 40)]
        assert len({image.pixelColor(cx, floor).rgb() for cx in cols}) <= 2  # one fill along the floor
    # the tooltip still counts the records under the pointer
    deals = next(k for k, label in enumerate(tl.lane_labels()) if label.startswith("Deals"))
    bins = dict(lay.bins)[deals]
    day = lay.view_lo + (bins.column[int(np.argmax(bins.count))] + 0.5) * bins.bin_px / lay.ppd
    assert "records in Deals" in tl.tooltip_at(tl._view_point(day, tl._src.lanes[deals].centre))
    assert tm.density_profile(bins, lay.width_px)[0].size >= bins.column.size  # gaps filled in


def _pixels(widget) -> np.ndarray:
    from PySide6.QtGui import QImage

    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_ARGB32)
    return np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.width(), 4).astype(int)


@pytest.mark.parametrize("years", [None, ("2014-01-01", "2022-01-01"), ("2023-06-01", "2025-06-01")])
def test_soft_bars_stretched_from_strips_look_as_their_gradient_brushes(qtbot, view, years):
    """Soft-edged bars stretched from their atlas strips (one call a frame) are their gradient
    brushes' pixels within a level or two, in the widget as grabbed (a redirected painter, as
    every paint into a window's backing store): same place, same ramp, same stacking."""
    if years:
        view.set_view_range(*(m.day_number(dt.date.fromisoformat(y)) for y in years))
    lay = view._src.layout
    soft = (view.model.data.precision[lay.idx] != P_DAY) & (lay.x1 - lay.x0 > 3)
    assert soft.any()
    fast = _pixels(view.plot)
    view.layer.strip_bars = False
    plain = _pixels(view.plot)
    view.layer.strip_bars = True
    diff = np.abs(fast - plain).max(axis=2)
    assert diff.max() > 0  # the bars did take the other path
    assert np.count_nonzero(diff > 2) <= max(60, diff.size // 20_000)
    assert diff.max() <= 32


def test_highlighted_records_inside_a_density_each_get_a_tick(large_view):
    """A company's deals drawn inside a lane's density still show where each one is: a vertical
    tick in the highlight colour at its date, over the density, for every one of them in view."""
    from PySide6.QtGui import QImage

    tl = large_view
    store = tl.state.store
    org_id, _name = store.list_records("organisation")[0]
    deals = store.deals_of_organisation(org_id)
    assert len(deals) >= 5
    tl.state.select(RecordRef("organisation", org_id))
    lay = tl._src.layout
    hidden = np.setdiff1d(tl.model.highlight, lay.idx)  # highlighted but inside a density
    assert hidden.size >= 5
    days, ys = tl.model.anchors(hidden)
    image = tl.plot.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    colour = tl._src.style.highlight
    origin = tl.plot.mapFromGlobal(tl.plot.viewport().mapToGlobal(tl.plot.viewport().rect().topLeft()))
    checked = 0
    for day, y in zip(days.tolist(), ys.tolist(), strict=True):
        point = tl.viewbox.mapViewToDevice(QPointF(day * tm.SECONDS_PER_DAY, y))
        x, yy = round(point.x()) + origin.x(), round(point.y()) + origin.y()
        if not (2 <= x < image.width() - 2):
            continue
        near = [image.pixelColor(x + dx, yy).rgb() for dx in (-1, 0, 1)]
        assert colour.rgb() in near or any(_close(c, colour) for c in near), (day, y)
        checked += 1
    assert checked >= 5


def _close(rgb: int, colour) -> bool:
    from PySide6.QtGui import QColor

    c = QColor.fromRgb(rgb)
    return abs(c.red() - colour.red()) + abs(c.green() - colour.green()) + abs(c.blue() - colour.blue()) < 60


@pytest.mark.parametrize("years", [None, ("2014-01-01", "2022-01-01")])
def test_row_labels_kept_as_static_text_land_on_the_pixels_of_plain_text(qtbot, view, years):
    """Row labels are drawn from laid-out texts kept between frames: in the widget as grabbed
    (a redirected painter, as every paint into the window) they are drawText's very pixels,
    also after the type grows (Ctrl +) and the kept texts of the old size are dropped."""
    from PySide6.QtGui import QFont

    def assert_as_plain_text() -> np.ndarray:
        assert sum(1 for text in view._src.layout.labels if text) >= 5
        kept = _pixels(view.plot)
        view.layer.static_labels = False
        plain = _pixels(view.plot)
        view.layer.static_labels = True
        assert np.array_equal(kept, plain)
        return kept

    if years:
        view.set_view_range(*(m.day_number(dt.date.fromisoformat(y)) for y in years))
    desk = assert_as_plain_text()
    desk_points = view._src.style.label_font.pointSizeF()
    font = QFont(view.font())
    font.setPointSizeF(font.pointSizeF() * 1.6)
    view.setFont(font)
    qtbot.waitUntil(lambda: view._src.style.label_font.pointSizeF() > 1.5 * desk_points)
    assert not np.array_equal(assert_as_plain_text(), desk)


def test_bars_hidden_under_many_others_are_left_out_without_a_visible_change(large_view, monkeypatch):
    """Zoomed in to a year, multi-year periods cover their rows from edge to edge, hundreds
    deep; a bar under six strong ones is not filled (most of a one-year frame's fill at 3e5),
    exact-dated and soft-edged alike, and the picture stays as it was to the eye: every pixel
    within a few levels."""
    from explorer.views import timeline_items as ti

    tl = large_view
    hidden: list[int] = []
    real = ti.hidden_under_bars

    def counting(*args):
        out = real(*args)
        hidden.append(int(out.sum()))
        return out

    monkeypatch.setattr(ti, "hidden_under_bars", counting)
    mid = (m.day_number(dt.date(2022, 7, 1)) + m.day_number(dt.date(2023, 7, 1))) / 2
    tl.set_view_range(mid - 182.6, mid + 182.6)
    culled = _pixels(tl.plot)
    assert len(hidden) >= 2 and min(hidden[-2:]) >= 20  # a frame's exact bars, then its soft ones
    tl.layer.cull_overdraw = False
    whole = _pixels(tl.plot)
    tl.layer.cull_overdraw = True
    diff = np.abs(culled - whole).max(axis=2)
    assert diff.max() <= 6, diff.max()
