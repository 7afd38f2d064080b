"""Pure helpers and graphics items behind the timeline: extents, level of detail, row packing, painting.

Nothing here talks to the store or to AppState. Day numbers are float days since 1970-01-01;
the plot's x axis is in seconds (day * 86400), as pyqtgraph's date axes count.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
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

MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# Label steps per unit with the shortest gap (days) between two labelled ticks they give.
# Day ticks follow the month (1, 3, 5 ... or 1, 5, 10 ... 25) so a month always starts at a
# labelled "1"; a tick too close to the next month's 1st is left out.
_DAY_STEPS = ((1, 1), (2, 2), (5, 4), (10, 9))
_MONTH_STEPS = ((1, 28), (2, 59), (3, 89))
# Days at the 1st, 10th and 20th only while months alone would label fewer than four ticks
# (large type on a narrow window); over a longer view the months read better.
_SPARSE_DAYS_SPAN = 120.0
_YEAR_STEPS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
_MIN_MINOR_PX = 6.0  # unlabelled ticks closer than this are not drawn


def _day_to_month(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of day numbers."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def _month_to_day(months: np.ndarray) -> np.ndarray:
    """Day number of the 1st of each month (months since 1970-01)."""
    return months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _year_to_day(years: np.ndarray) -> np.ndarray:
    return (years - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)


def _day_ticks(lo: float, hi: float, step: int, min_gap: int) -> np.ndarray:
    """Day numbers in [lo, hi] labelled at this step: the 1st of each month, then every
    ``step``-th day of the month (3, 5 ... for 2; 5, 10 ... for 5), none closer than ``min_gap``
    days to the next month's 1st."""
    days = np.arange(math.ceil(lo), math.floor(hi) + 1, dtype=np.int64)
    if step == 1 or days.size == 0:
        return days
    month = _day_to_month(days)
    first = _month_to_day(month)
    dom = days - first + 1
    to_next = _month_to_day(month + 1) - days
    on_step = (dom % step == 0) if step in (5, 10) else ((dom - 1) % step == 0)
    return days[(dom == 1) | (on_step & (to_next >= min_gap))]


def _month_range(lo: float, hi: float) -> np.ndarray:
    """Months since 1970-01 whose 1st lies in [lo, hi]."""
    m0, m1 = _day_to_month(np.array([math.ceil(lo), math.floor(hi)], dtype=np.int64))
    months = np.arange(m0, m1 + 1, dtype=np.int64)
    return months[_month_to_day(months) >= lo]


def _year_range(lo: float, hi: float) -> np.ndarray:
    """Years whose 1 January lies in [lo, hi]."""
    y0, y1 = _day_to_month(np.array([math.ceil(lo), math.floor(hi)], dtype=np.int64)) // 12 + 1970
    years = np.arange(y0, y1 + 1, dtype=np.int64)
    return years[_year_to_day(years) >= lo]


@dataclass(frozen=True)
class AxisScale:
    """What the date axis labels at one zoom: the unit and step of the labelled (major) ticks,
    the unit and step of the unlabelled (minor) ones, and the form of the context row."""

    unit: str  # "day" | "month" | "year"
    step: int
    min_gap: int  # shortest gap in days between two labelled ticks
    minor_unit: str | None = None
    minor_step: int = 1
    long_context: bool = False  # "August 2025" rather than "Aug 2025"


@dataclass
class AxisPlan:
    """The ticks and labels of one view range, in days."""

    scale: AxisScale
    major: np.ndarray  # day numbers of the labelled ticks
    labels: list[str]
    minor: np.ndarray
    # the periods (months over days, years over months) the view overlaps: start, end, label
    context: list[tuple[float, float, str]]
    bounds: np.ndarray  # period starts inside the view: they get a separator in the context row


