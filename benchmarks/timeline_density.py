"""Timeline frame times across densities, on a real X display: where between 1e3 and 1e6 records
is a frame slowest, and is it within the 16.7 ms budget there?

    python benchmarks/timeline_density.py [--sizes 1e3,3e3,1e4,3e4,1e5,3e5,1e6] [--runs 30] [--rounds 3]
        [--refine 3] [--cache /tmp/explorer-bench] [--display :N] [--json out.json] [--one-way]
    DISPLAY=:N QT_QPA_PLATFORM=xcb python benchmarks/timeline_density.py --child DB --profile 'pan, full view'

For each size the synthetic database of ``benchmarks/run.py`` (seed 7; sizes not cached yet are
generated into ``--cache`` first, 1e6 in about two minutes) is opened read-only in the main window
in its own process, on an X server this script starts (Xvfb with openbox; ``--display`` uses a
running one instead). The window starts as the app starts it (the collector frozen after the first
paint and once the records and what filters look at are in memory), and frames are timed once that
background reading is done (earlier runs timed 3e5 and 1e6 beside it). The window is sized so the
timeline's plot is 1592×843 pixels, as in issue 20.
Frames: pan and zoom in the full view and in a one-year view around the densest year of the data
(the middle of run.py's ZOOMED_IN), each frame being ``set_view_range``/``_zoom`` (which lays the
view out), the event loop run until the plot has painted once (as after a mouse move; painting
and the copy to the X server) and ``QGuiApplication.sync()`` (a round trip, so the server has the
frame). The floor is a bare ``pg.PlotWidget`` of the same size
with a date axis on the same display, driven the same way in the same process, alternating with
the timeline round by round. Printed: median and 95th percentile of wall time per frame beside the
budget and the floor, the median process CPU time (steadier on a shared machine: it leaves out
waiting for other processes), and the worst density found. The pans and zooms step back and forth
(run.py's steps); ``--one-way`` adds pans by 1% and zooms in by 1.5% a frame that keep going,
which show new labels every frame as a drag does.
The half-decade sweep is then refined (``--refine`` rounds): for the full and the one-year view
each, the sizes half-way between its worst density (by the ratio to the floor) and the measured
neighbours are measured too, so a density between round sizes where one more lane tips into
being drawn item by item is found.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import FRAME_BUDGET_MS, ZOOMED_IN, database_for, machine, parse_sizes
from timeline_frames import Clock, FrameTarget, floor_target, frame_measures

PLOT_SIZE = (1592, 843)  # the timeline plot of issue 20's measurements
SCREEN = "1920x1200"
MID = (ZOOMED_IN[0] + ZOOMED_IN[1]) / 2
ONE_YEAR = (MID - 182.6, MID + 182.6)
VIEWS: list[tuple[str, tuple[float, float] | None]] = [("full view", None), ("one year", ONE_YEAR)]
KINDS = ("pan", "zoom")


def one_way_measures(target: FrameTarget, runs: int, after: Any) -> dict[str, Any]:
    """Pans and zooms that keep going one way (``--one-way``): the measures above step back and
    forth, so every other frame shows the view of the one before last, whose labels (widths,
    shortened texts) are cached; a person dragging the plot along sees new ones every frame."""
    out = {}
    for label, days in VIEWS:

        def measure(clock: Clock, days=days, kind: str = "pan") -> None:
            target.fit() if days is None else target.set_range(*days)
            target.repaint()
            for _ in range(runs):

                def frame() -> None:
                    if kind == "pan":
                        x0, x1 = target.view_range()
                        target.set_range(x0 + (x1 - x0) * 0.01, x1 + (x1 - x0) * 0.01)
                    else:
                        target.zoom(0.985)
                    target.repaint()
                    after()

                clock.frame(frame)

        out[f"one-way pan, {label}"] = measure
        out[f"one-way zoom, {label}"] = lambda clock, days=days, m=measure: m(clock, days, "zoom")
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


# --- the X server -------------------------------------------------------------------------


def start_display() -> tuple[str, list[subprocess.Popen]]:
    read, write = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{SCREEN}x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    number = b""
    with os.fdopen(read, "rb") as pipe:
        while not number.endswith(b"\n"):
            chunk = pipe.read(1)
            if not chunk:
                break
            number += chunk
    display = ":" + number.decode().strip()
    env = dict(os.environ, DISPLAY=display)
    wm = subprocess.Popen(["openbox"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # openbox takes over the root window
    return display, [xvfb, wm]


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in reversed(procs):
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


# --- one size, in its own process -----------------------------------------------------------


def fit_plot(app: Any, win: Any, plot: Any) -> tuple[int, int]:
    """Resize ``win`` until ``plot`` is PLOT_SIZE (the window manager may keep it smaller)."""
    for _ in range(4):
        app.processEvents()
        dw, dh = PLOT_SIZE[0] - plot.width(), PLOT_SIZE[1] - plot.height()
        if dw == 0 and dh == 0:
            break
        win.resize(win.width() + dw, win.height() + dh)
        for _ in range(5):
            app.processEvents()
            time.sleep(0.02)
    return plot.width(), plot.height()


class PaintCounter:
    """Counts the paint events a widget gets, so a frame can wait for its paint through the event loop."""

    def __init__(self, app: Any, widget: Any) -> None:
        from PySide6.QtCore import QEvent, QObject

        class Filter(QObject):
            count = 0

            def eventFilter(self, obj: Any, event: Any) -> bool:
                if event.type() == QEvent.Type.Paint:
                    Filter.count += 1
                return False

        self.app, self.widget, self.filter = app, widget, Filter()
        widget.installEventFilter(self.filter)

    def paint(self) -> None:
        """What a frame of a person's pan does after the range changed: the event loop runs until
        the plot has painted (the scene's queued update and the repaint it asks for, once)."""
        before = self.filter.count
        self.widget.update()  # the whole plot, as a pan or zoom dirties it anyway
        deadline = time.perf_counter() + 2.0
        while self.filter.count == before and time.perf_counter() < deadline:
            self.app.processEvents()


def child(db: Path, runs: int, rounds: int, profile: str | None = None, one_way: bool = False) -> dict[str, Any]:
    os.environ["EXPLORER_DATA_DIR"] = tempfile.mkdtemp()
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from explorer.state import AppState, collect_out_of_the_way
    from explorer.store import open_store
    from explorer.views.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    floor, floor_win = floor_target(app, PLOT_SIZE)
    floor_plot = floor_win.centralWidget()  # type: ignore[attr-defined]
    floor_px = fit_plot(app, floor_win, floor_plot)
    floor.repaint = PaintCounter(app, floor_plot.viewport()).paint

    store = open_store(db, read_only=True)
    state = AppState(store)
    in_memory: list[bool] = []
    state.loaded_in_memory.connect(lambda: in_memory.append(True))
    collect_out_of_the_way(state)  # the window starts as the app starts it (explorer.app)
    win = MainWindow(state)
    win.resize(1900, 1150)
    win.show()
    app.processEvents()
    gc.freeze()  # as explorer.app does after the first paint
    win.state.wait_idle()  # a large database loads in the background: time frames of it loaded
    # … and then reads what filters look at (a few seconds at 1e6, a second after the load):
    # frames are timed once that is done too, not beside it
    deadline = time.perf_counter() + 300
    while state._size >= state.BACKGROUND_FROM_RECORDS and not in_memory and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.01)
    win.state.wait_idle()
    app.processEvents()
    tl = win.timeline
    plot_px = fit_plot(app, win, tl.plot)
    painted = PaintCounter(app, tl.plot.viewport())
    timeline = FrameTarget(tl.view_range, tl.set_view_range, tl._zoom, painted.paint, tl.fit_all)

    def in_view() -> tuple[int, int]:
        lay = tl.model.layout
        return int(lay.idx.size), sum(int(b.count.sum()) for _lane, b in lay.bins)

    shown: dict[str, tuple[int, int]] = {}
    for label, days in VIEWS:
        if days is None:
            tl.fit_all()
        else:
            tl.set_view_range(*days)
        painted.paint()
        shown[label] = in_view()

    sync = QGuiApplication.sync
    t_measures = frame_measures(timeline, runs, VIEWS, KINDS, after=sync)
    if one_way:
        t_measures.update(one_way_measures(timeline, runs, sync))
    if profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.runcall(t_measures[profile], Clock())
        pstats.Stats(prof).sort_stats("cumulative").print_stats(40)
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        return {}
    f_measures = frame_measures(floor, runs, VIEWS, KINDS, after=sync)
    if one_way:
        f_measures.update(one_way_measures(floor, runs, sync))
    t_clock = {k: Clock() for k in t_measures}
    f_clock = {k: Clock() for k in t_measures}
    for _ in range(rounds):
        for name in t_measures:
            floor_win.raise_()  # type: ignore[attr-defined]
            f_measures[name](f_clock[name])
            win.raise_()
            t_measures[name](t_clock[name])
    out: dict[str, Any] = {
        "records": len(tl.model.data),
        "plot": plot_px,
        "floor plot": floor_px,
        "platform": QGuiApplication.platformName(),
        "shown": shown,
        "measures": {},
    }
    for name in t_measures:
        t, f = t_clock[name], f_clock[name]
        out["measures"][name] = {
            "median": statistics.median(t.wall),
            "p95": p95(t.wall),
            "cpu": statistics.median(t.cpu),
            "floor median": statistics.median(f.wall),
            "floor p95": p95(f.wall),
        }
    win.close()
    floor_win.close()  # type: ignore[attr-defined]
    store.close()
    return out


