"""What makes a timeline frame cheap must not change what it shows: the row packing and label
placement give the decisions of their plain one-at-a-time rules, and a pan paints the plot once."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication

from explorer import timeline as tm
from explorer.timeline import labels


def _plain_pack_rows(x0, x1_full, x1_bare, n_rows, gap=6.0):
    """pack_rows' rule as its docstring says it, one row scan per item."""
    order = np.argsort(x0, kind="stable")
    free_full: list[float] = []
    free_bare: list[float] = []
    cap = x0.size if n_rows <= 0 else n_rows
    rows = np.zeros(x0.size, dtype=np.int64)
    for k in order.tolist():
        start = float(x0[k])
        row = next((r for r, free in enumerate(free_full) if free <= start), -1)
        if row < 0 and len(free_full) < cap:
            free_full.append(-math.inf)
            free_bare.append(-math.inf)
            row = len(free_full) - 1
        if row < 0:
            row = next((r for r, free in enumerate(free_bare) if free <= start), -1)
        if row < 0:
            row = free_bare.index(min(free_bare))
        rows[k] = row
        free_full[row] = max(free_full[row], float(x1_full[k]) + gap)
        free_bare[row] = max(free_bare[row], float(x1_bare[k]) + gap)
    return rows, len(free_full)


def test_row_packing_decides_as_the_plain_rule_in_crowded_and_sparse_lanes():
    rng = np.random.default_rng(11)
    for trial in range(400):
        n = int(rng.integers(0, 400))
        x0 = rng.uniform(-50, 1600, n)
        if trial % 3 == 0:  # many items on the same few days
            x0 = np.round(x0 / 80) * 80
        bare = x0 + rng.choice([0.0, 14.0, 60.0, 300.0], n) * rng.random(n)
        full = bare + rng.uniform(0, 300, n) * (rng.random(n) < 0.8)
        n_rows = int(rng.choice([0, 1, 3, 16]))
        rows, used = tm.pack_rows(x0, full, bare, n_rows)
        want_rows, want_used = _plain_pack_rows(x0, full, bare, n_rows)
        assert used == want_used and rows.tolist() == want_rows.tolist(), trial


def _row_labels(rng, n: int, row_px: float, box_h: float = 13.0):
    """Candidates as the timeline makes them: per item a label cut to the room before the next
    item in its row, and up to two shorter forms; plus name pills of selected items (seven
    places each, above and below)."""
    rows = rng.integers(0, 16, n)
    x0 = rng.uniform(-20, 1600, n)
    order = np.lexsort((x0, rows))
    room = np.full(n, 300.0)
    same = rows[order][1:] == rows[order][:-1]
    room[order[:-1][same]] = (x0[order][1:] - x0[order][:-1])[same] - 12.0
    w1 = np.minimum(rng.uniform(30, 300, n), room)
    w2, w3 = np.maximum(48.0, w1 * 0.55), np.full(n, 48.0)
    second = w2 < w1 - 8
    third = second & (w3 < w2 - 8)
    ks = np.r_[np.arange(n), np.flatnonzero(second), np.flatnonzero(third)]
    widths = np.r_[w1, w2[second], w3[third]]
    y0 = rows * row_px + 2.0
    rects = [np.column_stack((x0[ks], y0[ks], x0[ks] + widths + 4.0, y0[ks] + box_h))]
    priority = [rng.choice([0.0, 104.0, 109.5, 1e6], n)[ks]]
    group = [ks]
    for p in range(int(rng.integers(0, 4))):
        x, y, w = rng.uniform(0, 1500), rng.uniform(0, 250), rng.uniform(40, 220)
        rects.append(np.array([(x, y - 8 + s * 18, x + w, y + 8 + s * 18) for s in (0, 1, -1, 2, -2, 3, -3)]))
        priority.append(np.full(7, 1e6))
        group.append(np.full(7, -1 - p))
    return np.concatenate(rects), np.concatenate(priority), np.concatenate(group)