def choose_scale(
    ppd: float, span_days: float, width: Callable[[str], float], context_width: Callable[[str], float], gap: float
) -> AxisScale:
    """The finest labelling whose widest label fits between two ticks with ``gap`` pixels to
    spare, at ``ppd`` pixels a day: days under their month, months under their year, or years."""
    digit = max("0123456789", key=width)
    day_w = width(digit * 2)
    month_w = max(width(m) for m in MONTH_ABBR)
    year_w = width(digit * 4)
    cdigit = max("0123456789", key=context_width)
    short_ctx = max(context_width(f"{m} {cdigit * 4}") for m in MONTH_ABBR)
    long_ctx = max(context_width(f"{m} {cdigit * 4}") for m in MONTH_NAMES)
    month_px = 28 * ppd
    # days only while each month also has room for its name: no day numbers without context
    if month_px >= short_ctx + gap:
        for step, min_gap in _DAY_STEPS:
            if step == 10 and span_days > _SPARSE_DAYS_SPAN:
                break
            if min_gap * ppd >= day_w + gap:
                minor = "day" if step > 1 and ppd >= _MIN_MINOR_PX else None
                return AxisScale("day", step, min_gap, minor, 1, month_px >= long_ctx + gap)
    for step, min_gap in _MONTH_STEPS:
        if min_gap * ppd >= month_w + gap:
            return AxisScale("month", step, min_gap, "month" if step > 1 else None, 1)
    for step in _YEAR_STEPS:
        if 365 * step * ppd >= year_w + gap:
            break
    # the finest year step dividing the label step that still leaves room between ticks
    minor_unit, minor_step = None, 1
    if step == 1:
        if month_px >= _MIN_MINOR_PX:
            minor_unit = "month"
    else:
        for sub in _YEAR_STEPS:
            if sub < step and step % sub == 0 and 365 * sub * ppd >= _MIN_MINOR_PX:
                minor_unit, minor_step = "year", sub
                break
    return AxisScale("year", step, 365 * step, minor_unit, minor_step)


