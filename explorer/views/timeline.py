"""The timeline: every dated record of the partnership in lanes, linked to the selection and the filters.

Public API speaks in day numbers (float days since 1970-01-01); the plot's x axis is in seconds
(day * 86400) so pyqtgraph's date axis reads it. The records, their lanes, rows and labels and
what is at a point are the Qt-free model's (explorer.timeline.model); this view paints them
with three GraphicsObjects (lanes and items, highlight, arrows) from its numpy arrays, whatever
the number of records, takes the mouse and keyboard, animates and exports.
"""

from __future__ import annotations

import html
import logging
import math
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import (
    QAbstractAnimation,
    QEasingCurve,
    QEvent,
    QObject,
    QPoint,
    QPointF,
    QRectF,
    Qt,
    QVariantAnimation,
    Signal,
)
from PySide6.QtGui import (
    QAccessible,
    QAccessibleEvent,
    QColor,
    QFont,
    QFontMetricsF,
    QHelpEvent,
    QKeyEvent,
    QPalette,
)
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
from explorer.store.filtering import passing_unchanged
from explorer.store.queries import TIMELINE_TYPES, TYPE_CODE
from explorer.timeline.labels import format_usd
from explorer.timeline.lod import SECONDS_PER_DAY
from explorer.timeline.model import (
    MAX_DAY,
    MIN_DAY,
    MIN_SPAN_DAYS,
    TOP_PAD,
    Derived,
    LabelFonts,
    TimelineModel,
    today_day,
)
from explorer.views.theme import BASE_POINT_SIZE
from explorer.views.timeline_items import (
    ArrowLayer,
    DayAxis,
    HighlightLayer,
    LaneLayer,
    PaintSource,
    Style,
    TextWidths,
    label_box,
)
from explorer.views.timeline_lanes import KIND_NAMES, Groupings, arrange

if TYPE_CHECKING:
    from explorer.store import ChangeEvent
    from explorer.store.scope import FilterScope, PassingIds
    from explorer.timeline.model import ArrangementLike, ScopeSubset

log = logging.getLogger("explorer.views.timeline")

