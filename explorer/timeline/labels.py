"""Rows and labels of the timeline: greedy row packing of items in pixel space, the room each
label has, and label placement with no two labels overlapping. Pure numpy and Python, no Qt:
text widths come from the caller.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

# --- row packing --------------------------------------------------------------------------


def pack_rows(x0: np.ndarray, x1_full: np.ndarray, x1_bare: np.ndarray, n_rows: int, gap: float = 6.0):
    """Greedy interval packing in pixel space, items taken in ``x0`` order.

    Each item first goes to the first row free for it with its label (``x0..x1_full``), else to a
    new row while ``n_rows`` allows (``n_rows <= 0``: as many as needed), else to the first row
    free for its bare mark (``x0..x1_bare``; the previous label there will be shortened), else to
    the row that frees up first (it overlaps there: same date, no room left).
    Returns (row per item, rows used).
    """
    n = int(x0.size)
    rows = np.zeros(n, dtype=np.int64)
    if n == 0:
        return rows, 0
    order = np.argsort(x0, kind="stable")
    # Plain Python floats in x0 order: this loop runs for every item in view on every frame.
    starts = x0[order].tolist()
    full_free = (x1_full[order] + gap).tolist()  # where a row is free again after the item, label included
    bare_free = (x1_bare[order] + gap).tolist()
    free_full: list[float] = []  # per row: the earliest start that fits after its labels
    free_bare: list[float] = []  # per row: the earliest start that fits after its marks
    cap = n if n_rows <= 0 else n_rows
    out = [0] * n
    for k, start in enumerate(starts):
        row = -1
        for r, free in enumerate(free_full):
            if free <= start:
                row = r
                break
        if row < 0:
            if len(free_full) < cap:
                free_full.append(-math.inf)
                free_bare.append(-math.inf)
                row = len(free_full) - 1
            else:
                for r, free in enumerate(free_bare):
                    if free <= start:
                        row = r
                        break
                if row < 0:
                    row = free_bare.index(min(free_bare))
        out[k] = row
        if full_free[k] > free_full[row]:
            free_full[row] = full_free[k]
        if bare_free[k] > free_bare[row]:
            free_bare[row] = bare_free[k]
    rows[order] = out
    return rows, len(free_full)


def label_room(x0: np.ndarray, rows: np.ndarray, label_x: np.ndarray, gap: float = 8.0) -> np.ndarray:
    """Pixels each item's label may use before the next item (by ``x0``) in its row; inf for the last."""
    room = np.full(x0.size, np.inf)
    if x0.size == 0:
        return room
    order = np.lexsort((x0, rows))
    r_sorted, x_sorted = rows[order], x0[order]
    same_row_next = np.r_[r_sorted[1:] == r_sorted[:-1], False]
    next_x = np.r_[x_sorted[1:], np.inf]
    room[order] = np.where(same_row_next, next_x - gap - label_x[order], np.inf)
    return room


# --- label placement ----------------------------------------------------------------------


