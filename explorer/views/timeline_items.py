"""The timeline's graphics items: the date axis and the layers painting lanes, items,
highlights and arrows from numpy arrays.

What they draw is worked out by the Qt-free model (explorer.timeline); nothing here talks to
the store or to AppState. The plot's x axis is in seconds (day * 86400), as pyqtgraph's date
axes count.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
    QPaintEngine,
    QPainter,
    QPainterPath,
    QPen,
    QPicture,
    QPixmap,
    QStaticText,
)

from explorer.timeline.axis import MONTH_ABBR, MONTH_NAMES, AxisPlan, AxisScale, choose_scale, plan_axis
from explorer.timeline.labels import arrow_control
from explorer.timeline.lod import (
    P_APPROX,
    P_DAY,
    SECONDS_PER_DAY,
    Bins,
    LaneIndex,  # noqa: F401 - explorer.views.timeline_lanes imports it from here
    density_profile,
)
from explorer.timeline.model import LaneGeometry, Layout, TimelineModel

# Soft-edged bars share a gradient brush per colour and per certain part, quantised to 1/GRADIENT_STEPS.
GRADIENT_STEPS = 32
STATIC_TEXTS_KEPT = 4000  # row label texts kept laid out (a full view shows a few hundred)


# --- text ---------------------------------------------------------------------------------


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


class DayAxis(pg.AxisItem):
    """The timeline's date axis (UTC, x in seconds): two rows of labels so every zoom reads.

    The upper row labels the major ticks (years; months; days); the lower row names the period
    they belong to (the year over months, the month and year over days), at each period's start
    and, for the period the view starts in, at the left edge. Labels are placed from measured
    widths, so they never touch. ``grid_values`` gives the lane layer the very ticks the axis
    draws, so it draws the grid under the records in one ``drawLines``.
    """

    def __init__(self, orientation: str = "bottom", **kwargs) -> None:
        # before AxisItem's own __init__, which may style the axis (setStyle resets these)
        self._widths: TextWidths | None = None
        self._context_widths: TextWidths | None = None
        self._plan_key: tuple[float, float, float] | None = None
        self._plan: AxisPlan | None = None
        self._specs: Any = None
        super().__init__(orientation, **kwargs)
        self.autoSIPrefix = False
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

    def paint(self, p, *_args) -> None:
        """The axis drawn straight onto the plot: pyqtgraph records it into a QPicture and plays
        that back, recording every tick and label once more on every frame of a pan. The draw
        specs are kept until pyqtgraph drops its picture (the range, size or style changed)."""
        if getattr(self, "picture", None) is None:  # pyqtgraph's attribute, untyped there
            self._specs = self.generateDrawSpecs(p)
            self.picture = QPicture()  # not drawn: it marks the specs as current
        if self._specs is not None:
            p.save()
            self.drawPicture(p, *self._specs)
            p.restore()

    def drawPicture(self, p, axisSpec, tickSpecs, textSpecs):  # noqa: N803 - pyqtgraph's
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        pen, p1, p2 = axisSpec
        p.setPen(pen)
        p.drawLine(p1, p2)
        # the ticks of a level share their pen: one drawLines each
        by_pen: dict[int, tuple[QPen, list[float]]] = {}
        for pen, p1, p2 in tickSpecs:
            by_pen.setdefault(id(pen), (pen, []))[1].extend((p1.x(), p1.y(), p2.x(), p2.y()))
        for pen, coords in by_pen.values():
            p.setPen(pen)
            draw_lines(p, np.array(coords, dtype=np.float64).reshape(-1, 4))
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
    """What the painting items read (kept narrow so items stay dumb): the model's layout and
    per-record arrays, the palette's style, and the date axis's ticks for the grid."""

    def __init__(
        self,
        model: TimelineModel,
        style: Style,
        grid: Callable[[float, float], list[np.ndarray]] | None = None,
    ) -> None:
        self.model = model
        self.style = style
        # tick positions (seconds) per level for a range in seconds: the date axis's, for the grid
        self.grid = grid

    @property
    def layout(self) -> Layout:
        return self.model.layout

    @property
    def lanes(self) -> list[LaneGeometry]:
        return self.model.lanes

    @property
    def kind_code(self) -> np.ndarray:  # per item: timeline type code
        return self.model.data.record_type

    @property
    def precision(self) -> np.ndarray:
        return self.model.data.precision

    @property
    def colour(self) -> np.ndarray:
        return self.model.arrangement.colours.code

    @property
    def passes(self) -> np.ndarray:
        return self.model.passes

    @property
    def is_period(self) -> np.ndarray:
        return self.model.is_period

    @property
    def thickness(self) -> np.ndarray:  # span thickness factor 0..1 (log amount)
        return self.model.thickness

    @property
    def highlight(self) -> np.ndarray:  # indices of the highlighted items
        return self.model.highlight

    @property
    def arrows(self) -> list[tuple[int, int, str]]:  # (source index, target index, relation)
        return self.model.arrows

    def anchors(self, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(day, y) where arrows and highlight ticks attach to items ``g``."""
        return self.model.anchors(g)


