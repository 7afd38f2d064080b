"""Hand-outs: the timeline as PNG/SVG, the current view or a story as a PDF, the selection as CSV."""

from __future__ import annotations

import csv
import html
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QMarginsF, QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPageLayout, QPageSize, QPainter, QPdfWriter, QTextDocument
from PySide6.QtWidgets import QApplication, QWidget

from explorer import models as m
from explorer.formatting import KIND_LABEL, money, period_text, usd
from explorer.state import AppState, RecordRef
from explorer.store import StoreError

if TYPE_CHECKING:
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
    if detail.citations:
        sources = "; ".join(
            f"<i>{esc(c.source_title)}</i>" + (f", “{esc(c.section)}”" if c.section else "") for c in detail.citations
        )
        body += f"<br><span style='color:#555'>Sources: {sources}</span>"
    return f"<p>{body}</p>"


class PdfHandout:
    """Writes pages of (heading, caption, timeline image, selected records) with Qt's PDF writer."""

    def __init__(self, path: Path, title: str) -> None:
        self.writer = QPdfWriter(str(path))
        self.writer.setTitle(title)
        self.writer.setCreator("Partnership Explorer")
        self.writer.setPageLayout(
            QPageLayout(
                QPageSize(QPageSize.PageSizeId.A4),
                QPageLayout.Orientation.Landscape,
                QMarginsF(12, 12, 12, 12),
                QPageLayout.Unit.Millimeter,
            )
        )
        self.writer.setResolution(150)
        self.painter = QPainter()
        self.pages = 0
        self.title = title

    def add_page(self, heading: str, caption: str, image: QImage, records_html: str) -> None:
        if self.pages == 0:
            if not self.painter.begin(self.writer):
                raise OSError("could not start the PDF")
        else:
            self.writer.newPage()
        self.pages += 1
        p = self.painter
        page = self.writer.pageLayout().paintRectPixels(self.writer.resolution())
        width, height = page.width(), page.height()
        y = 0.0
        head_font = QFont()
        head_font.setPointSizeF(11)
        p.setFont(head_font)
        p.setPen(QColor("#555555"))
        p.drawText(QRectF(0, y, width, 40), Qt.AlignmentFlag.AlignLeft, f"{self.title}  ·  {heading}")
        y += 45
        doc = QTextDocument()
        doc.setDefaultFont(QFont(QApplication.font().family(), 15))
        doc.setTextWidth(width)
        doc.setHtml(f"<p style='font-size:16pt'><b>{html.escape(caption)}</b></p>" if caption else "")
        p.save()
        p.translate(0, y)
        doc.drawContents(p)
        p.restore()
        y += doc.size().height() + 10
        if not image.isNull():
            box = QSizeF(width, height * 0.56)
            scaled = image.size().toSizeF().scaled(box, Qt.AspectRatioMode.KeepAspectRatio)
            p.drawImage(QRectF(QPointF(0, y), scaled), image)
            y += scaled.height() + 12
        details = QTextDocument()
        details.setDefaultFont(QFont(QApplication.font().family(), 10))
        details.setTextWidth(width)
        details.setHtml(records_html)
        p.save()
        p.translate(0, y)
        details.drawContents(p, QRectF(0, 0, width, max(0.0, height - y)))
        p.restore()

    def finish(self) -> int:
        if self.pages:
            self.painter.end()
        return self.pages


def timeline_image(timeline: TimelineView) -> QImage:
    QApplication.processEvents()
    return timeline.plot.grab().toImage()


class WideTimeline:
    """While pages are printed, the docks step aside so the timeline is page-shaped (wide)."""

    def __init__(self, timeline: TimelineView) -> None:
        self.window = timeline.window()
        self.hidden: list[QWidget] = []

    def __enter__(self) -> WideTimeline:
        from PySide6.QtWidgets import QDockWidget

        self.hidden = [d for d in self.window.findChildren(QDockWidget) if d.isVisible()]
        for dock in self.hidden:
            dock.hide()
        QApplication.processEvents()
        return self

    def __exit__(self, *_exc: object) -> None:
        for dock in self.hidden:
            dock.show()
        QApplication.processEvents()


def export_view_pdf(state: AppState, timeline: TimelineView, path: Path, title: str = "Current view") -> int:
    handout = PdfHandout(path, "Partnership Explorer")
    records = "".join(record_html(state, ref) for ref in state.selection[:12])
    with WideTimeline(timeline):
        handout.add_page(title, "", timeline_image(timeline), records)
    return handout.finish()


def export_story_pdf(
    state: AppState,
    timeline: TimelineView,
    player: StoryPlayer,
    story_id: int,
    path: Path,
    on_step: Callable[[int, int], None] | None = None,
) -> int:
    """One page per step: the timeline as the step shows it, its caption, its records and sources."""
    titles = dict(state.store.list_stories())
    handout = PdfHandout(path, titles.get(story_id, "Story"))
    animation = timeline.range_animation_ms
    timeline.range_animation_ms = 0  # pages show where each step lands, not the glide
    with WideTimeline(timeline):
        try:
            player.play(story_id)
            for index in range(len(player.steps)):
                player.go(index)
                step = player.steps[index]
                records = "".join(record_html(state, ref) for ref in player.step_refs(step))
                heading = f"Step {index + 1} of {len(player.steps)}"
                handout.add_page(heading, step.caption, timeline_image(timeline), records)
                if on_step:
                    on_step(index, len(player.steps))
        finally:
            timeline.range_animation_ms = animation
            player.stop()
    return handout.finish()
