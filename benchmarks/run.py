"""Benchmarks at several sizes: one command, a table of medians and ratios to floors measured in the same run.

    python benchmarks/run.py --sizes 1e3,1e4,1e5,1e6 [--runs 5] [--cache /tmp/explorer-bench] [--json out.json]

Generated databases are cached (``--cache``, keyed by size and seed) so later runs skip the
generator (1e6 takes about two minutes to generate the first time). Each size is measured in
its own process (offscreen Qt) so peak memory is per size; cold starts are separate processes.
Budgets are those of issue 7 at N = 1e6; the last column says whether the figure meets them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

SEED = 7
FRAME_BUDGET_MS = 16.7
ZOOMED_IN = (19000.0, 19730.0)  # days: about two years around the densest period of the synthetic data
# name: (budget, unit) — checked at every size, required at 1e6
BUDGETS: dict[str, tuple[float, str]] = {
    "timeline pan, full view": (FRAME_BUDGET_MS, "ms"),
    "timeline zoom, full view": (FRAME_BUDGET_MS, "ms"),
    "timeline repaint, full view": (FRAME_BUDGET_MS, "ms"),
    "timeline pan, zoomed in": (FRAME_BUDGET_MS, "ms"),
    "timeline zoom, zoomed in": (FRAME_BUDGET_MS, "ms"),
    "timeline repaint, zoomed in": (FRAME_BUDGET_MS, "ms"),
    "linked selection (tree click → all painted)": (50.0, "ms"),
    "tree filter-as-you-type, per keystroke: longest GUI-thread hold": (50.0, "ms"),
    "search across all views: longest GUI-thread hold": (50.0, "ms"),
    "find anything: result list shown": (50.0, "ms"),
    "find anything: slowest query": (50.0, "ms"),
    "load timeline columns / raw sqlite3": (2.0, "×"),
    "peak RSS": (600.0, "MB"),
}
COLD_BUDGET = {"demo": 1.2, "synthetic": 2.0}


# --- databases --------------------------------------------------------------------------


def database_for(size: int, cache: Path) -> Path:
    from explorer.store import migrate

    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"synth-{size}-s{SEED}-{migrate.head_revision()}.sqlite"
    if not path.exists():
        from synth import generate  # benchmarks/ is on sys.path when run as a script

        tmp = path.with_suffix(".partial")
        tmp.unlink(missing_ok=True)
        print(f"generating {size:,} records into {path} …", flush=True)
        generate(tmp, size, SEED, log=None)
        tmp.rename(path)
    return path


def demo_database(cache: Path) -> Path:
    from explorer.store import migrate
    from explorer.store.demo import build_demo_database

    path = cache / f"demo-{migrate.head_revision()}.sqlite"
    if not path.exists():
        build_demo_database(path, ROOT / "data" / "demo.yaml")
    return path


# --- timing helpers ---------------------------------------------------------------------


def timed(fn: Callable[[], Any], runs: int, setup: Callable[[], Any] | None = None) -> list[float]:
    """Milliseconds of ``fn`` over ``runs`` runs (``setup`` untimed before each)."""
    out = []
    for _ in range(runs):
        if setup is not None:
            setup()
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- cold start (separate processes) -------------------------------------------------------

FLOOR_SCRIPT = """
import os, sys, time
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
import pyqtgraph as pg, sqlmodel  # noqa
from PySide6.QtWidgets import QApplication, QFormLayout, QLineEdit, QMainWindow, QSplitter, QTreeView, QWidget
app = QApplication(sys.argv)
win = QMainWindow()
split = QSplitter()
split.addWidget(QTreeView())
split.addWidget(pg.PlotWidget())
form = QWidget(); lay = QFormLayout(form); lay.addRow("Title", QLineEdit())
split.addWidget(form)
win.setCentralWidget(split)
win.resize(1600, 960)
win.show()
app.processEvents()
win.repaint()
print("PAINTED", time.time(), flush=True)
"""

# The app's own start: explorer.app.main with a database, up to its first painted window with
# data (QApplication.exec is replaced, when the app imports Qt, by "wait for data, paint, report,
# return"; the app's import order and everything main does before its event loop are kept).
# {collector} is empty, or for the like-for-like figure against the floor (which runs with
# Python's collector on) a line keeping main from pausing the collector during start-up.
STARTUP_PROBE = """
import importlib.abc, importlib.util, os, sys, time
{collector}
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, {root!r})


