"""Runs inside the app on a real X display (see test_real_screen.py): the timeline's row labels
drawn from kept static texts and drawn by drawText, each read back from the X server's screen,
and how many pixels differ, after a pan and after the type grows.

Usage: python tests/labels_probe.py DB OUT.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PySide6.QtCore import QEventLoop, QPoint, QTimer
from PySide6.QtGui import QFont, QImage
from PySide6.QtWidgets import QApplication


def settle(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def differing(a: QImage, b: QImage) -> int:
    """Pixels whose colour differs by more than 2 levels in a channel."""
    import numpy as np

    def pixels(image: QImage) -> np.ndarray:
        image = image.convertToFormat(QImage.Format.Format_ARGB32)
        return np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.width(), 4).astype(int)

    return int(np.count_nonzero(np.abs(pixels(a) - pixels(b)).max(axis=2) > 2))


def main(db: Path, out: Path) -> int:
    app = QApplication(sys.argv[:1])
    from explorer.state import AppState
    from explorer.store import open_store
    from explorer.views.main_window import MainWindow
    from explorer.views.theme import apply_theme

    apply_theme(app, "light")
    window = MainWindow(AppState(open_store(db)))
    window.show()
    settle(1500)
    tl = window.timeline
    viewport = tl.plot.viewport()

    def on_screen() -> QImage:
        settle(300)
        corner = viewport.mapToGlobal(QPoint(0, 0))
        shot = window.screen().grabWindow(0, corner.x(), corner.y(), viewport.width(), viewport.height())
        return shot.toImage()

    cases = []
    for name in ("fitted", "panned", "larger type"):
        if name == "panned":
            a, b = tl.view_range()
            tl.set_view_range(a + (b - a) * 0.13, b + (b - a) * 0.13)
        elif name == "larger type":
            font = QFont(tl.font())
            font.setPointSizeF(font.pointSizeF() * 1.5)
            tl.setFont(font)
        tl.layer.static_labels = True
        tl.layer.update()
        kept = on_screen()
        tl.layer.static_labels = False
        tl.layer.update()
        plain = on_screen()
        tl.layer.static_labels = True
        labels = sum(1 for text in tl.model.layout.labels if text)
        cases.append({"case": name, "labels": labels, "differing": differing(kept, plain), "size": kept.width()})
    out.write_text(json.dumps(cases), encoding="utf-8")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