def label_box(metrics: QFontMetricsF) -> tuple[float, float]:
    """(how far above its row's centre, height) of the box a row label's glyphs fill: capitals
    and ascenders down to descenders, drawn on the baseline that centres the text on the row.
    Placement keeps these boxes apart; the font's line spacing above the capitals is air."""
    ascent, descent = metrics.ascent(), metrics.descent()
    baseline = (ascent - descent) / 2.0
    top = baseline - 0.85 * ascent
    return -top, 0.85 * ascent + descent


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


def _native(array: np.ndarray, klass: type) -> tuple[Any, np.ndarray]:
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
    above, under = (top.redF(), top.greenF(), top.blueF()), (below.redF(), below.greenF(), below.blueF())
    mixed = (a * t + (1.0 - a) * b for t, b in zip(above, under, strict=True))
    return QColor.fromRgbF(*mixed)


OVERDRAW_LAYERS = 6  # strong translucent bars over a bar that leave ≤ 0.45⁶ (under 1%) of it showing
OVERDRAW_MIN_PX = 16.0  # narrower bars cost little to fill: not worth looking for what covers them


def hidden_under_bars(
    centre: np.ndarray,
    thick: np.ndarray,
    keys: np.ndarray,
    extent: tuple[np.ndarray, np.ndarray],
    solid: tuple[np.ndarray, np.ndarray],
    strong: np.ndarray,
) -> np.ndarray:
    """Which bars no one would see: in the same row, under at least OVERDRAW_LAYERS bars painted
    later (paint order: by ``keys``, stable) that are as thick, ``strong`` (alpha ≥ 140 of 255)
    and solid (``solid``: the x-range each paints at full strength) over the whole of what it
    paints (``extent``), both clipped to the view; looked for only in rows whose bars add up to
    more than seven times the view's width. Zoomed in to a year, hundreds of multi-year periods
    stack up in a few rows; filling each one's pixels was half a frame (3e5 records, one-year
    view) and changed less than 1% of what shows."""
    n = keys.size
    hidden = np.zeros(n, dtype=bool)
    lo, hi = extent
    solid_lo, solid_hi = solid
    wide = np.flatnonzero(hi - lo >= OVERDRAW_MIN_PX)
    if wide.size <= OVERDRAW_LAYERS:
        return hidden
    covers = strong & (solid_hi - solid_lo >= OVERDRAW_MIN_PX)
    rows, row_of = np.unique(np.round(centre[wide], 1), return_inverse=True)
    row_of = np.asarray(row_of).ravel()
    # Only rows stacked deep over the view are looked through: elsewhere (a full view's rows of
    # short bars) little is hidden, and looking cost more than filling it.
    view_px = max(float(hi.max() - lo.min()), 1.0)
    stacked = np.bincount(row_of, weights=hi[wide] - lo[wide], minlength=rows.size) / view_px
    deep = (stacked > OVERDRAW_LAYERS + 1) & (
        np.bincount(row_of, weights=covers[wide], minlength=rows.size) >= OVERDRAW_LAYERS
    )
    if not deep.any():
        return hidden
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(keys, kind="stable")] = np.arange(n)
    in_deep = deep[row_of]
    members, member_row = wide[in_deep], row_of[in_deep]
    by_row = np.argsort(member_row, kind="stable")
    cuts = np.flatnonzero(np.diff(member_row[by_row])) + 1
    for m in np.split(members[by_row], cuts):
        c = m[covers[m]]
        over = (
            (rank[c][None, :] > rank[m][:, None])
            & (thick[c][None, :] >= thick[m][:, None])
            & (solid_lo[c][None, :] <= lo[m][:, None])
            & (solid_hi[c][None, :] >= hi[m][:, None])
        )
        hidden[m[np.count_nonzero(over, axis=1) >= OVERDRAW_LAYERS]] = True
    return hidden


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


