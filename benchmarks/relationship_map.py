"""The relationship map at scale: ego network ready, frame time while dragging and zooming, and
the GUI thread's longest hold while a map is read and laid out.

    python benchmarks/relationship_map.py DATABASE [DATABASE …] [--runs 5]

Each DATABASE (a synthetic one: benchmarks/synth.py) is opened read-only. For a record of each
type (the busiest sector, organisation, country, source and place, and a deal, an event, a
pledge) it measures:

- ego on screen: what the map shows at once — the records one link away (capped, grouped), on
  rings, labels placed — budget 100 ms, beside a floor from the same run (raw sqlite3 reading the
  busiest sector's first 60 deal ids by index); then the second link (reported, background);
- layout: the layout of that network, rustworkx's spring layout in the layout's worker process
  (reported, no budget; the first layout of a run, timed apart, includes starting the worker);
- frames: one repaint of the map while a node is dragged and while the view zooms, the largest
  map of the run — budget 16.7 ms — beside the floor of repainting an empty map;
- GUI hold: the longest gap between timer ticks on the GUI thread while the view reads and lays
  out a map in the background — budget 50 ms — beside the same gap measured idle.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

EGO_BUDGET_MS = 100.0
FRAME_BUDGET_MS = 16.7
HOLD_BUDGET_MS = 50.0


def timed(fn: Callable[[], Any], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000.0)
    return out


def busiest(raw: sqlite3.Connection, table: str, column: str) -> int:
    row = raw.execute(
        f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL GROUP BY {column} ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()
    return int(row[0])


def roots_of(raw: sqlite3.Connection) -> list[tuple[str, int]]:
    return [
        ("sector", busiest(raw, "deal", "sector_id")),
        ("organisation", busiest(raw, "dealorganisation", "organisation_id")),
        ("country", busiest(raw, "organisation", "country_id")),
        ("source", busiest(raw, "citation", "source_id")),
        ("place", busiest(raw, "deal", "place_id")),
        ("deal", int(raw.execute("SELECT max(id) / 2 FROM deal").fetchone()[0])),
        ("event", busiest(raw, "deal", "event_id")),
        ("pledge", busiest(raw, "deal", "pledge_id")),
    ]


def gui_hold(app: Any, action: Callable[[], None], done: Callable[[], bool], timeout_s: float = 60.0) -> float:
    """The longest gap (ms) between 2 ms timer ticks on the GUI thread until ``done()``."""
    from PySide6.QtCore import QTimer

    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(2)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    started = time.perf_counter()
    ticks.append(started)
    action()
    while not done() and time.perf_counter() - started < timeout_s:
        app.processEvents()
        time.sleep(0.0005)
    app.processEvents()
    timer.stop()
    ticks.append(time.perf_counter())
    return max(b - a for a, b in itertools.pairwise(ticks)) * 1000.0


def measure(path: Path, runs: int) -> dict[str, Any]:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from PySide6.QtGui import QFont, QFontMetricsF

    from explorer.graph import model as gm
    from explorer.graph.layout import layout, radial
    from explorer.graph.reader import reading
    from explorer.graph.scene import MapScene
    from explorer.state import AppState, RecordRef
    from explorer.store import open_store
    from explorer.views.relationship_map import RelationshipMapView, plan_labels

    metrics = QFontMetricsF(QFont())

    store = open_store(str(path), read_only=True)
    raw = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    size = store.size_estimate()
    roots = roots_of(raw)
    sector = roots[0][1]
    floor = timed(lambda: raw.execute("SELECT id FROM deal WHERE sector_id = ? LIMIT 60", (sector,)).fetchall(), runs)
    print(
        f"{path.name}: ~{size:,} records; floor (raw sqlite3, 60 deal ids of a sector): "
        f"median {statistics.median(floor):.2f} ms"
    )
    result: dict[str, Any] = {"size": size, "floor_ms": statistics.median(floor), "ego": {}, "layout": {}}
    # The worker process starts with the first layout of the run (later databases find it running).
    started = time.perf_counter()
    layout([("deal", 1), ("deal", 2)], [(("deal", 1), ("deal", 2), 1.0)])
    result["first_layout_ms"] = (time.perf_counter() - started) * 1000.0
    print(f"  first layout (2 nodes; starts the worker if not running): {result['first_layout_ms']:.0f} ms")
    biggest: tuple[int, tuple[str, int]] = (0, roots[0])
    for ref in roots:

        def read(ref: tuple[str, int] = ref) -> gm.Graph:
            with reading(store) as reader:
                return gm.ego(reader, [ref])

        def first_picture(ref: tuple[str, int] = ref) -> None:
            # what the view shows at once: one link away, on rings, its labels placed
            with reading(store) as reader:
                near = gm.ego(reader, [ref], 1)
            seed = radial(list(near.nodes), near.roots, [(e.a, e.b, 1.0) for e in near.edges])
            scene = MapScene(near, seed)
            plan_labels(scene, scene.fit(1600.0, 420.0), metrics, frozenset([ref]), set(near.nodes))

        graph = read()
        ego = timed(first_picture, runs)
        two = timed(read, runs)
        edges = [(e.a, e.b, float(e.count)) for e in graph.edges]
        placed = timed(lambda g=graph, e=edges: layout(list(g.nodes), e), max(1, runs // 2))
        result["ego"][ref[0]] = statistics.median(ego)
        result.setdefault("two", {})[ref[0]] = statistics.median(two)
        result["layout"][ref[0]] = statistics.median(placed)
        biggest = max(biggest, (len(graph), ref))
        print(
            f"  {ref[0]:<13} {len(graph):4d} nodes {len(graph.edges):4d} edges   ego on screen median "
            f"{statistics.median(ego):6.1f} ms, slowest {max(ego):6.1f} (budget {EGO_BUDGET_MS:.0f});   "
            f"two links {statistics.median(two):6.1f} ms, layout {statistics.median(placed):6.0f} ms (worker process)"
        )

    state = AppState(store)
    view = RelationshipMapView(state)
    view.resize(1600, 520)
    view.show()
    app.processEvents()
    # As the app does once its window is up (explorer.app): what exists now is frozen out of the
    # collector's full passes, which would otherwise walk all of it (0.1-0.25 s here).
    gc.collect()
    gc.freeze()
    empty = timed(view.canvas.repaint, runs * 4)
    # GUI hold while the biggest map is read and laid out in the background (the real path).
    idle = gui_hold(app, lambda: None, lambda: True)
    idle = max(idle, gui_hold(app, lambda: time.sleep(0), lambda: False, timeout_s=0.5))
    ref = biggest[1]
    holds = []
    for k in range(max(1, runs // 2)):
        other = roots[(k + 1) % len(roots)]
        state.select(RecordRef(*other))
        view.wait_loaded()
        app.processEvents()
        holds.append(gui_hold(app, lambda: state.select(RecordRef(*ref)), lambda: not view.busy))
    print(
        f"  GUI hold while reading and laying out {len(view.graph)} nodes: median {statistics.median(holds):5.1f} ms, "
        f"slowest {max(holds):5.1f} ms (budget {HOLD_BUDGET_MS:.0f}); idle floor {idle:5.1f} ms"
    )
    # Frames while dragging a node and zooming, on that map.
    key = next(k for k in view.scene.keys if k not in view.graph.roots)
    x0, y0 = view.scene.position(key) or (0.0, 0.0)
    drag = []
    for step in range(runs * 8):
        view.canvas.start_moving()  # what a mouse move while a node is held does, then the node follows
        view.drag_node(key, x0 + 0.05 * step, y0 + 0.03 * step)
        drag += timed(view.canvas.repaint, 1)
    zoom = []
    for step in range(runs * 8):
        view.zoom(1.08 if step % 2 == 0 else 1 / 1.08)
        zoom += timed(view.canvas.repaint, 1)
    print(
        f"  frames on {len(view.scene)} nodes: drag median {statistics.median(drag):5.1f} ms, slowest "
        f"{max(drag):5.1f}; zoom median {statistics.median(zoom):5.1f} ms, slowest {max(zoom):5.1f} "
        f"(budget {FRAME_BUDGET_MS}); floor (empty map repaint) {statistics.median(empty):4.1f} ms"
    )
    result.update(
        hold_ms=statistics.median(holds),
        hold_max_ms=max(holds),
        idle_ms=idle,
        drag_ms=statistics.median(drag),
        zoom_ms=statistics.median(zoom),
        frame_floor_ms=statistics.median(empty),
        nodes=len(view.scene),
    )
    state.stop_background()
    view.close()
    store.close()
    raw.close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("databases", type=Path, nargs="+")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    failures = 0
    for path in args.databases:
        r = measure(path, args.runs)
        failures += max(r["ego"].values()) > EGO_BUDGET_MS
        failures += max(r["drag_ms"], r["zoom_ms"]) > FRAME_BUDGET_MS
        failures += r["hold_ms"] > HOLD_BUDGET_MS
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
