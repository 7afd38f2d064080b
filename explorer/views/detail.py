"""DetailPane: everything about the selected record, its links (clickable), sources and history."""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QUrl, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QResizeEvent, QTextOption
from PySide6.QtWidgets import QApplication, QFrame, QLabel, QScrollArea, QSplitter, QTextBrowser, QVBoxLayout, QWidget

from explorer import models as m
from explorer import money as money_basis
from explorer.formatting import (
    KIND_LABEL,
    PRECISION_NOTE,
    date_text,
    full_amount,
    history_value,
    money,
    period_text,
    usd,
)
from explorer.state import AppState, RecordRef
from explorer.store import ChangeEvent, RecordNotFoundError, StoreError, validation
from explorer.store.pledges import Figure, PledgeProgress, describe, headline
from explorer.store.queries import LINK_LIMIT, PLEDGE_DETAIL_READS, RecordDetail

log = logging.getLogger("explorer.detail")

SKIP_IN_TABLE = {
    "title",
    "name",
    "start_date",
    "end_date",
    "date_precision",
    "amount",
    "currency",
    "usd_rate",
    "rate_date",
    "amount_usd",
    "notes",
}


def esc(value: Any) -> str:
    import html  # with the first record shown: start-up shows only the placeholder

    return html.escape(str(value), quote=True)


# The chart's series: colour and the line the key draws for each (a room reads the key, not hover).
SERIES = {
    "pledged": ("#d1495b", "╌╌"),
    "realised": ("#2f6fb2", "━●"),
    "open": ("#d1495b", "┃"),
    "exceeded": ("#2f9e44", "┃"),
    "in_period": ("#8c8c8c", "┈○"),
    "overlap": ("#c9a227", "███"),
    "note": ("", "·"),
}