# --- table -----------------------------------------------------------------------------------


def worst_size(results: dict[int, dict[str, Any]], view: str) -> int:
    """The size whose slowest measure of ``view`` is furthest above its floor (the ratio drifts
    less than the wall time between sizes, each measured minutes apart in its own process)."""

    def ratio(size: int) -> float:
        measures = results[size]["measures"]
        return max(m["median"] / max(m["floor median"], 1e-9) for k, m in measures.items() if k.endswith(view))

    return max(results, key=ratio)


def sizes_between_worst(results: dict[int, dict[str, Any]]) -> list[int]:
    """For the full view and the one-year view each: sizes half-way (geometrically) between its
    worst density and the sizes measured on either side of it, not yet measured and at least 15%
    from both. The half-decade sweep can step over the density where one more lane tips into
    being drawn item by item, and the two views tip at different densities."""
    sizes = sorted(results)
    out: set[int] = set()
    for view, _days in VIEWS:
        i = sizes.index(worst_size(results, view))
        for j in (i - 1, i + 1):
            if 0 <= j < len(sizes):
                lo, hi = sorted((sizes[i], sizes[j]))
                mid = int(round((lo * hi) ** 0.5, -2 if lo < 10_000 else -3))
                if mid > lo * 1.15 and mid * 1.15 < hi:
                    out.add(mid)
    return sorted(out)


