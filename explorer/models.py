"""The partnership schema: SQLModel tables, pure data (no Qt, no sessions).

Every record table shares :class:`Record`: an integer key, a stable UUID (used to match
records across exports, imports and merges), a ``version`` for optimistic locking and
created/updated timestamps. Dated tables also keep integer day numbers
(days since 1970-01-01) beside their ``date`` columns so the timeline can load them
straight into numpy without parsing strings; the listeners at the bottom keep the two
in step on every insert and update.
"""

# No ``from __future__ import annotations`` here: with string annotations Pydantic and SQLAlchemy
# evaluate every field's type again while building the tables (~6 ms of every start-up).
import datetime as dt
import enum
import uuid as uuid_mod
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import Column, Index, String, Table, event
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Mapper
    from sqlmodel._compat import SQLModelConfig

EPOCH = dt.date(1970, 1, 1)

# Pydantic builds a class's validator on its first validation, not at import: start-up maps the
# tables for SQLAlchemy but validates nothing, and building 21 validators cost ~10 ms of it.
# (SQLModel's own config type, a superset of pydantic's ConfigDict; a plain dict at run time.)
LAZY_VALIDATION: "SQLModelConfig" = {"defer_build": True}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def new_uuid() -> str:
    return str(uuid_mod.uuid4())


def day_number(value: dt.date | None) -> int | None:
    """Days since 1970-01-01: what the timeline reads."""
    return None if value is None else (value - EPOCH).days


def stored_id(record_id: int | None) -> int:
    """The key of a record read from the database: only one not yet flushed has none."""
    if record_id is None:
        raise ValueError("the record has not been stored yet")
    return record_id


def day_to_date(day: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(day))


class DatePrecision(enum.StrEnum):
    DAY = "day"
    MONTH = "month"
    YEAR = "year"
    APPROXIMATE = "approximate"

    def bounds(self, value: dt.date) -> tuple[dt.date, dt.date]:
        """Earliest and latest day the stored date can stand for."""
        if self is DatePrecision.DAY:
            return value, value
        if self is DatePrecision.MONTH:
            first = value.replace(day=1)
            nxt = (first + dt.timedelta(days=32)).replace(day=1)
            return first, nxt - dt.timedelta(days=1)
        if self is DatePrecision.YEAR:
            return value.replace(month=1, day=1), value.replace(month=12, day=31)
        # Approximate: a season either side is what "about" usually means in the sources.
        return value - dt.timedelta(days=90), value + dt.timedelta(days=90)

    # Shadows str.format on purpose: a precision formats dates, never templates.
    def format(self, value: dt.date) -> str:  # type: ignore[override]
        if self is DatePrecision.DAY:
            return f"{value.day} {value:%B %Y}"
        if self is DatePrecision.MONTH:
            return f"{value:%B %Y}"
        if self is DatePrecision.YEAR:
            return f"{value:%Y}"
        return f"c. {value:%B %Y}"


class Currency(enum.StrEnum):
    JPY = "JPY"
    USD = "USD"
    INR = "INR"


class EventKind(enum.StrEnum):
    SUMMIT = "summit"
    VISIT = "visit"
    ANNOUNCEMENT = "announcement"
    SIGNING = "signing"


class Record(SQLModel):
    """Columns every stored record has."""

    model_config = LAZY_VALIDATION

    id: int | None = Field(default=None, primary_key=True)
    uuid: str = Field(default_factory=new_uuid, sa_column_kwargs={"unique": True}, max_length=36)
    version: int = Field(default=1)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)

    if TYPE_CHECKING:  # set by SQLModel for every table=True class; its stubs do not declare it
        __table__: ClassVar[Table]

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805 (declared_attr receives the class)
        return {"version_id_col": cls.__table__.c.version}


class Dated(SQLModel):
    """A date with its precision, an optional end, and the day numbers the timeline reads."""

    model_config = LAZY_VALIDATION

    start_date: dt.date | None = Field(default=None)
    date_precision: str = Field(default=DatePrecision.DAY.value, max_length=12)
    end_date: dt.date | None = Field(default=None)
    start_day: int | None = Field(default=None, index=True)
    end_day: int | None = Field(default=None)


class Money(SQLModel):
    """An amount in its own currency, with the rate (USD per unit) and date used for USD."""

    model_config = LAZY_VALIDATION

    amount: float | None = Field(default=None)
    currency: str | None = Field(default=None, max_length=3)
    usd_rate: float | None = Field(default=None)
    rate_date: dt.date | None = Field(default=None)
    amount_usd: float | None = Field(default=None)


# --- reference data --------------------------------------------------------------------


class Country(Record, table=True):
    code: str = Field(sa_column=Column(String(8), unique=True, nullable=False))
    name: str = Field(max_length=120)


class Place(Record, table=True):
    name: str = Field(max_length=200, index=True)
    kind: str = Field(default="city", max_length=20)  # state / city / region
    country_id: int | None = Field(default=None, foreign_key="country.id", index=True)
    latitude: float | None = None
    longitude: float | None = None


