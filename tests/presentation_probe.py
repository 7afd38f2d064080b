"""Runs inside the app on a real X display (see test_real_screen.py): presentation mode, the demo
story played step by step, and where the caption, the timeline and the details landed at each
step, in Qt's logical pixels. Screenshots of each step go to EXPLORER_SCREENSHOTS when set.

Usage: python tests/presentation_probe.py DB OUT.json LABEL
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QPoint, QRect, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QWidget


def settle(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def box(widget: QWidget) -> list[int]:
    rect = QRect(widget.mapToGlobal(QPoint(0, 0)), widget.size())
    return [rect.x(), rect.y(), rect.width(), rect.height()]


def main(db: Path, out: Path, label: str) -> int:
    app = QApplication(sys.argv[:1])
    from explorer.state import AppState
    from explorer.store import open_store
    from explorer.views.main_window import MainWindow
    from explorer.views.theme import apply_theme

    apply_theme(app, "light")
    store = open_store(db)
    window = MainWindow(AppState(store))
    window.show()
    settle(1500)
    window.workshop.present_action.trigger()
    settle(800)
    story_id = store.list_stories()[0][0]
    window.workshop.play(story_id)
    folder = os.environ.get("EXPLORER_SCREENSHOTS")
    steps: list[dict[str, Any]] = []
    for index in range(len(window.story_player.steps)):
        window.story_player.go(index)
        settle(900)  # the glide (450 ms) and the paint
        overlay = window.workshop.overlay
        title = window.detail_dock.titleBarWidget()
        tl = window.timeline
        plot = tl.plot
        steps.append(
            {
                "step": index + 1,
                "screen": [
                    window.screen().geometry().x(),
                    window.screen().geometry().y(),
                    window.screen().geometry().width(),
                    window.screen().geometry().height(),
                ],
                "window": box(window),
                "timeline": box(tl),
                "plot": box(plot),
                "caption": box(overlay),
                "caption_visible": overlay.isVisible(),
                "caption_cut": overlay.caption.heightForWidth(overlay.caption.width()) > overlay.caption.height() + 2,
                "details": box(window.detail_dock),
                "details_visible": window.detail_dock.isVisible(),
                "dock_title": title.text() if isinstance(title, QLabel) else None,
                "dock_title_height": title.height() if title is not None else 0,
                "selected_shown": [
                    tl.item_view_pos(r) is not None and plot.rect().contains(tl.item_view_pos(r))
                    for r in window.state.selection
                    if tl.shows(r)
                ],
                "legend_height": tl.legend_label.height(),
                "app_point_size": app.font().pointSizeF(),
            }
        )
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            window.screen().grabWindow(0).save(str(Path(folder) / f"{label}-present-step{index + 1:02d}.png"))
    window.story_player.stop()
    # The map opened while presenting, on the selection the story ended on: it shares the height.
    window.map_dock.show()
    settle(2500)
    view = window.map
    canvas = view.canvas
    t = canvas.transform
    labels = [p.rect for p in view.placed_labels(t, canvas.label_font())]
    mapped = {
        "plot": box(window.timeline.plot),
        "map_dock": box(window.map_dock),
        "canvas": [0, 0, canvas.width(), canvas.height()],
        "labels": [list(r) for r in labels],
        "labels_inside": all(x0 >= 0 and y0 >= 0 and x1 <= t.width and y1 <= t.height for x0, y0, x1, y1 in labels),
        "nodes": len(view.graph.nodes),
    }
    if folder:
        window.screen().grabWindow(0).save(str(Path(folder) / f"{label}-present-map.png"))
    window.presentation.leave()
    settle(300)
    out.write_text(json.dumps({"steps": steps, "map": mapped}, indent=1), encoding="utf-8")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]))
