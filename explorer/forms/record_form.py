"""Record forms: typed fields, inline validation before anything is written, conflict review."""

from __future__ import annotations

import logging
from collections.abc import Callable
from html import escape as esc
from typing import Any, ClassVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from explorer import formatting, money, schema
from explorer.formatting import KIND_LABEL
from explorer.forms.editors import (
    CitationsEditor,
    FieldEditor,
    MultiRefEditor,
    PartnersEditor,
    PickSource,
    editor_for,
)
from explorer.forms.operations import Operations
from explorer.state import AppState, RecordRef
from explorer.store import ChangeEvent, ConflictError, StoreError, ValidationError, validation
from explorer.store.errors import FieldProblem
from explorer.store.writes import CITATIONS, as_text, link_fields

log = logging.getLogger("explorer.forms")


def cited_in_forms() -> tuple[str, ...]:
    """Forms with a Sources list: every citeable type but sources themselves."""
    return tuple(t for t in schema.citeable() if t != "source")


class ConflictDialog(QDialog):
    """Shows the analyst's values beside the ones saved meanwhile, field by field, to choose."""

    def __init__(
        self, conflict: ConflictError, mine: dict[str, Any], labels: dict[str, str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Changed by someone else")
        self.conflict = conflict
        self.mine = mine
        intro = QLabel(
            f"This record was saved by someone else after you opened it (version {conflict.expected_version} → "
            f"{conflict.current_version}). Nothing has been overwritten. Choose, for each field below, which "
            "value to keep.",
            self,
        )
        intro.setWordWrap(True)
        body = QWidget(self)
        grid = QGridLayout(body)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(2, 1)
        for col, head in enumerate(("Field", "Saved meanwhile", "Yours")):
            label = QLabel(f"<b>{head}</b>", self)
            grid.addWidget(label, 0, col)
        self.choices: dict[str, QButtonGroup] = {}
        fields = [k for k in mine if conflict.current.get(k) != mine[k]]
        for row, name in enumerate(fields, start=1):
            grid.addWidget(QLabel(labels.get(name, name), self), row, 0, Qt.AlignmentFlag.AlignTop)
            group = QButtonGroup(self)
            for column, value in ((1, conflict.current.get(name)), (2, mine[name])):
                # Long notes wrap in a label beside the button (a radio button's text never wraps).
                choice, button = self._choice(as_text(value) or "—")
                group.addButton(button, column - 1)
                grid.addWidget(choice, row, column, Qt.AlignmentFlag.AlignTop)
            group.button(1).setChecked(True)
            self.choices[name] = group
        grid.setRowStretch(len(fields) + 1, 1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        buttons = QDialogButtonBox(self)
        buttons.addButton("Save my choices", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton("Discard my changes", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(scroll, 1)
        layout.addWidget(buttons)
        self.resize(760, min(640, 200 + 70 * len(fields)))

    def _choice(self, text: str) -> tuple[QWidget, QRadioButton]:
        holder = QWidget(self)
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        button = QRadioButton(holder)
        button.setAccessibleName(text[:200])
        label = QLabel(text, holder)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        label.setMinimumWidth(120)
        # A click on the text picks the option, as on the button (an instance override of the handler).
        label.mousePressEvent = lambda _e: button.setChecked(True)  # type: ignore[method-assign]
        row.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(label, 1)
        return holder, button

    def resolved(self) -> dict[str, Any]:
        """Values to write on top of what is saved now."""
        out = {}
        for name, value in self.mine.items():
            group = self.choices.get(name)
            if group is None or group.checkedId() == 1:
                out[name] = value
        return out


class RecordForm(QDialog):
    """A form for one record type; create (record_id None) or edit, or view in read-only mode."""

    record_type: ClassVar[str] = ""

    def __init__(
        self,
        state: AppState,
        ops: Operations,
        record_id: int | None = None,
        initial: dict[str, Any] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.state, self.ops = state, ops
        self.record_id = record_id
        self.read_only = state.store.read_only
        self.saved_ref: RecordRef | None = None
        kind = KIND_LABEL.get(self.record_type, self.record_type)
        self.version = 0
        self.opened: dict[str, Any] = {}
        if record_id is not None:
            self.version, self.opened = state.store.snapshot(self.record_type, record_id)
        self.setWindowTitle(("View " if self.read_only else "Edit " if record_id else "New ") + kind.lower())
        self.setObjectName(f"{type(self).__name__}")
        self.editors: dict[str, FieldEditor] = {}
        self.field_errors: dict[str, str] = {}
        self.usd_stated: QCheckBox | None = None  # forms with money: amount, currency, rate, USD
        self._money_opened: tuple[Any, Any, Any] | None = None
        self._usd_opened: Any = None
        self.author_edit: QLineEdit | None = None
        self.citations_editor: CitationsEditor | None = None
        self.changed_elsewhere = False
        self._remember_author: Callable[[str], None] = lambda _name: None
        self.usd_note = QLabel(self)
        self.row_labels: dict[str, QLabel] = {}
        self.labels: dict[str, str] = {}
        self._general: list[str] = []
        outer = QVBoxLayout(self)
        if self.read_only:
            banner = QLabel(f"Read-only: {state.store.read_only_reason or 'this database cannot be changed.'}", self)
            banner.setObjectName("bannerLabel")
            banner.setWordWrap(True)
            outer.addWidget(banner)
        body = QWidget(self)
        self.form = QFormLayout(body)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for spec in validation.FIELDS[self.record_type]:
            source = None
            if spec.kind == "ref" and spec.ref:
                # a record cannot point at itself (a sector is not its own parent)
                source = PickSource(state.store, spec.ref, record_id if spec.ref == self.record_type else None)
            self._add(spec.name, spec.label + (" *" if spec.required else ""), editor_for(spec, source, body))
            if spec.name == "amount_usd" and "usd_rate" in {s.name for s in validation.FIELDS[self.record_type]}:
                # Amount, currency and rate make the USD figure, unless the source states its own.
                self.usd_stated = QCheckBox("As stated in the source (not computed from the rate)", body)
                self.usd_stated.setToolTip(
                    "Keep the USD figure the source gives; otherwise it follows the amount and the rate as you type"
                )
                self.usd_note.setParent(body)
                self.usd_note.setWordWrap(True)
                self.form.addRow("", self.usd_stated)
                self.form.addRow("", self.usd_note)
        for link in schema.kind(self.record_type).links:
            picks = PickSource(state.store, link.target)
            editor: FieldEditor = (
                PartnersEditor(
                    link.label,
                    picks,
                    body,
                    roles=link.roles,
                    default_role=link.default_role,
                    heading=schema.label(link.target),
                )
                if link.roles
                else MultiRefEditor(link.label, picks, body)
            )
            self._add(link.name, link.label, editor)
        if self.record_type in cited_in_forms():
            self.citations_editor = CitationsEditor("Sources", PickSource(state.store, "source"), body)
            self.citations_editor.new_source_requested.connect(self.new_source)
            self._add(CITATIONS, "Sources", self.citations_editor)
            if record_id is not None:
                self.opened[CITATIONS] = state.store.citations_of(self.record_type, record_id)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        outer.addWidget(scroll)
        # Problems are listed here, in a panel of fixed height under the fields: a message
        # appearing never moves a field from under the pointer. Each names its field as a link.
        self.general_error = QLabel(self)
        self.general_error.setObjectName("formProblems")
        self.general_error.setWordWrap(True)
        self.general_error.setTextFormat(Qt.TextFormat.RichText)
        self.general_error.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.general_error.linkActivated.connect(self._focus_field)
        problems_box = QScrollArea(self)
        problems_box.setObjectName("formProblemsBox")
        problems_box.setWidgetResizable(True)
        problems_box.setFrameShape(QFrame.Shape.NoFrame)
        problems_box.setWidget(self.general_error)
        problems_box.setFixedHeight(self.fontMetrics().lineSpacing() * 3 + 8)
        outer.addWidget(problems_box)
        self.buttons = QDialogButtonBox(self)
        if self.read_only:
            self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
            self.save_button = None
        else:
            self.save_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Save)
            self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
            self.save_button.setToolTip("Save (Ctrl+S)")
            QShortcut(QKeySequence(QKeySequence.StandardKey.Save), self, self.save)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        outer.addWidget(self.buttons)
        # A new record shows the values it would be saved with (Kind "project", Status
        # "announced"), not blanks that the table's defaults fill in silently.
        values = dict(self.opened) if record_id is not None else validation.defaults(self.record_type)
        values.update(initial or {})
        for name, editor in self.editors.items():
            if name in values:
                editor.set_value(values[name])
            editor.set_read_only(self.read_only)
            editor.changed.connect(self.validate)
        self._init_money(values)
        state.records_changed.connect(self._on_records_changed)
        self.resize(640, min(860, 120 + 44 * len(self.editors)))
        self.validate()

    def _add(self, name: str, label: str, editor: FieldEditor) -> None:
        row_label = QLabel(label, self)
        row_label.setBuddy(editor.focus_widget())
        self.form.addRow(row_label, editor)
        self.editors[name] = editor
        self.row_labels[name] = row_label
        self.labels[name] = label.rstrip(" *")

    # --- values and validation -------------------------------------------------------

    def values(self) -> dict[str, Any]:
        return {name: editor.value() for name, editor in self.editors.items()}

    def changed_values(self) -> dict[str, Any]:
        """Only what the analyst changed (an edit writes nothing else)."""
        values = self.values()
        if self.record_id is None:
            return values
        try:
            cleaned = validation.clean(self.record_type, {k: v for k, v in values.items() if k not in self._links})
        except ValidationError:
            cleaned = values
        out = {k: v for k, v in cleaned.items() if self.opened.get(k) != v}
        for link in self._links:
            if link in values and [tuple(v) if isinstance(v, list) else v for v in values[link]] != [
                tuple(v) if isinstance(v, list) else v for v in self.opened.get(link, [])
            ]:
                out[link] = values[link]
        return out

    @property
    def _links(self) -> tuple[str, ...]:
        """Fields that are lists of linked records, written beside the record's own columns."""
        return (*link_fields(self.record_type), *((CITATIONS,) if self.record_type in cited_in_forms() else ()))

    def new_source(self) -> None:
        """Make a source without leaving the form, then cite it."""
        form = form_for(self.state, self.ops, "source", None, None, self)
        form.exec()
        if form.saved_ref is not None and self.citations_editor is not None:
            self.citations_editor.cite(form.saved_ref.record_id)

    def problems(self) -> list[FieldProblem]:
        plain = {k: v for k, v in self.values().items() if k not in self._links}
        try:
            validation.clean(self.record_type, plain)
        except ValidationError as exc:
            return exc.problems
        return []

    def validate(self) -> bool:
        problems = self.problems()
        self._general = []
        self.field_errors = {}
        self._set_problems(problems)
        if self.save_button is not None:
            self.save_button.setEnabled(not problems)
        return not problems

    def _set_problems(self, problems: list[FieldProblem]) -> None:
        by_label: dict[str, list[str]] = {}
        for p in problems:
            name = p.name if p.name in self.labels else None
            if name is None:
                self._general.append(p.message if not p.field else f"{p.field}: {p.message}")
            else:
                by_label.setdefault(name, []).append(p.message)
        for name, messages in by_label.items():
            self.field_errors[name] = f"{self.labels[name]} " + " ".join(messages)
        for name, row_label in self.row_labels.items():
            row_label.setStyleSheet("color: #c0392b;" if name in self.field_errors else "")
        self._render_problems()

    def _render_problems(self) -> None:
        lines = [
            f"<a href='{name}' style='color:#c0392b'><b>{esc(self.labels[name])}</b></a>: "
            f"{esc(text[len(self.labels[name]) + 1 :])}"
            for name, text in self.field_errors.items()
        ]
        lines += [f"<span style='color:#c0392b'>{esc(text)}</span>" for text in self._general]
        if self.changed_elsewhere:
            lines.insert(
                0,
                "<b>Someone else saved this record while you were editing it.</b> Save shows both "
                "versions, field by field, to choose what to keep.",
            )
        if lines:
            self.general_error.setText("<br>".join(lines))
        else:
            hint = "Fields marked * are required." if not self.read_only else ""
            self.general_error.setText(f"<span style='color:palette(mid)'>{hint}</span>")

    def _focus_field(self, name: str) -> None:
        editor = self.editors.get(name)
        if editor is not None:
            editor.focus_widget().setFocus(Qt.FocusReason.OtherFocusReason)

    def _show_general(self, messages: list[str]) -> None:
        self._general = list(messages)
        self._render_problems()

    def error_texts(self) -> dict[str, str]:
        return dict(self.field_errors)

    def general_messages(self) -> list[str]:
        """Problems of the record as a whole (or from the store), not of one field."""
        return list(self._general)

    # --- money: the USD figure follows the amount and rate, or is kept as stated -------------

    def _init_money(self, values: dict[str, Any]) -> None:
        if self.usd_stated is None:
            return
        stated = money.is_stated(
            values.get("amount"), values.get("currency"), values.get("usd_rate"), values.get("amount_usd")
        )
        self.usd_stated.setChecked(stated)
        self.usd_stated.setEnabled(not self.read_only)
        # The figures as opened: until the amount, currency or rate is changed the stored USD
        # figure stays as it is (a source's rounding within the tolerance is not "corrected").
        self._money_opened = (values.get("amount"), values.get("currency"), values.get("usd_rate"))
        self._usd_opened = values.get("amount_usd")
        self.usd_stated.toggled.connect(lambda _on: self.follow_money())
        for name in ("amount", "usd_rate"):
            self.editors[name].changed.connect(self.follow_money)
        self.editors["currency"].changed.connect(self._currency_changed)
        self.follow_money()

    def follow_money(self) -> None:
        """Computed: the USD field shows amount × rate, read-only, as the numbers are typed.
        Stated: the analyst's figure stays, with what the rate would give beside it."""
        if self.usd_stated is None:
            return
        values = self.values()
        amount, currency, rate = values.get("amount"), values.get("currency"), values.get("usd_rate")
        expected = money.computed_usd(
            amount if isinstance(amount, float) else None, currency, rate if isinstance(rate, float) else None
        )
        usd_editor = self.editors["amount_usd"]
        if self.usd_stated.isChecked():
            usd_editor.set_read_only(self.read_only)
            self.usd_note.setText("" if expected is None else f"Amount × rate would give {formatting.usd(expected)}.")
        else:
            usd_editor.set_read_only(True)
            unchanged = (amount, currency, rate) == self._money_opened
            target = self._usd_opened if unchanged and self._usd_opened is not None else expected
            if values.get("amount_usd") != target:
                usd_editor.set_value(target)
            self.usd_note.setText(
                "Computed from the amount and the rate."
                if expected is not None
                else "Give the rate (USD per unit) to compute the USD figure."
            )

    def _currency_changed(self) -> None:
        if self.values().get("currency") == "USD":
            self.editors["usd_rate"].set_value(1.0)  # a dollar is worth a dollar
        self.follow_money()

    def compute_usd(self) -> None:
        """Switch the USD figure back to the one computed from amount and rate."""
        if self.usd_stated is not None:
            self.usd_stated.setChecked(False)
            self.follow_money()

    def label_of(self) -> str:
        values = self.values()
        return str(values.get("title") or values.get("name") or values.get("section") or self.record_type)

    # --- saving ----------------------------------------------------------------------

    def _on_records_changed(self, changes: ChangeEvent, initiator: object) -> None:
        """Someone else saved this record while the form is open (another user, or another
        window here: not this form's own save): say so before Save."""
        if initiator is self or self.record_id is None:
            return
        if changes.touches(self.record_type, self.record_id):
            self.changed_elsewhere = True
            self._render_problems()

    def ask_author(self, default: str, remember: Callable[[str], None]) -> None:
        """The analyst's name for the history, asked in the first form (not in a dialog of its own)."""
        self.author_edit = QLineEdit(default, self)
        self.author_edit.setAccessibleName("Your name in the history")
        self.author_edit.setToolTip("Shown beside every change you make; asked once, kept in the settings")
        self.form.insertRow(0, "Your name (history)", self.author_edit)
        self._remember_author = remember

    def save(self) -> None:
        if self.read_only or not self.validate():
            return
        if self.author_edit is not None and self.author_edit.text().strip():
            name = self.author_edit.text().strip()
            self.state.store.user = name
            self._remember_author(name)
        try:
            if self.record_id is None:
                self.saved_ref = self.ops.create(self.record_type, self.values(), self.label_of(), initiator=self)
            else:
                self._save_edit(self.changed_values(), self.version, base=self.opened)
                self.saved_ref = RecordRef(self.record_type, self.record_id)
        except ConflictError as conflict:
            if not self._resolve_conflict(conflict):
                return
        except ValidationError as exc:
            self._show_store_problems(exc.problems)
            return
        except StoreError as exc:
            self._show_general([exc.message])
            return
        if self.saved_ref is not None:
            self.state.select(self.saved_ref, initiator=self)
        self.accept()

    def _save_edit(self, new: dict[str, Any], version: int, base: dict[str, Any]) -> None:
        old = {k: base.get(k) for k in new}
        rid = self.record_id
        self.ops.edit(self.record_type, rid, old, new, version, self.label_of(), initiator=self)  # type: ignore[arg-type]

    def _resolve_conflict(self, conflict: ConflictError) -> bool:
        mine = self.changed_values()
        dialog = ConflictDialog(conflict, mine, self.labels, self)
        self.conflict_dialog = dialog
        if dialog.exec() != QDialog.DialogCode.Accepted:
            self.reject()
            return False
        resolved = {k: v for k, v in dialog.resolved().items() if conflict.current.get(k) != v}
        try:
            self._save_edit(resolved, conflict.current_version, base=conflict.current)
        except StoreError as exc:
            self._show_general([exc.message])
            return False
        self.saved_ref = RecordRef(self.record_type, self.record_id)  # type: ignore[arg-type]
        return True

    def _show_store_problems(self, problems: list[FieldProblem]) -> None:
        self._general = []
        self._set_problems(problems)


def _form_class(record_type: str, name: str) -> type[RecordForm]:
    return type(name, (RecordForm,), {"record_type": record_type, "__doc__": f"The {record_type} form."})


EventForm = _form_class("event", "EventForm")
PledgeForm = _form_class("pledge", "PledgeForm")
DealForm = _form_class("deal", "DealForm")
OrganisationForm = _form_class("organisation", "OrganisationForm")
SectorForm = _form_class("sector", "SectorForm")
PersonForm = _form_class("person", "PersonForm")
PlaceForm = _form_class("place", "PlaceForm")
CountryForm = _form_class("country", "CountryForm")
InitiativeForm = _form_class("initiative", "InitiativeForm")
TargetForm = _form_class("target", "TargetForm")
SourceForm = _form_class("source", "SourceForm")
CitationForm = _form_class("citation", "CitationForm")
StoryForm = _form_class("story", "StoryForm")
StoryStepForm = _form_class("storystep", "StoryStepForm")

_NAMED: dict[str, type[RecordForm]] = {
    cls.record_type: cls
    for cls in (
        EventForm,
        PledgeForm,
        DealForm,
        OrganisationForm,
        SectorForm,
        PersonForm,
        PlaceForm,
        CountryForm,
        InitiativeForm,
        TargetForm,
        SourceForm,
        CitationForm,
        StoryForm,
        StoryStepForm,
    )
}


def form_class(record_type: str) -> type[RecordForm]:
    """The form of a type: a named one above, or one made from the registry's fields."""
    cls = _NAMED.get(record_type)
    if cls is None:
        cls = _NAMED[record_type] = _form_class(record_type, f"{record_type.capitalize()}Form")
    return cls


# Every registered type has a form.
FORMS: schema.PerKind[type[RecordForm]] = schema.PerKind(lambda k: form_class(k.name))


def form_for(
    state: AppState,
    ops: Operations,
    record_type: str,
    record_id: int | None = None,
    initial: dict[str, Any] | None = None,
    parent: QWidget | None = None,
) -> RecordForm:
    return FORMS[record_type](state, ops, record_id, initial, parent)


__all__ = ["FORMS", "ConflictDialog", "Qt", "RecordForm", "form_for"]
