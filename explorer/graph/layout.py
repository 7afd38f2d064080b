"""The relationship map's layout: rustworkx's Fruchterman–Reingold, in a worker process.

Deterministic: the same nodes and edges give the same coordinates (starting places come from a
hash of each record's key, never from a random generator, and the nodes go to rustworkx in one
order). Stable: a layout seeded from the previous positions keeps the nodes already placed where
they were and settles the new ones in beside their neighbours. Pinned nodes stay where they were put.

rustworkx (like igraph) holds the interpreter's lock for the whole layout (0.1–0.3 s for a few
hundred nodes), so on a thread of the app the window would stand still that long; it runs in a
worker process of its own instead, started on the first layout and kept for the next. No Qt.
"""

from __future__ import annotations

import atexit
import concurrent.futures as cf
import logging
import math
import multiprocessing
import threading
import zlib
from collections.abc import Callable, Mapping, Sequence

import numpy as np

log = logging.getLogger("explorer.graph.layout")

Key = tuple[str, int]
Point = tuple[float, float]
IDEAL = 1.0  # the length an edge settles at, in layout units (the view scales them to pixels)
# A hidden node at the middle with weak springs to every node: a little gravity, so separate
# parts of a map (a filter can cut it in two) stay beside each other instead of drifting apart.
GRAVITY = 0.02


def _hash01(key: Key, salt: int = 0) -> float:
    return zlib.crc32(f"{key[0]}:{key[1]}:{salt}".encode()) / 2**32