class PledgeChart(QScrollArea):
    """Pledged against realised for one pledge: the pledged amount over its period, the cumulative
    USD of the deals linked to it (by deal date), what is still open, the stretches it shares with
    other pledges, and — apart, in grey, never counted — deals merely dated in its period. A pledge
    with no linked deal says so on the plot. Sizes follow the UI font (presentation mode)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        import pyqtgraph as pg

        self._pg = pg
        self.plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setAccessibleName("Pledged against realised")
        # Scrolls when the pane is short (twice the type at 1366×768): the text above keeps its room.
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        inner = QWidget(self)
        self.setWidget(inner)
        layout = QVBoxLayout(inner)
        layout.setContentsMargins(0, 0, 0, 0)
        self._column = layout
        self.caption = QLabel(inner)
        self.caption.setObjectName("paneTitle")
        self.caption.setWordWrap(True)
        layout.addWidget(self.caption)
        layout.addWidget(self.plot)
        self.key = QLabel(inner)
        self.key.setWordWrap(True)
        self.key.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.key)
        layout.addStretch(1)
        self._min_plot = 160
        self._marker = 10
        self.notice = pg.TextItem(anchor=(0.5, 0.5))  # "no deal is linked", on the plot itself
        self.plot.getPlotItem().getViewBox().sigResized.connect(self._wrap_notice)
        self.plot.getPlotItem().getViewBox().sigResized.connect(self._place_labels)
        self.progress: PledgeProgress | None = None
        self.figures: list[Figure] = []
        self.value_labels: list[Any] = []  # the figures written on the plot (pyqtgraph TextItems)
        self._label_args: tuple[PledgeProgress, int, QFont, QColor] | None = None

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        kinds = (QEvent.Type.PaletteChange, QEvent.Type.FontChange, QEvent.Type.StyleChange)
        if event.type() in kinds and self.progress is not None:
            self._render()  # presentation mode, Ctrl +/−, a theme: sizes and colours follow

    def show_progress(self, progress: PledgeProgress, start_day: int | None = None, end_day: int | None = None) -> None:
        """``start_day``/``end_day`` are the pledge's period (the figures carry it too)."""
        self.progress = progress
        self.figures = describe(progress)
        self._render()

    def notice_text(self) -> str:
        """What the plot says in words over its area ("" when the curve speaks for itself)."""
        return self.notice.toPlainText() if self.notice.isVisible() and self.notice.scene() is not None else ""

    def _render(self) -> None:
        p = self.progress
        if p is None:
            return
        pg = self._pg
        # The UI scale's font (an application font set later does not always reach a widget).
        font = QFont(self.font() if self.testAttribute(Qt.WidgetAttribute.WA_SetFont) else QApplication.font())
        fm = QFontMetricsF(font)
        self._min_plot = int(fm.height() * 10)
        self._marker = max(8, int(fm.height() * 0.6))
        pal = self.palette()
        fg, bg = pal.text().color(), pal.base().color()
        self.plot.setBackground(bg)
        tick_font = QFont(font)
        tick_font.setPointSizeF(font.pointSizeF() * 0.95)
        for name in ("left", "bottom"):
            axis = self.plot.getPlotItem().getAxis(name)
            axis.setPen(fg)
            axis.setTextPen(fg)
            axis.setStyle(tickFont=tick_font, tickTextOffset=int(fm.height() * 0.3))
        left = self.plot.getPlotItem().getAxis("left")
        left.setLabel("US$ bn", **{"font-size": f"{font.pointSizeF():.1f}pt"})
        left.setWidth(int(fm.horizontalAdvance("000") + fm.height() * 2.2))
        self.plot.getPlotItem().getAxis("bottom").setHeight(int(fm.height() * 1.9))
        self.plot.clear()
        self.value_labels, self._label_args = [], None
        self.caption.setText(headline(p))
        self.key.setText(self._key_html())
        self._fit_plot()
        if p.start_day is None:
            self.plot.hide()
            return
        self.plot.show()
        secs = 86400.0
        start = p.start_day
        end = p.end_day if p.end_day is not None else max([start, *p.days, *p.in_period_days])
        linked_days = [d.day for d in p.linked if d.day is not None]
        lo, hi = min([start, *linked_days]), max([end, *linked_days])
        bn = 1e9
        for o in p.overlaps:  # behind everything: the stretch shared with another pledge
            colour = QColor(SERIES["overlap"][0])
            colour.setAlpha(70)
            band = pg.LinearRegionItem(
                (o.start_day * secs, o.end_day * secs), movable=False, brush=colour, pen=pg.mkPen(None)
            )
            band.setZValue(-20)
            self.plot.addItem(band)
        if p.pledged_usd:
            self.plot.plot(
                [start * secs, end * secs],
                [p.pledged_usd / bn] * 2,
                pen=pg.mkPen(SERIES["pledged"][0], width=3, style=Qt.PenStyle.DashLine),
            )
        if p.in_period_days:
            xs, ys = _steps(start, p.in_period_days, p.in_period_cumulative_usd)
            grey = SERIES["in_period"][0]
            self.plot.plot(xs * secs, ys / bn, pen=pg.mkPen(grey, width=3, style=Qt.PenStyle.DotLine))
            self.plot.plot(  # open rings at each step: these deals are shown, not counted
                np.array(p.in_period_days) * secs,
                np.array(p.in_period_cumulative_usd) / bn,
                pen=None,
                symbol="o",
                symbolSize=max(8, int(fm.height() * 0.55)),
                symbolBrush=None,
                symbolPen=pg.mkPen(grey, width=2),
            )
        if p.days:
            xs, ys = _steps(min(start, p.days[0]), p.days, p.cumulative_usd)
            self.plot.plot(xs * secs, ys / bn, pen=pg.mkPen(SERIES["realised"][0], width=4))
            self.plot.plot(
                np.array(p.days) * secs,
                np.array(p.cumulative_usd) / bn,
                pen=None,
                symbol="o",
                symbolSize=self._marker,
                symbolBrush=SERIES["realised"][0],
                symbolPen=pg.mkPen(bg, width=1.5),
            )
        realised = p.realised_usd
        if p.pledged_usd:
            gap = (
                ("open", realised, p.pledged_usd) if realised < p.pledged_usd else ("exceeded", p.pledged_usd, realised)
            )
            if gap[2] > gap[1]:
                self.plot.plot([end * secs] * 2, [gap[1] / bn, gap[2] / bn], pen=pg.mkPen(SERIES[gap[0]][0], width=6))
        top = max([p.pledged_usd or 0.0, realised, p.in_period_usd, bn]) / bn * 1.15
        self.plot.setYRange(0, top, padding=0)
        self.plot.setXRange(lo * secs, hi * secs, padding=0.04)
        if not p.linked:
            # Where the plot is empty: between the grey series (if any) and the pledged line.
            floor = p.in_period_usd / bn
            ceiling = (p.pledged_usd or top * bn) / bn
            y = (floor + ceiling) / 2 if ceiling > floor else (floor + top) / 2
            notice_font = QFont(font)
            notice_font.setPointSizeF(font.pointSizeF() * 1.25)
            notice_font.setBold(True)
            self.notice.setFont(notice_font)
            self.notice.setColor(fg)
            self.notice.setText("No deal is linked to this pledge")
            self.notice.setPos((lo + hi) / 2 * secs, y)
            self.plot.addItem(self.notice, ignoreBounds=True)
            self.notice.show()
            self._wrap_notice()
        self._label_values(p, end, font, bg)

    def _label_values(self, p: PledgeProgress, end: int, font: QFont, bg: QColor) -> None:
        """The realised total at the curve's end and what is open beside its bar, written on the
        plot (the room reads the figures where the lines are). Placed in pixels once the plot has
        its size, and again on every resize; a label that would leave the plot or touch another is
        left to the key."""
        label_font = QFont(font)
        label_font.setBold(True)
        fill = QColor(bg)
        fill.setAlpha(215)
        self._label_args = (p, end, label_font, fill)
        self._place_labels()

    def _place_labels(self, *_args: object) -> None:
        if self._label_args is None:
            return
        p, end, label_font, fill = self._label_args
        pg = self._pg
        secs, bn = 86400.0, 1e9
        for item in self.value_labels:
            self.plot.removeItem(item)
        self.value_labels = []
        viewbox = self.plot.getPlotItem().getViewBox()
        box = viewbox.sceneBoundingRect()
        if box.width() < 40 or box.height() < 40:
            return  # not laid out yet: placed on the first resize
        fm = QFontMetricsF(label_font)
        pad = 4.0
        taken: list[QRectF] = []
        if self.notice_text():  # the notice's place is taken (it ignores the view's scale: pixels)
            size = self.notice.textItem.boundingRect().size()
            centre = viewbox.mapViewToScene(self.notice.pos())
            taken.append(
                QRectF(centre.x() - size.width() / 2, centre.y() - size.height() / 2, size.width(), size.height())
            )

        def point(day: float, usd_bn: float) -> QPointF:
            return viewbox.mapViewToScene(QPointF(day * secs, usd_bn))

        def label(texts: list[str], colour: str, places: list[tuple[QPointF, tuple[float, float]]]) -> None:
            """The first of ``texts`` (longest first) at the first of ``places`` (a point and the
            label's anchor on it) where it fits."""
            for text in texts:
                w, h = fm.horizontalAdvance(text) + 2 * pad, fm.height() + 2 * pad
                for at, anchor in places:
                    # Never shifted to fit: shifted, it would cover the point it names.
                    rect = QRectF(at.x() - anchor[0] * w, at.y() - anchor[1] * h, w, h)
                    if box.contains(rect) and not any(rect.intersects(other) for other in taken):
                        break
                else:
                    continue
                break
            else:
                return  # nowhere clear: the key says it
            taken.append(rect)
            item = pg.TextItem(text, color=colour, anchor=(0, 0), fill=fill)
            item.setFont(label_font)
            item.setPos(viewbox.mapSceneToView(rect.topLeft()))
            self.plot.addItem(item, ignoreBounds=True)
            self.value_labels.append(item)

        realised = p.realised_usd / bn
        pledged = (p.pledged_usd or 0.0) / bn
        if p.days:
            # Left of the curve's end, above it (the curve is lower to its left), else below.
            left, right = _beside(point(p.days[-1], realised), pad + self._marker / 2)
            label(
                [f"realised {usd(p.realised_usd)}", usd(p.realised_usd)],
                SERIES["realised"][0],
                [(left, (1.0, 1.0)), (left, (1.0, 0.0)), (right, (0.0, 1.0)), (right, (0.0, 0.0))],
            )
        if p.in_period_days:
            # The period's other deals, named where they are (the key may be scrolled away).
            left, right = _beside(point(p.in_period_days[-1], p.in_period_usd / bn), pad + self._marker / 2)
            label(
                [f"not counted {usd(p.in_period_usd)}", "not counted"],
                SERIES["in_period"][0],
                [(left, (1.0, 1.0)), (left, (1.0, 0.0)), (right, (0.0, 1.0)), (right, (0.0, 0.0))],
            )
        if p.pledged_usd and p.open_usd:
            # Beside the bar of what is open: half-way up it, else just under the pledged line.
            mid = point(end, (realised + pledged) / 2)
            under = point(end, pledged)
            for at in (mid, under):
                at.setX(at.x() - 3 * pad)
            under.setY(under.y() + pad)
            label([f"open {usd(p.open_usd)}"], SERIES["open"][0], [(mid, (1.0, 0.5)), (under, (1.0, 0.0))])

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_plot()

    def _fit_plot(self) -> None:
        """The plot takes the room the words leave, and at least ten lines of type: below that the
        pane scrolls to the key rather than squeezing the plot or the key."""
        width = self.viewport().width()
        words = sum(label.heightForWidth(width) if label.text() else 0 for label in (self.caption, self.key))
        spacing = 2 * max(0, self._column.spacing())
        self.plot.setFixedHeight(max(self._min_plot, self.viewport().height() - words - spacing - 2))

    def _wrap_notice(self, *_args: object) -> None:
        """The notice wraps inside the plot (at twice the type it would not fit one line)."""
        width = self.plot.getPlotItem().getViewBox().width()
        if width > 0:
            self.notice.setTextWidth(max(80.0, width * 0.8))
            self.notice.textItem.document().setDefaultTextOption(QTextOption(Qt.AlignmentFlag.AlignHCenter))

    def _key_html(self) -> str:
        rows = []
        bg = self.palette().base().color()
        for figure in self.figures:
            colour, mark = SERIES.get(figure.kind, SERIES["note"])
            if figure.kind == "overlap":  # the band is drawn translucent: the swatch as it looks
                band = QColor(colour)
                colour = QColor(
                    *(
                        int(b + (c - b) * 0.45)
                        for c, b in ((band.red(), bg.red()), (band.green(), bg.green()), (band.blue(), bg.blue()))
                    )
                ).name()
                mark = "███"
            swatch = f"<span style='color:{colour}'><b>{esc(mark)}</b></span>" if colour else esc(mark)
            rows.append(f"<tr><td valign='top'>{swatch}&nbsp;</td><td>{esc(figure.text)}</td></tr>")
        return f"<table cellspacing='0' cellpadding='1'>{''.join(rows)}</table>"