def _unit_ticks(unit: str, step: int, lo: float, hi: float, min_gap: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Tick day numbers of a unit in [lo, hi] and the numbers they label (day of month,
    month 0-11, year)."""
    if unit == "day":
        days = _day_ticks(lo, hi, step, min_gap)
        return days, days - _month_to_day(_day_to_month(days)) + 1
    if unit == "month":
        months = _month_range(lo, hi)
        months = months[(months % 12) % step == 0]
        return _month_to_day(months), months % 12
    years = _year_range(lo, hi)
    years = years[years % step == 0]
    return _year_to_day(years), years


def plan_axis(lo: float, hi: float, scale: AxisScale) -> AxisPlan:
    """Ticks, labels and context periods for the days [lo, hi] at this scale."""
    major, numbers = _unit_ticks(scale.unit, scale.step, lo, hi, scale.min_gap)
    if scale.unit == "day":
        labels = [str(n) for n in numbers.tolist()]
    elif scale.unit == "month":
        labels = [MONTH_ABBR[n] for n in numbers.tolist()]
    else:
        labels = [str(n) for n in numbers.tolist()]
    if scale.minor_unit is None:
        minor = np.zeros(0, dtype=np.int64)
    else:
        minor, _ = _unit_ticks(scale.minor_unit, scale.minor_step, lo, hi)
        minor = minor[~np.isin(minor, major)]
    context: list[tuple[float, float, str]] = []
    bounds = np.zeros(0, dtype=np.int64)
    if scale.unit in ("day", "month"):
        first_month, last_month = _day_to_month(np.array([math.floor(lo), math.floor(hi)], dtype=np.int64))
        if scale.unit == "day":
            months = np.arange(first_month, last_month + 1, dtype=np.int64)
            starts, ends = _month_to_day(months), _month_to_day(months + 1)
            names = MONTH_NAMES if scale.long_context else MONTH_ABBR
            texts = [f"{names[m % 12]} {m // 12 + 1970}" for m in months.tolist()]
        else:
            years = np.arange(first_month // 12, last_month // 12 + 1, dtype=np.int64) + 1970
            starts, ends = _year_to_day(years), _year_to_day(years + 1)
            texts = [str(y) for y in years.tolist()]
        context = list(zip(starts.tolist(), ends.tolist(), texts, strict=True))
        bounds = starts[(starts >= lo) & (starts <= hi)]
    return AxisPlan(scale, major, labels, minor, context, bounds)


class DayAxis(pg.AxisItem):
    """The timeline's date axis (UTC, x in seconds): two rows of labels so every zoom reads.

    The upper row labels the major ticks (years; months; days); the lower row names the period
    they belong to (the year over months, the month and year over days), at each period's start
    and, for the period the view starts in, at the left edge. Labels are placed from measured
    widths, so they never touch. ``grid_values`` gives the lane layer the very ticks the axis
    draws, so it draws the grid under the records in one ``drawLines``.
    """

    def __init__(self, orientation: str = "bottom", **kwargs) -> None:
        super().__init__(orientation, **kwargs)
        self.autoSIPrefix = False
        self._widths: TextWidths | None = None
        self._context_widths: TextWidths | None = None
        self._plan_key: tuple[float, float, float] | None = None
        self._plan: AxisPlan | None = None
        self._fit_height()

    # --- fonts and size ---------------------------------------------------------------------

    def tick_font(self) -> QFont:
        return QFont(self.style["tickFont"] or self.font())

    def context_font(self) -> QFont:
        """The lower row's font: the tick font in bold, so the period reads as a heading."""
        font = self.tick_font()
        font.setBold(True)
        return font

    def _metrics(self) -> tuple[TextWidths, TextWidths]:
        if self._widths is None or self._context_widths is None:
            self._widths = TextWidths(self.tick_font())
            self._context_widths = TextWidths(self.context_font())
        return self._widths, self._context_widths

    def _gap(self) -> float:
        """Least room between two labels of a row: enough that neighbours never read as one."""
        return max(6.0, self._metrics()[0].width("0") * 0.8)

    def _rows(self) -> tuple[float, float, float, float]:
        """Top and height of the two label rows, from the axis line down."""
        widths, context = self._metrics()
        top = max(0, self.style["tickLength"]) + self.style["tickTextOffset"][1]
        h1 = widths.metrics.height()
        h2 = context.metrics.height()
        return top, h1, top + h1 + max(2.0, h1 * 0.15), h2

    def _fit_height(self) -> None:
        _top, _h1, top2, h2 = self._rows()
        self.setHeight(math.ceil(top2 + h2 + 3))

    def setStyle(self, **kwargs) -> None:
        super().setStyle(**kwargs)
        if hasattr(self, "_plan_key"):  # AxisItem.__init__ may style the axis before ours runs
            self._widths = self._context_widths = None
            self._plan_key = None
            self._fit_height()

    # --- ticks ------------------------------------------------------------------------------

    def plan(self, min_s: float, max_s: float, size: float) -> AxisPlan | None:
        """The ticks and labels for a range in seconds on an axis ``size`` pixels long; the last
        one is kept, as the axis and the grid ask for the same range in one frame."""
        span = max_s - min_s
        if not (span > 0 and size > 0 and math.isfinite(span)):
            return None
        key = (min_s, max_s, size)
        if key != self._plan_key or self._plan is None:
            widths, context = self._metrics()
            lo, hi = min_s / SECONDS_PER_DAY, max_s / SECONDS_PER_DAY
            scale = choose_scale(size / (hi - lo), hi - lo, widths.width, context.width, self._gap())
            self._plan, self._plan_key = plan_axis(lo, hi, scale), key
        return self._plan

    def tickValues(self, minVal, maxVal, size):  # noqa: N803 - pyqtgraph's signature
        plan = self.plan(minVal, maxVal, size)
        if plan is None:
            return []
        levels = [(plan.scale.min_gap * SECONDS_PER_DAY, (plan.major * SECONDS_PER_DAY).tolist())]
        if plan.minor.size:
            levels.append((SECONDS_PER_DAY, (plan.minor * SECONDS_PER_DAY).tolist()))
        return levels

    def tickStrings(self, values, scale, spacing):
        """Labels of tick positions (seconds) as the axis writes them at its last zoom."""
        plan = self._plan
        if plan is None:
            return ["" for _ in values]
        days = np.floor(np.asarray(values, dtype=np.float64) / SECONDS_PER_DAY + 0.5).astype(np.int64)
        text = dict(zip(plan.major.tolist(), plan.labels, strict=True))
        return [text.get(d, "") for d in days.tolist()]

    def length_px(self) -> float:
        """The axis length in device pixels, measured as AxisItem.generateDrawSpecs measures it."""
        bounds = self.mapRectFromParent(self.geometry())
        p1 = self.mapToDevice(bounds.topLeft() + QPointF(-1.0, 1.0))
        p2 = self.mapToDevice(bounds.topRight() + QPointF(1.0, 1.0))
        if p1 is None or p2 is None:
            return 0.0
        return math.hypot(p2.x() - p1.x(), p2.y() - p1.y())

    def grid_values(self, min_s: float, max_s: float) -> list[np.ndarray]:
        """Tick positions (seconds) per level, coarsest first, as the axis lays them out for this
        range: period starts (months over days, years over months), the other labelled ticks,
        the unlabelled ones."""
        plan = self.plan(min_s, max_s, self.length_px())
        if plan is None:
            return []
        levels = [plan.bounds, plan.major[~np.isin(plan.major, plan.bounds)], plan.minor]
        return [level * SECONDS_PER_DAY for level in levels if level.size]

    # --- drawing ----------------------------------------------------------------------------

    def generateDrawSpecs(self, p):
        """Axis line, ticks and both label rows, in the axis's own coordinates.

        Text specs are (rect, flags, text) as pyqtgraph's; the context row's are left-aligned,
        which is how ``drawPicture`` tells them apart."""
        if self.orientation not in ("top", "bottom"):
            return super().generateDrawSpecs(p)
        bounds = self.mapRectFromParent(self.geometry())
        length = self.length_px()
        lo_s, hi_s = float(self.range[0]), float(self.range[1])
        plan = self.plan(lo_s, hi_s, length)
        if plan is None or bounds.width() <= 0:
            return None
        widths, context = self._metrics()
        left, right = bounds.left(), bounds.right()
        lo, hi = lo_s / SECONDS_PER_DAY, hi_s / SECONDS_PER_DAY
        scale_px = bounds.width() / (hi - lo)

        def px(days: np.ndarray) -> np.ndarray:
            return left + (days - lo) * scale_px

        axis_y = bounds.top()
        axis_spec = (self.pen(), QPointF(left - 1.0, axis_y + 1.0), QPointF(right + 1.0, axis_y + 1.0))
        tick_len = float(self.style["tickLength"])
        tick_specs = []
        for level, (days, alpha) in enumerate(((plan.major, 255), (plan.minor, 110))):
            pen = QPen(self.tickPen())
            colour = QColor(pen.color())
            colour.setAlpha(alpha)
            pen.setColor(colour)
            tip = axis_y + tick_len / (1.0 + 0.5 * level)
            for x in px(days).tolist():
                if left <= x <= right:
                    tick_specs.append((pen, QPointF(x, axis_y), QPointF(x, tip)))

        row1, h1, row2, h2 = self._rows()
        row1 += axis_y
        row2 += axis_y
        text_specs: list[tuple[QRectF, Qt.AlignmentFlag, str]] = []
        centre = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextDontClip
        gap = self._gap()
        last_end = -math.inf
        for x, text in zip(px(plan.major).tolist(), plan.labels, strict=True):
            w = widths.width(text)
            x0 = x - w / 2
            # a label cut by the edge is left out, as is one that would touch its neighbour
            if x0 < left or x0 + w > right or x0 < last_end + gap:
                continue
            text_specs.append((QRectF(x0, row1, w, h1), centre, text))
            last_end = x0 + w

        if plan.context:
            flush = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextDontClip
            sep_pen = QPen(self.tickPen())
            sep_colour = QColor(sep_pen.color())
            sep_colour.setAlpha(140)
            sep_pen.setColor(sep_colour)
            inset = max(3.0, widths.width("0") * 0.5)
            last_end = -math.inf
            for n, (start, end, text) in enumerate(plan.context):
                a = max(float(px(np.float64(max(start, lo)))), left)
                b = min(float(px(np.float64(min(end, hi)))), right)
                if start >= lo:  # the period starts in view: a separator before its name
                    tick_specs.append((sep_pen, QPointF(a, row2 - 1.0), QPointF(a, row2 + h2)))
                for candidate in self._context_forms(text, plan.scale, first=n == 0 and start < lo):
                    w = context.width(candidate)
                    x0 = a + inset
                    if x0 + w <= b - inset and x0 >= last_end + gap:
                        text_specs.append((QRectF(x0, row2, w, h2), flush, candidate))
                        last_end = x0 + w
                        break
        return axis_spec, tick_specs, text_specs

    @staticmethod
    def _context_forms(text: str, scale: AxisScale, first: bool) -> tuple[str, ...]:
        """The context label and shorter forms to fall back on where it does not fit: a month
        named in full gets its short form, and the view's first, partly shown month its bare
        name (the next month's label carries the year)."""
        if scale.unit != "day":
            return (text,)
        name, year = text.rsplit(" ", 1)
        short = name if name in MONTH_ABBR else MONTH_ABBR[MONTH_NAMES.index(name)]
        forms = (text, f"{short} {year}") if scale.long_context else (text,)
        return (*forms, short) if first else forms

    def drawPicture(self, p, axisSpec, tickSpecs, textSpecs):  # noqa: N803 - pyqtgraph's
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        pen, p1, p2 = axisSpec
        p.setPen(pen)
        p.drawLine(p1, p2)
        for pen, p1, p2 in tickSpecs:
            p.setPen(pen)
            p.drawLine(p1, p2)
        p.setPen(self.textPen())
        p.setClipRect(self.boundingRect().toAlignedRect())
        flush = Qt.AlignmentFlag.AlignLeft
        for bold in (False, True):
            p.setFont(self.context_font() if bold else self.tick_font())
            for rect, flags, text in textSpecs:
                if bool(flags & flush) == bold:
                    p.drawText(rect, int(flags), text)


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

    def _paint_bins(
        self, painter: QPainter, lane: LaneGeometry, bins: Bins, mx, my, row_px: float, under: QColor
    ) -> None:
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
