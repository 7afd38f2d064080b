"""File-menu actions for teams and exchange: Connect…, Import…, Export…, Merge…, Backups….

Dialogs only ask and show; every read and write goes through Store methods (no sessions here).
An import is an undoable command on the window's undo stack; a merge and a restore are undone
from the backups they write first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import quote

from PySide6.QtCore import QEventLoop, Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QProgressDialog,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from explorer import paths, settings
from explorer.forms.operations import Operations, _StoreCommand
from explorer.store import ChangeSet, StoreError

if TYPE_CHECKING:  # the exchange and merge code loads with the first dialog, not at start-up
    from explorer.store.backups import BackupInfo
    from explorer.store.exchange import ImportReport, ImportResult
    from explorer.store.merge import FieldChange, MergePlan, MergeResult
    from explorer.views.main_window import MainWindow

log = logging.getLogger("explorer.exchange")


def install(window: MainWindow, file_menu: QMenu) -> None:
    """Adds Connect…, Import…, Export…, Merge… and Backups… to the window's File menu."""
    actions = {
        "connect": ("&Connect to a Team Server…", lambda: connect(window)),
        "import": ("&Import…", lambda: import_files(window)),
        "export": ("&Records as JSON, CSV or a Database Copy…", lambda: export(window)),
        "merge": ("&Merge Another Analyst's File…", lambda: merge(window)),
        "backups": ("&Backups…", lambda: show_backups(window)),
    }
    window.exchange_actions = {}
    for key, (text, slot) in actions.items():
        action = QAction(text, window)
        action.triggered.connect(slot)
        file_menu.addAction(action)
        window.exchange_actions[key] = action
        if key == "export":
            file_menu.removeAction(action)  # one Export menu: the workshop's submenu holds it
        if key == "connect":
            file_menu.addSeparator()

    def update_enabled() -> None:
        store = window.state.store
        window.exchange_actions["import"].setEnabled(not store.read_only)
        window.exchange_actions["merge"].setEnabled(not store.read_only)

    window.state.store_replaced.connect(update_enabled)
    update_enabled()


_T = TypeVar("_T")


def _window_of(ops: Operations) -> QWidget | None:
    """The window whose edits ``ops`` runs (its progress dialogs sit over it)."""
    from explorer.forms.controller import EditController

    controller = ops.parent()
    return controller.window if isinstance(controller, EditController) else None


class CancelledError(Exception):
    """The person pressed Cancel while the work ran (it was only reading: nothing to undo)."""


def run_with_progress(parent: QWidget, text: str, work: Callable[[], _T], *, cancellable: bool = False) -> _T:
    """``work()`` on a worker thread while the window keeps painting (a progress dialog after a
    moment, with Cancel only for reads); its result, or its exception raised here."""
    from explorer.jobs import BackgroundJob

    outcome: dict[str, Any] = {}
    loop = QEventLoop()
    job = BackgroundJob(lambda _cancelled, _report: work(), text)

    def finished(result: Any) -> None:
        outcome.setdefault("result", result)
        loop.quit()

    def failed(exc: Exception) -> None:
        outcome.setdefault("error", exc)
        loop.quit()

    job.finished.connect(finished)
    job.failed.connect(failed)
    dialog = QProgressDialog(text, "Cancel" if cancellable else "", 0, 0, parent)
    dialog.setWindowTitle("Please wait")
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(400)
    if not cancellable:
        dialog.setCancelButton(None)

    def cancel() -> None:
        job.cancel()  # the reading stops being waited for; its result is dropped
        outcome.setdefault("error", CancelledError())
        loop.quit()

    dialog.canceled.connect(cancel)
    job.start()
    if not outcome:
        loop.exec()
    dialog.reset()
    dialog.deleteLater()
    if "error" in outcome:
        raise outcome["error"]
    result: _T = outcome["result"]
    return result


