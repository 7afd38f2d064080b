"""A deterministic force-directed layout for the relationship map, in numpy.

No graph library is installed in the app's environment (networkx, igraph and rustworkx are not
among its dependencies), and the maps drawn are small (a few hundred nodes, see
explorer.graph.model.NODE_BUDGET), so a Fruchterman–Reingold layout of our own does: same
nodes and edges in, same coordinates out (starting places come from a hash of each record's
key, never from a random generator), and a layout seeded from the previous positions moves the
nodes already placed little (they start cool; the new ones start hot, beside their neighbours).
Pinned nodes stay where they were put. Runs in a background job; no Qt.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Mapping, Sequence

import numpy as np

Key = tuple[str, int]
Point = tuple[float, float]
IDEAL = 1.0  # the length an edge settles at, in layout units (the view scales them to pixels)
OLD_HEAT = 0.12  # how far, relative to a new node, a node placed before may move


def _hash01(key: Key, salt: int = 0) -> float:
    return zlib.crc32(f"{key[0]}:{key[1]}:{salt}".encode()) / 2**32


def iterations_for(n: int) -> int:
    """Fewer steps for bigger maps: each costs n² distances."""
    if n <= 60:
        return 300
    return max(60, min(300, int(300 * (60 / n) ** 0.5)))


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
    (width / height of where it is shown) pulls harder towards the middle vertically, so a map
    for a wide, low dock comes out wide instead of round. ``reheat``: ``previous`` is only a
    starting point (a quick first picture), every node moves as freely as a new one."""
    order = sorted(set(keys))
    n = len(order)
    if n == 0:
        return {}
    previous = previous or {}
    pinned = pinned or {}
    index = {k: i for i, k in enumerate(order)}
    # In one order whatever order they came in: sums of floats depend on it.
    pairs = sorted(
        (min(index[a], index[b]), max(index[a], index[b]), float(w))
        for a, b, w in edges
        if a in index and b in index and a != b
    )
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
    heat = np.ones(n)
    for k, i in index.items():
        if k in previous and not start_hot:
            heat[i] = OLD_HEAT
    fixed = np.array([k in pinned for k in order], dtype=bool)
    src = np.array([p[0] for p in pairs], dtype=np.int64)
    dst = np.array([p[1] for p in pairs], dtype=np.int64)
    weight = np.array([1.0 + math.log1p(max(0.0, p[2] - 1.0)) for p in pairs], dtype=np.float64)
    steps = iterations if iterations is not None else iterations_for(n)
    if not start_hot and iterations is None:
        steps = max(30, steps // 3)  # settling the new nodes in, not laying out again
    temperature = IDEAL * (0.6 if start_hot else 0.35) * math.sqrt(n) / 2
    cool = temperature / (steps + 1)
    k2 = IDEAL * IDEAL
    aspect = min(4.0, max(1.0, aspect))
    gravity = np.array([0.02, 0.02 * aspect * aspect])
    for _step in range(steps):
        if cancelled is not None and cancelled():
            break
        delta = pos[:, None, :] - pos[None, :, :]
        dist2 = np.einsum("ijk,ijk->ij", delta, delta)
        np.fill_diagonal(dist2, np.inf)
        dist2 = np.maximum(dist2, 1e-4)
        force = np.einsum("ijk,ij->ik", delta, k2 / dist2)  # repulsion k²/d along the unit vector
        if src.size:
            d = pos[src] - pos[dst]
            length = np.sqrt(np.einsum("ij,ij->i", d, d)) + 1e-9
            pull = d * (length * weight / IDEAL)[:, None]  # attraction d²/k along the unit vector
            np.subtract.at(force, src, pull)
            np.add.at(force, dst, pull)
        force -= pos * gravity  # a little gravity: separate components do not drift apart
        size = np.sqrt(np.einsum("ij,ij->i", force, force)) + 1e-9
        step = np.minimum(size, temperature * heat) / size
        step[fixed] = 0.0
        pos += force * step[:, None]
        temperature = max(temperature - cool, 1e-3)
    return {k: (float(pos[i, 0]), float(pos[i, 1])) for k, i in index.items()}


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
