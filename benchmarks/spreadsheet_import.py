"""A 100,000-row spreadsheet through File ▸ Import…: how long the GUI thread is held at a stretch.

    python benchmarks/spreadsheet_import.py [--rows 100000] [--runs 1]

Builds the demo database and a CSV of ROWS events as Excel writes them (title, day-first date,
place by name, notes), opens the import dialog on it, checks and imports it, and watches the GUI
thread with a 5 ms timer: the longest gap between two ticks is the longest hold. The floor is the
same timer over an idle second in the same run. Budget (issue 17): 50 ms.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

BUDGET_MS = 50.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)

    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    tmp = Path(tempfile.mkdtemp(prefix="explorer-sheet-"))
    os.environ["EXPLORER_DATA_DIR"] = str(tmp / "data")
    from explorer.state import AppState
    from explorer.store import open_store
    from explorer.store.demo import build_demo_database
    from explorer.views.main_window import MainWindow
    from explorer.views.spreadsheet_import import SpreadsheetImportDialog

    db = build_demo_database(tmp / "demo.sqlite", ROOT / "data" / "demo.yaml")
    sheet = tmp / "meetings.csv"
    places = ["New Delhi", "Tokyo", "Gujarat", "Ahmedabad", "Andhra Pradesh"]
    with sheet.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, dialect="excel")
        writer.writerow(["Title", "Date", "Place", "Notes"])
        for i in range(args.rows):
            day, month, year = 1 + i % 28, 1 + (i // 28) % 12, 1990 + i % 35
            writer.writerow([f"Working meeting {i}", f"{day:02d}/{month:02d}/{year}", places[i % 5], f"note {i}"])

    store = open_store(db)
    state = AppState(store)
    window = MainWindow(state)
    window.resize(1400, 900)
    window.show()
    for _ in range(20):
        app.processEvents()
        time.sleep(0.01)

    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    phase = ["idle"]
    where: list[tuple[float, str]] = []

    def tick() -> None:
        now = clock.elapsed()
        gaps.append(float(now - last[0]))
        where.append((float(now - last[0]), phase[0]))
        last[0] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    timer.start()

    def spin(seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.001)

    spin(1.0)
    floor = max(gaps)
    gaps.clear()
    last[0] = clock.elapsed()
    started = time.perf_counter()
    where.clear()
    phase[0] = "reading and checking"
    dialog = SpreadsheetImportDialog(window, sheet)
    dialog.open()
    while dialog.job is not None or dialog._recheck.isActive() or dialog.report is None:
        spin(0.01)
    checked = time.perf_counter() - started
    assert dialog.report.ok, dialog.report.text()[:2000]
    phase[0] = "writing"
    dialog.start_import()
    while dialog.job is not None:
        spin(0.01)
    phase[0] = "views taking it in"
    spin(0.5)  # the views take in what was written
    total = time.perf_counter() - started
    hold = max(gaps)
    timer.stop()
    imported = dialog.imported.report.new.get("event", 0) if dialog.imported else 0
    print(
        f"{args.rows:,} rows: read and checked in {checked:.1f} s, imported ({imported:,} new events) in {total:.1f} s"
    )
    print(
        f"  longest GUI-thread hold {hold:.0f} ms (median tick gap {statistics.median(gaps):.0f} ms);"
        f" floor (idle) {floor:.0f} ms; budget {BUDGET_MS:.0f} ms"
    )
    worst = sorted(where, reverse=True)[:5]
    print("  longest holds: " + ", ".join(f"{gap:.0f} ms ({what})" for gap, what in worst))
    state.stop_background()
    store.close()
    return 0 if hold <= BUDGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
