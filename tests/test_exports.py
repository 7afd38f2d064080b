"""Exports and hand-outs: the SVG is the PNG's drawing, the pictures carry their legend, title
and dates, PDF pages are vector drawing, and no export moves the user's view."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer
from sqlmodel import select

from explorer import models as m
from explorer.state import RecordRef
from explorer.store import Store
from explorer.views import exports
from explorer.views.main_window import MainWindow


def grey(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_Grayscale8)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width()].astype(np.int32)


def svg_as_image(path: Path, width: int, height: int) -> QImage:
    out = QImage(width, height, QImage.Format.Format_ARGB32)
    out.fill(QColor("white"))
    painter = QPainter(out)
    QSvgRenderer(str(path)).render(painter, QRectF(0, 0, width, height))
    painter.end()
    return out


def ink_runs(pixels: np.ndarray, dark: int = 110) -> list[tuple[int, int, int, int]]:
    """(top, bottom, left, right) of each band of rows holding dark pixels (a line of text)."""
    rows = np.flatnonzero((pixels < dark).any(axis=1))
    runs: list[tuple[int, int, int, int]] = []
    if rows.size == 0:
        return runs
    starts = np.r_[0, np.flatnonzero(np.diff(rows) > 2) + 1]
    ends = np.r_[starts[1:] - 1, rows.size - 1]
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        top, bottom = int(rows[a]), int(rows[b])
        cols = np.flatnonzero((pixels[top : bottom + 1] < dark).any(axis=0))
        runs.append((top, bottom, int(cols[0]), int(cols[-1])))
    return runs


def select_deal(window: MainWindow, store: Store) -> RecordRef:
    with store.read() as s:
        deal = s.exec(select(m.Deal).where(m.Deal.amount_usd == 4.76e9)).one()
    ref = RecordRef("deal", deal.id)
    window.state.select(ref)
    return ref


def test_svg_lines_up_with_the_png(window: MainWindow, store: Store, tmp_path: Path) -> None:
    """Rendered at the PNG's size, the SVG puts every lane label, tick label and mark where the
    PNG has it (pyqtgraph's exporter wrote the axes at 0.75 scale and markers as dotted boxes)."""
    from PySide6.QtWidgets import QApplication

    from explorer.views.theme import apply_theme

    apply_theme(QApplication.instance(), "light")  # the app's fonts, as it starts with them
    window.timeline.apply_ui_scale()
    select_deal(window, store)
    options = exports.FigureOptions(title="India and Japan", dates=True, legend=True)
    png, svg = tmp_path / "t.png", tmp_path / "t.svg"
    size = exports.export_png(window.timeline, png, options)
    assert exports.export_svg(window.timeline, svg, options) == size
    raster = grey(QImage(str(png)))
    vector = grey(svg_as_image(svg, size.width(), size.height()))
    assert raster.shape == vector.shape

    # Lane labels: the strip left of the plot under the header, one band of ink per label.
    top = int(exports.TimelineFigure(window.timeline, options).header_height()) + 2
    strip = int(window.timeline.lane_axis.width()) - 8
    png_runs, svg_runs = ink_runs(raster[top:, :strip]), ink_runs(vector[top:, :strip])
    assert len(png_runs) >= 4 and len(png_runs) == len(svg_runs), (png_runs, svg_runs)
    for a, b in zip(png_runs, svg_runs, strict=True):  # top, bottom and where the text starts
        assert max(abs(x - y) for x, y in zip(a[:3], b[:3], strict=True)) <= 3, (a, b)
    # Tick labels: the bottom rows, under the plot.
    axis = int(window.timeline.date_axis.height())
    bottom_png, bottom_svg = raster[-axis + 4 :, strip:], vector[-axis + 4 :, strip:]  # below the axis line
    cols_png = np.flatnonzero((bottom_png < 110).any(axis=0))
    cols_svg = np.flatnonzero((bottom_svg < 110).any(axis=0))
    assert cols_png.size > 20
    assert abs(cols_png[0] - cols_svg[0]) <= 3 and abs(cols_png[-1] - cols_svg[-1]) <= 3

    # Everything else, marks included: 8×8 blocks agree (antialiasing aside).
    h, w = (raster.shape[0] // 8) * 8, (raster.shape[1] // 8) * 8

    def blocks(a: np.ndarray) -> np.ndarray:
        return a[:h, :w].reshape(h // 8, 8, w // 8, 8).mean(axis=(1, 3))

    diff = np.abs(blocks(raster) - blocks(vector))
    assert diff.mean() < 4 and np.mean(diff > 40) < 0.01, (diff.mean(), np.mean(diff > 40))
    text = svg.read_text(encoding="utf-8")
    assert "matrix(0.75" not in text and "<image" not in text  # marks are paths, not the atlas


def test_png_and_svg_carry_the_legend_title_and_dates(window: MainWindow, tmp_path: Path) -> None:
    bare, full = tmp_path / "bare.png", tmp_path / "full.png"
    plain = exports.export_png(window.timeline, bare, exports.FigureOptions("", dates=False, legend=False))
    titled = exports.export_png(window.timeline, full, exports.FigureOptions("Workshop, Pune", True, True))
    assert titled.width() == plain.width() and titled.height() > plain.height() + 30
    svg = tmp_path / "full.svg"
    exports.export_svg(window.timeline, svg, exports.FigureOptions("Workshop, Pune", True, True))
    text = re.sub(r"\s+", " ", svg.read_text(encoding="utf-8"))
    assert "Workshop, Pune" in text and "Dates shown" in text
    for entry in window.timeline.legend_entries()[:3]:
        assert entry.split()[0] in text


def test_export_options_are_asked_and_remembered(qtbot, window: MainWindow, tmp_path: Path, monkeypatch) -> None:
    from PySide6.QtWidgets import QDialog, QFileDialog

    out = tmp_path / "asked.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))

    def fill(dialog: exports.FigureOptionsDialog) -> int:
        dialog.title_edit.setText("Talent bridge")
        dialog.legend_box.setChecked(False)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(exports.FigureOptionsDialog, "exec", fill)
    assert window.workshop.export_timeline("png")
    assert out.exists()
    again = exports.FigureOptionsDialog(window, "svg")
    assert again.title_edit.text() == "Talent bridge" and not again.legend_box.isChecked()
    assert again.dates_box.isChecked()


def page_content(path: Path, number: int = 0) -> tuple[bytes, list[str], str]:
    from pypdf import PdfReader

    page = PdfReader(str(path)).pages[number]
    data = page.get_contents().get_data()
    xobjects = page["/Resources"].get("/XObject", {})
    images = [name for name, ref in xobjects.items() if ref.get_object().get("/Subtype") == "/Image"]
    return data, images, " ".join(page.extract_text().split())


def test_pdf_hand_out_draws_the_timeline_as_vectors(window: MainWindow, store: Store, tmp_path: Path) -> None:
    select_deal(window, store)
    out = tmp_path / "view.pdf"
    assert window.workshop.export_view_pdf(out)
    data, images, text = page_content(out)
    assert not images, f"the page holds images {images}"
    paths = len(re.findall(rb"\s(?:re|l|c)\s", data))
    fills = len(re.findall(rb"\s(?:f|f\*|S|B)\s", data))
    assert paths > 200 and fills > 50, (paths, fills)
    assert "Summits & visits" in text and "Sumitomo" in text  # the lane names and labels are text


def test_a_story_pdf_leaves_the_users_view_selection_and_step(
    qtbot, window: MainWindow, store: Store, tmp_path: Path
) -> None:
    story_id = store.list_stories()[0][0]
    ref = select_deal(window, store)
    window.timeline.set_view_range(15000.25, 19000.75)
    before = (window.state.selection, window.timeline.view_range(), window.state.filters)
    plot_size, window_size = window.timeline.plot.size(), window.size()
    assert window.workshop.export_story_pdf(tmp_path / "a.pdf", story_id)
    assert window.timeline.plot.size() == plot_size and window.size() == window_size
    assert window.detail_dock.isVisible() and window.tree_dock.isVisible()  # back from stepping aside
    assert window.state.selection == [ref]
    assert window.timeline.view_range() == pytest.approx(before[1], abs=1e-6)
    assert window.state.filters == before[2]
    assert not window.state.can_go_back()  # the story's selections left no trail in Back

    assert window.workshop.play(story_id)
    window.story_player.go(3)
    qtbot.waitUntil(lambda: not window.timeline.range_animation_running(), timeout=10000)
    playing = (window.state.selection, window.timeline.view_range(), window.state.filters)
    assert window.workshop.export_story_pdf(tmp_path / "b.pdf", story_id)
    assert window.story_player.playing and window.story_player.index == 3
    assert window.workshop.overlay.isVisible()
    assert window.state.selection == playing[0] and window.state.filters == playing[2]
    assert window.timeline.view_range() == pytest.approx(playing[1], abs=1e-6)
    for export in (window.workshop.export_view_pdf, window.workshop.export_csv):
        assert export(tmp_path / "c.out")
        assert window.state.selection == playing[0]
        assert window.timeline.view_range() == pytest.approx(playing[1], abs=1e-6)


def test_another_views_figure_joins_the_hand_out_pages(window: MainWindow, tmp_path: Path, monkeypatch) -> None:
    """The hook the relationship map uses: a registered figure is drawn on the page below the
    timeline, as vectors and text, and saves to PNG/SVG the same way."""
    from PySide6.QtCore import QSizeF

    class Card:
        def size(self) -> QSizeF:
            return QSizeF(400, 120)

        def paint(self, painter: QPainter, target: QRectF) -> None:
            painter.drawRect(target.adjusted(0, 0, -1, -1))
            painter.drawText(target, "Relationship map stand-in")

    monkeypatch.setattr(exports, "HANDOUT_FIGURES", [lambda _window: Card(), lambda _window: None])
    out = tmp_path / "hook.pdf"
    assert window.workshop.export_view_pdf(out)
    _data, images, text = page_content(out)
    assert not images and "Relationship map stand-in" in text and "Summits & visits" in text
    assert exports.save_png(Card(), tmp_path / "card.png", 96, QColor("white")).width() == 400
    exports.save_svg(Card(), tmp_path / "card.svg", 96, "Card")
    assert "Relationship map stand-in" in (tmp_path / "card.svg").read_text(encoding="utf-8")


def test_a_pledges_hand_out_page_says_what_it_realised(window: MainWindow, store: Store, tmp_path: Path) -> None:
    """The page names the pledge's figures as the chart does: pledged, and that no deal is linked
    to it (the demo files no deal under a pledge), never deals merely dated in its period."""
    with store.read() as s:
        pledge = s.exec(select(m.Pledge).where(m.Pledge.title.startswith("10 trillion"))).one()  # type: ignore[attr-defined]
    window.state.select(RecordRef("pledge", pledge.id))
    out = tmp_path / "pledge.pdf"
    assert window.workshop.export_view_pdf(out)
    _data, _images, text = page_content(out)
    assert "Pledged US$68" in text and "no deal is linked to this pledge" in text


def _fill_colours(data: bytes) -> set[tuple[int, int, int]]:
    """The colours a PDF page fills with (Qt writes ``r g b scn`` in its colour space), as 0–255 triples."""
    found = re.findall(rb"([\d.]+) ([\d.]+) ([\d.]+) scn", data)
    return {tuple(round(float(c) * 255) for c in rgb) for rgb in found}  # type: ignore[misc]


def test_a_hand_out_made_in_the_dark_theme_is_printed_on_white(
    qtbot, window: MainWindow, store: Store, tmp_path: Path
) -> None:
    """Paper is white: the page draws the timeline and the map in the light theme's colours, and
    the screen keeps its dark ones."""
    from PySide6.QtWidgets import QApplication

    from explorer.views.theme import DARK, apply_theme

    app = QApplication.instance()
    apply_theme(app, "dark")
    try:
        select_deal(window, store)
        window.map_dock.show()
        qtbot.waitUntil(lambda: not window.map.busy and bool(window.map.graph.nodes), timeout=10_000)
        on_screen = window.timeline.plot.backgroundBrush().color().name()
        assert QColor(on_screen).lightness() < 80  # the screen is dark
        out = tmp_path / "dark.pdf"
        assert window.workshop.export_view_pdf(out)
        fills = _fill_colours(page_content(out)[0])
        dark = {QColor(DARK[k]).getRgb()[:3] for k in ("base", "window", "alt")}
        assert fills and not fills & dark, fills & dark
        assert QColor(DARK["text"]).getRgb()[:3] not in fills  # the records' text is dark on the white page
        assert window.timeline.plot.backgroundBrush().color().name() == on_screen  # the screen as it was
    finally:
        apply_theme(app, "light")