class Person(Record, table=True):
    name: str = Field(max_length=200, index=True)
    native_name: str | None = Field(default=None, max_length=200)
    role: str | None = Field(default=None, max_length=200)
    country_id: int | None = Field(default=None, foreign_key="country.id", index=True)
    term_start: dt.date | None = None
    term_end: dt.date | None = None
    notes: str | None = None


class Sector(Record, table=True):
    name: str = Field(sa_column=Column(String(120), unique=True, nullable=False))
    parent_id: int | None = Field(default=None, foreign_key="sector.id", index=True)
    notes: str | None = None


class Organisation(Record, table=True):
    name: str = Field(sa_column=Column(String(200), unique=True, nullable=False))
    kind: str = Field(default="company", max_length=20)  # company / government / university / agency
    country_id: int | None = Field(default=None, foreign_key="country.id", index=True)
    sector_id: int | None = Field(default=None, foreign_key="sector.id", index=True)
    notes: str | None = None


# --- what happened -------------------------------------------------------------------


class Event(Record, Dated, table=True):
    kind: str = Field(default=EventKind.SUMMIT.value, max_length=20)
    title: str = Field(max_length=300, index=True)
    summit_number: int | None = None
    place_id: int | None = Field(default=None, foreign_key="place.id", index=True)
    notes: str | None = None


class EventParticipant(SQLModel, table=True):
    model_config = LAZY_VALIDATION
    if TYPE_CHECKING:  # see Record
        __table__: ClassVar[Table]

    event_id: int = Field(foreign_key="event.id", primary_key=True, ondelete="CASCADE")
    person_id: int = Field(foreign_key="person.id", primary_key=True, index=True)


class Pledge(Record, Dated, Money, table=True):
    """A commitment of money from one country to another over a period."""

    title: str = Field(max_length=300, index=True)
    pledger_id: int | None = Field(default=None, foreign_key="country.id", index=True)
    recipient_id: int | None = Field(default=None, foreign_key="country.id", index=True)
    event_id: int | None = Field(default=None, foreign_key="event.id", index=True)
    status: str = Field(default="announced", max_length=20)
    supersedes_id: int | None = Field(default=None, foreign_key="pledge.id", index=True)
    notes: str | None = None


class Deal(Record, Dated, Money, table=True):
    """A deal, project, investment or MoU between organisations."""

    title: str = Field(max_length=300, index=True)
    kind: str = Field(default="project", max_length=20)  # mou / project / investment / plant / ...
    sector_id: int | None = Field(default=None, foreign_key="sector.id", index=True)
    place_id: int | None = Field(default=None, foreign_key="place.id", index=True)
    status: str = Field(default="announced", max_length=20)
    pledge_id: int | None = Field(default=None, foreign_key="pledge.id", index=True)
    event_id: int | None = Field(default=None, foreign_key="event.id", index=True)
    notes: str | None = None


class DealOrganisation(SQLModel, table=True):
    model_config = LAZY_VALIDATION
    if TYPE_CHECKING:  # see Record
        __table__: ClassVar[Table]

    deal_id: int = Field(foreign_key="deal.id", primary_key=True, ondelete="CASCADE")
    organisation_id: int = Field(foreign_key="organisation.id", primary_key=True, index=True)
    role: str = Field(default="partner", max_length=20)  # lead / partner / investor


class Initiative(Record, Dated, table=True):
    """An initiative, framework, programme or strategic concept."""

    name: str = Field(sa_column=Column(String(200), unique=True, nullable=False))
    kind: str = Field(default="initiative", max_length=20)
    event_id: int | None = Field(default=None, foreign_key="event.id", index=True)
    sector_id: int | None = Field(default=None, foreign_key="sector.id", index=True)
    notes: str | None = None


class Target(Record, Dated, table=True):
    """A number to reach (or reached) over a period: 50,000 people in five years."""

    name: str = Field(max_length=200, index=True)
    initiative_id: int | None = Field(default=None, foreign_key="initiative.id", index=True)
    value: float = Field(default=0.0)
    unit: str = Field(default="", max_length=40)
    amount_usd: float | None = None
    status: str = Field(default="target", max_length=20)
    event_id: int | None = Field(default=None, foreign_key="event.id", index=True)
    notes: str | None = None


class Era(Record, Dated, table=True):
    """A named stretch of time drawn behind the timeline (a peer tool's era, a policy period)."""

    title: str = Field(max_length=300, index=True)
    notes: str | None = None


# --- provenance ----------------------------------------------------------------------


class Source(Record, table=True):
    title: str = Field(max_length=300)
    publisher: str | None = Field(default=None, max_length=200)
    kind: str = Field(default="article", max_length=20)  # article / public_record
    published: dt.date | None = None
    url: str | None = None
    notes: str | None = None


