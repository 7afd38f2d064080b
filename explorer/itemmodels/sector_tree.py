"""SectorTreeModel: sectors (and sub-sectors) → organisations → deals, over ids, loaded lazily.

Sectors are few and loaded whole with SQL aggregates for their counts and totals;
organisations load when a sector is expanded and deals when an organisation is
(``canFetchMore``/``fetchMore``), so a million deals never sit in memory at once.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QPersistentModelIndex,
    Qt,
)

from explorer.formatting import usd
from explorer.state import RecordRef
from explorer.store import Filters, Store
from explorer.store.queries import (
    DealRow,
    DealYear,
    OrganisationListing,
    OrganisationRow,
    SectorNode,
    deal_years_of_rows,
    year_of_day,
)

if TYPE_CHECKING:
    from PySide6.QtCore import QObject
    from PySide6.QtGui import QFont

    from explorer.store.scope import FilterScope

Index = QModelIndex | QPersistentModelIndex

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
UNATTRIBUTED = "unattributed"  # the group of a sector's deals with no organisation recorded
UNATTRIBUTED_LABEL = "No organisation recorded"
# A group of more deals than this shows them by the year they start: thousands of rows under
# one organisation are more than anyone scrolls through, and the view lays out every row above
# the one it selects (15,000 of them took 125 ms).
YEAR = "year"
BY_YEAR_ABOVE = 200
UNDATED = -1  # the year of deals with no date
UNDATED_LABEL = "No date"
# A row standing for a run of a listing's rows not shown, between shown ones: selecting a record
# far down a listing of thousands shows it after the first rows and one of these, not every row
# above it (the view lays each out: 5,000 organisations took 70 ms). A click shows them.
GAP = "gap"
REF_ROLE = Qt.ItemDataRole.UserRole + 2
# Plain ints: roles arrive as ints, and an enum attribute lookup per call shows in a repaint.
_DISPLAY = int(Qt.ItemDataRole.DisplayRole.value)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole.value)
_FONT = int(Qt.ItemDataRole.FontRole.value)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole.value)
_RIGHT = int((Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value)
_FONTS: dict[str, QFont] = {}  # made on first use: QtGui loads with the first bold row
# The order the store and a FilterScope list a sector's organisations in (largest total first,
# then name: queries.in_tree_order), which is the tree's default sort.
ROWS_ORDER = (3, Qt.SortOrder.DescendingOrder)


def _font(style: str) -> QFont:
    """The bold (top-level sectors) or italic (gap rows) font."""
    font = _FONTS.get(style)
    if font is None:
        from PySide6.QtGui import QFont

        font = _FONTS[style] = QFont()
        font.setBold(style == "bold")
        font.setItalic(style == "italic")
    return font


@dataclass(eq=False, slots=True)
class Node:
    key: int
    kind: str  # sector / organisation / deal / unattributed / year / gap
    record_id: int
    name: str
    parent: Node | None
    country: str = ""
    deal_count: int | None = None
    total_usd: float | None = None
    sector_id: int | None = None  # the sector this node is listed under
    children: list[Node] = field(default_factory=list)
    fetched: bool = False
    row: int = 0  # position among its siblings (-1 while pending): a list search per parent() is O(n)
    has_more: bool = False
    # Loaded but not yet shown: a sector with tens of thousands of organisations shows them a
    # chunk at a time, as the view scrolls to the end (the view lays out every shown row); a
    # row becomes a node when it is shown.
    pending: Pending = field(default_factory=list)
    # The record ids of children then pending, in that order (None: not worked out since they
    # last changed order): a rename looks through 40 listings of thousands of rows with it.
    listing: np.ndarray | None = None
    deal_ids: np.ndarray | None = None  # a year's: the deals it lists, known before they are read
    gaps: list[Node] | None = None  # its children standing for rows not shown (GAP), in row order

    @property
    def ref(self) -> RecordRef:
        # The no-organisation group stands for its sector when selected, a year for its group.
        if self.kind in (YEAR, GAP) and self.parent is not None:
            return self.parent.ref
        return RecordRef("sector" if self.kind == UNATTRIBUTED else self.kind, self.record_id)


# What a parent holds: shown children are nodes; a sector's organisations still pending are
# rows until shown (thousands may never be), a filter's made only as they are read.
Row = Node | OrganisationRow


def _ids_of(rows: Sequence[Row]) -> np.ndarray:
    """The record ids of ``rows``, in order (a filter's listing has them as a column)."""
    if isinstance(rows, OrganisationListing | _Joined):
        return rows.record_ids
    return np.fromiter(map(_row_id, rows), dtype=np.int64, count=len(rows))


class _Joined(Sequence[Row]):
    """Pending rows in parts read as one: a filter's listing of a sector with the group of its
    deals without an organisation put at its place among them (not copied into one list)."""

    __slots__ = ("_parts",)

    def __init__(self, parts: list[list[Row] | OrganisationListing]) -> None:
        self._parts = [p for p in parts if len(p)]

    @property
    def record_ids(self) -> np.ndarray:
        return np.concatenate([_ids_of(p) for p in self._parts]) if self._parts else np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return sum(map(len, self._parts))

    def _part_at(self, k: int) -> tuple[list[Row] | OrganisationListing, int]:
        at = k + len(self) if k < 0 else k
        if at >= 0:
            for part in self._parts:
                if at < len(part):
                    return part, at
                at -= len(part)
        raise IndexError(k)

    def __getitem__(self, k: int | slice) -> Any:
        if not isinstance(k, slice):
            part, at = self._part_at(k)
            return part[at]
        start, stop, step = k.indices(len(self))
        if step != 1:
            raise ValueError("pending rows are sliced in steps of one")
        parts: list[list[Row] | OrganisationListing] = []
        for part in self._parts:
            n = len(part)
            if stop > 0 and start < n:
                parts.append(part[max(start, 0) : min(stop, n)])
            start, stop = start - n, stop - n
        return _Joined(parts)

    def __setitem__(self, k: int, row: Row) -> None:
        part, at = self._part_at(k)
        part[at] = row  # type: ignore[assignment]  # a listing's part is written organisation rows only

    def __iter__(self) -> Iterator[Row]:
        return itertools.chain.from_iterable(self._parts)


Pending = list[Row] | OrganisationListing | _Joined


def _row_id(item: Row) -> int:
    return item.record_id if item.__class__ is Node else item.id  # type: ignore[union-attr]


def _shown_rows(node: Node) -> int:
    """How many of ``node``'s rows come before its pending ones: its children, a gap counted as
    the rows it stands for."""
    return len(node.children) + sum(len(gap.pending) - 1 for gap in node.gaps or ())


def _locate(node: Node, k: int) -> tuple[Node | None, int]:
    """Where row ``k`` of ``node``'s rows (a gap read as the rows it stands for) is: (None, i)
    for its child i, (gap, j) for row j of a gap, (node, j) for its pending row j."""
    offset = 0
    for gap in node.gaps or ():
        start = gap.row + offset
        if k < start:
            return None, k - offset
        if k < start + len(gap.pending):
            return gap, k - start
        offset += len(gap.pending) - 1
    shown = len(node.children) + offset
    return (None, k - offset) if k < shown else (node, k - shown)


def _listing(node: Node) -> np.ndarray:
    """``node.listing``, worked out again if its rows changed order or number since."""
    count = _shown_rows(node) + len(node.pending)
    if node.listing is None or len(node.listing) != count:
        parts, at = [], 0
        for gap in node.gaps or ():
            parts += [_ids_of(node.children[at : gap.row]), _ids_of(gap.pending)]
            at = gap.row + 1
        node.listing = np.concatenate([*parts, _ids_of(node.children[at:]), _ids_of(node.pending)])
    return node.listing


class _Rows(Sequence[Row]):
    """A parent's rows shown then pending, gaps read as the rows they stand for, in place (not
    copied: a listing may hold tens of thousands)."""

    __slots__ = ("_node",)

    def __init__(self, node: Node) -> None:
        self._node = node

    def __len__(self) -> int:
        return _shown_rows(self._node) + len(self._node.pending)

    def __getitem__(self, k: int) -> Row:  # type: ignore[override]
        node = self._node
        if not node.gaps:
            shown = len(node.children)
            return node.children[k] if k < shown else node.pending[k - shown]
        where, at = _locate(node, k)
        return node.children[at] if where is None else where.pending[at]

    def replace(self, k: int, row: OrganisationRow) -> None:
        """Write row ``k``, one not shown (pending, or in a gap)."""
        where, at = _locate(self._node, k)
        if where is None:
            raise IndexError(k)
        where.pending[at] = row


def _year_order(item: Row) -> int:
    """A year row's place, newest first when sorted in reverse, undated last."""
    year = _row_id(item)
    return -(10**6) if year == UNDATED else year


def _is_sector(item: Row) -> bool:
    return isinstance(item, Node) and item.kind == "sector"


class SectorTreeModel(QAbstractItemModel):
    COLUMNS = ("Name", "Country", "Deals", "Total (USD)")

    def __init__(self, store: Store, parent: QObject | None = None, *, load: bool = True) -> None:
        super().__init__(parent)
        self._store = store
        self._filters = Filters()
        self._scope: FilterScope | None = None  # answers for the store under a filter
        self._keys = itertools.count(1)
        self._nodes: dict[int, Node] = {}
        self._sectors: dict[int, Node] = {}
        self._by_parent: dict[tuple[int, str, int], Node] = {}  # (parent key, kind, id) → child
        self._holders: dict[int, Node] = {}  # key → a node with children or pending rows loaded
        self._years: list[Node] = []  # every year made (a deal's edit may move it to another)
        self._roots: list[Node] = []
        self._sort: tuple[int, Qt.SortOrder] | None = None
        if load:
            self.reload()

    # --- loading ---------------------------------------------------------------------

    def set_store(self, store: Store, *, load: bool = True) -> None:
        self._store = store
        self._filters, self._scope = Filters(), None
        if load:
            self.reload()
        else:
            self.reload([])

    def set_filters(
        self, filters: Filters, scope: FilterScope | None = None, *, sectors: list[SectorNode] | None = None
    ) -> None:
        """Show what passes ``filters``; a FilterScope for them answers without per-node SQL, and
        unfiltered ``sectors`` (store.sector_tree(), read in the background) can be handed in."""
        self._filters = filters
        self._scope = scope if scope is not None and scope.filters == filters else None
        self.reload(sectors if not filters.active else None)

    @property
    def scope(self) -> FilterScope | None:
        return self._scope

    def adopt_scope(self, scope: FilterScope) -> None:
        """Read what opens from now on from ``scope`` (of the filters shown, worked out again
        after a write the rows shown already took in), without reading the tree again."""
        if scope.filters == self._filters:
            self._scope = scope

    @property
    def filters(self) -> Filters:
        return self._filters

    def reload(self, sectors: list[SectorNode] | None = None) -> None:
        self.beginResetModel()
        self._nodes.clear()
        self._sectors.clear()
        self._by_parent.clear()
        self._holders.clear()
        self._years.clear()
        if sectors is None:
            sectors = self._scope.sector_tree() if self._scope is not None else self._store.sector_tree(self._filters)
        self._roots = [self._sector_node(s, None) for s in sectors]
        self._sort_nodes(self._roots)
        self.endResetModel()

    def show_names_only(self, hierarchy: list[tuple[int, str, int | None]]) -> None:
        """The sectors by name, totals blank, while the real tree is being added up."""
        from explorer.store.queries import assemble_sector_tree

        sectors = assemble_sector_tree(hierarchy, [], [], prune=False)
        self.reload(sectors)
        for node in self._sectors.values():
            node.deal_count = node.total_usd = None

    def _new(self, **kwargs: Any) -> Node:
        node = Node(key=next(self._keys), **kwargs)
        self._nodes[node.key] = node
        if node.kind == "sector":
            self._sectors[node.record_id] = node
        if node.parent is not None:
            self._by_parent[(node.parent.key, node.kind, node.record_id)] = node
        return node

    def _sector_node(self, sector: SectorNode, parent: Node | None) -> Node:
        node = self._new(
            kind="sector",
            record_id=sector.id,
            name=sector.name,
            parent=parent,
            deal_count=sector.deal_count,
            total_usd=sector.total_usd,
            sector_id=sector.id,
        )
        node.children = [self._sector_node(child, node) for child in sector.children]
        if node.children:
            self._holders[node.key] = node
        node.has_more = sector.organisation_count > 0 or sector.deal_count > 0
        node.fetched = not node.has_more
        return node

    def _fetch_sector(self, node: Node) -> tuple[list[Row] | OrganisationListing, Node | None]:
        """A sector's organisation rows in ROWS_ORDER (rows, not nodes: a node is made when its
        row is shown, and thousands may never be), and the group of its deals without an
        organisation if it has any (read when it is opened)."""
        scope = self._scope
        rows: list[Row] | OrganisationListing
        if scope is not None:
            rows = scope.organisations_in_sector(node.record_id)
            count, total = scope.unattributed_summary(node.record_id)
        else:
            rows = list(self._store.organisations_in_sector(node.record_id, self._filters))  # a copy: edited
            count, total = self._store.unattributed_summary(node.record_id, self._filters)
        if not count:
            return rows, None
        group = self._new(
            kind=UNATTRIBUTED,
            record_id=node.record_id,
            name=UNATTRIBUTED_LABEL,
            parent=node,
            deal_count=count,
            total_usd=total,
            sector_id=node.record_id,
        )
        group.has_more = True
        return rows, group

    def _fetch(self, node: Node) -> list[Row]:
        scope = self._scope
        if node.kind == YEAR:
            ids = node.deal_ids if node.deal_ids is not None else np.zeros(0, dtype=np.int64)
            rows = scope.deal_rows(ids) if scope is not None else self._store.deal_rows(ids.tolist())
            return [self._deal_node(r, node) for r in rows]
        if node.kind in (UNATTRIBUTED, "organisation") and (node.deal_count or 0) > BY_YEAR_ABOVE and scope is not None:
            organisation = None if node.kind == UNATTRIBUTED else node.record_id
            years = scope.deal_years(organisation, node.sector_id if node.sector_id is not None else node.record_id)
            if years is not None:  # else read whole below, then put in years
                return self._year_nodes(years, node)
        if node.kind == UNATTRIBUTED:
            deals = (
                scope.unattributed_deals(node.record_id)
                if scope is not None
                else self._store.unattributed_deals(node.record_id, self._filters)
            )
            return self._deal_nodes(deals, node)
        if node.kind == "organisation":
            if scope is not None:
                deals = scope.deals_of_organisation(node.record_id, node.sector_id)
            else:
                deals = self._store.deals_of_organisation(node.record_id, node.sector_id, self._filters)
            return self._deal_nodes(deals, node)
        return []

    def _deal_nodes(self, rows: list[DealRow], parent: Node) -> list[Row]:
        """Nodes of a group's deals, by year when they are many."""
        if len(rows) <= BY_YEAR_ABOVE:
            return [self._deal_node(r, parent) for r in rows]
        return self._year_nodes(deal_years_of_rows(rows), parent)

    def _year_nodes(self, years: list[DealYear], parent: Node) -> list[Row]:
        nodes: list[Row] = []
        for year in years:
            node = self._new(
                kind=YEAR,
                record_id=year.year,
                name=UNDATED_LABEL if year.year == UNDATED else str(year.year),
                parent=parent,
                deal_count=int(year.ids.size),
                total_usd=year.total_usd,
                sector_id=parent.sector_id,
                deal_ids=year.ids,
            )
            node.has_more = bool(year.ids.size)
            self._years.append(node)
            nodes.append(node)
        return nodes

    def fetch_deals_of(self, organisations: list[Node]) -> None:
        """Load the deals of several organisations with one read (opening matches under a filter)."""
        scope = self._scope
        todo = [n for n in organisations if n.kind == "organisation" and not n.fetched]
        for node in todo:
            if scope is None or (node.deal_count or 0) > BY_YEAR_ABOVE:
                self.ensure_fetched(node)  # one by one, or by year: a few rows, not every deal
        todo = [n for n in todo if not n.fetched]
        if scope is None or not todo:
            return
        found = scope.deals_of_organisations([(n.record_id, n.sector_id) for n in todo])
        for node in todo:
            node.fetched = True
            self._holders[node.key] = node
            new = [self._deal_node(r, node) for r in found.get((node.record_id, node.sector_id), [])]
            self._insert(node, new)

    def _deal_node(self, row: DealRow, parent: Node) -> Node:
        return self._new(
            kind="deal",
            record_id=row.id,
            name=row.title,
            parent=parent,
            country=row.country,
            total_usd=row.amount_usd,
            sector_id=parent.sector_id,
        )

    CHUNK = 100  # rows shown at a time by a big parent (two screens or so; more scroll in)

    def canFetchMore(self, parent: Index) -> bool:
        # Pending rows are not offered here: QTreeView fetches once per layout, not per scroll,
        # so the view shows them when the user scrolls to the end (show_more).
        node = self._node(parent)
        return node is not None and not node.fetched

    def show_more(self, node: Node) -> bool:
        """Show the next chunk of a big parent's rows; False when all are shown."""
        if not node.pending:
            return False
        self._show_pending(node, self.CHUNK)
        return True

    def fetchMore(self, parent: Index) -> None:
        node = self._node(parent)
        if node is None:
            return
        if node.fetched:
            return
        node.fetched = True
        self._holders[node.key] = node
        node.listing = None
        if node.kind == "sector" and self._sort == ROWS_ORDER:
            # The rows came in order and only the group needs a place, and their ids are read
            # in C. Per-row Python here cost a big sector's listing (20,000 rows) ~10 ms of the
            # GUI thread.
            rows, group = self._fetch_sector(node)
            ids = _ids_of(rows)
            node.pending = rows
            if group is not None:
                at = self._place_of(group, rows)
                node.pending = _Joined([rows[:at], [group], rows[at:]])
                ids = np.insert(ids, at, group.record_id)
                self._hide([group])
            node.listing = np.concatenate([_ids_of(node.children), ids])
        else:
            if node.kind == "sector":
                rows, group = self._fetch_sector(node)
                new: list[Row] = [*rows, *([group] if group is not None else [])]
            else:
                new = self._fetch(node)
            self._sort_nodes(new)
            self._hide(new)
            node.pending = new
        # its ids now, while its rows are being read anyway: a rename or a look-up finds them
        # without a pass over every row then (40 listings of 11,000 at 1e6)
        _listing(node)
        self._show_pending(node, self.CHUNK)

    @staticmethod
    def _hide(items: Iterable[Row]) -> None:
        for item in items:
            if isinstance(item, Node):
                item.row = -1

    def _organisation_node(self, item: Row, parent: Node) -> Node:
        if isinstance(item, Node):
            return item
        return self._new(
            kind="organisation",
            record_id=item.id,
            name=item.name,
            parent=parent,
            country=item.country,
            deal_count=item.deal_count,
            total_usd=item.total_usd,
            sector_id=parent.record_id,
        )

    def _show_pending(self, node: Node, count: int | None) -> None:
        new, node.pending = (node.pending, []) if count is None else (node.pending[:count], node.pending[count:])
        self._put(node, len(node.children), 0, new)

    def _insert(self, node: Node, new: list[Node]) -> None:
        self._sort_nodes(new)
        node.pending = [*new, *node.pending]
        node.listing = None
        self._show_pending(node, len(new))

    def _read_rows(self, node: Node) -> None:
        """Read ``node``'s rows if not yet (``_find`` then shows them up to the one it wants)."""
        if not node.fetched:
            self.fetchMore(self._index_of(node))

    def ensure_fetched(self, node: Node) -> None:
        """Load and show every child of ``node``."""
        self._read_rows(node)
        self._show_pending(node, None)
        while node.gaps:
            self.open_gap(node.gaps[0], None)

    # --- structure -------------------------------------------------------------------

    def _node(self, index: Index) -> Node | None:
        if not index.isValid():
            return None
        return self._nodes.get(index.internalId())

    def node(self, index: Index) -> Node | None:
        return self._node(index)

    def _index_of(self, node: Node | None, column: int = 0) -> QModelIndex:
        if node is None:
            return QModelIndex()
        return self.createIndex(node.row, column, node.key)

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if column < 0 or column >= len(self.COLUMNS) or row < 0:
            return QModelIndex()
        children = self._children_of(parent)
        if row >= len(children):
            return QModelIndex()
        return self.createIndex(row, column, children[row].key)

    def _children_of(self, parent: Index) -> list[Node]:
        node = self._node(parent)
        return self._roots if node is None else node.children

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        node = self._node(index)
        if node is None or node.parent is None:
            return QModelIndex()
        return self._index_of(node.parent)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._children_of(parent))

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(self.COLUMNS)

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        node = self._node(parent)
        if node is None:
            return bool(self._roots) if not parent.isValid() else False
        if parent.column() != 0 or node.kind == GAP:
            return False
        return (
            bool(node.children)
            or bool(node.pending)
            or (not node.fetched and node.has_more)
            or (node.kind == "organisation" and not node.fetched and bool(node.deal_count))
        )

    _FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable  # asked for per row, per layout

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return self._FLAGS

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.TextAlignmentRole and section >= 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        node = self._node(index)
        return None if node is None else self._value(node, index.column(), role)

    _span_iterable = True  # False once a PySide6 build cannot iterate a role span

    def multiData(self, index: Index, roles: QModelRoleDataSpan | QModelRoleData) -> None:
        # A delegate asks seven roles per cell at once: one call here instead of seven data()
        # calls from C++ into Python (most of a repaint's cost).
        if not SectorTreeModel._span_iterable:
            super().multiData(index, roles)  # asks data() role by role
            return
        node = self._node(index)
        column = index.column()
        try:
            # The stubs do not know a span iterates; the builds where it does not are caught here.
            items = list(roles)  # type: ignore[call-overload]
        except TypeError:
            SectorTreeModel._span_iterable = False
            super().multiData(index, roles)
            return
        for item in items:
            value = None if node is None else self._value(node, column, item.role())
            if value is None:
                item.clearData()
            else:
                item.setData(value)

    def _value(self, node: Node, column: int, role: int) -> Any:
        if role == _DISPLAY:
            if column == 0:
                return node.name
            if column == 1:
                return node.country
            if column == 2:
                return "" if node.deal_count is None else f"{node.deal_count:,}"
            if column == 3:
                return "" if node.total_usd is None else usd(node.total_usd) if node.total_usd else "—"
            return None
        if role == _ALIGNMENT:
            return _RIGHT if column >= 2 else None
        if role == _FONT:
            if node.kind == GAP:
                return _font("italic")
            return _font("bold") if node.kind == "sector" and node.parent is None else None
        if role == SORT_ROLE:
            return self._sort_key(node, column)
        if role == REF_ROLE:
            return None if node.kind == GAP else node.ref
        if role == _TOOLTIP and column == 0:
            if node.kind == GAP:
                noun = "organisations" if node.parent is not None and node.parent.kind == "sector" else "deals"
                shown = min(self.CHUNK, len(node.pending))
                return f"{len(node.pending):,} more {noun} here: click (or press Enter) to show the next {shown:,}"
            return f"{node.kind.capitalize()}: {node.name}"
        return None

    # --- sorting ---------------------------------------------------------------------

    @staticmethod
    def _sort_key(node: Row, column: int) -> str | float:
        if column == 0:
            return node.name.lower()
        if column == 1:
            return node.country.lower()
        if column == 2:
            return node.deal_count or 0
        return node.total_usd or 0.0

    def _sort_nodes(self, nodes: list[Node] | list[Row]) -> None:
        """Sort siblings (and their loaded children) by the current sort, keeping rows numbered;
        years stay newest first whatever the sort (undated last), as dates are read."""
        if nodes and isinstance(nodes[0], Node) and nodes[0].kind == YEAR:
            nodes.sort(key=_year_order, reverse=True)
        elif self._sort is not None:
            column, order = self._sort
            nodes.sort(
                key=lambda n: (self._sort_key(n, column), n.name.lower()),
                reverse=order == Qt.SortOrder.DescendingOrder,
            )
        for row, node in enumerate(nodes):
            if not isinstance(node, Node):
                continue  # a pending row: nothing below it yet
            node.row = row
            node.listing = None
            if node.pending or node.gaps:
                # shown rows stay as many; which rows they are follows the new order
                shown = len(node.children) - len(node.gaps or ())
                every: list[Row] = list(_Rows(node))
                for gap in node.gaps or ():
                    self._nodes.pop(gap.key, None)
                node.gaps = None
                self._sort_nodes(every)
                node.children = [self._organisation_node(item, node) for item in every[:shown]]
                node.pending = every[shown:]
                for k, child in enumerate(node.children):
                    child.row = k
                self._hide(node.pending)
            elif node.children:
                self._sort_nodes(node.children)

    def _place_of(self, item: Node, rows: Sequence[Row]) -> int:
        """Where ``item`` goes among ``rows``, which are in ROWS_ORDER (after every row sorting
        before it or equal, as a stable sort places it), by binary search: a full sort would
        call the sort key for each of thousands of rows whenever a sector opens."""
        column, order = ROWS_ORDER

        def key(row: Row) -> tuple[str | float, str]:
            return self._sort_key(row, column), row.name.lower()

        k, lo, hi = key(item), 0, len(rows)
        while lo < hi:
            mid = (lo + hi) // 2
            if (key(rows[mid]) >= k) if order == Qt.SortOrder.DescendingOrder else (key(rows[mid]) <= k):
                lo = mid + 1
            else:
                hi = mid
        return lo

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        kept = [(self._node(i), i.column()) for i in persistent]
        self._sort = (column, order)
        self._sort_nodes(self._roots)
        self.changePersistentIndexList(
            persistent, [self._index_of(n, c) if n is not None and n.row >= 0 else QModelIndex() for n, c in kept]
        )
        self.layoutChanged.emit()

    # --- patching rows in place ---------------------------------------------------------

    def patch_rows(
        self,
        deals: dict[int, DealRow],
        organisations: dict[int, tuple[str, str]],
        amounts: dict[int, tuple[float, int | None, list[int]]] | None = None,
    ) -> bool:
        """Show new names, countries and amounts in the rows that show them, loaded or still
        pending, without reading the tree again. ``deals``: the deals' rows as they are now;
        ``organisations``: id → (name, country); ``amounts``: deal id → (how much its USD
        amount changed, its sector, its organisations), added to the totals it counts in (its
        organisations' in that sector, or the sector's group of deals without one, the sector
        and those above it). False (nothing changed) when a row would move among its siblings
        (sorted by name or country, or by the figure that changed), or when no row shows them:
        then the caller reads the tree again."""
        if self._sort is None or self._sort[0] in (0, 1):
            return False
        # where an amount counts: (kind, id, sector listed under) → change of total
        added: dict[tuple[str, int, int | None], float] = {}
        for delta, sector_id, org_ids in (amounts or {}).values():
            if sector_id is None:
                continue
            counted_in: list[tuple[str, int, int | None]] = [("organisation", o, sector_id) for o in org_ids]
            for where in counted_in or [(UNATTRIBUTED, sector_id, sector_id)]:
                added[where] = added.get(where, 0.0) + delta
            node: Node | None = self._sectors.get(sector_id)
            while node is not None:
                above = ("sector", node.record_id, None)
                added[above] = added.get(above, 0.0) + delta
                node = node.parent
        years = self._years_patched(deals, amounts or {}, added)
        if years is None:
            return False
        # (parent, its rows, position, the row as it becomes)
        edits: list[tuple[Node | None, Sequence[Row], int, Row]] = []
        organisations_counted = {i for kind, i, _s in added if kind == "organisation"}
        ids = set(deals) | set(organisations) | {i for kind, i, _s in added if kind != YEAR} | years
        for parent, siblings, look_at in self._rows_to_look_at(
            ids, bool(organisations) or bool(organisations_counted), {s for _k, _i, s in added if s is not None}
        ):
            listed_under = parent.record_id if parent is not None and parent.kind == "sector" else None
            for k in look_at:
                new = self._patched(siblings[k], deals, organisations, added, listed_under)
                if new is not None:
                    edits.append((parent, siblings, k, new))
        if not edits:
            return False  # no row shows them (or shows them as they are): read again, as before
        column, order = self._sort
        descending = order == Qt.SortOrder.DescendingOrder
        changed = {id(siblings[k]): new for _p, siblings, k, new in edits}

        def key(item: Row) -> tuple[str | float, str]:
            item = changed.get(id(item), item)
            return self._sort_key(item, column), item.name.lower()

        def before(a: Row, b: Row) -> bool:  # a may stand before b in this order
            if _is_sector(a) != _is_sector(b) or (isinstance(a, Node) and a.kind == YEAR):
                return True  # a sector's sub-sectors come first, its organisations after them; years by date
            return key(a) >= key(b) if descending else key(a) <= key(b)

        for _parent, siblings, k, _new in edits:
            if k > 0 and not before(siblings[k - 1], siblings[k]):
                return False
            if k + 1 < len(siblings) and not before(siblings[k], siblings[k + 1]):
                return False
        for parent, siblings, k, new in edits:
            item = siblings[k]
            if isinstance(item, Node):
                item.name, item.country, item.total_usd = new.name, new.country, new.total_usd
                if self._shown(item):
                    self.dataChanged.emit(self._index_of(item, 0), self._index_of(item, len(self.COLUMNS) - 1))
            elif parent is not None:  # an organisation row not shown: its place among them
                _Rows(parent).replace(k, cast(OrganisationRow, new))
        return True

    def _years_patched(
        self,
        deals: dict[int, DealRow],
        amounts: dict[int, tuple[float, int | None, list[int]]],
        added: dict[tuple[str, int, int | None], float],
    ) -> set[int] | None:
        """Add the amounts' changes to the years listing their deals (``added``, by the year's
        node key); the years touched, or None when a deal's new date puts it in another year."""
        if not self._years or not (deals or amounts):
            return set()
        changed = np.fromiter({*deals, *amounts}, dtype=np.int64)
        touched: set[int] = set()
        for year in self._years:
            if year.deal_ids is None:
                continue
            for deal_id in year.deal_ids[np.isin(year.deal_ids, changed)].tolist():
                row = deals.get(deal_id)
                if row is not None and year_of_day(row.start_day) != year.record_id:
                    return None
                delta = amounts.get(deal_id, (0.0, None, []))[0]
                if delta:
                    where = (YEAR, year.key, None)
                    added[where] = added.get(where, 0.0) + delta
                    touched.add(year.record_id)
        return touched

    def _rows_to_look_at(
        self, ids: set[int], organisations: bool, sectors: set[int]
    ) -> Iterator[tuple[Node | None, Sequence[Row], list[int]]]:
        """(parent, its rows shown then pending, positions of rows that may show one of ``ids``)
        per parent holding any. A sector's pending organisation rows (hundreds of thousands
        once a much-listed organisation was looked for) are looked at only when an
        organisation changed (``organisations``) or a total listed in the sector did."""
        roots = [k for k, item in enumerate(self._roots) if item.record_id in ids]
        yield None, self._roots, roots
        wanted = np.fromiter(ids, dtype=np.int64, count=len(ids))
        for node in list(self._holders.values()):
            listing = _listing(node)
            found = np.flatnonzero(np.isin(listing, wanted, assume_unique=False)).tolist() if len(listing) else []
            if node.pending and not (node.kind != "sector" or organisations or node.record_id in sectors):
                shown = _shown_rows(node)
                found = [k for k in found if k < shown]
            if found:
                yield node, _Rows(node), found

    @staticmethod
    def _patched(
        item: Row,
        deals: dict[int, DealRow],
        organisations: dict[int, tuple[str, str]],
        added: dict[tuple[str, int, int | None], float],
        listed_under: int | None,
    ) -> Row | None:
        """``item`` as it becomes (a stand-in Node of which only the name, country and total are
        read, or a new pending row), or None when nothing it shows changed."""
        if isinstance(item, Node):
            name, country, total = item.name, item.country, item.total_usd
            if item.kind == "deal" and item.record_id in deals:
                row = deals[item.record_id]
                name, country, total = row.title, row.country, row.amount_usd
            elif item.kind == "organisation" and item.record_id in organisations:
                name, country = organisations[item.record_id]
            where = None if item.kind == "sector" else item.sector_id
            counted = (YEAR, item.key, None) if item.kind == YEAR else (item.kind, item.record_id, where)
            delta = added.get(counted) if item.kind != "deal" else None
            if delta:
                total = (total or 0.0) + delta
            if (name, country, total) == (item.name, item.country, item.total_usd):
                return None
            return Node(
                key=-1,
                kind=item.kind,
                record_id=item.record_id,
                name=name,
                parent=None,
                country=country,
                deal_count=item.deal_count,
                total_usd=total,
            )
        found = organisations.get(item.id, (item.name, item.country))
        delta = added.get(("organisation", item.id, listed_under), 0.0)
        if found == (item.name, item.country) and not delta:
            return None
        return item._replace(name=found[0], country=found[1], total_usd=item.total_usd + delta)

    # --- finding records -------------------------------------------------------------

    @staticmethod
    def _shown(node: Node) -> bool:
        """Whether the view has a row for ``node`` (no hidden row above it)."""
        at: Node | None = node
        while at is not None:
            if at.row < 0:
                return False
            at = at.parent
        return True

    def _find(self, parent: Node, kind: str, record_id: int) -> Node | None:
        found = self._by_parent.get((parent.key, kind, record_id))
        if (found is None or found.row < 0) and (parent.pending or parent.gaps):
            # not shown yet: show it (a pending row is an organisation's; a node, the one found)
            rows = _Rows(parent)
            for k in np.flatnonzero(_listing(parent) == record_id).tolist():
                item = rows[k]
                if item is found or (kind == "organisation" and not isinstance(item, Node)):
                    self._reveal(parent, k)
                    return self._by_parent.get((parent.key, kind, record_id))
        return found

    def _reveal(self, parent: Node, k: int) -> None:
        """Show ``parent``'s row ``k``: with the chunks up to it when it is near the rows shown,
        else alone, with a gap row for the rows between."""
        where, at = _locate(parent, k)
        if where is None:
            return
        if where is parent:
            if at < self.CHUNK:
                self._show_pending(parent, at + 1)
                return
            # the rows after it too are shown as a gap row: none left hidden below it unmarked
            rows, parent.pending = parent.pending, []
            self._put(
                parent,
                len(parent.children),
                0,
                [self._gap(rows[:at], parent), rows[at], *self._run(rows[at + 1 :], parent)],
            )
            return
        rows = where.pending
        self._put(parent, where.row, 1, [*self._run(rows[:at], parent), rows[at], *self._run(rows[at + 1 :], parent)])

    def _run(self, rows: Pending, parent: Node) -> list[Row]:
        """Rows to show between others: themselves when few, else a gap standing for them."""
        if not len(rows):
            return []
        return [self._gap(rows, parent)] if len(rows) > self.CHUNK else list(rows)

    def _gap(self, rows: Pending, parent: Node) -> Node:
        gap = self._new(kind=GAP, record_id=0, name=f"⋯ {len(rows):,} more", parent=parent, sector_id=parent.sector_id)
        gap.pending, gap.fetched = rows, True  # rows pending are hidden already
        return gap

    def _put(self, parent: Node, at: int, removed: int, items: Iterable[Row]) -> None:
        """Put ``items`` (as nodes) in place of ``parent``'s ``removed`` children from row ``at``."""
        index = self._index_of(parent)
        children = parent.children
        if removed:
            self.beginRemoveRows(index, at, at + removed - 1)
            for gone in children[at : at + removed]:
                self._nodes.pop(gone.key, None)
            del children[at : at + removed]
            for row in range(at, len(children)):
                children[row].row = row
            self.endRemoveRows()
        nodes = [self._organisation_node(item, parent) for item in items]
        if nodes:
            self.beginInsertRows(index, at, at + len(nodes) - 1)
            children[at:at] = nodes
            for row in range(at, len(children)):
                children[row].row = row
            self.endInsertRows()
        if removed or any(node.kind == GAP for node in nodes):
            parent.gaps = [child for child in children if child.kind == GAP] or None

    def open_gap(self, gap: Node, count: int | None = CHUNK) -> None:
        """Show the first ``count`` rows a gap stands for (None: all); the rest stay a gap below."""
        parent, rows = gap.parent, gap.pending
        if parent is None or gap.kind != GAP:
            return
        if count is None or len(rows) <= count + count // 2:
            head, rest = list(rows), []
        else:
            head, rest = list(rows[:count]), [self._gap(rows[count:], parent)]
        self._put(parent, gap.row, 1, [*head, *rest])

    def _holder_of(self, group: Node, deal_id: int) -> Node | None:
        """The row a deal of ``group`` is listed under: the group, or its year when the group
        lists its deals by year (read and shown up to it)."""
        self._read_rows(group)
        years = [item for item in _Rows(group) if isinstance(item, Node) and item.kind == YEAR]
        if not years:
            return group
        for year in years:
            if year.deal_ids is not None and bool((year.deal_ids == deal_id).any()):
                return self._find(group, YEAR, year.record_id)
        return None

    def _sector_path(self, sector_id: int) -> Node | None:
        return self._sectors.get(sector_id)

    def sector_node(self, sector_id: int) -> Node | None:
        return self._sectors.get(sector_id)

    def index_of_node(self, node: Node) -> QModelIndex:
        return self._index_of(node)

    def loaded_parents(self) -> list[Node]:
        """Sectors, organisations whose deals are loaded and their years, in tree order."""
        out: list[Node] = []
        stack = list(reversed(self._roots))
        while stack:
            node = stack.pop()
            if node.children:
                out.append(node)
                if node.kind == "sector" or node.children[0].kind == YEAR:
                    stack.extend(reversed(node.children))
        return out

    def loaded_nodes(self, kind: str) -> list[Node]:
        """Nodes of one kind loaded so far, in tree order."""
        out: list[Node] = []
        stack = list(reversed(self._roots))
        while stack:
            node = stack.pop()
            if node.kind == kind:
                out.append(node)
            if kind != "sector" or node.kind == "sector":
                stack.extend(reversed(node.children))
        return out

    def indexes_for(self, ref: RecordRef) -> list[QModelIndex]:
        """Indexes showing a record (fetching what is needed); empty if the tree hides it. A
        big listing is shown up to the record's row, not whole: an organisation listed in
        twenty sectors of 20,000 rows each would otherwise make 400,000 rows (and keep them)."""
        nodes: list[Node] = []
        if ref.record_type == "sector":
            node = self._sector_path(ref.record_id)
            nodes = [node] if node else []
        elif ref.record_type == "organisation":
            for sector_id in self._store.organisation_sectors(ref.record_id):
                sector = self._sector_path(sector_id)
                if sector is None:
                    continue
                self._read_rows(sector)
                found = self._find(sector, "organisation", ref.record_id)
                if found:
                    nodes.append(found)
        elif ref.record_type == "deal":
            deal_sector, org_ids = self._store.deal_placement(ref.record_id)
            sector = self._sector_path(deal_sector) if deal_sector is not None else None
            if sector is not None:
                self._read_rows(sector)
                groups = (
                    [self._find(sector, "organisation", o) for o in org_ids]
                    if org_ids
                    else [self._find(sector, UNATTRIBUTED, sector.record_id)]
                )
                for group in groups:
                    holder = None if group is None else self._holder_of(group, ref.record_id)
                    if holder is None:
                        continue
                    self._read_rows(holder)
                    found = self._find(holder, "deal", ref.record_id)
                    if found:
                        nodes.append(found)
        return [self._index_of(n) for n in nodes]

    def visible_refs(self) -> set[RecordRef]:
        """Every record the tree shows, loading all levels (for tests and small data)."""
        out: set[RecordRef] = set()
        stack = list(self._roots)
        while stack:
            node = stack.pop()
            self.ensure_fetched(node)
            out.add(node.ref)
            stack.extend(node.children)
        return out
