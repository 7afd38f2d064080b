"""Level of detail of the timeline: each record's drawn extent, which records of a lane a view
shows one by one, and per-pixel-column aggregates when there are too many. Pure numpy, no Qt.

Day numbers are float days since 1970-01-01; the plot's x axis is in seconds (day * 86400), as
pyqtgraph's date axes count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

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
# ...and, over all lanes of a view, at most this many items are drawn one by one: past it the
# lanes with the most items in view are drawn as aggregates first. Each item drawn costs layout and
# paint on every frame; with nine sector lanes of a thousand items each at the full view, a pan
# took 40 ms a frame. At 2,000 the density sweep found a one-year view at 860,000 records
# drawing 1,958 items in six rows, stacked a dozen deep: 15.5 ms a frame on a quiet machine and
# past 16.7 on a busy one, against 10.3 ms at 1,500 (A/B, the same run); markers that close
# read better as the lane's bins anyway. (At 1,200 a ten-day view of the test data, crossed by
# 1,100 long periods, showed them as one bin at its left edge.)
VIEW_DETAIL_LIMIT = 1500
# Columns of this many pixels make one aggregate bin.
BIN_PX = 2


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
        keys = self.colour.astype(key_type) * np.asarray(self._stride, dtype=key_type)
        self._cat_keys = np.sort(keys + np.arange(n, dtype=key_type))

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
