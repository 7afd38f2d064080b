"""explorer --self-test: open the window offscreen, drive the three linked views and a form round trip.

Support runs it on a user's machine and the bundle's test runs it on the packaged app: it reads the
user's demo copy (building it on first run, as a first start does), does every write on a temporary
copy, writes a plain-text report and returns non-zero if any check failed.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import platform
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import sqlalchemy as sa
from PySide6.QtCore import QItemSelectionModel, QUrl, qVersion
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QDialog

from explorer import APP_NAME, __version__, paths
from explorer import models as m
from explorer.state import AppState, RecordRef
from explorer.store import RecordNotFoundError, Store, StoreError, ensure_demo_copy, migrate, open_store
from explorer.store.database import backup_sqlite
from explorer.store.filtering import Filters
from explorer.store.queries import TIMELINE_TYPES

if TYPE_CHECKING:  # imported late, so that pyqtgraph loads after the platform is set
    from explorer.views.main_window import MainWindow

log = logging.getLogger("explorer.selftest")

REPORT_NAME = "self-test.txt"


class CheckError(AssertionError):
    """A check saw the app do something other than what a user should see."""


def expect(condition: object, message: str) -> None:
    if not condition:
        raise CheckError(message)


@dataclass
class Outcome:
    name: str
    passed: bool
    summary: str
    seconds: float
    detail: str = ""


@dataclass
class Run:
    """What the checks share: the app, the demo store and window, and the outcomes so far."""

    app: QApplication
    outcomes: list[Outcome] = field(default_factory=list)
    store: Store | None = None
    window: MainWindow | None = None
    facts: list[str] = field(default_factory=list)

    def check(self, name: str, body: Callable[[], str]) -> bool:
        started = time.perf_counter()
        try:
            summary = body()
            outcome = Outcome(name, True, summary, time.perf_counter() - started)
        except Exception as exc:  # a check must report, never stop the run
            if isinstance(exc, CheckError):
                message = str(exc)
            elif isinstance(exc, StoreError):  # the message a user would see in the dialog
                message = exc.message
            else:
                message = f"{type(exc).__name__}: {exc}"
            # One line in the log (and on stderr); the traceback goes to the report, for support.
            log.error("self-test check failed: %s: %s", name, message)
            outcome = Outcome(name, False, message, time.perf_counter() - started, traceback.format_exc())
        self.outcomes.append(outcome)
        print(f"{'PASS' if outcome.passed else 'FAIL'}  {name}: {outcome.summary}", flush=True)
        return outcome.passed

    def settle(self, rounds: int = 5) -> None:
        for _ in range(rounds):
            self.app.processEvents()

    def demo(self) -> Store:
        expect(self.store is not None, "the demo database did not open (see the first checks)")
        assert self.store is not None
        return self.store


def _timeline_refs(store: Store, filters: Filters | None = None) -> list[RecordRef]:
    data = store.timeline(filters=filters)
    return sorted(
        RecordRef(TIMELINE_TYPES[int(t)], int(i)) for t, i in zip(data.record_type, data.record_id, strict=True)
    )


_R = TypeVar("_R", bound=m.Record)


def _get(store: Store, cls: type[_R], record_id: int) -> _R:
    """A record of a known type, with its own fields (the store hands back the common base)."""
    record_type = next(name for name, c in m.RECORD_TYPES.items() if c is cls)
    record = store.get(record_type, record_id)
    assert isinstance(record, cls)
    return record


def _find(store: Store, record_type: str, text: str) -> RecordRef:
    for record_id, label in store.list_records(record_type):
        if text in label:
            return RecordRef(record_type, record_id)
    raise CheckError(f"no {record_type} named like {text!r} in {store.display_name()}")


# --- the checks ------------------------------------------------------------------------------


def check_startup_database(run: Run) -> str:
    """The database a normal start opens (EXPLORER_DATABASE_URL, else the user's demo copy)."""
    store = open_store(None)
    try:
        with store.engine.connect() as conn:
            revision = migrate.current_revision(conn)
        head = migrate.head_revision()
        expect(revision == head, f"{store.display_name()} is at schema {revision}, this version needs {head}")
        note = f", upgraded from {store.upgraded_from}" if store.upgraded_from else ""
        return f"{store.display_name()} opened (schema {revision}{note}{', read-only' if store.read_only else ''})"
    finally:
        store.close()


def check_demo_data(run: Run) -> str:
    path = ensure_demo_copy()
    run.store = open_store(path)
    store = run.store
    counts: dict[str, int] = {}
    with store.engine.connect() as conn:
        for name, cls in m.RECORD_TYPES.items():
            table = cls.__table__
            counts[name] = int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
    total = sum(counts.values())
    expect(counts.get("event", 0) and counts.get("deal", 0), f"the demo database looks empty: {counts}")
    summit = _find(store, "event", "15th India")
    title = _get(store, m.Event, summit.record_id).title
    run.facts += [
        f"Demo database: {path}",
        f"Demo records: {total:,} (" + ", ".join(f"{k} {v}" for k, v in counts.items() if v) + ")",
        f"Demo includes: {title}",
    ]
    return f"{total:,} records in {path.name}, including {title!r}"


def check_worker_process(run: Run) -> str:
    """Large imports run in a worker process started from this program (packaged: the bundle's
    own executable): it must start, open the database and answer."""
    from explorer.store.isolated import run_isolated

    store = run.demo()
    stamp = run_isolated(store, "change_stamp", ())
    expect(stamp == store.change_stamp(), f"the worker process read change {stamp}, this one {store.change_stamp()}")
    return f"a worker process opened {store.display_name()} and answered"


def check_map_layout(run: Run) -> str:
    """The relationship map lays out in a worker process with rustworkx (packaged: its compiled
    module must be in the bundle, and the worker must start from the bundle's executable)."""
    from explorer.graph import layout as map_layout

    keys = [("organisation", i) for i in range(4)]
    edges = [(keys[0], k, 1.0) for k in keys[1:]]
    placed = map_layout.layout(keys, edges)
    expect(len({(round(x, 3), round(y, 3)) for x, y in placed.values()}) == 4, f"the nodes overlap: {placed}")
    args = (2, [(0, 1, 1.0)], np.array([[0.0, 0.0], [3.0, 0.0]]), [0], 20)
    answered = map_layout.spring_apart(args, None, fallback=False)
    expect(answered is not None and tuple(answered[0]) == (0.0, 0.0), f"the layout worker answered {answered!r}")
    return "a worker process laid out a map with rustworkx"


def check_resources(run: Run) -> str:
    icons = paths.resources_dir() / "icons"
    expect((icons / "app.svg").is_file(), f"the app icon is missing from {icons}")
    blank = [p.name for p in sorted(icons.glob("*.svg")) if QIcon(str(p)).pixmap(64, 64).isNull()]
    expect(not blank, f"these icons did not render (Qt's SVG plugins missing?): {', '.join(blank)}")
    return f"{len(list(icons.glob('*.svg')))} icons in {icons} render"


def check_server_driver(run: Run) -> str:
    """The PostgreSQL driver a team's shared server needs loads (no server is contacted)."""
    import psycopg

    version = psycopg.pq.version()
    return f"psycopg {psycopg.__version__} loads ({psycopg.pq.__impl__} libpq {version // 10000}.{version % 100})"


def check_main_window(run: Run) -> str:
    from explorer.views.main_window import MainWindow

    store = run.demo()
    window = MainWindow(AppState(store))
    run.window = window
    window.resize(1400, 900)
    window.show()
    run.settle()
    expect(window.isVisible(), "the main window did not show")
    image = window.grab()
    expect(not image.isNull() and image.width() > 0, "the main window did not paint")
    shown = window.timeline.shown_refs()
    expected = _timeline_refs(store)
    expect(shown == expected, f"the timeline shows {len(shown)} records, the database has {len(expected)} dated")
    sectors = window.tree_view.model.rowCount()
    expect(sectors > 0, "the sector tree is empty")
    return f"window painted at {image.width()}×{image.height()}; timeline {len(shown)} records, tree {sectors} sectors"


def _window(run: Run) -> MainWindow:
    expect(run.window is not None, "the main window did not open")
    assert run.window is not None
    return run.window


def check_tree_selection(run: Run) -> str:
    window, store = _window(run), run.demo()
    window.state.clear_filters()
    org = _find(store, "organisation", "Nippon Steel")
    index = window.tree_view.index_of(org)
    expect(index.isValid(), "Nippon Steel is not in the sector tree")
    # What a click on the row does: the tree's selection model selects the row.
    flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
    window.tree_view.tree.selectionModel().select(index, flags)
    run.settle()
    expect(window.state.current == org, f"selecting in the tree selected {window.state.current}, not {org}")
    deals = sorted(RecordRef("deal", d.id) for d in store.deals_of_organisation(org.record_id))
    expect(deals, "Nippon Steel has no deals in the demo data")
    highlighted = window.timeline.highlighted_refs()
    expect(highlighted == deals, f"the timeline highlights {highlighted}, expected its deals {deals}")
    expect("Nippon Steel" in window.detail.plain_text(), "the detail pane does not show Nippon Steel")
    return f"tree → timeline highlights its {len(deals)} deals, detail pane shows it"


def check_detail_link(run: Run) -> str:
    window, store = _window(run), run.demo()
    pledge = _find(store, "pledge", "10 trillion")
    summit = _find(store, "event", "15th India")
    window.state.select(pledge)
    run.settle()
    window.detail.browser.anchorClicked.emit(QUrl(f"record:event:{summit.record_id}"))
    run.settle()
    expect(window.state.current == summit, "following the link in the detail pane did not select the summit")
    expect(summit in window.timeline.highlighted_refs(), "the timeline does not highlight the linked summit")
    expect("15th" in window.detail.plain_text(), "the detail pane does not show the 15th summit")
    window.state.back()
    run.settle()
    expect(window.state.current == pledge, "Back did not return to the pledge")
    return "detail link → summit in every view; Back returns to the pledge"


def check_sector_filter(run: Run) -> str:
    window, store = _window(run), run.demo()
    combo = window.sector_combo
    index = next((i for i in range(combo.count()) if combo.itemText(i).strip() == "Manufacturing"), -1)
    expect(index >= 0, "the sector filter does not offer Manufacturing")
    combo.setCurrentIndex(index)
    run.settle()
    filters = window.state.filters
    expect(filters.sector_ids, "choosing a sector did not filter")
    expected = _timeline_refs(store, filters)
    shown = window.timeline.shown_refs()
    expect(shown == expected, f"the filtered timeline shows {len(shown)} records, expected {len(expected)}")
    tree_deals = {r for r in window.tree_view.model.visible_refs() if r.record_type == "deal"}
    expect(tree_deals == {r for r in expected if r.record_type == "deal"}, "the tree and timeline disagree")
    outside = [r for r in tree_deals if _get(store, m.Deal, r.record_id).sector_id not in filters.sector_ids]
    expect(not outside, f"deals outside Manufacturing still shown: {outside}")
    expect(f"{len(expected):,} dated records shown" in window.count_label.text(), "the status bar count is wrong")
    window.clear_filters()
    run.settle()
    expect(window.timeline.shown_refs() == _timeline_refs(store), "clearing the filter did not restore everything")
    return f"Manufacturing filter: {len(shown)} records in timeline, {len(tree_deals)} deals in tree; cleared"


def check_search(run: Run) -> str:
    window, store = _window(run), run.demo()
    window.search_edit.setText("Astroscale")
    window.apply_search()
    run.settle()
    shown = window.timeline.shown_refs()
    deals = [_get(store, m.Deal, r.record_id).title for r in shown if r.record_type == "deal"]
    expect(deals and all("Astroscale" in t or "ISRO" in t for t in deals), f"search shows deals {deals}")
    orgs = {
        _get(store, m.Organisation, r.record_id).name
        for r in window.tree_view.model.visible_refs()
        if r.record_type == "organisation"
    }
    expect(any("Astroscale" in n for n in orgs), "the tree does not show Astroscale")
    expect(not any("Sumitomo" in n for n in orgs), "the tree still shows organisations the search excludes")
    window.search_edit.clear()
    window.apply_search()
    run.settle()
    return f"'Astroscale' narrows the timeline to {len(shown)} and the tree to {len(orgs)} organisations"


def check_form_round_trip(run: Run) -> str:
    """Create, edit, undo and redo through the forms, on a temporary copy of the demo database."""
    from explorer.views.main_window import MainWindow

    demo = run.demo()
    expect(demo.path is not None, "the demo database is not a file")
    assert demo.path is not None
    folder = Path(tempfile.mkdtemp(prefix="explorer-selftest-"))
    store: Store | None = None
    window = None
    try:
        store = open_store(backup_sqlite(demo.path, folder, "selftest"))
        window = MainWindow(AppState(store))
        window.show()
        run.settle()
        japan = _find(store, "country", "Japan")
        manufacturing = _find(store, "sector", "Manufacturing")
        name = f"Self-test Heavy Industries {dt.datetime.now():%H%M%S}"

        form = window.editing.new_record("organisation")
        expect(form is not None, "the new-record form did not open")
        assert form is not None
        form.editors["name"].set_value(name)
        form.editors["kind"].set_value("company")
        form.editors["country_id"].set_value(japan.record_id)
        form.editors["sector_id"].set_value(manufacturing.record_id)
        form.save()
        expect(form.result() == QDialog.DialogCode.Accepted, f"the new-record form refused: {form.error_texts()}")
        ref = form.saved_ref
        expect(ref is not None and ref.record_type == "organisation", "the form did not create an organisation")
        assert ref is not None
        created = _get(store, m.Organisation, ref.record_id)
        expect(created.name == name and created.sector_id == manufacturing.record_id, "the store has other values")
        expect(window.tree_view.index_of(ref).isValid(), "the new organisation is not in the sector tree")
        expect(name in window.detail.plain_text(), "the detail pane does not show the new organisation")

        edited = f"{name} (renamed)"
        form = window.editing.edit(ref)
        expect(form is not None, "the edit form did not open")
        assert form is not None
        form.editors["name"].set_value(edited)
        form.save()
        expect(form.result() == QDialog.DialogCode.Accepted, f"the edit form refused: {form.error_texts()}")
        expect(_get(store, m.Organisation, ref.record_id).name == edited, "the edit was not saved")
        expect(edited in window.detail.plain_text(), "the detail pane does not show the edit")

        window.editing.undo_action.trigger()
        run.settle()
        expect(_get(store, m.Organisation, ref.record_id).name == name, "Undo did not restore the name")
        window.editing.redo_action.trigger()
        run.settle()
        expect(_get(store, m.Organisation, ref.record_id).name == edited, "Redo did not reapply the edit")
        window.editing.undo_action.trigger()  # the edit
        window.editing.undo_action.trigger()  # the creation
        run.settle()
        try:
            store.get("organisation", ref.record_id)
            raise CheckError("undoing the creation left the organisation in the database")
        except RecordNotFoundError:
            pass
        expect(not window.tree_view.index_of(ref).isValid(), "the undone organisation is still in the tree")
        expect(
            not any(label.startswith("Self-test Heavy") for _i, label in demo.list_records("organisation")),
            "the round trip wrote to the demo database instead of its temporary copy",
        )
        return "created, edited, undone and redone an organisation through the forms on a temporary copy"
    finally:
        if window is not None:
            window.hide()
            window.deleteLater()
            run.settle()
        if store is not None:
            store.close()
        shutil.rmtree(folder, ignore_errors=True)


CHECKS: list[tuple[str, Callable[[Run], str]]] = [
    ("start-up database", check_startup_database),
    ("demo data", check_demo_data),
    ("worker process for large imports", check_worker_process),
    ("relationship map layout", check_map_layout),
    ("resources", check_resources),
    ("PostgreSQL driver", check_server_driver),
    ("main window", check_main_window),
    ("tree selection moves timeline and detail", check_tree_selection),
    ("detail link and history", check_detail_link),
    ("sector filter", check_sector_filter),
    ("search", check_search),
    ("form round trip (temporary database)", check_form_round_trip),
]


# --- the report -------------------------------------------------------------------------------


def _report_text(run: Run, seconds: float) -> str:
    failed = [o for o in run.outcomes if not o.passed]
    frozen = "yes (packaged app)" if getattr(sys, "frozen", False) else "no (Python install)"
    lines = [
        f"{APP_NAME} {__version__} self-test, {dt.datetime.now().isoformat(timespec='seconds')}",
        f"Python {platform.python_version()}, Qt {qVersion()}, platform {run.app.platformName()}, "
        f"{platform.system()} {platform.machine()}, packaged: {frozen}",
        f"Data folder: {paths.user_data_dir()}",
        *run.facts,
        "",
        *(f"{'PASS' if o.passed else 'FAIL'}  {o.name} ({o.seconds:.2f} s): {o.summary}" for o in run.outcomes),
        "",
        (
            f"All {len(run.outcomes)} checks passed"
            if not failed
            else f"{len(failed)} of {len(run.outcomes)} checks FAILED: " + ", ".join(o.name for o in failed)
        )
        + f" in {seconds:.1f} s.",
    ]
    if failed:
        lines += ["", "Details for support:"]
        lines += [f"--- {o.name}\n{o.detail.rstrip()}" for o in failed if o.detail]
    return "\n".join(lines) + "\n"


def run_self_test(report: Path | None = None) -> int:
    """Run every check; write the report (to REPORT, else the data folder); 0 only if all passed."""
    started = time.perf_counter()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    run = Run(app)
    try:
        for name, body in CHECKS:
            run.check(name, functools.partial(body, run))
    finally:
        if run.window is not None:
            run.window.hide()  # not close(): the self-test must not overwrite the user's saved layout
            run.window.deleteLater()
            run.settle()
        if run.store is not None:
            run.store.close()
    text = _report_text(run, time.perf_counter() - started)
    target = report or paths.user_data_dir() / REPORT_NAME
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"could not write the report to {target}: {exc}", file=sys.stderr)
        return 1
    failed = [o for o in run.outcomes if not o.passed]
    verdict = "passed" if not failed else "FAILED"
    passed = len(run.outcomes) - len(failed)
    line = f"self-test {verdict}: {passed} of {len(run.outcomes)} checks passed; report: {target}"
    log.info("%s", line)
    print(line, flush=True)
    return 0 if run.outcomes and all(o.passed for o in run.outcomes) else 1