def _warn(parent: QWidget, exc: StoreError) -> None:
    log.warning("%s: %s", exc.title, exc.message)
    box = QMessageBox(QMessageBox.Icon.Warning, exc.title, exc.message, parent=parent)
    if exc.detail:
        box.setDetailedText(exc.detail)
    box.exec()


# --- connect --------------------------------------------------------------------------------


class ConnectDialog(QDialog):
    """Where the team's server is. The password is never stored."""

    def __init__(self, parent: QWidget | None, last_url: str) -> None:
        super().__init__(parent)
        self.setWindowTitle("Connect to a team server")
        self.url_edit = QLineEdit(last_url)
        self.url_edit.setPlaceholderText("postgresql+psycopg://analyst@db.example.org:5432/partnership")
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout()
        form.addRow("Server address", self.url_edit)
        form.addRow("Password", self.password_edit)
        hint = QLabel("Ask your administrator for the address. A file path opens a database file instead.")
        hint.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Connect")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(buttons)

    def url(self) -> str:
        """The address with the password put in (quoted, so any character is allowed)."""
        url, password = self.url_edit.text().strip(), self.password_edit.text()
        if password and "://" in url:
            scheme, rest = url.split("://", 1)
            if "@" in rest:
                user, host = rest.split("@", 1)
                url = f"{scheme}://{user.split(':', 1)[0]}:{quote(password, safe='')}@{host}"
        return url


def connect(window: MainWindow) -> bool:
    dialog = ConnectDialog(window, settings.LAST_SERVER.get())
    if dialog.exec() != QDialog.DialogCode.Accepted or not dialog.url():
        return False
    if window.open_path(dialog.url()):
        settings.LAST_SERVER.set(dialog.url_edit.text().strip())  # without the password
        return True
    return False


# --- import -----------------------------------------------------------------------------------


class ImportDialog(QDialog):
    """Shows the check of every row; Import is offered only when there is no problem."""

    def __init__(self, parent: QWidget | None, sources: list[Path], report: ImportReport) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import")
        self.resize(720, 420)
        heading = QLabel(("Ready to import " if report.ok else "Cannot import ") + ", ".join(p.name for p in sources))
        heading.setWordWrap(True)
        self.report_view = QPlainTextEdit(report.text())
        self.report_view.setReadOnly(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.import_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.import_button.setText("Import")
        self.import_button.setEnabled(report.ok)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.report_view)
        note = QLabel("All rows are applied or none. Edit ▸ Undo takes the import back.")
        layout.addWidget(note)
        layout.addWidget(buttons)


_Result = TypeVar("_Result", "ImportResult", "MergeResult")


class _ResultCommand(_StoreCommand, Generic[_Result]):
    """A bulk write on the undo stack: ``apply`` returns a result that ``take_back`` reverses."""

    def __init__(self, ops: Operations, text: str) -> None:
        super().__init__(ops, text)
        self.result: _Result | None = None

    def apply(self) -> _Result:
        raise NotImplementedError

    def take_back(self, result: _Result) -> ChangeSet:
        raise NotImplementedError

    def redo(self) -> None:
        def run() -> ChangeSet:
            self.result = result = self.apply()
            return result.changes

        self._run(run)

    def undo(self) -> None:
        if self.result is not None:
            result = self.result
            self._run(lambda: self.take_back(result))


class ImportCommand(_ResultCommand["ImportResult"]):
    """An import on the undo stack: undo deletes what it created and restores what it changed."""

    def __init__(self, ops: Operations, sources: list[Path], kind: str = "files") -> None:
        super().__init__(ops, f"Import {', '.join(p.name for p in sources)}")
        self.sources, self.kind = sources, kind  # kind: files (exchange), peer or kumu

    def apply(self) -> ImportResult:
        store, parent = self.ops.state.store, _window_of(self.ops)
        write = {"files": store.import_files, "peer": store.import_peer, "kumu": store.import_kumu}[self.kind]
        if parent is None:
            return write(self.sources)
        return run_with_progress(parent, "Importing…", lambda: write(self.sources))

    def take_back(self, result: ImportResult) -> ChangeSet:
        return self.ops.state.store.undo_import(result)


