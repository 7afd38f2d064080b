"""File ▸ Import… for a spreadsheet: which columns fill which fields, a preview of the first rows
as they will be stored, every problem by row and column, then the import in the background with
progress and Cancel — one transaction, undone by Edit ▸ Undo.

The dialog only asks and shows: reading the file, checking the rows and writing them run as
background jobs through Store methods, so a 100,000-row sheet never holds the window.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from explorer import schema
from explorer.forms.operations import Operations, _StoreCommand
from explorer.jobs import BackgroundJob
from explorer.store import ChangeSet, StoreError, isolated
from explorer.store.exchange import ImportFailedError, ImportReport, ImportResult, ref_column
from explorer.store.isolated import run_function, run_isolated
from explorer.store.spreadsheet import (
    DateOrder,
    Sheet,
    SheetImport,
    auto_mapping,
    guess_type,
    read_sheets,
    to_preview,
)
from explorer.views.exchange import _window_of, run_with_progress

if TYPE_CHECKING:
    from explorer.views.main_window import MainWindow

log = logging.getLogger("explorer.exchange")

NOT_IMPORTED = "— not imported —"
DATE_ORDERS: tuple[tuple[DateOrder, str], ...] = (
    ("dmy", "Day first (29/08/2025)"),
    ("mdy", "Month first (08/29/2025)"),
    ("ymd", "Year first (2025/08/29)"),
)
PREVIEW_ROWS = 20
# Files from which reading them takes long enough (≈ 5,000 rows) to go to a worker process.
READ_APART_TEXT = 256 * 1024
READ_APART_WORKBOOK = 64 * 1024


def columns_of(record_type: str) -> list[tuple[str, str]]:
    """(exchange column, label) a sheet column can fill, in the form's order."""
    kind = schema.kind(record_type)
    out = [(ref_column(f.name) if f.kind == "ref" else f.name, f.label) for f in kind.fields]
    out += [(link.column, link.label) for link in kind.links]
    return [*out, ("uuid", "UUID")]


_T = TypeVar("_T")


class SpreadsheetImportCommand(_StoreCommand):
    """A spreadsheet import on the undo stack. The first redo only announces what the background
    job already wrote; undo takes it back; a later redo writes the rows again."""

    def __init__(self, ops: Operations, plans: list[SheetImport], result: ImportResult) -> None:
        super().__init__(ops, f"Import {', '.join(p.sheet.name for p in plans)}")
        self.plans, self.result, self._fresh = plans, result, True

    def redo(self) -> None:
        if self._fresh:
            self._fresh = False
            self.ops.state.notify_changed(self.result.changes, initiator=self.ops)
            return
        store, plans = self.ops.state.store, self.plans

        def write() -> ImportResult:
            if isolated.worth_it(*plans):
                result: ImportResult = run_isolated(store, "import_spreadsheet", (plans,))
                return result
            return store.import_spreadsheet(plans)

        def run() -> ChangeSet:
            self.result = self._in_background("Importing again…", write)
            return self.result.changes

        self._run(run)

    def undo(self) -> None:
        store, result = self.ops.state.store, self.result

        def take_back() -> ChangeSet:
            if len(result.created) + len(result.updated) >= isolated.ISOLATE_ROWS:
                changes: ChangeSet = run_isolated(store, "undo_import", (result,))
                return changes
            return store.undo_import(result)

        self._run(lambda: self._in_background("Taking the import back…", take_back))

    def _in_background(self, text: str, work: Callable[[], _T]) -> _T:
        parent = _window_of(self.ops)
        if parent is None:
            return work()
        state = self.ops.state
        state.background_write(True)
        try:
            return run_with_progress(parent, text, work)
        finally:
            state.background_write(False)


