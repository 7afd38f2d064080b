"""Errors the store raises. Each carries a message written for the person at the keyboard."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class StoreError(Exception):
    """A known problem with the database: shown to the user, never as a traceback."""

    title = "Database problem"

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from its parts, not by calling __init__ again (whose arguments differ by
        # subclass): errors of work run in another process come back whole.
        return (_restore_error, (type(self), self.args, self.__dict__))


def _restore_error(cls: type[StoreError], args: tuple[Any, ...], state: dict[str, Any]) -> StoreError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class DatabaseMissingError(StoreError):
    title = "Database not found"


class NotADatabaseError(StoreError):
    title = "Not a database"


class EmptyFileError(NotADatabaseError):
    """A zero-byte file: opened only once the person agrees to set it up as a new database."""

    title = "Empty file"


class CorruptDatabaseError(StoreError):
    title = "Damaged database"


class DatabaseLockedError(StoreError):
    title = "Database is busy"


class NewerSchemaError(StoreError):
    title = "Database made by a newer version"


class ReadOnlyError(StoreError):
    title = "Read-only database"


class DatabaseUnavailableError(StoreError):
    """The database could not be read just now (a team server stopped, the network gone)."""

    title = "Database unavailable"


class RecordNotFoundError(StoreError):
    title = "Record not found"


@dataclass
class FieldProblem:
    field: str  # the field's label, as the person reads it ("" for the record as a whole)
    message: str
    name: str = ""  # the field's name, which forms match their editors by


class ValidationError(StoreError):
    """The values given cannot be written; ``problems`` says which field and why."""

    title = "Please check the form"

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        text = "\n".join(f"{p.field}: {p.message}" if p.field else p.message for p in problems)
        super().__init__(text)


@dataclass
class FieldConflict:
    field: str
    base: Any  # what the analyst opened
    theirs: Any  # what is in the database now
    mine: Any  # what the analyst wants to write


@dataclass(eq=False)
class ConflictError(StoreError):
    """Someone else saved the record since it was opened: nothing was written."""

    record_type: str
    record_id: int
    expected_version: int
    current_version: int
    current: dict[str, Any] = field(default_factory=dict)
    conflicts: list[FieldConflict] = field(default_factory=list)
    title = "Changed by someone else"

    def __post_init__(self) -> None:
        names = ", ".join(c.field for c in self.conflicts) or "no field you edited"
        StoreError.__init__(
            self,
            f"This {self.record_type} was changed by someone else after you opened it "
            f"(version {self.expected_version} → {self.current_version}). "
            f"Fields changed on both sides: {names}. Nothing was saved.",
        )

    def __str__(self) -> str:
        return self.message
