"""Workshop features on the main window: presentation mode, stories, exports, demo reset."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QFileDialog, QInputDialog, QMenu, QMessageBox

from explorer import paths, shortcuts
from explorer.store import StoreError
from explorer.views.presentation import PresentationController
from explorer.views.story import CaptionOverlay, StoryPlayer

if TYPE_CHECKING:  # the story editor and the PDF/CSV exports load on first use, not at start-up
    from explorer.forms.story_editor import StoryEditor
    from explorer.views.main_window import MainWindow

log = logging.getLogger("explorer.workshop")


class Workshop:
    """Owns the story player, caption overlay and presentation controller of one window."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        state = window.state
        self.player = StoryPlayer(state, window)
        self.overlay = CaptionOverlay(window.timeline)
        self.presentation = PresentationController(window)
        self.player.step_changed.connect(lambda i, n, caption: self.overlay.show_step(i, n, caption, self.player.title))
        self.player.playing_changed.connect(lambda playing: None if playing else self.overlay.hide())
        self.editor: StoryEditor | None = None
        self.last_export: Path | None = None

        def act(text: str, slot: Callable[[], object], *keys: str | QKeySequence.StandardKey) -> QAction:
            action = QAction(text, window)
            if keys:
                action.setShortcuts(shortcuts.keys(*keys))
            action.triggered.connect(lambda _c=False: slot())
            window.addAction(action)
            return action

        p = self.presentation
        self.present_action = act("&Presentation Mode", p.toggle, "F5")
        self.present_action.setCheckable(True)
        p.active_changed.connect(self.present_action.setChecked)
        p.active_changed.connect(window.timeline.set_presentation)  # fewer, larger labels
        p.active_changed.connect(window.detail.set_presentation)  # no edit history on the projector
        p.scale_changed.connect(window.timeline.apply_ui_scale)
        self.zoom_in_action = act("&Larger Text", p.zoom_in, QKeySequence.StandardKey.ZoomIn, "Ctrl+=")
        self.zoom_out_action = act("&Smaller Text", p.zoom_out, QKeySequence.StandardKey.ZoomOut)
        self.zoom_reset_action = act("&Normal Text Size", p.zoom_reset, "Ctrl+0")
        self.play_action = act("&Play Story…", self.play, "F6")
        self.stop_action = act("&Stop Story", self.player.stop)
        self.next_action = act("&Next Step", self.player.next)
        self.previous_action = act("P&revious Step", self.player.previous)
        self.edit_stories_action = act("&Edit Stories…", self.edit_stories)
        self.add_step_action = act("&Add Current View to Story", self.add_current_view, "Ctrl+Shift+A")
        self.export_png_action = act("Timeline as &PNG…", lambda: self.export_timeline("png"))
        self.export_svg_action = act("Timeline as &SVG…", lambda: self.export_timeline("svg"))
        self.export_view_pdf_action = act("Current View as P&DF…", self.export_view_pdf)
        self.export_story_pdf_action = act("Story as PDF &Handout…", self.export_story_pdf)
        self.export_csv_action = act("Selection as &CSV…", self.export_csv, "Ctrl+Shift+E")
        self.export_map_action = act("Relationship &Map as PNG or SVG…", self.export_map)
        self.reset_demo_action = act("&Reset Demo Data…", self.reset_demo)
        self.player.playing_changed.connect(self._update_enabled)
        state.store_replaced.connect(self._update_enabled)
        self._update_enabled()

    def export_map(self) -> None:
        """The map's own Export…: opened first if it is closed (it is drawn as it is shown)."""
        window = self.window
        if hasattr(window, "map_dock") and hasattr(window, "map"):
            window.map_dock.show()
            window.map.wait_loaded()
            window.map.export_asked()

    def install_menus(self, view_menu: QMenu, file_menu: QMenu, help_menu: QMenu) -> QMenu:
        view_menu.addSeparator()
        view_menu.addActions([self.present_action, self.zoom_in_action, self.zoom_out_action, self.zoom_reset_action])
        export_menu = QMenu("E&xport", self.window)
        export_menu.addActions(
            [
                self.export_png_action,
                self.export_svg_action,
                self.export_view_pdf_action,
                self.export_story_pdf_action,
                self.export_map_action,
                self.export_csv_action,
            ]
        )
        records_export = getattr(self.window, "exchange_actions", {}).get("export")
        if records_export is not None:
            export_menu.addSeparator()
            export_menu.addAction(records_export)
        first = file_menu.actions()[2] if len(file_menu.actions()) > 2 else None
        file_menu.insertMenu(first, export_menu) if first else file_menu.addMenu(export_menu)
        story_menu = QMenu("&Story", self.window)
        story_menu.addActions([self.play_action, self.next_action, self.previous_action, self.stop_action])
        story_menu.addSeparator()
        story_menu.addActions([self.add_step_action, self.edit_stories_action])
        self.window.menuBar().insertMenu(help_menu.menuAction(), story_menu)
        help_menu.addSeparator()
        help_menu.addAction(self.reset_demo_action)
        return story_menu

    def _update_enabled(self, *_args: object) -> None:
        playing = self.player.playing
        ro = self.window.state.store.read_only
        for action in (self.next_action, self.previous_action, self.stop_action):
            action.setEnabled(playing)
        self.add_step_action.setEnabled(not ro)

    # --- stories ---------------------------------------------------------------------

    def choose_story(self, title: str) -> int | None:
        stories = self.window.state.store.list_stories()
        if not stories:
            QMessageBox.information(
                self.window,
                title,
                "This database has no story yet. Use Story ▸ Edit Stories… to make one from the current view.",
            )
            return None
        if len(stories) == 1:
            return stories[0][0]
        names = [t for _i, t in stories]
        choice, ok = QInputDialog.getItem(self.window, title, "Story", names, 0, False)
        return stories[names.index(choice)][0] if ok else None

    def play(self, story_id: int | None = None) -> bool:
        story_id = story_id if story_id is not None else self.choose_story("Play story")
        if story_id is None:
            return False
        return self.player.play(story_id)

    def edit_stories(self) -> StoryEditor:
        if self.editor is None:
            from explorer.forms.story_editor import StoryEditor

            self.editor = StoryEditor(
                self.window.state, self.window.editing.ops, self.window.timeline.view_range, self.window
            )
        self.editor.reload_stories()
        self.editor.show()
        self.editor.raise_()
        return self.editor

    def add_current_view(self) -> None:
        editor = self.edit_stories()
        if editor.story_id() is None:
            editor.new_story("My story")
        editor.add_current_view()

    # --- exports ---------------------------------------------------------------------

    def _ask_path(self, title: str, suffix: str, filter_text: str) -> Path | None:
        default = Path.home() / f"partnership-{dt.date.today():%Y%m%d}.{suffix}"
        name, _ = QFileDialog.getSaveFileName(self.window, title, str(default), filter_text)
        if not name:
            return None
        path = Path(name)
        return path if path.suffix else path.with_suffix(f".{suffix}")

    def _report(self, fn: Callable[[Path], object], path: Path, what: str) -> bool:
        try:
            fn(path)
        except (OSError, StoreError, RuntimeError) as exc:
            log.warning("export to %s failed: %s", path, exc)
            QMessageBox.warning(self.window, "Export failed", f"Could not write {path.name}: {exc}")
            return False
        self.last_export = path
        self.window.statusBar().showMessage(f"Saved {what} to {path}", 8000)
        return True

    def export_timeline(self, kind: str, path: Path | None = None) -> bool:
        """PNG or SVG with the legend, and the title and dates chosen (asked when no path is given,
        remembered for the next export)."""
        from explorer.views import exports

        if path is None:
            dialog = exports.FigureOptionsDialog(self.window, kind)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return False
            options = dialog.options()
            options.remember()
            path = self._ask_path(f"Export timeline as {kind.upper()}", kind, f"{kind.upper()} (*.{kind})")
            if path is None:
                return False
        else:
            options = exports.FigureOptions.remembered()
        fn = exports.export_png if kind == "png" else exports.export_svg
        return self._report(lambda p: fn(self.window.timeline, p, options), path, f"the timeline ({kind.upper()})")

    def export_view_pdf(self, path: Path | None = None) -> bool:
        path = path or self._ask_path("Export current view as PDF", "pdf", "PDF (*.pdf)")
        if path is None:
            return False
        from explorer.views import exports

        return self._report(
            lambda p: exports.export_view_pdf(self.window.state, self.window.timeline, p),
            path,
            "the current view (PDF)",
        )

    def export_story_pdf(self, path: Path | None = None, story_id: int | None = None) -> bool:
        story_id = story_id if story_id is not None else self.choose_story("Story as PDF handout")
        if story_id is None:
            return False
        path = path or self._ask_path("Export story as PDF handout", "pdf", "PDF (*.pdf)")
        if path is None:
            return False
        from explorer.views import exports

        return self._report(
            lambda p: exports.export_story_pdf(self.window.state, self.window.timeline, self.player, story_id, p),
            path,
            "the story handout (PDF)",
        )

    def export_csv(self, path: Path | None = None) -> bool:
        path = path or self._ask_path("Export selection as CSV", "csv", "CSV (*.csv)")
        if path is None:
            return False
        from explorer.views import exports

        return self._report(lambda p: exports.export_selection_csv(self.window.state, p), path, "the selection (CSV)")

    # --- reset -----------------------------------------------------------------------

    def reset_demo(self, confirm: bool = True) -> Path | None:
        """Put the shipped demo data back for the next group; the old file is kept as a backup."""
        if confirm:
            answer = QMessageBox.question(
                self.window,
                "Reset demo data",
                "Restore the demo database as shipped? Everything changed in it since will be replaced. "
                "The current file is kept as a dated backup in the data folder.",
                QMessageBox.StandardButton.Reset | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel,
            )
            if answer != QMessageBox.StandardButton.Reset:
                return None
        from explorer.store.demo import build_demo_database

        target = paths.default_database_path()
        backup: Path | None = None
        self.player.stop()
        if self.window.state.store.path is not None and self.window.state.store.path.resolve() == target.resolve():
            self.window.state.store.close()
        try:
            if target.exists():
                stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
                backup = paths.backup_dir() / f"{target.stem}-{stamp}-before-reset{target.suffix}"
                shutil.copy2(target, backup)
                for suffix in ("-wal", "-shm"):
                    side = Path(str(target) + suffix)
                    if side.exists():
                        shutil.copy2(side, Path(str(backup) + suffix))
            built = paths.user_data_dir() / ".demo-reset.sqlite"
            built.unlink(missing_ok=True)
            build_demo_database(built)
            for suffix in ("-wal", "-shm"):
                Path(str(target) + suffix).unlink(missing_ok=True)
            built.replace(target)
        except (OSError, StoreError) as exc:
            log.warning("reset failed: %s", exc)
            QMessageBox.warning(self.window, "Reset failed", f"The demo data could not be restored: {exc}")
            return None
        self.window.open_path(str(target))
        self.window.statusBar().showMessage(
            "Demo data restored" + (f"; the previous file is kept as {backup.name}" if backup else ""), 10000
        )
        return backup