def import_files(window: MainWindow, sources: list[Path] | None = None) -> ImportResult | None:
    if sources is None:
        names, _ = QFileDialog.getOpenFileNames(
            window,
            "Import records",
            str(Path.home()),
            "Spreadsheets, exports, calendars and timelines (*.xlsx *.xlsm *.csv *.tsv *.json *.ics *.timeline)"
            ";;All files (*)",
        )
        sources = [Path(n) for n in names]
    if not sources:
        return None
    from explorer.store.kumu import is_kumu_file
    from explorer.store.peer import is_peer_file
    from explorer.store.spreadsheet import is_spreadsheet

    if all(is_peer_file(p) for p in sources):
        return import_peer_files(window, sources)
    if all(is_kumu_file(p) for p in sources):
        return import_kumu_files(window, sources)
    sheets = [p for p in sources if is_spreadsheet(p)]
    if sheets:
        # A spreadsheet gets the dialog that maps its columns; one file at a time.
        from explorer.views.spreadsheet_import import import_spreadsheet

        if len(sources) > 1:
            QMessageBox.information(
                window, "Import", "Spreadsheets are imported one at a time: this opens the first of them."
            )
        import_spreadsheet(window, sheets[0])
        return None
    store = window.state.store
    try:
        report = run_with_progress(window, "Checking every row…", lambda: store.check_import(sources), cancellable=True)
    except CancelledError:
        return None
    except StoreError as exc:
        _warn(window, exc)
        return None
    dialog = ImportDialog(window, sources, report)
    if dialog.exec() != QDialog.DialogCode.Accepted or not report.ok:
        return None
    from explorer.store.exchange import ImportFailedError

    command = ImportCommand(window.editing.ops, sources)
    window.editing.ops.undo_stack.push(command)  # runs the import; a refusal is reported by ops.failed
    if isinstance(command.failed, ImportFailedError):
        return None
    return command.result


def _import_read(
    window: MainWindow, sources: list[Path], kind: str, check: Callable[[], tuple[ImportReport, str]]
) -> ImportResult | None:
    """Read and check in the background, show what the files hold and what is not kept, then
    write them in one undoable step (files of other tools, Kumu maps)."""
    try:
        report, summary = run_with_progress(window, "Reading…", check, cancellable=True)
    except CancelledError:
        return None
    except StoreError as exc:
        _warn(window, exc)
        return None
    dialog = ImportDialog(window, sources, report)
    dialog.report_view.setPlainText(summary + "\n\n" + report.text())
    if dialog.exec() != QDialog.DialogCode.Accepted or not report.ok:
        return None
    command = ImportCommand(window.editing.ops, sources, kind)
    window.editing.ops.undo_stack.push(command)
    return None if command.failed is not None else command.result


def _not_kept(dropped: list[str]) -> str:
    return f"; not kept: {'; '.join(dropped)}." if dropped else "."


def import_peer_files(window: MainWindow, sources: list[Path]) -> ImportResult | None:
    """TimelineJS, vis-timeline, Timeline or calendar files, as events and eras."""

    def check() -> tuple[ImportReport, str]:
        report, peers = window.state.store.check_peer(sources)
        lines = [f"{p.path.name} ({p.format}): {len(p.items)} entries{_not_kept(p.dropped)}" for p in peers]
        return report, "\n".join(lines)

    return _import_read(window, sources, "peer", check)


def import_kumu_files(window: MainWindow, sources: list[Path]) -> ImportResult | None:
    """A Kumu map (elements and connections) as records and links."""

    def check() -> tuple[ImportReport, str]:
        report, read = window.state.store.check_kumu(sources)
        counts = f"{len(read.elements)} elements, {len(read.connections)} connections"
        return report, f"Kumu map: {counts}{_not_kept(read.dropped)}"

    return _import_read(window, sources, "kumu", check)


# --- export -----------------------------------------------------------------------------------

