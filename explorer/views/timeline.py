"""The timeline: every dated record of the partnership in lanes, linked to the selection and the filters.

Public API speaks in day numbers (float days since 1970-01-01); the plot's x axis is in seconds
(day * 86400) so pyqtgraph's date axis reads it. Drawing is three GraphicsObjects (lanes and items,
highlight, arrows) painting from numpy arrays, whatever the number of records.
"""

from __future__ import annotations

import html
import logging
import math
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QDate, QEvent, QObject, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QAccessible, QAccessibleEvent, QColor, QFont, QFontMetricsF, QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from explorer import models as m
from explorer.state import AppState, RecordRef
from explorer.store import Filters, StoreError, TimelineData
from explorer.store.queries import TIMELINE_TYPES, TYPE_CODE
from explorer.views import timeline_keys
from explorer.views.theme import BASE_POINT_SIZE
from explorer.views.timeline_items import (
    P_DAY,
    SECONDS_PER_DAY,
    ArrowLayer,
    DayAxis,
    HighlightLayer,
    LaneGeometry,
    LaneLayer,
    Layout,
    PaintSource,
    Style,
    TextWidths,
    arrow_control,
    crowding_limit,
    distinguishing_tails,
    format_usd,
    label_box,
    label_priority,
    label_room,
    pack_rows,
    place_labels,
    uncertainty_extents,
)
from explorer.views.timeline_lanes import KIND_NAMES, Arrangement, Groupings, arrange, positions

log = logging.getLogger("explorer.views.timeline")

LANE_MODES = {"kind": "By kind", "sector": "By sector", "country": "By country"}
COLOUR_MODES = {"kind": "Kind", "sector": "Sector", "country": "Country"}


MIN_DAY = float((np.datetime64("1950-01-01") - np.datetime64("1970-01-01")).astype(int))
MAX_DAY = float((np.datetime64("2060-12-31") - np.datetime64("1970-01-01")).astype(int))
MIN_SPAN_DAYS = 3.0
REVEAL_MIN_SPAN_DAYS = 120.0  # a picked item is shown with about four months around it
MIN_ROW_PX = 15.0
MAX_ROWS_PER_LANE = 16
TOP_PAD = 0.35  # rows of air above the first lane, for highlight outlines
LABEL_MAX_PX = 300.0
LABEL_MIN_PX = 48.0  # a label shortened below this (× the UI scale) says nothing: dropped instead
# Presentation mode shows fewer labels, each readable from the back: one cut below this share of
# its length is dropped instead (the selection keeps its whole name on a pill).
PRESENTATION_MIN_SHARE = 0.6
LABEL_GAP_PX = 4.0  # air after a label before the next one may start
ARROW_CHIP_PRIORITY = 5e5  # relation chips: after the selection's own names, before any other label
KEY_BITS = 40


def _record_keys(data: TimelineData) -> np.ndarray:
    """(type, id) of each record as one sortable int64: looked up with a binary search."""
    return data.record_type.astype(np.int64) << KEY_BITS | data.record_id


def _subset(snapshot: Any, ids: dict[str, np.ndarray]) -> tuple[TimelineData, dict[str, np.ndarray]]:
    """The records of ``snapshot`` (loaded columns, their geometry) whose ids pass, per type.

    The (few) passing ids are looked up among the loaded records' sorted keys, rather than every
    loaded record among the passing ids: the cost follows the result, not the load."""
    full, full_derived = snapshot
    sorted_keys, order = full_derived["keys_sorted"], full_derived["keys_order"]
    found = []
    for name, passing in ids.items():
        if passing.size == 0:
            continue
        want = (np.int64(TYPE_CODE[name]) << KEY_BITS) | passing
        pos = np.minimum(np.searchsorted(sorted_keys, want), max(sorted_keys.size - 1, 0))
        found.append(order[pos[sorted_keys[pos] == want]] if sorted_keys.size else pos[:0])
    rows = np.sort(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)
    derived = {
        name: column[rows] for name, column in full_derived.items() if name not in ("keys", "keys_order", "keys_sorted")
    }
    return full.take(rows), derived


def _today_day() -> int:
    return QDate(1970, 1, 1).daysTo(QDate.currentDate())


class _TimelineViewBox(pg.ViewBox):
    """x-only pan and zoom; Shift+drag draws a date range; left click asks the owner to hit-test."""

    def __init__(self, owner: TimelineView) -> None:
        super().__init__(enableMenu=False)
        self._owner = owner
        self._drag_from: float | None = None

    def mouseClickEvent(self, ev: Any) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self._owner._clicked(ev.scenePos())
        elif ev.button() == Qt.MouseButton.RightButton and self._owner._context_clicked(ev.scenePos(), ev.screenPos()):
            ev.accept()
        else:
            super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev: Any, axis: int | None = None) -> None:
        shift = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if ev.button() == Qt.MouseButton.LeftButton and (shift or self._drag_from is not None):
            ev.accept()
            x = self.mapSceneToView(ev.scenePos()).x() / SECONDS_PER_DAY
            if ev.isStart() or self._drag_from is None:
                self._drag_from = self.mapSceneToView(ev.buttonDownScenePos()).x() / SECONDS_PER_DAY
            self._owner._range_dragged(self._drag_from, x, finished=ev.isFinish())
            if ev.isFinish():
                self._drag_from = None
            return
        super().mouseDragEvent(ev, axis)


class _LegendLabel(QLabel):
    """The colour legend above the plot. It keeps the height the legend of every record needs
    (its reference), so a filter that leaves fewer colours does not make the plot jump up, and
    back down when the filter is cleared."""

    def __init__(self) -> None:
        super().__init__()
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)  # spare height goes below
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._reference = QLabel()  # never shown: measures the reference legend at this width
        self._reference.setTextFormat(Qt.TextFormat.RichText)
        self._reference.setWordWrap(True)

    def set_legend(self, text: str, reference: str) -> None:
        self._reference.setText(reference)
        self.setText(text)
        self._reserve()

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._reserve()

    def _reserve(self) -> None:
        width = self.width()
        tallest = max(self.heightForWidth(width), self._reference.heightForWidth(width))
        if tallest != self.minimumHeight():
            self.setMinimumHeight(tallest)


