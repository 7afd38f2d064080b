"""The timeline widget: linked selection, filters, level of detail, uncertain dates, navigation."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pytest
from PySide6.QtCore import QDate, QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QTextDocument
from PySide6.QtWidgets import QApplication

from explorer import models as m
from explorer import timeline as tm
from explorer.state import RecordRef
from explorer.store.queries import PRECISION_CODE, TIMELINE_TYPES
from explorer.views.timeline import TimelineView


def _day(text: str) -> int:
    return m.day_number(dt.date.fromisoformat(text))


def _ref_titled(store, title: str) -> RecordRef:
    data = store.timeline()
    hits = [i for i, label in enumerate(data.label.tolist()) if label == title]
    assert len(hits) == 1, title
    i = hits[0]
    return RecordRef(TIMELINE_TYPES[int(data.record_type[i])], int(data.record_id[i]))


def _timeline_refs(data) -> list[RecordRef]:
    return sorted(
        RecordRef(TIMELINE_TYPES[int(t)], int(i)) for t, i in zip(data.record_type, data.record_id, strict=True)
    )


# --- selection ------------------------------------------------------------------------------


def test_clicking_the_15th_summit_selects_it(qtbot, view, state, store):
    summit = _ref_titled(store, "15th India–Japan Annual Summit")
    pos = view.item_view_pos(summit)
    assert pos is not None and view.plot.viewport().rect().contains(pos)
    qtbot.mouseClick(view.plot.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert state.selection == [summit]
    assert view.highlighted_refs() == [summit]


def test_clicking_empty_space_keeps_the_selection(qtbot, view, state, store):
    summit = _ref_titled(store, "15th India–Japan Annual Summit")
    state.select(summit)
    a, _b = view.view_range()
    empty = view._view_point(a + 5, 0.5)  # far left of the first lane: nothing there
    assert view.tooltip_at(empty) == ""
    qtbot.mouseClick(view.plot.viewport(), Qt.MouseButton.LeftButton, pos=empty)
    assert state.selection == [summit]


def test_organisation_selection_highlights_exactly_its_deals(view, state, store):
    org_id = next(i for i, name in store.list_records("organisation") if "Sumitomo" in name)
    state.select(RecordRef("organisation", org_id))
    expected = sorted(RecordRef("deal", d.id) for d in store.deals_of_organisation(org_id))
    assert expected
    assert view.highlighted_refs() == expected


def test_sector_selection_highlights_its_deals(view, state, store):
    sector_id = next(i for i, name in store.list_records("sector") if name == "Automotive")
    state.select(RecordRef("sector", sector_id))
    links = store.detail("sector", sector_id).links
    expected = sorted(RecordRef("deal", ln.record_id) for ln in links if ln.record_type == "deal")
    assert len(expected) >= 2
    assert view.highlighted_refs() == expected


def test_selecting_far_away_item_brings_it_into_view(view, state, store):
    view.set_view_range(_day("1990-01-01"), _day("1995-01-01"))
    summit = _ref_titled(store, "15th India–Japan Annual Summit")
    state.select(summit)
    a, b = view.view_range()
    assert a <= _day("2025-08-29") <= b
    assert b - a == pytest.approx(_day("1995-01-01") - _day("1990-01-01"), rel=1e-6)  # zoom kept


def test_ten_trillion_pledge_arrows_and_tooltip(view, state, store):
    big = _ref_titled(store, "10 trillion yen investment pledge (2025)")
    earlier = _ref_titled(store, "5 trillion yen investment pledge (2022)")
    summit = _ref_titled(store, "15th India–Japan Annual Summit")
    state.select(big)
    arrows = view.link_arrows()
    assert (big, earlier, "supersedes") in arrows
    assert (big, summit, "announced at") in arrows
    tip = view.tooltip_at(view.item_view_pos(big))
    assert tip.startswith("10 trillion yen investment pledge (2025)")
    assert "US$68.0 bn" in tip
    assert "29 August 2025" in tip


def test_summit_arrows_reach_two_hops(view, state, store):
    summit = _ref_titled(store, "15th India–Japan Annual Summit")
    state.select(summit)
    arrows = view.link_arrows()
    assert all(a == summit or a.record_type == "pledge" for a, _b, _r in arrows)
    pledges = {b for a, b, rel in arrows if a == summit and rel == "pledge announced"}
    assert _ref_titled(store, "10 trillion yen investment pledge (2025)") in pledges
    for pledge in pledges:
        deals = {
            ln.record_id for ln in store.detail("pledge", pledge.record_id).links if ln.relation == "deal under it"
        }
        drawn = {b.record_id for a, b, rel in arrows if a == pledge and rel == "deal under it"}
        assert drawn == deals
    state.select(None)
    assert view.link_arrows() == []
    assert view.highlighted_refs() == []


# --- filters ------------------------------------------------------------------------------


def test_sector_filter_shows_exactly_what_the_store_returns(view, state, store):
    manufacturing = next(i for i, name in store.list_records("sector") if name == "Manufacturing")
    state.set_sector_filter([manufacturing])
    expected = _timeline_refs(store.timeline(filters=state.filters))
    assert expected and len(expected) < len(store.timeline())
    assert view.shown_refs() == expected


def test_date_range_filter_fades_rather_than_hides_and_matches_the_store(qtbot, view, state, store):
    everything = len(store.timeline())
    state.set_date_range(_day("2014-01-01"), _day("2020-12-31"))
    expected = _timeline_refs(store.timeline(filters=state.filters))
    assert 0 < len(expected) < everything
    assert view.shown_refs() == expected
    assert len(view.model.data) == everything  # still drawn, faded
    assert view.region.isVisible() and not view.clear_range_button.isHidden()
    lo, hi = view.region.getRegion()
    assert (lo / 86400, hi / 86400) == (_day("2014-01-01"), _day("2020-12-31"))
    # dragging the region updates the filter
    view.region.setRegion((_day("2015-01-01") * 86400.0, _day("2016-01-01") * 86400.0))
    view.region.sigRegionChangeFinished.emit(view.region)
    assert (state.filters.start_day, state.filters.end_day) == (_day("2015-01-01"), _day("2016-01-01"))
    # Escape clears it
    view.plot.setFocus()
    qtbot.keyClick(view.plot, Qt.Key.Key_Escape)
    assert state.filters.start_day is None and state.filters.end_day is None
    assert not view.region.isVisible() and view.clear_range_button.isHidden()
    assert len(view.shown_refs()) == everything


def _send_mouse(widget, kind, pos, buttons, button=Qt.MouseButton.NoButton):
    event = QMouseEvent(
        kind, QPointF(pos), QPointF(widget.mapToGlobal(pos)), button, buttons, Qt.KeyboardModifier.ShiftModifier
    )
    QApplication.sendEvent(widget, event)


def test_shift_drag_sets_the_date_range(qtbot, view, state):
    port = view.plot.viewport()
    y = port.height() // 2
    start, end = QPoint(500, y), QPoint(800, y)
    left = Qt.MouseButton.LeftButton
    _send_mouse(port, QEvent.Type.MouseButtonPress, start, left, left)
    for x in range(510, 801, 30):
        _send_mouse(port, QEvent.Type.MouseMove, QPoint(x, y), left)
    _send_mouse(port, QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton, left)
    vb = view.viewbox
    expect_lo = vb.mapSceneToView(view.plot.mapToScene(start)).x() / 86400
    expect_hi = vb.mapSceneToView(view.plot.mapToScene(end)).x() / 86400
    assert state.filters.start_day == pytest.approx(expect_lo, abs=2)
    assert state.filters.end_day == pytest.approx(expect_hi, abs=2)
    assert view.region.isVisible()


# --- navigation ----------------------------------------------------------------------------


def test_fit_all_covers_every_item_and_view_range_round_trips(view, store):
    data = store.timeline()
    ext = tm.uncertainty_extents(data.start, data.end, data.precision)
    view.set_view_range(_day("2000-01-01"), _day("2001-01-01"))
    view.fit_all()
    a, b = view.view_range()
    assert a <= ext.lo.min() and ext.hi.max() <= b
    view.set_view_range(_day("2010-03-01"), _day("2012-07-15"))
    assert view.view_range() == pytest.approx((_day("2010-03-01"), _day("2012-07-15")), abs=1e-6)


def test_keys_and_today(qtbot, view, state):
    view.set_view_range(10000, 11000)
    view.plot.setFocus()
    ctrl = Qt.KeyboardModifier.ControlModifier  # plain arrows move between items
    qtbot.keyClick(view.plot, Qt.Key.Key_Right, ctrl)
    assert view.view_range() == pytest.approx((10100, 11100), abs=1e-6)
    qtbot.keyClick(view.plot, Qt.Key.Key_Left, ctrl)
    assert view.view_range() == pytest.approx((10000, 11000), abs=1e-6)
    qtbot.keyClick(view.plot, Qt.Key.Key_Plus)
    a, b = view.view_range()
    assert b - a < 1000 and (a + b) / 2 == pytest.approx(10500)
    qtbot.keyClick(view.plot, Qt.Key.Key_Minus)
    a, b = view.view_range()
    assert b - a == pytest.approx(1000)
    qtbot.keyClick(view.plot, Qt.Key.Key_T)
    today = QDate(1970, 1, 1).daysTo(QDate.currentDate())
    a, b = view.view_range()
    assert (a + b) / 2 == pytest.approx(today) and b - a == pytest.approx(1000)
    qtbot.keyClick(view.plot, Qt.Key.Key_0)
    fit = view.view_range()
    view.set_view_range(0, 100)
    view.fit_all()
    assert view.view_range() == pytest.approx(fit)
    state.request_range(_day("2020-01-01"), _day("2021-01-01"))
    qtbot.waitUntil(lambda: not view.range_animation_running(), timeout=10000)  # it glides there
    assert view.view_range() == pytest.approx((_day("2020-01-01"), _day("2021-01-01")), abs=1e-6)


def test_zoom_limits(view):
    view.set_view_range(_day("2020-01-01"), _day("2020-01-01") + 0.5)
    a, b = view.view_range()
    assert b - a >= 2.99
    view.set_view_range(_day("1900-01-01"), _day("2200-01-01"))
    a, b = view.view_range()
    assert a >= _day("1950-01-01") - 1 and b <= _day("2061-01-01")


# --- lanes, colours, appearance ------------------------------------------------------------


def test_lane_and_colour_modes(view, store):
    assert view.lane_labels() == ["Summits & visits", "Pledges", "Deals & MoUs", "Initiatives & targets"]
    view.set_lane_mode("country")
    assert view.lane_labels() == [name for _i, name in store.list_records("country")] + ["Both / none"]
    assert view.lane_combo.currentData() == "country"
    view.lane_combo.setCurrentIndex(1)
    assert view.lane_mode() == "sector"
    roots = [r.name for r in store.sector_tree()]
    labels = view.lane_labels()
    assert labels[-1] == "No sector" and set(labels[:-1]) <= set(roots)
    assert labels[:-1] == [r for r in roots if r in labels]
    view.set_colour_mode("kind")
    assert view.legend_entries() == ["Summit / visit", "Pledge", "Deal / MoU", "Initiative", "Target"]
    assert view.colour_combo.currentData() == "kind"
    # left axis shows the lanes as ticks
    ticks = view.lane_axis._tickLevels[0]
    assert [text for _pos, text in ticks] == view.lane_labels()


def test_background_follows_the_palette(view):
    from PySide6.QtGui import QColor, QPalette

    pal = QPalette(view.palette())
    pal.setColor(QPalette.ColorRole.Base, QColor("#1b1c1f"))
    pal.setColor(QPalette.ColorRole.Text, QColor("#e8eaed"))
    view.setPalette(pal)
    assert view.plot.backgroundBrush().color().name() == "#1b1c1f"
    assert view._src.style.foreground.name() == "#e8eaed"
    image = view.grab().toImage()
    assert image.pixelColor(view.plot.geometry().center()).lightness() < 80


# --- pure functions: extents, level of detail, packing -------------------------------------


@pytest.mark.parametrize(
    ("precision", "date", "end"),
    [
        ("month", "2006-12-01", None),
        ("year", "2014-06-15", None),
        ("approximate", "2020-08-01", "2025-08-01"),
        ("day", "2022-03-19", "2027-03-31"),
    ],
)
def test_uncertainty_extents_mirror_date_precision_bounds(precision, date, end):
    start = dt.date.fromisoformat(date)
    stop = dt.date.fromisoformat(end) if end else start
    ext = tm.uncertainty_extents(
        np.array([m.day_number(start)], dtype=float),
        np.array([m.day_number(stop)], dtype=float),
        np.array([PRECISION_CODE[precision]]),
    )
    p = m.DatePrecision(precision)
    first, _ = p.bounds(start)
    _, last = p.bounds(stop)
    assert ext.lo[0] == m.day_number(first)
    if precision == "day":
        assert ext.hi[0] == m.day_number(last)  # crisp
        assert (ext.core_lo[0], ext.core_hi[0]) == (ext.lo[0], ext.hi[0])
    else:
        assert ext.hi[0] == m.day_number(last) + 1  # through the end of the last possible day
        assert ext.lo[0] < ext.core_lo[0] <= ext.core_hi[0] < ext.hi[0]  # soft edges


def test_month_precision_summit_spans_its_whole_month(view, store):
    first = _ref_titled(store, "1st India–Japan Annual Summit")
    g = view._index(first)
    assert view.model.data.precision[g] == PRECISION_CODE["month"]
    assert (view.model.lo[g], view.model.hi[g]) == (_day("2006-12-01"), _day("2007-01-01"))
    assert (
        view.model.core_lo[g] == view.model.core_hi[g] == pytest.approx((_day("2006-12-01") + _day("2007-01-01")) / 2)
    )


def _synthetic(n: int, seed: int = 7):
    rng = np.random.default_rng(seed)
    lo = np.sort(rng.uniform(0, 20000, n))
    length = np.where(rng.random(n) < 0.3, rng.uniform(0, 400, n), 0.0)
    hi = lo + length
    amount = np.where(rng.random(n) < 0.5, rng.uniform(1e6, 1e10, n), np.nan)
    colour = rng.integers(0, 4, n)
    return lo, hi, amount, colour, float(length.max())


def test_level_of_detail_at_full_zoom_draws_every_item_in_view():
    lo, hi, amount, colour, max_len = _synthetic(2000)
    a, b = 5000.0, 5200.0
    lod = tm.level_of_detail(lo, hi, amount, colour, max_len, a, b, 1200)
    assert lod.bins is None
    plain = [i for i in range(lo.size) if lo[i] <= b and hi[i] >= a]
    assert lod.detail.tolist() == plain
    assert lod.in_view == len(plain)


def test_level_of_detail_aggregates_when_zoomed_out():
    lo, hi, amount, colour, max_len = _synthetic(10_000)
    a, b, width = 3000.0, 18000.0, 1000.0
    lod = tm.level_of_detail(lo, hi, amount, colour, max_len, a, b, width)
    assert lod.detail is None and lod.bins is not None
    in_view = (lo <= b) & (hi >= a)
    bins = lod.bins
    assert bins.total == int(in_view.sum()) == lod.in_view
    assert bins.usd.sum() == pytest.approx(np.nansum(amount[in_view]))
    assert bins.column.max() < width / bins.bin_px and np.all(np.diff(bins.column) > 0)
    # each bin against a plain loop over the items
    ppd = width / (b - a)
    expected: dict[int, list[float]] = {}
    for i in np.flatnonzero(in_view).tolist():
        col = min(int((max(lo[i], a) - a) * ppd // bins.bin_px), int(np.ceil(width / bins.bin_px)) - 1)
        expected.setdefault(col, []).append(0.0 if np.isnan(amount[i]) else amount[i])
    assert bins.column.tolist() == sorted(expected)
    assert bins.count.tolist() == [len(expected[c]) for c in sorted(expected)]
    assert bins.usd == pytest.approx([sum(expected[c]) for c in sorted(expected)])


@pytest.mark.parametrize(
    ("a", "b", "width"), [(0.0, 20000.0, 1400.0), (5000.0, 5730.0, 561.5), (19000.0, 19010.0, 999.0)]
)
def test_lane_index_gives_the_plain_answer_per_frame(a, b, width):
    """The per-frame fast path (binary searches into prefix sums) equals the plain reference,
    item for item, with whole-day dates that sit exactly on column edges and long spans reaching
    into the view from before it."""
    rng = np.random.default_rng(3)
    n = 30_000
    lo = np.sort(rng.integers(0, 20000, n).astype(float))
    hi = lo + np.where(rng.random(n) < 0.3, rng.integers(0, 4000, n), 0)
    amount = np.where(rng.random(n) < 0.5, rng.uniform(1e6, 1e10, n), np.nan)
    colour = rng.integers(0, 9, n)
    index = tm.LaneIndex(lo, hi, amount, colour)
    plain = tm.visible_indices(lo, hi, float((hi - lo).max()), a, b)
    assert index.in_view(a, b).tolist() == plain.tolist()
    assert plain.tolist() == np.flatnonzero((lo <= b) & (hi >= a)).tolist()
    ref = tm.aggregate(lo[plain], amount[plain], colour[plain], a, b, width)
    fast = index.bins(a, b, width)
    assert fast.column.tolist() == ref.column.tolist()
    assert fast.count.tolist() == ref.count.tolist() and fast.total == plain.size
    assert fast.colour.tolist() == ref.colour.tolist()
    assert fast.usd == pytest.approx(ref.usd, rel=1e-9)
    lod = index.level_of_detail(a, b, width, detail_limit=plain.size)
    assert lod.bins is None and lod.detail.tolist() == plain.tolist()


def test_crowded_lanes_aggregate_but_long_periods_through_the_view_do_not_count():
    lo = np.arange(1000, dtype=float)  # one item starting each day
    hi = lo.copy()
    hi[:400] += 5000  # the first 400 run on through any later view
    index = tm.LaneIndex(lo, hi, np.full(1000, np.nan), np.zeros(1000, dtype=np.int64))
    limit = tm.crowding_limit(3, 561.5)
    assert 300 < limit < 1000  # three rows of a narrow plot: a few hundred starts
    crowded = index.level_of_detail(0.0, 999.0, 561.5, starts_limit=limit)
    assert crowded.bins is not None and crowded.bins.total == 1000
    # ten days late in the range: 400 long periods pass through, 11 items start in it
    calm = index.level_of_detail(900.0, 910.0, 561.5, starts_limit=limit)
    assert calm.bins is None and calm.detail.size == 411


def test_pack_rows_keeps_labels_apart():
    x0 = np.array([0.0, 10.0, 20.0, 200.0, 205.0])
    bare = x0 + 10
    full = x0 + 150
    rows, used = tm.pack_rows(x0, full, bare, 0)
    assert used == 3 and rows.tolist() == [0, 1, 2, 0, 1]
    rows, used = tm.pack_rows(x0, full, bare, 2)
    assert used == 2
    room = tm.label_room(x0, rows, x0 + 12)
    # whatever shares a row, a label never reaches the next item in it
    for r in set(rows.tolist()):
        members = sorted(np.flatnonzero(rows == r).tolist(), key=lambda i: x0[i])
        for i, j in itertools.pairwise(members):
            assert x0[i] + 12 + room[i] < x0[j]


def test_hit_testing_finds_each_labelled_item(view):
    lay = view._src.layout
    assert lay.idx.size == len(view.model.data)  # demo scale: everything in detail
    checked = 0
    for k, g in enumerate(lay.idx.tolist()):
        if not lay.labels[k]:
            continue
        ref = view._ref(g)
        tip = view.tooltip_at(view.item_view_pos(ref))
        assert tip.split("\n")[0] == view.model.data.label[g], ref
        checked += 1
    assert checked >= len(view.model.data) * 0.8


def test_many_records_are_aggregated_per_pixel_column(qtbot, state, monkeypatch):
    from explorer.store import TimelineData

    n = 20_000
    lo, hi, amount, _colour, _ = _synthetic(n)
    rows = [
        (
            2,
            i + 1,
            int(lo[i]),
            int(hi[i]) if hi[i] > lo[i] else None,
            0,
            None if np.isnan(a) else a,
            -1,
            -1,
            f"Deal {i}",
        )
        for i, a in enumerate(amount.tolist())
    ]
    data = TimelineData.from_rows(rows)
    monkeypatch.setattr(state.store, "timeline", lambda *args, **kwargs: data)
    widget = TimelineView(state)
    qtbot.addWidget(widget)
    widget.resize(1400, 600)
    widget.show()
    qtbot.waitExposed(widget)
    widget.fit_all()
    lay = widget._src.layout
    assert [lane for lane, _bins in lay.bins] == [2]  # the deals lane, aggregated
    bins = lay.bins[0][1]
    assert bins.total == n
    assert lay.idx.size == 0
    widget.grab()  # paints without errors
    deals = widget._src.lanes[2]
    x = widget._src.layout.view_lo + (bins.column[int(np.argmax(bins.count))] + 0.5) * bins.bin_px / lay.ppd
    tip = widget.tooltip_at(widget._view_point(x, deals.centre))
    assert "records in Deals & MoUs" in tip and "Zoom in" in tip
    # zoomed in far enough, the same lane is drawn item by item again
    widget.set_view_range(5000, 5030)
    assert widget._src.layout.bins == [] and widget._src.layout.idx.size > 0
    assert tm.format_usd(68e9) == "US$68.0 bn"
    assert tm.format_usd(1.2e12) == "US$1.2 tn"
    assert tm.format_usd(float("nan")) == ""


def test_clearing_a_filter_shows_every_record_again_in_the_current_lanes(view, state):
    everything = (view.shown_refs(), view.lane_labels(), view.legend_entries())
    state.set_search_text("steel")
    assert 0 < len(view.shown_refs()) < len(everything[0])
    state.set_search_text("")
    assert (view.shown_refs(), view.lane_labels(), view.legend_entries()) == everything

    # lanes changed while filtered: clearing shows the new lanes, not the ones from before
    state.set_search_text("steel")
    view.set_lane_mode("sector")
    view.set_colour_mode("kind")
    state.set_search_text("")
    by_sector = (view.lane_labels(), view.legend_entries())
    view.set_lane_mode("kind")
    view.set_colour_mode("sector")
    view.set_lane_mode("sector")
    view.set_colour_mode("kind")
    assert (view.lane_labels(), view.legend_entries()) == by_sector
    assert len(by_sector[0]) > 2 and view.shown_refs() == everything[0]


def test_editing_a_record_moves_and_renames_it_without_reading_the_timeline_again(view, state, store, monkeypatch):
    earlier = _ref_titled(store, "5 trillion yen investment pledge (2022)")
    reads: list[int] = []
    real = store.timeline
    monkeypatch.setattr(store, "timeline", lambda *a, **k: reads.append(1) or real(*a, **k))
    record = store.get("pledge", earlier.record_id)
    changes = store.update(
        "pledge",
        earlier.record_id,
        {"title": "5 trillion yen pledge, renamed", "start_date": dt.date(2019, 3, 1), "date_precision": "month"},
        expected_version=record.version,
    )
    state.notify_changed(changes)
    assert reads == []  # patched in place
    g = view._index(earlier)
    assert g is not None and view.model.data.label[g] == "5 trillion yen pledge, renamed"
    assert view.model.data.start[g] == m.day_number(dt.date(2019, 3, 1))
    assert m.day_number(dt.date(2019, 2, 1)) < view.model.lo[g] <= m.day_number(dt.date(2019, 3, 1))  # moved from 2022
    pos = view.item_view_pos(earlier)
    assert pos is not None and view.tooltip_at(pos).split("\n")[0] == "5 trillion yen pledge, renamed"

    # a new record changes which rows there are: the timeline is read again
    changes = store.create(
        "pledge",
        {
            "title": "A new pledge",
            "start_date": dt.date(2024, 1, 1),
            "date_precision": "year",
            "pledger_id": record.pledger_id,
            "recipient_id": record.recipient_id,
        },
    )
    state.notify_changed(changes)
    assert reads and RecordRef("pledge", changes.changes[0].record_id) in view.shown_refs()


def test_the_legend_shows_sector_names_as_written_and_keeps_each_entry_whole(view, state, store):
    """Names are text, not markup ("R&D <core>" stays as typed), and an entry never wraps
    inside its name ("No sector" on two lines read as two entries)."""
    sector_id = next(s.id for s in store.sector_tree() if s.deal_count)  # a top-level sector with deals
    version = store.get("sector", sector_id).version
    changes = store.update("sector", sector_id, {"name": "R&D <core> labs"}, expected_version=version)
    state.notify_changed(changes)
    shown = view.legend_label.text()  # coloured by sector, the default
    assert "R&amp;D&nbsp;&lt;core&gt;&nbsp;labs" in shown
    assert "<core>" not in shown
    doc = QTextDocument()
    doc.setHtml(shown)
    assert "R&D <core> labs" in doc.toPlainText().replace("\xa0", " ")


def _order_in_time(view) -> list[RecordRef]:
    data = view.model.data
    order = sorted(range(len(data)), key=lambda g: (float(data.start[g]), g))
    return [view._ref(g) for g in order]


def test_the_timeline_can_be_driven_from_first_to_last_item_by_keys(qtbot, view, state):
    view.plot.setFocus()
    qtbot.keyClick(view.plot, Qt.Key.Key_Home)
    expected = _order_in_time(view)
    assert state.current == expected[0]
    visited = [state.current]
    for _ in range(len(expected) - 1):
        qtbot.keyClick(view.plot, Qt.Key.Key_Tab)
        visited.append(state.current)
        pos = view.item_view_pos(state.current)  # the view follows the keyboard
        assert pos is not None and view.plot.viewport().rect().adjusted(-2, -2, 2, 2).contains(pos)
    assert visited == expected
    assert view.plot.hasFocus()
    qtbot.keyClick(view.plot, Qt.Key.Key_Tab)  # past the last item Tab leaves the timeline
    assert state.current == expected[-1] and not view.plot.hasFocus()
    view.plot.setFocus()
    qtbot.keyClick(view.plot, Qt.Key.Key_Home)
    qtbot.keyClick(view.plot, Qt.Key.Key_End)
    assert state.current == expected[-1]
    qtbot.keyClick(view.plot, Qt.Key.Key_Backtab)
    assert state.current == expected[-2]


def test_arrows_move_within_a_lane_and_between_lanes(qtbot, view, state):
    view.plot.setFocus()
    qtbot.keyClick(view.plot, Qt.Key.Key_Home)
    lanes = view.model.arrangement.lanes
    first = view._index(state.current)
    lane = int(lanes.lane[first])
    qtbot.keyClick(view.plot, Qt.Key.Key_Right)
    second = view._index(state.current)
    assert int(lanes.lane[second]) == lane and view.model.data.start[second] >= view.model.data.start[first]
    qtbot.keyClick(view.plot, Qt.Key.Key_Left)
    assert view._index(state.current) == first
    qtbot.keyClick(view.plot, Qt.Key.Key_Down)
    below = view._index(state.current)
    assert int(lanes.lane[below]) > lane
    qtbot.keyClick(view.plot, Qt.Key.Key_Up)
    assert int(lanes.lane[view._index(state.current)]) == lane


def test_enter_asks_for_the_details_and_screen_readers_hear_the_item(qtbot, view, state):
    view.plot.setFocus()
    qtbot.keyClick(view.plot, Qt.Key.Key_End)
    title = state.store.get(state.current.record_type, state.current.record_id)
    name = getattr(title, "title", None) or getattr(title, "name", "")
    description = view.plot.accessibleDescription()
    assert name in description and any(ch.isdigit() for ch in description)  # name and date
    with qtbot.waitSignal(view.activated) as blocker:
        qtbot.keyClick(view.plot, Qt.Key.Key_Return)
    assert blocker.args == [state.current]
    assert view.plot.accessibleName() == "Timeline"
