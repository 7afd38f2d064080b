"""The relationship map: who is linked to whom around the selection, as a dock beside the others.

A thin view over explorer.graph: the ego network of the selection (1–2 hops) is read and laid
out in a background job; this widget paints the result, takes the pointer and the keys, and
talks to AppState only. A click selects a record everywhere; a selection made elsewhere becomes
the map's centre; the global filters and the timeline's date range filter what is drawn.
Hidden, it reads nothing (like the records table) and catches up when shown.
"""

from __future__ import annotations

import functools
import html
import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QLineF, QPointF, QRectF, QSize, QSizeF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QContextMenuEvent,
    QFont,
    QFontMetricsF,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QShowEvent,
    QTextDocument,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from explorer import schema
from explorer.graph import model as gm
from explorer.graph.layout import layout
from explorer.graph.layout import radial as layout_radial
from explorer.graph.model import Graph, GraphFilter, Key
from explorer.graph.reader import reading
from explorer.graph.scene import MapScene, PlacedLabel, Transform
from explorer.jobs import BackgroundJob
from explorer.state import AppState, RecordRef
from explorer.store import ChangeEvent, Filters
from explorer.store.graph import edge_types, node_types
from explorer.store.queries import TIMELINE_TYPES
from explorer.timeline.labels import format_usd
from explorer.views.exports import paper_colours
from explorer.views.theme import current_colours
from explorer.views.timeline_lanes import QUALITATIVE

log = logging.getLogger("explorer.map")

# The timeline's "colour by kind" colours for the types it draws; the others get their own.
OTHER_COLOURS = {
    "organisation": "#E15759",
    "country": "#9C755F",
    "sector": "#499894",
    "place": "#8CD17D",
    "person": "#FF9DA7",
    "source": "#BAB0AC",
}
GROUP_COLOUR = "#9A9A9A"
# Edge colours by the kind of record they lead from, muted; a line style by the kind of link.
EDGE_COLOURS = ("#4E79A7", "#F28E2B", "#59A14F", "#B07AA1", "#76B7B2", "#E15759", "#9C755F", "#79706E")
HIERARCHY = {"sector.parent_id", "pledge.supersedes_id"}
LABEL_CHARS = 32
DRAG_PX = 4  # a press that moves less than this is a click


@functools.cache
def type_colour(record_type: str) -> QColor:
    if record_type in TIMELINE_TYPES:
        return QColor(QUALITATIVE[TIMELINE_TYPES.index(record_type) % len(QUALITATIVE)])
    return QColor(OTHER_COLOURS.get(record_type, GROUP_COLOUR))


@functools.cache
def edge_style(type_key: str) -> tuple[QColor, Qt.PenStyle, float]:
    """Colour, dash and width of an edge type: references solid, link-table links thicker,
    citations dotted, hierarchy (sub-sector, supersedes) dashed, folded deals thickest."""
    if type_key == gm.COLLAPSED:
        return QColor("#E15759"), Qt.PenStyle.SolidLine, 2.4
    if type_key == gm.OVERVIEW:
        return QColor("#79706E"), Qt.PenStyle.SolidLine, 1.6
    keys = [e.key for e in edge_types()]
    colour = QColor(EDGE_COLOURS[keys.index(type_key) % len(EDGE_COLOURS)] if type_key in keys else "#79706E")
    kind = next((e.kind for e in edge_types() if e.key == type_key), "ref")
    if kind == "cites":
        return colour, Qt.PenStyle.DotLine, 1.2
    if type_key in HIERARCHY:
        return colour, Qt.PenStyle.DashLine, 1.4
    if kind == "link":
        return colour, Qt.PenStyle.SolidLine, 2.0
    return colour, Qt.PenStyle.SolidLine, 1.2


def edge_label(type_key: str) -> str:
    if type_key == gm.COLLAPSED:
        return "shared deals"
    if type_key == gm.OVERVIEW:
        return "deals in the sector with an organisation from the country"
    e = next((e for e in edge_types() if e.key == type_key), None)
    if e is None:
        return type_key
    if e.kind == "cites":
        return "cites (source)"
    if e.roles:
        return f"{'/'.join(e.roles)} in deal"
    return e.relation