class TimelineView(QWidget):
    """Lanes of dated records; selection, filters and ranges go through AppState.

    Signals:
        context_menu_requested(RecordRef, QPoint): right click on an item (forms hook in here).
    """

    context_menu_requested = Signal(object, object)
    # Enter on the keyboard's current item: the window shows its details.
    activated = Signal(object)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._lane_mode = "kind"
        self._colour_mode = "sector"
        self._data = TimelineData.empty()
        self._full = TimelineData.empty()  # every dated record, as loaded; _data is what passes the filters
        self._data_filters: Filters | None = None
        self._highlight_refs: set[RecordRef] = set()
        self._arrow_refs: list[tuple[RecordRef, RecordRef, str]] = []
        self._groupings = Groupings()
        # lanes and colours of what is shown: what the lane axis, the legend and every frame read
        self._arrangement = arrange(
            self._data, np.zeros(0), np.zeros(0), self._lane_mode, self._colour_mode, self._groupings
        )
        self._full_arrangement: Arrangement | None = None  # of every loaded record, while a filter shows fewer
        self._applying_region = False
        # (loaded records, their geometry) as one object: swapped, never edited, so the
        # background job of new filters can take this view's subset from it (_subset_for_scope)
        self._snapshot: tuple[TimelineData, dict[str, np.ndarray]] | None = None
        self._empty_arrays()

        self._src = PaintSource()
        self._src.layout = Layout()
        self._src.lanes = []
        self._src.style = self._make_style()
        self._widths = TextWidths(self._src.style.label_font)

        self._build_ui()
        state.add_scope_companion("timeline", self._subset_for_scope)
        self._apply_palette()
        state.selection_changed.connect(self._on_selection_changed)
        state.filters_changed.connect(self._on_filters_changed)
        state.records_changed.connect(self._on_records_changed)
        state.range_requested.connect(self._on_range_requested)
        state.reveal_requested.connect(self._on_reveal_requested)
        state.store_replaced.connect(self._on_store_replaced)
        self.reload()
        self.fit_all()
        if state.selection:
            self._on_selection_changed(state.selection, None)

    # --- construction ---------------------------------------------------------------------

    def _empty_arrays(self) -> None:
        z = np.zeros(0)
        zi = np.zeros(0, dtype=np.int64)
        self._lo = self._hi = self._core_lo = self._core_hi = self._anchor_day = z
        self._passes = np.zeros(0, dtype=bool)
        self._is_period = np.zeros(0, dtype=bool)
        self._is_span = np.zeros(0, dtype=bool)
        self._thickness = z
        self._label_cache: dict[int, str] = {}
        self._label_w = z  # full label width in px per item, NaN until first needed
        self._elided: dict[tuple[int, int, str], str] = {}
        self._qualifier: dict[int, str] = {}  # place or company of items whose title another shares
        self._presenting = False
        self._keys_sorted = zi
        self._keys_order = zi
        self._legend_references: dict[str, str] = {}  # colour mode → legend of every record

    def _build_ui(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        bar = QHBoxLayout()
        bar.setSpacing(6)
        self.lane_combo = QComboBox()
        for key, text in LANE_MODES.items():
            self.lane_combo.addItem(text, key)
        self.lane_combo.setToolTip("How records are grouped into lanes")
        self.colour_combo = QComboBox()
        for key, text in COLOUR_MODES.items():
            self.colour_combo.addItem(text, key)
        self.colour_combo.setCurrentIndex(list(COLOUR_MODES).index(self._colour_mode))
        self.colour_combo.setToolTip("What the colours of the items mean")
        lanes_label, colour_label = QLabel("Lanes:"), QLabel("Colour by:")
        lanes_label.setBuddy(self.lane_combo)
        colour_label.setBuddy(self.colour_combo)
        self.clear_range_button = QPushButton("Clear range")
        self.clear_range_button.setToolTip("Remove the date-range filter (Esc)")
        self.clear_range_button.setVisible(False)
        self.fit_button = QPushButton("Fit all")
        self.fit_button.setToolTip("Show every record (Home)")
        self.today_button = QPushButton("Today")
        self.today_button.setToolTip("Centre on today, keeping the zoom (T)")
        self.legend_label = _LegendLabel()
        self._control_labels = [lanes_label, colour_label]
        for w in (lanes_label, self.lane_combo, colour_label, self.colour_combo):
            bar.addWidget(w)
        bar.addStretch(1)
        for w in (self.clear_range_button, self.fit_button, self.today_button):
            bar.addWidget(w)
        layout.addLayout(bar)
        # The legend gets a row of its own: squeezed beside the controls it wraps into a column.
        layout.addWidget(self.legend_label)

        self.viewbox = _TimelineViewBox(self)
        self.date_axis = DayAxis("bottom")
        self.lane_axis = pg.AxisItem("left")
        self.plot = pg.PlotWidget(viewBox=self.viewbox, axisItems={"bottom": self.date_axis, "left": self.lane_axis})
        # Off for the scene (axis-aligned axes, grid and bands gain nothing from it); the timeline
        # layers switch it on for what they draw.
        self.plot.setAntialiasing(False)
        self.plot.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.plot.setObjectName("timelinePlot")
        self.plot.setAccessibleName("Timeline")
        self.plot.setAccessibleDescription("Nothing selected. Arrow keys move between items, Enter shows details.")
        # A focus ring that does not move the plot: the border is always there, coloured when focused.
        self.plot.setStyleSheet(
            "#timelinePlot { border: 2px solid transparent; }"
            "#timelinePlot:focus { border: 2px solid palette(highlight); }"
        )
        item = self.plot.plotItem
        for side in ("bottom", "left", "top", "right"):
            # Dates and lanes take no SI prefix: without this every range change re-renders
            # each axis label's HTML (~50 times before the first paint).
            item.getAxis(side).enableAutoSIPrefix(False)
        item.hideButtons()
        item.setMenuEnabled(False)
        # The grid is drawn by the lane layer, under the records, at the date axis's own ticks.
        self.viewbox.setMouseEnabled(x=True, y=False)
        self.viewbox.disableAutoRange()
        self.viewbox.invertY(True)
        self.viewbox.setLimits(
            xMin=MIN_DAY * SECONDS_PER_DAY,
            xMax=MAX_DAY * SECONDS_PER_DAY,
            minXRange=MIN_SPAN_DAYS * SECONDS_PER_DAY,
            maxXRange=(MAX_DAY - MIN_DAY) * SECONDS_PER_DAY,
        )
        self.layer = LaneLayer(self._src)
        self.highlight_layer = HighlightLayer(self._src)
        self.arrow_layer = ArrowLayer(self._src)
        self._src.grid = self.date_axis.grid_values
        self.highlight_layer.anchors = self._anchors
        self.arrow_layer.anchors = self._anchors
        self.layer.setZValue(0)
        self.highlight_layer.setZValue(10)
        self.arrow_layer.setZValue(20)
        for it in (self.layer, self.highlight_layer, self.arrow_layer):
            self.viewbox.addItem(it, ignoreBounds=True)
        self.region = pg.LinearRegionItem(orientation="vertical", movable=True)
        self.region.setZValue(-10)
        self.region.setVisible(False)
        self.viewbox.addItem(self.region, ignoreBounds=True)
        self.region.sigRegionChangeFinished.connect(self._region_moved)
        layout.addWidget(self.plot, 1)

        self.lane_combo.currentIndexChanged.connect(lambda _i: self.set_lane_mode(self.lane_combo.currentData()))
        self.colour_combo.currentIndexChanged.connect(lambda _i: self.set_colour_mode(self.colour_combo.currentData()))
        self.fit_button.clicked.connect(self.fit_all)
        self.today_button.clicked.connect(self.show_today)
        self.clear_range_button.clicked.connect(lambda: self.state.set_date_range(None, None))
        self.viewbox.sigXRangeChanged.connect(lambda *_: self._relayout(force=False))
        self.viewbox.sigResized.connect(lambda *_: self._on_resized())
        self.plot.installEventFilter(self)
        self.plot.viewport().installEventFilter(self)

    # --- style ------------------------------------------------------------------------------

    def _ui_font(self) -> QFont:
        """The font the UI scale sets: the application's, unless this widget was given its own
        (an application font set after the widgets exist does not always reach them)."""
        if self.testAttribute(Qt.WidgetAttribute.WA_SetFont):
            return self.font()
        return QApplication.font()

    def _font_scale(self) -> float:
        """The UI scale (presentation mode, Ctrl +/−): sizes follow the UI font."""
        return max(0.5, self._ui_font().pointSizeF() / BASE_POINT_SIZE)

    def apply_ui_scale(self, _scale: float = 1.0) -> None:
        """The UI was scaled (presentation mode, Ctrl +/−): fonts, row heights and labels follow."""
        self._apply_palette()
        self._compute_lane_rows()
        self._relayout()

    def _make_style(self) -> Style:
        pal = self.palette()
        bg = pal.color(QPalette.ColorRole.Base)
        fg = pal.color(QPalette.ColorRole.Text)
        muted = QColor(fg)
        muted.setAlpha(70)
        band = QColor(fg)
        band.setAlpha(14)
        scale = self._font_scale()
        label_font = QFont(self._ui_font())
        label_font.setPointSizeF(9.5 * scale)
        small_font = QFont(self._ui_font())
        small_font.setPointSizeF(8.5 * scale)
        small_font.setItalic(True)
        colours = self._src.style.colours if hasattr(self, "_src") and hasattr(self._src, "style") else []
        return Style(bg, fg, muted, pal.color(QPalette.ColorRole.Highlight), band, colours, label_font, small_font)

    def _apply_palette(self) -> None:
        style = self._make_style()
        style.colours = self._src.style.colours
        self._src.style = style
        self._widths = TextWidths(style.label_font)
        self._reset_label_widths()
        self.plot.setBackground(style.background)
        axis_pen = QColor(style.foreground)
        axis_pen.setAlpha(160)
        scale = self._font_scale()
        tick_font = QFont(self._ui_font())
        tick_font.setPointSizeF(10.5 * scale)
        lane_font = QFont(self._ui_font())
        lane_font.setPointSizeF(11 * scale)
        lane_font.setBold(True)
        for axis in (self.date_axis, self.lane_axis):
            axis.setPen(pg.mkPen(axis_pen))
            axis.setTextPen(pg.mkPen(style.foreground))
        self.date_axis.setStyle(tickFont=tick_font, tickTextOffset=6)
        self.lane_axis.setStyle(tickFont=lane_font, tickLength=0, tickTextOffset=10)
        self._lane_font = lane_font
        region_brush = QColor(style.highlight)
        region_brush.setAlpha(40)
        region_hover = QColor(style.highlight)
        region_hover.setAlpha(70)
        self.region.setBrush(region_brush)
        self.region.setHoverBrush(region_hover)
        edge = QColor(style.highlight)
        for line in self.region.lines:
            line.setPen(pg.mkPen(edge, width=2))
            line.setHoverPen(pg.mkPen(edge, width=4))
        self._update_lane_axis()
        self._update_legend()
        if hasattr(self, "_lo"):
            self._relayout()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange) and hasattr(self, "plot"):
            self._apply_palette()

    # --- loading ---------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the timeline again from the store (under the current filters, date range aside).

        On large data the columns arrive from the background: the first load shows parts as they
        come (fitting the view to them), a reload after a write swaps the whole set in at the end."""
        try:
            hierarchy = self.state.store.sector_hierarchy()
            countries = self.state.store.list_records("country")
        except StoreError:
            log.exception("loading the timeline")
            hierarchy, countries = [], []
        self._groupings = Groupings.of(hierarchy, countries)
        first = len(self._full) == 0
        self._fit_when_loaded = first
        self.state.load_timeline(self._timeline_loaded, show_parts=first)

    def _timeline_loaded(self, full: TimelineData | None, complete: bool) -> None:
        self._full_arrangement = None  # of the previous load
        self._full = TimelineData.empty() if full is None else full
        self._data_filters = None
        self._apply_data_filters()
        if getattr(self, "_fit_when_loaded", False) and hasattr(self, "plot"):
            self.fit_all()
            self._fit_when_loaded = not complete
        self._relayout()

    def _apply_data_filters(self) -> None:
        """Keep the cached records passing the filters (date range aside): ids from SQL, a numpy mask here."""
        filters = replace(self.state.filters, start_day=None, end_day=None)
        self._data_filters = filters
        full = self._full
        if filters.active and len(full):
            try:
                ids = self.state.timeline_ids(filters)  # shared with the tree when already worked out
            except StoreError:
                log.exception("filtering the timeline")
                ids = {}
            prepared = self._prepared_subset(filters)
            if prepared is not None:
                self._set_data(*prepared)
                return
            self._full_derived()
            self._set_data(*_subset(self._snapshot, ids))
        else:
            self._set_data(full, self._full_derived())

    def _prepared_subset(self, filters: Filters) -> tuple[TimelineData, dict[str, np.ndarray], Arrangement] | None:
        """The subset (and its arrangement) the background job took along with the scope of
        these filters, if it was taken from the records as they are now."""
        scope = self.state.scope(self.state.filters)
        found = scope.extras.get("timeline") if scope is not None else None
        if found is None or found[0] is not self._snapshot or found[1] != filters:
            return None
        return found[2], found[3], found[4]

    def _subset_for_scope(self, scope: Any) -> Any:
        """On the background thread, with a scope of new filters: this view's subset of its
        loaded records (a search matching tens of thousands of a million records took tens of
        milliseconds of the GUI thread). Reads only the snapshot, which the GUI thread replaces
        and never edits, so a result from a stale one is simply not used."""
        snapshot, groupings, modes = self._snapshot, self._groupings, (self._lane_mode, self._colour_mode)
        if snapshot is None or scope.timeline_ids is None:
            return None
        filters = replace(scope.filters, start_day=None, end_day=None)
        data, derived = _subset(snapshot, scope.timeline_ids)
        # a mode or grouping changed meanwhile: the GUI thread sees it does not fit and redoes it
        arranged = arrange(data, derived["lo"], derived["hi"], *modes, groupings)
        return snapshot, filters, data, derived, arranged

    def _full_derived(self) -> dict[str, np.ndarray]:
        """Per-record geometry of every loaded record, worked out once per load: a filter takes
        its rows from it, and clearing the filter reuses it (seconds' worth of date arithmetic
        at a million records otherwise)."""
        if self._snapshot is None or self._snapshot[0] is not self._full:
            derived = self._derive(self._full)
            keys = derived.pop("keys")  # only the sorted copy is kept: 7 MB a million
            derived["keys_order"] = order = positions(np.argsort(keys, kind="stable"))
            derived["keys_sorted"] = keys[order]
            self._snapshot = (self._full, derived)
        return self._snapshot[1]

    @staticmethod
    def _derive(data: TimelineData) -> dict[str, np.ndarray]:
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
            "keys": _record_keys(data),
        }

    def _set_data(
        self, data: TimelineData, derived: dict[str, np.ndarray] | None = None, arranged: Arrangement | None = None
    ) -> None:
        self._data = data
        d = derived if derived is not None else self._derive(data)
        self._lo, self._hi, self._core_lo, self._core_hi = d["lo"], d["hi"], d["core_lo"], d["core_hi"]
        self._is_period, self._is_span, self._anchor_day = d["is_period"], d["is_span"], d["anchor"]
        self._thickness = d["thickness"]
        self._label_cache = {}
        self._qualifier = {}
        self._reset_label_widths()
        if "keys_sorted" in d:
            self._keys_order, self._keys_sorted = d["keys_order"], d["keys_sorted"]
        else:
            keys = _record_keys(data)
            self._keys_order = positions(np.argsort(keys, kind="stable"))
            self._keys_sorted = keys[self._keys_order]
        self._src.kind_code = data.record_type
        self._src.precision = data.precision
        self._src.is_period = self._is_period
        self._src.thickness = self._thickness
        self._update_passes()
        # Every loaded record's arrangement is kept while a filter shows a subset, so clearing
        # the filter does not sort a million records into lanes again.
        modes = (self._lane_mode, self._colour_mode)
        for candidate in (arranged, self._full_arrangement):
            if candidate is not None and candidate.fits(data, self._groupings, *modes):
                self._arrange(candidate)
                break
        else:
            self._arrange()
        self._map_selection_to_data()
        self._update_region()

    def _arrange(self, arranged: Arrangement | None = None) -> None:
        """Show the records in ``arranged`` lanes and colours (worked out now when not given,
        keeping what the current arrangement has for the same records)."""
        if arranged is None:
            arranged = arrange(
                self._data,
                self._lo,
                self._hi,
                self._lane_mode,
                self._colour_mode,
                self._groupings,
                reuse=self._arrangement,
            )
        self._arrangement = arranged
        if arranged.data is self._full:
            self._full_arrangement = arranged
        self._src.colour = arranged.colours.code
        self._src.style.colours = arranged.colours.colours
        self._compute_lane_rows()
        self._update_legend()

    def _update_passes(self) -> None:
        f = self.state.filters
        passes = np.ones(len(self._data), dtype=bool)
        # Same rule as the store's date filter: [start, end] overlaps [start_day, end_day].
        if f.end_day is not None:
            passes &= self._data.start <= f.end_day
        if f.start_day is not None:
            passes &= self._data.end >= f.start_day
        self._passes = passes
        self._src.passes = passes

    def _update_legend(self) -> None:
        if not hasattr(self, "legend_label"):
            return
        fg = self._src.style.foreground.name()
        parts = [
            # an entry wraps as a whole ("No sector" not over two lines); names are text, not markup
            f'<span style="color:{c.name()}; font-size:14pt;">■</span>&nbsp;<span style="color:{fg}">'
            f"{html.escape(name).replace(' ', '&nbsp;')}</span>"
            for name, c in self._arrangement.colours.legend
        ]
        mode = COLOUR_MODES[self._colour_mode]
        text = f"<b>{mode}:</b>&nbsp; " + " &nbsp;&nbsp; ".join(parts)
        if self._data is self._full:  # the legend of every record: what a filter's must fit in
            self._legend_references[self._colour_mode] = text
        self.legend_label.set_legend(text, self._legend_references.get(self._colour_mode, text))

    # --- lanes and rows ---------------------------------------------------------------------

    def _plot_px(self) -> tuple[float, float]:
        rect = self.viewbox.boundingRect()
        return max(float(rect.width()), 100.0), max(float(rect.height()), 60.0)

    def _full_extent(self) -> tuple[float, float]:
        if len(self._data) == 0:
            today = float(_today_day())
            return today - 365 * 5, today + 365
        lo, hi = float(self._lo.min()), float(self._hi.max())
        span = max(hi - lo, 30.0)
        return lo - span * 0.03, hi + span * 0.06

    def _compute_lane_rows(self) -> None:
        width, height = self._plot_px()
        a, b = self._full_extent()
        needed, floors = [], []
        lanes_shown = self._arrangement.lanes
        for members in lanes_shown.order:
            if members.size == 0:
                needed.append(1)
                floors.append(1)
            elif members.size > 1500:
                needed.append(3)
                floors.append(3)
            else:
                geo = self._item_geometry(members, a, b, width)
                # packed into at most the rows a lane may get: unbounded, a thousand items on
                # one spot would open a thousand rows, each tried by every later item
                _rows, used = pack_rows(geo["x0"], geo["full"], geo["bare"], MAX_ROWS_PER_LANE)
                _rows, bare_used = pack_rows(geo["x0"], geo["bare"], geo["bare"], MAX_ROWS_PER_LANE)
                needed.append(int(min(max(used, 1), MAX_ROWS_PER_LANE)))
                floors.append(int(min(max(bare_used, 1), needed[-1])))
        budget = max(len(needed), int(height // self._min_row_px()))
        # Give up label rows first (labels get shortened), then rows that keep same-day items apart.
        while sum(needed) > budget and max(needed) > 1:
            slack = [n - f for n, f in zip(needed, floors, strict=True)]
            k = int(np.argmax(slack)) if max(slack) > 0 else int(np.argmax(needed))
            needed[k] -= 1
        lanes, top = [], 0.0
        for label, rows in zip(lanes_shown.labels, needed, strict=True):
            lanes.append(LaneGeometry(top, rows, label))
            top += rows
        self._src.lanes = lanes
        total = max(top, 1.0)
        self.viewbox.setLimits(yMin=-TOP_PAD, yMax=total)
        self.viewbox.setYRange(-TOP_PAD, total, padding=0.0)
        rect = QRectF(MIN_DAY * SECONDS_PER_DAY, 0.0, (MAX_DAY - MIN_DAY) * SECONDS_PER_DAY, total)
        for it in (self.layer, self.highlight_layer, self.arrow_layer):
            it.set_bounds(rect)
        self._update_lane_axis()

    def _min_row_px(self) -> float:
        """Rows are never lower than a label's glyphs (large type in presentation mode gets fewer, taller rows)."""
        return max(MIN_ROW_PX, label_box(QFontMetricsF(self._src.style.label_font))[1] + 2.0)

    def _update_lane_axis(self) -> None:
        if not hasattr(self, "lane_axis"):
            return
        ticks = [(lane.centre, lane.label) for lane in self._src.lanes]
        self.lane_axis.setTicks([ticks, []])
        font = getattr(self, "_lane_font", self.font())
        fm = QFontMetricsF(font)
        widest = max((fm.horizontalAdvance(lab) for lab in self._arrangement.lanes.labels), default=60.0)
        self.lane_axis.setWidth(int(widest + 22))

    def _title_text(self, g: int) -> str:
        """The title, with the place or company when another record in view shares it."""
        title = str(self._data.label[g])
        qualifier = self._qualifier.get(g)
        return f"{title} · {qualifier}" if qualifier else title

    def _label_text(self, g: int) -> str:
        """Title and, when known, the amount in USD (built on demand: only items in view need one)."""
        text = self._label_cache.get(g)
        if text is None:
            title, amount = self._title_text(g), float(self._data.amount_usd[g])
            text = f"{title} · {format_usd(amount)}" if np.isfinite(amount) else title
            self._label_cache[g] = text
        return text

    def _reset_label_widths(self) -> None:
        self._label_w = np.full(len(self._data), np.nan, dtype=np.float32)
        self._elided = {}

    def _label_widths(self, g: np.ndarray) -> np.ndarray:
        """Full label width in pixels of items ``g``, measured once per item (then a numpy gather)."""
        w = self._label_w[g]
        missing = np.isnan(w)
        if missing.any():
            for i in g[missing].tolist():
                self._label_w[i] = self._widths.width(self._label_text(i))
            w = self._label_w[g]
        return w

    def _shown_label(self, g: int, limit: float, keep: str = "") -> str:
        """The label of ``g`` shortened to ``limit`` pixels, keeping the words ``keep`` that tell
        it from a similar title in view (cached: a pan keeps most limits)."""
        if self._label_w[g] <= limit:
            return self._label_text(g)
        key = (g, int(limit), keep)
        text = self._elided.get(key)
        if text is None:
            if len(self._elided) > 20000:
                self._elided.clear()
            text = self._elided[key] = self._widths.elide(self._label_text(g), float(key[1]), keep)
        return text

    def _qualify_duplicates(self, g: np.ndarray) -> None:
        """Items among ``g`` whose title another of them has too get their place or company (their
        date's year when they have none) after the title, from then on. Only new duplicates ask
        the store: a frame of labels seen before costs one count of its titles."""
        if g.size < 2:
            return
        titles = self._data.label[g].tolist()
        counts = Counter(titles)
        if len(counts) == len(titles):
            return
        new = [
            int(i) for i, t in zip(g.tolist(), titles, strict=True) if counts[t] > 1 and int(i) not in self._qualifier
        ]
        if not new:
            return
        by_type: dict[str, list[int]] = {}
        for i in new:
            by_type.setdefault(TIMELINE_TYPES[int(self._data.record_type[i])], []).append(i)
        for name, items in by_type.items():
            try:
                found = self.state.store.label_qualifiers(name, [int(self._data.record_id[i]) for i in items])
            except StoreError:
                log.exception("reading what tells same-titled records apart")
                found = {}
            for i in items:
                year = str(m.day_to_date(int(self._data.start[i])).year)
                self._qualifier[i] = found.get(int(self._data.record_id[i]), year)
                self._label_cache.pop(i, None)
                self._label_w[i] = np.nan
        self._elided.clear()

    def _item_geometry(self, g: np.ndarray, a: float, b: float, width: float) -> dict[str, Any]:
        """Pixel geometry (x=0 at the view's left) of items ``g`` for the view [a, b]."""
        ppd = width / max(b - a, 1e-9)
        x0 = (self._lo[g] - a) * ppd
        x1 = (self._hi[g] - a) * ppd
        c0 = (self._core_lo[g] - a) * ppd
        c1 = (self._core_hi[g] - a) * ppd
        m = (self._anchor_day[g] - a) * ppd
        period = self._is_span[g]
        r = 7.0
        # labels run up to LABEL_MAX_PX, or along their whole bar (shortened with an ellipsis beyond)
        cap = np.maximum(LABEL_MAX_PX, np.where(period, x1 - np.maximum(x0, 0.0) - 10.0, 0.0))
        tw = np.minimum(self._label_widths(g), cap)
        label_x = np.where(period, np.maximum(x0, 0.0) + 5.0, m + r + 4.0)
        label_end = label_x + tw
        start = np.where(period, x0, np.minimum(x0, m - r))
        bare = np.where(period, x1, np.maximum(x1, m + r))
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
            "m": m,
            "cap": cap,
            "label_x": label_x,
            "label_end": label_end,
            "ppd": ppd,
        }

    # --- layout for the current view --------------------------------------------------------

    def _relayout(self, force: bool = True) -> None:
        """Lay out what the current view shows. ``force=False`` skips it when the view range and
        width are those of the current layout (a range change both signals and calls here)."""
        if not hasattr(self, "viewbox"):
            return
        a, b = self.view_range()
        width, height = self._plot_px()
        current = self._src.layout
        if not force and (current.view_lo, current.view_hi, current.width_px) == (a, b, width):
            return
        lay = Layout(view_lo=a, view_hi=b, width_px=width, ppd=width / max(b - a, 1e-9))
        total = self._src.lanes[-1].bottom if self._src.lanes else 1.0
        lay.row_px, lay.y_origin = height / (max(total, 1.0) + TOP_PAD), -TOP_PAD
        keys = ("idx", "y", "x0", "x1", "c0", "c1", "mx", "lx", "room", "cap", "bare")
        parts: dict[str, list[Any]] = {k: [] for k in keys}
        index, order = self._arrangement.index, self._arrangement.lanes.order
        for k, lane in enumerate(self._src.lanes):
            if k >= len(index) or len(index[k]) == 0:
                continue
            lod = index[k].level_of_detail(a, b, width, starts_limit=crowding_limit(lane.rows, width))
            if lod.bins is not None:
                lay.bins.append((k, lod.bins))
                continue
            assert lod.detail is not None
            g = order[k][lod.detail]
            if g.size == 0:
                continue
            geo = self._item_geometry(g, a, b, width)
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
        self._src.layout = lay  # arrow anchors are read from it
        self._place_labels(lay, room, cap, bare)
        for it in (self.layer, self.highlight_layer, self.arrow_layer):
            it.update()

    def _place_labels(self, lay: Layout, room: np.ndarray, cap: np.ndarray, bare: np.ndarray) -> None:
        """Every label of the view placed at once so that none overlaps another: row labels
        (shortened to the room before the next item in their row, or shorter still, or dropped),
        name pills of highlighted items whose row label would be cut, and the arrows' relation
        chips; greedy by priority: the selection, then arrow chips, then larger amounts, then
        the rest. Decided over numpy; Python only touches the labels that may be shown."""
        g = lay.idx
        fm = QFontMetricsF(self._src.style.label_font)
        above, box_h = label_box(fm)
        min_px = LABEL_MIN_PX * self._font_scale()
        share = PRESENTATION_MIN_SHARE if self._presenting else 0.0
        w_full = np.minimum(self._label_widths(g), cap)
        cand = np.flatnonzero(room >= np.minimum(w_full, np.maximum(min_px, w_full * share)))
        self._qualify_duplicates(g[cand])
        w_full = np.minimum(self._label_widths(g), cap)  # qualified titles are longer
        highlighted = np.isin(g, self.highlight_layer.indices)
        fits = room >= w_full
        cand = cand[fits[cand] | ~highlighted[cand]]  # a highlighted name is never cut: it gets a pill
        floor = np.maximum(min_px, w_full * share)[cand]
        priority = label_priority(highlighted, self._data.amount_usd[g])
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
            full = self._label_text(gi)
            x = max(4.0, min(float(lay.label_x[k]), lay.width_px - 12.0 - self._widths.width(full)))
            text = self._widths.elide(full, max(60.0, lay.width_px - x - 12.0))
            pills.append((k, x, float(y_px[k]), text))
        pill_rects = self._candidates(
            [(x - 4.0, y, self._widths.width(text) + 8.0, fm.height() + 4.0) for _k, x, y, text in pills]
        )
        rects.append(pill_rects)
        prio.append(np.repeat(priority[[k for k, *_ in pills]], 7) if pills else np.zeros(0))
        group.append(np.repeat(-1 - np.arange(len(pills)), 7))
        # arrow chips, one per (source, relation)
        chips = self._arrow_chips(lay)
        small = QFontMetricsF(self._src.style.small_font)
        chip_boxes = []
        for x, y, t in chips:
            w = small.horizontalAdvance(t) + 8.0
            # centred on the curve, but inside the plot: a chip cut at its edge reads as nothing
            chip_boxes.append((min(max(x - w / 2, 2.0), lay.width_px - w - 2.0), y, w, small.height() + 2.0))
        chip_rects = self._candidates(chip_boxes)
        rects.append(chip_rects)
        prio.append(np.full(7 * len(chips), ARROW_CHIP_PRIORITY))
        group.append(np.repeat(-1 - len(pills) - np.arange(len(chips)), 7))
        all_rects = np.concatenate([r.reshape(-1, 4) for r in rects])
        kept = place_labels(all_rects, np.concatenate(prio), np.concatenate(group))
        n_rows = ks.size
        # row labels' text: the words telling similar titles apart survive the shortening
        row_kept = np.flatnonzero(kept[:n_rows])
        tails = distinguishing_tails([self._title_text(int(g[k])) for k in ks[row_kept].tolist()])
        ends = bare.copy()
        for r, tail in zip(row_kept.tolist(), tails, strict=True):
            k, limit = int(ks[r]), float(widths[r])
            gi = int(g[k])
            text = self._shown_label(gi, float(cap[k]) if (fits[k] and r < cand.size) else limit, tail)
            lay.labels[k] = text
            ends[k] = max(ends[k], lay.label_x[k] + self._widths.width(text))
        lay.label_end = ends
        n_pill = len(pills) * 7
        for c in np.flatnonzero(kept[n_rows : n_rows + n_pill]).tolist():
            x0, y0, x1, y1 = all_rects[n_rows + c].tolist()
            lay.tags.append((x0, y0, x1 - x0, y1 - y0, pills[c // 7][3]))
        for c in np.flatnonzero(kept[n_rows + n_pill :]).tolist():
            x0, y0, x1, y1 = all_rects[n_rows + n_pill + c].tolist()
            lay.chips.append((x0, y0, x1 - x0, y1 - y0, chips[c // 7][2]))

    @staticmethod
    def _candidates(boxes: list[tuple[float, float, float, float]]) -> np.ndarray:
        """Seven candidate rectangles (x0, y0, x1, y1) per box centred on its y: there, then one,
        two, three heights lower and higher, alternately."""
        if not boxes:
            return np.zeros((0, 4))
        out = []
        for x, y, w, h in boxes:
            for step in (0, 1, -1, 2, -2, 3, -3):
                top = y - h / 2 + step * (h + 2.0)
                out.append((x, top, x + w, top + h))
        return np.array(out, dtype=np.float64)

    def _arrow_chips(self, lay: Layout) -> list[tuple[float, float, str]]:
        """(x, y, text) at the middle of the arrow curve of each (source, relation) in the label
        pixel frame: the curves the arrow layer draws, from the same anchors."""
        arrows = self.arrow_layer.arrows
        if not arrows:
            return []
        ends = np.array([[a_, b_] for a_, b_, _ in arrows], dtype=np.int64)
        days, ys = self._anchors(ends.ravel())
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

    def _on_resized(self) -> None:
        self._compute_lane_rows()
        self._relayout()

    def _anchors(self, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(day, y) where arrows and highlight ticks attach to items ``g`` (global indices)."""
        lay = self._src.layout
        days = self._anchor_day[g].astype(np.float64)
        centres = [self._src.lanes[int(lane)].centre for lane in self._arrangement.lanes.lane[g].tolist()]
        ys = np.array(centres, dtype=np.float64)
        if lay.idx.size:
            pos = {int(v): k for k, v in enumerate(lay.idx.tolist())}
            for n, gi in enumerate(g.tolist()):
                k = pos.get(int(gi))
                if k is not None:
                    ys[n] = lay.y[k]
                    if self._is_span[gi]:
                        days[n] = lay.to_day(min(max(float(lay.x0[k]), 0.0) + 10.0, float(lay.x1[k])))  # visible start
        return days, ys

    # --- public API ---------------------------------------------------------------------------

    def view_range(self) -> tuple[float, float]:
        (x0, x1), _y = self.viewbox.viewRange()
        return x0 / SECONDS_PER_DAY, x1 / SECONDS_PER_DAY

    def set_view_range(self, start_day: float, end_day: float) -> None:
        a, b = sorted((float(start_day), float(end_day)))
        if b - a < MIN_SPAN_DAYS:
            mid = (a + b) / 2
            a, b = mid - MIN_SPAN_DAYS / 2, mid + MIN_SPAN_DAYS / 2
        a, b = max(a, MIN_DAY), min(b, MAX_DAY)
        self.viewbox.setXRange(a * SECONDS_PER_DAY, b * SECONDS_PER_DAY, padding=0.0)
        self._relayout(force=False)  # the range signal has laid it out unless the range did not change

    def fit_all(self) -> None:
        self.set_view_range(*self._full_extent())

    def show_today(self) -> None:
        a, b = self.view_range()
        half = (b - a) / 2
        today = float(_today_day())
        self.set_view_range(today - half, today + half)

    def set_presentation(self, on: bool) -> None:
        """Presentation mode: labels are few and whole (large type comes from the UI scale)."""
        if on != self._presenting:
            self._presenting = on
            self._relayout()

    def control_widgets(self) -> list[QWidget]:
        """The lane/colour choosers and navigation buttons (presentation mode hides them)."""
        return [*self._control_labels, self.lane_combo, self.colour_combo, self.fit_button, self.today_button]

    def lane_labels(self) -> list[str]:
        return list(self._arrangement.lanes.labels)

    def set_lane_mode(self, mode: str) -> None:
        if mode not in LANE_MODES:
            raise ValueError(f"unknown lane mode {mode!r}")
        if mode != self._lane_mode:
            self._lane_mode = mode
            self._arrange()
            self._relayout()
        idx = list(LANE_MODES).index(mode)
        if self.lane_combo.currentIndex() != idx:
            self.lane_combo.setCurrentIndex(idx)

    def set_colour_mode(self, mode: str) -> None:
        if mode not in COLOUR_MODES:
            raise ValueError(f"unknown colour mode {mode!r}")
        if mode != self._colour_mode:
            self._colour_mode = mode
            self._arrange()
            self._relayout()
        idx = list(COLOUR_MODES).index(mode)
        if self.colour_combo.currentIndex() != idx:
            self.colour_combo.setCurrentIndex(idx)

    def lane_mode(self) -> str:
        return self._lane_mode

    def colour_mode(self) -> str:
        return self._colour_mode

    def legend_entries(self) -> list[str]:
        return [name for name, _c in self._arrangement.colours.legend]

    def _ref(self, g: int) -> RecordRef:
        return RecordRef(TIMELINE_TYPES[int(self._data.record_type[g])], int(self._data.record_id[g]))

    def _index(self, ref: RecordRef) -> int | None:
        code = TYPE_CODE.get(ref.record_type)
        if code is None or self._keys_sorted.size == 0:
            return None
        key = (code << KEY_BITS) | int(ref.record_id)
        pos = int(np.searchsorted(self._keys_sorted, key))
        if pos < self._keys_sorted.size and int(self._keys_sorted[pos]) == key:
            return int(self._keys_order[pos])
        return None

    def shows(self, ref: RecordRef) -> bool:
        """Whether the record is on the timeline as it is filtered now."""
        g = self._index(ref)
        return g is not None and bool(self._passes[g])

    def total_count(self) -> int:
        """How many dated records the database holds, filtered or not."""
        return len(self._full)

    def shown_count(self) -> int:
        """How many records pass every filter (cheap: for status bars at any size)."""
        return int(np.count_nonzero(self._passes))

    def shown_refs(self) -> list[RecordRef]:
        """Records passing every filter (the date range included), sorted."""
        return sorted(self._ref(int(g)) for g in np.flatnonzero(self._passes).tolist())

    def highlighted_refs(self) -> list[RecordRef]:
        return sorted(self._ref(int(g)) for g in self.highlight_layer.indices.tolist())

    def link_arrows(self) -> list[tuple[RecordRef, RecordRef, str]]:
        return [(self._ref(a), self._ref(b), rel) for a, b, rel in self.arrow_layer.arrows]

    def _view_point(self, day: float, y: float) -> QPoint:
        scene = self.viewbox.mapViewToScene(QPointF(day * SECONDS_PER_DAY, y))
        return self.plot.mapFromScene(scene)

    def item_view_pos(self, ref: RecordRef) -> QPoint | None:
        """Viewport position of the item's marker (points) or of its visible bar's middle (periods)."""
        g = self._index(ref)
        if g is None:
            return None
        lay = self._src.layout
        hits = np.flatnonzero(lay.idx == g)
        if hits.size == 0:
            day, y = self._anchors(np.array([g]))
            return self._view_point(float(day[0]), float(y[0]))
        k = int(hits[0])
        if self._is_span[g]:
            px = (max(float(lay.x0[k]), 0.0) + min(float(lay.x1[k]), lay.width_px)) / 2
        else:
            px = float(lay.mx[k])
        return self._view_point(lay.to_day(px), float(lay.y[k]))

    def item_scene_pos(self, ref: RecordRef) -> QPointF | None:
        pos = self.item_view_pos(ref)
        return None if pos is None else self.plot.mapToScene(pos)

    def _hit(self, view_pos: QPoint) -> tuple[int | None, tuple[int, int, float] | None]:
        """(item index, None) for an item under the point, or (None, (lane, count, usd)) for a bin."""
        scene = self.plot.mapToScene(view_pos)
        if not self.viewbox.sceneBoundingRect().contains(scene):
            return None, None
        v = self.viewbox.mapSceneToView(scene)
        lay = self._src.layout
        px = float(lay.to_px(v.x() / SECONDS_PER_DAY))
        y = v.y()
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
            lane = self._src.lanes[lane_no]
            if lane.top <= y <= lane.bottom:
                col = int(px // bins.bin_px)
                sel = np.flatnonzero(np.abs(bins.column - col) <= 1)
                if sel.size:
                    return None, (lane_no, int(bins.count[sel].sum()), float(bins.usd[sel].sum()))
        return None, None

    def tooltip_at(self, view_pos: QPoint) -> str:
        g, agg = self._hit(view_pos)
        if g is not None:
            return self._describe(g)
        if agg is not None:
            lane_no, count, usd = agg
            text = f"{count:,} records in {self._src.lanes[lane_no].label}"
            if usd > 0:
                text += f"\n{format_usd(usd)} in total"
            return text + "\nZoom in to see them one by one."
        return ""

    def _describe(self, g: int) -> str:
        rtype = TIMELINE_TYPES[int(self._data.record_type[g])]
        prec = m.DatePrecision(list(m.DatePrecision)[int(self._data.precision[g])])
        start, end = self._data.start[g], self._data.end[g]
        when = prec.format(m.day_to_date(int(start)))
        if end > start:
            when += " – " + prec.format(m.day_to_date(int(end)))
        lines = [str(self._data.label[g]), f"{KIND_NAMES[rtype]} · {when}"]
        if prec is not m.DatePrecision.DAY:
            lines[-1] += f" (date known to the {prec.value})" if prec.value != "approximate" else " (approximate)"
        amount = self._data.amount_usd[g]
        if np.isfinite(amount):
            lines.append(format_usd(amount))
        if not self._passes[g]:
            lines.append("Outside the date-range filter")
        return "\n".join(lines)

    def export_png(self, path: str | Path) -> None:
        from pyqtgraph.exporters import ImageExporter

        ImageExporter(self.plot.plotItem).export(str(path))

    def export_svg(self, path: str | Path) -> None:
        from pyqtgraph.exporters import SVGExporter

        try:
            SVGExporter(self.plot.plotItem).export(str(path))
        except ValueError:
            # pyqtgraph's SVG clean-up cannot parse the path syntax Qt 6 writes for custom
            # painted items; Qt's own SVG generator renders the same scene as vectors.
            self._export_svg_with_qt(Path(path))

    def _export_svg_with_qt(self, path: Path) -> None:
        from PySide6.QtCore import QRect
        from PySide6.QtGui import QPainter
        from PySide6.QtSvg import QSvgGenerator

        size = self.plot.size()
        generator = QSvgGenerator()
        generator.setFileName(str(path))
        generator.setSize(size)
        generator.setViewBox(QRect(0, 0, size.width(), size.height()))
        generator.setTitle("Partnership Explorer timeline")
        painter = QPainter(generator)
        try:
            self.plot.render(painter)
        finally:
            painter.end()

    # --- interaction --------------------------------------------------------------------------

    def _context_clicked(self, scene_pos: QPointF, screen_pos: QPointF) -> bool:
        """Right click on an item: select it and offer its actions (edit, duplicate, delete)."""
        g, _agg = self._hit(self.plot.mapFromScene(scene_pos))
        if g is None:
            return False
        ref = self._ref(g)
        self.state.select(ref, initiator=self)
        self.context_menu_requested.emit(ref, screen_pos.toPoint())
        return True

    def _clicked(self, scene_pos: QPointF) -> None:
        self.plot.setFocus(Qt.FocusReason.MouseFocusReason)
        g, _agg = self._hit(self.plot.mapFromScene(scene_pos))
        if g is not None:  # clicking empty space keeps the selection (other views share it)
            self.state.select(self._ref(g), initiator=self)

    def _range_dragged(self, from_day: float, to_day: float, finished: bool) -> None:
        a, b = sorted((from_day, to_day))
        self._applying_region = True
        try:
            self.region.setRegion((a * SECONDS_PER_DAY, b * SECONDS_PER_DAY))
            self.region.setVisible(True)
        finally:
            self._applying_region = False
        if finished:
            if b - a < 1.0:
                self._update_region()
                return
            self.state.set_date_range(math.floor(a), math.ceil(b))

    def _region_moved(self, *_args: Any) -> None:
        if self._applying_region or not self.region.isVisible():
            return
        lo, hi = self.region.getRegion()
        self.state.set_date_range(round(lo / SECONDS_PER_DAY), round(hi / SECONDS_PER_DAY))

    def _update_region(self) -> None:
        f = self.state.filters
        has = f.start_day is not None or f.end_day is not None
        self._applying_region = True
        try:
            if has:
                lo = MIN_DAY if f.start_day is None else float(f.start_day)
                hi = MAX_DAY if f.end_day is None else float(f.end_day)
                self.region.setRegion((lo * SECONDS_PER_DAY, hi * SECONDS_PER_DAY))
            self.region.setVisible(has)
        finally:
            self._applying_region = False
        self.clear_range_button.setVisible(has)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and obj is self.plot.viewport():
            text = self.tooltip_at(event.pos())
            if text:
                QToolTip.showText(event.globalPos(), text, self.plot.viewport())
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        if event.type() == QEvent.Type.KeyPress and obj is self.plot and self._key(event):
            return True
        return super().eventFilter(obj, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self._key(event):
            super().keyPressEvent(event)

    def _key(self, event: QKeyEvent) -> bool:
        key, mods = event.key(), event.modifiers()
        a, b = self.view_range()
        span = b - a
        ctrl = bool(mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier))
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Right) and ctrl:
            shift = span * 0.1 * (1 if key == Qt.Key.Key_Right else -1)
            self.set_view_range(a + shift, b + shift)
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            self._move_in_lane(forward=key == Qt.Key.Key_Right)
        elif key in (Qt.Key.Key_Up, Qt.Key.Key_Down) and not mods & Qt.KeyboardModifier.AltModifier:
            self._move_between_lanes(down=key == Qt.Key.Key_Down)
        elif key in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab) and not mods & Qt.KeyboardModifier.ControlModifier:
            # At either end Tab leaves the timeline, as everywhere else (no keyboard trap).
            return self._move_in_time(forward=key == Qt.Key.Key_Tab and not mods & Qt.KeyboardModifier.ShiftModifier)
        elif key in (Qt.Key.Key_Home, Qt.Key.Key_End):
            first = key == Qt.Key.Key_Home
            self._go_to(timeline_keys.step_in_time(self._data.start, self._passes, None, forward=first))
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            current = self._keyboard_current()
            if current is None:
                return False
            self.activated.emit(self._ref(current))
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self._zoom(0.8)
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self._zoom(1.25)
        elif key in (Qt.Key.Key_0, Qt.Key.Key_F) and not mods:
            self.fit_all()
        elif key == Qt.Key.Key_T:
            self.show_today()
        elif key == Qt.Key.Key_Escape and self.region.isVisible():
            self.state.set_date_range(None, None)
        else:
            return False
        return True

    # --- keyboard cursor: the current selection, when it is on the timeline -------------------

    def _keyboard_current(self) -> int | None:
        current = self.state.current
        return None if current is None else self._index(current)

    def _go_to(self, g: int | None) -> bool:
        if g is None:
            return False
        self.state.select(self._ref(g), initiator=self)
        self._bring_highlight_into_view()
        return True

    def _move_in_time(self, forward: bool) -> bool:
        starts = self._data.start
        return self._go_to(timeline_keys.step_in_time(starts, self._passes, self._keyboard_current(), forward))

    def _first_in_view(self, forward: bool) -> int | None:
        a, b = self.view_range()
        in_view = self._passes & (self._hi >= a) & (self._lo <= b)
        return timeline_keys.step_in_time(self._data.start, in_view if in_view.any() else self._passes, None, forward)

    def _move_in_lane(self, forward: bool) -> bool:
        g = self._keyboard_current()
        if g is None:
            return self._go_to(self._first_in_view(forward))
        lanes = self._arrangement.lanes
        return self._go_to(timeline_keys.step_in_lane(lanes.order[int(lanes.lane[g])], self._passes, g, forward))

    def _move_between_lanes(self, down: bool) -> bool:
        g = self._keyboard_current()
        if g is None:
            return self._go_to(self._first_in_view(True))
        lanes = self._arrangement.lanes
        lane = timeline_keys.lane_step(lanes.order, self._passes, int(lanes.lane[g]), down)
        if lane is None:
            return False
        starts = self._data.start
        return self._go_to(timeline_keys.nearest_in_lane(lanes.order[lane], starts, self._passes, float(starts[g])))

    def _announce(self) -> None:
        """Screen readers hear the selected item's name and date."""
        g = self._keyboard_current()
        text = self._describe(g).replace("\n", ", ") if g is not None else "Nothing selected on the timeline."
        self.plot.setAccessibleDescription(text)
        if self.plot.hasFocus():
            QAccessible.updateAccessibility(QAccessibleEvent(self.plot, QAccessible.Event.DescriptionChanged))

    def _zoom(self, factor: float) -> None:
        a, b = self.view_range()
        mid, half = (a + b) / 2, (b - a) / 2 * factor
        half = min(max(half, MIN_SPAN_DAYS / 2), (MAX_DAY - MIN_DAY) / 2)
        if mid - half < MIN_DAY:
            mid = MIN_DAY + half
        if mid + half > MAX_DAY:
            mid = MAX_DAY - half
        self.set_view_range(mid - half, mid + half)

    # --- AppState ------------------------------------------------------------------------------

    def _on_selection_changed(self, refs: list[RecordRef], initiator: Any) -> None:
        highlight: set[RecordRef] = set()
        arrows: list[tuple[RecordRef, RecordRef, str]] = []
        for ref in refs[:200]:
            if ref.record_type in TYPE_CODE:
                highlight.add(ref)
                continue
            for link in self._links(ref):
                if link.record_type in TYPE_CODE:
                    highlight.add(RecordRef(link.record_type, link.record_id))
        for ref in [r for r in refs if r.record_type in TYPE_CODE][:3]:
            arrows.extend(self._typed_links(ref))
        self._highlight_refs = highlight
        self._arrow_refs = arrows
        self._map_selection_to_data()
        self._relayout()  # the selection's names and the arrows' chips come first in placement
        self._announce()
        if initiator is not self:
            self._bring_highlight_into_view()

    def _links(self, ref: RecordRef) -> list[Any]:
        try:
            return list(self.state.detail(ref).links)
        except StoreError:
            return []

    def _typed_links(self, ref: RecordRef) -> list[tuple[RecordRef, RecordRef, str]]:
        out: list[tuple[RecordRef, RecordRef, str]] = []
        for link in self._links(ref):
            if link.record_type not in TYPE_CODE:
                continue
            target = RecordRef(link.record_type, link.record_id)
            out.append((ref, target, link.relation))
            if ref.record_type == "event" and link.record_type == "pledge":
                # second hop for a summit: the deals filed under the pledges announced there
                for sub in self._links(target):
                    if sub.record_type == "deal" and sub.relation == "deal under it":
                        out.append((target, RecordRef("deal", sub.record_id), sub.relation))
        seen: set[tuple[RecordRef, RecordRef]] = set()
        unique = []
        for a, b, rel in out:
            if (a, b) not in seen and (b, a) not in seen:
                seen.add((a, b))
                unique.append((a, b, rel))
        return unique

    def _map_selection_to_data(self) -> None:
        idx = [self._index(r) for r in self._highlight_refs]
        self.highlight_layer.indices = np.array(sorted(i for i in idx if i is not None), dtype=np.int64)
        arrows = []
        for a, b, rel in self._arrow_refs:
            ia, ib = self._index(a), self._index(b)
            if ia is not None and ib is not None and ia != ib:
                arrows.append((ia, ib, rel))
        self.arrow_layer.arrows = arrows
        self.highlight_layer.update()
        self.arrow_layer.update()

    def _bring_highlight_into_view(self) -> None:
        g = self.highlight_layer.indices
        if g.size == 0:
            return
        a, b = self.view_range()
        lo, hi = self._lo[g], self._hi[g]
        if bool(((lo <= b) & (hi >= a)).any()):
            return
        first, last = float(lo.min()), float(hi.max())
        span = b - a
        if last - first <= span * 0.8:
            mid = (first + last) / 2
            self.set_view_range(mid - span / 2, mid + span / 2)
        else:
            margin = max((last - first) * 0.08, 15.0)
            self.set_view_range(first - margin, last + margin)

    def _on_reveal_requested(self, _refs: list[RecordRef]) -> None:
        """Glide to the picked records (or, for a person or place, to what they are linked to),
        zoomed in: a deal fills a few months of the view, not a pixel of thirty years."""
        g = self.highlight_layer.indices
        if g.size == 0:
            return
        first, last = float(self._lo[g].min()), float(self._hi[g].max())
        margin = max((last - first) * 0.12, REVEAL_MIN_SPAN_DAYS / 2)
        self._on_range_requested(first - margin, last + margin)

    def _on_filters_changed(self, filters: Filters) -> None:
        if replace(filters, start_day=None, end_day=None) == self._data_filters:
            self._update_passes()
            self._update_region()
            self._relayout()
            return
        self._apply_data_filters()
        self._relayout()

    # Writes to these change what the timeline draws; others (people, organisations, sources…) don't.
    DRAWN_FROM = frozenset(TIMELINE_TYPES) | {"place", "sector", "country"}
    PATCH_AT_MOST = 500  # records updated by one write that are patched in place, not reloaded

    def _on_records_changed(self, changes: Any, _initiator: object) -> None:
        # changes: a store ChangeEvent (typed once the timeline's imports are reworked)
        if changes.types() & self.DRAWN_FROM and not self._patch(changes):
            self.reload()
        self._on_selection_changed(self.state.selection, self)
        self._relayout()

    def _patch(self, changes: Any) -> bool:
        """Update the loaded columns in place for records that were edited (not created or
        deleted, nothing else drawn from changed): a million records are not read again for one
        edit. False when a reload is needed."""
        edits = getattr(changes, "changes", [])
        if (
            not edits
            or len(edits) > self.PATCH_AT_MOST
            or len(self._full) == 0
            or any(c.action != "update" or c.record_type not in TIMELINE_TYPES for c in edits)
        ):
            return False
        derived = self._full_derived()
        sorted_keys, order = derived["keys_sorted"], derived["keys_order"]
        by_type: dict[str, list[int]] = {}
        for c in edits:
            by_type.setdefault(c.record_type, []).append(c.record_id)
        try:
            fresh = {name: self.state.store.timeline_rows(name, ids) for name, ids in by_type.items()}
        except StoreError:
            log.exception("reading edited records")
            return False
        for name, rows in fresh.items():
            if len(rows) != len(set(by_type[name])):
                return False  # a record became undated (or dated): its row comes or goes
            want = TYPE_CODE[name] << KEY_BITS | rows.record_id
            pos = np.searchsorted(sorted_keys, want)
            if np.any(pos >= sorted_keys.size) or np.any(sorted_keys[np.minimum(pos, sorted_keys.size - 1)] != want):
                return False
            at = order[pos]
            for column in ("start", "end", "precision", "amount_usd", "sector_id", "country_id", "label"):
                getattr(self._full, column)[at] = getattr(rows, column)
            for column, values in self._derive(rows).items():
                if column in derived:  # keys (type, id) do not change
                    derived[column][at] = values
        self._full_arrangement = None  # dates, sectors or countries may have moved records between rows
        self._snapshot = (self._full, derived)  # a subset taken from the old one is not used
        self._data_filters = None
        self._apply_data_filters()
        return True

    # Requested ranges (story steps) glide there, so the audience sees where the view went.
    range_animation_ms = 450

    def _on_range_requested(self, start_day: float, end_day: float) -> None:
        from PySide6.QtCore import QEasingCurve, QVariantAnimation

        old = getattr(self, "_range_animation", None)
        if old is not None:
            old.stop()
        if self.range_animation_ms <= 0 or not self.isVisible():
            self.set_view_range(start_day, end_day)
            return
        a0, b0 = self.view_range()
        animation = QVariantAnimation(self)
        animation.setDuration(self.range_animation_ms)
        animation.setStartValue(0.0)
        animation.setEndValue(1.0)
        animation.setEasingCurve(QEasingCurve.Type.InOutCubic)
        animation.valueChanged.connect(
            lambda t: self.set_view_range(a0 + (start_day - a0) * t, b0 + (end_day - b0) * t)
        )
        animation.finished.connect(lambda: self.set_view_range(start_day, end_day))
        self._range_animation = animation
        animation.start()

    def range_animation_running(self) -> bool:
        from PySide6.QtCore import QAbstractAnimation

        animation = getattr(self, "_range_animation", None)
        return animation is not None and animation.state() == QAbstractAnimation.State.Running

    def _on_store_replaced(self) -> None:
        self._highlight_refs, self._arrow_refs = set(), []
        self._full = TimelineData.empty()  # a new database loads (and fits the view) afresh
        self.reload()
        self.fit_all()
