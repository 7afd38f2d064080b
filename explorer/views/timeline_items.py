"""Pure helpers and graphics items behind the timeline: extents, level of detail, row packing, painting.

Nothing here talks to the store or to AppState. Day numbers are float days since 1970-01-01;
the plot's x axis is in seconds (day * 86400) so pyqtgraph's DateAxisItem can read it.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import shiboken6

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import pyqtgraph as pg
from pyqtgraph.graphicsItems.DateAxisItem import (
    DAY_SPACING,
    HOUR_SPACING,
    MONTH_SPACING,
    YEAR_SPACING,
    TickSpec,
    ZoomLevel,
    makeMStepper,
    makeSStepper,
    makeYStepper,
)
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QFontMetricsF,
    QGradient,
    QImage,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
)

from explorer.store.queries import PRECISION_CODE

SECONDS_PER_DAY = 86400.0
P_DAY, P_MONTH, P_YEAR, P_APPROX = (
    PRECISION_CODE["day"],
    PRECISION_CODE["month"],
    PRECISION_CODE["year"],
    PRECISION_CODE["approximate"],
)
APPROX_DAYS = 90  # mirrors DatePrecision.bounds for "approximate"

# Above this many items of one lane in view, the lane is drawn as per-pixel-column aggregates.
DETAIL_LIMIT = 1500
# ...or when more than one item *starts* per this many pixels of row length (rows × width): markers
# are ~10 px wide, so denser than this they pile up several deep and per-column bins read better
# (and cost no per-item work on a frame). Long periods merely passing through the view do not crowd it.
DETAIL_MIN_PX = 4.0
# Columns of this many pixels make one aggregate bin.
BIN_PX = 2
# Soft-edged bars share a gradient brush per colour and per certain part, quantised to 1/GRADIENT_STEPS.
GRADIENT_STEPS = 32


# --- extents -------------------------------------------------------------------------------


def _month_floor(days: np.ndarray) -> np.ndarray:
    d = days.astype("datetime64[D]")
    return d.astype("datetime64[M]").astype("datetime64[D]").astype(np.float64)


def _month_ceil_last(days: np.ndarray) -> np.ndarray:
    d = days.astype("datetime64[D]")
    nxt = (d.astype("datetime64[M]") + 1).astype("datetime64[D]")
    return nxt.astype(np.float64) - 1.0


def _year_floor(days: np.ndarray) -> np.ndarray:
    d = days.astype("datetime64[D]")
    return d.astype("datetime64[Y]").astype("datetime64[D]").astype(np.float64)


def _year_last(days: np.ndarray) -> np.ndarray:
    d = days.astype("datetime64[D]")
    nxt = (d.astype("datetime64[Y]") + 1).astype("datetime64[D]")
    return nxt.astype(np.float64) - 1.0


@dataclass
class Extents:
    """Drawn extent of each item, in day numbers.

    ``lo``/``hi``: the whole extent (``hi`` is exclusive: the end of the last day it can stand for).
    ``core_lo``/``core_hi``: where the item is certain; the gradient fades from ``lo`` to ``core_lo``
    and from ``core_hi`` to ``hi``. For a crisp day-precision point all four are the same day.
    """

    lo: np.ndarray
    hi: np.ndarray
    core_lo: np.ndarray
    core_hi: np.ndarray

    @property
    def centre(self) -> np.ndarray:
        return (self.lo + self.hi) / 2.0


def uncertainty_extents(start: np.ndarray, end: np.ndarray, precision: np.ndarray) -> Extents:
    """Extents mirroring ``DatePrecision.bounds`` applied to the start and the end date.

    day: [start, end] (crisp); month: first day of the start month .. last day of the end month;
    year: 1 January .. 31 December; approximate: start - 90 days .. end + 90 days.
    """
    start = np.asarray(start, dtype=np.float64)
    end = np.maximum(np.asarray(end, dtype=np.float64), start)
    precision = np.asarray(precision)
    if start.size == 0:
        z = np.zeros(0)
        return Extents(z, z.copy(), z.copy(), z.copy())
    s_lo, s_hi, e_lo, e_hi = start.copy(), start.copy(), end.copy(), end.copy()
    for code, lo_fn, hi_fn in (
        (P_MONTH, _month_floor, _month_ceil_last),
        (P_YEAR, _year_floor, _year_last),
    ):
        sel = precision == code
        if sel.any():
            s_lo[sel], s_hi[sel] = lo_fn(start[sel]), hi_fn(start[sel])
            e_lo[sel], e_hi[sel] = lo_fn(end[sel]), hi_fn(end[sel])
    sel = precision == P_APPROX
    s_lo[sel], s_hi[sel] = start[sel] - APPROX_DAYS, start[sel] + APPROX_DAYS
    e_lo[sel], e_hi[sel] = end[sel] - APPROX_DAYS, end[sel] + APPROX_DAYS
    uncertain = precision != P_DAY
    lo = s_lo
    hi = np.where(uncertain, e_hi + 1.0, end)  # uncertain: through the end of the last possible day
    core_lo = np.where(uncertain, s_hi + 1.0, start)
    core_hi = np.where(uncertain, e_lo, end)
    # A point (or a period shorter than its uncertainty): certain only at the middle.
    mid = (lo + hi) / 2.0
    collapsed = core_hi <= core_lo
    core_lo = np.where(collapsed & uncertain, mid, core_lo)
    core_hi = np.where(collapsed & uncertain, mid, core_hi)
    return Extents(lo, hi, core_lo, core_hi)


# --- visible range and level of detail ----------------------------------------------------


def visible_indices(sorted_lo: np.ndarray, hi_in_order: np.ndarray, max_len: float, a: float, b: float) -> np.ndarray:
    """Positions (into the sorted arrays) of items overlapping [a, b]; O(log n + k)."""
    if sorted_lo.size == 0:
        return np.zeros(0, dtype=np.int64)
    first = int(np.searchsorted(sorted_lo, a - max_len, side="left"))
    last = int(np.searchsorted(sorted_lo, b, side="right"))
    cand = np.arange(first, last, dtype=np.int64)
    return cand[hi_in_order[first:last] >= a]


@dataclass
class Bins:
    """Per pixel-column aggregate of one lane: column index, item count, USD sum, dominant colour."""

    column: np.ndarray  # int64 bin index (x pixel = column * bin_px)
    count: np.ndarray  # int64
    usd: np.ndarray  # float64, NaN amounts count as 0
    colour: np.ndarray  # int64 colour category with the most items in the bin
    bin_px: int = BIN_PX

    @property
    def total(self) -> int:
        return int(self.count.sum())


@dataclass
class LaneLOD:
    """What one lane draws for a view: item indices (detail) or aggregate bins."""

    detail: np.ndarray | None  # indices into the lane's arrays, in start order
    bins: Bins | None
    in_view: int


def bin_edges(a: float, b: float, width_px: float, bin_px: int = BIN_PX) -> np.ndarray:
    """Day numbers where each pixel column of bins starts (one more than the bins: the last end).

    An item belongs to column k when ``edges[k] <= max(start, a) < edges[k + 1]`` (the last column
    also takes whatever rounding leaves past its end); every aggregation path uses these edges, so
    the fast per-lane index and the plain reference agree to the item.
    """
    n_bins = max(1, math.ceil(width_px / bin_px))
    ppd = width_px / max(b - a, 1e-9)
    return a + np.arange(n_bins + 1, dtype=np.float64) * (bin_px / ppd)


def aggregate(
    lo: np.ndarray,
    amount: np.ndarray,
    colour: np.ndarray,
    a: float,
    b: float,
    width_px: float,
    bin_px: int = BIN_PX,
) -> Bins:
    """Bin items (already known to overlap [a, b]) by the pixel column of their visible start.

    The plain reference: O(items in view). ``LaneIndex.bins`` gives the same bins in O(columns).
    """
    edges = bin_edges(a, b, width_px, bin_px)
    n_bins = edges.size - 1
    if lo.size == 0:
        e = np.zeros(0, dtype=np.int64)
        return Bins(e, e.copy(), np.zeros(0), e.copy(), bin_px)
    col = np.clip(np.searchsorted(edges, np.maximum(lo, a), side="right") - 1, 0, n_bins - 1)
    counts = np.bincount(col, minlength=n_bins)
    usd = np.bincount(col, weights=np.nan_to_num(amount, nan=0.0), minlength=n_bins)
    n_cat = int(colour.max()) + 1 if colour.size else 1
    per_cat = np.bincount(col * n_cat + colour, minlength=n_bins * n_cat).reshape(n_bins, n_cat)
    used = np.flatnonzero(counts)
    return Bins(used, counts[used], usd[used], per_cat[used].argmax(axis=1), bin_px)


class LaneIndex:
    """One lane's items sorted by start, indexed so a frame costs O(columns · log n), not O(items).

    Built once per data/lane/colour change. Per frame: ``in_view`` finds the items overlapping the
    view (binary search, plus a scan of the few that start earlier and reach into it), and ``bins``
    aggregates per pixel column with binary searches into prefix sums: counts from start positions,
    USD from a running sum, the dominant colour from per-colour position keys.
    """

    def __init__(self, lo: np.ndarray, hi: np.ndarray, amount: np.ndarray, colour: np.ndarray) -> None:
        self.lo = np.ascontiguousarray(lo, dtype=np.float64)
        self.hi = np.ascontiguousarray(hi, dtype=np.float64)
        self.colour = np.ascontiguousarray(colour, dtype=np.int16)
        n = self.lo.size
        self.usd_cum = np.concatenate(([0.0], np.cumsum(np.nan_to_num(np.asarray(amount, dtype=np.float64), nan=0.0))))
        self.max_len = float((self.hi - self.lo).max()) if n else 0.0
        self.cats = np.unique(self.colour, return_counts=True)[0]  # plain np.unique imports numpy.ma (~10 ms at start)
        # Positions grouped by colour (colour * (n + 1) + position, sorted): how many items of a
        # colour start before a position is one binary search, exact in integers.
        self._stride = n + 1
        top = (int(self.cats[-1]) + 1) * self._stride if n else 0
        key_type = np.int32 if top < 2**31 else np.int64  # a million-record lane: 4 MB saved
        self._cat_keys = np.sort(self.colour.astype(key_type) * key_type(self._stride) + np.arange(n, dtype=key_type))

    def __len__(self) -> int:
        return int(self.lo.size)

    def _split(self, a: float, b: float) -> tuple[np.ndarray, int, int]:
        """(positions starting before ``a`` that reach into the view, first and end position starting in it)."""
        first = int(np.searchsorted(self.lo, a - self.max_len, side="left"))
        j0 = int(np.searchsorted(self.lo, a, side="left"))
        end = int(np.searchsorted(self.lo, b, side="right"))
        straddle = first + np.flatnonzero(self.hi[first:j0] >= a)
        return straddle, j0, max(end, j0)

    def in_view(self, a: float, b: float) -> np.ndarray:
        """Positions (ascending) of items overlapping [a, b], as ``visible_indices`` finds them."""
        straddle, j0, end = self._split(a, b)
        return np.concatenate((straddle, np.arange(j0, end, dtype=np.int64)))

    def bins(self, a: float, b: float, width_px: float, bin_px: int = BIN_PX) -> Bins:
        """The same bins as ``aggregate`` over ``in_view(a, b)``, without touching every item."""
        straddle, j0, end = self._split(a, b)
        edges = bin_edges(a, b, width_px, bin_px)
        # starts[k]: first position in column k (items starting before ``a`` are handled apart)
        starts = np.minimum(np.searchsorted(self.lo, edges, side="left"), end)
        starts[0], starts[-1] = j0, end
        counts = np.diff(starts)
        usd = self.usd_cum[starts[1:]] - self.usd_cum[starts[:-1]]
        cats = self.cats
        queries = cats.astype(np.int64)[:, None] * self._stride + starts[None, :]
        per_cat = np.diff(np.searchsorted(self._cat_keys, queries.ravel()).reshape(queries.shape), axis=1)
        if straddle.size:
            counts[0] += straddle.size
            usd[0] += float((self.usd_cum[straddle + 1] - self.usd_cum[straddle]).sum())
            per_cat[:, 0] += np.bincount(np.searchsorted(cats, self.colour[straddle]), minlength=cats.size)
        used = np.flatnonzero(counts)
        colour = cats[per_cat[:, used].argmax(axis=0)] if cats.size else np.zeros(used.size, dtype=np.int64)
        return Bins(used, counts[used], usd[used], colour, bin_px)

    def level_of_detail(
        self, a: float, b: float, width_px: float, detail_limit: int = DETAIL_LIMIT, starts_limit: int | None = None
    ) -> LaneLOD:
        """Every item in view when at most ``detail_limit`` overlap it and at most ``starts_limit``
        start in it (see ``crowding_limit``), else per-pixel-column bins."""
        straddle, j0, end = self._split(a, b)
        n_in = int(straddle.size) + end - j0
        if n_in <= detail_limit and (starts_limit is None or end - j0 <= starts_limit):
            return LaneLOD(np.concatenate((straddle, np.arange(j0, end, dtype=np.int64))), None, n_in)
        return LaneLOD(None, self.bins(a, b, width_px), n_in)


def density_profile(bins: Bins, width_px: float, smooth_px: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    """A zoomed-out lane as a density: (pixel x of each column, height share 0..1) over every
    column the items reach, counts smoothed over about ``smooth_px`` either side (a triangular
    kernel) so neighbouring columns read as one shape, not as a barcode of lone bars. The
    square root keeps sparse decades visible beside the densest years."""
    n_cols = max(1, math.ceil(width_px / bins.bin_px))
    if bins.count.size == 0:
        return np.zeros(0), np.zeros(0)
    counts = np.zeros(n_cols)
    counts[np.clip(bins.column, 0, n_cols - 1)] = bins.count
    half = max(1, round(smooth_px / bins.bin_px))
    kernel = (half + 1.0) - np.abs(np.arange(-half, half + 1))
    smooth = np.convolve(counts, kernel / kernel.sum(), mode="same")
    used = np.flatnonzero(smooth > 1e-9)
    share = np.sqrt(smooth[used] / smooth[used].max())
    return used * float(bins.bin_px), share


def crowding_limit(rows: int, width_px: float) -> int:
    """How many items may start in the view of a lane of ``rows`` rows, ``width_px`` wide, before it aggregates."""
    return int(max(rows, 1) * width_px / DETAIL_MIN_PX)


def level_of_detail(
    sorted_lo: np.ndarray,
    hi_in_order: np.ndarray,
    amount_in_order: np.ndarray,
    colour_in_order: np.ndarray,
    max_len: float,
    a: float,
    b: float,
    width_px: float,
    detail_limit: int = DETAIL_LIMIT,
) -> LaneLOD:
    """One lane (arrays sorted by start): every item in view when few, else per-pixel aggregates."""
    idx = visible_indices(sorted_lo, hi_in_order, max_len, a, b)
    if idx.size <= detail_limit:
        return LaneLOD(idx, None, int(idx.size))
    bins = aggregate(sorted_lo[idx], amount_in_order[idx], colour_in_order[idx], a, b, width_px)
    return LaneLOD(None, bins, int(idx.size))


# --- row packing --------------------------------------------------------------------------


def pack_rows(x0: np.ndarray, x1_full: np.ndarray, x1_bare: np.ndarray, n_rows: int, gap: float = 6.0):
    """Greedy interval packing in pixel space, items taken in ``x0`` order.

    Each item first goes to the first row free for it with its label (``x0..x1_full``), else to a
    new row while ``n_rows`` allows (``n_rows <= 0``: as many as needed), else to the first row
    free for its bare mark (``x0..x1_bare``; the previous label there will be shortened), else to
    the row that frees up first (it overlaps there: same date, no room left).
    Returns (row per item, rows used).
    """
    n = int(x0.size)
    rows = np.zeros(n, dtype=np.int64)
    if n == 0:
        return rows, 0
    order = np.argsort(x0, kind="stable")
    # Plain Python floats in x0 order: this loop runs for every item in view on every frame.
    starts = x0[order].tolist()
    full_free = (x1_full[order] + gap).tolist()  # where a row is free again after the item, label included
    bare_free = (x1_bare[order] + gap).tolist()
    free_full: list[float] = []  # per row: the earliest start that fits after its labels
    free_bare: list[float] = []  # per row: the earliest start that fits after its marks
    cap = n if n_rows <= 0 else n_rows
    out = [0] * n
    for k, start in enumerate(starts):
        row = -1
        for r, free in enumerate(free_full):
            if free <= start:
                row = r
                break
        if row < 0:
            if len(free_full) < cap:
                free_full.append(-math.inf)
                free_bare.append(-math.inf)
                row = len(free_full) - 1
            else:
                for r, free in enumerate(free_bare):
                    if free <= start:
                        row = r
                        break
                if row < 0:
                    row = free_bare.index(min(free_bare))
        out[k] = row
        if full_free[k] > free_full[row]:
            free_full[row] = full_free[k]
        if bare_free[k] > free_bare[row]:
            free_bare[row] = bare_free[k]
    rows[order] = out
    return rows, len(free_full)


def label_room(x0: np.ndarray, rows: np.ndarray, label_x: np.ndarray, gap: float = 8.0) -> np.ndarray:
    """Pixels each item's label may use before the next item (by ``x0``) in its row; inf for the last."""
    room = np.full(x0.size, np.inf)
    if x0.size == 0:
        return room
    order = np.lexsort((x0, rows))
    r_sorted, x_sorted = rows[order], x0[order]
    same_row_next = np.r_[r_sorted[1:] == r_sorted[:-1], False]
    next_x = np.r_[x_sorted[1:], np.inf]
    room[order] = np.where(same_row_next, next_x - gap - label_x[order], np.inf)
    return room