class MapCanvas(QWidget):
    """Paints a MapScene and takes the pointer: click selects, drag moves (and pins) a node or
    pans, the wheel zooms, a double click expands a node."""

    clicked = Signal(object)  # Key
    double_clicked = Signal(object)  # Key
    moved = Signal()  # the view was panned or zoomed, or a node dragged

    def __init__(self, owner: RelationshipMapView) -> None:
        super().__init__(owner)
        self.owner = owner
        self.setObjectName("relationshipMapCanvas")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setMinimumSize(240, 140)  # a projector shares its height with the timeline (presentation)
        self.setAccessibleName("Relationship map")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.transform = Transform(width=float(self.width()), height=float(self.height()))
        self._press: QPointF | None = None
        self._last = QPointF()
        self._dragging: Key | None = None
        self._panning = False
        self._moved = False
        self.last_frame_ms = 0.0
        self.moving = False  # a drag, pan or zoom under way: frames drawn the quick way
        self._rest = QTimer(self, singleShot=True, interval=160)
        self._rest.timeout.connect(self._rested)

    def start_moving(self) -> None:
        self.moving = True
        self._rest.start()

    def _rested(self) -> None:
        if self._press is not None and self._moved:
            self._rest.start()  # still held: rest once released
            return
        self.moving = False
        self.update()

    # --- painting -----------------------------------------------------------------------------

    def label_font(self) -> QFont:
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.92))
        return font

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            self.owner.paint_map(painter, QRectF(self.rect()), self.transform, moving=self.moving)
        finally:
            painter.end()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        fitted = self.owner.fitted
        self.transform = self.transform.resized(float(self.width()), float(self.height()))
        if fitted:
            self.owner.fit()

    # --- input --------------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if event.button() != Qt.MouseButton.LeftButton:
            return
        pos = event.position()
        self._press, self._moved = pos, False
        key = self.owner.node_at(pos.x(), pos.y())
        self._dragging = key
        self._panning = key is None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if self._press is None:
            key = self.owner.node_at(pos.x(), pos.y())
            self.setCursor(Qt.CursorShape.PointingHandCursor if key else Qt.CursorShape.ArrowCursor)
            return
        if not self._moved and (pos - self._press).manhattanLength() < DRAG_PX:
            return
        previous = self._last if self._moved else self._press
        self._moved = True
        self._last = pos
        if self._dragging is not None:
            x, y = self.transform.to_layout(pos.x(), pos.y())
            self.owner.drag_node(self._dragging, x, y)
        elif self._panning:
            self.transform = self.transform.panned(pos.x() - previous.x(), pos.y() - previous.y())
            self.owner.fitted = False
        self.start_moving()
        self.update()
        self.moved.emit()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._press is None:
            return
        pos = event.position()
        if not self._moved:
            key = self.owner.node_at(pos.x(), pos.y())
            if key is not None:
                self.clicked.emit(key)
        self._press, self._dragging, self._panning = None, None, False
        if self.moving:
            self._rest.start()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        key = self.owner.node_at(event.position().x(), event.position().y())
        if key is not None:
            self.double_clicked.emit(key)

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if not steps:
            return
        pos = event.position()
        self.transform = self.transform.zoomed(1.15**steps, pos.x(), pos.y())
        self.owner.fitted = False
        self.start_moving()
        self.update()
        self.moved.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.owner.zoom(1.25)
        elif key == Qt.Key.Key_Minus:
            self.owner.zoom(0.8)
        elif key in (Qt.Key.Key_0, Qt.Key.Key_Home, Qt.Key.Key_F):
            self.owner.fit()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.owner.current_key() is not None:
            self.owner.expand(self.owner.current_key())  # type: ignore[arg-type]
        else:
            super().keyPressEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        key = self.owner.node_at(float(event.pos().x()), float(event.pos().y()))
        self.owner.context_menu(key, event.globalPos())

    def event(self, e: Any) -> bool:
        if e.type() == e.Type.ToolTip:
            key = self.owner.node_at(float(e.pos().x()), float(e.pos().y()))
            text = self.owner.describe(key) if key is not None else ""
            if text:
                QToolTip.showText(e.globalPos(), text, self)
            else:
                QToolTip.hideText()
            return True
        return super().event(e)