def marker_look(colour: QColor, variant: int) -> tuple[QPen, QBrush]:
    """Pen and brush of a marker variant: a dashed ring for an approximate date, filled otherwise."""
    c = QColor(colour)
    alpha = MARKER_ALPHA[variant & _FADED]
    c.setAlpha(alpha)
    if variant & _APPROX:
        return QPen(c, 1.8, Qt.PenStyle.DashLine), QBrush(Qt.BrushStyle.NoBrush)
    edge = QColor(c).darker(140)
    edge.setAlpha(alpha)
    return QPen(edge, 1.0), QBrush(c)


def marker_path(cx: float, cy: float, r: float, variant: int) -> QPainterPath:
    """A summit's or visit's diamond, or another record's disc, centred on (cx, cy)."""
    if variant & _EVENT:
        return diamond(cx, cy, r * 1.15)
    path = QPainterPath()
    path.addEllipse(QPointF(cx, cy), r * 0.85, r * 0.85)
    return path


def paints_pixels(painter: QPainter) -> bool:
    """Whether the painter fills pixels (screen, image, pixmap) rather than writing a vector
    file (SVG, PDF, a printer): the marker atlas is a pixmap, and vector engines draw a pixmap
    fragment as the whole pixmap squeezed into the fragment's box (SVG showed each marker as
    the atlas's dotted rings)."""
    engine = painter.paintEngine()
    kind = engine.type() if engine is not None else QPaintEngine.Type.Raster
    return kind in (QPaintEngine.Type.Raster, QPaintEngine.Type.OpenGL2, QPaintEngine.Type.OpenGL)