# --- label placement ----------------------------------------------------------------------


def place_labels(rects: np.ndarray, priority: np.ndarray, group: np.ndarray | None = None) -> np.ndarray:
    """Which label rectangles to draw so that no two drawn ones overlap: greedy by priority.

    ``rects``: (n, 4) x0, y0, x1, y1 (touching edges do not count as overlap). Highest
    ``priority`` first, ties in the given order. A ``group`` of rows stands for one label's
    candidate places or sizes (in order of preference, same priority): at most one of a group is
    kept. Returns a boolean mask of the kept rows.

    A grid of buckets keeps each test to the few labels placed near the candidate, so a frame's
    few hundred labels cost well under a millisecond.
    """
    rects = np.asarray(rects, dtype=np.float64).reshape(-1, 4)
    n = int(rects.shape[0])
    kept = np.zeros(n, dtype=bool)
    if n == 0:
        return kept
    order = np.lexsort((np.arange(n), -np.asarray(priority, dtype=np.float64)))
    groups = np.arange(n) if group is None else np.asarray(group)
    cell_w = max(float(np.median(rects[:, 2] - rects[:, 0])), 16.0)
    cell_h = max(float(np.median(rects[:, 3] - rects[:, 1])), 8.0)
    cx0 = np.floor(rects[:, 0] / cell_w).astype(np.int64).tolist()
    cx1 = np.floor(rects[:, 2] / cell_w).astype(np.int64).tolist()
    cy0 = np.floor(rects[:, 1] / cell_h).astype(np.int64).tolist()
    cy1 = np.floor(rects[:, 3] / cell_h).astype(np.int64).tolist()
    box = rects.tolist()
    gid = groups.tolist()
    done: set = set()
    grid: dict[tuple[int, int], list[int]] = {}
    for i in order.tolist():
        if gid[i] in done:
            continue
        x0, y0, x1, y1 = box[i]
        if x1 <= x0 or y1 <= y0:
            continue
        cells = [(cx, cy) for cx in range(cx0[i], cx1[i] + 1) for cy in range(cy0[i], cy1[i] + 1)]
        clash = False
        for cell in cells:
            for j in grid.get(cell, ()):
                a0, b0, a1, b1 = box[j]
                if x0 < a1 and a0 < x1 and y0 < b1 and b0 < y1:
                    clash = True
                    break
            if clash:
                break
        if clash:
            continue
        kept[i] = True
        done.add(gid[i])
        for cell in cells:
            grid.setdefault(cell, []).append(i)
    return kept