class RelationshipMapView(QWidget):
    """The map's controls, note line and canvas. ``job``: the read and layout running now.

    Signals:
        loaded(): a new map (or a new layout of it) is shown.
    """

    loaded = Signal()

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.job: BackgroundJob | None = None
        self.raw = Graph()  # as read, before folding and filtering
        self.graph = Graph()  # as drawn
        self.scene = MapScene(Graph(), {})
        self.roots: list[Key] = []
        self.pinned: dict[Key, tuple[float, float]] = {}
        self.fitted = True
        self._stale = True
        self._pending_view: dict[str, Any] | None = None
        self._path_from: Key | None = None
        self._filter = GraphFilter()
        self._base_filter = GraphFilter()  # from the global filters, before following the timeline
        self._scope_filters: Filters | None = None
        self._pending_filters: Filters | None = None
        self._widths: dict[str, float] = {}
        self._highlight: set[Key] = set()
        self._selected: set[Key] = set()
        # the labels' places beside their nodes at the last rest: (scene, [(key, text, offsets)])
        self._looks: tuple[Any, MapScene, list[Look]] | None = None
        # the labels' places beside their nodes, for a map, view and selection (see paint_map)
        self._labels: tuple[tuple[Any, ...], list[tuple[Key, str, float, float, float, float, bool]]] | None = None

        self.hops_box = QComboBox(self)
        self.hops_box.addItem("1 link away", 1)
        self.hops_box.addItem("2 links away", 2)
        self.hops_box.setCurrentIndex(1)
        self.hops_box.setAccessibleName("How far from the selection")
        self.size_box = QComboBox(self)
        self.size_box.addItem("Size by amount", "amount")
        self.size_box.addItem("Size by links", "degree")
        self.size_box.setAccessibleName("Node size")
        self.fold_box = QCheckBox("Fold deals", self)
        self.fold_box.setToolTip("Deals folded into organisation ↔ organisation links, by count and USD")
        self.follow_box = QCheckBox("Follow the timeline", self)
        self.follow_box.setToolTip(
            "Only what is dated within the days the timeline shows (pan or zoom it to move through time)"
        )
        self.fit_button = QPushButton("Fit", self)
        self.fit_button.setToolTip("Show the whole map (0)")
        self.export_button = QPushButton("Export…", self)
        self.export_button.setToolTip("Save the map as PNG or SVG")
        self.note = ElidedLabel(self)
        self.note.setObjectName("paneTitle")
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        # One line (the whole text in its tooltip), the legend two: a new map never changes
        # their height, so the canvas keeps its size and the labels placed for it in the background.
        self.note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.legend = QLabel(self)
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.legend.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self._fix_heights()
        self.canvas = MapCanvas(self)
        top = QHBoxLayout()
        top.setSpacing(6)
        for w in (self.hops_box, self.size_box, self.fold_box, self.follow_box):
            top.addWidget(w)
        top.addStretch(1)
        top.addWidget(self.fit_button)
        top.addWidget(self.export_button)
        layout_ = QVBoxLayout(self)
        layout_.setContentsMargins(4, 4, 4, 4)
        layout_.setSpacing(3)
        layout_.addLayout(top)
        layout_.addWidget(self.legend)
        layout_.addWidget(self.canvas, 1)
        layout_.addWidget(self.note)
        self._controls = [
            self.hops_box,
            self.size_box,
            self.fold_box,
            self.follow_box,
            self.fit_button,
            self.export_button,
        ]

        self.hops_box.currentIndexChanged.connect(lambda _i: self.reload())
        self.size_box.currentIndexChanged.connect(lambda _i: self._rescene())
        self.fold_box.toggled.connect(lambda _on: self._refilter())
        self._shown_days: tuple[float, float] | None = state.view_range
        self._follow = QTimer(self, singleShot=True, interval=150)  # while the timeline glides: once it pauses
        self._follow.timeout.connect(self._follow_timeline)
        self.follow_box.toggled.connect(lambda _on: self._follow_timeline())
        state.view_range_changed.connect(self._on_view_range)
        self.fit_button.clicked.connect(self.fit)
        self.export_button.clicked.connect(self.export_asked)
        self.canvas.clicked.connect(self._node_clicked)
        self.canvas.double_clicked.connect(self.expand)
        state.selection_changed.connect(self._on_selection)
        state.filters_changed.connect(self._on_filters)
        state.records_changed.connect(self._on_records_changed)
        state.store_replaced.connect(self._on_store_replaced)
        self._on_selection(state.selection, None)

    # --- what is shown -----------------------------------------------------------------------

    @property
    def hops(self) -> int:
        return int(self.hops_box.currentData())

    @property
    def busy(self) -> bool:
        return self.job is not None

    def control_widgets(self) -> list[QWidget]:
        """What presentation mode hides (the room sees the map, its legend and note)."""
        return list(self._controls)

    def _fix_heights(self) -> None:
        line = self.fontMetrics().lineSpacing()
        self.note.setFixedHeight(line + 4)
        self._fit_legend()

    def _fit_legend(self) -> None:
        """As many lines as the legend needs at this width (a projector's type wraps it to more),
        up to four: the map keeps the rest of the height."""
        line = self.fontMetrics().lineSpacing()
        # The width the layout is about to give it (in a resize the legend still has its old one).
        box = self.layout()
        width = self.width() - (box.contentsMargins().left() + box.contentsMargins().right() if box else 0)
        needed = line
        if self.legend.text():
            # QLabel's own heightForWidth answers for the width it was last laid out at
            doc = QTextDocument()
            doc.setDocumentMargin(0)
            doc.setDefaultFont(self.legend.font())
            doc.setHtml(self.legend.text())
            doc.setTextWidth(max(100, width))
            needed = math.ceil(doc.size().height())
        self.legend.setFixedHeight(max(line, min(needed, 4 * line)) + 4)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_legend()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # presentation mode, Larger Text
            self._fix_heights()
            self._widths.clear()
            self._labels = None  # placed for the old size of type
            self.canvas.update()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._pending_filters is not None:
            self._on_filters(self._pending_filters)
        if self._stale:
            self.reload()

    def _on_store_replaced(self) -> None:
        self.roots, self.pinned, self.raw = [], {}, Graph()
        self._stale = True
        if self.isVisible():
            self.reload()

    def _on_selection(self, refs: list[RecordRef], initiator: object) -> None:
        keys = [(r.record_type, r.record_id) for r in refs if r.record_type in node_types()]
        self._selected = set(keys)
        if initiator is self:
            self._update_highlight()
            self.canvas.update()
            return
        if not keys:
            return
        if keys[:3] == self.roots and not self._stale:
            self._update_highlight()
            self.canvas.update()
            return
        self.roots = keys[:3]
        self._path_from = None
        self._stale = True
        if self.isVisible():
            self.reload()

    def _on_filters(self, filters: Filters) -> None:
        if not self.isVisible():
            self._pending_filters = filters  # worked out when the map is opened
            return
        self._pending_filters = None
        others = replace(filters, start_day=None, end_day=None)
        if others.active:
            # the dated records passing the sector, country and text filters (worked out once for all views)
            self._scope_filters = filters
            self.state.request_scope(filters, self._scope_ready, owner=self, label="Filtering the map")
            return
        self._scope_filters = None
        self._set_filter(GraphFilter(filters.start_day, filters.end_day))

    def _scope_ready(self, scope: Any) -> None:
        if scope.filters != self._scope_filters:
            return
        passing = {t: gm.SortedIds(ids) for t, ids in scope.ids.items()}
        f = scope.filters
        self._set_filter(GraphFilter(f.start_day, f.end_day, passing))

    def _on_view_range(self, start_day: float, end_day: float) -> None:
        self._shown_days = (start_day, end_day)
        if self.follow_box.isChecked() and self.isVisible():
            self._follow.start()

    def _follow_timeline(self) -> None:
        self._set_filter(self._base_filter)

    def _set_filter(self, f: GraphFilter) -> None:
        self._base_filter = f
        if self.follow_box.isChecked() and self._shown_days is not None:
            # the days the timeline shows, within the date-range filter if there is one
            lo, hi = self._shown_days
            if f.start_day is not None:
                lo = max(lo, float(f.start_day))
            if f.end_day is not None:
                hi = min(hi, float(f.end_day))
            f = replace(f, start_day=lo, end_day=hi)
        if f == self._filter:
            return
        self._filter = f
        self._refilter()

    def _on_records_changed(self, changes: ChangeEvent, _initiator: object) -> None:
        if not (set(changes.types()) & (set(node_types()) | {"citation"})):
            return
        self._stale = True
        if self.isVisible() and self.roots:
            self.reload()

    # --- reading and laying out -------------------------------------------------------------

    def reload(self) -> None:
        """Read the roots' ego network and lay it out, in the background."""
        self._stale = False
        roots, hops, store = list(self.roots), self.hops, self.state.store
        if not roots:

            def blocks(_cancelled: Callable[[], bool]) -> Graph:
                with reading(store) as reader:
                    rows = reader.overview()
                    keys = {k for s_, c_, _n, _u in rows for k in (("sector", s_), ("country", c_)) if k[1] is not None}
                    return gm.overview(rows, reader.nodes(keys))  # type: ignore[arg-type]

            self._run(blocks, keep_positions=False, label="Reading the overview map")
            return

        def first(_cancelled: Callable[[], bool]) -> Graph:
            with reading(store) as reader:
                return gm.ego(reader, roots, 1)

        def read(_cancelled: Callable[[], bool]) -> Graph:
            with reading(store) as reader:
                return gm.ego(reader, roots, hops)

        # One link away is shown at once, on rings; the second link and the settled layout follow.
        self._run(read, keep_positions=False, label="Reading the relationship map", first=first if hops > 1 else None)

    def expand(self, key: Key) -> None:
        """A double click: the node's own neighbours join the map (a group opens its holder)."""
        node = self.raw.nodes.get(key) or self.graph.nodes.get(key)
        if node is None:
            return
        target = node.group.ref if node.group is not None else key
        store, raw = self.state.store, self.raw

        def read(_cancelled: Callable[[], bool]) -> Graph:
            with reading(store) as reader:
                more = gm.ego(reader, [target], 1, budget=gm.NODE_BUDGET)
            grown = raw.merged(Graph(more.nodes, more.edges, (), more.notes))
            if node.group is not None:  # the group stood for what is now drawn
                grown.nodes.pop(key, None)
                grown.edges = [e for e in grown.edges if key not in (e.a, e.b)]
            return grown

        self._run(read, keep_positions=True, label="Expanding the relationship map")

    def show_paths(self, a: Key, b: Key) -> None:
        store = self.state.store

        def read(_cancelled: Callable[[], bool]) -> Graph:
            with reading(store) as reader:
                return gm.paths(reader, a, b)

        self.roots = [a, b]
        self._run(read, keep_positions=False, label="Finding paths")

    def _run(
        self,
        read: Callable[[Callable[[], bool]], Graph],
        *,
        keep_positions: bool,
        label: str,
        first: Callable[[Callable[[], bool]], Graph] | None = None,
    ) -> None:
        self.note.setText("Reading…")
        self._start(read, keep_positions=keep_positions, label=label, first=first)

    def _refilter(self) -> None:
        """Filters or folding changed: the same records, drawn again (laid out from where they are)."""
        if not self.raw.nodes:
            return
        raw = self.raw
        self._start(lambda _cancelled: raw, keep_positions=True, label="Laying out the relationship map")

    def _start(
        self,
        read: Callable[[Callable[[], bool]], Graph],
        *,
        keep_positions: bool,
        label: str,
        first: Callable[[Callable[[], bool]], Graph] | None = None,
    ) -> None:
        """Read, filter, lay out, fit and place the labels in the background: the GUI thread
        only swaps the result in and paints it."""
        if self.job is not None:
            self.job.cancel()
        previous = self.scene.positions() if keep_positions else {}
        pinned = dict(self.pinned)
        f, fold, size_by = self._filter, self.fold_box.isChecked(), str(self.size_box.currentData())
        font = QFont(self.canvas.label_font())
        selected = frozenset(self._selected)
        current = self.canvas.transform
        colours, ratio = dict(current_colours()), self.canvas.devicePixelRatioF()
        width, height = float(self.canvas.width()), float(self.canvas.height())
        # The dock's shape in half steps: a few pixels more or less give the same picture.
        aspect = max(1.0, round(2 * width / max(1.0, height)) / 2)

        def prepare(raw: Graph, positions: dict[Key, Any], shown: Graph) -> Prepared:
            scene = MapScene(shown, positions, size_by)
            t = current if keep_positions else scene.fit(width, height)
            highlight = _near(shown, selected)
            labels = plan_labels(scene, t, QFontMetricsF(font), selected, highlight)
            node_looks(scene, selected, highlight, colours, ratio)
            return Prepared(raw, shown, scene, t, not keep_positions, selected, labels)

        def work(cancelled: Callable[[], bool], report: Callable[[Any], None]) -> Prepared:
            seed, reheat = previous, False
            if first is not None:
                quick = first(cancelled)
                quick_shown = _shown(quick, f, fold)
                edges = [(e.a, e.b, float(e.count)) for e in quick_shown.edges]
                seed = layout_radial(list(quick_shown.nodes), quick_shown.roots, edges)
                report(prepare(quick, seed, quick_shown))
                reheat = True
            raw = read(cancelled)
            shown = _shown(raw, f, fold)
            positions = _layout_of(shown, seed, pinned, cancelled, aspect, reheat)
            scene = MapScene(shown, positions, size_by)
            t = current if keep_positions else scene.fit(width, height)
            highlight = _near(shown, selected)
            labels = plan_labels(scene, t, QFontMetricsF(font), selected, highlight)
            node_looks(scene, selected, highlight, colours, ratio)  # the discs' images, made here
            return Prepared(raw, shown, scene, t, not keep_positions, selected, labels)

        job = BackgroundJob(work, label)
        self.job = job
        job.progress.connect(lambda part: self._show_prepared(part, final=False) if self.job is job else None)

        def done(result: Prepared) -> None:
            if self.job is job:
                self.job = None
                self._show_prepared(result)

        def failed(exc: Exception) -> None:
            if self.job is job:
                self.job = None
                log.error("relationship map", exc_info=exc)
                self.note.setText("The map could not be read: details are in the log.")

        job.finished.connect(done)
        job.failed.connect(failed)
        job.start()

    def _show_prepared(self, ready: Prepared, *, final: bool = True) -> None:
        """Swap in a map worked out in the background (``final``: not the quick first picture)."""
        self.raw, self.graph, self.scene = ready.raw, ready.graph, ready.scene
        self._update_highlight()
        self._update_legend()
        self._update_note()
        if not final:
            self.note.setText(self.note.text() + " Reading one link further…")
        if self._pending_view is not None and final:
            view, self._pending_view = self._pending_view, None
            self._apply_view(view)
        elif ready.fitted:
            size = (float(self.canvas.width()), float(self.canvas.height()))
            if size == (ready.transform.width, ready.transform.height):
                self.canvas.transform = ready.transform
            else:  # the dock was resized meanwhile: fitted to the size it has now
                self.canvas.transform = ready.scene.fit(*size)
            self.fitted = True
        if ready.selected == frozenset(self._selected) and self.canvas.transform == ready.transform:
            planned = _offsets(ready.scene, ready.transform, ready.labels)
            self._labels = (self._label_key(self.canvas.transform), planned)
        self.canvas.update()
        self.loaded.emit()

    def _show_raw(self, raw: Graph, positions: dict[Key, Any], refit: bool = True) -> None:
        self.raw = raw
        self.graph = _shown(raw, self._filter, self.fold_box.isChecked())
        self.scene = MapScene(self.graph, positions, str(self.size_box.currentData()))
        self._update_highlight()
        self._update_legend()
        self._update_note()
        if refit:
            self.fit()
        self.canvas.update()
        self.loaded.emit()

    def _rescene(self) -> None:
        self.scene = MapScene(self.graph, self.scene.positions(), str(self.size_box.currentData()))
        self.canvas.update()

    def wait_loaded(self, timeout_ms: int = 30_000) -> None:
        """Tests and benchmarks: until the running read and layout are shown."""
        if self.job is not None:
            self.job.wait(timeout_ms)

    # --- highlight, legend, note ------------------------------------------------------------

    def _update_highlight(self) -> None:
        near: set[Key] = set(self._selected)
        for k in self._selected:
            near |= self.graph.neighbours(k)
        self._highlight = near

    def _update_legend(self) -> None:
        types = sorted({n.record_type for n in self.graph.nodes.values()}, key=lambda t: node_types().index(t))
        parts = [
            f"<span style='color:{type_colour(t).name()}'>●</span>&nbsp;{_nobreak(schema.label(t))}"
            for t in types
            if t in node_types()
        ]
        kinds = sorted({e.type_key for e in self.graph.edges})
        seen: set[str] = set()
        for key in kinds:
            label = edge_label(key)
            if label in seen:
                continue
            seen.add(label)
            colour, style, _w = edge_style(key)
            mark = {Qt.PenStyle.DotLine: "┈┈", Qt.PenStyle.DashLine: "╌╌"}.get(style, "──")
            parts.append(f"<span style='color:{colour.name()}'>{mark}</span>&nbsp;{_nobreak(label)}")
        self.legend.setText("&nbsp;&nbsp; ".join(parts))
        self._fit_legend()

    def _update_note(self) -> None:
        if not self.roots and not self.graph.nodes:
            self.note.setText("Select a record (here, on the timeline or in the tree) to see what it is linked to.")
            return
        n, e = len(self.graph.nodes), len(self.graph.edges)
        text = f"{n:,} records, {e:,} links."
        if self.graph.notes:
            text += " " + " ".join(self.graph.notes[:3])
            if len(self.graph.notes) > 3:
                text += f" (and {len(self.graph.notes) - 3} more notes)"
        self.note.setText(text)
        self.note.setToolTip("\n".join(self.graph.notes))

    def describe(self, key: Key) -> str:
        node = self.graph.nodes.get(key)
        if node is None:
            return ""
        lines = [node.label, schema.label(node.record_type) if not node.is_group else "Group: double-click to open"]
        if node.amount_usd:
            lines.append(format_usd(node.amount_usd))
        if node.hidden:
            lines.append(f"{node.hidden:,} more links not drawn: double-click to expand")
        for e in self.graph.edges_of(key)[:8]:
            other = self.graph.nodes.get(e.other(key))
            if other is not None:
                rel = e.relation if e.a == key else _inverse(e.type_key, e.relation)
                lines.append(f"  {rel} → {other.label}")
        return "\n".join(lines)

    # --- painting -----------------------------------------------------------------------------

    def label_text(self, key: Key) -> str:
        return label_text(self.graph, key)

    def placed_labels(self, t: Transform, font: QFont) -> list[PlacedLabel]:
        return plan_labels(self.scene, t, QFontMetricsF(font), frozenset(self._selected), self._highlight, self._widths)

    def _label_key(self, t: Transform) -> tuple[Any, ...]:
        return (id(self.scene), t, frozenset(self._selected), self.canvas.label_font().pointSizeF())

    def paint_map(
        self, painter: QPainter, rect: QRectF, t: Transform, *, moving: bool = False, vector: bool = False
    ) -> None:
        """The map as on screen (also for exports: any painter, any size). While ``moving`` (a
        drag, a pan, a zoom) edges are drawn plain and labels keep their places beside their
        nodes; once the pointer rests, edges are smoothed and labels placed again."""
        import time

        started = time.perf_counter()
        # a page printed or written as PDF from the dark theme is drawn in the light one
        colours = (paper_colours() if vector else None) or current_colours()
        base = QColor(colours["base"])
        painter.fillRect(rect, base)
        scene = self.scene
        if not len(scene):
            painter.setPen(QColor(colours["muted"]))
            painter.drawText(
                rect.adjusted(20, 20, -20, -20),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self.note.text() or "Nothing to show",
            )
            return
        p = scene.pixels(t)
        index = scene.index
        dim = bool(self._highlight)
        # Edges, one pen per type and state; faded by mixing with the background, not by
        # transparency (blending every antialiased pixel costs five times as much).
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, not moving)
        lines: dict[tuple[str, bool, int], list[QLineF]] = {}
        for e in self.graph.edges:
            ia, ib = index.get(e.a), index.get(e.b)
            if ia is None or ib is None:
                continue
            lit = dim and bool(self._selected & {e.a, e.b})
            heavy = min(3, e.count - 1) if e.type_key == gm.COLLAPSED else 0
            if e.type_key == gm.OVERVIEW:
                heavy = min(6, int(math.log10(max(1, e.count)) * 1.5))
            lines.setdefault((e.type_key, lit, heavy), []).append(
                QLineF(float(p[ia, 0]), float(p[ia, 1]), float(p[ib, 0]), float(p[ib, 1]))
            )
        for (type_key, lit, heavy), batch in sorted(lines.items()):
            colour, style, width = edge_style(type_key)
            if dim and not lit:
                colour = _mix(colour, base, 0.3)
            pen = QPen(colour, width * (1.0 + 0.5 * heavy) + (1.0 if lit else 0.0))
            pen.setStyle(Qt.PenStyle.SolidLine if moving else style)
            painter.setPen(pen)
            painter.drawLines(batch)
        # Nodes: each one's look is worked out once per map and selection, then only copied.
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        text_colour, highlight = QColor(colours["text"]), QColor(colours["highlight"])
        ratio = painter.device().devicePixelRatioF()
        looks = self._node_looks(colours, ratio)
        for i, (sprite, half, group_pen, group_brush) in enumerate(looks):
            x, y = float(p[i, 0]), float(p[i, 1])
            if sprite is not None and not vector:
                painter.drawImage(QPointF(x - half, y - half), sprite)
            else:  # a group, or a page or SVG (discs drawn as shapes, not copied images)
                r = float(scene.radius[i])
                painter.setPen(group_pen)
                painter.setBrush(group_brush)
                painter.drawEllipse(QPointF(x, y), r, r)
        if self.pinned:
            painter.setPen(QPen(text_colour, 1.5))
            for key in self.pinned:
                at = index.get(key)
                if at is not None:
                    r, x, y = float(scene.radius[at]) * 0.5, float(p[at, 0]), float(p[at, 1])
                    painter.drawLine(QPointF(x - r, y), QPointF(x + r, y))
        # Labels: none over another or over a node (placed at rest; moving, they go with their node).
        font = self.canvas.label_font()
        strong_font = QFont(font)
        strong_font.setUnderline(True)  # the same width as the plain text: its place was measured so
        faded = _mix(text_colour, base, 0.55)
        labels = self._labels
        if labels is None or labels[0][0] != id(self.scene) or (not moving and labels[0] != self._label_key(t)):
            labels = (self._label_key(t), _offsets(scene, t, self.placed_labels(t, font)))
            self._labels = labels
        placed_now = []
        for key, text, dx0, dy0, dx1, dy1, pill in labels[1]:
            i = index[key]
            x, y = float(p[i, 0]), float(p[i, 1])
            placed_now.append((key, text, (x + dx0, y + dy0, x + dx1, y + dy1), pill))
        for key, text, (x0, y0, x1, y1), pill in placed_now:
            if pill:
                painter.setPen(QPen(highlight if key in self._selected else text_colour, 1.0))
                painter.setBrush(QBrush(base))
                painter.drawRoundedRect(QRectF(x0 - 3, y0 - 1, x1 - x0 + 8, y1 - y0 + 2), 4, 4)
            strong = key in self._selected or key in self.graph.roots
            if key in self._selected:
                painter.setPen(highlight)
            else:
                painter.setPen(faded if dim and key not in self._highlight else text_colour)
            painter.setFont(strong_font if strong else font)
            painter.drawText(
                QRectF(x0, y0, x1 - x0 + 2, y1 - y0),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                text,
            )
        self.canvas.last_frame_ms = (time.perf_counter() - started) * 1000.0

    # --- pointer ------------------------------------------------------------------------------

    def _node_looks(self, colours: dict[str, str], ratio: float) -> list[Look]:
        """Per node, in scene order, how it is drawn; kept while the map, selection and theme stay."""
        stamp = (id(self.scene), frozenset(self._highlight), frozenset(self._selected), colours["base"], ratio)
        if self._looks is not None and self._looks[0] == stamp and self._looks[1] is self.scene:
            return self._looks[2]
        out = node_looks(self.scene, frozenset(self._selected), self._highlight, colours, ratio)
        self._looks = (stamp, self.scene, out)
        return out

    def node_at(self, px: float, py: float) -> Key | None:
        return self.scene.hit(self.canvas.transform, px, py)

    def node_pixel(self, key: Key) -> QPointF | None:
        pos = self.scene.position(key)
        if pos is None:
            return None
        x, y = self.canvas.transform.to_px(*pos)
        return QPointF(x, y)

    def current_key(self) -> Key | None:
        return next(iter(sorted(self._selected)), None)

    def _node_clicked(self, key: Key) -> None:
        node = self.graph.nodes.get(key)
        if node is None:
            return
        if node.is_group:
            self.expand(key)
            return
        if self._path_from is not None and self._path_from != key:
            a, self._path_from = self._path_from, None
            self.show_paths(a, key)
            return
        self.state.select(RecordRef(*key), initiator=self)

    def drag_node(self, key: Key, x: float, y: float) -> None:
        """Dragged nodes stay where they are put (pinned) through later layouts."""
        self.scene.move(key, x, y)
        self.pinned[key] = (x, y)

    def zoom(self, factor: float) -> None:
        self.canvas.transform = self.canvas.transform.zoomed(factor)
        self.fitted = False
        self.canvas.start_moving()
        self.canvas.update()

    def fit(self) -> None:
        self.canvas.transform = self.scene.fit(float(self.canvas.width()), float(self.canvas.height()))
        self.fitted = True
        self.canvas.update()

    def centre_on(self, key: Key) -> None:
        pos = self.scene.position(key)
        if pos is not None:
            self.canvas.transform = self.canvas.transform.centred(*pos)
            self.fitted = False
            self.canvas.update()

    def context_menu(self, key: Key | None, global_pos: Any) -> None:
        menu = QMenu(self)
        if key is not None and not self.graph.nodes[key].is_group:
            menu.addAction("Select", lambda: self.state.select(RecordRef(*key), initiator=self))
            menu.addAction("Expand (double-click)", lambda: self.expand(key))
            menu.addAction("Centre the map here", lambda: self._reroot(key))
            menu.addAction("Show paths from here to… (click another node)", lambda: self._start_path(key))
            if key in self.pinned:
                menu.addAction("Unpin", lambda: self.pinned.pop(key, None))
        menu.addAction("Fit", self.fit)
        menu.addAction("Unpin all", self.pinned.clear)
        menu.exec(global_pos)

    def _reroot(self, key: Key) -> None:
        self.roots = [key]
        self.reload()

    def _start_path(self, key: Key) -> None:
        self._path_from = key
        self.note.setText(f"Click another record to see the paths from {self.graph.nodes[key].label} to it.")

    # --- stories and exports ------------------------------------------------------------------

    def view_state(self) -> dict[str, Any]:
        """What a story step keeps of the map: its centre records (by UUID), hops, folding,
        the centre and zoom of the view."""
        t = self.canvas.transform
        roots = self.state.store.uuids_for_ids([(k[0], k[1]) for k in self.roots])
        return {
            "roots": [list(r) for r in roots],
            "hops": self.hops,
            "fold": self.fold_box.isChecked(),
            "centre": [t.cx, t.cy],
            "zoom": t.zoom,
            "stretch": t.stretch,
            "fitted": self.fitted,
        }

    def restore_view_state(self, view: dict[str, Any]) -> None:
        """A story step's map: its records and settings, then (once laid out) its centre and zoom."""
        pairs = [(str(t), str(u)) for t, u in view.get("roots", []) if t in node_types()]
        roots = [(t, i) for t, i in self.state.store.ids_for_uuids(pairs)]
        for box, value in ((self.hops_box, view.get("hops")),):
            index = box.findData(value)
            if index >= 0 and index != box.currentIndex():
                box.blockSignals(True)
                box.setCurrentIndex(index)
                box.blockSignals(False)
        self.fold_box.blockSignals(True)
        self.fold_box.setChecked(bool(view.get("fold", False)))
        self.fold_box.blockSignals(False)
        self._pending_view = view
        if roots and (roots != self.roots or self._stale or self.busy):
            self.roots = roots
            self._stale = True
            if self.isVisible():
                self.reload()
            return
        self._pending_view = None
        self._refilter() if self.raw.nodes else None
        self._apply_view(view)

    def _apply_view(self, view: dict[str, Any]) -> None:
        if view.get("fitted"):
            self.fit()
            return
        try:
            cx, cy = (float(v) for v in view.get("centre", [0.0, 0.0]))
            zoom = float(view.get("zoom", 60.0))
        except (TypeError, ValueError):
            self.fit()
            return
        stretch = float(view.get("stretch", 1.0) or 1.0)
        w, h = float(self.canvas.width()), float(self.canvas.height())
        self.canvas.transform = Transform(cx, cy, zoom, w, h, stretch)
        self.fitted = False
        self.canvas.update()

    def page_figure(self) -> MapFigure | None:
        """The map for a page being drawn now: a story step just applied may have changed its
        records (read and laid out here, while the page waits), then its picture."""
        if self._stale or self.busy:
            if self._stale:
                self.reload()
            self.wait_loaded()
            QApplication.processEvents()  # the result swapped in, the step's centre and zoom applied
        return self.figure()

    def figure(self) -> MapFigure | None:
        """The map for a hand-out or printed page (vector drawing), or None with nothing on it."""
        return MapFigure(self) if len(self.scene.keys) else None

    def render_image(self, size: QSize | None = None, scale: float = 1.0) -> QImage:
        """The map as drawn now, as an image (PNG exports, the hand-out)."""
        size = size or self.canvas.size()
        image = QImage(int(size.width() * scale), int(size.height() * scale), QImage.Format.Format_ARGB32)
        image.setDevicePixelRatio(scale)
        painter = QPainter(image)
        try:
            t = self.canvas.transform.resized(float(size.width()), float(size.height()))
            if self.fitted:
                t = self.scene.fit(float(size.width()), float(size.height()))
            self.paint_map(painter, QRectF(0, 0, size.width(), size.height()), t)
        finally:
            painter.end()
        return image

    def export_png(self, path: str | Path) -> None:
        if not self.render_image(scale=2.0).save(str(path)):
            raise OSError(f"could not write {path}")

    def export_svg(self, path: str | Path) -> None:
        from PySide6.QtCore import QRect
        from PySide6.QtSvg import QSvgGenerator

        size = self.canvas.size()
        generator = QSvgGenerator()
        generator.setFileName(str(path))
        generator.setSize(size)
        generator.setViewBox(QRect(0, 0, size.width(), size.height()))
        generator.setTitle("Partnership Explorer relationship map")
        painter = QPainter(generator)
        try:
            self.paint_map(painter, QRectF(0, 0, size.width(), size.height()), self.canvas.transform, vector=True)
        finally:
            painter.end()

    def export_asked(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Export the relationship map", str(Path.home() / "relationship-map.png"), "PNG (*.png);;SVG (*.svg)"
        )
        if not name:
            return
        path = Path(name)
        try:
            (self.export_svg if path.suffix.lower() == ".svg" else self.export_png)(path)
        except OSError as exc:
            self.note.setText(f"Not saved: {exc}")
            return
        self.note.setText(f"Saved the map to {path}")


