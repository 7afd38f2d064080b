"""What each record type is, described once: fields and their rules, label, links, timeline
lane, search columns, export order and natural key.

Validation, writes, import and export, search, the detail pane's links, forms and the timeline
read these descriptors instead of keeping lists of their own, so adding a type is a model class,
a migration and one ``register`` call (see the README's Development section). No Qt here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal, TypeVar

from sqlmodel import SQLModel

from explorer import models as m

MAX_TEXT = 200
T = TypeVar("T")
# What a field holds; each kind has its check in store.validation.CHECKS and its editor in forms.
FieldKind = Literal[
    "text", "notes", "int", "float", "money", "rate", "date", "precision", "currency", "ref", "choice", "json"
]


@dataclass(frozen=True)
class FieldSpec:
    """One field a person edits: its rule (kind, required, length, choices) and its label."""

    name: str
    label: str
    kind: FieldKind
    required: bool = False
    ref: str | None = None  # record type a ref points at
    choices: tuple[str, ...] = ()
    max_length: int = MAX_TEXT
    # For a ref: how the link reads from this record ("announced at") and from the one it
    # points at ("pledge announced"); an empty inverse is not listed on the other record.
    relation: str = ""
    inverse: str = ""


def ref(
    name: str, label: str, target: str, relation: str = "", inverse: str = "", *, required: bool = False
) -> FieldSpec:
    return FieldSpec(
        name, label, "ref", required=required, ref=target, relation=relation or label.lower(), inverse=inverse
    )


@dataclass(frozen=True)
class LinkSpec:
    """Many records linked through a link table (an event's participants, a deal's companies)."""

    name: str  # the value a form or an import passes: "participant_ids"
    column: str  # its column in exported files: "participants"
    label: str
    target: str  # the record type linked to
    table: type[SQLModel]
    own_key: str  # the link table's column naming this record
    target_key: str  # ... and the linked one
    relation: str  # how the link reads from this record (a role column's value if roles are given)
    inverse: str  # ... and from the linked record
    roles: tuple[str, ...] = ()  # allowed values of the link table's ``role`` column
    default_role: str = ""
    target_order: str = "name"  # linked records are listed by this column of theirs


@dataclass(frozen=True)
class RecordKind:
    """Everything the app knows about one record type."""

    name: str  # the table name, used in citations, history, files and the UI's code
    model: type[m.Record]
    label: str  # "Pledge": what a person calls one such record
    fields: tuple[FieldSpec, ...]
    title: str = "name"  # the column a record is known by
    search: tuple[str, ...] = ()  # further columns whose words find it
    natural_key: tuple[str, ...] = ()  # what names it when no UUID does (import and merge)
    unique: str | None = None  # a name that must be unique (the database enforces it too)
    links: tuple[LinkSpec, ...] = ()
    lane: str | None = None  # its timeline lane; None: not drawn in a lane
    band: bool = False  # drawn as a band behind every lane (an era) instead
    legend: str = ""  # its name in the timeline's legend when that differs from the label
    citeable: bool = False  # may cite sources (and its form lists them)
    findable: bool = True  # in the search index, so Find anything lists it
    creatable: bool = True  # offered by Edit ▸ New
    owned_by: str | None = None  # deleted and restored with the record it belongs to

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def link_names(self) -> tuple[str, ...]:
        return tuple(link.name for link in self.links)

    @property
    def dated(self) -> bool:
        return issubclass(self.model, m.Dated)

    @property
    def legend_label(self) -> str:
        return self.legend or self.label


# In export order: parents before children, so every reference in a file resolves as rows apply.
KINDS: dict[str, RecordKind] = {}


def register(kind: RecordKind, *, before: str | None = None) -> RecordKind:
    """Describe a record type; ``before`` places it ahead of a type that refers to it."""
    if kind.name in KINDS:
        raise ValueError(f"record type {kind.name!r} is already registered")
    m.RECORD_TYPES.setdefault(kind.name, kind.model)
    if before is None:
        KINDS[kind.name] = kind
    else:
        items = list(KINDS.items())
        at = [name for name, _ in items].index(before)
        KINDS.clear()
        KINDS.update([*items[:at], (kind.name, kind), *items[at:]])
    _update_citeable()
    return kind


def unregister(name: str) -> None:
    gone = KINDS.pop(name, None)
    if gone is not None and m.RECORD_TYPES.get(name) is gone.model:
        del m.RECORD_TYPES[name]
    _update_citeable()


def _update_citeable() -> None:
    """A citation's record type is one of the citeable types: its choices follow the registry."""
    citation = KINDS.get("citation")
    if citation is None:
        return
    fields = tuple(replace(f, choices=citeable()) if f.name == "record_type" else f for f in citation.fields)
    KINDS["citation"] = replace(citation, fields=fields)


