"""The change event: what one write (or one look at others' writes) changed, and who made it.

No Qt here: the store makes these, AppState hands them to the views (records_changed), and the
views read them to skip what does not concern them. Every event the store makes or notices
moves its revision on by one (Store.revision); caches remember the revision they were worked
out at instead of rules of their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

# The initiator of changes read from the change log: another window, process or user wrote them.
EXTERNAL = "external"

# Field names a view cares about per record type; None: every field (any change concerns it).
Interest = Mapping[str, frozenset[str] | None]


class ValueChange(NamedTuple):
    """One field's value before and after (None for a create's "before" and a delete's "after").
    Read from the change log (others' writes), both are the text the history shows. A tuple, so
    that the cycle collector stops tracking it: a big import's undo holds hundreds of thousands."""

    old: object
    new: object


@dataclass(frozen=True, slots=True)
class Change:
    """One record created, updated or deleted; ``fields`` are the fields it changed (empty when
    not known: then any field may have)."""

    action: str  # create / update / delete
    record_type: str
    record_id: int
    # Left out of ==/hash so a Change still compares by what record it is (tests, sets).
    fields: Mapping[str, ValueChange] = field(default_factory=dict, compare=False, hash=False)

    def concerns(self, wanted: frozenset[str] | None) -> bool:
        """Whether this change may have changed one of ``wanted`` (None: any field)."""
        if wanted is None or self.action != "update" or not self.fields:
            return True
        return not wanted.isdisjoint(self.fields)


@dataclass
class ChangeEvent:
    """What one write did, for the views: the records (type, id, action) with the fields each
    changed and their old and new values, who made it (``initiator``: the object that wrote, or
    EXTERNAL for what the change log shows others wrote; ``author``: the name in the history)
    and the store revision it brought (0 until the store has counted it)."""

    changes: list[Change] = field(default_factory=list)
    initiator: object = None
    author: str | None = None
    revision: int = 0

    def count(self, action: str) -> int:
        return self._summary()[1].get(action, 0)

    def types(self) -> set[str]:
        return set(self._summary()[0])

    def summarise(self) -> ChangeEvent:
        """Work out what it touched now (on the thread that made it), not when a view first asks."""
        self._summary()
        return self

    def _summary(self) -> tuple[dict[str, set[int]], dict[str, int]]:
        # Every view asks what an event touched: worked out once, not once a view, since an
        # import's event holds a hundred thousand changes. Kept while it is the same list, as long
        # (changes are only ever added to it).
        key = (id(self.changes), len(self.changes))
        kept: tuple[tuple[int, int], tuple[dict[str, set[int]], dict[str, int]]] | None = self.__dict__.get("_kept")
        if kept is not None and kept[0] == key:
            return kept[1]
        ids: dict[str, set[int]] = {}
        actions: dict[str, int] = {}
        for c in self.changes:
            ids.setdefault(c.record_type, set()).add(c.record_id)
            actions[c.action] = actions.get(c.action, 0) + 1
        self.__dict__["_kept"] = (key, (ids, actions))
        return ids, actions

    def __bool__(self) -> bool:
        return bool(self.changes)

    def __iter__(self) -> Iterator[Change]:
        return iter(self.changes)

    def ids(self, record_type: str) -> set[int]:
        return set(self._summary()[0].get(record_type, ()))

    def touches(self, record_type: str, record_id: int) -> bool:
        return any(c.record_type == record_type and c.record_id == record_id for c in self.changes)

    def fields(self, record_type: str) -> set[str]:
        """Names of the fields changed on records of ``record_type``."""
        return {name for c in self.changes if c.record_type == record_type for name in c.fields}

    def concerns(self, interest: Interest) -> bool:
        """Whether any change is to a type in ``interest`` and may have changed a field listed
        for it: created and deleted records always concern, updates of unknown fields too."""
        if all(t not in interest for t in self._summary()[0]):
            return False
        return any(c.record_type in interest and c.concerns(interest[c.record_type]) for c in self.changes)

    def made_by(self, initiator: object) -> bool:
        return initiator is not None and self.initiator is initiator

    @property
    def external(self) -> bool:
        return self.initiator == EXTERNAL

    def log_rows(self) -> Iterator[tuple[str, str, int, str | None]]:
        """(action, type, id, field) per changed field, as the change log has them (field None:
        not known which)."""
        for c in self.changes:
            if c.fields:
                for name in c.fields:
                    yield c.action, c.record_type, c.record_id, name
            else:
                yield c.action, c.record_type, c.record_id, None


# The name every write and test has used: one write's event.
ChangeSet = ChangeEvent


def from_log(rows: Iterable[tuple[str, str, int, str | None, str | None, str | None, str | None]]) -> ChangeEvent:
    """The event of change log rows (action, type, id, field, old, new, user) in the order they
    were written: one change per record (made and changed since: still a create; deleted at any
    point: a delete), its fields' first old and last new value."""
    actions: dict[tuple[str, int], str] = {}
    fields: dict[tuple[str, int], dict[str, ValueChange]] = {}
    users: set[str] = set()
    for action, record_type, record_id, name, old, new, user in rows:
        key = (str(record_type), int(record_id))
        before = actions.get(key)
        actions[key] = "delete" if action == "delete" else (before if before == "create" else str(action))
        changed = fields.setdefault(key, {})
        if name is not None:
            first = changed.get(name)
            changed[name] = ValueChange(first.old if first is not None else old, new)
        if user:
            users.add(str(user))
    return ChangeEvent(
        [Change(action, t, i, fields[(t, i)]) for (t, i), action in actions.items()],
        initiator=EXTERNAL,
        author=next(iter(users)) if len(users) == 1 else None,
    )
