"""Hand-outs: the timeline as PNG/SVG, the current view or a story as a PDF, the selection as CSV.

Every picture goes through one painting path: a *figure* (the timeline with its title, dates and
legend; the relationship map can be another) paints itself with a QPainter onto whatever device
it is given — an image for PNG, Qt's SVG generator, a PDF page or a printer page — so the PNG,
the SVG and the pages show the same drawing, and the PDF and printed pages are vector drawing.
Pages (PDF and printing alike) are laid out by :class:`HandoutPages` on any QPagedPaintDevice.
"""

from __future__ import annotations

import csv
import html
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QMarginsF, QRect, QRectF, QSize, QSizeF, Qt
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QColor,
    QFont,
    QFontInfo,
    QImage,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPainter,
    QPalette,
    QPdfWriter,
    QPicture,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QFormLayout,
    QLineEdit,
    QWidget,
)

from explorer import models as m
from explorer.formatting import KIND_LABEL, day_text, money, period_text, usd
from explorer.settings import Setting
from explorer.state import AppState, RecordRef
from explorer.store import StoreError
from explorer.views.theme import DARK, LIGHT, current_colours, palette_for

if TYPE_CHECKING:
    from explorer.store.stories import StepData
    from explorer.views.story import StoryPlayer
    from explorer.views.timeline import TimelineView

log = logging.getLogger("explorer.exports")

CSV_COLUMNS = [
    "type",
    "id",
    "uuid",
    "title",
    "date",
    "end_date",
    "precision",
    "amount",
    "currency",
    "usd_rate",
    "rate_date",
    "amount_usd",
    "sources",
]


def selection_rows(state: AppState, refs: list[RecordRef]) -> list[dict[str, str]]:
    rows = []
    for ref in refs:
        try:
            detail = state.store.detail(ref.record_type, ref.record_id)
        except StoreError:
            continue
        rec = detail.record

        def field(name: str, rec: object = rec) -> str:
            value = getattr(rec, name, None)
            return "" if value is None else (value.isoformat() if hasattr(value, "isoformat") else str(value))

        rows.append(
            {
                "type": ref.record_type,
                "id": str(ref.record_id),
                "uuid": rec.uuid,
                "title": detail.title,
                "date": field("start_date"),
                "end_date": field("end_date"),
                "precision": field("date_precision"),
                "amount": field("amount"),
                "currency": field("currency"),
                "usd_rate": field("usd_rate"),
                "rate_date": field("rate_date"),
                "amount_usd": field("amount_usd"),
                "sources": "; ".join(
                    f"{c.source_title} — {c.section}" if c.section else c.source_title for c in detail.citations
                ),
            }
        )
    return rows


def export_selection_csv(state: AppState, path: Path) -> int:
    """The selected records, one row each, UTF-8 with BOM so spreadsheet programs read it right."""
    rows = selection_rows(state, state.selection)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, dialect="excel")
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def record_html(state: AppState, ref: RecordRef) -> str:
    """A compact description of one record for a printed page."""
    try:
        detail = state.store.detail(ref.record_type, ref.record_id)
    except StoreError:
        return ""
    rec = detail.record
    esc = html.escape  # records hold what analysts typed: text, not markup
    bits = [f"<b>{esc(KIND_LABEL.get(ref.record_type, ref.record_type))}: {esc(detail.title)}</b>"]
    if isinstance(rec, m.Dated):
        bits.append(period_text(rec.start_date, rec.end_date, rec.date_precision))
    usd_amount = getattr(rec, "amount_usd", None)  # pledges and deals (Money), and targets
    if isinstance(rec, m.Money) and rec.amount is not None:
        currency = rec.currency
        text = money(rec.amount, currency)
        if currency != "USD" and usd_amount:
            text += f" ≈ {usd(usd_amount)} at {rec.usd_rate:g} USD/{currency}"
        bits.append(text)
    elif usd_amount:
        bits.append(usd(usd_amount))
    notes = getattr(rec, "notes", None)
    body = " · ".join(esc(b) if i else b for i, b in enumerate(bits)) + (f"<br>{esc(notes)}" if notes else "")
    if ref.record_type == "pledge":
        # Pledged against realised, in the chart's words: on paper as on the screen.
        from explorer.store import pledges

        try:
            figures = pledges.describe(state.store.pledge_progress(ref.record_id))
        except StoreError:
            figures = []
        if figures:
            body += "<br><b>" + esc(". ".join(f.text.rstrip(".") for f in figures)) + ".</b>"
    if detail.citations:
        # A source cited for several facts (the deal, its date, its pledge link) is named once.
        cited = dict.fromkeys((c.source_title, c.section) for c in detail.citations)
        sources = "; ".join(
            f"<i>{esc(title)}</i>" + (f", “{esc(section)}”" if section else "") for title, section in cited
        )
        body += f"<br><span style='color:#555'>Sources: {sources}</span>"
    return f"<p>{body}</p>"


