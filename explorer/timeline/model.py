"""The timeline's model, without Qt: the loaded records and what is worked out from them.

It holds the dated records as loaded and the subset the filters (date range aside) pass, each
record's drawn extent, which pass the date range, their lanes and colours, and the rows each
lane gets; for a view range it lays out what is drawn (the level of detail per lane, row
packing, every label placed so none overlaps another) and answers which item is at a point and
which comes next by keyboard. The view (explorer.views.timeline) paints that, takes input and
talks to AppState; text widths and lane arrangements come in from it, so nothing here imports
Qt. Day numbers are float days since 1970-01-01.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from explorer import models as m
from explorer.store import Filters, TimelineData
from explorer.store.queries import TIMELINE_TYPES, TYPE_CODE
from explorer.timeline import keys as nav
from explorer.timeline.labels import (
    arrow_control,
    candidate_rects,
    distinguishing_tails,
    format_usd,
    label_priority,
    label_room,
    pack_rows,
    place_labels,
)
from explorer.timeline.lod import (
    P_DAY,
    VIEW_DETAIL_LIMIT,
    Bins,
    LaneIndex,
    LaneLOD,
    crowding_limit,
    uncertainty_extents,
)

MIN_DAY = float((np.datetime64("1950-01-01") - np.datetime64("1970-01-01")).astype(int))
MAX_DAY = float((np.datetime64("2060-12-31") - np.datetime64("1970-01-01")).astype(int))
MIN_SPAN_DAYS = 3.0
REVEAL_MIN_SPAN_DAYS = 120.0  # a picked item is shown with about four months around it
MIN_ROW_PX = 15.0
MAX_ROWS_PER_LANE = 16
TOP_PAD = 0.35  # rows of air above the first lane, for highlight outlines
LABEL_MAX_PX = 300.0
LABEL_MIN_PX = 80.0  # a label shortened below this (× the UI scale) says nothing ("Pled…"): dropped instead
# Presentation mode shows fewer labels, each readable from the back: one cut below this share of
# its length is dropped instead (the selection keeps its whole name on a pill).
PRESENTATION_MIN_SHARE = 0.6
LABEL_GAP_PX = 4.0  # air after a label before the next one may start
ARROW_CHIP_PRIORITY = 5e5  # relation chips: after the selection's own names, before any other label
KEY_BITS = 40
# Lanes with more items than this take three rows without packing them (they aggregate anyway).
PACK_AT_MOST = 1500
DERIVED_KEYS = ("keys", "keys_order", "keys_sorted")  # of the full load only: a subset has its own
BY_ID = "position_by_id_"  # + a type code: of the full load only, each id's position (-1: none)


def today_day() -> int:
    """Today's day number (the local date, as the calendar on the wall says)."""
    return (dt.date.today() - dt.date(1970, 1, 1)).days


def _positions(rows: np.ndarray) -> np.ndarray:
    """Row positions in the narrowest integer type that holds them (as timeline_lanes.positions):
    a million-record timeline keeps several such arrays, and int32 halves them."""
    return rows.astype(np.int32) if rows.size < 2**31 - 1 else rows


def record_keys(data: TimelineData) -> np.ndarray:
    """(type, id) of each record as one sortable int64: looked up with a binary search."""
    return data.record_type.astype(np.int64) << KEY_BITS | data.record_id


Derived = dict[str, np.ndarray]
Snapshot = tuple[TimelineData, Derived]


def positions_by_id(keys_sorted: np.ndarray, keys_order: np.ndarray) -> Derived:
    """Per record type, an array from id to position (-1 for ids not loaded), so a filter's
    passing ids find their records by a gather; read off the sorted (type, id) keys, where each
    type's ids are one sorted run (1.8 ms at 1e6; masking each type took 25 ms of the load).
    Left out for a type whose ids are too sparse for an array that long to pay."""
    out: Derived = {}
    codes = np.arange(max(TYPE_CODE.values()) + 2, dtype=np.int64)
    bounds = np.searchsorted(keys_sorted, codes << KEY_BITS).tolist()
    for code, lo, hi in zip(codes.tolist(), bounds, bounds[1:], strict=False):
        if hi <= lo:
            continue
        ids = keys_sorted[lo:hi] & ((1 << KEY_BITS) - 1)
        if ids[0] < 0 or ids[-1] > 8 * ids.size + 4096:  # ≤ 32 bytes a record
            continue
        by_id = np.full(int(ids[-1]) + 1, -1, dtype=keys_order.dtype)
        by_id[ids] = keys_order[lo:hi]
        out[BY_ID + str(code)] = by_id
    return out


def _positions_of(keys_sorted: np.ndarray, keys_order: np.ndarray, name: str, ids: np.ndarray) -> np.ndarray | None:
    """The positions of records of type ``name`` with ``ids`` among records keyed by
    ``keys_sorted``/``keys_order``, or None when one of them is not there."""
    if keys_sorted.size == 0:
        return None if ids.size else ids.astype(np.int64)
    want = TYPE_CODE[name] << KEY_BITS | ids
    pos = np.searchsorted(keys_sorted, want)
    if np.any(pos >= keys_sorted.size) or np.any(keys_sorted[np.minimum(pos, keys_sorted.size - 1)] != want):
        return None
    found: np.ndarray = keys_order[pos]
    return found


PLACING_COLUMNS = ("start", "end", "precision", "sector_id", "country_id")  # a record's lane and row


def _moves(data: TimelineData, at: np.ndarray, rows: TimelineData) -> bool:
    """Whether the re-read ``rows`` put the records at ``at`` in another place (a date, sector or
    country changed: they may change lanes or rows)."""
    return any(
        not np.array_equal(getattr(data, column)[at], getattr(rows, column), equal_nan=True)
        for column in PLACING_COLUMNS
    )


