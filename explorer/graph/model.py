"""The relationship map's graph, without Qt: nodes (records, and groups standing for the
neighbours not drawn), typed edges from the schema's links, the ego network of a selection,
paths between two records, deals folded into organisation ↔ organisation edges, and filtering
by dates and by what passes the global filters.

Records are named ``(record type, id)``; a group's node is ``("more", n)``. The store's
queries (explorer.store.graph) come in through a :class:`Reader`, so tests can hand in any.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from explorer import schema
from explorer.store.graph import EdgeRow, Neighbourhood, NodeInfo, Overflow, Ref

Key = tuple[str, int]
MORE = "more"  # the type of a group node standing for neighbours not drawn
COLLAPSED = "collapsed.deal"  # organisation ↔ organisation: the deals they share, folded
OVERVIEW = "overview.deals"  # sector ↔ country: deals in the sector with an organisation from the country
HOP_CAPS = (60, 8)  # neighbours of one kind drawn per record: on the first hop, on the second
NODE_BUDGET = 400  # past this many nodes a map stops being read and starts being a hairball
# Records linked to nearly everything: drawn when one link away, but not gone through on the
# second hop (every company of a country, everything a source is cited by) unless a root.
HUB_TYPES = ("country", "sector", "source")
FRONTIER = 100  # records gone through on a second hop (the first read, the largest by USD of each kind)
PATH_FRONTIER = 2_000  # records looked at per side and hop when searching for paths


class Reader(Protocol):
    def neighbours(self, refs: Iterable[Ref], cap: int, *, by_amount: bool = True) -> Neighbourhood: ...

    def nodes(self, refs: Iterable[Ref]) -> Mapping[Ref, NodeInfo]: ...


@dataclass
class Node:
    key: Key
    label: str
    hop: int = 0
    start_day: float | None = None
    end_day: float | None = None
    amount_usd: float | None = None
    group: Overflow | None = None  # a group node: what it stands for
    hidden: int = 0  # neighbours of this record not drawn (a second hop's caps)

    @property
    def record_type(self) -> str:
        return self.group.other_type if self.group is not None else self.key[0]

    @property
    def is_group(self) -> bool:
        return self.group is not None

    @property
    def dated(self) -> bool:
        return self.start_day is not None


@dataclass(frozen=True)
class Edge:
    """``a`` holds the link (a deal's pledge), ``b`` is pointed at; ``relation`` reads from a."""

    a: Key
    b: Key
    type_key: str
    relation: str
    count: int = 1  # folded deals: how many; a group's edge: how many it stands for
    usd: float = 0.0

    def other(self, key: Key) -> Key:
        return self.b if key == self.a else self.a


@dataclass
class Graph:
    nodes: dict[Key, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    roots: tuple[Key, ...] = ()
    notes: list[str] = field(default_factory=list)  # what was capped, folded or filtered, in words

    def __len__(self) -> int:
        return len(self.nodes)

    def edge_keys(self) -> set[tuple[Key, Key, str]]:
        return {(e.a, e.b, e.type_key) for e in self.edges}

    def adjacency(self) -> dict[Key, list[Edge]]:
        out: dict[Key, list[Edge]] = {k: [] for k in self.nodes}
        for e in self.edges:
            out[e.a].append(e)
            out[e.b].append(e)
        return out

    def degree(self) -> dict[Key, int]:
        return {k: len(v) for k, v in self.adjacency().items()}

    def neighbours(self, key: Key) -> set[Key]:
        return {e.other(key) for e in self.edges if key in (e.a, e.b)}

    def edges_of(self, key: Key) -> list[Edge]:
        return [e for e in self.edges if key in (e.a, e.b)]

    def merged(self, other: Graph) -> Graph:
        """This graph with ``other``'s nodes and edges added (expanding a node)."""
        nodes = dict(self.nodes)
        for k, n in other.nodes.items():
            if k not in nodes or nodes[k].is_group:
                nodes[k] = replace(n, hop=min(n.hop, nodes[k].hop) if k in nodes else n.hop)
            else:
                nodes[k] = replace(nodes[k], hidden=min(nodes[k].hidden, n.hidden) if n.hop == 0 else nodes[k].hidden)
        seen = self.edge_keys()
        edges = list(self.edges) + [e for e in other.edges if (e.a, e.b, e.type_key) not in seen]
        roots = tuple(dict.fromkeys(self.roots + other.roots))
        return _pruned(Graph(nodes, edges, roots, list(dict.fromkeys(self.notes + other.notes))))


def _node(info: NodeInfo | None, key: Key, hop: int) -> Node:
    if info is None:
        return Node(key, f"{schema.label(key[0])} {key[1]}", hop)
    return Node(key, info.label, hop, info.start_day, info.end_day, info.amount_usd)


def _group_label(o: Overflow) -> str:
    label = schema.label(o.other_type).lower()
    more = o.total - o.shown
    return f"+{more:,} more {label}{'s' if more != 1 else ''}"


def ego(reader: Reader, roots: Iterable[Ref], hops: int = 2, budget: int = NODE_BUDGET) -> Graph:
    """The records within ``hops`` links of ``roots``: every kind of link, at most 60 of a kind
    per root (the largest by USD first, the rest one group node saying how many) and a few per
    record on the second hop, within ``budget`` nodes."""
    root_keys = tuple(dict.fromkeys((str(t), int(i)) for t, i in roots))
    graph = Graph(roots=root_keys)
    if not root_keys:
        return graph
    infos = dict(reader.nodes(root_keys))
    for k in root_keys:
        graph.nodes[k] = _node(infos.get(k), k, 0)
    frontier: list[Key] = list(root_keys)
    groups = 0
    for hop in range(1, max(1, hops) + 1):
        if not frontier:
            break
        room = budget - len(graph.nodes)
        if room <= 0:
            graph.notes.append(f"Stopped at {len(graph.nodes):,} records: expand a node to see further.")
            break
        first = hop == 1
        cap = HOP_CAPS[0] if first else max(1, min(HOP_CAPS[1], room // max(1, len(frontier))))
        found = reader.neighbours(frontier, cap, by_amount=first)
        new = [k for e in found.edges for k in (e.source, e.target) if k not in graph.nodes]
        new = list(dict.fromkeys(new))
        if len(new) > room:  # the records of the frontier's first neighbours, in the order read
            kept = set(new[:room])
            graph.notes.append(f"{len(new) - room:,} records at {hop} links left out to keep the map readable.")
        else:
            kept = set(new)
        infos = dict(reader.nodes(kept))
        for k in new:
            if k in kept:
                graph.nodes[k] = _node(infos.get(k), k, hop)
        seen = graph.edge_keys()
        for e in found.edges:
            if e.source in graph.nodes and e.target in graph.nodes and (e.source, e.target, e.type_key) not in seen:
                seen.add((e.source, e.target, e.type_key))
                graph.edges.append(Edge(e.source, e.target, e.type_key, e.relation))
        for o in found.overflow:
            if first:
                groups += 1
                key: Key = (MORE, groups)
                graph.nodes[key] = Node(key, _group_label(o), hop, group=o)
                a, b = (o.ref, key) if o.outgoing else (key, o.ref)
                graph.edges.append(Edge(a, b, o.type_key, "", count=o.total - o.shown))
                graph.notes.append(
                    f"{graph.nodes[o.ref].label if o.ref in graph.nodes else o.ref}: {o.shown} of "
                    f"{o.total:,} {schema.label(o.other_type).lower()}s drawn, the rest as one node."
                )
            elif o.ref in graph.nodes:
                graph.nodes[o.ref].hidden += o.total - o.shown
        frontier = [k for k in new if k in kept and k[0] not in HUB_TYPES]
        if len(frontier) > FRONTIER and hop < hops:
            graph.notes.append(
                f"{len(frontier) - FRONTIER:,} records one link further are not followed: double-click one to."
            )
            frontier = _spread(frontier, FRONTIER)
        hubs = [k for k in new if k in kept and k[0] in HUB_TYPES]
        if hubs and hop < hops:
            graph.notes.append("Countries, sectors and sources are not followed further: double-click one to.")
    return graph


def _spread(keys: list[Key], n: int) -> list[Key]:
    """``n`` of ``keys`` taken round-robin by type (the first of each kind first), so a second
    hop goes through some of each kind rather than the first hundred companies."""
    by_type: dict[str, list[Key]] = {}
    for k in keys:
        by_type.setdefault(k[0], []).append(k)
    out: list[Key] = []
    queues = [list(reversed(v)) for v in by_type.values()]
    while len(out) < n and any(queues):
        for q in queues:
            if q and len(out) < n:
                out.append(q.pop())
    return out


class SortedIds(Container[int]):
    """Ids that pass, as the sorted array the filters' scope holds: asked about the few records
    on the map by binary search, never turned into a set (a broad search passes 100,000s)."""

    def __init__(self, ids: np.ndarray) -> None:
        self.ids = ids

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int | np.integer):
            return False
        at = int(np.searchsorted(self.ids, value))
        return at < self.ids.size and int(self.ids[at]) == int(value)


@dataclass(frozen=True)
class GraphFilter:
    """What the map shows: dated records overlapping the range, and (when the global filters
    are set) only the dated records that pass them."""

    start_day: float | None = None
    end_day: float | None = None
    passing: Mapping[str, Container[int]] | None = None  # per dated type; None: all pass

    @property
    def active(self) -> bool:
        return self.start_day is not None or self.end_day is not None or self.passing is not None


def node_passes(node: Node, f: GraphFilter) -> bool:
    if node.is_group:
        return True
    if node.dated:
        start, end = node.start_day or 0.0, node.end_day if node.end_day is not None else node.start_day or 0.0
        if f.end_day is not None and start > f.end_day:
            return False
        if f.start_day is not None and end < f.start_day:
            return False
    if f.passing is not None and node.key[0] in f.passing:
        return node.key[1] in f.passing[node.key[0]]
    return True


def filtered(graph: Graph, f: GraphFilter) -> Graph:
    """The graph with the records outside ``f`` and their edges removed, and what is no longer
    linked to a root with them (the roots stay, said to be outside when they are)."""
    if not f.active:
        return graph
    keep = {k for k, n in graph.nodes.items() if node_passes(n, f)}
    edges = [e for e in graph.edges if e.a in keep and e.b in keep]
    nodes = {k: n for k, n in graph.nodes.items() if k in keep or k in graph.roots}
    notes = list(graph.notes)
    gone = [k for k in graph.nodes if k not in keep and not graph.nodes[k].is_group]
    if gone:  # first: what the person just did
        notes.insert(0, f"{len(gone):,} records outside the filters are not drawn.")
    return _pruned(Graph(nodes, edges, graph.roots, notes))


def _pruned(graph: Graph) -> Graph:
    """Only what a root can still reach (a company linked through a deal now filtered out goes)."""
    if not graph.roots:
        return graph
    adjacency = graph.adjacency()
    reached = set(r for r in graph.roots if r in graph.nodes)
    queue = deque(reached)
    while queue:
        k = queue.popleft()
        for e in adjacency.get(k, ()):
            o = e.other(k)
            if o not in reached:
                reached.add(o)
                queue.append(o)
    if len(reached) == len(graph.nodes):
        return graph
    nodes = {k: n for k, n in graph.nodes.items() if k in reached}
    edges = [e for e in graph.edges if e.a in reached and e.b in reached]
    return Graph(nodes, edges, graph.roots, graph.notes)


def collapse_deals(graph: Graph) -> Graph:
    """Deals folded into organisation ↔ organisation edges weighted by how many deals the two
    share and their USD; a deal that is a root stays as it is."""
    orgs_of: dict[Key, list[Key]] = {}
    for e in graph.edges:
        if e.type_key == "deal.organisations" and e.a[0] == "deal" and e.a not in graph.roots:
            orgs_of.setdefault(e.a, []).append(e.b)
    if not orgs_of:
        return graph
    pairs: dict[tuple[Key, Key], list[float]] = {}
    for deal, orgs in orgs_of.items():
        usd = graph.nodes[deal].amount_usd or 0.0
        ordered = sorted(set(orgs))
        for i, x in enumerate(ordered):
            for y in ordered[i + 1 :]:
                count_usd = pairs.setdefault((x, y), [0.0, 0.0])
                count_usd[0] += 1
                count_usd[1] += usd
    folded = set(orgs_of)
    nodes = {k: n for k, n in graph.nodes.items() if k not in folded}
    edges = [e for e in graph.edges if e.a not in folded and e.b not in folded]
    for (x, y), (count, usd) in sorted(pairs.items()):
        n = int(count)
        edges.append(Edge(x, y, COLLAPSED, f"{n} shared deal{'s' if n != 1 else ''}", n, usd))
    notes = [*graph.notes, f"{len(folded):,} deals folded into the links between their organisations."]
    return _pruned(Graph(nodes, edges, graph.roots, notes))


def paths(reader: Reader, a: Ref, b: Ref, max_hops: int = 4, limit: int = 6) -> Graph:
    """The shortest paths (at most ``limit``, of at most ``max_hops`` links) between two records,
    searched from both ends at once, as a graph rooted at both."""
    a, b = (str(a[0]), int(a[1])), (str(b[0]), int(b[1]))
    graph = Graph(roots=(a, b))
    if a == b:
        graph.nodes = {a: _node(reader.nodes([a]).get(a), a, 0)}
        return graph
    # parents[side][node] = edges reaching it from that side's previous layer
    parents: list[dict[Key, list[EdgeRow]]] = [{a: []}, {b: []}]
    frontiers: list[list[Key]] = [[a], [b]]
    meet: set[Key] = set()
    for _step in range(max_hops):
        side = 0 if len(frontiers[0]) <= len(frontiers[1]) else 1
        frontier = frontiers[side][:PATH_FRONTIER]
        if not frontier:
            break
        found = reader.neighbours(frontier, 200, by_amount=False)
        layer: dict[Key, list[EdgeRow]] = {}
        at = set(frontier)
        for e in found.edges:
            for here, there in ((e.source, e.target), (e.target, e.source)):
                if here in at and there not in parents[side]:
                    layer.setdefault(there, []).append(e)
        parents[side].update(layer)
        frontiers[side] = list(layer)
        meet = set(layer) & set(parents[1 - side])
        if meet:
            break
    if not meet:
        graph.nodes = {k: _node(i, k, 0) for k, i in reader.nodes([a, b]).items()}
        graph.notes.append(f"No path of {max_hops} links or fewer between these two.")
        return graph
    keys: set[Key] = set()
    edges: dict[tuple[Key, Key, str], Edge] = {}

    def walk(side: int, node: Key, budget: list[int]) -> None:
        keys.add(node)
        for e in parents[side].get(node, [])[:limit]:
            if budget[0] <= 0:
                return
            edges[(e.source, e.target, e.type_key)] = Edge(e.source, e.target, e.type_key, e.relation)
            prev = e.source if e.target == node else e.target
            if prev not in keys:
                budget[0] -= 1
                walk(side, prev, budget)

    for node in sorted(meet)[:limit]:
        walk(0, node, [limit * max_hops])
        walk(1, node, [limit * max_hops])
    infos = reader.nodes(keys)
    graph.nodes = {k: _node(infos.get(k), k, 0 if k in (a, b) else 1) for k in sorted(keys)}
    graph.edges = list(edges.values())
    return _pruned(graph)


def overview(rows: Iterable[tuple[int | None, int | None, int, float]], infos: Mapping[Ref, NodeInfo]) -> Graph:
    """The whole database as blocks: each sector linked to each country by the deals in the
    sector with an organisation from the country (how many, and their USD), rather than a
    million dots; what has no sector or no country is left out and said so."""
    graph = Graph()
    left = 0
    for sector, country, n, usd in rows:
        if sector is None or country is None:
            left += n
            continue
        a, b = ("sector", sector), ("country", country)
        for k in (a, b):
            if k not in graph.nodes:
                graph.nodes[k] = _node(infos.get(k), k, 0)
        graph.edges.append(Edge(a, b, OVERVIEW, f"{n:,} deal{'s' if n != 1 else ''}", n, usd))
    for k in graph.nodes:  # a block's size: the USD of its deals
        graph.nodes[k].amount_usd = sum(e.usd for e in graph.edges if k in (e.a, e.b)) or None
    graph.notes.append("The whole database by sector and country: select a record to see its own links.")
    if left:
        graph.notes.append(f"{left:,} deal links without a sector or a country are not drawn.")
    return graph


def full(reader_edges: Iterable[EdgeRow], infos: Mapping[Ref, NodeInfo]) -> Graph:
    """Every record and edge given (a small database's whole map; the tests compare it)."""
    graph = Graph()
    for e in reader_edges:
        for k in (e.source, e.target):
            if k not in graph.nodes:
                graph.nodes[k] = _node(infos.get(k), k, 0)
        graph.edges.append(Edge(e.source, e.target, e.type_key, e.relation))
    return graph