# --- figures: one painting path for PNG, SVG, PDF and printing ---------------------------------

EXPORT_TITLE = Setting("export/title", "", str)
EXPORT_DATES = Setting("export/showDates", True, bool)
EXPORT_LEGEND = Setting("export/showLegend", True, bool)


@dataclass
class FigureOptions:
    """What a PNG/SVG carries besides the plot (remembered between exports)."""

    title: str = ""
    dates: bool = True  # a line naming the dates the view shows
    legend: bool = True

    @classmethod
    def remembered(cls) -> FigureOptions:
        return cls(EXPORT_TITLE.get(), EXPORT_DATES.get(), EXPORT_LEGEND.get())

    def remember(self) -> None:
        EXPORT_TITLE.set(self.title)
        EXPORT_DATES.set(self.dates)
        EXPORT_LEGEND.set(self.legend)


class Figure(Protocol):
    """A picture for exports and hand-out pages, in logical pixels (the screen's, at its DPI).
    The relationship map joins hand-outs by being one of these (see ``handout_figures``)."""

    def size(self) -> QSizeF: ...

    def paint(self, painter: QPainter, target: QRectF) -> None: ...


def screen_dpi(widget: QWidget) -> int:
    """The DPI the widget's fonts are sized at: an output device set to it sizes point-sized text
    exactly as the screen does, so text keeps its place among the marks (an SVG generator left at
    its own 72 DPI, or pyqtgraph's per-item SVG export, wrote the axes at 0.75 scale)."""
    return max(1, widget.logicalDpiY())


def _fit(size: QSizeF, target: QRectF) -> tuple[float, QRectF]:
    """The scale and the rectangle of ``size`` fitted into ``target`` (top-left, aspect kept)."""
    if size.width() <= 0 or size.height() <= 0:
        return 1.0, QRectF(target.topLeft(), QSizeF(0, 0))
    scale = min(target.width() / size.width(), target.height() / size.height())
    return scale, QRectF(target.topLeft(), size * scale)