def derive(data: TimelineData) -> Derived:
    """Per-record geometry: drawn extent, certain part, anchor day, span thickness, and keys."""
    ext = uncertainty_extents(data.start, data.end, data.precision)
    is_period = data.end > data.start
    is_event = data.record_type == TYPE_CODE["event"]
    is_span = is_period & ~is_event
    crisp_mid = np.where(is_event, (data.start + data.end) / 2.0, data.start)
    anchor = np.where(is_span, ext.lo, np.where(data.precision == P_DAY, crisp_mid, ext.centre))
    amount = data.amount_usd
    with np.errstate(invalid="ignore", divide="ignore"):
        thick = np.clip((np.log10(np.where(amount > 0, amount, np.nan)) - 8.0) / 3.5, 0.0, 1.0)
    return {
        "lo": ext.lo,
        "hi": ext.hi,
        "core_lo": ext.core_lo,
        "core_hi": ext.core_hi,
        "is_period": is_period,
        "is_span": is_span,
        "anchor": anchor,
        "thickness": np.nan_to_num(thick, nan=0.0).astype(np.float32),
        "keys": record_keys(data),
    }


def subset(snapshot: Snapshot, ids: dict[str, np.ndarray]) -> tuple[TimelineData, Derived]:
    """The records of ``snapshot`` (loaded columns, their geometry) whose ids pass, per type.

    The (few) passing ids are looked up among the loaded records' sorted keys, rather than every
    loaded record among the passing ids: the cost follows the result, not the load."""
    full, full_derived = snapshot
    sorted_keys, order = full_derived["keys_sorted"], full_derived["keys_order"]
    found = []
    for name, passing in ids.items():
        if passing.size == 0:
            continue
        by_id = full_derived.get(BY_ID + str(TYPE_CODE[name]))
        if by_id is not None:  # a gather, not a binary search: 6.6 → 0.9 ms for 130,000 of 1e6
            known = passing[(passing >= 0) & (passing < by_id.size)]
            pos = by_id[known]
            found.append(pos[pos >= 0].astype(np.int64))
            continue
        want = (np.int64(TYPE_CODE[name]) << KEY_BITS) | passing
        pos = np.minimum(np.searchsorted(sorted_keys, want), max(sorted_keys.size - 1, 0))
        found.append(order[pos[sorted_keys[pos] == want]] if sorted_keys.size else pos[:0])
    if not found:
        rows = np.zeros(0, dtype=np.int64)
    elif sum(f.size for f in found) * 32 > len(full):  # many: marked in place, not sorted
        hit = np.zeros(len(full), dtype=bool)
        for positions in found:
            hit[positions] = True
        rows = np.flatnonzero(hit)
    else:
        rows = np.sort(np.concatenate(found))
    derived = {
        name: column[rows]
        for name, column in full_derived.items()
        if name not in DERIVED_KEYS and not name.startswith(BY_ID)
    }
    return full.take(rows), derived


# --- what the model is given ----------------------------------------------------------------


if TYPE_CHECKING:  # what the model is given, as the view's types look: no cost at run time

    class TextMeasure(Protocol):
        """Widths of text in one font, and text shortened to a width (the view's TextWidths)."""

        def width(self, text: str) -> float: ...

        def elide(self, text: str, max_px: float, keep: str = "") -> str: ...

    class RefLike(Protocol):
        """A record reference (explorer.state.RecordRef): the model does not import the state."""

        @property
        def record_type(self) -> str: ...

        @property
        def record_id(self) -> int: ...

    class LanesLike(Protocol):
        @property
        def lane(self) -> np.ndarray: ...  # lane per record

        @property
        def labels(self) -> list[str]: ...

        @property
        def order(self) -> list[np.ndarray]: ...  # per lane: its records' positions, by start

    class ColoursLike(Protocol):
        @property
        def code(self) -> np.ndarray: ...  # colour per record, an index into ``colours``

        @property
        def colours(self) -> list[Any]: ...  # the view's colours (QColor): the model only passes them on

        @property
        def legend(self) -> list[tuple[str, Any]]: ...  # the colours records use, with their names

    class ArrangementLike(Protocol):
        """Lanes and colours of one set of records (explorer.views.timeline_lanes.Arrangement)."""

        @property
        def data(self) -> TimelineData: ...

        @property
        def lanes(self) -> LanesLike: ...

        @property
        def colours(self) -> ColoursLike: ...

        @property
        def index(self) -> list[LaneIndex]: ...

        def fits(self, data: TimelineData, groupings: Any, lane_mode: str, colour_mode: str, /) -> bool: ...

    # explorer.views.timeline_lanes.arrange(data, lo, hi, lane_mode, colour_mode, groupings, reuse=None):
    # lanes and colours of records for a pair of modes (its groupings and colours are the view's).
    Arrange = Callable[..., ArrangementLike]
    # What the background job of new filters takes along: (snapshot it was taken from, filters,
    # the subset, its geometry, its arrangement).
    ScopeSubset = tuple[Snapshot, Filters, TimelineData, Derived, ArrangementLike]


@dataclass(frozen=True)
class LabelFonts:
    """What laying out labels needs to know of the fonts, measured by the view."""

    label: TextMeasure  # row labels and name pills
    small: TextMeasure  # the arrows' relation chips
    above: float  # how far a row label's glyph box reaches above its row's centre
    box_height: float  # and its height
    line_height: float  # a line of the label font (name pills)
    small_line_height: float  # a line of the small font (relation chips)
    scale: float = 1.0  # the UI scale (presentation mode, Ctrl +/−)


# --- what the model works out ---------------------------------------------------------------


@dataclass
class LaneGeometry:
    top: float  # in rows (y data units; y grows downwards)
    rows: int
    label: str

    @property
    def bottom(self) -> float:
        return self.top + self.rows

    @property
    def centre(self) -> float:
        return self.top + self.rows / 2.0


