"""Cold start only: the app's first painted window with data against the bare-window floor.

    python benchmarks/cold_start.py [DB ...] [--runs 7] [--explain]

Without a DB it measures the demo database. It uses the floor and probe scripts of
``benchmarks/run.py`` (so the figures agree with the full table), runs floor and app alternately
(the machine is shared: alternating spreads the noise over both) and prints medians of the wall
time to the first painted window and of the process's CPU time, each with its ratio to the floor
of the same run. CPU time is the steadier figure while other work shares the cores.

Each database is copied to a temporary folder first: the probe opens it writable, and cached
benchmark files must not change. ``--explain`` also shows where the time beyond the floor goes:
the modules imported beyond the floor's (self time per package, ``python -X importtime``) and the
phases and store calls of one start-up.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import FLOOR_SCRIPT, ROOT, demo_database, startup_probe

IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)")

# The probe's steps, timed one by one, with every store call the start-up makes.
EXPLAIN_SCRIPT = """
import functools, os, sys, time
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
sys.path.insert(0, {root!r})
T = time.perf_counter
t0 = T()
from explorer.app import _import_before_qt
_import_before_qt()  # as explorer.app.main
from PySide6.QtWidgets import QApplication
from explorer.state import AppState
from explorer.store import Store, open_store
from explorer.views.main_window import MainWindow
t_imports = T()
calls = []

def timed(name, method):
    @functools.wraps(method)
    def call(*args, **kwargs):
        start = T()
        try:
            return method(*args, **kwargs)
        finally:
            calls.append((name, (T() - start) * 1000))
    return call

for name, method in list(vars(Store).items()):
    if callable(method) and not name.startswith("_") and name not in ("read", "write"):
        setattr(Store, name, timed(name, method))
app = QApplication(sys.argv[:1])
store = open_store({db!r})
t_open = T()
state = AppState(store)
win = MainWindow(state)
t_window = T()
win.show()
app.processEvents()
tl = win.timeline
if hasattr(tl, "wait_idle"):
    tl.wait_idle()
win.repaint()
t_painted = T()
ms = lambda a, b: f"{{(b - a) * 1000:.0f}} ms"
print(f"  phases: imports {{ms(t0, t_imports)}}, open_store {{ms(t_imports, t_open)}}, "
      f"AppState + MainWindow {{ms(t_open, t_window)}}, show + first paint {{ms(t_window, t_painted)}}")
print("  store calls: " + ", ".join(f"{{name}} {{took:.0f}} ms" for name, took in calls))
"""


def copy_database(source: Path, folder: Path) -> Path:
    """A private copy (SQLite's backup API: consistent even while the source is open in WAL mode)."""
    dest = folder / source.name
    src = sqlite3.connect(f"file:{source.resolve()}?mode=ro", uri=True)
    try:
        out = sqlite3.connect(dest)
        try:
            src.backup(out)
        finally:
            out.close()
    finally:
        src.close()
    return dest


def run_once(script: str, env: dict[str, str]) -> tuple[float, float]:
    """(ms from launch to PAINTED, CPU ms of the whole process)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=600)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000
    for line in proc.stdout.splitlines():
        if line.startswith("PAINTED"):
            return (float(line.split()[1]) - t0) * 1000, cpu
    raise RuntimeError(f"cold start failed: {proc.stderr[-2000:]}")


def import_self_times(script: str, env: dict[str, str]) -> dict[str, int]:
    """Module → self time (µs) of one run under ``python -X importtime``."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", script], capture_output=True, text=True, env=env, timeout=600
    )
    return {m.group(3): int(m.group(1)) for m in IMPORT_LINE.finditer(proc.stderr)}


def explain(db: Path, env: dict[str, str]) -> None:
    floor = import_self_times(FLOOR_SCRIPT, env)
    app = import_self_times(startup_probe(db), env)
    by_package: dict[str, int] = {}
    for module, us in app.items():
        if module not in floor:
            package = module.split(".")[0] if not module.startswith("explorer.") else ".".join(module.split(".")[:2])
            by_package[package] = by_package.get(package, 0) + us
    extra = [m for m in app if m not in floor]
    print(f"  imports beyond the floor's: {len(extra)} modules, {sum(by_package.values()) / 1000:.0f} ms self time")
    for package, us in sorted(by_package.items(), key=lambda kv: -kv[1])[:12]:
        print(f"    {us / 1000:6.1f} ms  {package}")
    proc = subprocess.run(
        [sys.executable, "-c", EXPLAIN_SCRIPT.format(root=str(ROOT), db=str(db))],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    print(proc.stdout.rstrip() or proc.stderr[-2000:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("databases", type=Path, nargs="*", help="database files (default: the demo database)")
    parser.add_argument("--runs", type=int, default=7, help="runs of each (medians are printed)")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "explorer-bench",
        help="where the demo database is built (as in run.py)",
    )
    parser.add_argument("--explain", action="store_true", help="also show imports, phases and store calls")
    parser.add_argument(
        "--like-for-like", action="store_true", help="start the app with the collector on throughout, as the floor runs"
    )
    args = parser.parse_args(argv)
    if not args.databases:
        args.cache.mkdir(parents=True, exist_ok=True)
        args.databases = [demo_database(args.cache)]
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for source in args.databases:
            data_dir = Path(work) / f"data-{source.stem}"
            data_dir.mkdir()
            env = dict(os.environ, EXPLORER_DATA_DIR=str(data_dir), QT_QPA_PLATFORM="offscreen")
            # An installed app has its bytecode (pip and the bundle compile it): with this set, as in
            # some shells, every run would compile the app's own modules again (~30 ms of CPU)
            # while the floor's site-packages come precompiled.
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            db = copy_database(source, Path(work))
            probe = startup_probe(db, like_for_like=args.like_for_like)
            run_once(probe, env)  # warms the OS file cache and writes the bytecode caches
            run_once(FLOOR_SCRIPT, env)
            floor: list[tuple[float, float]] = []
            app: list[tuple[float, float]] = []
            for _ in range(args.runs):
                floor.append(run_once(FLOOR_SCRIPT, env))
                app.append(run_once(probe, env))
            medians = [statistics.median(x[i] for x in series) for series in (app, floor) for i in (0, 1)]
            rows.append((source.name, *medians))
            print(
                f"{source.name}: app {medians[0]:.0f} ms, floor {medians[2]:.0f} ms, "
                f"{medians[0] / medians[2]:.2f}× (CPU {medians[1] / medians[3]:.2f}×)",
                flush=True,
            )
            if args.explain:
                explain(db, env)
            db.unlink()
    print("\n| database | app | floor | ratio | app CPU | floor CPU | CPU ratio |")
    print("|---|---|---|---|---|---|---|")
    for name, app_wall, app_cpu, floor_wall, floor_cpu in rows:
        print(
            f"| {name} | {app_wall:.0f} ms | {floor_wall:.0f} ms | {app_wall / floor_wall:.2f}× "
            f"| {app_cpu:.0f} ms | {floor_cpu:.0f} ms | {app_cpu / floor_cpu:.2f}× |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