class TimelineFigure:
    """The timeline as the user sees it: an optional title and dates line, the legend, then the
    plot (axes, lanes, marks and labels) drawn from its scene — vectors on a vector device."""

    def __init__(self, timeline: TimelineView, options: FigureOptions | None = None) -> None:
        self.timeline = timeline
        self.options = options or FigureOptions()
        QApplication.processEvents()  # a layout change (docks stepping aside) lands first
        self.source = timeline.plot.plotItem.sceneBoundingRect()
        self.width = max(1.0, self.source.width())

    def _header(self) -> QTextDocument | None:
        o, tl = self.options, self.timeline
        parts = []
        fg = tl.palette().color(tl.foregroundRole()).name()
        if o.title.strip():
            size = QFont(tl.legend_label.font()).pointSizeF() * 1.5
            parts.append(f"<div style='font-size:{size:.1f}pt; font-weight:600'>{html.escape(o.title.strip())}</div>")
        if o.dates:
            a, b = tl.view_range()
            parts.append(f"<div>Dates shown: {html.escape(day_text(a))} – {html.escape(day_text(b))}</div>")
        if o.legend and tl.legend_label.text():
            parts.append(f"<div>{tl.legend_label.text()}</div>")  # the legend's own markup (names escaped)
        if not parts:
            return None
        doc = QTextDocument()
        doc.setDocumentMargin(4)
        doc.setDefaultFont(QFont(tl.legend_label.font()))
        doc.setDefaultStyleSheet(f"div {{ color: {fg}; }}")
        doc.setHtml("".join(parts))
        doc.setTextWidth(self.width)
        return doc

    def header_height(self) -> float:
        doc = self._header()
        return 0.0 if doc is None else doc.size().height()

    def size(self) -> QSizeF:
        return QSizeF(self.width, self.header_height() + self.source.height())

    def paint(self, painter: QPainter, target: QRectF) -> None:
        scale, box = _fit(self.size(), target)
        painter.save()
        painter.translate(box.topLeft())
        if abs(scale - 1.0) < 1e-3:
            self._paint_at_size(painter)
        else:
            # The timeline's layers draw their labels in device pixels (after resetTransform), so a
            # scaled painter would shrink the drawing but not the text. Recorded at its own size
            # into a QPicture and played back scaled, every command — text too — is scaled alike.
            picture = QPicture()
            recorder = QPainter(picture)
            try:
                self._paint_at_size(recorder)
            finally:
                recorder.end()
            painter.scale(scale, scale)
            painter.drawPicture(0, 0, picture)
        painter.restore()

    def _paint_at_size(self, painter: QPainter) -> None:
        doc = self._header()
        full = QRectF(0, 0, self.width, self.size().height())
        painter.fillRect(full, self.timeline.plot.backgroundBrush())
        painter.setClipRect(full)
        top = 0.0
        if doc is not None:
            doc.drawContents(painter)
            top = doc.size().height()
        # The scene draws in its own coordinates, mapped onto the rectangle below the header.
        self.timeline.plot.scene().render(painter, QRectF(0, top, self.width, self.source.height()), self.source)
        painter.setClipping(False)


def save_png(figure: Figure, path: Path, dpi: int, background: QColor) -> QSize:
    """Any figure as a PNG of its logical size, at ``dpi`` (the screen's, so it matches the SVG)."""
    size = figure.size().toSize()
    image = QImage(size, QImage.Format.Format_ARGB32)
    dots_per_metre = round(dpi / 0.0254)
    image.setDotsPerMeterX(dots_per_metre)
    image.setDotsPerMeterY(dots_per_metre)
    image.fill(background)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
    try:
        figure.paint(painter, QRectF(0, 0, size.width(), size.height()))
    finally:
        painter.end()
    if not image.save(str(path), "PNG"):  # type: ignore[call-overload]  # the stubs want bytes, PySide6 a str
        raise OSError(f"could not write {path}")
    return size


def save_svg(figure: Figure, path: Path, dpi: int, title: str, description: str = "") -> QSize:
    """The same figure as SVG 1.1 (clip paths keep labels inside the plot), one unit per PNG pixel."""
    from PySide6.QtSvg import QSvgGenerator

    size = figure.size().toSize()
    generator = QSvgGenerator(QSvgGenerator.SvgVersion.Svg11)
    generator.setFileName(str(path))
    generator.setSize(size)
    generator.setViewBox(QRect(0, 0, size.width(), size.height()))
    generator.setResolution(dpi)
    generator.setTitle(title)
    generator.setDescription(description)
    painter = QPainter()
    if not painter.begin(generator):
        raise OSError(f"could not write {path}")
    try:
        figure.paint(painter, QRectF(0, 0, size.width(), size.height()))
    finally:
        painter.end()
    _name_drawn_fonts(path)
    return size