def table(results: dict[int, dict[str, Any]], loads: list[float]) -> str:
    load = f", load average {min(loads):.1f}–{max(loads):.1f} over the run" if loads else ""
    first = next(iter(results.values()))
    lines = [
        f"Machine: {machine().replace(', offscreen', '')}{load}",
        f"Real X display (Xvfb {SCREEN} + openbox, Qt platform {first['platform']}); plot "
        f"{first['plot'][0]}×{first['plot'][1]}; budget {FRAME_BUDGET_MS} ms.",
        "",
        "| N | dated records | view | items drawn / in bins | measure | median | p95 | cpu | floor median / p95 "
        "| × floor | verdict (p95) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    worst: tuple[float, int, str] = (-1.0, 0, "")
    worst_ratio: tuple[float, int, str] = (-1.0, 0, "")
    for size, res in sorted(results.items()):
        for name, m in res["measures"].items():
            kind, view = name.split(", ", 1)
            drawn, binned = res["shown"][view]
            verdict = "met" if m["p95"] <= FRAME_BUDGET_MS else "NOT met"
            ratio = m["median"] / max(m["floor median"], 1e-9)
            n = f"{size:.0e}".replace("+0", "") if float(f"{size:.0e}") == size else f"{size:,}"
            lines.append(
                f"| {n} | {res['records']:,} | {view} | {drawn:,} / {binned:,} | {kind} | {m['median']:.1f} ms "
                f"| {m['p95']:.1f} ms | {m['cpu']:.1f} ms | {m['floor median']:.1f} / {m['floor p95']:.1f} ms "
                f"| {ratio:.2f} | {verdict} |"
            )
            worst = max(worst, (m["median"], size, name))
            worst_ratio = max(worst_ratio, (ratio, size, name))
    lines += [
        "",
        f"Worst density (highest median frame): N = {worst[1]:,}, {worst[2]}: {worst[0]:.1f} ms.",
        # the machine's speed drifts between sizes (each runs in its own process, minutes apart);
        # the ratio to the floor timed beside it in the same process drifts less
        f"Worst against its floor (median / floor median): N = {worst_ratio[1]:,}, {worst_ratio[2]}: "
        f"{worst_ratio[0]:.2f}×.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=parse_sizes, default=parse_sizes("1e3,3e3,1e4,3e4,1e5,3e5,1e6"))
    parser.add_argument("--runs", type=int, default=30, help="frames per measure and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (floor and timeline alternate)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "explorer-bench")
    parser.add_argument("--display", help="an X display to use instead of starting Xvfb + openbox")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--profile", help="with --child: cProfile this measure (e.g. 'pan, full view') instead")
    parser.add_argument("--one-way", action="store_true", help="also pans and zooms that keep going one way")
    parser.add_argument(
        "--refine", type=int, default=3, help="rounds of sizes measured between the worst density and its neighbours"
    )
    args = parser.parse_args(argv)
    if args.child:
        result = child(args.child, args.runs, args.rounds, args.profile, args.one_way)
        print("RESULT " + json.dumps(result), flush=True)
        return 0
    if args.display is None and shutil.which("Xvfb") is None:
        print("needs Xvfb and openbox (Debian: xvfb openbox) or --display", file=sys.stderr)
        return 2
    dbs = {size: database_for(size, args.cache) for size in args.sizes}  # generate first, measure quiet
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a stopped run still stops its X server
    display, procs = (args.display, []) if args.display else start_display()
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "QT_SCALE_FACTOR")}
    env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb")
    results: dict[int, dict[str, Any]] = {}
    loads: list[float] = []

    def measure(size: int, db: Path) -> bool:
        loads.append(os.getloadavg()[0])
        print(f"measuring N={size:,} …", flush=True)
        cmd = [sys.executable, __file__, "--child", str(db), "--runs", str(args.runs), "--rounds", str(args.rounds)]
        cmd += ["--one-way"] if args.one_way else []
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
        if line is None:
            print(proc.stdout[-3000:], proc.stderr[-3000:], file=sys.stderr)
            return False
        results[size] = json.loads(line[len("RESULT ") :])
        loads.append(os.getloadavg()[0])
        if args.json:
            args.json.write_text(json.dumps({"results": results, "machine": machine(), "loads": loads}))
        return True

    try:
        for size, db in dbs.items():
            if not measure(size, db):
                return 1
        for _ in range(args.refine):
            between = sizes_between_worst(results)
            if not between:
                break
            print(f"refining around the worst density: N = {', '.join(f'{n:,}' for n in between)}", flush=True)
            for size in between:
                if not measure(size, database_for(size, args.cache)):
                    return 1
    finally:
        stop(procs)
    text = table(results, loads)
    print(text)
    if args.json:
        args.json.write_text(json.dumps({"results": results, "machine": machine(), "loads": loads, "table": text}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