LANE_MODES = {"kind": "By kind", "sector": "By sector", "country": "By country"}
COLOUR_MODES = {"kind": "Kind", "sector": "Sector", "country": "Country"}
LANE_AXIS_SHARE = 0.3  # of the plot widget, at most, for the lane names
LANE_AXIS_MIN_PX = 210  # … or this: desk type's names read whole on a laptop
LANE_AXIS_PAD = 22  # pixels beside the widest lane name


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

    def updateViewRange(self, forceX: bool = False, forceY: bool = False) -> None:  # noqa: N803 - pyqtgraph's
        super().updateViewRange(forceX, forceY)
        # pyqtgraph moves the items to a new range only when the scene is about to paint, and
        # that move dirties the plot again: every pan or zoom frame painted the records twice
        # (the second time identically). Moved now, the frame's one paint already shows them there.
        self.updateMatrix()


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
        # Never shown: measures the reference legend at this width. A child, not a window of its
        # own: a parentless widget freed by Python's collector while Qt walked every widget (a
        # style sheet being set) brought the app down.
        self._reference = QLabel(self)
        self._reference.hide()
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
        # Everything a callback may read exists before the widgets, signals and loads that call back.
        self._highlight_refs: set[RecordRef] = set()
        self._arrow_refs: list[tuple[RecordRef, RecordRef, str]] = []
        self._applying_region = False
        self._fit_when_loaded = False  # fit the view to the first load's parts as they come
        self._range_animation: QVariantAnimation | None = None  # while a requested range glides there
        self._legend_references: dict[str, str] = {}  # colour mode → legend of every record
        self._legend_revision = -1  # the records' revision those legends were made at
        self._loading_revision = -1
        style = self._make_style()
        self._widths = TextWidths(style.label_font)
        self._lane_font = QFont(self._ui_font())  # sized by _apply_palette
        self.model = TimelineModel(arrange, Groupings(), self._label_fonts(style), self._label_qualifiers)
        self._src = PaintSource(self.model, style)

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
        self.colour_combo.setCurrentIndex(list(COLOUR_MODES).index(self.model.colour_mode))
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
        for button in (self.clear_range_button, self.fit_button, self.today_button):
            bar.addWidget(button)
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
        self.layer.setZValue(0)
        self.highlight_layer.setZValue(10)
        self.arrow_layer.setZValue(20)
        for it in (self.layer, self.highlight_layer, self.arrow_layer):
            self.viewbox.addItem(it, ignoreBounds=True)
        self.era_bands: list[pg.LinearRegionItem] = []  # behind everything; named in the legend
        self._era_names: list[str] = []
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
        self.viewbox.sigXRangeChanged.connect(lambda *_: self.state.announce_view_range(*self.view_range()))
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
        """Colours and fonts of the palette and UI scale (the item colours are the arrangement's)."""
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
        return Style(bg, fg, muted, pal.color(QPalette.ColorRole.Highlight), band, [], label_font, small_font)

    def _label_fonts(self, style: Style) -> LabelFonts:
        """The fonts' measures the model lays labels out with."""
        fm = QFontMetricsF(style.label_font)
        small = QFontMetricsF(style.small_font)
        above, box_height = label_box(fm)
        return LabelFonts(
            self._widths,
            TextWidths(style.small_font),
            above,
            box_height,
            fm.height(),
            small.height(),
            self._font_scale(),
        )

    def _label_qualifiers(self, record_type: str, ids: list[int]) -> dict[int, str]:
        """What tells same-titled records apart (place or company), for the model's labels."""
        try:
            return self.state.store.label_qualifiers(record_type, ids)
        except StoreError:
            log.exception("reading what tells same-titled records apart")
            return {}

    def _apply_palette(self) -> None:
        style = self._make_style()
        style.colours = self._src.style.colours
        self._src.style = style
        self._widths = TextWidths(style.label_font)
        self.model.set_fonts(self._label_fonts(style))
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
        # ticks point down to their dates: up into the plot they crossed the last row's labels
        self.date_axis.setStyle(tickFont=tick_font, tickLength=5, tickTextOffset=4)
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
        self._relayout()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange):
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
        self.model.groupings = Groupings.of(hierarchy, countries)
        self._draw_eras()
        first = len(self.model.full) == 0
        self._fit_when_loaded = first
        self._loading_revision = self.state.revision  # the records read now hold every write so far
        self.state.load_timeline(self._timeline_loaded, show_parts=first)

    def _timeline_loaded(self, full: TimelineData | None, complete: bool) -> None:
        self.model.set_full(full, self._loading_revision if complete else -1)
        self._apply_data_filters()
        if self._fit_when_loaded:
            self.fit_all()
            self._fit_when_loaded = not complete
        self._relayout()

    def _apply_data_filters(self) -> None:
        """Keep the cached records passing the filters (date range aside): ids from SQL, a numpy mask here."""
        filters = replace(self.state.filters, start_day=None, end_day=None)
        self.model.data_filters = filters
        full = self.model.full
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
            self._set_data(*self.model.subset(ids))
        else:
            self._set_data(full, self.model.full_derived())

    def _prepared_subset(self, filters: Filters) -> tuple[TimelineData, Derived, ArrangementLike] | None:
        """The subset (and its arrangement) the background job took along with the scope of
        these filters, if it was taken from the records as they are now."""
        scope = self.state.scope(self.state.filters)
        return self.model.prepared(scope.extras.get("timeline") if scope is not None else None, filters)

    def _subset_for_scope(self, passing: PassingIds) -> ScopeSubset | None:
        """In the background, with what passes new filters: this view's subset of its loaded
        records (a search matching tens of thousands of a million records took tens of
        milliseconds of the GUI thread). The model reads only its snapshot, which the GUI
        thread replaces and never edits, so a result from a stale one is simply not used."""
        return self.model.subset_for_scope(replace(passing.filters, start_day=None, end_day=None), passing.timeline_ids)

    def _set_data(
        self, data: TimelineData, derived: Derived | None = None, arranged: ArrangementLike | None = None
    ) -> None:
        f = self.state.filters
        self.model.set_data(data, derived, arranged, (f.start_day, f.end_day))
        self._arranged()
        self._map_selection_to_data()
        self._update_region()

    def _arrange(self) -> None:
        """Lanes and colours worked out again (a mode changed), keeping what still holds."""
        self.model.arrange()
        self._arranged()

    def _arranged(self) -> None:
        """The model has new lanes and colours: the rows, the lane axis and the legend follow."""
        self._src.style.colours = self.model.arrangement.colours.colours
        self._compute_lane_rows()
        self._update_legend()

    def _update_passes(self) -> None:
        f = self.state.filters
        self.model.update_passes(f.start_day, f.end_day)

    def _update_legend(self) -> None:
        fg = self._src.style.foreground.name()
        parts = [
            # an entry wraps as a whole ("No sector" not over two lines); names are text, not markup
            f'<span style="color:{c.name()}; font-size:14pt;">■</span>&nbsp;<span style="color:{fg}">'
            f"{html.escape(name).replace(' ', '&nbsp;')}</span>"
            for name, c in self.model.arrangement.colours.legend
        ]
        mode = COLOUR_MODES[self.model.colour_mode]
        text = f"<b>{mode}:</b>&nbsp; " + " &nbsp;&nbsp; ".join(parts)
        if self._era_names:  # the bands behind the lanes, in time order (named here, not over the marks)
            names = " &nbsp;·&nbsp; ".join(html.escape(n) for n in self._era_names)
            text += f" &nbsp;&nbsp;&nbsp; <b>Eras</b> (shaded bands):&nbsp; <span style='color:{fg}'>{names}</span>"
        if self._legend_revision != self.model.revision:  # the records changed: so may their legends
            self._legend_references.clear()
            self._legend_revision = self.model.revision
        if self.model.data is self.model.full:  # the legend of every record: what a filter's must fit in
            self._legend_references[self.model.colour_mode] = text
        self.legend_label.set_legend(text, self._legend_references.get(self.model.colour_mode, text))

    # --- lanes and rows ---------------------------------------------------------------------

    def _plot_px(self) -> tuple[float, float]:
        rect = self.viewbox.boundingRect()
        return max(float(rect.width()), 100.0), max(float(rect.height()), 60.0)

    def _compute_lane_rows(self) -> None:
        total = self.model.compute_lane_rows(*self._plot_px())
        self.viewbox.setLimits(yMin=-TOP_PAD, yMax=total)
        self.viewbox.setYRange(-TOP_PAD, total, padding=0.0)
        rect = QRectF(MIN_DAY * SECONDS_PER_DAY, 0.0, (MAX_DAY - MIN_DAY) * SECONDS_PER_DAY, total)
        for it in (self.layer, self.highlight_layer, self.arrow_layer):
            it.set_bounds(rect)
        self._update_lane_axis()

    def _update_lane_axis(self) -> None:
        """Lane names on the left, at most LANE_AXIS_SHARE of the plot wide (cut with an ellipsis
        beyond): in large type on a small window whole names took up to two thirds of it, the
        room the records and dates need."""
        fm = QFontMetricsF(self._lane_font)
        most = max(LANE_AXIS_SHARE * self.plot.width(), LANE_AXIS_MIN_PX) - LANE_AXIS_PAD
        names = {
            label: fm.elidedText(label, Qt.TextElideMode.ElideRight, most)
            for label in self.model.arrangement.lanes.labels
        }
        self.lane_axis.setTicks([[(lane.centre, names.get(lane.label, lane.label)) for lane in self.model.lanes], []])
        cut = [label for label, name in names.items() if name != label]
        self.lane_axis.setToolTip("\n".join(cut))  # the whole names of those cut (tooltip_at)
        widest = max((fm.horizontalAdvance(name) for name in names.values()), default=60.0)
        self.lane_axis.setWidth(int(widest + LANE_AXIS_PAD))

    # --- layout for the current view --------------------------------------------------------

    def _relayout(self, force: bool = True) -> None:
        """Lay out what the current view shows. ``force=False`` skips it when the view range and
        width are those of the current layout (a range change both signals and calls here)."""
        a, b = self.view_range()
        width, height = self._plot_px()
        current = self.model.layout
        if not force and (current.view_lo, current.view_hi, current.width_px) == (a, b, width):
            return
        self.model.lay_out(a, b, width, height)
        for it in (self.layer, self.highlight_layer, self.arrow_layer):
            it.update()

    def _on_resized(self) -> None:
        self._compute_lane_rows()
        self._relayout()

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
        self.set_view_range(*self.model.full_extent())

    def show_today(self) -> None:
        a, b = self.view_range()
        half = (b - a) / 2
        today = float(today_day())
        self.set_view_range(today - half, today + half)

    def set_presentation(self, on: bool) -> None:
        """Presentation mode: labels are few and whole (large type comes from the UI scale)."""
        if on != self.model.presenting:
            self.model.presenting = on
            self._relayout()

    def control_widgets(self) -> list[QWidget]:
        """The lane/colour choosers and navigation buttons (presentation mode hides them)."""
        return [*self._control_labels, self.lane_combo, self.colour_combo, self.fit_button, self.today_button]

    def lane_labels(self) -> list[str]:
        return list(self.model.arrangement.lanes.labels)

    def set_lane_mode(self, mode: str) -> None:
        if mode not in LANE_MODES:
            raise ValueError(f"unknown lane mode {mode!r}")
        if mode != self.model.lane_mode:
            self.model.lane_mode = mode
            self._arrange()
            self._relayout()
        idx = list(LANE_MODES).index(mode)
        if self.lane_combo.currentIndex() != idx:
            self.lane_combo.setCurrentIndex(idx)

    def set_colour_mode(self, mode: str) -> None:
        if mode not in COLOUR_MODES:
            raise ValueError(f"unknown colour mode {mode!r}")
        if mode != self.model.colour_mode:
            self.model.colour_mode = mode
            self._arrange()
            self._relayout()
        idx = list(COLOUR_MODES).index(mode)
        if self.colour_combo.currentIndex() != idx:
            self.colour_combo.setCurrentIndex(idx)

    def lane_mode(self) -> str:
        return self.model.lane_mode

    def colour_mode(self) -> str:
        return self.model.colour_mode

    def legend_entries(self) -> list[str]:
        return [name for name, _c in self.model.arrangement.colours.legend]

    def _ref(self, g: int) -> RecordRef:
        return RecordRef(*self.model.ref_of(g))

    def _index(self, ref: RecordRef) -> int | None:
        return self.model.index_of(ref)

    def shows(self, ref: RecordRef) -> bool:
        """Whether the record is on the timeline as it is filtered now."""
        g = self._index(ref)
        return g is not None and bool(self.model.passes[g])

    def total_count(self) -> int:
        """How many dated records the database holds, filtered or not."""
        return len(self.model.full)

    def shown_count(self) -> int:
        """How many records pass every filter (cheap: for status bars at any size)."""
        return int(np.count_nonzero(self.model.passes))

    def shown_refs(self) -> list[RecordRef]:
        """Records passing every filter (the date range included), sorted."""
        return sorted(self._ref(int(g)) for g in np.flatnonzero(self.model.passes).tolist())

    def highlighted_refs(self) -> list[RecordRef]:
        return sorted(self._ref(int(g)) for g in self.model.highlight.tolist())

    def link_arrows(self) -> list[tuple[RecordRef, RecordRef, str]]:
        return [(self._ref(a), self._ref(b), rel) for a, b, rel in self.model.arrows]

    def _view_point(self, day: float, y: float) -> QPoint:
        scene = self.viewbox.mapViewToScene(QPointF(day * SECONDS_PER_DAY, y))
        return self.plot.mapFromScene(scene)

    def item_view_pos(self, ref: RecordRef) -> QPoint | None:
        """Viewport position of the item's marker (points) or of its visible bar's middle (periods)."""
        g = self._index(ref)
        if g is None:
            return None
        return self._view_point(*self.model.item_point(g))

    def item_scene_pos(self, ref: RecordRef) -> QPointF | None:
        pos = self.item_view_pos(ref)
        return None if pos is None else self.plot.mapToScene(pos)

    def _hit(self, view_pos: QPoint) -> tuple[int | None, tuple[int, int, float] | None]:
        """(item index, None) for an item under the point, or (None, (lane, count, usd)) for a bin."""
        scene = self.plot.mapToScene(view_pos)
        if not self.viewbox.sceneBoundingRect().contains(scene):
            return None, None
        v = self.viewbox.mapSceneToView(scene)
        return self.model.hit(v.x() / SECONDS_PER_DAY, v.y())

    def tooltip_at(self, view_pos: QPoint) -> str:
        axis = self.lane_axis
        if axis.sceneBoundingRect().contains(self.plot.mapToScene(view_pos)):
            return axis.toolTip()  # the whole names of lanes whose names are cut
        g, agg = self._hit(view_pos)
        if g is not None:
            return self._describe(g)
        if agg is not None:
            return self.model.bins_text(*agg)
        return ""

    def _describe(self, g: int) -> str:
        data = self.model.data
        rtype = TIMELINE_TYPES[int(data.record_type[g])]
        prec = m.DatePrecision(list(m.DatePrecision)[int(data.precision[g])])
        start, end = data.start[g], data.end[g]
        when = prec.format(m.day_to_date(int(start)))
        if end > start:
            when += " – " + prec.format(m.day_to_date(int(end)))
        lines = [str(data.label[g]), f"{KIND_NAMES[rtype]} · {when}"]
        if prec is not m.DatePrecision.DAY:
            lines[-1] += f" (date known to the {prec.value})" if prec.value != "approximate" else " (approximate)"
        amount = data.amount_usd[g]
        if np.isfinite(amount):
            lines.append(format_usd(amount))
        if not self.model.passes[g]:
            lines.append("Outside the date-range filter")
        return "\n".join(lines)

    def export_png(self, path: str | Path) -> None:
        """The timeline with its legend (views.exports paints PNG, SVG and pages one way)."""
        from explorer.views import exports

        exports.export_png(self, Path(path))

    def export_svg(self, path: str | Path) -> None:
        from explorer.views import exports

        exports.export_svg(self, Path(path))

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
        if isinstance(event, QHelpEvent) and event.type() == QEvent.Type.ToolTip and obj is self.plot.viewport():
            text = self.tooltip_at(event.pos())
            if text:
                QToolTip.showText(event.globalPos(), text, self.plot.viewport())
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        if (
            isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.KeyPress
            and obj is self.plot
            and self._key(event)
        ):
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
            self._go_to(self.model.first_or_last(first))
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
        return self._go_to(self.model.step_in_time(self._keyboard_current(), forward))

    def _first_in_view(self, forward: bool) -> int | None:
        return self.model.first_in_view(*self.view_range(), forward)

    def _move_in_lane(self, forward: bool) -> bool:
        g = self._keyboard_current()
        if g is None:
            return self._go_to(self._first_in_view(forward))
        return self._go_to(self.model.step_in_lane(g, forward))

    def _move_between_lanes(self, down: bool) -> bool:
        g = self._keyboard_current()
        if g is None:
            return self._go_to(self._first_in_view(True))
        target = self.model.step_between_lanes(g, down)
        return False if target is None else self._go_to(target)

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
        self._highlight_refs, self._arrow_refs = self._marks_of(refs)
        self._map_selection_to_data()
        self._relayout()  # the selection's names and the arrows' chips come first in placement
        self._announce()
        if initiator is not self:
            self._bring_highlight_into_view()

    def _marks_of(self, refs: list[RecordRef]) -> tuple[set[RecordRef], list[tuple[RecordRef, RecordRef, str]]]:
        """What a selection marks on the timeline: the records highlighted (selected ones, or
        those a selected company, person or place is linked to) and the selection's link arrows."""
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
        return highlight, arrows

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
        self.model.map_selection(self._highlight_refs, self._arrow_refs)
        self.highlight_layer.update()
        self.arrow_layer.update()

    def _bring_highlight_into_view(self) -> None:
        shown = self.model.range_showing_highlight(*self.view_range())
        if shown is not None:
            self.set_view_range(*shown)

    def _on_reveal_requested(self, _refs: list[RecordRef]) -> None:
        """Glide to the picked records (or, for a person or place, to what they are linked to),
        zoomed in: a deal fills a few months of the view, not a pixel of thirty years."""
        shown = self.model.reveal_range()
        if shown is not None:
            self._on_range_requested(*shown)

    def _on_filters_changed(self, filters: Filters) -> None:
        if replace(filters, start_day=None, end_day=None) == self.model.data_filters:
            self._update_passes()
            self._update_region()
            self._relayout()
            return
        self._apply_data_filters()
        self._relayout()

    # Writes to these change what the timeline draws; others (people, organisations, sources…) don't.
    DRAWN_FROM = frozenset(TIMELINE_TYPES) | {"place", "sector", "country"}

    def _draw_eras(self) -> None:
        """Each era as a soft band behind every lane, its title at the top of the band."""
        try:
            eras = self.state.store.eras()
        except StoreError:
            log.exception("reading the eras")
            eras = []
        for band in self.era_bands:
            self.viewbox.removeItem(band)
        self.era_bands, self._era_names = [], []
        style = self._src.style
        for n, (_era_id, title, first, last) in enumerate(eras):
            tint = QColor(style.foreground)
            tint.setAlpha(22 if n % 2 == 0 else 34)  # neighbouring eras told apart
            band = pg.LinearRegionItem(
                (first * SECONDS_PER_DAY, (last + 1) * SECONDS_PER_DAY),
                orientation="vertical",
                movable=False,
                brush=pg.mkBrush(tint),
                pen=pg.mkPen(None),
            )
            band.setZValue(-20)
            band.setAcceptHoverEvents(False)
            for line in band.lines:
                line.setPen(pg.mkPen(None))
                line.setHoverPen(pg.mkPen(None))
            self.viewbox.addItem(band, ignoreBounds=True)
            self.era_bands.append(band)
            years = f"{m.day_to_date(first).year}–{m.day_to_date(last).year}"
            self._era_names.append(f"{title} ({years})")
        self._update_legend()

    def era_titles(self) -> list[str]:
        """The eras drawn, in time order, as the legend names them (title and years)."""
        return list(self._era_names)

    PATCH_AT_MOST = 500  # records updated by one write that are patched in place, not reloaded

    def _on_records_changed(self, changes: ChangeEvent, _initiator: object) -> None:
        if 0 < changes.revision <= self.model.revision:
            return  # the records loaded since already hold it
        if "era" in changes.types():
            self._draw_eras()
        drawn = bool(changes.types() & self.DRAWN_FROM)
        if drawn and not self._patch(changes):
            self.reload()
        # A write to nothing drawn (a company's or person's name, a source) lays the view out
        # again only if what the selection marks changed (at 1e6 a layout is ~9 ms of a rename).
        marks = (self._highlight_refs, self._arrow_refs)
        if drawn or self._marks_of(self.state.selection) != marks:
            self._on_selection_changed(self.state.selection, self)

    def _patch(self, changes: ChangeEvent) -> bool:
        """Update the loaded columns in place for records that were edited (not created or
        deleted, nothing else drawn from changed): a million records are not read again for one
        edit. False when a reload is needed."""
        edits = changes.changes
        if (
            not edits
            or len(edits) > self.PATCH_AT_MOST
            or len(self.model.full) == 0
            or any(c.action != "update" or c.record_type not in TIMELINE_TYPES for c in edits)
        ):
            return False
        by_type: dict[str, list[int]] = {}
        for c in edits:
            by_type.setdefault(c.record_type, []).append(c.record_id)
        try:
            fresh = {name: self.state.store.timeline_rows(name, ids) for name, ids in by_type.items()}
        except StoreError:
            log.exception("reading edited records")
            return False
        filters = self.model.data_filters
        if not self.model.patch(by_type, fresh, changes.revision):
            return False
        shown_too = (
            filters is not None
            and filters.active
            and passing_unchanged(filters, changes.changes)
            and self.model.patch_shown(fresh)
        )
        if shown_too:  # the same records pass: the subset shown took the new values in place
            self.model.data_filters = filters
        elif filters is not None and filters.active:
            # What passes is worked out again off the GUI thread (by SQL here it held the window
            # 160 ms at a million records), the records' new subset with it; until then the
            # subset shown stays as it was.
            self.state.request_scope(
                self.state.filters, self._refilter, owner=self, label="Filtering the timeline", companions=True
            )
        else:
            self._apply_data_filters()
        return True

    def _refilter(self, _scope: FilterScope) -> None:
        """What passes the filters, worked out again after a write: the records shown follow,
        the selection's marks found among them and the view laid out again."""
        self._apply_data_filters()
        self._on_selection_changed(self.state.selection, self)

    # Requested ranges (story steps) glide there, so the audience sees where the view went.
    range_animation_ms = 450

    def _on_range_requested(self, start_day: float, end_day: float) -> None:
        if self._range_animation is not None:
            self._range_animation.stop()
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
        animation = self._range_animation
        return animation is not None and animation.state() == QAbstractAnimation.State.Running

    def _on_store_replaced(self) -> None:
        self._highlight_refs, self._arrow_refs = set(), []
        self.model.full = TimelineData.empty()  # a new database loads (and fits the view) afresh
        self.reload()
        self.fit_all()
