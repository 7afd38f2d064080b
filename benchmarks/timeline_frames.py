"""Timeline frame times only: pan, zoom and repaint, full view and zoomed in, against an empty plot.

    python benchmarks/timeline_frames.py --db /tmp/explorer-bench/synth-1000000-s7-0005.sqlite [--runs 40]
    python benchmarks/timeline_frames.py --db ... --profile pan-full   # cProfile one measure instead

Frames are measured exactly as ``benchmarks/run.py`` measures them: the main window at 1600×960,
offscreen, ``set_view_range``/``_zoom`` then ``tl.plot.viewport().repaint()``. The floor is a bare
``pg.PlotWidget`` (date axis, same window size) panned, zoomed and repainted the same way in the same
process, so the ratio says how much the timeline adds to pyqtgraph's own cost of a frame.
The database is opened read-only.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# run.py puts the app on the path and sets up offscreen Qt; the frames are the ones it measures
from run import FRAME_BUDGET_MS, ZOOMED_IN


class Clock:
    """Wall and process-CPU milliseconds of each frame: on a shared 2-core machine the CPU time is
    the steadier figure (it leaves out time spent waiting for other processes)."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def frame(self, fn: Callable[[], None]) -> None:
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        self.cpu.append((time.process_time() - c0) * 1000)
        self.wall.append((time.perf_counter() - w0) * 1000)


class FrameTarget:
    """What a frame measure drives: a view range in days, a zoom, a repaint."""

    def __init__(
        self,
        view_range: Callable[[], tuple[float, float]],
        set_range: Callable[[float, float], None],
        zoom: Callable[[float], None],
        repaint: Callable[[], None],
        fit: Callable[[], None],
    ) -> None:
        self.view_range, self.set_range, self.zoom, self.repaint, self.fit = view_range, set_range, zoom, repaint, fit


def frame_measures(
    target: FrameTarget,
    runs: int,
    views: list[tuple[str, tuple[float, float] | None]] | None = None,
    kinds: tuple[str, ...] = ("pan", "zoom", "repaint"),
    after: Callable[[], None] | None = None,
) -> dict[str, Callable[[Clock], None]]:
    """Named measures, each timing ``runs`` frames into a Clock (same steps as run.py).

    ``views``: (label, day range, or None for the full view) to start each measure from;
    ``after``: called at the end of every frame, inside its time (a round trip to the X server)."""
    if views is None:
        views = [("full view", None), ("zoomed in", ZOOMED_IN)]

    def setup_of(days: tuple[float, float] | None) -> Callable[[], None]:
        return target.fit if days is None else (lambda: target.set_range(*days))

    def paint() -> None:
        target.repaint()
        if after is not None:
            after()

    out: dict[str, Callable[[Clock], None]] = {}
    for label, days in views:
        setup = setup_of(days)

        def pan(clock: Clock, setup=setup) -> None:
            setup()
            target.repaint()
            a, b = target.view_range()
            for k in range(runs):
                d = (b - a) * 0.02 * (1 if k % 2 == 0 else -1)

                def frame(d=d) -> None:
                    x0, x1 = target.view_range()
                    target.set_range(x0 + d, x1 + d)
                    paint()

                clock.frame(frame)

        def zoom(clock: Clock, setup=setup) -> None:
            setup()
            target.repaint()
            for k in range(runs):
                factor = 0.9 if k % 2 == 0 else 1 / 0.9

                def frame(factor=factor) -> None:
                    target.zoom(factor)
                    paint()

                clock.frame(frame)

        def repaint(clock: Clock, setup=setup) -> None:
            setup()
            target.repaint()
            for _ in range(runs):
                clock.frame(paint)

        for kind, fn in (("pan", pan), ("zoom", zoom), ("repaint", repaint)):
            if kind in kinds:
                out[f"{kind}, {label}"] = fn
    return out


def floor_target(app, size: tuple[int, int] = (1600, 960)) -> tuple[FrameTarget, object]:
    import pyqtgraph as pg
    from PySide6.QtWidgets import QMainWindow

    win = QMainWindow()
    plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem("bottom", utcOffset=0)})
    win.setCentralWidget(plot)
    win.resize(*size)
    win.show()
    app.processEvents()
    vb = plot.plotItem.vb
    vb.setMouseEnabled(x=True, y=False)

    def view_range() -> tuple[float, float]:
        (x0, x1), _y = vb.viewRange()
        return x0 / 86400.0, x1 / 86400.0

    def set_range(a: float, b: float) -> None:
        vb.setXRange(a * 86400.0, b * 86400.0, padding=0.0)

    def zoom(f: float) -> None:
        a, b = view_range()
        mid, half = (a + b) / 2, (b - a) / 2 * f
        set_range(mid - half, mid + half)

    target = FrameTarget(
        view_range, set_range, zoom, lambda: plot.viewport().repaint(), lambda: set_range(-7300.0, 33000.0)
    )
    return target, win


def timeline_target(app, db: Path, size: tuple[int, int] = (1600, 960)) -> tuple[FrameTarget, object]:
    from explorer.state import AppState
    from explorer.store import open_store
    from explorer.views.main_window import MainWindow

    store = open_store(db, read_only=True)
    win = MainWindow(AppState(store))
    win.resize(*size)
    win.show()
    app.processEvents()
    tl = win.timeline
    win.state.wait_idle()  # a large database loads in the background: time frames of it loaded
    app.processEvents()
    target = FrameTarget(tl.view_range, tl.set_view_range, tl._zoom, lambda: tl.plot.viewport().repaint(), tl.fit_all)
    return target, win


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True, help="database to open (read-only)")
    parser.add_argument("--runs", type=int, default=40, help="frames per measure")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every measure (floor and timeline alternate)")
    parser.add_argument("--profile", help="cProfile this measure (e.g. 'pan, full view') instead of timing")
    args = parser.parse_args(argv)
    os.environ["EXPLORER_DATA_DIR"] = tempfile.mkdtemp()

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    floor, floor_win = floor_target(app)
    t0 = time.perf_counter()
    timeline, win = timeline_target(app, args.db)
    print(f"window with {args.db.name} built in {time.perf_counter() - t0:.1f} s", flush=True)
    floor_measures, measures = frame_measures(floor, args.runs), frame_measures(timeline, args.runs)

    if args.profile:
        prof = cProfile.Profile()
        prof.runcall(measures[args.profile], Clock())
        pstats.Stats(prof).sort_stats("cumulative").print_stats(45)
        pstats.Stats(prof).sort_stats("tottime").print_stats(30)
        return 0

    tl_clock = {k: Clock() for k in measures}
    fl_clock = {k: Clock() for k in measures}
    for _ in range(args.rounds):
        for name in measures:
            floor_measures[name](fl_clock[name])
            measures[name](tl_clock[name])
    med = statistics.median
    print(f"\n{args.db.name}: medians over {args.rounds} × {args.runs} frames (window 1600×960, offscreen)")
    head = f"{'measure':<22}{'timeline':>12}{'floor':>10}{'ratio':>8}{'cpu':>10}{'cpu floor':>11}"
    print(f"{head}  wall vs {FRAME_BUDGET_MS} ms")
    for name in measures:
        t, f = med(tl_clock[name].wall), med(fl_clock[name].wall)
        tc, fc = med(tl_clock[name].cpu), med(fl_clock[name].cpu)
        verdict = "met" if t <= FRAME_BUDGET_MS else "NOT met"
        print(f"{name:<22}{t:>9.1f} ms{f:>7.1f} ms{t / f:>7.2f}×{tc:>7.1f} ms{fc:>8.1f} ms  {verdict}")
    del win, floor_win
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