class Citation(Record, table=True):
    """Says where a record's facts come from: a source, its section, a note in our words."""

    __table_args__ = (Index("ix_citation_record", "record_type", "record_id"),)
    source_id: int = Field(foreign_key="source.id", index=True)
    record_type: str = Field(max_length=40)
    record_id: int
    section: str | None = Field(default=None, max_length=300)
    note: str | None = None


# --- workshops -----------------------------------------------------------------------


class Story(Record, table=True):
    """A guided walk through the partnership, played step by step in workshops."""

    title: str = Field(max_length=200)
    notes: str | None = None


class StoryStep(Record, table=True):
    """One step: what to select, which stretch of time to show, which filters, and a caption.

    Records are named by UUID (``selection``: JSON list of ``[type, uuid]``) so a story
    survives export, import and merging between analysts' files.
    """

    story_id: int = Field(foreign_key="story.id", index=True, ondelete="CASCADE")
    position: int = Field(default=0)
    caption: str = Field(default="")
    selection: str = Field(default="[]")
    start_day: float | None = None
    end_day: float | None = None
    filters: str = Field(default="{}")


class ChangeLog(SQLModel, table=True):
    """One row per field changed by a write: nothing an analyst writes is lost."""

    model_config = LAZY_VALIDATION
    if TYPE_CHECKING:  # see Record
        __table__: ClassVar[Table]

    __table_args__ = (Index("ix_changelog_record", "record_type", "record_id"),)
    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=utcnow)
    user: str = Field(default="", max_length=100)
    action: str = Field(max_length=10)  # create / update / delete
    record_type: str = Field(max_length=40)
    record_id: int
    record_uuid: str = Field(max_length=36)
    field: str | None = Field(default=None, max_length=60)
    old_value: str | None = None
    new_value: str | None = None


class Meta(SQLModel, table=True):
    """Small key/value facts about the database file (e.g. that it is the demo)."""

    model_config = LAZY_VALIDATION
    if TYPE_CHECKING:  # see Record
        __table__: ClassVar[Table]

    key: str = Field(primary_key=True, max_length=60)
    value: str = ""


# Every record table, by the name used in citations, history and the UI.
RECORD_TYPES: dict[str, type[Record]] = {
    cls.__tablename__: cls  # type: ignore[misc]
    for cls in (
        Country,
        Place,
        Person,
        Sector,
        Organisation,
        Event,
        Pledge,
        Deal,
        Initiative,
        Target,
        Era,
        Source,
        Citation,
        Story,
        StoryStep,
    )
}

DATED_TYPES: tuple[type[SQLModel], ...] = (Event, Pledge, Deal, Initiative, Target, Era)

__all__ = [
    "DATED_TYPES",
    "RECORD_TYPES",
    "ChangeLog",
    "Citation",
    "Country",
    "Currency",
    "DatePrecision",
    "Deal",
    "DealOrganisation",
    "Era",
    "Event",
    "EventKind",
    "EventParticipant",
    "Initiative",
    "Meta",
    "Organisation",
    "Person",
    "Place",
    "Pledge",
    "Record",
    "SQLModel",  # the base of every table, and its metadata: the whole schema
    "Sector",
    "Source",
    "Story",
    "StoryStep",
    "Target",
    "day_number",
    "day_to_date",
    "stored_id",
]


def _sync_day_columns(_mapper: "Mapper[Any]", _connection: "Connection", target: Dated) -> None:
    target.start_day = day_number(target.start_date)
    target.end_day = day_number(target.end_date)


def _touch(_mapper: "Mapper[Any]", _connection: "Connection", target: Record) -> None:
    target.updated_at = utcnow()


for _cls in DATED_TYPES:
    event.listen(_cls, "before_insert", _sync_day_columns)
    event.listen(_cls, "before_update", _sync_day_columns)
for _cls in RECORD_TYPES.values():
    event.listen(_cls, "before_update", _touch)

# Indexes for large databases (migration 0004), declared here too so that the models and the
# migrations describe the same schema (a test compares them).
for _name, _table, _columns in (
    ("ix_deal_sector_amount", "deal", ("sector_id", "amount_usd")),
    ("ix_deal_sector_start", "deal", ("sector_id", "start_day")),
    ("ix_dealorganisation_org_deal", "dealorganisation", ("organisation_id", "deal_id")),
    ("ix_organisation_sector_name", "organisation", ("sector_id", "name")),
    ("ix_event_end_day", "event", ("end_day",)),
    ("ix_pledge_end_day", "pledge", ("end_day",)),
    ("ix_deal_end_day", "deal", ("end_day",)),
    ("ix_initiative_end_day", "initiative", ("end_day",)),
    ("ix_target_end_day", "target", ("end_day",)),
    ("ix_country_name", "country", ("name",)),
    ("ix_source_title", "source", ("title",)),
    ("ix_story_title", "story", ("title",)),
    ("ix_storystep_story_position", "storystep", ("story_id", "position")),
):
    Index(_name, *(SQLModel.metadata.tables[_table].c[c] for c in _columns))
