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
    # The least of each list, kept up to date as rows fill (their values only grow): in a crowded
    # lane most items find no row free, and one comparison says so instead of a scan of every row.
    least_full = least_bare = math.inf
    for k, start in enumerate(starts):
        if least_full <= start:
            row = 0
            while free_full[row] > start:
                row += 1
        elif len(free_full) < cap:
            free_full.append(-math.inf)
            free_bare.append(-math.inf)
            row = len(free_full) - 1
        elif least_bare <= start:
            row = 0
            while free_bare[row] > start:
                row += 1
        else:
            row = free_bare.index(least_bare)
        out[k] = row
        ff, fb = full_free[k], bare_free[k]
        old_full, old_bare = free_full[row], free_bare[row]
        if ff > old_full:
            free_full[row] = ff
            if old_full <= least_full:
                least_full = min(free_full)
        elif old_full < least_full:  # a new row left at -inf
            least_full = old_full
        if fb > old_bare:
            free_bare[row] = fb
            if old_bare <= least_bare:
                least_bare = min(free_bare)
        elif old_bare < least_bare:
            least_bare = old_bare
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
    priority = np.asarray(priority, dtype=np.float64)
    groups = np.arange(n) if group is None else np.asarray(group)
    # A group whose candidates overlap no other group's keeps its first drawable candidate in
    # the greedy order whatever else is placed: found in numpy, so the loop below only runs over
    # the groups that compete for room (on a crowded timeline most row labels are already cut to
    # the room before the next item in their row, and compete with nothing).
    drawable = (rects[:, 2] > rects[:, 0]) & (rects[:, 3] > rects[:, 1])
    alone = _uncontested(rects, groups, drawable)
    free = np.flatnonzero(alone & drawable)
    if free.size:
        by_turn = free[np.lexsort((free, -priority[free], groups[free]))]
        g_sorted = groups[by_turn]
        kept[by_turn[np.r_[True, g_sorted[1:] != g_sorted[:-1]]]] = True
    rest = np.flatnonzero(~alone)
    if rest.size:
        kept[rest] = _greedy(rects[rest], priority[rest], groups[rest])
    return kept


def _greedy(rects: np.ndarray, priority: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """``place_labels``' rule, one candidate at a time."""
    n = int(rects.shape[0])
    kept = np.zeros(n, dtype=bool)
    order = np.lexsort((np.arange(n), -priority))
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


def _uncontested(rects: np.ndarray, groups: np.ndarray, drawable: np.ndarray) -> np.ndarray:
    """Per rectangle: whether no drawable candidate of its group overlaps a drawable candidate of
    another group. Candidates are compared within bands of equal top and bottom (a row's labels),
    by each group's extent in the band; every group with a candidate in a band that overlaps
    another band vertically is left to the greedy."""
    n = rects.shape[0]
    alone = np.ones(n, dtype=bool)
    d = np.flatnonzero(drawable)
    if d.size < 2:
        return alone
    # (top, bottom) pairs as one complex number each: np.unique along rows (axis=0) sorted them
    # as structured records, ten times slower (1.3 ms a frame for 2,000 candidates); complex
    # numbers sort by real part then imaginary, the same order
    bands, band_of = np.unique(rects[d, 1] + 1j * rects[d, 3], return_inverse=True)
    band_of = np.asarray(band_of).ravel()
    tops, bottoms = bands.real, bands.imag
    crossing = (tops[:, None] < bottoms[None, :]) & (tops[None, :] < bottoms[:, None])
    np.fill_diagonal(crossing, False)
    crossed: np.ndarray = np.asarray(crossing.any(axis=1))
    # each group's extent in each band, ordered by band then left edge
    g = groups[d]
    by_key = np.lexsort((g, band_of))
    kb, kg = band_of[by_key], g[by_key]
    new_span = np.r_[True, (kb[1:] != kb[:-1]) | (kg[1:] != kg[:-1])]
    span_of = np.cumsum(new_span) - 1
    x0 = np.full(int(span_of[-1]) + 1, np.inf)
    x1 = np.full(x0.size, -np.inf)
    np.minimum.at(x0, span_of, rects[d[by_key], 0])
    np.maximum.at(x1, span_of, rects[d[by_key], 2])
    span_band, span_group = kb[new_span], kg[new_span]
    order = np.lexsort((x0, span_band))
    sb, s0, s1 = span_band[order], x0[order], x1[order]
    clash = crossed[sb]
    # a span reaching past the next one's start in its band, or starting before the furthest
    # end of the spans before it there (touching edges do not count)
    starts = np.flatnonzero(np.r_[True, sb[1:] != sb[:-1]])
    for a, b in zip(starts.tolist(), [*starts[1:].tolist(), sb.size], strict=True):
        if b - a < 2:
            continue
        ends = s1[a:b]
        reach = np.maximum.accumulate(ends)
        clash[a + 1 : b] |= s0[a + 1 : b] < reach[:-1]
        clash[a : b - 1] |= s0[a + 1 : b] < ends[:-1]
    alone[np.isin(groups, span_group[order][clash])] = False
    return alone


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
        n = _shared_prefix(a, b)
        shared[p], shared[q] = max(shared[p], n), max(shared[q], n)
    for i, n in enumerate(shared):
        title = titles[i]
        if n >= min_shared and n < len(title):
            start = title.rfind(" ", 0, n + 1) + 1  # from the start of the word where they part
            tails[i] = title[start:].strip()
    return tails


def _shared_prefix(a: str, b: str) -> int:
    """How many leading characters ``a`` and ``b`` share, by halving slice comparisons (done in C)
    rather than a Python step per character: a frame compares a few hundred titles."""
    lo, hi = 0, min(len(a), len(b))
    if a[:hi] == b[:hi]:
        return hi
    while lo < hi - 1:  # a[:lo] matches, a[:hi] does not
        mid = (lo + hi) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid
    return lo


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
