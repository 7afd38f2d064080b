"""The timeline's model without Qt: what it packs, places, aggregates and finds is what the view
paints, so a failure here is a timeline that overlaps, hides or mislabels records."""

from __future__ import annotations

import itertools
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from explorer import timeline as tm
from explorer.store import TimelineData
from explorer.store.queries import PRECISION_CODE, TIMELINE_TYPES, TYPE_CODE
from explorer.timeline.model import MAX_ROWS_PER_LANE, LabelFonts, TimelineModel

ROOT = Path(__file__).resolve().parent.parent
CHAR_PX = 7.0  # every character of the fake font is this wide


class FakeMeasure:
    """A monospaced font: widths and elision without Qt."""

    def width(self, text: str) -> float:
        return CHAR_PX * len(text)

    def elide(self, text: str, max_px: float, keep: str = "") -> str:
        if self.width(text) <= max_px:
            return text
        chars = max(int(max_px // CHAR_PX) - 1, 0)
        return text[:chars] + "…"


FONTS = LabelFonts(FakeMeasure(), FakeMeasure(), above=6.0, box_height=13.0, line_height=16.0, small_line_height=14.0)


# --- a lane arrangement by kind, as timeline_lanes makes one (which needs QColor) ---------


@dataclass(frozen=True)
class _Lanes:
    lane: np.ndarray
    labels: list[str]
    order: list[np.ndarray]


@dataclass(frozen=True)
class _Colours:
    code: np.ndarray
    colours: list[str] = field(default_factory=lambda: ["red"])
    legend: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _Arrangement:
    data: TimelineData
    lanes: _Lanes
    colours: _Colours
    index: list[tm.LaneIndex]
    modes: tuple[str, str]

    def fits(self, data: TimelineData, groupings: object, lane_mode: str, colour_mode: str) -> bool:
        return self.data is data and self.modes == (lane_mode, colour_mode)


def _arrange(data, lo, hi, lane_mode, colour_mode, groupings, reuse=None) -> _Arrangement:
    lane = data.record_type.astype(np.int16)
    order = []
    for k in range(len(TIMELINE_TYPES)):
        members = np.flatnonzero(lane == k)
        order.append(members[np.argsort(lo[members], kind="stable")])
    code = np.zeros(len(data), dtype=np.int16)
    index = [tm.LaneIndex(lo[g], hi[g], data.amount_usd[g], code[g]) for g in order]
    return _Arrangement(
        data, _Lanes(lane, list(TIMELINE_TYPES), order), _Colours(code), index, (lane_mode, colour_mode)
    )


def _records(n: int, seed: int = 3, span_days: float = 3000.0) -> TimelineData:
    """``n`` records of every kind, some periods, some with amounts, some of month precision."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        kind = int(rng.integers(0, len(TIMELINE_TYPES)))
        start = float(np.floor(rng.uniform(15000, 15000 + span_days)))
        end = start + float(rng.choice([0, 0, 30, 400]))
        precision = PRECISION_CODE["month"] if i % 5 == 0 else PRECISION_CODE["day"]
        amount = float(rng.choice([np.nan, 2e8, 5e9]))
        rows.append((kind, 1000 + i, start, end, precision, amount, -1, -1, f"Record {i} of kind {kind}"))
    return TimelineData.from_rows(rows)


def _model(data: TimelineData, qualifiers=None) -> TimelineModel:
    model = TimelineModel(_arrange, None, FONTS, qualifiers or (lambda _name, _ids: {}))
    model.set_full(data)
    model.set_data(data, model.full_derived())
    return model


def _laid_out(model: TimelineModel, a: float, b: float, width: float = 1000.0, height: float = 500.0) -> tm.Layout:
    model.compute_lane_rows(width, height)
    return model.lay_out(a, b, width, height)


@dataclass(frozen=True)
class Ref:
    record_type: str
    record_id: int


# --- the module ---------------------------------------------------------------------------


def test_the_timeline_model_imports_no_qt() -> None:
    code = (
        "import sys; import explorer.timeline, explorer.timeline.model; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6')))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- row packing --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_packing_never_overlaps_two_items_in_a_row(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x0 = rng.uniform(0, 2000, 300)
    bare = x0 + rng.uniform(10, 60, 300)
    full = bare + rng.uniform(0, 200, 300)
    rows, used = tm.pack_rows(x0, full, bare, 0, gap=6.0)
    assert used == len(set(rows.tolist()))
    for r in range(used):
        mine = np.flatnonzero(rows == r)
        by_start = mine[np.argsort(x0[mine])]
        for p, q in itertools.pairwise(by_start.tolist()):
            assert full[p] + 6.0 <= x0[q], f"items {p} and {q} overlap in row {r}"


def test_packing_within_a_row_cap_keeps_bare_marks_apart_while_rows_allow() -> None:
    x0 = np.arange(0.0, 200.0, 20.0)  # marks 12 px wide, 20 px apart, labels 100 px long
    rows, used = tm.pack_rows(x0, x0 + 112.0, x0 + 12.0, 2)
    assert used == 2
    for r in (0, 1):
        mine = np.sort(x0[rows == r])
        assert np.all(np.diff(mine) >= 12.0 + 6.0)


def test_every_lane_gets_the_rows_its_items_need_within_the_cap() -> None:
    model = _model(_records(120))
    total = model.compute_lane_rows(1000.0, 2000.0)
    assert total == sum(lane.rows for lane in model.lanes)
    assert all(1 <= lane.rows <= MAX_ROWS_PER_LANE for lane in model.lanes)
    tops = [lane.top for lane in model.lanes]
    assert tops == sorted(tops) and all(a.bottom == b.top for a, b in itertools.pairwise(model.lanes))


# --- level of detail ----------------------------------------------------------------------


@pytest.mark.parametrize("width", [300.0, 1000.0, 1777.0])
def test_aggregates_count_every_item_in_view_once(width: float) -> None:
    data = _records(5000, seed=9, span_days=20000)
    model = _model(data)
    a, b = 16000.0, 30000.0
    for k, index in enumerate(model.arrangement.index):
        lod = index.level_of_detail(a, b, width, detail_limit=10)
        in_view = np.flatnonzero((index.lo <= b) & (index.hi >= a))
        assert lod.in_view == in_view.size, k
        assert lod.bins is not None and lod.bins.total == in_view.size
        plain = tm.aggregate(
            index.lo[in_view],
            data.amount_usd[model.arrangement.lanes.order[k][in_view]],
            index.colour[in_view],
            a,
            b,
            width,
        )
        assert np.array_equal(lod.bins.column, plain.column) and np.array_equal(lod.bins.count, plain.count)
        assert np.allclose(lod.bins.usd, plain.usd)


def test_a_zoomed_in_view_shows_each_item_in_it_and_no_other() -> None:
    data = _records(200)
    model = _model(data)
    a, b = 15500.0, 16500.0
    lay = _laid_out(model, a, b)
    assert not lay.bins
    expected = np.flatnonzero((model.lo <= b) & (model.hi >= a))
    assert sorted(lay.idx.tolist()) == expected.tolist()


# --- labels -------------------------------------------------------------------------------


def _boxes(model: TimelineModel, lay: tm.Layout) -> list[tuple[float, float, float, float, str]]:
    y_px = lay.y_px(lay.y)
    boxes = [
        (float(lay.label_x[k]), float(y_px[k]) - FONTS.above, FONTS.label.width(t), FONTS.box_height, t)
        for k, t in enumerate(lay.labels)
        if t
    ]
    return boxes + list(lay.tags) + list(lay.chips)


def _overlap(p, q) -> bool:
    return p[0] < q[0] + q[2] and q[0] < p[0] + p[2] and p[1] < q[1] + q[3] and q[1] < p[1] + p[3]


@pytest.mark.parametrize("view", [(15000.0, 15400.0), (15000.0, 16000.0), (15000.0, 18000.0)])
def test_no_two_labels_overlap(view: tuple[float, float]) -> None:
    data = _records(150)
    model = _model(data)
    selected = [Ref(*model.ref_of(g)) for g in (3, 40, 77)]
    model.map_selection(selected, [(selected[0], selected[1], "announced at"), (selected[0], selected[2], "under it")])
    lay = _laid_out(model, *view)
    boxes = _boxes(model, lay)
    assert len(boxes) >= 5, "a zoomed-in view names some of its items"
    for p, q in itertools.combinations(boxes, 2):
        assert not _overlap(p, q), f"{p[-1]!r} overlaps {q[-1]!r}"


def test_a_label_is_its_records_title_with_the_amount_or_a_shortening_of_it() -> None:
    model = _model(_records(60))
    lay = _laid_out(model, 15000.0, 16000.0)
    named = [(int(g), t) for g, t in zip(lay.idx.tolist(), lay.labels, strict=True) if t]
    assert named
    for g, text in named:
        full = model.label_text(g)
        assert full.startswith(str(model.data.label[g]))
        assert text == full or (text.endswith("…") and full.startswith(text[:-1]))


def test_same_titles_get_what_tells_them_apart() -> None:
    rows = [(2, 1, 16000.0, 16000.0, 0, np.nan, -1, -1, "Plant"), (2, 2, 16100.0, 16100.0, 0, np.nan, -1, -1, "Plant")]
    asked: list[tuple[str, list[int]]] = []

    def qualifiers(name: str, ids: list[int]) -> dict[int, str]:
        asked.append((name, ids))
        return {1: "Gujarat"}

    model = _model(TimelineData.from_rows(rows), qualifiers)
    lay = _laid_out(model, 15900.0, 16300.0)
    assert asked == [("deal", [1, 2])]
    assert sorted(t for t in lay.labels if t) == [
        "Plant · 2014",
        "Plant · Gujarat",
    ]  # no place: its year (day 16100 is in 2014)


# --- hit-testing and references -----------------------------------------------------------


def test_hit_test_returns_the_item_under_its_mark() -> None:
    data = _records(80)
    model = _model(data)
    lay = _laid_out(model, 15000.0, 18000.0)
    assert lay.idx.size == len(data)
    found = 0
    for g in lay.idx.tolist():
        day, y = model.item_point(g)
        hit, agg = model.hit(day, y)
        assert agg is None
        # items overlapping on one spot: the one found is at least as near to the point
        if hit == g:
            found += 1
        else:
            assert hit is not None and abs(model.item_point(hit)[1] - y) <= 0.5
    assert found >= 0.9 * lay.idx.size


def test_hit_test_on_empty_space_and_on_aggregates() -> None:
    data = _records(4000, span_days=400)
    model = _model(data)
    lay = _laid_out(model, 14000.0, 16000.0, width=400.0)
    assert lay.bins, "four thousand records in 400 px aggregate"
    assert model.hit(14001.0, 0.5) == (None, None)  # years before any record
    lane_no, bins = lay.bins[0]
    lane = model.lanes[lane_no]
    day = lay.to_day(float(bins.column[0] * bins.bin_px))
    item, agg = model.hit(day, lane.centre)
    assert item is None and agg is not None and agg[0] == lane_no and agg[1] >= int(bins.count[0])
    assert f"{agg[1]:,} records in {lane.label}" in model.bins_text(*agg)


def test_records_are_found_by_reference_and_filtered_by_id() -> None:
    data = _records(300)
    model = _model(data)
    for g in (0, 17, 299):
        assert model.index_of(Ref(*model.ref_of(g))) == g
    assert model.index_of(Ref("deal", 10**9)) is None and model.index_of(Ref("person", 1000)) is None
    deals = data.record_id[data.record_type == TYPE_CODE["deal"]][::3]
    sub, derived = model.subset({"deal": deals})
    assert sorted(sub.record_id.tolist()) == sorted(deals.tolist())
    model.set_data(sub, derived)
    assert all(TIMELINE_TYPES[int(t)] == "deal" for t in model.data.record_type)
    assert np.array_equal(model.lo, tm.uncertainty_extents(sub.start, sub.end, sub.precision).lo)


def test_the_date_range_passes_what_overlaps_it() -> None:
    data = _records(300)
    model = _model(data)
    model.update_passes(15500, 16000)
    assert np.array_equal(model.passes, (data.start <= 16000) & (data.end >= 15500))
    assert 0 < np.count_nonzero(model.passes) < len(data)


# --- keyboard order -----------------------------------------------------------------------


def test_tab_order_visits_every_shown_item_once_in_time_order() -> None:
    data = _records(120)
    model = _model(data)
    model.update_passes(15500, None)
    seen, g = [], model.first_or_last(True)
    while g is not None:
        seen.append(g)
        g = model.step_in_time(g, forward=True)
    assert sorted(seen) == np.flatnonzero(model.passes).tolist()
    starts = data.start[seen]
    assert np.all(np.diff(starts) >= 0)


def test_moving_down_a_lane_lands_on_the_nearest_item_of_the_next_lane() -> None:
    data = _records(120)
    model = _model(data)
    lanes = model.arrangement.lanes
    g = int(lanes.order[0][len(lanes.order[0]) // 2])
    below = model.step_between_lanes(g, down=True)
    assert below is not None and int(lanes.lane[below]) == 1
    nearest = np.min(np.abs(data.start[lanes.order[1]] - data.start[g]))
    assert abs(data.start[below] - data.start[g]) == nearest


# --- patching edits in place --------------------------------------------------------------


def test_a_patched_edit_moves_the_record_and_keeps_the_others() -> None:
    data = _records(50)
    model = _model(data)
    g = 7
    rtype, rid = model.ref_of(g)
    before = model.full.start.copy()
    edited = TimelineData.from_rows([(TYPE_CODE[rtype], rid, 20000.0, 20000.0, 0, 1e9, -1, -1, "Moved")])
    assert model.patch({rtype: [rid]}, {rtype: edited})
    assert model.full.start[g] == 20000.0 and model.full.label[g] == "Moved"
    assert model.full_derived()["lo"][g] == 20000.0
    others = np.arange(len(data)) != g
    assert np.array_equal(model.full.start[others], before[others])
    missing = TimelineData.from_rows([])
    assert not model.patch({rtype: [rid]}, {rtype: missing})  # it became undated: a reload is needed


@pytest.mark.parametrize("seed", [1, 2])
def test_a_filters_records_found_by_id_are_those_a_binary_search_finds(seed: int) -> None:
    """A filter's passing ids find the loaded records through each type's id → position array;
    the same records, in the same order, as looking every id up among the sorted keys, also for
    ids not loaded, negative or beyond the largest."""
    from explorer.timeline.model import BY_ID, subset

    model = _model(_records(3000, seed=seed))
    full, derived = model.snapshot
    assert any(name.startswith(BY_ID) for name in derived)
    searched = {name: column for name, column in derived.items() if not name.startswith(BY_ID)}
    rng = np.random.default_rng(seed)
    for share in (0.001, 0.3):  # few (sorted positions) and many (marked in place)
        ids = {
            name: np.unique(rng.integers(-5, 4500, size=int(4500 * share) + 3)).astype(np.int64)
            for name in TIMELINE_TYPES
        }
        by_id, by_search = subset((full, derived), ids), subset((full, searched), ids)
        assert len(by_id[0]) > 0
        assert np.array_equal(by_id[0].record_id, by_search[0].record_id)
        assert np.array_equal(by_id[0].record_type, by_search[0].record_type)
        assert by_id[1].keys() == by_search[1].keys()