@dataclass(frozen=True)
class Prepared:
    """A map worked out in the background, ready to be shown."""

    raw: Graph
    graph: Graph
    scene: MapScene
    transform: Transform
    fitted: bool
    selected: frozenset[Key]
    labels: list[PlacedLabel]


def label_text(graph: Graph, key: Key) -> str:
    node = graph.nodes.get(key)
    if node is None:
        return ""
    text = node.label if len(node.label) <= LABEL_CHARS else node.label[: LABEL_CHARS - 1].rstrip() + "…"
    if node.hidden and key in graph.roots:
        text += f" (+{node.hidden:,})"
    return text


def _near(graph: Graph, selected: frozenset[Key]) -> set[Key]:
    near: set[Key] = set(selected)
    for k in selected:
        near |= graph.neighbours(k)
    return near


def plan_labels(
    scene: MapScene,
    t: Transform,
    metrics: QFontMetricsF,
    selected: frozenset[Key],
    highlight: set[Key],
    widths: dict[str, float] | None = None,
) -> list[PlacedLabel]:
    """Which labels are drawn where (the selection's first, then the centre's, its neighbours',
    then the biggest); also run in the background, so fonts are measured here, not cached."""
    graph = scene.graph
    priority = {k: 1e6 for k in selected} | {k: 1e5 for k in highlight - selected}
    for k in graph.roots:
        priority[k] = max(priority.get(k, 0.0), 5e5)
    cache = {} if widths is None else widths

    def width(text: str) -> float:
        found = cache.get(text)
        if found is None:
            found = cache[text] = metrics.horizontalAdvance(text)
        return found

    return scene.labels(t, lambda k: label_text(graph, k), width, metrics.height(), priority)