def export_png(timeline: TimelineView, path: Path, options: FigureOptions | None = None) -> QSize:
    """The timeline (with its legend, title and dates as chosen) as a PNG."""
    figure = TimelineFigure(timeline, options)
    return save_png(figure, path, screen_dpi(timeline), timeline.plot.backgroundBrush().color())


def export_svg(timeline: TimelineView, path: Path, options: FigureOptions | None = None) -> QSize:
    """The timeline as SVG: the PNG's drawing, as vectors and text."""
    title = (options.title if options else "") or "Partnership Explorer timeline"
    description = "The timeline of the India–Japan partnership, from Partnership Explorer"
    return save_svg(TimelineFigure(timeline, options), path, screen_dpi(timeline), title, description)


def _name_drawn_fonts(path: Path) -> None:
    """Qt writes the family the app asked for ("Sans Serif", or the theme's list); an SVG viewer
    resolving that name itself may pick another face (a condensed one made every label 8% narrower
    than the PNG's). The face the text was laid out in goes first, the asked-for names after."""
    text = path.read_text(encoding="utf-8")

    def resolved(match: re.Match[str]) -> str:
        asked = [f.strip() for f in html.unescape(match.group(1)).split(",") if f.strip()]
        font = QFont()
        font.setFamilies(asked)
        drawn = QFontInfo(font).family()
        names = [drawn, *(f for f in asked if f != drawn), "sans-serif"]
        return 'font-family="' + html.escape(", ".join(dict.fromkeys(names))) + '"'

    path.write_text(re.sub(r'font-family="([^"]*)"', resolved, text), encoding="utf-8")


# --- hand-out pages: PDF and printing share them -----------------------------------------------


def a4_landscape() -> QPageLayout:
    return QPageLayout(
        QPageSize(QPageSize.PageSizeId.A4),
        QPageLayout.Orientation.Landscape,
        QMarginsF(12, 12, 12, 12),
        QPageLayout.Unit.Millimeter,
    )


def _draw_on_paper(doc: QTextDocument, painter: QPainter, clip: QRectF | None = None) -> None:
    """``doc.drawContents`` in the light theme's colours: pages are white whatever the screen's
    theme (drawContents takes the application's palette, light text in the dark theme)."""
    context = QAbstractTextDocumentLayout.PaintContext()
    context.palette = palette_for(LIGHT)
    painter.save()
    if clip is not None:
        painter.setClipRect(clip)
        context.clip = clip
    doc.documentLayout().draw(painter, context)
    painter.restore()