def draw_vector_markers(
    painter: QPainter,
    x: np.ndarray,
    y: np.ndarray,
    colour: np.ndarray,
    variant: np.ndarray,
    colours: list[QColor],
    r: float,
) -> None:
    """The markers as paths, one path per look (for SVG, PDF and printing)."""
    if x.size == 0 or not colours:
        return
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    keys = colour.astype(np.int64) * 8 + variant.astype(np.int64)
    for key, part in _grouped(keys):
        pen, brush = marker_look(colours[key // 8], key % 8)
        path = QPainterPath()
        for cx, cy in zip(x[part].tolist(), y[part].tolist(), strict=True):
            path.addPath(marker_path(cx, cy, r, key % 8))
        painter.setPen(pen)
        painter.setBrush(brush)
        painter.drawPath(path)


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
            for n, colour in enumerate(colours):
                cx, cy = (n + 0.5) * self.cell, (variant + 0.5) * self.cell
                pen, brush = marker_look(colour, variant)
                painter.setPen(pen)
                painter.setBrush(brush)
                painter.drawPath(marker_path(cx, cy, r, variant))
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


def _gradient_key(key: int) -> tuple[int, int, int, int]:
    """(colour, alpha, q0, q1) of a soft bar's brush key, as ``_paint_items`` packs it."""
    rest, q1 = divmod(key, GRADIENT_STEPS + 1)
    rest, q0 = divmod(rest, GRADIENT_STEPS + 1)
    return rest // 256, rest % 256, q0, q1


class GradientStrips:
    """The soft-edged bars of a frame with one ``drawPixmapFragments``: each brush (colour,
    opacity, certain part) painted once by Qt as a strip of an atlas pixmap, and each bar that
    strip stretched over the bar's rectangle. Per bar, a gradient brush costs Qt a new brush
    fitted to the bar (ObjectBoundingMode): ~1 µs each, most of a crowded view's bar drawing.
    The strip is 1,024 samples long, so the stretched gradient is the same ramp in the same
    colours: a screen of them differs from the brushes' in a level or two of 255 on a few
    per cent of their pixels (and up to ~20 on a few dozen end pixels)."""

    SAMPLES, ROWS = 1024, 340  # strips of 3 pixel rows (the middle one is drawn: no bleeding)

    def __init__(self) -> None:
        self.pixmap = QPixmap()
        self._row: dict[int, int] = {}

    def draw(self, painter: QPainter, rects: np.ndarray, keys: np.ndarray, brush: Callable[..., QBrush]) -> None:
        """``rects`` (n, 4: x, y, width, height in device pixels), each filled with its ``keys``'
        brush (``brush(colour, alpha, q0, q1)`` as LaneLayer._gradient makes it)."""
        if self.pixmap.isNull():
            self.pixmap = QPixmap(self.SAMPLES, 3 * self.ROWS)
            self._clear()
        # in the order drawRects per brush paints them (overlapping translucent bars blend in order)
        order = np.argsort(keys, kind="stable")
        rects, keys = rects[order], keys[order]
        unique, inverse = np.unique(keys, return_inverse=True)
        wanted = unique.tolist()
        if len(self._row) + sum(1 for k in wanted if k not in self._row) > self.ROWS:
            self._clear()  # full: start over (a frame needs far fewer strips than it holds)
        new = [k for k in wanted if k not in self._row]
        if new:
            p = QPainter(self.pixmap)
            p.setPen(Qt.PenStyle.NoPen)
            for key in new:
                row = self._row[key] = len(self._row)
                strip = QBrush(brush(*_gradient_key(key)))
                p.setBrush(strip)
                # the brush spans the strip as it spans a bar (ObjectBoundingMode)
                p.drawRect(QRectF(0.0, 3.0 * row, self.SAMPLES, 3.0))
            p.end()
        rows = np.array([self._row[k] for k in wanted], dtype=np.float64)[np.asarray(inverse).ravel()]
        # The pixels an unantialiased drawRects fills: edges rounded to whole pixels (qRound).
        # The strip's part over those pixels is the part of the bar's gradient there, so each
        # pixel takes the gradient at its centre, as the brush gives it.
        x, y, w, h = rects[:, 0], rects[:, 1], np.maximum(rects[:, 2], 1e-9), rects[:, 3]
        x1, x2 = np.floor(x + 0.5), np.floor(x + w + 0.5)
        y1, y2 = np.floor(y + 0.5), np.floor(y + h + 0.5)
        drawn = (x2 > x1) & (y2 > y1)
        if not drawn.all():
            x, w, x1, x2, y1, y2, rows = (v[drawn] for v in (x, w, x1, x2, y1, y2, rows))
        n = int(x1.size)
        if n == 0:
            return
        frags = np.empty((n, 10), dtype=np.float64)
        frags[:, 0], frags[:, 1] = (x1 + x2) / 2, (y1 + y2) / 2  # target centre
        frags[:, 2] = (x1 - x) / w * self.SAMPLES  # source: the strip under those pixels
        frags[:, 3] = 3.0 * rows + 1.0  # its middle row
        frags[:, 4] = (x2 - x1) / w * self.SAMPLES
        frags[:, 5] = 1.0
        frags[:, 6] = w / self.SAMPLES  # scale: back to the target's pixels
        frags[:, 7] = y2 - y1
        frags[:, 8], frags[:, 9] = 0.0, 1.0  # rotation, opacity
        painter.save()
        # nearest sample: a strip of 1,024 holds the ramp finer than any bar's pixels, and
        # interpolating them costs Qt three times the fill
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        ptr, _alive = _native(frags, QPainter.PixmapFragment)  # the array must outlive the call
        painter.drawPixmapFragments(ptr, n, self.pixmap)
        painter.restore()

    def _clear(self) -> None:
        self.pixmap.fill(Qt.GlobalColor.transparent)
        self._row = {}

    def reset(self) -> None:
        """Forget every strip (the colours changed)."""
        if not self.pixmap.isNull():
            self._clear()


class LaneLayer(_Base):
    """All lanes: zebra bands, aggregated bins, and the items in view (one item for everything).

    Painting is vectorised: bins and bars go out as a few ``drawRects`` over numpy arrays (grouped
    by colour and opacity), markers as one ``drawPixmapFragments`` from a sprite atlas, labels as
    kept static texts; no Python work per record except for the labels actually shown.
    """

    def __init__(self, source: PaintSource) -> None:
        super().__init__(source)
        self._atlas = MarkerAtlas()
        # when a list: (lane, device rectangles) of each density painted since it was set (tests)
        self.painted_density: list[tuple[LaneGeometry, np.ndarray]] | None = None
        self._gradients: dict[tuple[int, int, int, int], QBrush] = {}
        self._gradient_colours: tuple = ()
        self._strips = GradientStrips()
        self.strip_bars = True  # False: soft-edged bars by drawRects with their gradient (tests compare)
        self.static_labels = True  # False: row labels by drawText (tests compare)
        self.cull_overdraw = True  # False: every soft bar filled, also under others (tests compare)
        self._static: dict[str, QStaticText] = {}
        self._static_font = ""

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
        # from the air above the first lane to the last lane's floor: within the view, so a device
        # that does not clip to it (an SVG viewer) shows no grid over the date axis
        y0, y1 = float(my(min(src.lanes[0].top, lay.y_origin))), float(my(src.lanes[-1].bottom))
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
            self._strips.reset()  # its strips are of the old colours
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
                crisp_keys = colour[b][c] * 256 + alpha[c]
                if self.cull_overdraw:  # an exact bar is solid all along
                    reach = (left, np.maximum(right, left))
                    shown = ~hidden_under_bars(ys[b][c], rects[c, 3], crisp_keys, reach, reach, alpha[c] >= 140)
                    clipped, crisp_keys = clipped[shown], crisp_keys[shown]
                for key, part in _grouped(crisp_keys):
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
                soft_rects = rects[soft]
                if self.cull_overdraw:  # solid between the days it certainly covers
                    view = (x_left - 4.0, x_right + 4.0)
                    reach = np.clip(soft_rects[:, 0], *view), np.clip(soft_rects[:, 0] + soft_rects[:, 2], *view)
                    certain = np.clip(mx(lay.c0[b][soft]), *view), np.clip(mx(lay.c1[b][soft]), *view)
                    strong = alpha[soft] >= 140
                    shown = ~hidden_under_bars(ys[b][soft], soft_rects[:, 3], keys, reach, certain, strong)
                    soft_rects, keys = soft_rects[shown], keys[shown]
                if self.strip_bars and paints_pixels(painter):
                    self._strips.draw(painter, soft_rects, keys, self._gradient)
                else:
                    for key, part in _grouped(keys):
                        painter.setBrush(self._gradient(*_gradient_key(key)))
                        draw_rects(painter, soft_rects[part])
        # markers: points, and summits/visits (a period visit carries its diamond too)
        has_marker = ~period | is_event
        if has_marker.any():
            k = np.flatnonzero(has_marker)
            marker_r = max(3.0, min(6.5, row_px * 0.36))
            variant = (faded[k] * _FADED + (precision[k] == P_APPROX) * _APPROX + is_event[k] * _EVENT).astype(np.int64)
            if paints_pixels(painter):
                self._atlas.ensure(st.colours, marker_r, painter.device().devicePixelRatioF())
                self._atlas.draw(painter, mx(lay.mx[k]), ys[k], colour[k], variant)
            else:
                draw_vector_markers(painter, mx(lay.mx[k]), ys[k], colour[k], variant, st.colours, marker_r)
        self._paint_labels(painter, mx, ys, faded, row_px)

    def _paint_labels(self, painter: QPainter, mx, ys: np.ndarray, faded: np.ndarray, row_px: float) -> None:
        """Only the labels the layout placed (bounded by the room on screen, not by the record
        count; placement keeps them apart), as QStaticText kept per text: a pan shows mostly
        the texts of the frame before, and a kept text is not shaped again (drawText's shaping
        was a sixth of a full-view frame at 1e4 records, ~1 ms of 2.5 for the labels at 3e3).
        ``static_labels = False`` draws them with drawText, which tests compare pixel for pixel.
        Sprites of the drawn text (exactly drawText's pixels at whole-pixel starts) won only
        where a frame revisits the labels of the one before, and cost more than the text in a
        one-way zoom, where most labels are newly shortened."""
        lay, st = self.source.layout, self.source.style
        if not lay.labels:
            return
        fm = QFontMetricsF(st.label_font)
        text_dy = (fm.ascent() - fm.descent()) / 2.0  # baseline that centres the text on the row
        top_dy = text_dy - fm.ascent()  # drawStaticText places the text's top left, not its baseline
        above, box_h = label_box(fm)
        xl, yl, fade_of = mx(lay.label_x).tolist(), ys.tolist(), faded.tolist()
        painter.setFont(st.label_font)
        shown = [k for k, text in enumerate(lay.labels) if text]
        # Kept static texts only where they were checked to land on drawText's pixels: painted
        # into pixels after the bars came from strips. After bars filled with gradient brushes
        # (vector output) they sat 2 px to the left, for a reason not found.
        static = self.static_labels and self.strip_bars and paints_pixels(painter)
        if static:
            self._keep_static_for(st.label_font)
        for fade in (False, True):
            fg = QColor(st.foreground)
            fg.setAlpha(110 if fade else 255)
            painter.setPen(fg)
            for k in shown:
                if fade_of[k] == fade:
                    x, y, text = xl[k], yl[k], lay.labels[k]
                    if static:
                        painter.drawStaticText(QPointF(x, y + top_dy), self._static_text(text))
                    else:
                        painter.drawText(QPointF(x, y + text_dy), text)
                    if self.painted is not None:
                        self.painted.append(QRectF(x, y - above, fm.horizontalAdvance(text), box_h))

    def _keep_static_for(self, font: QFont) -> None:
        """The static texts are kept for one font: another (Ctrl +/-, presentation) starts afresh."""
        key = font.key()
        if key != self._static_font:
            self._static_font = key
            self._static.clear()

    def _static_text(self, text: str) -> QStaticText:
        found = self._static.get(text)
        if found is None:
            if len(self._static) >= STATIC_TEXTS_KEPT:
                self._static.clear()  # a long drag through many labels: start again, cheaply
            found = self._static[text] = QStaticText(text)
            found.setTextFormat(Qt.TextFormat.PlainText)
        return found


class HighlightLayer(_Base):
    """Outlines of the highlighted items, drawn above everything else, and the name pills the
    layout placed for those whose row label would be cut."""

    def paint(self, painter: QPainter, *_args) -> None:
        src, lay = self.source, self.source.layout
        if src.highlight.size == 0:
            return
        mx, my, row_px = _device_mapper(painter, lay)
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pen = QPen(src.style.highlight, 3.0)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        x_left, x_right = float(mx(0.0)) - 20, float(mx(lay.width_px)) + 20
        half = highlight_half(row_px)
        highlight = src.highlight
        laid_out = np.isin(highlight, lay.idx)
        if laid_out.any():
            pos = {int(g): k for k, g in enumerate(lay.idx.tolist())}
            for g in highlight[laid_out].tolist():
                k = pos[int(g)]
                y = float(my(lay.y[k]))
                if src.is_period[g] or int(src.precision[g]) != P_DAY:
                    x0 = max(float(mx(lay.x0[k])), x_left)
                    x1 = min(float(mx(lay.x1[k])), x_right)
                    x0, x1 = min(x0, float(mx(lay.mx[k])) - half * 0.7), max(x1, float(mx(lay.mx[k])) + half * 0.7)
                    painter.drawRoundedRect(QRectF(x0 - 3, y - half, x1 - x0 + 6, 2 * half), 4, 4)
                else:
                    painter.drawEllipse(QPointF(float(mx(lay.mx[k])), y), half + 1, half + 1)
        if not laid_out.all():
            # items drawn in a density (or off screen): a tick where each sits, in one drawLines;
            # a company with thousands of deals highlights thousands of them
            days, ys = src.anchors(highlight[~laid_out])
            xs = np.asarray(mx(lay.to_px(days)), dtype=np.float64)
            ys = np.asarray(my(ys), dtype=np.float64)
            inside = (xs >= x_left) & (xs <= x_right)
            xs, ys = xs[inside], ys[inside]
            draw_lines(painter, np.column_stack((xs, ys - row_px, xs, ys + row_px)))
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

    def paint(self, painter: QPainter, *_args) -> None:
        arrows = self.source.arrows
        if not arrows:
            return
        lay, st = self.source.layout, self.source.style
        mx, my, _row_px = _device_mapper(painter, lay)
        ends = np.array([[a, b] for a, b, _ in arrows], dtype=np.int64)
        xs, ys = self.source.anchors(ends.ravel())
        px = mx(lay.to_px(xs)).reshape(-1, 2)
        py = my(ys).reshape(-1, 2)
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        colour = QColor(st.foreground)
        colour.setAlpha(200)
        pen = QPen(colour, 1.6)
        for n in range(len(arrows)):
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