def place_labels(rects: np.ndarray, priority: np.ndarray, group: np.ndarray | None = None) -> np.ndarray:
    """Which label rectangles to draw so that no two drawn ones overlap: greedy by priority.

    ``rects``: (n, 4) x0, y0, x1, y1 (touching edges do not count as overlap). Highest
    ``priority`` first, ties in the given order. A ``group`` of rows stands for one label's
    candidate places or sizes (in order of preference, same priority): at most one of a group is
    kept. Returns a boolean mask of the kept rows.

    A grid of buckets keeps each test to the few labels placed near the candidate, so a frame's
    few hundred labels cost well under a millisecond.
    """
    rects = np.asarray(rects, dtype=np.float64).reshape(-1, 4)
    n = int(rects.shape[0])
    kept = np.zeros(n, dtype=bool)
    if n == 0:
        return kept
    order = np.lexsort((np.arange(n), -np.asarray(priority, dtype=np.float64)))
    groups = np.arange(n) if group is None else np.asarray(group)
    cell_w = max(float(np.median(rects[:, 2] - rects[:, 0])), 16.0)
    cell_h = max(float(np.median(rects[:, 3] - rects[:, 1])), 8.0)
    cx0 = np.floor(rects[:, 0] / cell_w).astype(np.int64).tolist()
    cx1 = np.floor(rects[:, 2] / cell_w).astype(np.int64).tolist()
    cy0 = np.floor(rects[:, 1] / cell_h).astype(np.int64).tolist()
    cy1 = np.floor(rects[:, 3] / cell_h).astype(np.int64).tolist()
    box = rects.tolist()
    gid = groups.tolist()
    done: set = set()
    grid: dict[tuple[int, int], list[int]] = {}
    for i in order.tolist():
        if gid[i] in done:
            continue
        x0, y0, x1, y1 = box[i]
        if x1 <= x0 or y1 <= y0:
            continue
        cells = [(cx, cy) for cx in range(cx0[i], cx1[i] + 1) for cy in range(cy0[i], cy1[i] + 1)]
        clash = False
        for cell in cells:
            for j in grid.get(cell, ()):
                a0, b0, a1, b1 = box[j]
                if x0 < a1 and a0 < x1 and y0 < b1 and b0 < y1:
                    clash = True
                    break
            if clash:
                break
        if clash:
            continue
        kept[i] = True
        done.add(gid[i])
        for cell in cells:
            grid.setdefault(cell, []).append(i)
    return kept


def label_priority(highlighted: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Placement priority: highlighted (selected) items first, then larger USD amounts, then the rest."""
    amount = np.asarray(amount, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        size = np.where(np.isfinite(amount) & (amount > 0), 100.0 + np.log10(np.where(amount > 0, amount, 1.0)), 0.0)
    return np.where(np.asarray(highlighted, dtype=bool), 1e6, 0.0) + size


def distinguishing_tails(titles: list[str], min_shared: int = 8) -> list[str]:
    """For titles that begin like another in ``titles`` ("Automaker plant capacity in Gujarat",
    "… in Karnataka"), the words that tell them apart ("Gujarat"); "" for the rest and for exact
    duplicates (nothing in the title tells those apart)."""
    tails = [""] * len(titles)
    if len(titles) < 2:
        return tails
    order = sorted(range(len(titles)), key=titles.__getitem__)
    shared = [0] * len(titles)
    for p, q in itertools.pairwise(order):
        a, b = titles[p], titles[q]
        if a == b:
            continue
        n = next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
        shared[p], shared[q] = max(shared[p], n), max(shared[q], n)
    for i, n in enumerate(shared):
        title = titles[i]
        if n >= min_shared and n < len(title):
            start = title.rfind(" ", 0, n + 1) + 1  # from the start of the word where they part
            tails[i] = title[start:].strip()
    return tails


def format_usd(value: float | None) -> str:
    if value is None or not np.isfinite(value):
        return ""
    v = float(value)
    for limit, suffix in ((1e12, "tn"), (1e9, "bn"), (1e6, "m")):
        if abs(v) >= limit:
            return f"US${v / limit:.1f} {suffix}"
    return f"US${v:,.0f}"


def candidate_rects(boxes: list[tuple[float, float, float, float]]) -> np.ndarray:
    """Seven candidate rectangles (x0, y0, x1, y1) per box (x, y, w, h) centred on its y: there,
    then one, two, three heights lower and higher, alternately."""
    if not boxes:
        return np.zeros((0, 4))
    out = []
    for x, y, w, h in boxes:
        for step in (0, 1, -1, 2, -2, 3, -3):
            top = y - h / 2 + step * (h + 2.0)
            out.append((x, top, x + w, top + h))
    return np.array(out, dtype=np.float64)


def arrow_control(x0: float, y0: float, x1: float, y1: float) -> tuple[float, float]:
    """Control point of a link arrow's quadratic curve: bowed sideways (upwards) so arrows
    between neighbours stay readable. The curve is symmetric, so its middle is at t = 0.5."""
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    dxv, dyv = x1 - x0, y1 - y0
    length = math.hypot(dxv, dyv) or 1.0
    bow = min(60.0, 0.2 * length + 12)
    nx, ny = -dyv / length, dxv / length
    if ny > 0:
        nx, ny = -nx, -ny
    return cx + nx * bow, cy + ny * bow