class HandoutPages:
    """Lays out hand-out pages — a heading, a caption, figures, then records and their sources,
    flowing onto further pages when they do not fit — on a PDF writer or a printer alike.

    The device's resolution is set to the screen's DPI, so point-sized text in the figures keeps
    its size against their drawing; everything stays vector (no page is an image)."""

    def __init__(self, device: QPagedPaintDevice, title: str, dpi: int) -> None:
        self.device = device
        self.title = title
        device.setResolution(dpi)  # type: ignore[attr-defined]  # QPdfWriter and QPrinter both have it
        self.painter = QPainter()
        self.pages = 0

    def _page(self) -> QRectF:
        """The page's drawable rectangle in device pixels (the painter starts at its corner)."""
        return QRectF(self.device.pageLayout().paintRectPixels(self.device.resolution()))  # type: ignore[attr-defined]

    def plot_size(self) -> QSizeF:
        """The size (in the device's pixels, the screen's at its DPI) a timeline plot is drawn at
        for a page: the page's width and half its height, so its type prints at its own size."""
        page = self._page()
        return QSizeF(page.width(), page.height() * 0.5)

    def _new_page(self) -> QRectF:
        if self.pages == 0:
            if not self.painter.begin(self.device):
                raise OSError("could not start the pages (is the file or printer writable?)")
        elif not self.device.newPage():
            raise OSError("could not add a page")
        self.pages += 1
        rect = self._page()
        return QRectF(0, 0, rect.width(), rect.height())

    def _heading(self, page: QRectF, heading: str) -> float:
        p = self.painter
        font = QFont(QApplication.font().family())
        font.setPointSizeF(10)
        p.setFont(font)
        p.setPen(QColor("#555555"))
        line = p.fontMetrics().height() + 4
        p.drawText(QRectF(0, 0, page.width(), line), Qt.AlignmentFlag.AlignLeft, f"{self.title}  ·  {heading}")
        return line + 6

    def add_page(self, heading: str, caption: str = "", figures: Sequence[Figure] = (), records_html: str = "") -> None:
        page = self._new_page()
        p = self.painter
        y = self._heading(page, heading)
        if caption:
            doc = QTextDocument()
            doc.setDefaultFont(QFont(QApplication.font().family(), 15))
            doc.setTextWidth(page.width())
            doc.setHtml(f"<p style='font-size:16pt'><b>{html.escape(caption)}</b></p>")
            p.save()
            p.translate(0, y)
            _draw_on_paper(doc, p)
            p.restore()
            y += doc.size().height() + 6
        for figure in figures:
            room = page.height() * (0.58 if records_html else 0.95) / max(1, len(figures))
            box = QRectF(0, y, page.width(), min(room, page.height() - y))
            _scale, drawn = _fit(figure.size(), box)
            figure.paint(p, box)
            y += drawn.height() + 10
        if records_html:
            self._flow(records_html, page, y, heading)

    def _flow(self, text_html: str, page: QRectF, y: float, heading: str) -> None:
        """Text from ``y`` down, continued on as many pages as it needs (cut between lines)."""
        doc = QTextDocument()
        doc.setDefaultFont(QFont(QApplication.font().family(), 10))
        doc.setTextWidth(page.width())
        doc.setHtml(text_html)
        offset, total = 0.0, doc.size().height()
        while True:
            room = page.height() - y
            if room < 40 and offset < total:  # not even a line or two: start the next page
                page = self._new_page()
                y = self._heading(page, f"{heading} (continued)")
                continue
            cut = self._cut(doc, offset, room)
            p = self.painter
            p.save()
            p.translate(0, y - offset)
            _draw_on_paper(doc, p, QRectF(0, offset, page.width(), cut - offset))
            p.restore()
            offset = cut
            if offset >= total - 0.5:
                return
            page = self._new_page()
            y = self._heading(page, f"{heading} (continued)")

    @staticmethod
    def _cut(doc: QTextDocument, offset: float, room: float) -> float:
        """Where the page ends in the document: the last line boundary that fits in ``room``."""
        limit = offset + room
        best = offset
        layout = doc.documentLayout()
        block = doc.begin()
        while block.isValid():
            top = layout.blockBoundingRect(block).top()
            lines = block.layout()
            for n in range(lines.lineCount()):
                line = lines.lineAt(n)
                bottom = top + line.y() + line.height()
                if bottom <= limit:
                    best = max(best, bottom)
                else:
                    return best if best > offset else limit
            block = block.next()
        return max(best, min(limit, doc.size().height())) if best > offset else min(limit, doc.size().height())

    def finish(self) -> int:
        if self.pages:
            self.painter.end()
        return self.pages


def pdf_writer(path: Path, title: str) -> QPdfWriter:
    writer = QPdfWriter(str(path))
    writer.setTitle(title)
    writer.setCreator("Partnership Explorer")
    writer.setPageLayout(a4_landscape())
    return writer