def label_priority(highlighted: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Placement priority: highlighted (selected) items first, then larger USD amounts, then the rest."""
    amount = np.asarray(amount, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        size = np.where(np.isfinite(amount) & (amount > 0), 100.0 + np.log10(np.where(amount > 0, amount, 1.0)), 0.0)
    return np.where(np.asarray(highlighted, dtype=bool), 1e6, 0.0) + size


def distinguishing_tails(titles: list[str], min_shared: int = 8) -> list[str]:
    """For titles that begin like another in ``titles`` ("Automaker plant capacity in Gujarat",
    "… in Karnataka"), the words that tell them apart ("Gujarat"); "" for the rest and for exact
    duplicates (nothing in the title tells those apart)."""
    tails = [""] * len(titles)
    if len(titles) < 2:
        return tails
    order = sorted(range(len(titles)), key=titles.__getitem__)
    shared = [0] * len(titles)
    for p, q in itertools.pairwise(order):
        a, b = titles[p], titles[q]
        if a == b:
            continue
        n = next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
        shared[p], shared[q] = max(shared[p], n), max(shared[q], n)
    for i, n in enumerate(shared):
        title = titles[i]
        if n >= min_shared and n < len(title):
            start = title.rfind(" ", 0, n + 1) + 1  # from the start of the word where they part
            tails[i] = title[start:].strip()
    return tails


# --- text ---------------------------------------------------------------------------------


def format_usd(value: float | None) -> str:
    if value is None or not np.isfinite(value):
        return ""
    v = float(value)
    for limit, suffix in ((1e12, "tn"), (1e9, "bn"), (1e6, "m")):
        if abs(v) >= limit:
            return f"US${v / limit:.1f} {suffix}"
    return f"US${v:,.0f}"


class TextWidths:
    """Cached text widths for one font."""

    def __init__(self, font: QFont) -> None:
        self.font = QFont(font)
        self.metrics = QFontMetricsF(self.font)
        self._cache: dict[str, float] = {}

    def width(self, text: str) -> float:
        w = self._cache.get(text)
        if w is None:
            w = self.metrics.horizontalAdvance(text)
            if len(self._cache) > 20000:
                self._cache.clear()
            self._cache[text] = w
        return w

    def elide(self, text: str, max_px: float, keep: str = "") -> str:
        """``text`` shortened with an ellipsis to at most ``max_px``; a ``keep`` part of it (the
        words that tell it from a similar title) survives the cut: "Automaker plant… Gujarat"."""
        if self.width(text) <= max_px:
            return text
        if keep and keep in text:
            head = text[: text.rfind(keep)].rstrip()
            room = max_px - self.width(" " + keep) - 1.0  # a pixel for kerning across the join
            if head and room >= self.width(head[:4] + "…"):  # a hint of the head is worth its pixels
                short = self.metrics.elidedText(head, Qt.TextElideMode.ElideRight, room)
                if short:
                    return f"{short} {keep}"
            if self.width("…" + keep) <= max_px:
                return "…" + keep
        return self.metrics.elidedText(text, Qt.TextElideMode.ElideRight, max_px)


# --- date axis ----------------------------------------------------------------------------


class _UtcZoomLevel(ZoomLevel):
    """A ZoomLevel of an axis with a fixed UTC offset: pyqtgraph would work out each tick's
    local-time offset (loading the system time zone) and then use the fixed one anyway."""

    def moveTicksToLocalTimeCoords(self, ticks: np.ndarray, spacing: int, skipFactor: int) -> np.ndarray:  # noqa: N803
        if self.utcOffset is not None and spacing > HOUR_SPACING:
            return ticks + self.utcOffset
        return super().moveTicksToLocalTimeCoords(ticks, spacing, skipFactor)


def _year_month_level() -> ZoomLevel:
    # months carry their year: a view from August to November still says which year it is
    return _UtcZoomLevel(
        [
            TickSpec(YEAR_SPACING, makeYStepper(1), "%Y", autoSkip=[1, 2, 5, 10, 25]),
            TickSpec(MONTH_SPACING, makeMStepper(1), "%b %Y"),
        ],
        "Mmm 9999",
    )


def _day_label_level() -> ZoomLevel:
    return _UtcZoomLevel(
        [TickSpec(DAY_SPACING, makeSStepper(DAY_SPACING), "%d %b %Y", autoSkip=[1, 2, 7])], "99 Mmm 9999"
    )


def _month_day_level() -> ZoomLevel:
    return _UtcZoomLevel(
        [
            TickSpec(MONTH_SPACING, makeMStepper(1), "%b %Y"),
            TickSpec(DAY_SPACING, makeSStepper(DAY_SPACING), "%d", autoSkip=[1, 5, 10]),
        ],
        "Mmm 99",
    )


class DayAxis(pg.DateAxisItem):
    """A DateAxisItem in UTC that never drops below whole days (no hour ticks).

    Tick values are cached: calendar ticks are anchored to whole years, months and days, so the
    ticks of a window three times as wide, filtered, are the ticks of any view inside it at the
    same density. A pan then costs no date arithmetic. ``grid_values`` gives the lane layer the
    very ticks the axis labels, so it draws the grid under the records in one ``drawLines``.
    """

    def __init__(self, orientation: str = "bottom", **kwargs) -> None:
        super().__init__(orientation, utcOffset=0, **kwargs)
        from collections import OrderedDict

        self.zoomLevels = OrderedDict(
            [
                (np.inf, _year_month_level()),
                (5 * SECONDS_PER_DAY, _month_day_level()),
                (0.5 * SECONDS_PER_DAY, _day_label_level()),
            ]
        )
        self._tick_cache: dict[str, tuple[float, float, list[tuple[float, np.ndarray]]]] = {}

    def tickValues(self, minVal, maxVal, size):  # noqa: N803 - pyqtgraph's signature
        span = maxVal - minVal
        if not (span > 0 and size > 0 and math.isfinite(span)):
            return super().tickValues(minVal, maxVal, size)
        density = span / size
        self.setZoomLevelForDensity(density)  # tickStrings reads the zoom level it sets
        key = f"{density:.9g}"
        hit = self._tick_cache.get(key)
        if hit is None or not (hit[0] <= minVal and maxVal <= hit[1]):
            lo, hi = minVal - span, maxVal + span
            levels = [(spacing, np.asarray(v, dtype=np.float64)) for spacing, v in super().tickValues(lo, hi, size * 3)]
            self.setZoomLevelForDensity(density)
            if len(self._tick_cache) >= 8:
                self._tick_cache.clear()
            hit = self._tick_cache[key] = (lo, hi, levels)
        # pyqtgraph's steppers start strictly after minVal and stop at maxVal
        return [(spacing, v[(v > minVal) & (v <= maxVal)].tolist()) for spacing, v in hit[2]]

    def length_px(self) -> float:
        """The axis length in device pixels, measured as AxisItem.generateDrawSpecs measures it."""
        bounds = self.mapRectFromParent(self.geometry())
        p1 = self.mapToDevice(bounds.topLeft() + QPointF(-1.0, 1.0))
        p2 = self.mapToDevice(bounds.topRight() + QPointF(1.0, 1.0))
        if p1 is None or p2 is None:
            return 0.0
        return math.hypot(p2.x() - p1.x(), p2.y() - p1.y())

    def grid_values(self, min_s: float, max_s: float) -> list[np.ndarray]:
        """Tick positions (seconds) per level, coarsest first, as the axis lays them out for this range."""
        size = self.length_px()
        if size <= 0:
            return []
        if not hasattr(self, "fontMetrics"):  # set by the axis's first paint; the grid may come first
            self.fontMetrics = QFontMetrics(self.style["tickFont"] or self.font())
        return [np.asarray(v, dtype=np.float64) for _spacing, v in self.tickValues(min_s, max_s, size)]


# --- painting -----------------------------------------------------------------------------


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


@dataclass
class Style:
    """Colours and fonts of one palette."""

    background: QColor
    foreground: QColor
    muted: QColor
    highlight: QColor
    band: QColor
    colours: list[QColor]
    label_font: QFont
    small_font: QFont


class PaintSource:
    """What the painting items need from the widget (kept narrow so items stay dumb)."""

    layout: Layout
    style: Style
    lanes: list[LaneGeometry]
    kind_code: np.ndarray  # per item: timeline type code
    precision: np.ndarray
    colour: np.ndarray
    passes: np.ndarray
    is_period: np.ndarray
    thickness: np.ndarray  # span thickness factor 0..1 (log amount)
    # tick positions (seconds) per level for a range in seconds: the date axis's, for the grid
    grid: Callable[[float, float], list[np.ndarray]] | None = None


def label_box(metrics: QFontMetricsF) -> tuple[float, float]:
    """(how far above its row's centre, height) of the box a row label's glyphs fill: capitals
    and ascenders down to descenders, drawn on the baseline that centres the text on the row.
    Placement keeps these boxes apart; the font's line spacing above the capitals is air."""
    ascent, descent = metrics.ascent(), metrics.descent()
    baseline = (ascent - descent) / 2.0
    top = baseline - 0.85 * ascent
    return -top, 0.85 * ascent + descent


def arrow_control(x0: float, y0: float, x1: float, y1: float) -> tuple[float, float]:
    """Control point of a link arrow's quadratic curve: bowed sideways (upwards) so arrows
    between neighbours stay readable. The curve is symmetric, so its middle is at t = 0.5."""
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    dxv, dyv = x1 - x0, y1 - y0
    length = math.hypot(dxv, dyv) or 1.0
    bow = min(60.0, 0.2 * length + 12)
    nx, ny = -dyv / length, dxv / length
    if ny > 0:
        nx, ny = -nx, -ny
    return cx + nx * bow, cy + ny * bow


def _device_mapper(painter: QPainter, layout: Layout) -> tuple[Callable, Callable, float]:
    tr = painter.transform()
    sx, dx, sy, dy = tr.m11(), tr.dx(), tr.m22(), tr.dy()
    left = layout.view_lo * SECONDS_PER_DAY * sx + dx
    k = (SECONDS_PER_DAY * sx) / layout.ppd if layout.ppd else 1.0

    def mx(px):
        return left + np.asarray(px) * k

    def my(y):
        return np.asarray(y) * sy + dy

    return mx, my, abs(sy)


def diamond(cx: float, cy: float, r: float) -> QPainterPath:
    path = QPainterPath()
    path.moveTo(cx, cy - r)
    path.lineTo(cx + r, cy)
    path.lineTo(cx, cy + r)
    path.lineTo(cx - r, cy)
    path.closeSubpath()
    return path


class _Base(pg.GraphicsObject):
    def __init__(self, source: PaintSource) -> None:
        super().__init__()
        self.source = source
        self._rect = QRectF()
        # when a list: the device rectangles of the text boxes painted since it was set (tests)
        self.painted: list[QRectF] | None = None

    @staticmethod
    def _frame_rect(lay: Layout, mx, my, x: float, y: float, w: float, h: float) -> QRectF:
        """A rectangle of the layout's label pixel frame in device pixels."""
        left, right = float(mx(x)), float(mx(x + w))
        top = float(my(y / lay.row_px + lay.y_origin))
        bottom = float(my((y + h) / lay.row_px + lay.y_origin))
        return QRectF(left, top, right - left, bottom - top)

    def set_bounds(self, rect: QRectF) -> None:
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = QRectF(rect)

    def boundingRect(self) -> QRectF:
        return self._rect

    def dataBounds(self, axis, frac=1.0, orthoRange=None):  # noqa: N803 - keep pyqtgraph's auto-range out of it
        return None


def _native(array: np.ndarray, klass: type) -> tuple[object, np.ndarray]:
    """A C++ ``klass*`` over the rows of a float64 array, for QPainter's array overloads
    (drawRects, drawPixmapFragments): no Python object per primitive. Keep the returned array
    alive until the call returns."""
    data = np.ascontiguousarray(array, dtype=np.float64)
    return shiboken6.wrapInstance(data.ctypes.data, klass), data


def draw_rects(painter: QPainter, rects: np.ndarray) -> None:
    """``rects``: (n, 4) x, y, width, height in device pixels."""
    if rects.shape[0]:
        ptr, alive = _native(rects, QRectF)  # the array must outlive the call
        painter.drawRects(ptr, int(alive.shape[0]))


def draw_lines(painter: QPainter, lines: np.ndarray) -> None:
    """``lines``: (n, 4) x1, y1, x2, y2 in device pixels."""
    if lines.shape[0]:
        ptr, alive = _native(lines, QLineF)  # the array must outlive the call
        painter.drawLines(ptr, int(alive.shape[0]))


GRID_ALPHA = 0.18


def _over(top: QColor, below: QColor) -> QColor:
    """The opaque colour ``top`` shows when painted over opaque ``below``."""
    a = top.alphaF()
    mixed = (a * t + (1.0 - a) * b for t, b in zip(top.getRgbF()[:3], below.getRgbF()[:3], strict=True))
    return QColor.fromRgbF(*mixed)


def _grouped(keys: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(key, positions) for each distinct key: one QPainter call per group instead of per item."""
    if keys.size == 0:
        return []
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    cuts = np.flatnonzero(np.diff(sorted_keys)) + 1
    firsts = np.r_[0, cuts]
    return [(int(sorted_keys[f]), part) for f, part in zip(firsts.tolist(), np.split(order, cuts), strict=True)]


# Marker sprite variants (rows of the atlas): bit 0 faded, bit 1 approximate date, bit 2 summit/visit.
_FADED, _APPROX, _EVENT = 1, 2, 4
MARKER_ALPHA = (255, 70)  # plain, faded (outside the date range)


class MarkerAtlas:
    """Every marker look (colour × summit/other × approximate/exact × faded) pre-drawn once into one
    pixmap, so a frame draws all markers with a single ``drawPixmapFragments``."""

    def __init__(self) -> None:
        self._key: tuple | None = None
        self.pixmap = QPixmap()
        self.cell = 0.0  # logical pixels
        self.dpr = 1.0

    def ensure(self, colours: list[QColor], r: float, dpr: float) -> None:
        key = (tuple(c.rgba() for c in colours), round(r, 2), dpr)
        if key == self._key:
            return
        self._key = key
        self.cell = float(math.ceil(2 * r * 1.15 + 6))
        self.dpr = dpr
        size = self.cell * dpr
        image = QImage(int(size * max(len(colours), 1)), int(size * 8), QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.scale(dpr, dpr)
        for variant in range(8):
            alpha = MARKER_ALPHA[variant & _FADED]
            for n, colour in enumerate(colours):
                cx, cy = (n + 0.5) * self.cell, (variant + 0.5) * self.cell
                c = QColor(colour)
                c.setAlpha(alpha)
                if variant & _APPROX:
                    painter.setPen(QPen(c, 1.8, Qt.PenStyle.DashLine))
                    painter.setBrush(Qt.BrushStyle.NoBrush)
                else:
                    edge = QColor(c).darker(140)
                    edge.setAlpha(alpha)
                    painter.setPen(QPen(edge, 1.0))
                    painter.setBrush(c)
                if variant & _EVENT:
                    painter.drawPath(diamond(cx, cy, r * 1.15))
                else:
                    painter.drawEllipse(QPointF(cx, cy), r * 0.85, r * 0.85)
        painter.end()
        self.pixmap = QPixmap.fromImage(image)

    def draw(self, painter: QPainter, x: np.ndarray, y: np.ndarray, colour: np.ndarray, variant: np.ndarray) -> None:
        n = int(x.size)
        if n == 0:
            return
        size = self.cell * self.dpr
        frags = np.empty((n, 10), dtype=np.float64)
        frags[:, 0], frags[:, 1] = x, y  # target centre
        frags[:, 2], frags[:, 3] = colour * size, variant * size  # source top-left in the atlas
        frags[:, 4:6] = size
        frags[:, 6:8] = 1.0 / self.dpr
        frags[:, 8], frags[:, 9] = 0.0, 1.0  # rotation, opacity
        ptr, _alive = _native(frags, QPainter.PixmapFragment)  # the array must outlive the call
        painter.drawPixmapFragments(ptr, n, self.pixmap)


class LaneLayer(_Base):
    """All lanes: zebra bands, aggregated bins, and the items in view (one item for everything).

    Painting is vectorised: bins and bars go out as a few ``drawRects`` over numpy arrays (grouped
    by colour and opacity), markers as one ``drawPixmapFragments`` from a sprite atlas, labels as
    ``drawText``; no Python work per record except for the labels actually shown.
    """

    def __init__(self, source: PaintSource) -> None:
        super().__init__(source)
        self._atlas = MarkerAtlas()
        # when a list: (lane, device rectangles) of each density painted since it was set (tests)
        self.painted_density: list[tuple[LaneGeometry, np.ndarray]] | None = None
        self._gradients: dict[tuple[int, int, int, int], QBrush] = {}
        self._gradient_colours: tuple = ()

    def paint(self, painter: QPainter, *_args) -> None:
        src = self.source
        lay, st = src.layout, src.style
        mx, my, row_px = _device_mapper(painter, lay)
        painter.save()
        painter.resetTransform()
        x_left, x_right = float(mx(0.0)), float(mx(lay.width_px))
        # lanes: alternate soft bands and a separator line (axis-aligned: no antialiasing needed)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setPen(QPen(st.muted, 1))
        for n, lane in enumerate(src.lanes):
            y0, y1 = float(my(lane.top)), float(my(lane.bottom))
            if n % 2 == 1:
                painter.fillRect(QRectF(x_left, y0, x_right - x_left, y1 - y0), st.band)
            if n:
                painter.drawLine(QPointF(x_left, y0), QPointF(x_right, y0))
        self._paint_grid(painter, mx, my, x_left, x_right)
        # Bins and bars are axis-aligned rectangles: without antialiasing they snap to whole pixels,
        # which reads crisper and rasterises several times faster. Markers come antialiased from
        # their atlas.
        painter.setPen(Qt.PenStyle.NoPen)
        for lane_no, bins in lay.bins:
            under = _over(st.band, st.background) if lane_no % 2 == 1 else st.background
            self._paint_bins(painter, src.lanes[lane_no], bins, mx, my, row_px, under)
        if lay.idx.size:
            self._paint_items(painter, mx, my, row_px, x_left, x_right)
        painter.restore()

    def _paint_grid(self, painter: QPainter, mx, my, x_left: float, x_right: float) -> None:
        """Vertical lines at the date axis's ticks, fainter per finer level (pyqtgraph's grid rule),
        under the records; the view box clips them to the plot."""
        src, lay = self.source, self.source.layout
        if src.grid is None or not src.lanes:
            return
        levels = src.grid(lay.view_lo * SECONDS_PER_DAY, lay.view_hi * SECONDS_PER_DAY)
        y0, y1 = float(my(src.lanes[0].top)) - 100.0, float(my(src.lanes[-1].bottom)) + 100.0
        length = max(x_right - x_left, 1.0)
        for level, ticks in enumerate(levels):
            if ticks.size == 0:
                continue
            alpha = 255 / (level + 1) * GRID_ALPHA * min(max(0.05 * length / (ticks.size + 1), 0.0), 1.0)
            colour = QColor(src.style.foreground)
            colour.setAlpha(int(alpha))
            painter.setPen(QPen(colour, 1))
            xs = np.round(mx(lay.to_px(ticks / SECONDS_PER_DAY)))
            draw_lines(painter, np.column_stack((xs, np.full(xs.size, y0), xs, np.full(xs.size, y1))))

    def _paint_bins(self, painter: QPainter, lane: LaneGeometry, bins: Bins, mx, my, row_px: float,
                    under: QColor) -> None:
        """A density of the lane's items: a smoothed histogram rising from the lane's floor, in the
        colour most of them have."""
        st = self.source.style
        xs, share = density_profile(bins, self.source.layout.width_px)
        if xs.size == 0:
            return
        bottom = float(my(lane.bottom)) - 2.0
        full = max(4.0, row_px * lane.rows - 6.0)
        heights = np.maximum(1.0, full * share)
        n_colours = max(len(st.colours), 1)
        per_colour = np.bincount(bins.colour.astype(np.int64) % n_colours, weights=bins.count)
        main = int(per_colour.argmax())
        rects = np.empty((xs.size, 4))
        rects[:, 0] = mx(xs)
        rects[:, 2] = max(1.0, float(mx(bins.bin_px) - mx(0)))
        # the colour made opaque over the lane: Qt's raster engine blends tall translucent bars
        # pixel by pixel, ~50x slower than filling opaque ones
        # a mix of colours (no colour has most of the lane) is drawn neutral: one colour would lie
        solid = QColor(st.colours[main]) if per_colour[main] >= 0.5 * per_colour.sum() else QColor(st.foreground)
        solid.setAlpha(200 if per_colour[main] >= 0.5 * per_colour.sum() else 90)
        painter.setBrush(_over(solid, under))
        rects[:, 1], rects[:, 3] = bottom - heights, heights
        draw_rects(painter, rects)
        if self.painted_density is not None:
            self.painted_density.append((lane, rects.copy()))

    def _gradient(self, colour_no: int, alpha: int, f0: int, f1: int) -> QBrush:
        """A soft-edged bar brush in the bar's own coordinates (ObjectBoundingMode), so one brush
        serves every bar of a colour with the same (quantised) certain part."""
        key = (colour_no, alpha, f0, f1)
        brush = self._gradients.get(key)
        if brush is None:
            solid = QColor(self.source.style.colours[colour_no])
            solid.setAlpha(alpha)
            clear = QColor(solid)
            clear.setAlpha(0)
            grad = QLinearGradient(0.0, 0.0, 1.0, 0.0)
            grad.setCoordinateMode(QGradient.CoordinateMode.ObjectBoundingMode)
            grad.setColorAt(0.0, clear)
            grad.setColorAt(f0 / GRADIENT_STEPS, solid)
            grad.setColorAt(f1 / GRADIENT_STEPS, solid)
            grad.setColorAt(1.0, clear)
            brush = self._gradients[key] = QBrush(grad)
        return brush

    def _paint_items(self, painter: QPainter, mx, my, row_px: float, x_left: float, x_right: float) -> None:
        src, lay, st = self.source, self.source.layout, self.source.style
        idx = lay.idx
        n_colours = max(len(st.colours), 1)
        if self._gradient_colours != tuple(c.rgba() for c in st.colours):
            self._gradients.clear()
            self._gradient_colours = tuple(c.rgba() for c in st.colours)
        colour = src.colour[idx].astype(np.int64) % n_colours
        faded = ~src.passes[idx]
        period = src.is_period[idx]
        precision = src.precision[idx]
        is_event = src.kind_code[idx] == 0
        ys = my(lay.y)
        # bars: periods, and points whose date is uncertain (soft edges over the possible days)
        has_bar = period | (precision != P_DAY)
        if has_bar.any():
            b = np.flatnonzero(has_bar)
            span = period[b] & ~is_event[b]
            thick = np.where(
                span,
                np.maximum(4.0, np.minimum(row_px * 0.62, 4.0 + src.thickness[idx[b]] * row_px * 0.5)),
                max(4.0, min(row_px * 0.5, 9.0)),
            )
            alpha = np.where(span, np.where(faded[b], 70, 204), np.where(faded[b], 38, 140))
            x0, x1 = mx(lay.x0[b]), mx(lay.x1[b])
            thin = x1 - x0 < 0.5
            x0, x1 = np.where(thin, x0 - 0.5, x0), np.where(thin, x1 + 0.5, x1)
            rects = np.column_stack((x0, ys[b] - thick / 2, x1 - x0, thick))
            crisp = precision[b] == P_DAY
            if crisp.any():
                c = np.flatnonzero(crisp)
                # crisp bars may run far off screen when zoomed in: clip them to the view
                left = np.maximum(rects[c, 0], x_left - 4.0)
                right = np.minimum(rects[c, 0] + rects[c, 2], x_right + 4.0)
                clipped = np.column_stack((left, rects[c, 1], np.maximum(right - left, 0.0), rects[c, 3]))
                for key, part in _grouped(colour[b][c] * 256 + alpha[c]):
                    solid = QColor(st.colours[key // 256])
                    solid.setAlpha(key % 256)
                    painter.setBrush(solid)
                    draw_rects(painter, clipped[part])
            soft = np.flatnonzero(~crisp)
            if soft.size:
                width = np.maximum(rects[soft, 2], 1e-6)
                f0 = np.clip((mx(lay.c0[b][soft]) - x0[soft]) / width, 0.0, 1.0)
                f1 = np.clip((mx(lay.c1[b][soft]) - x0[soft]) / width, f0, 1.0)
                q0 = np.floor(f0 * GRADIENT_STEPS).astype(np.int64)
                q1 = np.maximum(np.ceil(f1 * GRADIENT_STEPS).astype(np.int64), q0)
                keys = ((colour[b][soft] * 256 + alpha[soft]) * (GRADIENT_STEPS + 1) + q0) * (GRADIENT_STEPS + 1) + q1
                for key, part in _grouped(keys):
                    rest, q1_ = divmod(key, GRADIENT_STEPS + 1)
                    rest, q0_ = divmod(rest, GRADIENT_STEPS + 1)
                    painter.setBrush(self._gradient(rest // 256, rest % 256, q0_, q1_))
                    draw_rects(painter, rects[soft][part])
        # markers: points, and summits/visits (a period visit carries its diamond too)
        has_marker = ~period | is_event
        if has_marker.any():
            k = np.flatnonzero(has_marker)
            marker_r = max(3.0, min(6.5, row_px * 0.36))
            self._atlas.ensure(st.colours, marker_r, painter.device().devicePixelRatioF())
            variant = faded[k] * _FADED + (precision[k] == P_APPROX) * _APPROX + is_event[k] * _EVENT
            self._atlas.draw(painter, mx(lay.mx[k]), ys[k], colour[k], variant.astype(np.int64))
        self._paint_labels(painter, mx, ys, faded, row_px)

    def _paint_labels(self, painter: QPainter, mx, ys: np.ndarray, faded: np.ndarray, row_px: float) -> None:
        """Only the labels the layout placed (bounded by the room on screen, not by the record
        count; placement keeps them apart). Plain drawText: QStaticText lands in the wrong place
        when the window is rendered through a redirected painter (QWidget.grab, used for screenshots)."""
        lay, st = self.source.layout, self.source.style
        if not lay.labels:
            return
        fm = QFontMetricsF(st.label_font)
        text_dy = (fm.ascent() - fm.descent()) / 2.0  # baseline that centres the text on the row
        above, box_h = label_box(fm)
        lxs = mx(lay.label_x)
        painter.setFont(st.label_font)
        shown = [k for k, text in enumerate(lay.labels) if text]
        for fade in (False, True):
            fg = QColor(st.foreground)
            fg.setAlpha(110 if fade else 255)
            painter.setPen(fg)
            for k in shown:
                if bool(faded[k]) == fade:
                    x, y = float(lxs[k]), float(ys[k])
                    painter.drawText(QPointF(x, y + text_dy), lay.labels[k])
                    if self.painted is not None:
                        self.painted.append(QRectF(x, y - above, fm.horizontalAdvance(lay.labels[k]), box_h))


class HighlightLayer(_Base):
    """Outlines of the highlighted items, drawn above everything else, and the name pills the
    layout placed for those whose row label would be cut."""

    def __init__(self, source: PaintSource) -> None:
        super().__init__(source)
        self.indices = np.zeros(0, dtype=np.int64)  # global indices
        self.anchors: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None

    def paint(self, painter: QPainter, *_args) -> None:
        src, lay = self.source, self.source.layout
        if self.indices.size == 0:
            return
        mx, my, row_px = _device_mapper(painter, lay)
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pen = QPen(src.style.highlight, 3.0)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        pos = {int(g): k for k, g in enumerate(lay.idx.tolist())}
        x_left, x_right = float(mx(0.0)) - 20, float(mx(lay.width_px)) + 20
        half = highlight_half(row_px)
        for g in self.indices.tolist():
            k = pos.get(int(g))
            if k is not None:
                y = float(my(lay.y[k]))
                if src.is_period[g] or int(src.precision[g]) != P_DAY:
                    x0 = max(float(mx(lay.x0[k])), x_left)
                    x1 = min(float(mx(lay.x1[k])), x_right)
                    x0, x1 = min(x0, float(mx(lay.mx[k])) - half * 0.7), max(x1, float(mx(lay.mx[k])) + half * 0.7)
                    painter.drawRoundedRect(QRectF(x0 - 3, y - half, x1 - x0 + 6, 2 * half), 4, 4)
                else:
                    painter.drawEllipse(QPointF(float(mx(lay.mx[k])), y), half + 1, half + 1)
            elif self.anchors is not None:
                xs, ys = self.anchors(np.array([g]))
                x = float(mx(lay.to_px(xs[0])))
                if x_left <= x <= x_right:
                    y = float(my(ys[0]))
                    painter.drawLine(QPointF(x, y - row_px), QPointF(x, y + row_px))
        self._paint_tags(painter, mx, my)
        painter.restore()

    def _paint_tags(self, painter: QPainter, mx, my) -> None:
        """Selected items always carry a readable name, even where rows are too tight for it
        (large type in presentation mode, crowded lanes): on a pill the layout placed."""
        lay, st = self.source.layout, self.source.style
        painter.setFont(st.label_font)
        for x, y, w, h, text in lay.tags:
            rect = self._frame_rect(lay, mx, my, x, y, w, h)
            back = QColor(st.background)
            back.setAlpha(235)
            painter.setPen(QPen(st.highlight, 1.2))
            painter.setBrush(back)
            painter.drawRoundedRect(rect, 5, 5)
            painter.setPen(st.foreground)
            painter.drawText(rect.adjusted(4, 0, -4, 0), int(Qt.AlignmentFlag.AlignVCenter), text)
            if self.painted is not None:
                self.painted.append(rect)


def highlight_half(row_px: float) -> float:
    """Half the height of a highlight outline in a row ``row_px`` tall."""
    return max(6.0, min(11.0, row_px * 0.5))


class ArrowLayer(_Base):
    """Typed links from the selected item to its linked timeline items, as labelled arrows
    (the relation chips are placed by the layout with every other label)."""

    def __init__(self, source: PaintSource) -> None:
        super().__init__(source)
        self.arrows: list[tuple[int, int, str]] = []  # (global src index, global dst index, relation)
        self.anchors: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None

    def paint(self, painter: QPainter, *_args) -> None:
        if not self.arrows or self.anchors is None:
            return
        lay, st = self.source.layout, self.source.style
        mx, my, _row_px = _device_mapper(painter, lay)
        ends = np.array([[a, b] for a, b, _ in self.arrows], dtype=np.int64)
        xs, ys = self.anchors(ends.ravel())
        px = mx(lay.to_px(xs)).reshape(-1, 2)
        py = my(ys).reshape(-1, 2)
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        colour = QColor(st.foreground)
        colour.setAlpha(200)
        pen = QPen(colour, 1.6)
        for n in range(len(self.arrows)):
            (x0, x1), (y0, y1) = px[n], py[n]
            if abs(x1 - x0) < 1 and abs(y1 - y0) < 1:
                continue
            cx, cy = arrow_control(float(x0), float(y0), float(x1), float(y1))
            ctrl = QPointF(cx, cy)
            path = QPainterPath(QPointF(x0, y0))
            path.quadTo(ctrl, QPointF(x1, y1))
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
            # head: along the tangent at the end
            tx, ty = x1 - ctrl.x(), y1 - ctrl.y()
            tl = math.hypot(tx, ty) or 1.0
            tx, ty = tx / tl, ty / tl
            size = 9.0
            head = QPainterPath(QPointF(x1, y1))
            head.lineTo(x1 - tx * size - ty * size * 0.5, y1 - ty * size + tx * size * 0.5)
            head.lineTo(x1 - tx * size + ty * size * 0.5, y1 - ty * size - tx * size * 0.5)
            head.closeSubpath()
            painter.setBrush(colour)
            painter.drawPath(head)
        # one chip per (source, relation), where the layout placed it clear of every label
        painter.setFont(st.small_font)
        chip = QColor(st.background)
        chip.setAlpha(225)
        for x, y, w, h, text in lay.chips:
            rect = self._frame_rect(lay, mx, my, x, y, w, h)
            painter.setPen(QPen(colour, 0.8))
            painter.setBrush(chip)
            painter.drawRoundedRect(rect, 3, 3)
            painter.setPen(st.foreground)
            painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), text)
            if self.painted is not None:
                self.painted.append(rect)
        painter.restore()