def test_label_placement_keeps_what_the_one_at_a_time_greedy_keeps():
    rng = np.random.default_rng(12)
    for trial in range(300):
        n = int(rng.integers(0, 500))
        # rows taller than the labels (the usual case), as tall, and shorter (large type)
        rects, priority, group = _row_labels(rng, n, float(rng.choice([15.6, 13.0, 9.0])))
        if trial % 4 == 0:  # overlapping candidates anywhere
            rects[:, [0, 2]] += rng.uniform(-40, 40, (rects.shape[0], 1))
        kept = tm.place_labels(rects, priority, group)
        assert kept.tolist() == labels._greedy(rects, priority, group).tolist(), trial
        if trial % 5 == 0:
            kept = tm.place_labels(rects, priority)
            assert kept.tolist() == labels._greedy(rects, priority, np.arange(rects.shape[0])).tolist()


class _Paints(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def test_a_pan_or_zoom_paints_the_plot_once(qtbot, view):
    paints = _Paints()
    viewport = view.plot.viewport()
    viewport.installEventFilter(paints)
    for step in range(4):
        for _ in range(3):
            QApplication.processEvents()
        before = paints.count
        a, b = view.view_range()
        if step % 2:
            view._zoom(0.8)
        else:
            view.set_view_range(a + (b - a) * 0.05, b + (b - a) * 0.05)
        for _ in range(5):
            QApplication.processEvents()
        assert paints.count - before == 1, f"frame {step} painted {paints.count - before} times"
    viewport.removeEventFilter(paints)


def test_titles_are_told_apart_by_the_same_words_as_a_character_by_character_comparison():
    rng = np.random.default_rng(13)
    words = ["Automaker", "plant", "in", "Gujarat", "Karnataka", "Pune", "MoU", "Osaka", "Osaka-Kobe", ""]
    for _ in range(2000):
        a = " ".join(rng.choice(words, int(rng.integers(0, 6))))
        b = " ".join(rng.choice(words, int(rng.integers(0, 6))))
        plain = next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
        assert labels._shared_prefix(a, b) == plain, (a, b)
    titles = ["Automaker plant capacity in Gujarat", "Automaker plant capacity in Karnataka", "Osaka summit"]
    assert tm.distinguishing_tails(titles) == ["Gujarat", "Karnataka", ""]


def test_a_dense_view_draws_at_most_its_detail_budget_and_counts_every_other_record(qtbot, state, monkeypatch):
    from explorer.store import TimelineData
    from explorer.timeline.lod import DETAIL_LIMIT, VIEW_DETAIL_LIMIT
    from explorer.views.timeline import TimelineView

    # four lanes (by kind) of spread-out records, each alone sparse enough to draw item by item
    # (within the lane's and the view's limits), all four together more than a frame holds
    rng = np.random.default_rng(14)
    per_lane = min(DETAIL_LIMIT, VIEW_DETAIL_LIMIT) - 100
    kinds = [0, 1, 2, 3]
    rows = [
        (kind, n * len(kinds) + k + 1, int(rng.integers(0, 14600)), None, 0, None, -1, -1, f"Record {k} {n}")
        for n in range(per_lane)
        for k, kind in enumerate(kinds)
    ]
    data = TimelineData.from_rows(rows)
    monkeypatch.setattr(state.store, "timeline", lambda *args, **kwargs: data)
    widget = TimelineView(state)
    qtbot.addWidget(widget)
    widget.resize(1600, 900)
    widget.show()
    qtbot.waitExposed(widget)
    widget.fit_all()
    lay = widget._src.layout
    counted = {lane: bins.total for lane, bins in lay.bins}
    drawn_lanes = {int(lane) for lane in widget.model.arrangement.lanes.lane[lay.idx].tolist()}
    # every record is drawn as its own mark or counted in its lane's density, never both, never lost
    assert lay.idx.size + sum(counted.values()) == len(rows)
    assert lay.idx.size <= VIEW_DETAIL_LIMIT
    assert counted and drawn_lanes and not drawn_lanes & set(counted)
    assert all(total == per_lane for total in counted.values())
    # zoomed in to a year, every lane is drawn item by item again
    widget.set_view_range(7000, 7365)
    assert widget._src.layout.bins == [] and widget._src.layout.idx.size > 0