class WideTimeline:
    """While pages are drawn, the docks step aside so the timeline is page-shaped (wide)."""

    def __init__(self, timeline: TimelineView) -> None:
        self.window = timeline.window()
        self.hidden: list[QWidget] = []

    def __enter__(self) -> WideTimeline:
        if hasattr(self.window, "drawing_pages"):
            self.window.drawing_pages = True
        self.hidden = [d for d in self.window.findChildren(QDockWidget) if d.isVisible() and not d.isFloating()]
        for dock in self.hidden:
            dock.hide()
        QApplication.processEvents()
        return self

    def __exit__(self, *_exc: object) -> None:
        if hasattr(self.window, "drawing_pages"):
            self.window.drawing_pages = False
        for dock in self.hidden:
            dock.show()
        QApplication.processEvents()


class PageShapedTimeline:
    """While pages are drawn, the plot takes the page's shape (never larger than it is now, so
    the window keeps its size): its labels are laid out for the page and print at their own
    size, instead of a screen-wide plot shrunk to a third of its type."""

    def __init__(self, timeline: TimelineView, size: QSizeF) -> None:
        self.plot = timeline.plot
        self.size = size
        self.saved = (self.plot.minimumSize(), self.plot.maximumSize())

    def __enter__(self) -> PageShapedTimeline:
        QApplication.processEvents()
        width = int(min(self.size.width(), self.plot.width()))
        height = int(min(self.size.height(), self.plot.height()))
        self.saved = (self.plot.minimumSize(), self.plot.maximumSize())
        self.plot.setFixedSize(max(width, 100), max(height, 60))
        QApplication.processEvents()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.plot.setMinimumSize(self.saved[0])
        self.plot.setMaximumSize(self.saved[1])
        QApplication.processEvents()


_paper: dict[str, str] | None = None  # the colours of a page being made (see on_paper_colours)


def paper_colours() -> dict[str, str] | None:
    """The colours to draw a figure in while a page is made on a dark screen (None: the screen's)."""
    return _paper


@contextmanager
def on_paper_colours(*widgets: QWidget) -> Iterator[None]:
    """Paper is white: in the dark theme the hand-out's and the printer's pages are drawn in the
    light theme's colours (a dark page was unreadable once printed, and spent the toner), then the
    widgets get the screen's colours back. Other themes are light already."""
    global _paper
    app = QApplication.instance()
    if app is None or current_colours() is not DARK or _paper is not None:
        yield
        return
    had = [(w, w.testAttribute(Qt.WidgetAttribute.WA_SetPalette), w.palette()) for w in widgets]
    light = palette_for(LIGHT)
    _paper = LIGHT
    try:
        for widget in widgets:
            widget.setPalette(light)  # each view recolours itself (PaletteChange)
        yield
    finally:
        _paper = None
        for widget, own, palette in had:
            widget.setPalette(palette if own else QPalette())
            widget.setAttribute(Qt.WidgetAttribute.WA_SetPalette, own)


@contextmanager
def users_view_kept(state: AppState, timeline: TimelineView) -> Iterator[None]:
    """Whatever pages step through (a story's filters, selections and ranges), the user gets back
    the selection (with its Back/Forward history), the filters and the visible range they had."""
    memo = state.selection_memo()
    filters = state.filters
    shown = timeline.view_range()
    animation = timeline.range_animation_ms
    timeline.range_animation_ms = 0  # pages show where each step lands, not the glide
    try:
        yield
    finally:
        timeline.range_animation_ms = animation
        if state.filters != filters:
            state.set_filters(filters)
        state.restore_selection(memo, initiator=timeline)  # the timeline's own: it does not scroll to it
        QApplication.processEvents()
        timeline.set_view_range(*shown)


# Other views' pictures for hand-out pages, after the timeline's (the relationship map registers
# one): each is called with the main window and returns its Figure, or None with nothing to show.
# Their PNG/SVG go through save_png/save_svg, so they line up as the timeline's do.
HANDOUT_FIGURES: list[Callable[[QWidget], Figure | None]] = []