def _offsets(
    scene: MapScene, t: Transform, placed: list[PlacedLabel]
) -> list[tuple[Key, str, float, float, float, float, bool]]:
    """Each label's rectangle relative to its node: moving, a label goes with its node."""
    p = scene.pixels(t)
    out = []
    for pl in placed:
        i = scene.index[pl.key]
        x, y = float(p[i, 0]), float(p[i, 1])
        x0, y0, x1, y1 = pl.rect
        out.append((pl.key, pl.text, x0 - x, y0 - y, x1 - x, y1 - y, pl.pill))
    return out


Look = tuple[QImage | None, float, QPen, QBrush]  # a disc's image and half its width, or a group's pen and brush
_SPRITES: dict[tuple[Any, ...], QImage] = {}
_SPRITES_LOCK = threading.Lock()  # images are made by the background job too (a new map's discs)


def sprite(fill: QColor, radius: float, edge: QColor, width: float, ratio: float) -> QImage:
    """A node's disc, drawn once per colour, size (to the pixel) and outline, then copied: a
    tenth of the cost of drawing each antialiased disc again on every frame."""
    key = (fill.rgba(), round(radius), edge.rgba(), width, ratio)
    with _SPRITES_LOCK:
        found = _SPRITES.get(key)
    if found is not None:
        return found
    side = int((key[1] + width + 2) * 2 * ratio) + 1
    image = QImage(side, side, QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(ratio)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    p.setPen(QPen(edge, width))
    p.setBrush(QBrush(fill))
    c = side / ratio / 2
    p.drawEllipse(QPointF(c, c), float(key[1]), float(key[1]))
    p.end()
    with _SPRITES_LOCK:
        if len(_SPRITES) > 2048:
            _SPRITES.clear()
        _SPRITES[key] = image
    return image


def node_looks(
    scene: MapScene, selected: frozenset[Key], highlight: set[Key], colours: dict[str, str], ratio: float
) -> list[Look]:
    base, accent = QColor(colours["base"]), QColor(colours["highlight"])
    dim = bool(highlight)
    out: list[Look] = []
    for i, key in enumerate(scene.keys):
        node = scene.graph.nodes[key]
        colour = QColor(GROUP_COLOUR) if node.is_group else type_colour(node.record_type)
        if dim and key not in highlight:
            colour = _mix(colour, base, 0.45)
        r = float(scene.radius[i])
        if node.is_group:
            out.append((None, r, QPen(type_colour(node.record_type), 2.0, Qt.PenStyle.DashLine), QBrush(colour)))
            continue
        chosen = key in selected
        edge, width = (accent if chosen else base), (3.0 if chosen else 1.2)
        disc = sprite(colour, r, edge, width, ratio)
        out.append((disc, disc.width() / disc.devicePixelRatioF() / 2, QPen(edge, width), QBrush(colour)))
    return out


def _nobreak(text: str) -> str:
    """A legend entry never wraps inside itself ("under / pledge", "lead/partner/investor")."""
    return html.escape(text).replace(" ", "&nbsp;").replace("/", "/\u2060")  # U+2060: word joiner


class ElidedLabel(QLabel):
    """One line of plain text that ends in "…" where it does not fit (the whole text is still
    ``text()``): cut off mid-word at the edge, a projected note looked broken."""

    def paintEvent(self, event: QPaintEvent) -> None:
        text = self.text()
        metrics = self.fontMetrics()
        rect = self.contentsRect()
        if metrics.horizontalAdvance(text) <= rect.width():
            super().paintEvent(event)
            return
        painter = QPainter(self)
        try:
            elided = metrics.elidedText(text, Qt.TextElideMode.ElideRight, rect.width())
            align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
            role = self.foregroundRole()
            self.style().drawItemText(painter, rect, align, self.palette(), self.isEnabled(), elided, role)
        finally:
            painter.end()


def _mix(colour: QColor, background: QColor, share: float) -> QColor:
    """``share`` of ``colour`` over ``background``: an opaque faded colour."""
    return QColor.fromRgbF(
        colour.redF() * share + background.redF() * (1 - share),
        colour.greenF() * share + background.greenF() * (1 - share),
        colour.blueF() * share + background.blueF() * (1 - share),
    )


def _inverse(type_key: str, relation: str) -> str:
    if type_key in (gm.COLLAPSED, gm.OVERVIEW):
        return relation
    e = next((e for e in edge_types() if e.key == type_key), None)
    return e.inverse if e is not None else relation


def _shown(raw: Graph, f: GraphFilter, fold: bool) -> Graph:
    shown = gm.filtered(raw, f)
    return gm.collapse_deals(shown) if fold else shown


def _layout_of(
    graph: Graph,
    previous: dict[Key, Any],
    pinned: dict[Key, Any],
    cancelled: Callable[[], bool],
    aspect: float = 1.0,
    reheat: bool = False,
) -> dict[Key, Any]:
    edges = [(e.a, e.b, float(e.count)) for e in graph.edges]
    return layout(list(graph.nodes), edges, previous, pinned, cancelled=cancelled, aspect=aspect, reheat=reheat)


class MapFigure:
    """The map as a hand-out's picture (exports.Figure): drawn by the same painting path as the
    screen, fitted into the page's rectangle, so on a PDF or a printer it stays vector drawing."""

    def __init__(self, view: RelationshipMapView) -> None:
        self.view = view
        canvas = view.canvas.size()
        self._size = QSizeF(max(canvas.width(), 480), max(canvas.height(), 320))

    def size(self) -> QSizeF:
        return self._size

    def paint(self, painter: QPainter, target: QRectF) -> None:
        width, height = self._size.width(), self._size.height()
        scale = min(target.width() / width, target.height() / height)
        painter.save()
        try:
            painter.translate(target.topLeft())
            painter.scale(scale, scale)
            rect = QRectF(0, 0, width, height)
            painter.setClipRect(rect)
            self.view.paint_map(painter, rect, self.view.scene.fit(width, height), vector=True)
        finally:
            painter.restore()
