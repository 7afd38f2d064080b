"""Pure helpers and graphics items behind the timeline: extents, level of detail, row packing, painting.

Nothing here talks to the store or to AppState. Day numbers are float days since 1970-01-01;
the plot's x axis is in seconds (day * 86400) so pyqtgraph's DateAxisItem can read it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import pyqtgraph as pg
from pyqtgraph.graphicsItems.DateAxisItem import (
    DAY_SPACING,
    MONTH_SPACING,
    YEAR_SPACING,
    TickSpec,
    ZoomLevel,
    makeMStepper,
    makeSStepper,
    makeYStepper,
)
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QLinearGradient, QPainter, QPainterPath, QPen

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


def aggregate(
    lo: np.ndarray,
    amount: np.ndarray,
    colour: np.ndarray,
    a: float,
    b: float,
    width_px: float,
    bin_px: int = BIN_PX,
) -> Bins:
    """Bin items (already known to overlap [a, b]) by the pixel column of their visible start."""
    n_bins = max(1, math.ceil(width_px / bin_px))
    if lo.size == 0:
        e = np.zeros(0, dtype=np.int64)
        return Bins(e, e.copy(), np.zeros(0), e.copy(), bin_px)
    ppd = width_px / max(b - a, 1e-9)
    col = np.clip(((np.maximum(lo, a) - a) * ppd // bin_px).astype(np.int64), 0, n_bins - 1)
    counts = np.bincount(col, minlength=n_bins)
    usd = np.bincount(col, weights=np.nan_to_num(amount, nan=0.0), minlength=n_bins)
    n_cat = int(colour.max()) + 1 if colour.size else 1
    per_cat = np.bincount(col * n_cat + colour, minlength=n_bins * n_cat).reshape(n_bins, n_cat)
    used = np.flatnonzero(counts)
    return Bins(used, counts[used], usd[used], per_cat[used].argmax(axis=1), bin_px)


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
    ends_full: list[float] = []
    ends_bare: list[float] = []
    unlimited = n_rows <= 0
    order = np.argsort(x0, kind="stable")
    for i in order.tolist():
        start, full, bare = float(x0[i]), float(x1_full[i]), float(x1_bare[i])
        row = next((r for r, e in enumerate(ends_full) if e + gap <= start), None)
        if row is None and (unlimited or len(ends_full) < n_rows):
            ends_full.append(-np.inf)
            ends_bare.append(-np.inf)
            row = len(ends_full) - 1
        if row is None:
            row = next((r for r, e in enumerate(ends_bare) if e + gap <= start), None)
        if row is None:
            row = int(np.argmin(ends_bare))
        rows[i] = row
        ends_full[row] = max(ends_full[row], full)
        ends_bare[row] = max(ends_bare[row], bare)
    return rows, len(ends_full)


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

    def elide(self, text: str, max_px: float) -> str:
        if self.width(text) <= max_px:
            return text
        return self.metrics.elidedText(text, Qt.TextElideMode.ElideRight, max_px)


# --- date axis ----------------------------------------------------------------------------


def _year_month_level() -> ZoomLevel:
    # months carry their year: a view from August to November still says which year it is
    return ZoomLevel(
        [
            TickSpec(YEAR_SPACING, makeYStepper(1), "%Y", autoSkip=[1, 2, 5, 10, 25]),
            TickSpec(MONTH_SPACING, makeMStepper(1), "%b %Y"),
        ],
        "Mmm 9999",
    )


def _day_label_level() -> ZoomLevel:
    return ZoomLevel([TickSpec(DAY_SPACING, makeSStepper(DAY_SPACING), "%d %b %Y", autoSkip=[1, 2, 7])], "99 Mmm 9999")


def _month_day_level() -> ZoomLevel:
    return ZoomLevel(
        [
            TickSpec(MONTH_SPACING, makeMStepper(1), "%b %Y"),
            TickSpec(DAY_SPACING, makeSStepper(DAY_SPACING), "%d", autoSkip=[1, 5, 10]),
        ],
        "Mmm 99",
    )


class DayAxis(pg.DateAxisItem):
    """A DateAxisItem in UTC that never drops below whole days (no hour ticks)."""

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
    # aggregated lanes: (lane index, bins)
    bins: list[tuple[int, Bins]] = field(default_factory=list)

    def to_px(self, day: float | np.ndarray):
        return (np.asarray(day, dtype=np.float64) - self.view_lo) * self.ppd

    def to_day(self, px: float) -> float:
        return self.view_lo + px / self.ppd


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

    def set_bounds(self, rect: QRectF) -> None:
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = QRectF(rect)

    def boundingRect(self) -> QRectF:
        return self._rect

    def dataBounds(self, axis, frac=1.0, orthoRange=None):  # noqa: N803 - keep pyqtgraph's auto-range out of it
        return None


class LaneLayer(_Base):
    """All lanes: zebra bands, aggregated bins, and the items in view (one item for everything)."""

    def paint(self, painter: QPainter, *_args) -> None:
        src = self.source
        lay, st = src.layout, src.style
        mx, my, row_px = _device_mapper(painter, lay)
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        x_left, x_right = float(mx(0.0)), float(mx(lay.width_px))
        # lanes: alternate soft bands and a separator line
        for n, lane in enumerate(src.lanes):
            y0, y1 = float(my(lane.top)), float(my(lane.bottom))
            if n % 2 == 1:
                painter.fillRect(QRectF(x_left, y0, x_right - x_left, y1 - y0), st.band)
            if n:
                painter.setPen(QPen(st.muted, 1))
                painter.drawLine(QPointF(x_left, y0), QPointF(x_right, y0))
        # aggregated lanes
        for lane_no, bins in lay.bins:
            self._paint_bins(painter, src.lanes[lane_no], bins, mx, my, row_px)
        # detail items
        n = lay.idx.size
        if n:
            self._paint_items(painter, mx, my, row_px)
        painter.restore()

    def _paint_bins(self, painter: QPainter, lane: LaneGeometry, bins: Bins, mx, my, row_px: float) -> None:
        st = self.source.style
        if bins.count.size == 0:
            return
        y_mid = float(my(lane.centre))
        full = max(4.0, row_px * lane.rows * 0.85)
        scale = np.log1p(bins.count) / math.log1p(max(int(bins.count.max()), 1))
        heights = np.maximum(2.0, full * scale)
        xs = mx(bins.column * bins.bin_px)
        w = max(1.0, float(mx(bins.bin_px) - mx(0)))
        painter.setPen(Qt.PenStyle.NoPen)
        for cat in np.unique(bins.colour).tolist():
            sel = np.flatnonzero(bins.colour == cat)
            base = QColor(st.colours[cat % len(st.colours)])
            # opacity by count, in three steps so each colour is a handful of drawRects calls
            for lo_s, hi_s, alpha in ((0.0, 0.34, 110), (0.34, 0.67, 180), (0.67, 1.01, 255)):
                part = sel[(scale[sel] >= lo_s) & (scale[sel] < hi_s)]
                if part.size == 0:
                    continue
                base.setAlpha(alpha)
                painter.setBrush(base)
                rects = [QRectF(float(xs[i]), y_mid - heights[i] / 2, w, float(heights[i])) for i in part.tolist()]
                painter.drawRects(rects)

    def _paint_items(self, painter: QPainter, mx, my, row_px: float) -> None:
        src, lay, st = self.source, self.source.layout, self.source.style
        xs0, xs1, cs0, cs1, ms = mx(lay.x0), mx(lay.x1), mx(lay.c0), mx(lay.c1), mx(lay.mx)
        lxs = mx(lay.label_x)
        ys = my(lay.y)
        marker_r = max(3.0, min(6.5, row_px * 0.36))
        fm = QFontMetricsF(st.label_font)
        text_dy = (fm.ascent() - fm.descent()) / 2.0
        show_text = row_px >= fm.height() * 0.8
        painter.setFont(st.label_font)
        for k in range(lay.idx.size):
            i = int(lay.idx[k])
            colour = QColor(st.colours[int(src.colour[i]) % len(st.colours)])
            faded = not bool(src.passes[i])
            alpha = 70 if faded else 255
            y = float(ys[k])
            prec = int(src.precision[i])
            x0, x1, c0, c1, m = float(xs0[k]), float(xs1[k]), float(cs0[k]), float(cs1[k]), float(ms[k])
            if src.is_period[i] or prec != P_DAY:
                if src.is_period[i] and int(src.kind_code[i]) != 0:
                    thick = max(4.0, min(row_px * 0.62, 4.0 + float(src.thickness[i]) * row_px * 0.5))
                    a_full = int(alpha * (0.8 if not faded else 1))
                else:
                    thick = max(4.0, min(row_px * 0.5, 9.0))
                    a_full = int(alpha * 0.55)
                self._soft_bar(painter, x0, x1, c0, c1, y, thick, colour, a_full, prec == P_DAY)
            if not src.is_period[i] or int(src.kind_code[i]) == 0:
                self._marker(painter, m, y, marker_r, colour, alpha, int(src.kind_code[i]) == 0, prec)
            if show_text and lay.labels[k]:
                fg = QColor(st.foreground)
                fg.setAlpha(110 if faded else 255)
                painter.setPen(fg)
                painter.drawText(QPointF(float(lxs[k]), y + text_dy), lay.labels[k])

    @staticmethod
    def _soft_bar(painter, x0, x1, c0, c1, y, thick, colour: QColor, alpha: int, crisp: bool) -> None:
        if x1 - x0 < 0.5:
            x0, x1 = x0 - 0.5, x1 + 0.5
        rect = QRectF(x0, y - thick / 2, x1 - x0, thick)
        solid = QColor(colour)
        solid.setAlpha(alpha)
        if crisp:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(solid)
            painter.drawRoundedRect(rect, 2, 2)
            return
        clear = QColor(colour)
        clear.setAlpha(0)
        grad = QLinearGradient(x0, 0, x1, 0)
        span = max(x1 - x0, 1e-6)
        f0 = min(max((c0 - x0) / span, 0.0), 1.0)
        f1 = min(max((c1 - x0) / span, f0), 1.0)
        grad.setColorAt(0.0, clear)
        grad.setColorAt(f0, solid)
        grad.setColorAt(f1, solid)
        grad.setColorAt(1.0, clear)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(grad))
        painter.drawRect(rect)

    @staticmethod
    def _marker(painter, x, y, r, colour: QColor, alpha: int, is_event: bool, prec: int) -> None:
        c = QColor(colour)
        c.setAlpha(alpha)
        if prec == P_APPROX:
            pen = QPen(c, 1.8, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
        else:
            edge = QColor(c).darker(140)
            edge.setAlpha(alpha)
            painter.setPen(QPen(edge, 1.0))
            painter.setBrush(c)
        if is_event:
            painter.drawPath(diamond(x, y, r * 1.15))
        else:
            painter.drawEllipse(QPointF(x, y), r * 0.85, r * 0.85)


class HighlightLayer(_Base):
    """Outlines of the highlighted items, drawn above everything else."""

    def __init__(self, source: PaintSource) -> None:
        super().__init__(source)
        self.indices = np.zeros(0, dtype=np.int64)  # global indices
        self.anchors: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None
        self.label_of: Callable[[int], str] | None = None

    def paint(self, painter: QPainter, *_args) -> None:
        src, lay = self.source, self.source.layout
        if self.indices.size == 0:
            return
        mx, my, row_px = _device_mapper(painter, lay)
        tags: list[tuple[float, float, float, int, int]] = []  # (x, y, right edge, k, g)
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pen = QPen(src.style.highlight, 3.0)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        pos = {int(g): k for k, g in enumerate(lay.idx.tolist())}
        x_left, x_right = float(mx(0.0)) - 20, float(mx(lay.width_px)) + 20
        half = max(6.0, min(11.0, row_px * 0.5))
        for g in self.indices.tolist():
            k = pos.get(int(g))
            if k is not None:
                y = float(my(lay.y[k]))
                if src.is_period[g] or int(src.precision[g]) != P_DAY:
                    x0 = max(float(mx(lay.x0[k])), x_left)
                    x1 = min(float(mx(lay.x1[k])), x_right)
                    x0, x1 = min(x0, float(mx(lay.mx[k])) - half * 0.7), max(x1, float(mx(lay.mx[k])) + half * 0.7)
                    painter.drawRoundedRect(QRectF(x0 - 3, y - half, x1 - x0 + 6, 2 * half), 4, 4)
                    tags.append((x1 + 8, y, x_right, k, int(g)))
                else:
                    painter.drawEllipse(QPointF(float(mx(lay.mx[k])), y), half + 1, half + 1)
                    tags.append((float(mx(lay.mx[k])) + half + 8, y, x_right, k, int(g)))
            elif self.anchors is not None:
                xs, ys = self.anchors(np.array([g]))
                x = float(mx(lay.to_px(xs[0])))
                if x_left <= x <= x_right:
                    y = float(my(ys[0]))
                    painter.drawLine(QPointF(x, y - row_px), QPointF(x, y + row_px))
        self._paint_tags(painter, tags, row_px)
        painter.restore()

    def _paint_tags(self, painter: QPainter, tags: list[tuple[float, float, float, int, int]], row_px: float) -> None:
        """Selected items always carry a readable name, even where rows are too tight for text
        (large type in presentation mode, crowded lanes): on a pill above their neighbours."""
        lay, st = self.source.layout, self.source.style
        fm = QFontMetricsF(st.label_font)
        rows_show_text = row_px >= fm.height() * 0.8
        if self.label_of is None:
            return
        painter.setFont(st.label_font)
        last_bottom = -1e9
        for x, y, right, k, g in sorted(tags, key=lambda t: t[1]):
            if rows_show_text and lay.labels[k]:
                continue  # the row already shows it in full or shortened
            text = fm.elidedText(self.label_of(g), Qt.TextElideMode.ElideRight, max(60.0, right - x - 12))
            h = fm.height() + 4
            top = max(y - h / 2, last_bottom + 2)
            rect = QRectF(x - 4, top, fm.horizontalAdvance(text) + 8, h)
            back = QColor(st.background)
            back.setAlpha(235)
            painter.setPen(QPen(st.highlight, 1.2))
            painter.setBrush(back)
            painter.drawRoundedRect(rect, 5, 5)
            painter.setPen(st.foreground)
            painter.drawText(rect.adjusted(4, 0, -4, 0), int(Qt.AlignmentFlag.AlignVCenter), text)
            last_bottom = rect.bottom()


class ArrowLayer(_Base):
    """Typed links from the selected item to its linked timeline items, as labelled arrows."""

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
        painter.setFont(st.small_font)
        fm = QFontMetricsF(st.small_font)
        placed: list[QRectF] = []
        group_size: dict[tuple[int, str], int] = {}
        for a_, _b, rel in self.arrows:
            group_size[(a_, rel)] = group_size.get((a_, rel), 0) + 1
        labelled: set[tuple[int, str]] = set()
        for n, (src_i, _b, relation) in enumerate(self.arrows):
            (x0, x1), (y0, y1) = px[n], py[n]
            if abs(x1 - x0) < 1 and abs(y1 - y0) < 1:
                continue
            # bow the curve sideways so arrows between neighbours stay readable
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            dxv, dyv = x1 - x0, y1 - y0
            length = math.hypot(dxv, dyv)
            bow = min(60.0, 0.2 * length + 12)
            nx, ny = -dyv / length, dxv / length
            if ny > 0:
                nx, ny = -nx, -ny
            ctrl = QPointF(cx + nx * bow, cy + ny * bow)
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
            # one label per (source, relation), at the curve's middle on a chip, nudged when it would overlap
            if (src_i, relation) in labelled:
                continue
            labelled.add((src_i, relation))
            count = group_size[(src_i, relation)]
            if count > 1:
                relation = f"{relation} ×{count}"
            mid = path.pointAtPercent(0.5)
            w, h = fm.horizontalAdvance(relation) + 8, fm.height() + 2
            rect = QRectF(mid.x() - w / 2, mid.y() - h / 2, w, h)
            for _ in range(6):
                if not any(rect.intersects(r) for r in placed):
                    break
                rect.translate(0, h + 1)
            placed.append(rect)
            chip = QColor(st.background)
            chip.setAlpha(225)
            painter.setPen(QPen(colour, 0.8))
            painter.setBrush(chip)
            painter.drawRoundedRect(rect, 3, 3)
            painter.setPen(st.foreground)
            painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), relation)
        painter.restore()