EXPORT_FORMATS = [
    ("json", "JSON file (*.json)"),
    ("csv", "CSV files, one per record type (a folder)"),
    ("sqlite", "A copy of the database, to work offline (*.sqlite)"),
    ("timelinejs", "TimelineJS, to publish on the web (*.json)"),
    ("ics", "Calendar of the summits and visits (*.ics)"),
]


class ExportDialog(QDialog):
    def __init__(self, parent: QWidget | None, selected: int) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.format_box = QComboBox()
        for key, label in EXPORT_FORMATS:
            self.format_box.addItem(label, key)
        self.selection_check = QCheckBox(f"Only the {selected} selected record(s) and what they need")
        self.selection_check.setEnabled(selected > 0)
        self.format_box.currentIndexChanged.connect(
            lambda _i: self.selection_check.setEnabled(selected > 0 and self.fmt() != "sqlite")
        )
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        form.addRow("Format", self.format_box)
        layout.addLayout(form)
        layout.addWidget(self.selection_check)
        layout.addWidget(buttons)

    def fmt(self) -> str:
        return str(self.format_box.currentData())


def export(
    window: MainWindow, fmt: str | None = None, out: Path | None = None, selection_only: bool = False
) -> list[Path]:
    state = window.state
    if fmt is None:
        dialog = ExportDialog(window, len(state.selection))
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return []
        fmt, selection_only = dialog.fmt(), dialog.selection_check.isChecked() and dialog.selection_check.isEnabled()
    if out is None:
        start = str(Path.home())
        if fmt == "csv":
            chosen = QFileDialog.getExistingDirectory(window, "Folder for the CSV files", start)
        else:
            suffix = {"json": ".json", "timelinejs": ".json", "ics": ".ics"}.get(fmt, ".sqlite")
            chosen, _ = QFileDialog.getSaveFileName(
                window, "Export to", str(Path(start) / f"partnership{suffix}"), dict(EXPORT_FORMATS)[fmt]
            )
        if not chosen:
            return []
        out = Path(chosen)
    selection = [(r.record_type, r.record_id) for r in state.selection] if selection_only else None
    try:
        written = run_with_progress(
            window, f"Exporting to {out.name}…", lambda: state.store.export(out, fmt=fmt, selection=selection)
        )
    except (StoreError, OSError) as exc:
        _warn(window, exc if isinstance(exc, StoreError) else StoreError(f"Could not write {out}: {exc}"))
        return []
    window.statusBar().showMessage(f"Exported to {out}", 8000)
    return written


# --- merge ------------------------------------------------------------------------------------