def iterations_for(n: int, settling: bool = False) -> int:
    """Steps of the force simulation: fewer for big maps (each costs n² distances), and fewer
    when only new nodes are settling in among placed ones."""
    steps = 200 if n <= 200 else max(80, int(200 * (200 / n) ** 0.5))
    return max(40, steps // 3) if settling else steps


def spring(
    n: int,
    pairs: Sequence[tuple[int, int, float]],
    start: np.ndarray,
    fixed: Sequence[int],
    iterations: int,
) -> np.ndarray:
    """rustworkx's spring layout of nodes 0..n-1 (edges (i, j, weight)), from ``start``, with
    the ``fixed`` nodes kept in place; the worker process runs this."""
    import rustworkx as rx

    graph = rx.PyGraph(multigraph=False)
    graph.add_nodes_from(range(n + 1))  # node n: the hidden middle (GRAVITY)
    graph.add_edges_from([(i, j, w) for i, j, w in pairs] + [(n, i, GRAVITY) for i in range(n)])
    pos = {i: (float(start[i, 0]), float(start[i, 1])) for i in range(n)}
    pos[n] = (0.0, 0.0)
    placed = rx.spring_layout(graph, pos=pos, fixed={n, *fixed}, k=IDEAL, num_iter=iterations, weight_fn=float, seed=0)
    return np.array([placed[i] for i in range(n)], dtype=np.float64)


_pool: cf.ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def _worker() -> cf.ProcessPoolExecutor | None:
    global _pool
    with _pool_lock:
        if _pool is None:
            try:
                _pool = cf.ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
            except (OSError, ValueError, NotImplementedError) as exc:
                log.warning("no layout worker process (%s): laying out here", exc)
            else:
                atexit.register(_forget_worker, _pool)  # stopped while the interpreter is whole
        return _pool


def _forget_worker(pool: cf.ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


def spring_apart(
    args: tuple[object, ...], cancelled: Callable[[], bool] | None, fallback: bool = True
) -> np.ndarray | None:
    """``spring(*args)`` in the worker process (None if cancelled while it ran); here when the
    worker cannot be started or has died, unless not ``fallback`` (the self-test: None then)."""
    pool = _worker()
    if pool is not None:
        try:
            future = pool.submit(spring, *args)  # type: ignore[arg-type]
            while True:
                try:
                    return future.result(timeout=0.05)
                except cf.TimeoutError:
                    if cancelled is not None and cancelled():
                        future.cancel()
                        return None
        except (cf.process.BrokenProcessPool, RuntimeError, OSError) as exc:
            log.warning("layout worker process failed (%s): laying out here", exc)
            _forget_worker(pool)
    return spring(*args) if fallback else None  # type: ignore[arg-type]


def layout(
    keys: Sequence[Key],
    edges: Sequence[tuple[Key, Key, float]],
    previous: Mapping[Key, Point] | None = None,
    pinned: Mapping[Key, Point] | None = None,
    iterations: int | None = None,
    cancelled: Callable[[], bool] | None = None,
    aspect: float = 1.0,
    reheat: bool = False,
) -> dict[Key, Point]:
    """Positions of ``keys`` (edges: (a, b, weight); a heavier edge pulls harder). ``aspect``
    (width / height of where it is shown) stretches a new layout, so a map for a wide, low dock
    comes out wide instead of round. ``reheat``: ``previous`` is only a starting point (a quick
    first picture), every node moves as freely as a new one."""
    order = sorted(set(keys))
    n = len(order)
    if n == 0:
        return {}
    previous = previous or {}
    pinned = pinned or {}
    index = {k: i for i, k in enumerate(order)}
    # In one order whatever order they came in: sums of floats depend on it. One edge a pair.
    weights: dict[tuple[int, int], float] = {}
    for a, b, w in edges:
        if a in index and b in index and a != b:
            pair = (min(index[a], index[b]), max(index[a], index[b]))
            weights[pair] = weights.get(pair, 0.0) + float(w)
    pairs = [(i, j, 1.0 + math.log1p(max(0.0, w - 1.0))) for (i, j), w in sorted(weights.items())]
    pos = np.zeros((n, 2), dtype=np.float64)
    placed = np.zeros(n, dtype=bool)
    for k, i in index.items():
        known = pinned.get(k) or previous.get(k)
        if known is not None:
            pos[i] = known
            placed[i] = True
    fresh = not placed.any()
    start_hot = fresh or reheat
    neighbours: list[list[int]] = [[] for _ in range(n)]
    for i, j, _w in pairs:
        neighbours[i].append(j)
        neighbours[j].append(i)
    # New nodes start beside their placed neighbours (breadth first), else on a spiral.
    spiral = 0
    pending = [i for i in range(n) if not placed[i]]
    while pending:
        progress = False
        rest = []
        for i in pending:
            near = [j for j in neighbours[i] if placed[j]]
            if near:
                angle = 2 * math.pi * _hash01(order[i])
                radius = IDEAL * (0.5 + 0.5 * _hash01(order[i], 1))
                pos[i] = pos[near].mean(axis=0) + radius * np.array([math.cos(angle), math.sin(angle)])
                placed[i] = True
                progress = True
            else:
                rest.append(i)
        if not progress and rest:
            i = rest.pop(0)  # the first unplaced of a component not linked to anything placed
            angle = spiral * 2.399963  # the golden angle: evenly spread, no two on a line
            radius = 0.0 if fresh and spiral == 0 else IDEAL * (1.5 + math.sqrt(spiral + 1) * 1.2)
            pos[i] = (radius * math.cos(angle), radius * math.sin(angle))
            placed[i] = True
            spiral += 1
        pending = rest
    if n == 1:
        return {order[0]: (float(pos[0, 0]), float(pos[0, 1]))}
    held = {k for k in pinned} | (set() if start_hot else set(previous))
    fixed = [index[k] for k in order if k in held]
    if len(fixed) == n:
        return {k: (float(pos[i, 0]), float(pos[i, 1])) for k, i in index.items()}
    steps = iterations if iterations is not None else iterations_for(n, settling=not start_hot)
    result = spring_apart((n, pairs, pos, fixed, steps), cancelled)
    if result is None:  # cancelled: whoever asked no longer wants it
        result = pos
    elif start_hot and not pinned:
        # A new picture for a wide dock: stretched to half the dock's shape (area kept).
        stretch = min(4.0, max(1.0, aspect)) ** 0.25
        result = result * np.array([stretch, 1.0 / stretch])
    return {k: (float(result[i, 0]), float(result[i, 1])) for k, i in index.items()}


def radial(keys: Sequence[Key], roots: Sequence[Key], edges: Sequence[tuple[Key, Key, float]]) -> dict[Key, Point]:
    """A first picture in no time: the roots in the middle, what links to them on rings around
    (by kind, then key), the rest further out beside a neighbour. The force layout starts from it."""
    order = sorted(set(keys))
    out: dict[Key, Point] = {}
    root_list = [k for k in roots if k in set(order)]
    for i, k in enumerate(root_list):
        angle = 2 * math.pi * i / max(1, len(root_list))
        out[k] = (0.0 if len(root_list) == 1 else math.cos(angle), 0.0 if len(root_list) == 1 else math.sin(angle))
    near = {b if a in out else a for a, b, _w in edges if (a in out) != (b in out)}
    ring = sorted(k for k in order if k in near)
    radius = IDEAL * max(2.0, len(ring) / (2 * math.pi) * 0.6)
    for i, k in enumerate(ring):
        angle = 2 * math.pi * i / max(1, len(ring))
        out[k] = (radius * math.cos(angle), radius * math.sin(angle))
    rest = [k for k in order if k not in out]
    for k in rest:
        anchor = next((b if a == k else a for a, b, _w in edges if k in (a, b) and (b if a == k else a) in out), None)
        ax, ay = out.get(anchor, (0.0, 0.0)) if anchor is not None else (0.0, 0.0)
        angle = 2 * math.pi * _hash01(k)
        out[k] = (ax * 1.3 + IDEAL * math.cos(angle), ay * 1.3 + IDEAL * math.sin(angle))
    return out
