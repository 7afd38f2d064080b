"""What one copy of the app saves, the others see: another process writes to the same file."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from PySide6.QtWidgets import QApplication
from sqlmodel import select

from explorer import models as m
from explorer.state import RecordRef
from explorer.store import Store
from explorer.views.main_window import MainWindow

OTHER_COPY = textwrap.dedent("""
    import sys
    from explorer.store import open_store
    store = open_store(sys.argv[1])
    deal_id, version = int(sys.argv[2]), int(sys.argv[3])
    store.update("deal", deal_id, {"title": sys.argv[4]}, expected_version=version)
    store.create("event", {"title": "Second 2+2 ministerial dialogue", "kind": "summit",
                           "start_date": "2026-03-02", "date_precision": "day"})
    store.close()
""")


def test_a_save_in_another_process_shows_within_two_seconds(
    qtbot, window: MainWindow, store: Store, demo_target: str | Path
) -> None:
    """On one SQLite file and on a PostgreSQL server alike."""
    with store.read() as s:
        deal = s.exec(select(m.Deal).where(m.Deal.amount_usd == 4.76e9)).one()
    ref = RecordRef("deal", deal.id)
    window.state.select(ref)
    form = window.editing.edit_current()  # an analyst is editing it here meanwhile
    shown_before = window.timeline.shown_count()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            OTHER_COPY,
            str(demo_target),
            str(deal.id),
            str(deal.version),
            "Sumitomo Realty office towers",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    qtbot.waitUntil(lambda: "Sumitomo Realty office towers" in window.detail.plain_text(), timeout=2500)
    qtbot.waitUntil(lambda: window.timeline.shown_count() == shown_before + 1, timeout=2500)
    assert window.state.selection == [ref]  # the selection stays
    assert form.isVisible() and form.changed_elsewhere
    assert "Someone else saved this record" in form.general_error.text()
    assert "someone else" in window.statusBar().currentMessage()


def test_own_saves_are_not_announced_as_someone_elses(qtbot, window: MainWindow, store: Store) -> None:
    with store.read() as s:
        deal = s.exec(select(m.Deal).where(m.Deal.amount_usd == 4.76e9)).one()
    window.editing.ops.edit("deal", deal.id, {"notes": deal.notes}, {"notes": "Ours."}, deal.version, "notes")
    assert not window.state.check_for_changes()


def test_reload_reads_everything_again_and_keeps_the_selection(qtbot, window: MainWindow, store: Store) -> None:
    first = window.timeline.shown_refs()[0]
    window.state.select(first)
    window.reload_action.trigger()
    window.state.wait_idle()
    QApplication.processEvents()
    assert window.state.selection == [first] and window.timeline.shown_count() > 0


def test_an_unreachable_database_shows_one_offline_banner(qtbot, window: MainWindow, monkeypatch) -> None:
    from explorer.store import DatabaseUnavailableError

    def down() -> int:
        raise DatabaseUnavailableError("The database cannot be read just now.")

    monkeypatch.setattr(window.state.store, "change_stamp", down)
    window.state.check_for_changes()
    assert window.state.offline and window.notice_bar.isVisible() and "Offline" in window.banner.text()
    monkeypatch.undo()
    window.state.check_for_changes()
    assert not window.state.offline and not window.notice_bar.isVisible()


def test_a_lost_server_connection_in_a_click_gives_the_banner_not_a_dialog(
    qtbot, window: MainWindow, monkeypatch
) -> None:
    import sqlalchemy as sa

    from explorer import app

    shown: list[str] = []
    monkeypatch.setattr(app, "_show_fatal", lambda title, *_a: shown.append(title))
    monkeypatch.setattr(app, "unavailable_handler", window.state.mark_offline)
    monkeypatch.setattr(window.state.store, "path", None)  # as on a team server
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # put back after the test
    app.install_excepthook()
    lost = sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
    sys.excepthook(type(lost), lost, None)
    assert shown == [] and window.state.offline and "Offline" in window.banner.text()
    other = RuntimeError("a bug")
    sys.excepthook(type(other), other, None)
    assert shown == ["Something went wrong"]  # everything else still says so