class SpreadsheetImportDialog(QDialog):
    """Map, preview, check, import. ``job`` is the background work running now (if any)."""

    def __init__(self, window: MainWindow, path: Path) -> None:
        super().__init__(window)
        self.window_, self.path = window, path
        self.sheets: list[Sheet] = []
        self.report: ImportReport | None = None
        self.imported: ImportResult | None = None
        self.job: BackgroundJob | None = None
        self._stop_import: threading.Event | None = None
        self.setWindowTitle(f"Import {path.name}")
        self.resize(980, 640)

        self.sheet_box = QComboBox(self)
        self.type_box = QComboBox(self)
        for kind in schema.kinds():
            self.type_box.addItem(kind.label, kind.name)
        self.dates_box = QComboBox(self)
        for order, text in DATE_ORDERS:
            self.dates_box.addItem(text, order)
        choices = QFormLayout()
        choices.addRow("Sheet", self.sheet_box)
        choices.addRow("Records of type", self.type_box)
        choices.addRow("Dates like 03/04/2025 are", self.dates_box)

        self.mapping_table = QTableWidget(0, 3, self)
        self.mapping_table.setHorizontalHeaderLabels(["Column in the file", "Fills", "First values"])
        self.mapping_table.verticalHeader().hide()
        self.mapping_table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.mapping_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview_table = QTableWidget(0, 0, self)
        self.preview_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.problems_view = QPlainTextEdit(self)
        self.problems_view.setReadOnly(True)
        self.problems_view.setAccessibleName("Problems")
        self.status = QLabel("Reading the file…", self)
        self.status.setWordWrap(True)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 0)
        self.cancel_job_button = QPushButton("Cancel", self)
        self.cancel_job_button.clicked.connect(self.cancel_job)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.import_button = buttons.addButton("Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(self.start_import)
        buttons.rejected.connect(self.reject)

        split = QSplitter(Qt.Orientation.Vertical, self)
        for title, widget in (
            ("Columns", self.mapping_table),
            ("The first rows as they will be stored", self.preview_table),
            ("Problems", self.problems_view),
        ):
            box = QWidget(split)
            inner = QVBoxLayout(box)
            inner.setContentsMargins(0, 0, 0, 0)
            inner.addWidget(QLabel(f"<b>{title}</b>", box))
            inner.addWidget(widget)
            split.addWidget(box)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 3)
        split.setStretchFactor(2, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(choices)
        layout.addWidget(split, 1)
        busy = QWidget(self)
        row = QFormLayout(busy)
        row.setContentsMargins(0, 0, 0, 0)
        row.addRow(self.progress, self.cancel_job_button)
        layout.addWidget(self.status)
        layout.addWidget(busy)
        layout.addWidget(QLabel("All rows are written or none. Edit ▸ Undo takes the import back.", self))
        layout.addWidget(buttons)

        # A change of sheet, type, date order or mapping is checked again after a short pause.
        self._recheck = QTimer(self, singleShot=True, interval=250)
        self._recheck.timeout.connect(self.check)
        self.sheet_box.currentIndexChanged.connect(self._sheet_chosen)
        self.type_box.currentIndexChanged.connect(self._type_chosen)
        self.dates_box.currentIndexChanged.connect(self._recheck.start)
        self._run(lambda cancelled, report: read_for_dialog(path, cancelled), self._sheets_read, "Reading the file…")

    # --- choices --------------------------------------------------------------------------------

    @property
    def sheet(self) -> Sheet | None:
        i = self.sheet_box.currentIndex()
        return self.sheets[i] if 0 <= i < len(self.sheets) else None

    @property
    def record_type(self) -> str:
        return str(self.type_box.currentData())

    @property
    def date_order(self) -> DateOrder:
        order: DateOrder = self.dates_box.currentData()
        return order

    def mapping(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for row in range(self.mapping_table.rowCount()):
            header = _text(self.mapping_table.item(row, 0))
            combo = self.mapping_table.cellWidget(row, 1)
            assert isinstance(combo, QComboBox)
            out[header] = combo.currentData()
        return out

    def set_mapping(self, header: str, column: str | None) -> None:
        """Choose what a column fills (as picking it in the list does)."""
        for row in range(self.mapping_table.rowCount()):
            if _text(self.mapping_table.item(row, 0)) == header:
                combo = self.mapping_table.cellWidget(row, 1)
                assert isinstance(combo, QComboBox)
                combo.setCurrentIndex(max(0, combo.findData(column)))
                return
        raise KeyError(header)

    def plan(self) -> SheetImport | None:
        sheet = self.sheet
        return None if sheet is None else SheetImport(sheet, self.record_type, self.mapping(), self.date_order)

    def _sheets_read(self, sheets: list[Sheet]) -> None:
        self.sheets = sheets
        self.sheet_box.blockSignals(True)
        for sheet in sheets:
            self.sheet_box.addItem(f"{sheet.name} ({sheet.row_count:,} rows)")
        self.sheet_box.blockSignals(False)
        self.sheet_box.setEnabled(len(sheets) > 1)
        self._sheet_chosen()

    def _sheet_chosen(self) -> None:
        sheet = self.sheet
        if sheet is None:
            return
        guessed = guess_type(sheet)
        if guessed is not None:
            self.type_box.blockSignals(True)
            self.type_box.setCurrentIndex(self.type_box.findData(guessed))
            self.type_box.blockSignals(False)
        self._type_chosen()

    def _type_chosen(self) -> None:
        sheet = self.sheet
        if sheet is None:
            return
        matched = auto_mapping(self.record_type, sheet.headers)
        table = self.mapping_table
        table.setRowCount(len(sheet.headers))
        for row, header in enumerate(sheet.headers):
            table.setItem(row, 0, QTableWidgetItem(header))
            combo = QComboBox(table)
            combo.addItem(NOT_IMPORTED, None)
            for column, label in columns_of(self.record_type):
                combo.addItem(label, column)
            combo.setCurrentIndex(max(0, combo.findData(matched.get(header))))
            combo.setAccessibleName(f"What {header} fills")
            combo.currentIndexChanged.connect(self._recheck.start)
            table.setCellWidget(row, 1, combo)
            samples = [_sample(r[row]) for r in sheet.rows[:50] if row < len(r) and r[row] not in (None, "")][:3]
            table.setItem(row, 2, QTableWidgetItem(" · ".join(samples)))
        table.resizeColumnsToContents()
        self.check()

    # --- checking and importing -------------------------------------------------------------------

    def check(self) -> None:
        plan = self.plan()
        if plan is None or self._stop_import is not None:  # never while the rows are being written
            return
        store = self.window_.state.store
        self.import_button.setEnabled(False)
        self._show_preview(plan)

        def work(cancelled: Any, report: Any) -> ImportReport:
            if isolated.worth_it(plan):
                return run_isolated(store, "check_spreadsheet", ([plan],), lambda *p: report(p), cancelled)
            return store.check_spreadsheet([plan], lambda *p: report(p), cancelled)

        self._run(work, self._checked, f"Checking {plan.sheet.row_count:,} rows…")

    def _show_preview(self, plan: SheetImport) -> None:
        headers, rows = to_preview(plan, PREVIEW_ROWS)
        table = self.preview_table
        table.clear()
        table.setColumnCount(len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.setRowCount(len(rows))
        for r, values in enumerate(rows):
            for c, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                table.setItem(r, c, item)
        table.resizeColumnsToContents()

    def _checked(self, report: ImportReport) -> None:
        self.report = report
        text = "No problems." if report.ok else "\n".join(str(p) for p in report.problems) + _more(report)
        if report.ok and report.matched:
            # For review: rows taken for records already held, which they update (not add again).
            text += f"\n\n{len(report.matched):,} row(s) are records already held (same name, or title and date):"
            text += "".join(
                f"\n  row {row}: {schema.label(rt)} “{label}”" for rt, label, _w, row in report.matched[:200]
            )
            if len(report.matched) > 200:
                text += f"\n  … and {len(report.matched) - 200:,} more"
        self.problems_view.setPlainText(text)
        total = sum(report.rows.values())
        held = f" ({len(report.matched):,} of them update records already held)" if report.matched else ""
        self.status.setText(
            f"{total:,} rows checked: ready to import{held}."
            if report.ok
            else f"Cannot import yet: {len(report.problems) + report.more_problems:,} problem(s). "
            "Fix them in the file, or change what the columns fill."
        )
        self.import_button.setEnabled(report.ok and not self.window_.state.store.read_only)

    def start_import(self) -> None:
        plan = self.plan()
        if plan is None or self.report is None or not self.report.ok:
            return
        store = self.window_.state.store
        self.import_button.setEnabled(False)

        # Cancel asks the writer to stop and roll back, but the job is never dropped: were the
        # rows already written, the result still arrives and goes on the undo stack.
        stop = self._stop_import = threading.Event()

        def work(cancelled: Any, report: Any) -> ImportResult:
            stopped = lambda: stop.is_set() or cancelled()  # noqa: E731
            if isolated.worth_it(plan):
                return run_isolated(store, "import_spreadsheet", ([plan],), lambda *p: report(p), stopped)
            return store.import_spreadsheet([plan], lambda *p: report(p), stopped)

        state = self.window_.state
        state.background_write(True)

        def done(result: ImportResult) -> None:
            self.imported = result
            ops = self.window_.editing.ops
            ops.undo_stack.push(SpreadsheetImportCommand(ops, [plan], result))
            self.accept()

        self._run(work, done, "Importing…", ended=lambda: state.background_write(False))

    def cancel_job(self) -> None:
        if self._stop_import is not None:
            self._stop_import.set()  # the import's job reports how it ended
            self.status.setText("Cancelling…")
            return
        if self.job is not None:
            self.job.cancel()
            self.job = None
        self._idle("Cancelled.")
        self.import_button.setEnabled(bool(self.report and self.report.ok))

    def reject(self) -> None:
        if self._stop_import is not None:
            self.cancel_job()  # closing waits for the writer to stop, so nothing is half known
            return
        if self.job is not None:
            self.job.cancel()
        super().reject()

    def _run(self, work: Any, on_done: Any, text: str, ended: Callable[[], None] | None = None) -> None:
        if self.job is not None:
            self.job.cancel()
        job = BackgroundJob(work, text)
        self.job = job
        self.status.setText(text)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.cancel_job_button.show()

        def finished(result: Any) -> None:
            if ended is not None:
                ended()
            if self.job is job:
                self.job, self._stop_import = None, None
                self._idle(self.status.text())
                on_done(result)

        def failed(exc: Exception) -> None:
            if ended is not None:
                ended()
            if self.job is not job:
                return
            self.job, self._stop_import = None, None
            if isinstance(exc, ImportFailedError):
                self._checked(exc.report)
                self._idle(self.status.text())
            elif isinstance(exc, StoreError):  # cancelled, or the file or database refused
                self._idle(str(exc))
            else:
                log.error("spreadsheet import", exc_info=exc)
                self._idle(f"An unexpected problem stopped it ({type(exc).__name__}); the log has the details.")

        def progressed(value: Any) -> None:
            phase, done_, total = value
            self.progress.setRange(0, max(1, total))
            self.progress.setValue(done_)
            self.status.setText(f"{phase}: {done_:,} of {total:,} rows…")

        job.finished.connect(finished)
        job.failed.connect(failed)
        job.progress.connect(progressed)
        job.start()

    def _idle(self, text: str) -> None:
        self.status.setText(text)
        self.progress.hide()
        self.cancel_job_button.hide()


def read_for_dialog(path: Path, cancelled: Callable[[], bool] | None = None) -> list[Sheet]:
    """The file's sheets with their first rows only: a sheet larger than that is checked and
    imported in a worker process, which reads the file again (isolated.worth_it). A large file
    is read in a worker process too, so that no Python runs on a thread here while the dialog
    opens (see isolated.run_function)."""
    keep = isolated.ISOLATE_ROWS
    try:
        size = path.stat().st_size
    except OSError:
        size = 0  # read_sheets says what is wrong with it
    workbook = path.suffix.lower() in (".xlsx", ".xlsm")
    if size > (READ_APART_WORKBOOK if workbook else READ_APART_TEXT):
        sheets: list[Sheet] = run_function(read_sheets, (path, keep), None, cancelled)
        return sheets
    return read_sheets(path, keep)


def _sample(value: Any) -> str:
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    return str(value)


def _text(item: QTableWidgetItem | None) -> str:
    return "" if item is None else item.text()


def _more(report: ImportReport) -> str:
    return f"\n… and {report.more_problems:,} more." if report.more_problems else ""


def import_spreadsheet(window: MainWindow, path: Path) -> SpreadsheetImportDialog:
    dialog = SpreadsheetImportDialog(window, path)
    dialog.open()
    return dialog