def first_paint_then_quit(*_args):
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance()
    app.processEvents()
    win = next(w for w in app.topLevelWidgets() if type(w).__name__ == "MainWindow")
    while not len(win.timeline.model.data):  # large data arrives from the background: its first part
        app.processEvents()
        time.sleep(0.002)
    win.repaint()
    print("PAINTED", time.time(), flush=True)
    win.state.wait_idle()
    win.repaint()
    print("LOADED", time.time(), len(win.timeline.model.data), flush=True)
    return 0


class ExecStopsAtFirstPaint(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "PySide6.QtWidgets":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            module.QApplication.exec = first_paint_then_quit
        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, ExecStopsAtFirstPaint())
from explorer.app import main
sys.exit(main(["--db", {db!r}]))
"""


def cold_start(script: str, env: dict[str, str]) -> tuple[float, float]:
    """(ms to the first painted window with data, ms until every record is loaded)."""
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=600)
    marks = {
        line.split()[0]: float(line.split()[1])
        for line in proc.stdout.splitlines()
        if line.startswith(("PAINTED", "LOADED"))
    }
    if "PAINTED" not in marks:
        raise RuntimeError(f"cold start failed: {proc.stderr[-2000:]}")
    return (marks["PAINTED"] - t0) * 1000, (marks.get("LOADED", marks["PAINTED"]) - t0) * 1000


COLLECTOR_KEPT_ON = "import gc; gc.disable = lambda: None  # the floor runs with the collector on"


def startup_probe(db: Path, *, like_for_like: bool = False) -> str:
    return STARTUP_PROBE.format(root=str(ROOT), db=str(db), collector=COLLECTOR_KEPT_ON if like_for_like else "")


def measure_cold(db: Path, runs: int) -> tuple[float, float, float, float]:
    """Medians: ms to the first painted window with data, ms of the bare-window floor, ms until
    everything is loaded (large data keeps loading in the background after the first paint),
    and ms to the first paint with the collector left on, as the floor has it."""
    with tempfile.TemporaryDirectory() as data_dir:
        env = dict(os.environ, EXPLORER_DATA_DIR=data_dir)
        # An installed app has its bytecode; without it every run would compile the app anew.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        probe, plain = startup_probe(db), startup_probe(db, like_for_like=True)
        cold_start(probe, env)  # first run warms the OS file cache and writes settings
        floor, app, loaded, collected = [], [], [], []
        for _ in range(runs):
            floor.append(cold_start(FLOOR_SCRIPT, env)[0])
            painted, done = cold_start(probe, env)
            app.append(painted)
            loaded.append(done)
            collected.append(cold_start(plain, env)[0])
    return (statistics.median(app), statistics.median(floor), statistics.median(loaded), statistics.median(collected))


# --- in-process measurements (one child process per size) --------------------------------


def raw_timeline_rows(db: Path) -> int:
    """The floor for loading: the same SELECTs through plain sqlite3, rows fetched as tuples."""
    from explorer.store import open_store, queries

    store = open_store(db, read_only=True)
    try:
        with store.engine.connect() as conn:
            statements = []
            for name, query in queries._timeline_selects().items():
                table = queries._table(name)
                compiled = query.where(table.c.start_day.is_not(None)).compile(
                    dialect=conn.dialect, compile_kwargs={"render_postcompile": True}
                )
                params = compiled.construct_params()
                statements.append((str(compiled), tuple(params[k] for k in compiled.positiontup or ())))
    finally:
        store.close()
    raw = sqlite3.connect(db)
    try:
        return sum(len(raw.execute(sql, args).fetchall()) for sql, args in statements)
    finally:
        raw.close()


def child(db: Path, runs: int) -> dict[str, Any]:
    from PySide6.QtCore import QItemSelectionModel
    from PySide6.QtWidgets import QApplication

    from explorer.itemmodels.sector_tree import SectorTreeModel
    from explorer.state import AppState, RecordRef
    from explorer.store import open_store
    from explorer.views.main_window import MainWindow

    res: dict[str, list[float]] = {}
    tmp_data = tempfile.mkdtemp()
    os.environ["EXPLORER_DATA_DIR"] = tmp_data
    app = QApplication.instance() or QApplication([])

    # loading: raw sqlite3 against the store's numpy columns (alternating, warm cache)
    raw_timeline_rows(db)
    store = open_store(db)
    store.timeline()
    raw_ms, load_ms = [], []
    for _ in range(runs):
        raw_ms += timed(lambda: raw_timeline_rows(db), 1)
        load_ms += timed(store.timeline, 1)
    res["load timeline columns (store)"] = load_ms
    res["load timeline columns (raw sqlite3 floor)"] = raw_ms
    n_records = len(store.timeline())

    state = AppState(store)
    res["tree model build"] = timed(lambda: SectorTreeModel(store), runs)
    win = MainWindow(state)
    win.resize(1600, 960)
    win.show()
    app.processEvents()
    tl, tree_view = win.timeline, win.tree_view
    state.wait_idle()  # large data loads in the background
    app.processEvents()

    def settle() -> None:
        app.processEvents()
        state.wait_idle()
        app.processEvents()

    def responsive(action: Callable[[], Any], paint: Callable[[], Any]) -> tuple[float, float]:
        """(ms until every view shows the result, longest ms the GUI thread was held at a
        stretch: by the action itself, or by installing and painting what the background found)."""
        t0 = time.perf_counter()
        action()
        longest = time.perf_counter() - t0
        while True:
            a = time.perf_counter()
            app.processEvents()
            held = time.perf_counter() - a
            if not state.busy:
                b = time.perf_counter()
                paint()
                held += time.perf_counter() - b
                longest = max(longest, held)
                break
            longest = max(longest, held)
            time.sleep(0.001)
        return (time.perf_counter() - t0) * 1000, longest * 1000

    def paint_timeline() -> None:
        tl.plot.viewport().repaint()

    def paint_all() -> None:
        settle()
        tl.plot.viewport().repaint()
        tree_view.tree.viewport().repaint()
        win.detail.repaint()

    # timeline frames: full view, then about two years around the densest period
    for label, setup in (("full view", tl.fit_all), ("zoomed in", lambda: tl.set_view_range(*ZOOMED_IN))):
        setup()
        paint_timeline()
        a, b = tl.view_range()
        span = b - a
        shifts = [span * 0.02 * (1 if k % 2 == 0 else -1) for k in range(runs * 4)]
        it = iter(shifts)

        def pan(it=it) -> None:
            d = next(it)
            x0, x1 = tl.view_range()
            tl.set_view_range(x0 + d, x1 + d)
            paint_timeline()

        factors = iter([0.9, 1 / 0.9] * (runs * 2))

        def zoom(factors=factors) -> None:
            tl._zoom(next(factors))
            paint_timeline()

        res[f"timeline pan, {label}"] = timed(pan, runs * 4)
        setup()
        res[f"timeline zoom, {label}"] = timed(zoom, runs * 4)
        setup()
        res[f"timeline repaint, {label}"] = timed(paint_timeline, runs * 4)
    tl.fit_all()

    # tree: expand the biggest sector, select + scroll to a deep deal
    model = tree_view.model
    sectors = [model.index(r, 0) for r in range(model.rowCount())]
    subs = [model.index(r, 0, s) for s in sectors for r in range(model.rowCount(s))]
    if not subs:
        model.fetchMore(sectors[0])
        subs = [sectors[0]]
    biggest = max(subs, key=lambda i: model.node(i).deal_count or 0)
    big_id = model.node(biggest).record_id

    def expand() -> None:
        index = tree_view.index_of(RecordRef("sector", big_id))
        tree_view.tree.expand(index)
        app.processEvents()  # the view lays out (and fetches) the opened branch here
        tree_view.tree.viewport().repaint()

    def collapse_and_reload() -> None:
        model.reload()
        settle()

    res["tree expand the biggest sector"] = timed(expand, runs, setup=collapse_and_reload)
    with store.engine.connect() as conn:
        deep = [
            int(r[0])
            for r in conn.execute(
                sa.text(
                    "SELECT d.id FROM deal d JOIN dealorganisation o ON o.deal_id = d.id "
                    "WHERE d.sector_id = :s ORDER BY d.id DESC LIMIT :n"
                ),
                {"s": big_id, "n": runs * 2},
            )
        ]
    deep_iter = iter(deep * 2)
    res["tree select + scroll to a deep deal"] = timed(
        lambda: (state.select(RecordRef("deal", next(deep_iter))), paint_all()), runs
    )

    # linked selection: click a deal row in the tree → timeline, tree and detail painted
    tree_view.tree.expand(tree_view.index_of(RecordRef("sector", big_id)))
    settle()
    org_index = model.index(0, 0, tree_view.index_of(RecordRef("sector", big_id)))
    model.ensure_fetched(model.node(org_index))
    tree_view.tree.expand(org_index)
    settle()
    rows = [model.index(r, 0, org_index) for r in range(min(model.rowCount(org_index), runs * 2))]
    rows = rows or [org_index]
    row_iter = iter(rows * 4)

    def click_row() -> None:
        index = next(row_iter)
        tree_view.tree.selectionModel().select(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        )
        paint_all()

    res["linked selection (tree click → all painted)"] = timed(click_row, runs * 2)
    state.select([])
    settle()

    # filter-as-you-type in the tree box; search in the main search field (all views)
    def paint_views() -> None:
        tl.plot.viewport().repaint()
        tree_view.tree.viewport().repaint()
        win.detail.repaint()

    def measure(name: str, actions: list[Callable[[], Any]], setup: Callable[[], Any] | None = None) -> None:
        shown, held = [], []
        for action in actions:
            if setup is not None:
                setup()
            total, longest = responsive(action, paint_views)
            shown.append(total)
            held.append(longest)
        res[f"{name}: longest GUI-thread hold"] = held
        res[f"{name}: until all views show it"] = shown

    word = "Sumida Steel"
    edit = tree_view.filter_edit

    def type_prefix(k: int) -> Callable[[], None]:
        return lambda: (edit.setText(word[:k]), tree_view.apply_pending_filter())

    def clear_tree_filter() -> None:
        edit.clear()
        tree_view.apply_pending_filter()
        settle()

    keystrokes = []
    for _ in range(max(1, runs // 2)):
        keystrokes += [type_prefix(k) for k in range(1, len(word) + 1)]
    measure("tree filter-as-you-type, per keystroke", keystrokes, setup=lambda: None)
    clear_tree_filter()

    queries_ = ["Sumida Steel 12", "Kaveri Rail", "Hydrogen plant", "Osaka"]

    def search_for(text: str) -> Callable[[], None]:
        return lambda: (win.search_edit.setText(text), win.apply_search())

    def clear_search() -> None:
        win.search_edit.clear()
        win.apply_search()
        settle()

    measure("search across all views", [search_for(q) for q in (queries_ * runs)[: max(runs, 4)]], setup=clear_search)
    clear_search()
    q_iter = iter(queries_ * runs)
    res["search in the store only"] = timed(lambda: store.search(next(q_iter)), runs)

    # find anything (Ctrl+K): from the text to the result list painted, on the GUI thread
    finds = [*queries_, "Ma", "plant", "Sumida", "zzqx"]
    f_iter = iter(finds * runs)

    def find_next() -> None:
        win.search_edit.setText(next(f_iter))
        win.find.refresh()
        win.find.popup.repaint()

    res["find anything: result list shown"] = timed(find_next, max(runs, 2) * len(finds))
    res["find anything: slowest query"] = [max(res["find anything: result list shown"])]
    win.find.popup.hide()
    win.search_edit.clear()

    # a sector filter from the combo (all views)
    combo = win.sector_combo
    target = combo.findData(big_id)

    def clear_sector() -> None:
        combo.setCurrentIndex(0)
        settle()

    measure("sector filter across all views", [lambda: combo.setCurrentIndex(target)] * runs, setup=clear_sector)
    clear_sector()

    def set_sector() -> None:
        combo.setCurrentIndex(target)
        settle()

    measure("clearing the sector filter (all views)", [lambda: combo.setCurrentIndex(0)] * runs, setup=set_sector)

    # a form edit: open the selected organisation's form, rename it, save; every view updated
    if not store.read_only:
        win.editing.modal = False
        orgs = store.list_records("organisation")
        picks = iter(orgs[len(orgs) // 3 :: max(1, len(orgs) // 20)])
        opened, saved, undone = [], [], []
        for _ in range(runs):
            org_id, name = next(picks)
            state.select(RecordRef("organisation", org_id))
            settle()
            t0 = time.perf_counter()
            form = win.editing.edit_current()
            assert form is not None
            form.show()
            app.processEvents()
            opened.append((time.perf_counter() - t0) * 1000)
            editor = form.editors["name"].focus_widget()
            editor.setText(name + " (renamed)")

            def save(form: Any = form) -> None:
                form.save_button.click()

            total, _held = responsive(save, paint_views)
            saved.append(total)
            assert store.get("organisation", org_id).name == name + " (renamed)"
            assert name + " (renamed)" in win.detail.plain_text()
            # undo, so the cached database stays as generated
            total, _held = responsive(win.editing.ops.undo_stack.undo, paint_views)
            undone.append(total)
            assert store.get("organisation", org_id).name == name
        res["form edit: open the form"] = opened
        res["form edit: save until all views show it"] = saved
        res["form edit: undo until all views show it"] = undone

    out: dict[str, Any] = {k: statistics.median(v) for k, v in res.items()}
    out["records"] = n_records
    out["peak RSS"] = peak_rss_mb()
    out["load timeline columns / raw sqlite3"] = statistics.median(
        [a / b for a, b in zip(load_ms, raw_ms, strict=True)]
    )
    win.close()
    # Closing checkpoints the write-ahead log the form edits left: the cached database is then
    # one self-contained file again (copying it without its -wal would give a corrupt copy).
    state.wait_idle()
    store.close()
    shutil.rmtree(tmp_data, ignore_errors=True)
    return out


# --- table ---------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{platform.platform()}, {os.cpu_count()} cores ({cpu}){mem}, Python {platform.python_version()}, offscreen"


def fmt(value: float, unit: str) -> str:
    if unit == "×":
        return f"{value:.2f}×"
    if unit == "MB":
        return f"{value:.0f} MB"
    return f"{value:.1f} ms"


def verdict(name: str, value: float) -> str:
    budget = BUDGETS.get(name)
    if budget is None:
        return ""
    limit, unit = budget
    return f"{'met' if value <= limit else 'NOT met'} (≤ {fmt(limit, unit)})"


def print_table(sizes: list[int], results: dict[int, dict[str, Any]], cold: dict[str, tuple[float, ...]]) -> str:
    lines = [f"Machine: {machine()}", ""]
    header = "| measure | " + " | ".join(f"N={s:.0e}".replace("+0", "") for s in sizes) + " | budget at largest N |"
    lines += [header, "|" + "---|" * (len(sizes) + 2)]
    names: list[str] = []
    for s in sizes:
        for k in results[s]:
            if k not in names and k != "records":
                names.append(k)
    lines.append("| dated records loaded | " + " | ".join(f"{results[s]['records']:,}" for s in sizes) + " | |")
    for name in names:
        unit = "×" if "/" in name and "raw" in name else ("MB" if name == "peak RSS" else "ms")
        cells = [fmt(results[s][name], unit) if name in results[s] else "" for s in sizes]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {verdict(name, results[sizes[-1]].get(name, 0))} |")
    lines += [
        "",
        "| cold start to first painted window with data | median | floor (bare window) | ratio | budget |",
        "|---|---|---|---|---|",
    ]
    lines[-2] = lines[-2].replace(" | budget |", " | budget | every record loaded | collector on, as the floor |")
    lines[-1] += "---|---|"
    for label, (app_ms, floor_ms, *rest) in cold.items():
        kind = "demo" if label == "demo" else "synthetic"
        ratio = app_ms / floor_ms
        ok = "met" if ratio <= COLD_BUDGET[kind] else "NOT met"
        budget = f"{ok} (≤ {COLD_BUDGET[kind]}×)"
        done = f"{rest[0]:.0f} ms" if rest else ""
        plain = f"{rest[1]:.0f} ms, {rest[1] / floor_ms:.2f}×" if len(rest) > 1 else ""
        lines.append(f"| {label} | {app_ms:.0f} ms | {floor_ms:.0f} ms | {ratio:.2f}× | {budget} | {done} | {plain} |")
    text = "\n".join(lines)
    print(text)
    return text


def parse_sizes(text: str) -> list[int]:
    return [int(float(x)) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=parse_sizes, default=parse_sizes("1e3,1e4,1e5,1e6"))
    parser.add_argument("--runs", type=int, default=5, help="runs per measure (medians are printed)")
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "explorer-bench")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print("RESULT " + json.dumps(child(args.child, args.runs)), flush=True)
        return 0
    results: dict[int, dict[str, Any]] = {}
    cold: dict[str, tuple[float, ...]] = {}
    demo = demo_database(args.cache)
    cold["demo"] = measure_cold(demo, args.cold_runs)
    for size in args.sizes:
        db = database_for(size, args.cache)
        print(f"measuring N={size:,} …", flush=True)
        proc = subprocess.run(
            [sys.executable, __file__, "--child", str(db), "--runs", str(args.runs)],
            capture_output=True,
            text=True,
            timeout=3600,
        )
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
        if line is None:
            print(proc.stdout[-3000:], proc.stderr[-3000:], file=sys.stderr)
            return 1
        results[size] = json.loads(line[len("RESULT ") :])
        cold[f"N={size:,}"] = measure_cold(db, args.cold_runs)
        if args.json:  # written after each size, so a long run keeps what it measured
            args.json.write_text(json.dumps({"results": results, "cold": cold, "machine": machine()}))
    text = print_table(args.sizes, results, cold)
    if args.json:
        args.json.write_text(json.dumps({"results": results, "cold": cold, "machine": machine(), "table": text}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
