"""Label placement, pure: greedy by priority, never two kept labels overlapping."""

from __future__ import annotations

import itertools

import numpy as np

from explorer import timeline as tm
from explorer.views import timeline_items as ti


def _overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_higher_priority_wins_and_touching_edges_are_not_overlap():
    rects = np.array([[0, 0, 100, 10], [50, 5, 150, 15], [100, 0, 200, 10], [0, 20, 10, 30]], dtype=float)
    kept = tm.place_labels(rects, np.array([0.0, 5.0, 0.0, 0.0]))
    assert kept.tolist() == [False, True, False, True]  # the second beats both it overlaps
    kept = tm.place_labels(rects, np.zeros(4))
    assert kept.tolist() == [True, False, True, True]  # ties: first come; [0,100] and [100,200] touch


def test_a_group_keeps_its_first_candidate_that_fits():
    rects = np.array([[0, 0, 100, 10], [10, 0, 90, 10], [10, 10, 90, 20], [10, 20, 90, 30]], dtype=float)
    group = np.array([0, 1, 1, 1])
    kept = tm.place_labels(rects, np.array([9.0, 1.0, 1.0, 1.0]), group)
    assert kept.tolist() == [True, False, True, False]  # moved one slot down, not placed twice


def test_random_labels_never_overlap_and_greedy_is_maximal():
    rng = np.random.default_rng(5)
    n = 600
    x0 = rng.uniform(0, 1400, n)
    y0 = rng.integers(0, 40, n) * 15.0 + rng.uniform(-6, 6, n)
    rects = np.column_stack((x0, y0, x0 + rng.uniform(20, 300, n), y0 + 18.0))
    priority = rng.uniform(0, 3, n)
    kept = tm.place_labels(rects, priority)
    idx = np.flatnonzero(kept)
    assert 0 < idx.size < n
    for i, j in itertools.combinations(idx.tolist(), 2):
        assert not _overlaps(rects[i], rects[j])
    # each dropped label overlaps a kept one of at least its priority
    for i in np.flatnonzero(~kept).tolist():
        assert any(_overlaps(rects[i], rects[j]) and priority[j] >= priority[i] for j in idx.tolist())


def test_priority_is_selected_then_amount_then_the_rest():
    p = tm.label_priority(np.array([False, False, True, False]), np.array([5e9, 2e8, np.nan, np.nan]))
    assert p[2] > p[0] > p[1] > p[3]


def test_distinguishing_tails_name_where_similar_titles_part():
    titles = [
        "Automaker plant capacity in Gujarat",
        "Automaker plant capacity in Karnataka",
        "Nippon Steel expansion in Gujarat",
        "Nippon Steel expansion in Andhra Pradesh",
        "15th India–Japan Annual Summit",
        "Solar park",
        "Solar park",
    ]
    tails = tm.distinguishing_tails(titles)
    assert tails[:4] == ["Gujarat", "Karnataka", "Gujarat", "Andhra Pradesh"]
    assert tails[4:] == ["", "", ""]  # nothing alike; exact duplicates need another name


def test_eliding_keeps_the_distinguishing_words(qapp):
    from PySide6.QtGui import QFont

    widths = ti.TextWidths(QFont())
    text = "Automaker plant capacity in Karnataka"
    short = widths.elide(text, widths.width(text) * 0.7, keep="Karnataka")
    assert short.endswith(" Karnataka") and "…" in short
    assert widths.width(short) <= widths.width(text) * 0.7
    plain = widths.elide(text, widths.width(text) * 0.7)
    assert plain.endswith("…") and "Karnataka" not in plain


def test_density_profile_fills_the_gaps_of_a_barcode():
    # every third column holds a record, the rest none: drawn per column that is a barcode
    column = np.arange(0, 300, 3)
    bins = tm.Bins(column, np.full(column.size, 5), np.zeros(column.size), np.zeros(column.size, dtype=np.int64))
    xs, share = tm.density_profile(bins, 600.0)
    assert np.all(np.diff(xs) == bins.bin_px)  # one shape, no gaps
    inner = share[10:-10]
    assert inner.max() - inner.min() < 0.05 and share.max() == 1.0  # an even density reads even
    # a busier stretch stands higher, and sparse stretches stay visible beside it
    counts = np.where(column < 150, 50, 2)
    xs, share = tm.density_profile(
        tm.Bins(column, counts, np.zeros(column.size), np.zeros(column.size, dtype=int)), 600.0
    )
    assert share[xs < 200].mean() > 3 * share[(xs > 400) & (xs < 550)].mean() > 0.3
