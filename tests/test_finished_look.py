"""What a new user sees first: no debug leftovers, and blank views that say what to do."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QPushButton, QToolButton

from explorer.forms.editors import DateEditor
from explorer.state import AppState
from explorer.store import Store, open_store
from explorer.views.main_window import MainWindow


def test_back_and_forward_start_disabled_and_follow_the_selection(qtbot, window: MainWindow, store: Store) -> None:
    assert not window.back_action.isEnabled() and not window.forward_action.isEnabled()
    first, second = (window.tree_view.model.index(r, 0) for r in (0, 1))
    window.tree_view.tree.setCurrentIndex(first)
    window.tree_view.tree.setCurrentIndex(second)
    assert window.back_action.isEnabled() and not window.forward_action.isEnabled()
    window.back_action.trigger()
    assert window.forward_action.isEnabled()


def test_edit_history_is_a_readable_dialog_with_undo_redo_and_close(qtbot, window: MainWindow) -> None:
    dialog = window.editing.show_history()
    qtbot.waitExposed(dialog)
    assert dialog.windowTitle() == "Edit History"
    assert "Nothing changed yet" in dialog.summary.text()
    assert dialog.view.emptyLabel() != "Opened the database"
    assert not dialog.undo_button.isEnabled() and not dialog.redo_button.isEnabled()
    box = dialog.findChild(QDialogButtonBox)
    close = box.button(QDialogButtonBox.StandardButton.Close)
    qtbot.mouseClick(close, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()


def test_date_fields_pick_from_a_calendar_drawn_as_an_icon(qtbot, window: MainWindow) -> None:
    window.state.select([])
    form = window.editing.new_record("event")
    editors = form.findChildren(DateEditor)
    assert editors
    pick = editors[0].findChild(QToolButton)
    assert not pick.icon().isNull() and pick.text() == ""  # not a glyph the font may lack
    assert "calendar" in pick.accessibleName()
    form.close()


def test_story_editor_has_a_close_button(qtbot, window: MainWindow) -> None:
    editor = window.workshop.edit_stories()
    qtbot.waitExposed(editor)
    assert editor.close_button.isVisible()
    qtbot.mouseClick(editor.close_button, Qt.MouseButton.LeftButton)
    assert not editor.isVisible()


def test_top_level_sector_names_are_not_cut(qtbot, window: MainWindow) -> None:
    window.tree_dock.setFloating(True)
    window.tree_dock.resize(300, 500)
    QApplication.processEvents()
    tree = window.tree_view.tree
    header = tree.header()
    model = window.tree_view.model
    bold_names = [model.index(r, 0) for r in range(model.rowCount())]
    for index in bold_names:
        font = model.data(index, Qt.ItemDataRole.FontRole) or tree.font()
        from PySide6.QtGui import QFontMetrics

        needed = QFontMetrics(font).horizontalAdvance(index.data()) + tree.indentation()
        assert header.sectionSize(0) >= needed, index.data()


def test_an_empty_database_says_where_to_start(qtbot, tmp_path: Path) -> None:
    store = open_store(tmp_path / "empty.sqlite")
    win = MainWindow(AppState(store))
    qtbot.addWidget(win)
    win.showNormal()
    win.resize(1200, 800)
    qtbot.waitExposed(win)
    win.state.wait_idle()
    QApplication.processEvents()
    notice = win.empty_notice
    assert notice.isVisible() and "empty" in notice.title.text()
    labels = [b.text() for b in notice.findChildren(QPushButton)]
    assert any("Import" in t for t in labels) and any("Demo" in t for t in labels)
    assert any("Team Server" in t for t in labels)
    assert win.timeline.rect().contains(notice.geometry())
    demo = next(b for b in notice.findChildren(QPushButton) if "Demo" in b.text())
    qtbot.mouseClick(demo, Qt.MouseButton.LeftButton)
    win.state.wait_idle()
    qtbot.waitUntil(lambda: not notice.isVisible(), timeout=5000)
    assert win.timeline.shown_count() > 0
    win.close()


def test_a_filter_that_hides_everything_says_so_and_offers_to_clear(qtbot, window: MainWindow) -> None:
    window.search_edit.setText("zzqx no such thing")
    window.apply_search()
    window.state.wait_idle()
    QApplication.processEvents()
    notice = window.empty_notice
    assert notice.isVisible() and "zzqx no such thing" in notice.text.text()
    clear = next(b for b in notice.findChildren(QPushButton) if "Clear" in b.text())
    qtbot.mouseClick(clear, Qt.MouseButton.LeftButton)
    window.state.wait_idle()
    QApplication.processEvents()
    assert not notice.isVisible() and window.timeline.shown_count() > 0


def test_the_title_names_the_database_not_its_url(qtbot, window: MainWindow) -> None:
    title = window.windowTitle()
    assert "://" not in title and "sqlite:" not in title
    assert title.endswith("Partnership Explorer")


def test_no_two_actions_share_a_key_and_redo_answers_ctrl_y_and_ctrl_shift_z(qtbot, window: MainWindow) -> None:
    owners: dict[str, list[str]] = {}
    for action in window.findChildren(QAction):
        for sequence in action.shortcuts():
            owners.setdefault(sequence.toString(), []).append(action.text())
    shared = {k: v for k, v in owners.items() if len(v) > 1}
    assert not shared, shared  # Qt ignores an ambiguous shortcut: the key would do nothing
    redo_keys = {s.toString() for s in window.editing.redo_action.shortcuts()}
    assert {"Ctrl+Y", "Ctrl+Shift+Z"} <= redo_keys
    stack = window.editing.ops.undo_stack
    deal = next(r for r in window.timeline.shown_refs() if r.record_type == "deal")
    values = window.state.store.snapshot("deal", deal.record_id)[1]
    window.editing.ops.edit(
        "deal",
        deal.record_id,
        {"notes": values.get("notes")},
        {"notes": "Changed."},
        window.state.store.snapshot("deal", deal.record_id)[0],
        "notes",
    )
    assert stack.canUndo()
    for key, mods in (
        (Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier),
        (Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier),
    ):
        qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        assert stack.canRedo()
        qtbot.keyClick(window, key, mods)
        assert not stack.canRedo()
        assert window.state.store.snapshot("deal", deal.record_id)[1]["notes"] == "Changed."