def _beside(at: QPointF, gap: float) -> tuple[QPointF, QPointF]:
    """Points ``gap`` pixels left and right of ``at`` (a label ends or starts there, clear of its mark)."""
    return QPointF(at.x() - gap, at.y()), QPointF(at.x() + gap, at.y())


def _steps(start: int, days: list[int], totals: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """A cumulative curve as steps: flat between deals, rising on each deal's day."""
    xs, ys = [float(start)], [0.0]
    level = 0.0
    for day, total in zip(days, totals, strict=True):
        xs += [float(day), float(day)]
        ys += [level, total]
        level = total
    return np.array(xs), np.array(ys)


class DetailPane(QWidget):
    """Signals:
    edit_requested(RecordRef): the user pressed Edit on the shown record.
    """

    edit_requested = Signal(object)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self.browser = QTextBrowser(self)
        self.browser.setOpenLinks(False)
        self.browser.setOpenExternalLinks(False)
        self.browser.anchorClicked.connect(self._on_anchor)
        self.browser.setAccessibleName("Details of the selected record")
        self._chart: PledgeChart | None = None  # a second PlotWidget: built when a pledge is first shown
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        # The chart under the text, with a handle between: a trainer gives either more room.
        self._split = QSplitter(Qt.Orientation.Vertical, self)
        self._split.setChildrenCollapsible(False)
        self._split.addWidget(self.browser)
        layout.addWidget(self._split)
        self.detail: RecordDetail | None = None
        self.presenting = False  # in front of a room: no edit history (who changed what, when)
        self._listed_in_full: tuple[tuple[str, int] | None, set[str]] = (None, set())  # "… more" opened
        state.selection_changed.connect(self._on_selection)
        state.records_changed.connect(self._on_records_changed)
        state.store_replaced.connect(lambda: self.show_ref(None))
        self.show_ref(None)

    @property
    def chart(self) -> PledgeChart:
        """The pledged-against-realised chart under the text (hidden until a pledge is shown)."""
        if self._chart is None:
            self._chart = PledgeChart(self)
            self._chart.hide()  # explicitly: the splitter would otherwise show it once added
            self._split.addWidget(self._chart)
            self._split.setStretchFactor(0, 2)
            self._split.setStretchFactor(1, 3)
            self._split.setSizes([2000, 3000])  # scaled to the pane: two fifths for the text
        return self._chart

    # --- state -----------------------------------------------------------------------

    def _on_selection(self, refs: list[RecordRef], _initiator: object) -> None:
        self.show_ref(refs[0] if refs else None, others=len(refs) - 1 if refs else 0)

    def _on_records_changed(self, changes: ChangeEvent, _initiator: object) -> None:
        current = self._state.current
        if current is None or (self.detail is not None and not self.concerned_by(changes)):
            return  # nothing it shows changed: no reading and no re-rendering (the scroll stays)
        self.show_ref(current, others=max(0, len(self._state.selection) - 1))

    def concerned_by(self, changes: ChangeEvent) -> bool:
        """Whether ``changes`` may change what the pane shows: its record, a record it links to
        or names (in its fields, links, sources and history), or a link to it made or undone."""
        detail = self.detail
        if detail is None:
            return True
        if detail.record_type == "pledge" and changes.types() & PLEDGE_DETAIL_READS:
            return True  # the realised chart adds up the deals (and overlapping pledges) of its period
        shown = self._shown_refs(detail)
        ids: dict[str, set[int]] = defaultdict(set)
        for record_type, record_id in shown:
            ids[record_type].add(record_id)
        for change in changes.changes:
            if (change.record_type, change.record_id) in shown or change.record_type == "citation":
                return True
            if not change.fields:
                return True  # not known what changed: maybe a link to it
            for name, value in change.fields.items():
                spec = validation.spec(change.record_type, name)
                if spec is None:
                    return True  # participants, partners, sources: lists of links, maybe to it
                if spec.kind == "ref" and spec.ref and {_ref_id(value.old), _ref_id(value.new)} & ids[spec.ref]:
                    return True
        return False

    def _shown_refs(self, detail: RecordDetail) -> set[tuple[str, int]]:
        shown = {(detail.record_type, int(detail.record.id or 0))}
        shown |= {(lk.record_type, lk.record_id) for lk in detail.links}
        shown |= {("source", c.source_id) for c in detail.citations}
        shown |= self._refs_in_table(detail)
        for record_type, wanted in self._history_refs(detail).items():
            shown |= {(record_type, i) for i in wanted}
        return shown

    def _on_anchor(self, url: QUrl) -> None:
        if url.scheme() == "record":
            ref = RecordRef.parse(url.path() or url.toString().removeprefix("record:"))
            if ref is not None:
                self._state.select(ref, initiator=self)
        elif url.scheme() == "more" and self.detail is not None:
            shown = (self.detail.record_type, int(self.detail.record.id or 0))
            self._listed_in_full = (shown, {*self._listed_in(shown), url.path()})
            self.show_ref(self._state.current, others=max(0, len(self._state.selection) - 1))
        elif url.scheme() == "edit":
            ref = RecordRef.parse(url.path() or url.toString().removeprefix("edit:"))
            if ref is not None:
                self.edit_requested.emit(ref)

    # --- rendering -------------------------------------------------------------------

    def set_presentation(self, presenting: bool) -> None:
        if presenting != self.presenting:
            self.presenting = presenting
            if self.detail is not None:
                self.show_ref(self._state.current, others=max(0, len(self._state.selection) - 1))

    def show_ref(self, ref: RecordRef | None, others: int = 0) -> None:
        self.detail = None
        if self._chart is not None:
            self._chart.hide()
        if ref is None:
            self.browser.setHtml(self._placeholder())
            return
        try:
            self.detail = self._state.detail(ref)
        except RecordNotFoundError:
            self.browser.setHtml(self._message("This record no longer exists."))
            return
        except StoreError as exc:
            log.warning("detail of %s failed: %s", ref, exc)
            self.browser.setHtml(self._message(exc.message))
            return
        self.browser.setHtml(self.render_html(self.detail, others))
        record = self.detail.record
        if isinstance(record, m.Pledge) and "realised" in self.detail.related:
            self.chart.show_progress(self.detail.related["realised"], record.start_day, record.end_day)
            self.chart.show()

    def _placeholder(self) -> str:
        return (
            "<div style='margin:24px'><h2>Nothing selected</h2>"
            "<p>Click a summit, pledge or deal on the timeline, or a sector or company in the tree, "
            "to see everything about it here: amounts with the exchange rate used, dates with their "
            "precision, linked records and the sources each fact comes from.</p></div>"
        )

    def _message(self, text: str) -> str:
        return f"<div style='margin:24px'><p>{esc(text)}</p></div>"

    def plain_text(self) -> str:
        return self.browser.toPlainText()

    def link_targets(self) -> list[RecordRef]:
        return [] if self.detail is None else [RecordRef(lk.record_type, lk.record_id) for lk in self.detail.links]

    def render_html(self, detail: RecordDetail, others: int = 0) -> str:
        pal = self.palette()
        muted = pal.placeholderText().color().name()
        link = pal.link().color().name()
        rec = detail.record
        rtype = detail.record_type
        parts: list[str] = [
            f"<style>a {{ color: {link}; text-decoration: none; }} td {{ padding: 2px 10px 2px 0; }} "
            f".k {{ color: {muted}; }} h1 {{ margin: 0 0 4px 0; font-size: x-large; }} "
            "h3 { margin: 14px 0 4px 0; }</style>",
            f"<div class='k'>{esc(KIND_LABEL.get(rtype, rtype))}"
            + (f" · and {others} more selected" if others else "")
            + f" · <a href='edit:{rtype}:{rec.id}'>Edit…</a></div>",
            f"<h1>{esc(detail.title)}</h1>",
        ]
        native = getattr(rec, "native_name", None)
        if native:
            parts.append(f"<div style='font-size:large'>{esc(native)}</div>")
        if isinstance(rec, m.Dated):
            precision = rec.date_precision
            when = period_text(rec.start_date, rec.end_date, precision)
            parts.append(
                f"<p><b>{esc(when)}</b> <span class='k'>({esc(PRECISION_NOTE.get(precision, precision))})</span></p>"
            )
        if getattr(rec, "amount", None) is not None or getattr(rec, "amount_usd", None) is not None:
            parts.append(self._money_html(rec, muted))
        if isinstance(rec, m.Target) and rec.value is not None:
            parts.append(
                f"<p style='font-size:large'><b>{rec.value:,.0f} {esc(rec.unit)}</b>"
                + (f" · worth {usd(rec.amount_usd)}" if rec.amount_usd else "")
                + "</p>"
            )
        notes = getattr(rec, "notes", None)
        if notes:
            parts.append(f"<p>{esc(notes)}</p>")
        parts.append(self._fields_html(detail))
        parts.append(self._links_html(detail))
        parts.append(self._citations_html(detail, muted))
        if not self.presenting:
            parts.append(self._history_html(detail, muted))
        return "".join(parts)

    def _money_html(self, rec: m.Record, muted: str) -> str:
        amount, currency = getattr(rec, "amount", None), getattr(rec, "currency", None)
        rate, rate_date = getattr(rec, "usd_rate", None), getattr(rec, "rate_date", None)
        usd_amount = getattr(rec, "amount_usd", None)
        line = f"<p style='font-size:large'><b>{esc(money(amount, currency))}</b>"
        if currency and currency != "USD" and usd_amount is not None:
            line += f" ≈ <b>{esc(usd(usd_amount))}</b>"
        line += "</p>"
        stated = money_basis.is_stated(amount, currency, rate, usd_amount)
        if currency and currency != "USD" and rate:
            per_usd = 1 / rate if rate else math.nan
            basis = (
                f"{esc(full_amount(amount, currency))} at {rate:g} USD per {esc(currency)} "
                f"({per_usd:,.2f} {esc(currency)} per USD)"
                + (f", rate of {esc(date_text(rate_date))}" if rate_date else "")
            )
            if stated:
                would = money_basis.computed_usd(amount, currency, rate)
                line += (
                    f"<p class='k'>The USD figure is as stated in the source; {basis} would give {esc(usd(would))}.</p>"
                )
            else:
                line += f"<p class='k'>USD computed from {basis}.</p>"
        elif currency and currency != "USD" and usd_amount is not None:
            line += "<p class='k'>The USD figure is as stated in the source (no rate recorded).</p>"
        return line

    def _fields_html(self, detail: RecordDetail) -> str:
        rec = detail.record
        link_by_target = {(lk.record_type, lk.record_id): lk for lk in detail.links}
        rows = []
        for spec in validation.FIELDS.get(detail.record_type, []):
            if spec.name in SKIP_IN_TABLE:
                continue
            value = getattr(rec, spec.name, None)
            if value in (None, ""):
                continue
            if spec.kind == "ref" and spec.ref:
                lk = link_by_target.get((spec.ref, value))
                label = lk.label if lk else f"{spec.ref} {value}"
                cell = f"<a href='record:{spec.ref}:{value}'>{esc(label)}</a>"
            elif spec.kind == "date":
                cell = esc(date_text(value))
            elif isinstance(value, float) and spec.kind in ("money", "float"):
                # 50000.0 as people write it: 50,000 (a rate keeps its digits)
                cell = esc(f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}")
            else:
                cell = esc(str(value).replace("_", " "))
            rows.append(f"<tr><td class='k'>{esc(spec.label)}</td><td>{cell}</td></tr>")
        return f"<table>{''.join(rows)}</table>" if rows else ""

    LINKS_LISTED = 100  # per relation, until "… more" is clicked: laying out 1,000 took ~40 ms

    def _listed_in(self, shown: tuple[str, int]) -> set[str]:
        record, relations = self._listed_in_full
        return relations if record == shown else set()

    def _links_html(self, detail: RecordDetail) -> str:
        in_full = self._listed_in((detail.record_type, int(detail.record.id or 0)))
        groups: dict[str, list[str]] = defaultdict(list)
        unlisted: dict[str, int] = defaultdict(int)  # per relation: links past the listed ones
        read: dict[str, int] = defaultdict(int)  # per relation: links the store returned
        shown = self._refs_in_table(detail)
        for lk in detail.links:
            read[lk.relation] += 1
            if (lk.record_type, lk.record_id) in shown:
                continue  # already a link in the fields above
            items = groups[lk.relation]
            if len(items) >= self.LINKS_LISTED and lk.relation not in in_full:
                unlisted[lk.relation] += 1  # only counted: a company's thousands of deals are not formatted
                continue
            kind = KIND_LABEL.get(lk.record_type, lk.record_type)
            items.append(f"<a href='record:{lk.record_type}:{lk.record_id}' title='{esc(kind)}'>{esc(lk.label)}</a>")
        if not groups:
            return ""
        for relation, rest in unlisted.items():
            more = f"… and over {rest:,} more" if read[relation] >= LINK_LIMIT else f"… and {rest:,} more"
            groups[relation].append(f"<a href='more:{esc(relation)}'>{more}</a>")
        rows = "".join(
            f"<tr><td class='k' valign='top'>{esc(relation.capitalize())}</td><td>{'<br>'.join(items)}</td></tr>"
            for relation, items in groups.items()
        )
        return f"<h3>Linked records</h3><table>{rows}</table>"

    def _refs_in_table(self, detail: RecordDetail) -> set[tuple[str, int]]:
        out = set()
        for spec in validation.FIELDS.get(detail.record_type, []):
            value = getattr(detail.record, spec.name, None)
            if spec.kind == "ref" and spec.ref and value is not None:
                out.add((spec.ref, value))
        return out

    def _citations_html(self, detail: RecordDetail, muted: str) -> str:
        if not detail.citations:
            if detail.record_type == "source":
                return ""
            return (
                "<h3>Sources</h3><p style='color:#b35c00'><b>⚠ No source cited yet.</b> "
                "Edit the record to say where its facts come from (type “uncited” in Find anything "
                "to list every such record).</p>"
            )
        items = []
        for c in detail.citations:
            section = f" — <i>{esc(c.section)}</i>" if c.section else ""
            note = f"<br><span class='k'>{esc(c.note)}</span>" if c.note else ""
            items.append(f"<li><a href='record:source:{c.source_id}'>{esc(c.source_title)}</a>{section}{note}</li>")
        return f"<h3>Sources</h3><ul style='margin-left:-20px'>{''.join(items)}</ul>"

    def _history_labels(self, detail: RecordDetail) -> dict[str, dict[int, str]]:
        """Names of the records the log's ids point at, one query per linked type."""
        out: dict[str, dict[int, str]] = {}
        for record_type, ids in self._history_refs(detail).items():
            try:
                out[record_type] = self._state.store.labels(record_type, sorted(ids))
            except StoreError:
                out[record_type] = {}
        return out

    @staticmethod
    def _history_refs(detail: RecordDetail) -> dict[str, set[int]]:
        """The ids the shown history's links held (old and new), per linked type."""
        wanted: dict[str, set[int]] = {}
        for h in detail.history[-40:]:
            spec = validation.spec(detail.record_type, h.field or "")
            if spec is not None and spec.kind == "ref" and spec.ref:
                for value in (h.old_value, h.new_value):
                    try:
                        wanted.setdefault(spec.ref, set()).add(int(float(value or "")))
                    except ValueError:
                        continue
        return wanted

    def _history_change(
        self, detail: RecordDetail, field: str, old: str | None, new: str | None, labels: dict[str, dict[int, str]]
    ) -> str:
        spec = validation.spec(detail.record_type, field)
        if spec is None:
            return f"{esc(field.replace('_', ' '))}: {esc(old or '—')} → {esc(new or '—')}"
        currency = getattr(detail.record, "currency", None)
        links = labels.get(spec.ref or "", {})

        def show(value: str | None) -> str:
            return esc(history_value(value, spec.kind, currency=currency, field=field, labels=links))

        return f"{esc(spec.label)}: {show(old)} → {show(new)}"

    def _history_html(self, detail: RecordDetail, muted: str) -> str:
        if not detail.history:
            return ""
        rows = []
        seen_create = False
        labels = self._history_labels(detail)
        for h in detail.history[-40:]:
            if h.action == "create":
                if seen_create:
                    continue  # one line for the creation, not one per field
                seen_create = True
                what = "created"
            elif h.action == "update":
                what = self._history_change(detail, h.field or "", h.old_value, h.new_value, labels)
            else:
                what = f"{esc(h.action)} {esc(h.field or '')}"
            rows.append(f"<tr><td class='k'>{esc(h.at)}</td><td class='k'>{esc(h.user)}</td><td>{what}</td></tr>")
        return f"<h3>History</h3><table>{''.join(rows)}</table>"


def _ref_id(value: object) -> int | None:
    """A link's id as an event holds it (an int; the change log's text for others' writes)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(float(str(value)))
    except ValueError:
        return None
