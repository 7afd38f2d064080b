"""What the relationship map draws where, without Qt: the transform from layout units to
pixels, each node's size (by USD amount or by degree), which node is under the pointer, and
which labels are drawn so that none overlaps another label or a node (greedy by priority, the
rest hidden, as on the timeline). Text widths come from the caller.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np

from explorer.graph.model import Graph, Key
from explorer.timeline.labels import place_labels

Point = tuple[float, float]
MIN_ZOOM, MAX_ZOOM = 4.0, 600.0  # pixels per layout unit (an edge is about one unit long)
LABEL_GAP = 3.0
MAX_STRETCH = 1.6  # a fitted map is stretched across at most this much
MAX_LABEL_PX = 120.0
HIT_SLOP = 3.0  # pixels around a node's disc that still pick it
IMPORTANT = 5e5  # labels of at least this priority (the centre, the selection) try more places
MAX_LABELS = 160


@dataclass(frozen=True)
class Transform:
    """Layout point (cx, cy) at the middle of a width × height canvas, ``zoom`` pixels a unit
    (``stretch`` times that across: a wide dock is used by a round map)."""

    cx: float = 0.0
    cy: float = 0.0
    zoom: float = 60.0
    width: float = 800.0
    height: float = 600.0
    stretch: float = 1.0

    @property
    def zoom_x(self) -> float:
        return self.zoom * self.stretch

    def to_px(self, x: float, y: float) -> Point:
        return (self.width / 2 + (x - self.cx) * self.zoom_x, self.height / 2 + (y - self.cy) * self.zoom)

    def to_layout(self, px: float, py: float) -> Point:
        return (self.cx + (px - self.width / 2) / self.zoom_x, self.cy + (py - self.height / 2) / self.zoom)

    def zoomed(self, factor: float, px: float | None = None, py: float | None = None) -> Transform:
        """Zoomed by ``factor`` keeping the layout point under (px, py) where it is."""
        zoom = min(MAX_ZOOM, max(MIN_ZOOM, self.zoom * factor))
        px = self.width / 2 if px is None else px
        py = self.height / 2 if py is None else py
        x, y = self.to_layout(px, py)
        cx, cy = x - (px - self.width / 2) / (zoom * self.stretch), y - (py - self.height / 2) / zoom
        return replace(self, cx=cx, cy=cy, zoom=zoom)

    def panned(self, dx_px: float, dy_px: float) -> Transform:
        return replace(self, cx=self.cx - dx_px / self.zoom_x, cy=self.cy - dy_px / self.zoom)

    def resized(self, width: float, height: float) -> Transform:
        return replace(self, width=width, height=height)

    def centred(self, x: float, y: float) -> Transform:
        return replace(self, cx=x, cy=y)


@dataclass(frozen=True)
class PlacedLabel:
    key: Key
    text: str
    rect: tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels
    pill: bool = False  # over a node (the centre's or the selection's name, on a pill of its own)


class MapScene:
    """A graph with its positions, as drawn: keys in a fixed order, coordinates, sizes."""

    def __init__(self, graph: Graph, positions: Mapping[Key, Point], size_by: str = "amount") -> None:
        self.graph = graph
        self.keys: list[Key] = sorted(k for k in graph.nodes if k in positions)
        self.index = {k: i for i, k in enumerate(self.keys)}
        self.xy = np.array([positions[k] for k in self.keys], dtype=np.float64).reshape(-1, 2)
        self.size_by = size_by
        self.radius = self._radii()

    def __len__(self) -> int:
        return len(self.keys)

    def _radii(self) -> np.ndarray:
        """Disc radius in pixels: 5 to 16 by log USD (or by √degree), roots a little larger."""
        n = len(self.keys)
        out = np.full(n, 6.0)
        if n == 0:
            return out
        if self.size_by == "degree":
            degree = self.graph.degree()
            d = np.array([degree.get(k, 0) for k in self.keys], dtype=np.float64)
            out = 5.0 + np.clip(np.sqrt(d), 0.0, 11.0)
        else:
            usd = np.array([self.graph.nodes[k].amount_usd or np.nan for k in self.keys], dtype=np.float64)
            with np.errstate(invalid="ignore"):
                size = np.clip((np.log10(usd) - 6.0) / 5.0, 0.0, 1.0)  # US$1 m … US$100 bn
            out = np.where(np.isfinite(size), 6.0 + 10.0 * np.nan_to_num(size), 6.0)
        for i, k in enumerate(self.keys):
            node = self.graph.nodes[k]
            if node.is_group:
                out[i] = 9.0 + min(7.0, math.log10(max(1, node.group.total if node.group else 1)))
            if k in self.graph.roots:
                out[i] += 3.0
        return out

    def move(self, key: Key, x: float, y: float) -> None:
        i = self.index.get(key)
        if i is not None:
            self.xy[i] = (x, y)

    def position(self, key: Key) -> Point | None:
        i = self.index.get(key)
        return None if i is None else (float(self.xy[i, 0]), float(self.xy[i, 1]))

    def positions(self) -> dict[Key, Point]:
        return {k: (float(self.xy[i, 0]), float(self.xy[i, 1])) for i, k in enumerate(self.keys)}

    def pixels(self, t: Transform) -> np.ndarray:
        """(n, 2) pixel positions of every node."""
        if not self.keys:
            return np.zeros((0, 2))
        out = np.empty_like(self.xy)
        out[:, 0] = t.width / 2 + (self.xy[:, 0] - t.cx) * t.zoom_x
        out[:, 1] = t.height / 2 + (self.xy[:, 1] - t.cy) * t.zoom
        return out

    def hit(self, t: Transform, px: float, py: float, slop: float = HIT_SLOP) -> Key | None:
        """The node under the pointer: the nearest whose disc (and a few pixels) holds it."""
        if not self.keys:
            return None
        p = self.pixels(t)
        d = np.hypot(p[:, 0] - px, p[:, 1] - py)
        inside = d <= self.radius + slop
        if not inside.any():
            return None
        d = np.where(inside, d, np.inf)
        return self.keys[int(np.argmin(d))]

    def fit(self, width: float, height: float, margin: float = 40.0) -> Transform:
        """The transform that shows every node (and its label's start) within the canvas."""
        if not self.keys:
            return Transform(0.0, 0.0, 60.0, width, height)
        lo, hi = self.xy.min(axis=0), self.xy.max(axis=0)
        span = np.maximum(hi - lo, 1e-6)
        centre = (lo + hi) / 2
        if len(self.keys) == 1:
            return Transform(float(centre[0]), float(centre[1]), 60.0, width, height)
        zx = (width - 2 * margin - MAX_LABEL_PX) / span[0]  # room for the labels right of the rightmost
        zy = (height - 2 * margin) / span[1]
        zoom = min(MAX_ZOOM, max(MIN_ZOOM, min(zx, zy, 120.0)))
        stretch = min(MAX_STRETCH, max(1.0, zx / zoom)) if zx > zy else 1.0
        return Transform(float(centre[0]), float(centre[1]), float(zoom), width, height, float(stretch))

    def labels(
        self,
        t: Transform,
        text_of: Callable[[Key], str],
        width_of: Callable[[str], float],
        height: float,
        priority: Mapping[Key, float] | None = None,
    ) -> list[PlacedLabel]:
        """Labels of the nodes on the canvas, none overlapping another or a node: each tries the
        right of its node, then the left, above and below; what fits nowhere is not drawn."""
        if not self.keys:
            return []
        p = self.pixels(t)
        r = self.radius
        on = (p[:, 0] > -200) & (p[:, 0] < t.width + 200) & (p[:, 1] > -50) & (p[:, 1] < t.height + 50)
        rects: list[tuple[float, float, float, float]] = []
        prio: list[float] = []
        group: list[int] = []
        owner: list[int] = []
        texts: dict[int, str] = {}
        degree = self.graph.degree()
        next_group = 0
        wanted = priority or {}
        visible_now = np.flatnonzero(on).tolist()
        rank = {i: wanted.get(self.keys[i], 0.0) + float(r[i]) + 0.1 * degree.get(self.keys[i], 0) for i in visible_now}
        # More names than this on one map are not read; trying them only costs time.
        for i in sorted(visible_now, key=lambda i: (-rank[i], i))[:MAX_LABELS]:
            key = self.keys[i]
            text = text_of(key)
            if not text:
                continue
            texts[i] = text
            w = width_of(text)
            x, y, ri = float(p[i, 0]), float(p[i, 1]), float(r[i])
            gap = LABEL_GAP
            candidates = [
                (x + ri + gap, y - height / 2, x + ri + gap + w, y + height / 2),  # right
                (x - ri - gap - w, y - height / 2, x - ri - gap, y + height / 2),  # left
                (x - w / 2, y - ri - gap - height, x + w / 2, y - ri - gap),  # above
                (x - w / 2, y + ri + gap, x + w / 2, y + ri + gap + height),  # below
            ]
            if (priority or {}).get(key, 0.0) >= IMPORTANT:
                # the centre and the selection also try a little further out: their names count most
                for step in (1, 2):
                    off = step * (height + gap)
                    candidates += [
                        (x - w / 2, y - ri - gap - height - off, x + w / 2, y - ri - gap - off),
                        (x - w / 2, y + ri + gap + off, x + w / 2, y + ri + gap + height + off),
                        (x + ri + gap, y - height / 2 - off, x + ri + gap + w, y + height / 2 - off),
                        (x + ri + gap, y - height / 2 + off, x + ri + gap + w, y + height / 2 + off),
                    ]
            base = rank[i]
            for c in candidates:
                if c[0] < 0 or c[1] < 0 or c[2] > t.width or c[3] > t.height:
                    continue  # cut off at the canvas's edge: a name there reads as a broken one
                rects.append(c)
                prio.append(base)
                group.append(next_group)
                owner.append(i)
            next_group += 1
        if not rects:
            return []
        boxes = np.array(rects, dtype=np.float64)
        # No label over a node's disc (a candidate there is dropped before placement).
        visible = np.flatnonzero(on)
        discs = np.column_stack(
            (
                p[visible, 0] - r[visible],
                p[visible, 1] - r[visible],
                p[visible, 0] + r[visible],
                p[visible, 1] + r[visible],
            )
        )
        clear = np.ones(len(rects), dtype=bool)
        for at in range(0, len(rects), 512):
            b = boxes[at : at + 512, None, :]
            hits = (b[..., 0] < discs[None, :, 2]) & (discs[None, :, 0] < b[..., 2])
            hits &= (b[..., 1] < discs[None, :, 3]) & (discs[None, :, 1] < b[..., 3])
            clear[at : at + 512] = ~hits.any(axis=1)
        # The centre's and the selection's names are drawn even where every place beside them
        # touches a node: last, on a pill over it (as on the timeline), never over another label.
        first_of: dict[int, int] = {}
        for j, i in enumerate(owner):
            first_of.setdefault(i, j)
        pills = [j for i, j in first_of.items() if wanted.get(self.keys[i], 0.0) >= IMPORTANT]
        if pills:
            boxes = np.vstack([boxes, boxes[pills]])
            rects += [rects[j] for j in pills]
            prio += [prio[j] for j in pills]
            group += [group[j] for j in pills]
            owner += [owner[j] for j in pills]
            clear = np.concatenate([clear, np.ones(len(pills), dtype=bool)])
        pill_from = len(rects) - len(pills)
        # Only the candidates clear of every node take part in the placement.
        tried = np.flatnonzero(clear)
        kept = np.zeros(len(rects), dtype=bool)
        if tried.size:
            kept[tried] = place_labels(boxes[tried], np.array(prio)[tried], np.array(group)[tried])
        out = []
        for j in np.flatnonzero(kept).tolist():
            i = owner[j]
            out.append(PlacedLabel(self.keys[i], texts[i], rects[j], j >= pill_from))
        return out
