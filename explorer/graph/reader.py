"""The map's Reader over a Store: one connection for a whole ego network or path search."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from explorer.store import graph as queries
from explorer.store.graph import Neighbourhood, NodeInfo, Ref

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from explorer.store import Store


class StoreReader:
    """Reads neighbours and node facts through one open connection (see :func:`reading`)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._infos: dict[Ref, NodeInfo] = {}

    def neighbours(self, refs: Iterable[Ref], cap: int, *, by_amount: bool = True) -> Neighbourhood:
        return queries.neighbours(self.conn, list(refs), cap, by_amount=by_amount)

    def overview(self) -> list[tuple[int | None, int | None, int, float]]:
        return queries.overview(self.conn)

    def nodes(self, refs: Iterable[Ref]) -> Mapping[Ref, NodeInfo]:
        wanted = [r for r in refs if r not in self._infos]
        if wanted:
            self._infos.update(queries.node_info(self.conn, wanted))
        return {r: self._infos[r] for r in refs if r in self._infos}


@contextmanager
def reading(store: Store) -> Iterator[StoreReader]:
    with store.engine.connect() as conn:
        yield StoreReader(conn)