class MergeDialog(QDialog):
    """What a merge would do; each field changed on both sides gets a Keep choice. Nothing is
    written until Merge is pressed."""

    def __init__(self, parent: QWidget | None, plan: MergePlan) -> None:
        from explorer.store.merge import MINE, THEIRS

        super().__init__(parent)
        self.plan = plan
        self.setWindowTitle(f"Merge {plan.other.name}")
        self.resize(900, 560)
        layout = QVBoxLayout(self)
        summary = QLabel(plan.summary().split("\n    ")[0].replace("\n  ", "<br>• ").replace("\n", "<br>"))
        summary.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(summary)
        self.choices: dict[tuple[str, str], QComboBox] = {}
        if plan.conflicts:
            layout.addWidget(QLabel("<b>Changed on both sides</b> — choose what to keep:"))
            self.conflict_table = self._table(["Record", "Field", "Here", "Theirs", "Keep"], len(plan.conflicts))
            for row, c in enumerate(plan.conflicts):
                self._fill(self.conflict_table, row, c)
                box = QComboBox()
                box.addItem("Mine (here)", MINE)
                box.addItem("Theirs", THEIRS)
                self.conflict_table.setCellWidget(row, 4, box)
                self.choices[c.key] = box
            layout.addWidget(self.conflict_table)
        if plan.take_theirs:
            layout.addWidget(QLabel("Changed only in their file (taken):"))
            table = self._table(["Record", "Field", "Here", "Theirs"], len(plan.take_theirs))
            for row, c in enumerate(plan.take_theirs):
                self._fill(table, row, c)
            layout.addWidget(table)
        if plan.problems:
            problems = QPlainTextEdit("\n".join(str(p) for p in plan.problems))
            problems.setReadOnly(True)
            layout.addWidget(QLabel("<b>Their file has records that cannot come in:</b>"))
            layout.addWidget(problems)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.merge_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.merge_button.setText("Merge")
        self.merge_button.setEnabled(not plan.problems and not plan.empty)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(QLabel("A backup is written first (File ▸ Backups… restores it)."))
        layout.addWidget(buttons)

    @staticmethod
    def _table(headers: list[str], rows: int) -> QTableWidget:
        table = QTableWidget(rows, len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        table.verticalHeader().hide()
        return table

    @staticmethod
    def _fill(table: QTableWidget, row: int, change: FieldChange) -> None:
        from explorer.store.merge import column_label

        for col, text in enumerate(
            [
                f"{change.record_type}: {change.label}",
                column_label(change.record_type, change.column),
                _show(change.mine),
                _show(change.theirs),
            ]
        ):
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            table.setItem(row, col, item)

    def chosen(self) -> dict[tuple[str, str], str]:
        return {key: str(box.currentData()) for key, box in self.choices.items()}


def _show(value: Any) -> str:
    if value in (None, "", []):
        return "(empty)"
    if isinstance(value, list):
        return ", ".join(":".join(map(str, v)) if isinstance(v, list | tuple) else str(v) for v in value)
    return str(value)


def merge(window: MainWindow, other: Path | None = None) -> bool:
    if other is None:
        name, _ = QFileDialog.getOpenFileName(
            window,
            "Merge another analyst's database",
            str(Path.home()),
            "Partnership databases (*.sqlite *.db);;All files (*)",
        )
        if not name:
            return False
        other = Path(name)
    store = window.state.store
    try:
        plan = run_with_progress(
            window, f"Comparing with {other.name}…", lambda: store.plan_merge(other), cancellable=True
        )
    except CancelledError:
        return False
    except StoreError as exc:
        _warn(window, exc)
        return False
    dialog = MergeDialog(window, plan)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return False
    command = MergeCommand(window.editing.ops, plan, dialog.chosen(), other.name)
    window.editing.ops.undo_stack.push(command)  # runs the merge; a refusal is reported by ops.failed
    result = command.result
    if command.failed is not None or result is None:
        return False
    window.statusBar().showMessage(
        f"Merged {other.name}: {result.created} new, {result.updated} updated. Edit ▸ Undo takes it back.", 8000
    )
    return True


class MergeCommand(_ResultCommand["MergeResult"]):
    """A merge on the undo stack: undo puts every row it changed back exactly (history too),
    refused when a merged record was edited since; redo merges the reviewed plan again."""

    def __init__(self, ops: Operations, plan: MergePlan, choices: dict[tuple[str, str], str], name: str) -> None:
        super().__init__(ops, f"Merge {name}")
        self.plan, self.choices = plan, choices

    def apply(self) -> MergeResult:
        store, parent = self.ops.state.store, _window_of(self.ops)
        if parent is None:
            return store.apply_merge(self.plan, self.choices)
        return run_with_progress(parent, "Merging…", lambda: store.apply_merge(self.plan, self.choices))

    def take_back(self, result: MergeResult) -> ChangeSet:
        return self.ops.state.store.undo_merge(result)


# --- backups ----------------------------------------------------------------------------------


class BackupsDialog(QDialog):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window_ = window
        self.setWindowTitle("Backups")
        self.resize(760, 380)
        self.table = MergeDialog._table(["Made", "Why", "Size", "File"], 0)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.make_button = QPushButton("Back Up Now")
        self.restore_button = QPushButton("Restore…")
        self.reveal_button = QPushButton("Reveal in Folder")
        self.make_button.clicked.connect(self.make)
        self.restore_button.clicked.connect(self.restore)
        self.reveal_button.clicked.connect(self.reveal)
        self.table.doubleClicked.connect(self.reveal)
        buttons = QHBoxLayout()
        for b in (self.make_button, self.restore_button, self.reveal_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        # What is kept after each new backup (settings.backup_retention): changed here, used next time.
        keep = settings.backup_retention()
        self.keep_last, self.keep_days, self.keep_weeks = (
            self._count(keep.last, 1, "backups"),
            self._count(keep.days, 0, "days"),
            self._count(keep.weeks, 0, "weeks"),
        )
        retention = QHBoxLayout()
        for text, box in (("Keep the last", self.keep_last), ("plus one a day for", self.keep_days)):
            retention.addWidget(QLabel(text))
            retention.addWidget(box)
        retention.addWidget(QLabel("and one a week for"))
        retention.addWidget(self.keep_weeks)
        retention.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        self.note = QLabel()
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        layout.addLayout(retention)
        layout.addWidget(close)
        self.refresh()

    def _count(self, value: int, least: int, unit: str) -> QSpinBox:
        box = QSpinBox()
        box.setRange(least, 999)
        box.setValue(value)
        box.setSuffix(f" {unit}")
        box.valueChanged.connect(self._keep_changed)
        return box

    def _keep_changed(self) -> None:
        from explorer.store.backups import Retention

        settings.set_backup_retention(
            Retention(last=self.keep_last.value(), days=self.keep_days.value(), weeks=self.keep_weeks.value())
        )

    def selected(self) -> BackupInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.backups[rows[0].row()] if rows else None

    def reveal(self) -> None:
        """The backup's folder in the file manager (the file is named in the list)."""
        backup = self.selected()
        folder = backup.path.parent if backup is not None else paths.backup_dir()
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def refresh(self) -> None:
        store = self.window_.state.store
        self.backups = store.list_backups()
        file_db = store.path is not None
        self.note.setText(
            f"Backups of {store.display_name()} in {paths.backup_dir()}, written before every import, "
            "merge, restore and upgrade. After each new one the older are thinned out as set below."
            if file_db
            else "This is a server database: its backups are the administrator's (pg_dump)."
        )
        self.make_button.setEnabled(file_db and not store.read_only)
        self.restore_button.setEnabled(file_db and not store.read_only and bool(self.backups))
        self.reveal_button.setEnabled(file_db)
        self.table.setRowCount(len(self.backups))
        for row, b in enumerate(self.backups):
            for col, text in enumerate(
                [f"{b.made:%Y-%m-%d %H:%M:%S}", b.describe(), f"{b.size / 1e6:.1f} MB", b.path.name]
            ):
                self.table.setItem(row, col, QTableWidgetItem(text))
        if self.backups:
            self.table.selectRow(0)

    def make(self) -> None:
        try:
            self.window_.state.store.backup_now("manual")
        except (StoreError, OSError) as exc:
            _warn(self, exc if isinstance(exc, StoreError) else StoreError(str(exc)))
        self.refresh()

    def restore(self, *, confirm: bool = True) -> bool:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return False
        backup = self.backups[rows[0].row()]
        store = self.window_.state.store
        if (
            confirm
            and QMessageBox.question(
                self,
                "Restore backup",
                f"Replace everything in {store.display_name()} with the backup made {backup.made:%d %B %Y %H:%M} "
                f"({backup.describe()})? What is there now is backed up first.",
            )
            != QMessageBox.StandardButton.Yes
        ):
            return False
        try:
            store.restore_backup(backup.path)
        except StoreError as exc:
            _warn(self, exc)
            return False
        self.window_.open_path(str(store.path))  # every view reloads from the restored file
        self.refresh()
        return True


def show_backups(window: MainWindow) -> BackupsDialog:
    dialog = BackupsDialog(window)
    dialog.open()
    return dialog