@dataclass
class Layout:
    """Everything drawn for one view range, in a pixel frame whose x=0 is the view's left edge."""

    view_lo: float = 0.0
    view_hi: float = 1.0
    width_px: float = 1.0
    ppd: float = 1.0  # pixels per day
    # detail items (global indices into the widget's data) and their geometry
    idx: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    y: np.ndarray = field(default_factory=lambda: np.zeros(0))  # row centre (data y)
    x0: np.ndarray = field(default_factory=lambda: np.zeros(0))  # extent start px
    x1: np.ndarray = field(default_factory=lambda: np.zeros(0))  # extent end px
    c0: np.ndarray = field(default_factory=lambda: np.zeros(0))  # core start px
    c1: np.ndarray = field(default_factory=lambda: np.zeros(0))  # core end px
    mx: np.ndarray = field(default_factory=lambda: np.zeros(0))  # marker/anchor px
    label_x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    label_end: np.ndarray = field(default_factory=lambda: np.zeros(0))
    labels: list[str] = field(default_factory=list)  # "" when not shown
    # the label pixel frame: x as above, y = (row y - y_origin) * row_px from the plot's top
    row_px: float = 1.0
    y_origin: float = 0.0
    # placed beside the row labels, never over them: name pills of highlighted items whose row
    # label would be cut, and the relation chips of the selection's arrows (x, y, w, h, text)
    tags: list[tuple[float, float, float, float, str]] = field(default_factory=list)
    chips: list[tuple[float, float, float, float, str]] = field(default_factory=list)
    # aggregated lanes: (lane index, bins)
    bins: list[tuple[int, Bins]] = field(default_factory=list)

    def to_px(self, day: float | np.ndarray):
        return (np.asarray(day, dtype=np.float64) - self.view_lo) * self.ppd

    def to_day(self, px: float) -> float:
        return self.view_lo + px / self.ppd

    def y_px(self, y: float | np.ndarray):
        """Row y (data units) in the label pixel frame."""
        return (np.asarray(y, dtype=np.float64) - self.y_origin) * self.row_px