def handout_figures(timeline: TimelineView, others: bool = True) -> list[Figure]:
    """The pictures of a hand-out page: the timeline, then (``others``) those registered in
    HANDOUT_FIGURES: on a page of the current view, and on a story step that keeps their view."""
    figures: list[Figure] = [TimelineFigure(timeline, FigureOptions(title="", dates=True, legend=True))]
    for make in HANDOUT_FIGURES if others else []:
        figure = make(timeline.window())
        if figure is not None:
            figures.append(figure)
    return figures


def view_pages(pages: HandoutPages, state: AppState, timeline: TimelineView, heading: str = "Current view") -> int:
    records = "".join(record_html(state, ref) for ref in state.selection[:12])
    with (
        users_view_kept(state, timeline),
        on_paper_colours(timeline),
        WideTimeline(timeline),
        PageShapedTimeline(timeline, pages.plot_size()),
    ):
        pages.add_page(heading, "", handout_figures(timeline), records)
    return pages.finish()


def story_steps(state: AppState, story_id: int) -> list[StepData]:
    return state.store.story_steps(story_id)


def story_pages(
    pages: HandoutPages,
    state: AppState,
    timeline: TimelineView,
    player: StoryPlayer,
    story_id: int,
    on_step: Callable[[int, int], None] | None = None,
) -> int:
    """One page per step: the timeline as the step shows it, its caption, its records and sources.
    The steps are applied to the views without the player (a story being played stays on its step)
    and the user's view is put back afterwards."""
    steps = story_steps(state, story_id)
    with (
        users_view_kept(state, timeline),
        on_paper_colours(timeline),
        WideTimeline(timeline),
        PageShapedTimeline(timeline, pages.plot_size()),
    ):
        for index, step in enumerate(steps):
            player.apply(step)
            QApplication.processEvents()
            records = "".join(record_html(state, ref) for ref in player.step_refs(step))
            heading = f"Step {index + 1} of {len(steps)}"
            # A step that keeps the map's view (its records, centre, zoom) shows the map too.
            keeps_map = isinstance(step.filters.get("views"), dict) and "map" in step.filters["views"]
            pages.add_page(heading, step.caption, handout_figures(timeline, others=keeps_map), records)
            if on_step:
                on_step(index, len(steps))
    return pages.finish()


def export_view_pdf(state: AppState, timeline: TimelineView, path: Path, title: str = "Current view") -> int:
    pages = HandoutPages(pdf_writer(path, "Partnership Explorer"), "Partnership Explorer", screen_dpi(timeline))
    return view_pages(pages, state, timeline, title)


def export_story_pdf(
    state: AppState,
    timeline: TimelineView,
    player: StoryPlayer,
    story_id: int,
    path: Path,
    on_step: Callable[[int, int], None] | None = None,
) -> int:
    title = dict(state.store.list_stories()).get(story_id, "Story")
    pages = HandoutPages(pdf_writer(path, title), title, screen_dpi(timeline))
    return story_pages(pages, state, timeline, player, story_id, on_step)


class FigureOptionsDialog(QDialog):
    """Title, dates and legend of a PNG/SVG export, filled with the last export's choices."""

    def __init__(self, parent: QWidget | None, kind: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Export timeline as {kind.upper()}")
        remembered = FigureOptions.remembered()
        self.title_edit = QLineEdit(remembered.title)
        self.title_edit.setPlaceholderText("No title")
        self.title_edit.setClearButtonEnabled(True)
        self.dates_box = QCheckBox("Name the dates shown")
        self.dates_box.setChecked(remembered.dates)
        self.legend_box = QCheckBox("Include the colour legend")
        self.legend_box.setChecked(remembered.legend)
        form = QFormLayout(self)
        form.addRow("&Title:", self.title_edit)
        form.addRow("", self.dates_box)
        form.addRow("", self.legend_box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.setMinimumWidth(420)

    def options(self) -> FigureOptions:
        return FigureOptions(self.title_edit.text().strip(), self.dates_box.isChecked(), self.legend_box.isChecked())