def kind(name: str) -> RecordKind:
    return KINDS[name]


def kinds() -> tuple[RecordKind, ...]:
    return tuple(KINDS.values())


def label(name: str) -> str:
    found = KINDS.get(name)
    return found.label if found is not None else name


def timeline_types() -> tuple[str, ...]:
    """The types drawn on the timeline, in the order of their type codes in timeline arrays."""
    return tuple(k.name for k in KINDS.values() if k.lane is not None)


def citeable() -> tuple[str, ...]:
    return tuple(k.name for k in KINDS.values() if k.citeable)


def references() -> dict[str, list[tuple[str, str]]]:
    """Who points at whom: referenced type → [(referencing type, column)], read from the foreign
    keys of the tables (a citation names its record by type and id, so it is not among them)."""
    out: dict[str, list[tuple[str, str]]] = {name: [] for name in KINDS}
    by_table = {k.model.__tablename__: k.name for k in KINDS.values()}
    for k in KINDS.values():
        table = SQLModel.metadata.tables[str(k.model.__tablename__)]
        for column in table.columns:
            for fk in column.foreign_keys:
                target = by_table.get(fk.column.table.name)
                if target is not None:
                    out[target].append((k.name, column.name))
    return out


class KindNames(Sequence[str]):
    """The registered type names in export order, read live (for ``in``, loops and joins)."""

    def __getitem__(self, index: int) -> str:  # type: ignore[override]
        return list(KINDS)[index]

    def __len__(self) -> int:
        return len(KINDS)

    def __iter__(self) -> Iterator[str]:
        return iter(list(KINDS))

    def __contains__(self, name: object) -> bool:
        return name in KINDS

    def __repr__(self) -> str:
        return repr(tuple(KINDS))


class PerKind(Mapping[str, T]):
    """record type → one fact about it, read from the registry each time (a type registered
    later, e.g. by a plug-in or a test, is seen at once); types the fact is None for are left out."""

    def __init__(self, fact: Callable[[RecordKind], T | None]) -> None:
        self._fact = fact

    def __getitem__(self, name: str) -> T:
        value = self._fact(KINDS[name]) if name in KINDS else None
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter([name for name, k in KINDS.items() if self._fact(k) is not None])

    def __len__(self) -> int:
        return sum(1 for _ in self)


# --- the partnership's record types ---------------------------------------------------------

DATED = (
    FieldSpec("start_date", "Date", "date"),
    FieldSpec("date_precision", "Precision", "precision"),
    FieldSpec("end_date", "End date", "date"),
)
MONEY = (
    FieldSpec("amount", "Amount", "money"),
    FieldSpec("currency", "Currency", "currency"),
    FieldSpec("usd_rate", "USD per unit", "rate"),
    FieldSpec("rate_date", "Rate date", "date"),
    FieldSpec("amount_usd", "Amount in USD", "money"),
)
NOTES = FieldSpec("notes", "Notes", "notes")

