"""Which lane and colour each timeline record gets, per pair of modes (kind, sector, country).

Pure numpy and QColor values, no widget: the timeline works an arrangement out on the GUI
thread, or the background job of new filters works out the arrangement of its subset (tens of
thousands of records take milliseconds the window would otherwise be held).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtGui import QColor

from explorer import schema
from explorer.store import TimelineData
from explorer.store.queries import TIMELINE_TYPES, TYPE_CODE
from explorer.views.timeline_items import LaneIndex


def _kind_lanes() -> tuple[tuple[str, tuple[str, ...]], ...]:
    lanes: dict[str, list[str]] = {}
    for name in TIMELINE_TYPES:
        lanes.setdefault(str(schema.kind(name).lane), []).append(name)
    return tuple((lane, tuple(types)) for lane, types in lanes.items())


# The lanes of "by kind", in order, each with the types drawn in it (from the registry).
KIND_LANES: tuple[tuple[str, tuple[str, ...]], ...] = _kind_lanes()
# Each type's name in the legend.
KIND_NAMES = {name: schema.kind(name).legend_label for name in TIMELINE_TYPES}
# Tableau 10 without its grey: mid-tones that hold up on light and dark backgrounds.
QUALITATIVE = ("#4E79A7", "#F28E2B", "#59A14F", "#B07AA1", "#76B7B2", "#E15759", "#EDC948", "#FF9DA7", "#9C755F")
# India saffron, Japan red read naturally; beyond that the qualitative palette.
COUNTRY_COLOURS = ("#F28E2B", "#E15759", "#4E79A7", "#59A14F", "#B07AA1")
NONE_COLOUR = "#9A9A9A"
NO_SECTOR = "No sector"
NO_COUNTRY = "Both / none"


def positions(rows: np.ndarray) -> np.ndarray:
    """Row positions in the narrowest integer type that holds them: a million-record timeline
    keeps several such arrays, and int32 halves them."""
    return rows.astype(np.int32) if rows.size < 2**31 - 1 else rows


@dataclass(frozen=True)
class Groupings:
    """The sectors and countries records are grouped by: replaced on reload, never edited."""

    sector_roots: tuple[tuple[int, str], ...] = ()  # top-level sectors, in lane order
    sector_root: dict[int, int] | None = None  # any sector → its top-level sector
    countries: tuple[tuple[int, str], ...] = ()

    @classmethod
    def of(cls, hierarchy: list[tuple[int, str, int | None]], countries: list[tuple[int, str]]) -> Groupings:
        parents = {sid: parent for sid, _name, parent in hierarchy}
        root_of: dict[int, int] = {}
        for sid in parents:
            root, seen = sid, set()
            while parents.get(root) is not None and root not in seen:
                seen.add(root)
                root = parents[root]  # type: ignore[assignment]
            root_of[sid] = root
        roots = tuple((sid, name) for sid, name, parent in hierarchy if parent is None)
        return cls(roots, root_of, tuple(countries))

    def sector_codes(self, sector_ids: np.ndarray) -> np.ndarray:
        """Index of each record's top-level sector in ``sector_roots`` (their count when none)."""
        order = {sid: k for k, (sid, _name) in enumerate(self.sector_roots)}
        none = len(self.sector_roots)
        table = {s: order.get(r, none) for s, r in (self.sector_root or {}).items()}
        return _lookup(sector_ids, table, none)

    def country_codes(self, country_ids: np.ndarray) -> np.ndarray:
        none = len(self.countries)
        return _lookup(country_ids, {cid: k for k, (cid, _name) in enumerate(self.countries)}, none)


def _lookup(keys: np.ndarray, table: dict[int, int], missing: int) -> np.ndarray:
    """``table[key]`` for every key (``missing`` where absent), through a dense numpy array."""
    if keys.size == 0:
        return np.zeros(0, dtype=np.int64)
    top = max(int(keys.max()), max(table, default=0)) + 2
    dense = np.full(top, missing, dtype=np.int64)
    for key, value in table.items():
        if key >= 0:
            dense[key] = value
    return dense[np.where(keys >= 0, keys, top - 1)]


@dataclass(frozen=True)
class Lanes:
    mode: str
    lane: np.ndarray  # int16 lane per record
    labels: list[str]
    order: list[np.ndarray]  # per lane: its records' positions, by start


