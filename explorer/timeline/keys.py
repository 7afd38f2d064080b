"""Moving through the timeline by keyboard: which item comes next in time, in a lane, or in the
lane above. Pure numpy over the shown arrays (one pass, no sorted copy to keep in step)."""

from __future__ import annotations

import numpy as np


def step_in_time(lo: np.ndarray, passes: np.ndarray, current: int | None, forward: bool) -> int | None:
    """The next (or previous) shown item in time order — by start day, ties by position — after
    ``current``; with no current item, the first (or last) of all."""
    candidates = np.flatnonzero(passes)
    if candidates.size == 0:
        return None
    starts = lo[candidates]
    if current is not None:
        c_lo = lo[current]
        if forward:
            later = (starts > c_lo) | ((starts == c_lo) & (candidates > current))
        else:
            later = (starts < c_lo) | ((starts == c_lo) & (candidates < current))
        candidates, starts = candidates[later], starts[later]
        if candidates.size == 0:
            return None
    best = starts.min() if forward else starts.max()
    tied = candidates[starts == best]
    return int(tied.min() if forward else tied.max())


def step_in_lane(order: np.ndarray, passes: np.ndarray, current: int, forward: bool) -> int | None:
    """The neighbour of ``current`` within its lane (``order``: the lane's items by start)."""
    where = np.flatnonzero(order == current)
    if where.size == 0:
        return None
    pos = int(where[0])
    rest = order[pos + 1 :] if forward else order[:pos][::-1]
    shown = rest[passes[rest]]
    return int(shown[0]) if shown.size else None


def nearest_in_lane(order: np.ndarray, lo: np.ndarray, passes: np.ndarray, day: float) -> int | None:
    """The shown item of a lane whose start is nearest to ``day``."""
    shown = order[passes[order]]
    if shown.size == 0:
        return None
    return int(shown[int(np.argmin(np.abs(lo[shown] - day)))])


def lane_step(lane_items: list[np.ndarray], passes: np.ndarray, lane: int, down: bool) -> int | None:
    """The nearest lane above (or below) ``lane`` with something shown in it."""
    lanes = range(lane + 1, len(lane_items)) if down else range(lane - 1, -1, -1)
    for k in lanes:
        if passes[lane_items[k]].any():
            return k
    return None