register(
    RecordKind(
        "source",
        m.Source,
        "Source",
        (
            FieldSpec("title", "Title", "text", required=True, max_length=300),
            FieldSpec("publisher", "Publisher", "text"),
            FieldSpec("kind", "Kind", "choice", choices=("article", "public_record", "report", "dataset")),
            FieldSpec("published", "Published", "date"),
            FieldSpec("url", "Address", "text", max_length=2000),
            NOTES,
        ),
        title="title",
        search=("publisher", "notes"),
        natural_key=("title",),
        citeable=True,
    )
)
register(
    RecordKind(
        "country",
        m.Country,
        "Country",
        (
            FieldSpec("code", "Code", "text", required=True, max_length=8),
            FieldSpec("name", "Name", "text", required=True, max_length=120),
        ),
        search=("code",),
        natural_key=("code",),
        unique="code",
        citeable=True,
    )
)
register(
    RecordKind(
        "sector",
        m.Sector,
        "Sector",
        (
            FieldSpec("name", "Name", "text", required=True, max_length=120),
            ref("parent_id", "Parent sector", "sector", inverse="sub-sector"),
            NOTES,
        ),
        search=("notes",),
        natural_key=("name",),
        unique="name",
        citeable=True,
    )
)
register(
    RecordKind(
        "place",
        m.Place,
        "Place",
        (
            FieldSpec("name", "Name", "text", required=True),
            FieldSpec("kind", "Kind", "choice", choices=("state", "city", "region")),
            ref("country_id", "Country", "country", inverse="place"),
            FieldSpec("latitude", "Latitude", "float"),
            FieldSpec("longitude", "Longitude", "float"),
        ),
        search=("kind",),
        natural_key=("name",),
        citeable=True,
    )
)
register(
    RecordKind(
        "person",
        m.Person,
        "Person",
        (
            FieldSpec("name", "Name", "text", required=True),
            FieldSpec("native_name", "Name in own script", "text"),
            FieldSpec("role", "Role", "text"),
            ref("country_id", "Country", "country"),
            FieldSpec("term_start", "Term start", "date"),
            FieldSpec("term_end", "Term end", "date"),
            NOTES,
        ),
        search=("native_name", "role", "notes"),
        natural_key=("name",),
        citeable=True,
    )
)
register(
    RecordKind(
        "organisation",
        m.Organisation,
        "Organisation",
        (
            FieldSpec("name", "Name", "text", required=True),
            FieldSpec("kind", "Kind", "choice", choices=("company", "government", "university", "agency")),
            ref("country_id", "Country", "country", inverse="organisation"),
            ref("sector_id", "Sector", "sector", inverse="organisation"),
            NOTES,
        ),
        search=("kind", "notes"),
        natural_key=("name",),
        unique="name",
        citeable=True,
    )
)
register(
    RecordKind(
        "event",
        m.Event,
        "Event",
        (
            FieldSpec("title", "Title", "text", required=True, max_length=300),
            FieldSpec("kind", "Kind", "choice", choices=tuple(k.value for k in m.EventKind)),
            FieldSpec("summit_number", "Summit number", "int"),
            *DATED,
            ref("place_id", "Place", "place", inverse="event here"),
            NOTES,
        ),
        title="title",
        search=("kind", "notes"),
        natural_key=("title", "start_date"),
        links=(
            LinkSpec(
                "participant_ids",
                "participants",
                "Participants",
                "person",
                m.EventParticipant,
                "event_id",
                "person_id",
                relation="participant",
                inverse="took part in",
            ),
        ),
        lane="Summits & visits",
        legend="Summit / visit",
        citeable=True,
    )
)
register(
    RecordKind(
        "pledge",
        m.Pledge,
        "Pledge",
        (
            FieldSpec("title", "Title", "text", required=True, max_length=300),
            ref("pledger_id", "Pledged by", "country"),
            ref("recipient_id", "Pledged to", "country"),
            *MONEY,
            *DATED,
            ref("event_id", "Announced at", "event", inverse="pledge announced"),
            ref("supersedes_id", "Supersedes", "pledge", inverse="superseded by"),
            FieldSpec(
                "status", "Status", "choice", choices=("announced", "active", "superseded", "fulfilled", "lapsed")
            ),
            NOTES,
        ),
        title="title",
        search=("currency", "status", "notes"),
        natural_key=("title", "start_date"),
        lane="Pledges",
        citeable=True,
    )
)
register(
    RecordKind(
        "deal",
        m.Deal,
        "Deal",
        (
            FieldSpec("title", "Title", "text", required=True, max_length=300),
            FieldSpec(
                "kind", "Kind", "choice", choices=("mou", "project", "investment", "plant", "hiring", "collaboration")
            ),
            ref("sector_id", "Sector", "sector", inverse="deal"),
            ref("place_id", "Place", "place", inverse="deal here"),
            *MONEY,
            *DATED,
            FieldSpec(
                "status",
                "Status",
                "choice",
                choices=("planned", "announced", "under_way", "operational", "completed", "cancelled"),
            ),
            ref("pledge_id", "Under pledge", "pledge", inverse="deal under it"),
            ref("event_id", "Signed at", "event", inverse="deal signed"),
            NOTES,
        ),
        title="title",
        search=("kind", "status", "notes"),
        natural_key=("title", "start_date"),
        links=(
            LinkSpec(
                "organisations",
                "organisations",
                "Organisations",
                "organisation",
                m.DealOrganisation,
                "deal_id",
                "organisation_id",
                relation="",  # each link reads as its role: lead, partner, investor
                inverse="deal",
                roles=("lead", "partner", "investor"),
                default_role="partner",
            ),
        ),
        lane="Deals & MoUs",
        legend="Deal / MoU",
        citeable=True,
    )
)
register(
    RecordKind(
        "initiative",
        m.Initiative,
        "Initiative",
        (
            FieldSpec("name", "Name", "text", required=True),
            FieldSpec(
                "kind", "Kind", "choice", choices=("initiative", "framework", "concept", "partnership", "programme")
            ),
            *DATED,
            ref("event_id", "Launched at", "event", inverse="initiative launched"),
            ref("sector_id", "Sector", "sector"),
            NOTES,
        ),
        search=("kind", "notes"),
        natural_key=("name",),
        unique="name",
        lane="Initiatives & targets",
        citeable=True,
    )
)
register(
    RecordKind(
        "target",
        m.Target,
        "Target",
        (
            FieldSpec("name", "Name", "text", required=True),
            ref("initiative_id", "Initiative", "initiative", inverse="target"),
            FieldSpec("value", "Value", "money", required=True),
            FieldSpec("unit", "Unit", "text", required=True, max_length=40),
            FieldSpec("amount_usd", "Worth in USD", "money"),
            *DATED,
            FieldSpec("status", "Status", "choice", choices=("target", "in_progress", "achieved", "missed")),
            ref("event_id", "Set at", "event", inverse="target set"),
            NOTES,
        ),
        search=("unit", "notes"),
        natural_key=("name", "initiative_id"),
        lane="Initiatives & targets",
        citeable=True,
    )
)
register(
    RecordKind(
        "era",
        m.Era,
        "Era",
        (FieldSpec("title", "Title", "text", required=True, max_length=300), *DATED, NOTES),
        title="title",
        search=("notes",),
        natural_key=("title", "start_date"),
        band=True,
        citeable=True,
    )
)
register(
    RecordKind(
        "citation",
        m.Citation,
        "Citation",
        (
            ref("source_id", "Source", "source", required=True),  # the source lists what cites it itself
            # Which record it cites: one of the citeable types (kept in step by ``register``).
            FieldSpec("record_type", "Record type", "choice", required=True),
            FieldSpec("record_id", "Record", "int", required=True),
            FieldSpec("section", "Section", "text", max_length=300),
            FieldSpec("note", "Note", "notes"),
        ),
        title="section",
        natural_key=("source_id", "record_type", "record_id", "section"),
        findable=False,
        owned_by="source",
    )
)
register(
    RecordKind(
        "story",
        m.Story,
        "Story",
        (FieldSpec("title", "Title", "text", required=True), NOTES),
        title="title",
        search=("notes",),
        natural_key=("title",),
        creatable=False,
    )
)
register(
    RecordKind(
        "storystep",
        m.StoryStep,
        "Story step",
        (
            ref("story_id", "Story", "story", required=True),
            FieldSpec("position", "Position", "int"),
            FieldSpec("caption", "Caption", "notes"),
            FieldSpec("selection", "Selected records", "json"),
            FieldSpec("start_day", "Timeline from (day)", "float"),
            FieldSpec("end_day", "Timeline to (day)", "float"),
            FieldSpec("filters", "Filters", "json"),
        ),
        title="caption",
        natural_key=("story_id", "position"),
        findable=False,
        creatable=False,
        owned_by="story",
    )
)

# Columns every record has, written by the store itself rather than by a person.
RECORD_COLUMNS = ("id", "uuid", "version", "created_at", "updated_at")
# Columns derived from others on every write (the day numbers the timeline reads).
DERIVED_COLUMNS = ("start_day", "end_day")