class TimelineModel:
    """The timeline's records and everything worked out from them, for a view that paints them.

    ``arrange`` sorts records into lanes and colours (explorer.views.timeline_lanes.arrange),
    ``fonts`` measures labels, ``qualifiers(type, ids)`` reads what tells same-titled records
    apart (place or company) from the store.
    """

    def __init__(
        self,
        arrange: Arrange,
        groupings: Any,
        fonts: LabelFonts,
        qualifiers: Callable[[str, list[int]], dict[int, str]],
    ) -> None:
        self._arrange_with = arrange
        self._qualifiers = qualifiers
        self.fonts = fonts
        self.groupings = groupings  # sectors and countries records are grouped by: replaced on reload
        self.lane_mode = "kind"
        self.colour_mode = "sector"
        self.full = TimelineData.empty()  # every dated record, as loaded
        # The store revision ``full`` reflects: what is worked out from the records (geometry,
        # arrangements, labels) belongs to it, and an event it already holds needs no reload.
        self.revision = -1
        self.data = TimelineData.empty()  # what passes the filters (date range aside)
        self.data_filters: Filters | None = None  # the filters ``data`` passes
        # (loaded records, their geometry) as one object: swapped, never edited, so the
        # background job of new filters can take its subset from it (subset_for_scope)
        self.snapshot: Snapshot | None = None
        self.presenting = False  # presentation mode: fewer labels, each whole
        self.lanes: list[LaneGeometry] = []
        self.layout = Layout()
        self.highlight = np.zeros(0, dtype=np.int64)  # indices of the highlighted records
        self.arrows: list[tuple[int, int, str]] = []  # (source index, target index, relation)
        self._use(derive(self.data))
        # lanes and colours of what is shown: what the lane axis, the legend and every frame read
        self.arrangement: ArrangementLike = arrange(
            self.data, self.lo, self.hi, self.lane_mode, self.colour_mode, self.groupings
        )
        self.full_arrangement: ArrangementLike | None = None  # of every loaded record, while a filter shows fewer

    # --- records and filters ----------------------------------------------------------------

    def _use(self, d: Derived) -> None:
        self.lo, self.hi, self.core_lo, self.core_hi = d["lo"], d["hi"], d["core_lo"], d["core_hi"]
        self.is_period, self.is_span, self.anchor_day = d["is_period"], d["is_span"], d["anchor"]
        self.thickness = d["thickness"]
        self.passes = np.ones(len(self.data), dtype=bool)
        self.label_cache: dict[int, str] = {}
        self.qualifier: dict[int, str] = {}  # place or company of items whose title another shares
        self.reset_label_widths()
        if "keys_sorted" in d:
            self.keys_order, self.keys_sorted = d["keys_order"], d["keys_sorted"]
        else:
            keys = d["keys"] if "keys" in d else record_keys(self.data)
            self.keys_order = _positions(np.argsort(keys, kind="stable"))
            self.keys_sorted = keys[self.keys_order]

    def set_full(self, full: TimelineData | None, revision: int = -1) -> None:
        """A new load of every dated record (read at ``revision``): the filters are applied to it afresh."""
        self.full_arrangement = None  # of the previous load
        self.full = TimelineData.empty() if full is None else full
        self.revision = revision
        self.data_filters = None

    def full_derived(self) -> Derived:
        """Per-record geometry of every loaded record, worked out once per load: a filter takes
        its rows from it, and clearing the filter reuses it (seconds' worth of date arithmetic
        at a million records otherwise)."""
        if self.snapshot is None or self.snapshot[0] is not self.full:
            derived = derive(self.full)
            keys = derived.pop("keys")  # only the sorted copy is kept: 7 MB a million
            derived["keys_order"] = order = _positions(np.argsort(keys, kind="stable"))
            derived["keys_sorted"] = keys[order]
            derived.update(positions_by_id(derived["keys_sorted"], order))
            self.snapshot = (self.full, derived)
        return self.snapshot[1]

    def subset(self, ids: dict[str, np.ndarray]) -> tuple[TimelineData, Derived]:
        """The loaded records whose ids pass (per type), with their geometry."""
        self.full_derived()
        assert self.snapshot is not None
        return subset(self.snapshot, ids)

    def subset_for_scope(self, filters: Filters, ids: dict[str, np.ndarray] | None) -> ScopeSubset | None:
        """On a background thread, for new filters (their date range aside) and the ids passing
        them: (snapshot, filters, data, derived, arrangement). Reads only the snapshot, which
        the GUI thread replaces and never edits, so a result from a stale one is simply not used."""
        snapshot, groupings, modes = self.snapshot, self.groupings, (self.lane_mode, self.colour_mode)
        if snapshot is None or ids is None:
            return None
        data, derived = subset(snapshot, ids)
        # a mode or grouping changed meanwhile: the GUI thread sees it does not fit and redoes it
        arranged = self._arrange_with(data, derived["lo"], derived["hi"], *modes, groupings)
        return snapshot, filters, data, derived, arranged

    def prepared(
        self, found: ScopeSubset | None, filters: Filters
    ) -> tuple[TimelineData, Derived, ArrangementLike] | None:
        """The subset (and its arrangement) ``subset_for_scope`` returned for these filters, if it
        was taken from the records as they are now."""
        if found is None or found[0] is not self.snapshot or found[1] != filters:
            return None
        return found[2], found[3], found[4]

    def set_data(
        self,
        data: TimelineData,
        derived: Derived | None = None,
        arranged: ArrangementLike | None = None,
        date_range: tuple[float | None, float | None] = (None, None),
    ) -> None:
        """Show ``data`` (with its geometry and arrangement when known), ``date_range`` passing."""
        self.data = data
        self._use(derived if derived is not None else derive(data))
        self.update_passes(*date_range)
        # Every loaded record's arrangement is kept while a filter shows a subset, so clearing
        # the filter does not sort a million records into lanes again.
        modes = (self.lane_mode, self.colour_mode)
        for candidate in (arranged, self.full_arrangement):
            if candidate is not None and candidate.fits(data, self.groupings, *modes):
                self.arrange(candidate)
                break
        else:
            self.arrange()

    def arrange(self, arranged: ArrangementLike | None = None) -> None:
        """Put the records in ``arranged`` lanes and colours (worked out now when not given,
        keeping what the current arrangement has for the same records)."""
        if arranged is None:
            arranged = self._arrange_with(
                self.data,
                self.lo,
                self.hi,
                self.lane_mode,
                self.colour_mode,
                self.groupings,
                reuse=self.arrangement,
            )
        self.arrangement = arranged
        if arranged.data is self.full:
            self.full_arrangement = arranged

    def update_passes(self, start_day: float | None, end_day: float | None) -> None:
        passes = np.ones(len(self.data), dtype=bool)
        # Same rule as the store's date filter: [start, end] overlaps [start_day, end_day].
        if end_day is not None:
            passes &= self.data.start <= end_day
        if start_day is not None:
            passes &= self.data.end >= start_day
        self.passes = passes

    def patch(self, by_type: dict[str, list[int]], fresh: dict[str, TimelineData], revision: int = -1) -> bool:
        """Write the re-read rows ``fresh`` of edited records (ids ``by_type``) into the loaded
        columns in place. False (nothing kept) when one came or went: a reload is needed.
        The filters are to be applied again after it."""
        derived = self.full_derived()
        sorted_keys, order = derived["keys_sorted"], derived["keys_order"]
        moved = False  # a date, sector or country changed: records may change lanes or rows
        for name, rows in fresh.items():
            if len(rows) != len(set(by_type[name])):
                return False  # a record became undated (or dated): its row comes or goes
            at = _positions_of(sorted_keys, order, name, rows.record_id)
            if at is None:
                return False
            moved = moved or _moves(self.full, at, rows)
            for column in ("start", "end", "precision", "amount_usd", "sector_id", "country_id", "label"):
                getattr(self.full, column)[at] = getattr(rows, column)
            for column, values in derive(rows).items():
                if column in derived:  # keys (type, id) do not change
                    derived[column][at] = values
        if moved:  # a new title or amount leaves every record in its lane, row and colour
            self.full_arrangement = None
        self.snapshot = (self.full, derived)  # a subset taken from the old one is not used
        self.data_filters = None
        self.revision = max(self.revision, revision)
        return True

    def patch_shown(self, fresh: dict[str, TimelineData]) -> bool:
        """Write the re-read rows ``fresh`` into the filtered records shown too, when each edit
        leaves its record in its lane and row (a new title or amount): a write under a filter
        whose passing records it cannot change (explorer.store.filtering.passing_unchanged) is
        shown without the passing ids read again (160 ms of SQL at a million records, on the
        GUI thread). False, nothing written, when one moved or is not shown: filter again."""
        if self.data is self.full:
            return False
        at_of: dict[str, np.ndarray] = {}
        for name, rows in fresh.items():
            at = _positions_of(self.keys_sorted, self.keys_order, name, rows.record_id)
            if at is None or _moves(self.data, at, rows):
                return False
            at_of[name] = at
        for name, rows in fresh.items():
            at = at_of[name]
            self.data.amount_usd[at] = rows.amount_usd
            self.data.label[at] = rows.label
            self.thickness[at] = derive(rows)["thickness"]
            self.label_w[at] = np.nan
            for g in at.tolist():
                self.label_cache.pop(g, None)
                self.qualifier.pop(g, None)
        self.elided.clear()
        return True

    # --- records by reference ---------------------------------------------------------------

    def ref_of(self, g: int) -> tuple[str, int]:
        """(record type, id) of item ``g``."""
        return TIMELINE_TYPES[int(self.data.record_type[g])], int(self.data.record_id[g])

    def index_of(self, ref: RefLike) -> int | None:
        """The item of a record shown (filtered in), or None."""
        code = TYPE_CODE.get(ref.record_type)
        if code is None or self.keys_sorted.size == 0:
            return None
        key = (code << KEY_BITS) | int(ref.record_id)
        pos = int(np.searchsorted(self.keys_sorted, key))
        if pos < self.keys_sorted.size and int(self.keys_sorted[pos]) == key:
            return int(self.keys_order[pos])
        return None

    def map_selection(self, highlight: Iterable[RefLike], arrows: Sequence[tuple[RefLike, RefLike, str]]) -> None:
        """The highlighted records and the selection's link arrows, as items shown."""
        idx = [self.index_of(r) for r in highlight]
        self.highlight = np.array(sorted(i for i in idx if i is not None), dtype=np.int64)
        self.arrows = []
        for a, b, rel in arrows:
            ia, ib = self.index_of(a), self.index_of(b)
            if ia is not None and ib is not None and ia != ib:
                self.arrows.append((ia, ib, rel))

    # --- lanes and rows ---------------------------------------------------------------------

    def full_extent(self) -> tuple[float, float]:
        """The days every record shown spans, with some air (five years to today's next when none)."""
        if len(self.data) == 0:
            today = float(today_day())
            return today - 365 * 5, today + 365
        lo, hi = float(self.lo.min()), float(self.hi.max())
        span = max(hi - lo, 30.0)
        return lo - span * 0.03, hi + span * 0.06

    def min_row_px(self) -> float:
        """Rows are never lower than a label's glyphs (large type in presentation mode gets fewer, taller rows)."""
        return max(MIN_ROW_PX, self.fonts.box_height + 2.0)

    def compute_lane_rows(self, width: float, height: float) -> float:
        """Rows per lane for a plot ``width`` × ``height`` pixels showing every record: as many as
        the items of a lane need when packed, within the rows the height has. Returns the rows
        of all lanes."""
        a, b = self.full_extent()
        needed, floors = [], []
        lanes_shown = self.arrangement.lanes
        for members in lanes_shown.order:
            if members.size == 0:
                needed.append(1)
                floors.append(1)
            elif members.size > PACK_AT_MOST:
                needed.append(3)
                floors.append(3)
            else:
                geo = self.item_geometry(members, a, b, width)
                # packed into at most the rows a lane may get: unbounded, a thousand items on
                # one spot would open a thousand rows, each tried by every later item
                _rows, used = pack_rows(geo["x0"], geo["full"], geo["bare"], MAX_ROWS_PER_LANE)
                _rows, bare_used = pack_rows(geo["x0"], geo["bare"], geo["bare"], MAX_ROWS_PER_LANE)
                needed.append(int(min(max(used, 1), MAX_ROWS_PER_LANE)))
                floors.append(int(min(max(bare_used, 1), needed[-1])))
        budget = max(len(needed), int(height // self.min_row_px()))
        # Give up label rows first (labels get shortened), then rows that keep same-day items apart.
        while sum(needed) > budget and max(needed) > 1:
            slack = [n - f for n, f in zip(needed, floors, strict=True)]
            k = int(np.argmax(slack)) if max(slack) > 0 else int(np.argmax(needed))
            needed[k] -= 1
        lanes, top = [], 0.0
        for label, rows in zip(lanes_shown.labels, needed, strict=True):
            lanes.append(LaneGeometry(top, rows, label))
            top += rows
        self.lanes = lanes
        return max(top, 1.0)

    def item_geometry(self, g: np.ndarray, a: float, b: float, width: float) -> dict[str, Any]:
        """Pixel geometry (x=0 at the view's left) of items ``g`` for the view [a, b]."""
        ppd = width / max(b - a, 1e-9)
        x0 = (self.lo[g] - a) * ppd
        x1 = (self.hi[g] - a) * ppd
        c0 = (self.core_lo[g] - a) * ppd
        c1 = (self.core_hi[g] - a) * ppd
        mx = (self.anchor_day[g] - a) * ppd
        period = self.is_span[g]
        r = 7.0
        # labels run up to LABEL_MAX_PX, or along their whole bar (shortened with an ellipsis beyond)
        cap = np.maximum(LABEL_MAX_PX, np.where(period, x1 - np.maximum(x0, 0.0) - 10.0, 0.0))
        tw = np.minimum(self.label_widths(g), cap)
        label_x = np.where(period, np.maximum(x0, 0.0) + 5.0, mx + r + 4.0)
        label_end = label_x + tw
        start = np.where(period, x0, np.minimum(x0, mx - r))
        bare = np.where(period, x1, np.maximum(x1, mx + r))
        full = np.maximum(bare, label_end)
        return {
            "g": g,
            "x0": start,
            "full": full,
            "bare": bare,
            "ex0": x0,
            "ex1": x1,
            "c0": c0,
            "c1": c1,
            "m": mx,
            "cap": cap,
            "label_x": label_x,
            "label_end": label_end,
            "ppd": ppd,
        }

    # --- label text -------------------------------------------------------------------------

    def set_fonts(self, fonts: LabelFonts) -> None:
        """New fonts (palette, UI scale): labels are measured again."""
        self.fonts = fonts
        self.reset_label_widths()

    def title_text(self, g: int) -> str:
        """The title, with the place or company when another record in view shares it."""
        title = str(self.data.label[g])
        qualifier = self.qualifier.get(g)
        return f"{title} · {qualifier}" if qualifier else title

    def label_text(self, g: int) -> str:
        """Title and, when known, the amount in USD (built on demand: only items in view need one)."""
        text = self.label_cache.get(g)
        if text is None:
            title, amount = self.title_text(g), float(self.data.amount_usd[g])
            text = f"{title} · {format_usd(amount)}" if np.isfinite(amount) else title
            self.label_cache[g] = text
        return text

    def reset_label_widths(self) -> None:
        self.label_w = np.full(len(self.data), np.nan, dtype=np.float32)  # full label px, NaN until needed
        self.elided: dict[tuple[int, int, str], str] = {}

    def label_widths(self, g: np.ndarray) -> np.ndarray:
        """Full label width in pixels of items ``g``, measured once per item (then a numpy gather)."""
        w = self.label_w[g]
        missing = np.isnan(w)
        if missing.any():
            for i in g[missing].tolist():
                self.label_w[i] = self.fonts.label.width(self.label_text(i))
            w = self.label_w[g]
        return w

    def shown_label(self, g: int, limit: float, keep: str = "") -> str:
        """The label of ``g`` shortened to ``limit`` pixels, keeping the words ``keep`` that tell
        it from a similar title in view (cached: a pan keeps most limits)."""
        if self.label_w[g] <= limit:
            return self.label_text(g)
        key = (g, int(limit), keep)
        text = self.elided.get(key)
        if text is None:
            if len(self.elided) > 20000:
                self.elided.clear()
            text = self.elided[key] = self.fonts.label.elide(self.label_text(g), float(key[1]), keep)
        return text

    def qualify_duplicates(self, g: np.ndarray) -> None:
        """Items among ``g`` whose title another of them has too get their place or company (their
        date's year when they have none) after the title, from then on. Only new duplicates ask
        the store: a frame of labels seen before costs one count of its titles."""
        if g.size < 2:
            return
        titles = self.data.label[g].tolist()
        counts = Counter(titles)
        if len(counts) == len(titles):
            return
        new = [
            int(i) for i, t in zip(g.tolist(), titles, strict=True) if counts[t] > 1 and int(i) not in self.qualifier
        ]
        if not new:
            return
        by_type: dict[str, list[int]] = {}
        for i in new:
            by_type.setdefault(TIMELINE_TYPES[int(self.data.record_type[i])], []).append(i)
        for name, items in by_type.items():
            found = self._qualifiers(name, [int(self.data.record_id[i]) for i in items])
            for i in items:
                year = str(m.day_to_date(int(self.data.start[i])).year)
                self.qualifier[i] = found.get(int(self.data.record_id[i]), year)
                self.label_cache.pop(i, None)
                self.label_w[i] = np.nan
        self.elided.clear()

    # --- layout for a view ------------------------------------------------------------------

    def lay_out(self, a: float, b: float, width: float, height: float) -> Layout:
        """Lay out what the view of days [a, b], ``width`` × ``height`` pixels, shows: per lane
        every item (packed into its rows) or per-column bins, and the labels placed."""
        lay = Layout(view_lo=a, view_hi=b, width_px=width, ppd=width / max(b - a, 1e-9))
        total = self.lanes[-1].bottom if self.lanes else 1.0
        lay.row_px, lay.y_origin = height / (max(total, 1.0) + TOP_PAD), -TOP_PAD
        keys = ("idx", "y", "x0", "x1", "c0", "c1", "mx", "lx", "room", "cap", "bare")
        parts: dict[str, list[Any]] = {k: [] for k in keys}
        index, order = self.arrangement.index, self.arrangement.lanes.order
        lods: dict[int, LaneLOD] = {}
        for k, lane in enumerate(self.lanes):
            if k < len(index) and len(index[k]):
                lods[k] = index[k].level_of_detail(a, b, width, starts_limit=crowding_limit(lane.rows, width))
        detailed = sorted((k for k, lod in lods.items() if lod.detail is not None), key=lambda k: -lods[k].in_view)
        shown = sum(lods[k].in_view for k in detailed)
        for k in detailed:  # the view's detail budget: the most crowded lanes aggregate first
            if shown <= VIEW_DETAIL_LIMIT:
                break
            shown -= lods[k].in_view
            lods[k] = LaneLOD(None, index[k].bins(a, b, width), lods[k].in_view)
        for k, lod in lods.items():
            lane = self.lanes[k]
            if lod.bins is not None:
                lay.bins.append((k, lod.bins))
                continue
            assert lod.detail is not None
            g = order[k][lod.detail]
            if g.size == 0:
                continue
            geo = self.item_geometry(g, a, b, width)
            rows, _used = pack_rows(geo["x0"], geo["full"], geo["bare"], lane.rows)
            # … and before the plot's right edge: a label cut there mid-word looks broken.
            room = np.minimum(label_room(geo["x0"], rows, geo["label_x"]), width - 4.0 - geo["label_x"])
            for key, values in (
                ("idx", g),
                ("y", lane.top + rows + 0.5),
                ("x0", geo["ex0"]),
                ("x1", geo["ex1"]),
                ("c0", geo["c0"]),
                ("c1", geo["c1"]),
                ("mx", geo["m"]),
                ("lx", geo["label_x"]),
                ("room", room),
                ("cap", geo["cap"]),
                ("bare", geo["bare"]),
            ):
                parts[key].append(values)
        room = cap = bare = np.zeros(0)
        if parts["idx"]:
            lay.idx = np.concatenate(parts["idx"]).astype(np.int64)
            lay.y, lay.x0, lay.x1 = (np.concatenate(parts[k]) for k in ("y", "x0", "x1"))
            lay.c0, lay.c1, lay.mx = (np.concatenate(parts[k]) for k in ("c0", "c1", "mx"))
            lay.label_x = np.concatenate(parts["lx"])
            room, cap, bare = (np.concatenate(parts[k]) for k in ("room", "cap", "bare"))
        lay.label_end = bare
        lay.labels = [""] * int(lay.idx.size)
        self.layout = lay  # arrow anchors are read from it
        self._place_labels(lay, room, cap, bare)
        return lay

    def _place_labels(self, lay: Layout, room: np.ndarray, cap: np.ndarray, bare: np.ndarray) -> None:
        """Every label of the view placed at once so that none overlaps another: row labels
        (shortened to the room before the next item in their row, or shorter still, or dropped),
        name pills of highlighted items whose row label would be cut, and the arrows' relation
        chips; greedy by priority: the selection, then arrow chips, then larger amounts, then
        the rest. Decided over numpy; Python only touches the labels that may be shown."""
        g = lay.idx
        fonts = self.fonts
        above, box_h = fonts.above, fonts.box_height
        min_px = LABEL_MIN_PX * fonts.scale
        share = PRESENTATION_MIN_SHARE if self.presenting else 0.0
        w_full = np.minimum(self.label_widths(g), cap)
        cand = np.flatnonzero(room >= np.minimum(w_full, np.maximum(min_px, w_full * share)))
        self.qualify_duplicates(g[cand])
        w_full = np.minimum(self.label_widths(g), cap)  # qualified titles are longer
        highlighted = np.isin(g, self.highlight)
        fits = room >= w_full
        cand = cand[fits[cand] | ~highlighted[cand]]  # a highlighted name is never cut: it gets a pill
        floor = np.maximum(min_px, w_full * share)[cand]
        priority = label_priority(highlighted, self.data.amount_usd[g])
        y_px = lay.y_px(lay.y)
        # row labels: as long as the room allows, else shorter, else shortest, should they collide
        w1 = np.where(fits, w_full, room)[cand]
        w2 = np.maximum(floor, w1 * 0.55)
        second = (w2 < w1 - 8.0) & ~highlighted[cand]
        third = second & (floor < w2 - 8.0)
        ks = np.concatenate((cand, cand[second], cand[third]))
        widths = np.concatenate((w1, w2[second], floor[third]))
        rects = [
            np.column_stack(
                (lay.label_x[ks], y_px[ks] - above, lay.label_x[ks] + widths + LABEL_GAP_PX, y_px[ks] - above + box_h)
            )
        ]
        prio, group = [priority[ks]], [ks]
        # pills: a highlighted item's whole name when its row cannot show it
        pills: list[tuple[int, float, float, str]] = []  # (k, x, y, text)
        for k in np.flatnonzero(highlighted & ~fits).tolist():
            gi = int(g[k])
            # where its row label starts (the pill hides what it covers), moved left as far as
            # its whole name needs near the plot's right edge
            full = self.label_text(gi)
            x = max(4.0, min(float(lay.label_x[k]), lay.width_px - 12.0 - fonts.label.width(full)))
            text = fonts.label.elide(full, max(60.0, lay.width_px - x - 12.0))
            pills.append((k, x, float(y_px[k]), text))
        pill_rects = candidate_rects(
            [(x - 4.0, y, fonts.label.width(text) + 8.0, fonts.line_height + 4.0) for _k, x, y, text in pills]
        )
        rects.append(pill_rects)
        prio.append(np.repeat(priority[[k for k, *_ in pills]], 7) if pills else np.zeros(0))
        group.append(np.repeat(-1 - np.arange(len(pills)), 7))
        # arrow chips, one per (source, relation)
        chips = self.arrow_chips(lay)
        chip_boxes = []
        for x, y, t in chips:
            w = fonts.small.width(t) + 8.0
            # centred on the curve, but inside the plot: a chip cut at its edge reads as nothing
            chip_boxes.append((min(max(x - w / 2, 2.0), lay.width_px - w - 2.0), y, w, fonts.small_line_height + 2.0))
        chip_rects = candidate_rects(chip_boxes)
        rects.append(chip_rects)
        prio.append(np.full(7 * len(chips), ARROW_CHIP_PRIORITY))
        group.append(np.repeat(-1 - len(pills) - np.arange(len(chips)), 7))
        all_rects = np.concatenate([r.reshape(-1, 4) for r in rects])
        kept = place_labels(all_rects, np.concatenate(prio), np.concatenate(group))
        n_rows = ks.size
        # row labels' text: the words telling similar titles apart survive the shortening
        row_kept = np.flatnonzero(kept[:n_rows])
        tails = distinguishing_tails([self.title_text(int(g[k])) for k in ks[row_kept].tolist()])
        ends = bare.copy()
        for r, tail in zip(row_kept.tolist(), tails, strict=True):
            k, limit = int(ks[r]), float(widths[r])
            gi = int(g[k])
            text = self.shown_label(gi, float(cap[k]) if (fits[k] and r < cand.size) else limit, tail)
            lay.labels[k] = text
            ends[k] = max(ends[k], lay.label_x[k] + fonts.label.width(text))
        lay.label_end = ends
        n_pill = len(pills) * 7
        for c in np.flatnonzero(kept[n_rows : n_rows + n_pill]).tolist():
            x0, y0, x1, y1 = all_rects[n_rows + c].tolist()
            lay.tags.append((x0, y0, x1 - x0, y1 - y0, pills[c // 7][3]))
        for c in np.flatnonzero(kept[n_rows + n_pill :]).tolist():
            x0, y0, x1, y1 = all_rects[n_rows + n_pill + c].tolist()
            lay.chips.append((x0, y0, x1 - x0, y1 - y0, chips[c // 7][2]))

    def arrow_chips(self, lay: Layout) -> list[tuple[float, float, str]]:
        """(x, y, text) at the middle of the arrow curve of each (source, relation) in the label
        pixel frame: the curves the arrow layer draws, from the same anchors."""
        arrows = self.arrows
        if not arrows:
            return []
        ends = np.array([[a_, b_] for a_, b_, _ in arrows], dtype=np.int64)
        days, ys = self.anchors(ends.ravel())
        px = lay.to_px(days).reshape(-1, 2)
        py = lay.y_px(ys).reshape(-1, 2)
        count: dict[tuple[int, str], int] = {}
        for a_, _b, rel in arrows:
            count[(a_, rel)] = count.get((a_, rel), 0) + 1
        out, seen = [], set()
        for n, (src_i, _b, rel) in enumerate(arrows):
            (x0, x1), (y0, y1) = px[n].tolist(), py[n].tolist()
            if (abs(x1 - x0) < 1 and abs(y1 - y0) < 1) or (src_i, rel) in seen:
                continue
            seen.add((src_i, rel))
            cx, cy = arrow_control(x0, y0, x1, y1)
            text = f"{rel} ×{count[(src_i, rel)]}" if count[(src_i, rel)] > 1 else rel
            out.append((0.25 * x0 + 0.5 * cx + 0.25 * x1, 0.25 * y0 + 0.5 * cy + 0.25 * y1, text))
        return out

    def anchors(self, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(day, y) where arrows and highlight ticks attach to items ``g``."""
        lay = self.layout
        g = np.asarray(g, dtype=np.int64)
        days = self.anchor_day[g].astype(np.float64)
        centres = np.array([lane.centre for lane in self.lanes], dtype=np.float64)
        ys = centres[self.arrangement.lanes.lane[g]] if centres.size else np.zeros(g.size)
        if lay.idx.size and g.size:
            # items laid out one by one attach at their row (a span at its visible start)
            by_idx = np.argsort(lay.idx)
            at = np.minimum(np.searchsorted(lay.idx, g, sorter=by_idx), lay.idx.size - 1)
            k = by_idx[at]
            hit = lay.idx[k] == g
            ys[hit] = lay.y[k[hit]]
            span = hit & self.is_span[g]
            if span.any():
                ks = k[span]
                visible_start = np.minimum(np.maximum(lay.x0[ks], 0.0) + 10.0, lay.x1[ks])
                days[span] = lay.view_lo + visible_start / lay.ppd
        return days, ys

    # --- hit-testing ------------------------------------------------------------------------

    def item_point(self, g: int) -> tuple[float, float]:
        """(day, y) of the item's marker (points) or of its visible bar's middle (periods)."""
        lay = self.layout
        hits = np.flatnonzero(lay.idx == g)
        if hits.size == 0:
            day, y = self.anchors(np.array([g]))
            return float(day[0]), float(y[0])
        k = int(hits[0])
        if self.is_span[g]:
            px = (max(float(lay.x0[k]), 0.0) + min(float(lay.x1[k]), lay.width_px)) / 2
        else:
            px = float(lay.mx[k])
        return lay.to_day(px), float(lay.y[k])

    def hit(self, day: float, y: float) -> tuple[int | None, tuple[int, int, float] | None]:
        """What is drawn at ``day`` and row ``y`` in the current layout: (item, None) for an item
        (its mark, bar or label; the nearest mark in the row when several), (None, (lane,
        count, usd)) for the bins of an aggregated lane, (None, None) for nothing."""
        lay = self.layout
        px = float(lay.to_px(day))
        if lay.idx.size:
            row_ok = np.abs(lay.y - y) <= 0.5
            left = np.minimum(lay.x0, lay.mx - 8.0) - 2.0
            right = np.maximum(np.maximum(lay.x1, lay.mx + 8.0), lay.label_end) + 2.0
            cand = np.flatnonzero(row_ok & (left <= px) & (px <= right))
            if cand.size:
                body_l = np.minimum(lay.x0[cand], lay.mx[cand] - 8.0)
                body_r = np.maximum(lay.x1[cand], lay.mx[cand] + 8.0)
                dist = np.where(px < body_l, body_l - px, np.where(px > body_r, px - body_r, 0.0))
                return int(lay.idx[cand[int(np.argmin(dist))]]), None
        for lane_no, bins in lay.bins:
            lane = self.lanes[lane_no]
            if lane.top <= y <= lane.bottom:
                col = int(px // bins.bin_px)
                sel = np.flatnonzero(np.abs(bins.column - col) <= 1)
                if sel.size:
                    return None, (lane_no, int(bins.count[sel].sum()), float(bins.usd[sel].sum()))
        return None, None

    def bins_text(self, lane_no: int, count: int, usd: float) -> str:
        """The tooltip of an aggregated lane's bins."""
        text = f"{count:,} records in {self.lanes[lane_no].label}"
        if usd > 0:
            text += f"\n{format_usd(usd)} in total"
        return text + "\nZoom in to see them one by one."

    # --- keyboard order ---------------------------------------------------------------------

    def first_or_last(self, first: bool) -> int | None:
        """The first (or last) shown item in time."""
        return nav.step_in_time(self.data.start, self.passes, None, forward=first)

    def step_in_time(self, current: int | None, forward: bool) -> int | None:
        return nav.step_in_time(self.data.start, self.passes, current, forward)

    def first_in_view(self, a: float, b: float, forward: bool) -> int | None:
        """The first (or last) shown item in the view [a, b], else of all."""
        in_view = self.passes & (self.hi >= a) & (self.lo <= b)
        return nav.step_in_time(self.data.start, in_view if in_view.any() else self.passes, None, forward)

    def step_in_lane(self, current: int, forward: bool) -> int | None:
        lanes = self.arrangement.lanes
        return nav.step_in_lane(lanes.order[int(lanes.lane[current])], self.passes, current, forward)

    def step_between_lanes(self, current: int, down: bool) -> int | None:
        """The item nearest in time to ``current`` in the next lane below (or above) with one."""
        lanes = self.arrangement.lanes
        lane = nav.lane_step(lanes.order, self.passes, int(lanes.lane[current]), down)
        if lane is None:
            return None
        starts = self.data.start
        return nav.nearest_in_lane(lanes.order[lane], starts, self.passes, float(starts[current]))

    # --- ranges to show ---------------------------------------------------------------------

    def range_showing_highlight(self, a: float, b: float) -> tuple[float, float] | None:
        """A view range showing the highlighted items when the view [a, b] shows none of them:
        the same span moved there, or all of them with a margin when they do not fit it."""
        g = self.highlight
        if g.size == 0:
            return None
        lo, hi = self.lo[g], self.hi[g]
        if bool(((lo <= b) & (hi >= a)).any()):
            return None
        first, last = float(lo.min()), float(hi.max())
        span = b - a
        if last - first <= span * 0.8:
            mid = (first + last) / 2
            return mid - span / 2, mid + span / 2
        margin = max((last - first) * 0.08, 15.0)
        return first - margin, last + margin

    def reveal_range(self) -> tuple[float, float] | None:
        """The highlighted items zoomed in on: a deal fills a few months of the view, not a
        pixel of thirty years."""
        g = self.highlight
        if g.size == 0:
            return None
        first, last = float(self.lo[g].min()), float(self.hi[g].max())
        margin = max((last - first) * 0.12, REVEAL_MIN_SPAN_DAYS / 2)
        return first - margin, last + margin
