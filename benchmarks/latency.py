"""Result latency: from a keystroke, filter change, form save or undo to every view showing it.

    python benchmarks/latency.py [--size 1e6] [--runs 5] [--cache /tmp/explorer-bench] [--work /tmp/latency-bench]

The synthetic database of ``--size`` records is found (or built) like benchmarks/run.py does and
copied afresh into ``--work`` at the start of each run (the form saves and undos write to it, and
the history they leave would grow from run to run; the cached database other benchmarks read
stays as generated). The main window is opened offscreen with the records table
showing deals. For each case two figures are taken, medians over ``--runs``:

* **longest GUI-thread hold**: the longest stretch the window could not react — the action
  itself, any one turn of the event loop until every view shows the result, and painting them;
* **until all views show it**: from the action to the moment every view shows the result, asked
  of each view through what it shows (the timeline's item label or filter, the tree's row name or
  filter, the records table's cell, the detail pane's text), then painted.

Cases: a search keystroke in the main search field (the pause before it applies is left out,
as in run.py); a global filter change (a sector from the filter bar); a form save (a deal's
title edited in its form and saved: the write path forms use) and its undo (Edit ▸ Undo); an
organisation renamed in its form and its undo (the tree's listing of a big sector shows it); a
deal's title saved and undone while the filter bar shows only its sector (``filtered``: the tree's
filtered listing is read again in the background); a sector filter chosen while one of its deals is
selected (``selected``: the tree opens the way to it again in the filtered listing).

Floors from the same run: for a search or filter, the store working out what passes
(``Store.filter_scope``) plus a repaint of the views; for a save or undo, the same write through
the store without views (``Store.update``) plus a repaint. Budget: issue 20, 100 ms until every
view shows it and 50 ms of GUI-thread hold.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
for p in (ROOT, BENCH):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

SHOWN_BUDGET_MS = 100.0
HOLD_BUDGET_MS = 50.0
TIMEOUT_S = 30.0


def working_copy(size: int, cache: Path, work: Path) -> Path:
    """A fresh copy of the cached synthetic database to write to, made at the start of every
    run: the saves of earlier runs would otherwise pile up in the records' history, which the
    detail pane shows (40 rows of it took 11 ms to lay out), and each run would measure more."""
    from run import database_for

    source = database_for(size, cache)
    work.mkdir(parents=True, exist_ok=True)
    target = work / source.name
    for suffix in ("", "-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    Path(str(target) + ".from").unlink(missing_ok=True)  # what earlier versions kept
    print(f"copying {source} to {target} …", flush=True)
    shutil.copyfile(source, target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="1e6")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/explorer-bench"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/latency-bench"))
    parser.add_argument("--database", type=Path, help="measure this database as it is (it is written to)")
    parser.add_argument("--no-table", action="store_true", help="leave the records table closed")
    parser.add_argument("--profile", type=int, default=0, help="print the N costliest calls of each case (cProfile)")
    parser.add_argument("--cases", default="search,filter,selected,deal,organisation,filtered")
    args = parser.parse_args(argv)
    size = int(float(args.size))
    db = args.database or working_copy(size, args.cache, args.work)

    import sqlalchemy as sa
    from PySide6.QtCore import QModelIndex, QPersistentModelIndex
    from PySide6.QtWidgets import QApplication

    from explorer.state import RecordRef
    from explorer.store import Filters, open_store
    from explorer.views.main_window import MainWindow

    os.environ["EXPLORER_DATA_DIR"] = tmp_data = tempfile.mkdtemp()
    app = QApplication.instance() or QApplication([])
    store = open_store(db)
    from explorer.state import AppState, collect_out_of_the_way

    state = AppState(store)
    win = MainWindow(state)
    win.editing.modal = False
    win.resize(1600, 960)
    collect_out_of_the_way(state)
    win.show()
    app.processEvents()
    gc.freeze()  # as explorer.app does after the first paint
    state.wait_idle()
    app.processEvents()
    tl, tree, detail, table = win.timeline, win.tree_view, win.detail, win.records
    if not args.no_table:
        win.records_dock.show()
        app.processEvents()
        table.type_box.setCurrentIndex(table.type_box.findData("deal"))
        while table.job is not None:
            app.processEvents()
            time.sleep(0.005)
    n_records = len(tl.model.full)

    def settle() -> None:
        for _ in range(3):
            app.processEvents()
            state.wait_idle()
            while table.job is not None:
                app.processEvents()
                time.sleep(0.002)
        app.processEvents()

    def paint() -> None:
        tl.plot.viewport().repaint()
        tree.tree.viewport().repaint()
        detail.repaint()
        if table.isVisible():
            table.table.viewport().repaint()

    def until_shown(action: Callable[[], Any], shown: Callable[[], bool]) -> tuple[float, float]:
        """(ms until ``shown()`` holds and the views are painted, longest ms of GUI-thread hold)."""
        if args.profile:
            import cProfile
            import pstats

            profile = cProfile.Profile()
            profile.enable()
            try:
                return _until_shown(action, shown)
            finally:
                profile.disable()
                pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile)

        return _until_shown(action, shown)

    collections: list[tuple[int, float]] = []  # (generation, ms) of the collector's runs in a case
    started: list[float] = []

    def on_collect(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[:] = [time.perf_counter()]
        elif started:
            ms = (time.perf_counter() - started[0]) * 1000
            if ms >= 5:  # only the passes worth naming: every young pass between cases piled up here
                collections.append((info["generation"], ms))

    gc.callbacks.append(on_collect)

    def _until_shown(action: Callable[[], Any], shown: Callable[[], bool]) -> tuple[float, float]:
        collections.clear()
        t0 = time.perf_counter()
        action()
        longest = time.perf_counter() - t0
        while True:
            a = time.perf_counter()
            app.processEvents()
            done = shown()
            if done:
                paint()
            held = time.perf_counter() - a
            longest = max(longest, held)
            if done:
                break
            if time.perf_counter() - t0 > TIMEOUT_S:
                raise RuntimeError("a view never showed the result")
            time.sleep(0.0005)
        slow = [f"gen {g} {ms:.0f} ms" for g, ms in collections if ms >= 5]
        if slow:
            print(f"    the collector ran meanwhile: {', '.join(slow)}", flush=True)
        return (time.perf_counter() - t0) * 1000, longest * 1000

    def paint_floor() -> float:
        t0 = time.perf_counter()
        app.processEvents()
        paint()
        return (time.perf_counter() - t0) * 1000

    results: list[tuple[str, float, float, float]] = []  # name, shown, hold, floor (medians)

    def record(name: str, shown: list[float], held: list[float], floor: list[float]) -> None:
        results.append((name, statistics.median(shown), statistics.median(held), statistics.median(floor)))
        runs = ", ".join(f"{s:.0f}/{h:.0f}" for s, h in zip(shown, held, strict=True))
        print(
            f"  {name}: shown {statistics.median(shown):.1f} ms, hold {statistics.median(held):.1f} ms"
            f" (each run, shown/hold: {runs})",
            flush=True,
        )

    # --- search keystrokes and a global filter -------------------------------------------------

    def filters_shown(filters: Filters) -> Callable[[], bool]:
        dated = Filters(sector_ids=filters.sector_ids, country_ids=filters.country_ids, text=filters.text)

        def shown() -> bool:
            return (
                state.filters == filters
                and tl.model.data_filters == dated
                and tree.model.filters == tree.effective_filters()
                and not tree._state.working_for(tree)
            )

        return shown

    def clear_filters() -> None:
        win.search_edit.clear()
        win.apply_search()
        win.sector_combo.setCurrentIndex(0)
        settle()

    cases = set(args.cases.split(","))
    # What filters look at is read into memory once (explorer.store.scope_index; the window does
    # it in the background a second after the timeline loads): timed here on its own.
    t0 = time.perf_counter()
    store.prepare_filters()
    index_ms = (time.perf_counter() - t0) * 1000
    print(f"  reading the scope index (once, in the background): {index_ms:.0f} ms", flush=True)
    settle()
    words = ["Sumida Steel 12", "Kaveri Rail", "Hydrogen plant", "Osaka"]
    shown_ms, held_ms, floor_ms = [], [], []
    for k in range(args.runs if "search" in cases else 0):
        clear_filters()
        text = words[k % len(words)]
        want = Filters(text=text)
        t0 = time.perf_counter()
        store.filter_scope(want)
        floor_ms.append((time.perf_counter() - t0) * 1000 + paint_floor())

        def type_it(text: str = text) -> None:
            win.search_edit.setText(text)
            win.apply_search()

        s, h = until_shown(type_it, filters_shown(want))
        shown_ms.append(s)
        held_ms.append(h)
    if shown_ms:
        record("search keystroke", shown_ms, held_ms, floor_ms)

    with store.engine.connect() as conn:
        biggest = "SELECT sector_id FROM deal GROUP BY sector_id ORDER BY count(*) DESC LIMIT :n"
        # a different sector each run: a scope already worked out would be shown from memory
        big_sectors = [int(r[0]) for r in conn.execute(sa.text(biggest), {"n": args.runs})]
        big_sector = big_sectors[0]
    combo = win.sector_combo
    shown_ms, held_ms, floor_ms = [], [], []
    for k in range(args.runs if "filter" in cases else 0):
        clear_filters()
        sector = big_sectors[k % len(big_sectors)]
        target = combo.findData(sector)
        want = Filters(sector_ids=store.sector_ids_with_descendants([sector]))
        t0 = time.perf_counter()
        store.filter_scope(want)
        floor_ms.append((time.perf_counter() - t0) * 1000 + paint_floor())
        s, h = until_shown(lambda target=target: combo.setCurrentIndex(target), filters_shown(want))
        shown_ms.append(s)
        held_ms.append(h)
    if shown_ms:
        record("global filter (a sector)", shown_ms, held_ms, floor_ms)
    clear_filters()

    # --- a form save and its undo ----------------------------------------------------------------

    def views_show(ref: RecordRef, title: str) -> Callable[[], bool]:
        # The tree's rows of the record, found before the action: finding them asks the store
        # which sectors list it (36 ms with cold pages), which is this check's cost, not the
        # app's. Found again only if the tree was read again meanwhile (the rows are gone).
        tree_rows = [QPersistentModelIndex(i) for i in tree.model.indexes_for(ref)]

        def shown() -> bool:
            if ref.record_type == "deal":
                g = tl.model.index_of(ref)
                if g is None or str(tl.model.data.label[g]) != title:
                    return False
            found = [QModelIndex(i) for i in tree_rows if i.isValid()] or tree.model.indexes_for(ref)
            if not any(str(i.data() or "") == title for i in found):
                return False
            if table.isVisible() and table.model.record_type == ref.record_type:
                rows = table.model.rows_of([ref])
                if rows and table.model.label_of(rows[0]) != title:
                    return False
            return title in detail.plain_text()

        return shown

    with store.engine.connect() as conn:
        # deals filed under an organisation in the biggest sector: the tree shows them under it
        deals = [
            int(r[0])
            for r in conn.execute(
                sa.text(
                    "SELECT d.id FROM deal d JOIN dealorganisation o ON o.deal_id = d.id "
                    "WHERE d.sector_id = :s AND d.start_day IS NOT NULL ORDER BY d.id LIMIT :n"
                ),
                {"s": big_sector, "n": args.runs * 14},  # a different deal for the filtered case
            )
        ][::7]
        orgs = [
            int(r[0])
            for r in conn.execute(
                sa.text("SELECT id FROM organisation WHERE sector_id = :s ORDER BY id LIMIT :n"),
                {"s": big_sector, "n": args.runs * 5},
            )
        ][::5]

    def form_cases(record_type: str, ids: list[int], field: str, label: str, *, filtered: bool = False) -> None:
        """Each record's form opened, ``field`` edited and saved, then Edit ▸ Undo; ``filtered``:
        with the biggest sector chosen in the filter bar first (the views' filtered listings
        take in the save: the tree reads its scope again)."""
        if filtered:
            combo.setCurrentIndex(combo.findData(big_sector))
            settle()
            state.wait_idle()
            settle()
        saved, saved_held, undone, undone_held, floor_ms = [], [], [], [], []
        for rid in ids:
            ref = RecordRef(record_type, rid)
            version, values = store.snapshot(record_type, rid)
            old = str(values[field])
            # floor: the same write through the store, no views listening; then written back
            t0 = time.perf_counter()
            changes = store.update(record_type, rid, {field: old + " (f)"}, expected_version=version)
            floor_ms.append((time.perf_counter() - t0) * 1000 + paint_floor())
            state.notify_changed(changes)  # untimed: the views take it in before the form opens
            settle()
            state.notify_changed(store.update(record_type, rid, {field: old}, expected_version=version + 1))
            settle()
            state.select(ref)
            settle()
            form = win.editing.edit_current()
            assert form is not None
            form.show()
            app.processEvents()
            new = old + " (renamed)"
            form.editors[field].focus_widget().setText(new)
            s, h = until_shown(form.save_button.click, views_show(ref, new))
            saved.append(s)
            saved_held.append(h)
            assert store.get(record_type, rid).__getattribute__(field) == new
            settle()
            s, h = until_shown(win.editing.ops.undo_stack.undo, views_show(ref, old))
            undone.append(s)
            undone_held.append(h)
            settle()
        record(f"form save ({label})", saved, saved_held, floor_ms)
        record(f"undo of it ({label})", undone, undone_held, floor_ms)
        if filtered:
            clear_filters()

    if "deal" in cases:
        form_cases("deal", deals[: args.runs], "title", "a deal's title")
    if "organisation" in cases:
        form_cases("organisation", orgs[: args.runs], "name", "an organisation's name")
    if "selected" in cases:  # a sector filter chosen while one of its deals is selected
        shown_ms, held_ms, floor_ms = [], [], []
        for k in range(args.runs):
            sector = big_sectors[k % len(big_sectors)]  # a different one each run, as above
            with store.engine.connect() as conn:
                rid = conn.execute(
                    sa.text(
                        "SELECT d.id FROM deal d JOIN dealorganisation o ON o.deal_id = d.id "
                        "WHERE d.sector_id = :s AND d.start_day IS NOT NULL ORDER BY d.id LIMIT 1"
                    ),
                    {"s": sector},
                ).scalar_one()
            clear_filters()
            ref = RecordRef("deal", int(rid))
            state.select(ref)
            settle()
            want = Filters(sector_ids=store.sector_ids_with_descendants([sector]))
            t0 = time.perf_counter()
            store.filter_scope(want)
            floor_ms.append((time.perf_counter() - t0) * 1000 + paint_floor())
            passed = filters_shown(want)

            def selection_shown(passed: Callable[[], bool] = passed, ref: RecordRef = ref) -> bool:
                return passed() and tree.selected_refs() == [ref]

            target = combo.findData(sector)
            s, h = until_shown(lambda target=target: combo.setCurrentIndex(target), selection_shown)
            shown_ms.append(s)
            held_ms.append(h)
        record("global filter, a deal selected", shown_ms, held_ms, floor_ms)
        clear_filters()
        state.select([])
        settle()
    if "filtered" in cases:
        form_cases("deal", deals[args.runs : 2 * args.runs], "title", "a deal's title, sector filtered", filtered=True)

    print()
    print(f"database: {db} ({n_records:,} dated records; {args.runs} runs, medians)")
    print(f"| {'case':<34} | until all views show it | floor | longest GUI-thread hold | budget |")
    print(f"|{'-' * 36}|-------------------------|-------|-------------------------|--------|")
    for name, shown, hold, floor in results:
        ok = "met" if shown <= SHOWN_BUDGET_MS and hold <= HOLD_BUDGET_MS else "NOT met"
        print(f"| {name:<34} | {shown:20.1f} ms | {floor:5.1f} ms | {hold:20.1f} ms | {ok} |")
    win.close()
    state.wait_idle()
    store.close()
    shutil.rmtree(tmp_data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