@dataclass(frozen=True)
class Colours:
    mode: str
    code: np.ndarray  # int16 colour per record, an index into ``colours``
    colours: list[QColor]
    legend: list[tuple[str, QColor]]  # the colours records use, with their names


@dataclass(frozen=True)
class Arrangement:
    """Lanes and colours of one set of records, and the per-lane index a frame draws from."""

    data: TimelineData
    groupings: Groupings
    lanes: Lanes
    colours: Colours
    index: list[LaneIndex]

    def fits(self, data: TimelineData, groupings: Groupings, lane_mode: str, colour_mode: str) -> bool:
        return (
            self.data is data
            and self.groupings is groupings
            and self.lanes.mode == lane_mode
            and self.colours.mode == colour_mode
        )


def lanes_of(data: TimelineData, lo: np.ndarray, mode: str, groupings: Groupings) -> Lanes:
    n = len(data)
    lane = np.zeros(n, dtype=np.int64)
    if mode == "kind":
        labels = [name for name, _ in KIND_LANES]
        for k, (_name, types) in enumerate(KIND_LANES):
            for t in types:
                lane[data.record_type == TYPE_CODE[t]] = k
    elif mode == "sector":
        none = len(groupings.sector_roots)
        roots = groupings.sector_codes(data.sector_id)
        used = sorted(set(roots.tolist())) if n else []
        names = [name for _sid, name in groupings.sector_roots] + [NO_SECTOR]
        remap = np.zeros(none + 1, dtype=np.int64)
        remap[np.array(used, dtype=np.int64)] = np.arange(len(used))
        lane = remap[roots] if n else np.zeros(0, dtype=np.int64)
        labels = [names[u] for u in used] or [NO_SECTOR]
    else:
        lane = groupings.country_codes(data.country_id)
        labels = [name for _cid, name in groupings.countries] + [NO_COUNTRY]
    lane16 = lane.astype(np.int16) if n else np.zeros(0, dtype=np.int16)
    order = []
    for k in range(len(labels)):
        members = positions(np.flatnonzero(lane16 == k))
        order.append(members[np.argsort(lo[members], kind="stable")])
    return Lanes(mode, lane16, labels, order)


def colours_of(data: TimelineData, mode: str, groupings: Groupings) -> Colours:
    n = len(data)
    if mode == "kind":
        names = [KIND_NAMES[t] for t in TIMELINE_TYPES]
        colours = [QColor(QUALITATIVE[k]) for k in range(len(names))]
        codes = data.record_type.astype(np.int64)
    elif mode == "sector":
        none = len(groupings.sector_roots)
        codes = groupings.sector_codes(data.sector_id)
        names = [name for _sid, name in groupings.sector_roots] + [NO_SECTOR]
        colours = [QColor(QUALITATIVE[k % len(QUALITATIVE)]) for k in range(none)] + [QColor(NONE_COLOUR)]
    else:
        none = len(groupings.countries)
        codes = groupings.country_codes(data.country_id)
        names = [name for _cid, name in groupings.countries] + [NO_COUNTRY]
        colours = [QColor(COUNTRY_COLOURS[k % len(COUNTRY_COLOURS)]) for k in range(none)] + [QColor(NONE_COLOUR)]
    code = codes.astype(np.int16) if n else np.zeros(0, dtype=np.int16)
    used = np.bincount(code, minlength=len(names)) if n else np.zeros(len(names), dtype=np.int64)
    legend = [(names[k], colours[k]) for k in range(len(names)) if used[k]]
    return Colours(mode, code, colours, legend)


def arrange(
    data: TimelineData,
    lo: np.ndarray,
    hi: np.ndarray,
    lane_mode: str,
    colour_mode: str,
    groupings: Groupings,
    reuse: Arrangement | None = None,
) -> Arrangement:
    """The arrangement of ``data`` (``lo``/``hi``: each record's drawn extent in days). What
    ``reuse`` already worked out for the same records and groupings is kept: switching the
    colours of a million records does not sort them into lanes again."""
    same = reuse if reuse is not None and reuse.data is data and reuse.groupings is groupings else None
    lanes = same.lanes if same and same.lanes.mode == lane_mode else lanes_of(data, lo, lane_mode, groupings)
    colours = same.colours if same and same.colours.mode == colour_mode else colours_of(data, colour_mode, groupings)
    amount = data.amount_usd
    index = [LaneIndex(lo[g], hi[g], amount[g], colours.code[g]) for g in lanes.order]
    return Arrangement(data, groupings, lanes, colours, index)
