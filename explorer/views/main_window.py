"""MainWindow: the timeline in the middle, the sector tree and the detail pane in docks."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QMimeData, QObject, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QKeySequence,
    QResizeEvent,
    QScreen,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QSizePolicy,
    QStyle,
    QToolBar,
    QToolButton,
    QWidget,
)

from explorer import APP_NAME, __version__, paths, settings, shortcuts
from explorer.formatting import day_text
from explorer.forms.controller import EditController
from explorer.settings import analyst_name, app_settings
from explorer.state import AppState, RecordRef
from explorer.store import ChangeEvent, EmptyFileError, Filters, StoreError, open_store
from explorer.views import exchange, screen_fit, window_geometry
from explorer.views.busy import BusyIndicator
from explorer.views.detail import DetailPane
from explorer.views.empty_state import EmptyStateNotice
from explorer.views.find import FindController
from explorer.views.printing import Printing
from explorer.views.records_table import RecordsTableView
from explorer.views.theme import apply_theme
from explorer.views.theme import icon as theme_icon
from explorer.views.timeline import TimelineView
from explorer.views.tree import SectorTreeView
from explorer.views.workshop import Workshop

if TYPE_CHECKING:
    from explorer.views.relationship_map import RelationshipMapView

log = logging.getLogger("explorer.window")


DATABASE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
OPENABLE_SUFFIXES = (*DATABASE_SUFFIXES, ".xlsx", ".xlsm", ".csv", ".tsv", ".json", ".ics", ".timeline")


def _dropped_files(data: QMimeData) -> list[Path]:
    """The local files of a drag the window can open (the first is opened)."""
    out = [Path(u.toLocalFile()) for u in data.urls() if u.isLocalFile()]
    return [p for p in out if p.suffix.lower() in OPENABLE_SUFFIXES or p.is_dir()]


class MainWindow(QMainWindow):
    # Find anything (Ctrl+K); shadows the static QWidget.find(window id), which the app never calls.
    find: FindController  # type: ignore[assignment]
    exchange_actions: dict[str, QAction]  # File menu actions, by key (views.exchange.install)
    instance_server: QObject | None = None  # answers later launches on this database (explorer.app)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setObjectName("MainWindow")
        screen_fit.install()
        self.setMinimumSize(window_geometry.MINIMUM)
        self.setAcceptDrops(True)  # a database or a spreadsheet dropped on the window opens it
        self.timeline = TimelineView(state, self)
        self.tree_view = SectorTreeView(state, self)
        self.detail = DetailPane(state, self)
        self.setCentralWidget(self.timeline)
        self.tree_dock = self._dock(
            "Sectors and organisations", "treeDock", self.tree_view, Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self.detail_dock = self._dock("Details", "detailDock", self.detail, Qt.DockWidgetArea.RightDockWidgetArea)
        self.editing = EditController(state, self)
        self.records = RecordsTableView(state, self.editing.ops, self)
        self.records_dock = self._dock("Records", "recordsDock", self.records, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.records_dock.hide()  # View ▸ Records (Ctrl+4) opens it under the timeline
        self.records_dock.visibilityChanged.connect(self._records_shown)
        # View ▸ Relationship Map (Ctrl+5): made when first opened (its modules cost ~50 ms of a start)
        self._map: RelationshipMapView | None = None
        self.drawing_pages = False  # a hand-out or print is being drawn (exports.WideTimeline)
        self.map_dock = self._dock("Relationship map", "mapDock", QWidget(self), Qt.DockWidgetArea.BottomDockWidgetArea)
        self.map_dock.hide()
        self.map_dock.visibilityChanged.connect(self._map_shown)
        state.add_step_part("map", self._map_step_view, self._show_map_step)
        self.tree_view.context_menu_requested.connect(self.editing.context_menu)
        self.timeline.context_menu_requested.connect(self.editing.context_menu)
        self.detail.edit_requested.connect(self.editing.edit)
        self.timeline.activated.connect(lambda _ref: self._focus_detail())
        self._build_filter_bar()
        self._build_actions()
        self._build_menus()
        self._build_status_bar()
        self._build_banner()
        self.empty_notice = EmptyStateNotice(self.timeline)
        self._update_title()
        state.selection_changed.connect(self._on_selection)
        state.filters_changed.connect(self._on_filters)
        state.busy_changed.connect(self._on_busy)
        state.background_failed.connect(lambda text: self.statusBar().showMessage(text, 15_000))
        state.records_changed.connect(lambda *_: self._refresh_counts())
        state.store_replaced.connect(self._on_store_replaced)
        state.offline_changed.connect(self._on_offline_changed)  # a method: let go of when the window goes
        state.records_changed.connect(self._on_records_changed)
        self._restore_settings()
        self._use_analyst_name()
        self.presentation.apply_saved_scale()
        self._update_banner()  # after restoreState, which would otherwise restore its visibility
        self._refresh_counts()
        self._on_selection(self.state.selection, None)  # Back/Forward: nothing to go back to yet

    # --- construction ----------------------------------------------------------------

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(area, dock)
        return dock

    def _build_filter_bar(self) -> None:
        bar = QToolBar("Filters", self)
        bar.setObjectName("filterBar")
        bar.setMovable(False)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.filter_bar = bar
        self.sector_combo = QComboBox(self)
        self.sector_combo.setAccessibleName("Sector filter")
        self.sector_combo.setMinimumContentsLength(18)
        self.country_combo = QComboBox(self)
        self.country_combo.setAccessibleName("Country filter")
        self.country_combo.setMinimumContentsLength(10)
        self.range_label = QLabel("", self)
        self.clear_range_button = QToolButton(self)
        self.clear_range_button.setText("Clear dates")
        self.clear_range_button.clicked.connect(lambda: self.state.set_date_range(None, None))
        self.search_edit = QLineEdit(self)
        self.search_edit.setObjectName("findField")
        self.search_edit.setPlaceholderText("Find anything (Ctrl+K)")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setMinimumWidth(260)
        self.search_edit.setAccessibleName("Find anything")
        self.find = FindController(self.state, self.search_edit, self, self.apply_search, self._after_find)
        self.find.filter_action.setIcon(theme_icon("filter"))
        self.search_edit.addAction(self.find.filter_action, QLineEdit.ActionPosition.TrailingPosition)
        self._search_timer = QTimer(self, singleShot=True, interval=200)
        self._search_timer.timeout.connect(self.apply_search)
        self.search_edit.textChanged.connect(self._on_search_text)
        self.find.filter_action.toggled.connect(self._on_filter_toggled)
        bar.addWidget(QLabel(" Sector ", self))
        bar.addWidget(self.sector_combo)
        bar.addWidget(QLabel("  Country ", self))
        bar.addWidget(self.country_combo)
        bar.addWidget(QLabel("  ", self))
        bar.addWidget(self.range_label)
        self.clear_range_action = bar.addWidget(self.clear_range_button)
        self._fill_filter_combos()
        self.sector_combo.currentIndexChanged.connect(self._on_sector_combo)
        self.country_combo.currentIndexChanged.connect(self._on_country_combo)
        self._show_range(Filters())

    def _fill_filter_combos(self) -> None:
        store = self.state.store
        for combo in (self.sector_combo, self.country_combo):
            combo.blockSignals(True)
            combo.clear()
        self.sector_combo.addItem("All sectors", None)

        # Names and nesting only (not sector_tree()): its counts and totals cost seconds at a million deals.
        hierarchy = store.sector_hierarchy()
        known = {sid for sid, _name, _parent in hierarchy}
        children: dict[int | None, list[tuple[int, str]]] = {}
        for sid, name, parent in sorted(hierarchy, key=lambda row: row[1].lower()):
            children.setdefault(parent if parent in known else None, []).append((sid, name))

        def add(parent: int | None, depth: int) -> None:
            for sid, name in children.get(parent, []):
                self.sector_combo.addItem("    " * depth + name, sid)
                add(sid, depth + 1)

        add(None, 0)
        self.country_combo.addItem("All countries", None)
        for cid, name in store.list_records("country"):
            self.country_combo.addItem(name, cid)
        for combo in (self.sector_combo, self.country_combo):
            combo.blockSignals(False)

    def _action(
        self,
        text: str,
        slot: Callable[[], object],
        shortcut: shortcuts.Key | list[shortcuts.Key] | None = None,
        tip: str = "",
        icon: QStyle.StandardPixmap | str | None = None,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcuts(shortcuts.keys(*(shortcut if isinstance(shortcut, list) else [shortcut])))
        if isinstance(icon, str):
            action.setIcon(theme_icon(icon))
        elif icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        action.setStatusTip(tip or text.replace("&", ""))
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        sp = QStyle.StandardPixmap
        self.open_action = self._action(
            "&Open Database…", self.open_database, QKeySequence.StandardKey.Open, icon=sp.SP_DialogOpenButton
        )
        self.open_demo_action = self._action("Open the &Demo Database", self.open_demo)
        self.quit_action = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.back_action = self._action(
            "&Back", self.state.back, QKeySequence("Alt+Left"), "Previous selection", "back"
        )
        self.forward_action = self._action(
            "&Forward", self.state.forward, QKeySequence("Alt+Right"), "Next selection", "forward"
        )
        self.find_action = self._action("&Find Anything…", self.focus_search, QKeySequence.StandardKey.Find)
        self.find_action.setShortcuts(shortcuts.keys(QKeySequence.StandardKey.Find, "Ctrl+K"))
        self.clear_filters_action = self._action("&Clear All Filters", self.clear_filters, QKeySequence("Ctrl+Shift+L"))
        self.fit_action = self._action(
            "&Fit All",
            self.timeline.fit_all,
            QKeySequence("Ctrl+Shift+F"),
            "Show the whole timeline",
            "fit",
        )
        self.today_action = self._action(
            "&Today", self.timeline.show_today, QKeySequence("Ctrl+T"), "Centre the timeline on today", "today"
        )
        self.focus_timeline_action = self._action(
            "Focus &Timeline", lambda: self.timeline.plot.setFocus(), QKeySequence("Ctrl+1")
        )
        self.focus_tree_action = self._action("Focus &Sector Tree", self._focus_tree, QKeySequence("Ctrl+2"))
        self.focus_detail_action = self._action("Focus &Details", self._focus_detail, QKeySequence("Ctrl+3"))
        self.focus_records_action = self._action("Records &Table", self._focus_records, QKeySequence("Ctrl+4"))
        self.focus_map_action = self._action("Relationship &Map", self._focus_map, QKeySequence("Ctrl+5"))
        self.reset_layout_action = self._action("&Reset Layout", self.reset_layout)
        self.reload_action = self._action(
            "Re&load",
            self.state.reload,
            QKeySequence("Ctrl+R"),
            "Read the database again (others' saves show by themselves too)",
        )
        self.about_action = self._action("&About Partnership Explorer", self.show_about)
        self.shortcuts_action = self._action("&Keyboard Shortcuts", self.show_shortcuts, QKeySequence("F1"))
        self.theme_group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for key, label in (("system", "Follow &System"), ("light", "&Light"), ("dark", "&Dark")):
            action = QAction(label, self, checkable=True)
            action.triggered.connect(lambda _c=False, k=key: self.set_theme(k))
            self.theme_group.addAction(action)
            self.theme_actions[key] = action
        self.theme_actions["system"].setChecked(True)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self._fill_recent_menu()
        file_menu.addAction(self.open_demo_action)
        file_menu.addSeparator()
        exchange.install(self, file_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        self.file_menu = file_menu
        self.edit_menu = bar.addMenu("&Edit")
        for action in self.editing.actions():
            if action is None:
                self.edit_menu.addSeparator()
            else:
                self.edit_menu.addAction(action)
        self.edit_menu.addSeparator()
        self.edit_menu.addActions([self.find_action, self.clear_filters_action])
        view_menu = bar.addMenu("&View")
        view_menu.addActions([self.back_action, self.forward_action])
        view_menu.addSeparator()
        view_menu.addAction(self.reload_action)
        view_menu.addActions([self.fit_action, self.today_action])
        view_menu.addSeparator()
        view_menu.addActions(
            [
                self.focus_timeline_action,
                self.focus_tree_action,
                self.focus_detail_action,
                self.focus_records_action,
                self.focus_map_action,
            ]
        )
        view_menu.addSeparator()
        view_menu.addAction(self.tree_dock.toggleViewAction())
        view_menu.addAction(self.detail_dock.toggleViewAction())
        view_menu.addAction(self.records_dock.toggleViewAction())
        view_menu.addAction(self.map_dock.toggleViewAction())
        view_menu.addAction(self.reset_layout_action)
        theme_menu = view_menu.addMenu("T&heme")
        theme_menu.addActions(list(self.theme_actions.values()))
        help_menu = bar.addMenu("&Help")
        help_menu.addActions([self.shortcuts_action, self.about_action])
        self.view_menu, self.help_menu = view_menu, help_menu
        self.workshop = Workshop(self)
        self.story_player = self.workshop.player
        self.presentation = self.workshop.presentation
        self.story_menu = self.workshop.install_menus(view_menu, file_menu, help_menu)
        self.printing = Printing(self)
        self.printing.install(file_menu, self.quit_action)

        tools = QToolBar("Navigation", self)
        tools.setObjectName("navigationBar")
        tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)  # names are in the tooltips
        tools.addActions([self.back_action, self.forward_action])
        tools.addSeparator()
        editing = self.editing
        for action, name in (
            (editing.undo_action, "undo"),
            (editing.redo_action, "redo"),
            (editing.new_action, "new"),
            (editing.edit_action, "edit"),
            (self.workshop.present_action, "present"),
            (self.workshop.play_action, "story"),
        ):
            action.setIcon(theme_icon(name))
        tools.addActions([editing.undo_action, editing.redo_action, editing.new_action, editing.edit_action])
        for action in (editing.undo_action, editing.redo_action):
            # Their text names the last edit ("Undo Edit pledge …"): icon only, the text as a tooltip.
            button = tools.widgetForAction(action)
            if isinstance(button, QToolButton):
                button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        tools.addSeparator()
        tools.addActions([self.workshop.present_action, self.workshop.play_action])
        spacer = QWidget(self)
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        tools.addWidget(spacer)
        tools.addWidget(self.search_edit)  # on the first bar: never folded away on a narrow screen
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tools)
        self.insertToolBar(self.filter_bar, tools)
        self.nav_bar = tools

    def _build_banner(self) -> None:
        """Says why nothing can be changed when the database is read-only."""
        self.banner = QLabel(self)
        self.banner.setObjectName("bannerLabel")
        # One line across the window: a toolbar lays a wrapping label out at its narrowest,
        # four lines tall.
        self.banner.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar = QToolBar("Notice", self)
        bar.setObjectName("noticeBar")
        bar.setMovable(False)
        bar.addWidget(self.banner)
        self.addToolBarBreak(Qt.ToolBarArea.TopToolBarArea)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.notice_bar = bar
        self._update_banner()

    def _update_banner(self) -> None:
        store = self.state.store
        if self.state.offline:
            self.banner.setText(
                f"Offline — {store.display_name()} cannot be reached just now; what you see may "
                "be out of date. The app tries again every few seconds (View ▸ Reload)."
            )
        elif store.read_only:
            self.banner.setText(
                f"Read-only — {store.read_only_reason or 'this database cannot be changed.'} "
                "You can look at everything; forms open for viewing only."
            )
        self.notice_bar.setVisible(store.read_only or self.state.offline)

    def _on_offline_changed(self, _text: str) -> None:
        self._update_banner()

    def _on_records_changed(self, changes: ChangeEvent, _initiator: object) -> None:
        if changes.external:
            count = len(changes.changes)
            self.statusBar().showMessage(
                f"Updated: {count} record{'s' * (count != 1)} saved meanwhile by someone else", 8000
            )

    def _build_status_bar(self) -> None:
        self.count_label = QLabel(self)
        self.db_label = QLabel(self)
        self.busy_indicator = BusyIndicator(self.state, self)
        self.statusBar().addWidget(self.count_label, 1)
        self.statusBar().addPermanentWidget(self.busy_indicator)
        self.statusBar().addPermanentWidget(self.db_label)

    # --- reactions -------------------------------------------------------------------

    def _on_selection(self, refs: list[RecordRef], _initiator: object) -> None:
        self.back_action.setEnabled(self.state.can_go_back())
        self.forward_action.setEnabled(self.state.can_go_forward())

    def _on_filters(self, filters: Filters) -> None:
        self._show_range(filters)
        self._sync_combos(filters)
        self._refresh_counts()

    def _sync_combos(self, filters: Filters) -> None:
        picked = self.state.sector_selection
        target = picked[0] if len(picked) == 1 else None
        for combo, value in (
            (self.sector_combo, target),
            (self.country_combo, next(iter(filters.country_ids)) if len(filters.country_ids) == 1 else None),
        ):
            index = combo.findData(value)
            if index >= 0 and index != combo.currentIndex():
                combo.blockSignals(True)
                combo.setCurrentIndex(index)
                combo.blockSignals(False)
        if filters.text != self.search_edit.text().strip():
            self.search_edit.blockSignals(True)
            self.search_edit.setText(filters.text)
            self.search_edit.blockSignals(False)

    def _show_range(self, filters: Filters) -> None:
        has_range = filters.start_day is not None or filters.end_day is not None
        if has_range:
            self.range_label.setText(f"Dates: {day_text(filters.start_day)} – {day_text(filters.end_day)}")
        else:
            self.range_label.setText("All dates")
        self.range_label.setToolTip("Shift+drag on the timeline to pick a date range")
        self.clear_range_action.setVisible(has_range)

    def _on_busy(self, what: str) -> None:
        if not what:  # background loading or filtering finished: the counts changed
            self._refresh_counts()

    def _refresh_counts(self) -> None:
        shown = self.timeline.shown_count()
        filters = self.state.filters
        parts = [f"{shown:,} dated records shown"]
        if filters.active:
            parts.append("filtered")
        self.count_label.setText(" · ".join(parts))
        self._update_empty_state(shown)
        ro = "  ·  read-only" if self.state.store.read_only else ""
        self.db_label.setText(f"{self.state.store.display_name()}{ro}")

    def _update_empty_state(self, shown: int) -> None:
        """Blank views say why, and what to do next."""
        if self.state.busy or shown:
            self.empty_notice.hide()
        elif self.timeline.total_count() == 0 and not self.state.filters.active:
            actions = [self.exchange_actions["import"], self.exchange_actions["connect"], self.open_demo_action]
            if self.state.store.read_only:
                actions = actions[1:]
            self.empty_notice.say(
                "Start here: this database is empty",
                "Bring records in from a spreadsheet or another timeline tool, connect to your team's "
                "server, or open the demo database to look around first.",
                actions,
            )
        elif self.state.filters.active:
            text = self.state.filters.text
            what = f"the search “{text}”" if text else "the filters chosen"
            self.empty_notice.say("Nothing to show", f"No dated record matches {what}.", [self.clear_filters_action])
        else:
            self.empty_notice.hide()

    def _on_sector_combo(self, _index: int) -> None:
        sid = self.sector_combo.currentData()
        self.state.set_sector_filter([] if sid is None else [int(sid)])

    def _on_country_combo(self, _index: int) -> None:
        cid = self.country_combo.currentData()
        self.state.set_country_filter([] if cid is None else [int(cid)])

    def _on_search_text(self, _text: str) -> None:
        if self.find.filtering:
            self._search_timer.start()

    def _on_filter_toggled(self, on: bool) -> None:
        settings.FILTER_AS_YOU_TYPE.set(on)
        if on:
            self.apply_search()

    def apply_search(self) -> None:
        """Filter every view by the search field's text (Alt+Enter, or as you type when toggled)."""
        self._search_timer.stop()
        self.state.set_search_text(self.search_edit.text())

    def focus_search(self) -> None:
        self.search_edit.setFocus()
        self.search_edit.selectAll()

    def _after_find(self, ref: RecordRef) -> None:
        """A picked record on the timeline keeps the keyboard there (arrows go on from it, Enter
        shows its details); a person or a place is read in the details."""
        if self.timeline.shows(ref):
            self.timeline.plot.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self._focus_detail()

    def _focus_detail(self) -> None:
        self.detail_dock.show()
        self.detail_dock.raise_()
        self.detail.browser.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _focus_tree(self) -> None:
        self.tree_dock.show()
        self.tree_view.tree.setFocus()

    def clear_filters(self) -> None:
        self.tree_view.filter_edit.clear()
        self.state.clear_filters()

    def _use_analyst_name(self) -> None:
        name = analyst_name()
        if name:
            self.state.store.user = name

    def _on_store_replaced(self) -> None:
        self._use_analyst_name()
        self._update_banner()
        self._fill_filter_combos()
        self._update_title()
        self._refresh_counts()

    def _update_title(self) -> None:
        store = self.state.store
        self.setWindowTitle(f"{store.display_name()} — {APP_NAME}")

    # --- file ------------------------------------------------------------------------

    def open_database(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open database", str(paths.user_data_dir()), "Partnership databases (*.sqlite *.db);;All files (*)"
        )
        if path:
            self.open_path(path)

    def open_demo(self) -> None:
        self.open_path(None)

    def open_path(self, path: str | None) -> bool:
        try:
            try:
                store = open_store(path)
            except EmptyFileError:  # a zero-byte file is written only once the person agrees
                if not ask_set_up_empty(self, Path(path or "")):
                    return False
                store = open_store(path, set_up_empty=True)
        except StoreError as exc:
            QMessageBox.warning(self, exc.title, exc.message)
            return False
        self.state.replace_store(store)
        if path is not None and store.path is not None:
            settings.remember_file(str(store.path))
        return True

    def open_file(self, path: Path) -> bool:
        """Open what a person hands the app (command line, drop, Open Recent): a database file
        opens in the window; a spreadsheet or an export file is imported into this database."""
        from explorer.store.peer import is_peer_file
        from explorer.store.spreadsheet import is_spreadsheet

        if path.suffix.lower() in DATABASE_SUFFIXES:
            return self.open_path(str(path))
        if is_peer_file(path):
            exchange.import_peer_files(self, [path])
            return True
        from explorer.store.kumu import is_kumu_file

        if is_kumu_file(path):
            exchange.import_kumu_files(self, [path])
            return True
        if is_spreadsheet(path):
            from explorer.views.spreadsheet_import import import_spreadsheet

            import_spreadsheet(self, path)
            return True
        if path.suffix.lower() in (".json", ".csv") or path.is_dir():
            exchange.import_files(self, [path])
            return True
        QMessageBox.information(
            self,
            "Open",
            f"{path.name} is neither a database (.sqlite) nor a file to import (.xlsx, .csv, .json).",
        )
        return False

    def _fill_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        files = settings.recent_files()
        for n, name in enumerate(files, start=1):
            action = menu.addAction(f"&{n} {Path(name).name}")
            action.setStatusTip(name)
            action.setToolTip(name)
            action.triggered.connect(lambda _checked=False, name=name: self.open_path(name))
        if files:
            menu.addSeparator()
            menu.addAction("&Clear Menu", settings.forget_recent_files)
        else:
            menu.addAction("No files opened yet").setEnabled(False)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _dropped_files(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = _dropped_files(event.mimeData())
        if files:
            event.acceptProposedAction()
            # after the drop returns: the file manager is not kept waiting on a dialog
            QTimer.singleShot(0, lambda: self.open_file(files[0]))

    # --- view ------------------------------------------------------------------------

    def set_theme(self, theme: str) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, theme)
        self.theme_actions[theme].setChecked(True)
        settings.THEME.set(theme)

    def _records_shown(self, visible: bool) -> None:
        """Opened under the timeline, the table takes a third of the height: the timeline keeps its lanes."""
        if visible and not self.records_dock.isFloating():
            share = max(120, int(self.height() * 0.32))
            self.resizeDocks([self.records_dock], [share], Qt.Orientation.Vertical)

    def _focus_records(self) -> None:
        self.records_dock.show()
        self.records_dock.raise_()
        self.records.table.setFocus()

    @property
    def map(self) -> RelationshipMapView:
        if self._map is None:
            from explorer.views.relationship_map import RelationshipMapView

            self._map = RelationshipMapView(self.state, self)
            self.map_dock.setWidget(self._map)
            from explorer.views import exports

            # On hand-out and printed pages of the current view, under the timeline.
            exports.HANDOUT_FIGURES.append(lambda window: self.map.page_figure() if window is self else None)
            if self.presentation.active:
                for widget in self._map.control_widgets():
                    widget.hide()
        return self._map

    def _map_shown(self, visible: bool) -> None:
        """Under the timeline, the map takes under half the height: wide enough for its labels,
        the timeline keeps its lanes."""
        if visible:
            self.map  # noqa: B018 (made now, on first opening)
        if visible and not self.map_dock.isFloating():
            self.resizeDocks([self.map_dock], [max(200, int(self.height() * 0.45))], Qt.Orientation.Vertical)
            # less while presenting (the lanes' type is large), once the dock has its place
            QTimer.singleShot(0, self.presentation.share_height_with_map)

    def _focus_map(self) -> None:
        self.map_dock.show()
        self.map_dock.raise_()
        self.map.canvas.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _map_step_view(self) -> dict[str, object] | None:
        """A story step keeps the map's view when the map is open."""
        return self.map.view_state() if self._map is not None and self.map_dock.isVisible() else None

    def _show_map_step(self, view: dict[str, object]) -> None:
        if not self.drawing_pages:  # a hand-out's pages take the map's picture, not the dock
            self.map_dock.show()
            self.map_dock.raise_()
        self.map.restore_view_state(view)

    def reset_layout(self) -> None:
        for dock, area in (
            (self.tree_dock, Qt.DockWidgetArea.LeftDockWidgetArea),
            (self.detail_dock, Qt.DockWidgetArea.RightDockWidgetArea),
        ):
            dock.setFloating(False)
            self.addDockWidget(area, dock)
            dock.show()
        self._dock_sizes_pending = True
        if self.isVisible():
            self._apply_dock_sizes()

    WIDEN_TREE_FROM = 1280  # px of window width (see _apply_dock_sizes)

    def _apply_dock_sizes(self) -> None:
        # Docks share the width with the timeline: about a quarter each on any screen. On a
        # laptop's width and up the tree takes what its sector names and totals need (at 1366 px
        # its totals were cut) from the details, which wrap; narrower, the details keep theirs
        # (at 960 px a big heading broke mid-word) and the tree scrolls sideways.
        width = max(self.width(), 960)
        tree, detail = int(width * 0.28), int(width * 0.25)
        if width >= self.WIDEN_TREE_FROM:
            wider = max(tree, min(self.tree_view.wanted_width(), int(width * 0.34)))
            tree, detail = wider, detail - (wider - tree)
        self.resizeDocks([self.tree_dock, self.detail_dock], [tree, detail], Qt.Orientation.Horizontal)
        self._dock_sizes_pending = False

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if getattr(self, "_dock_sizes_pending", False):
            self._apply_dock_sizes()
        self._fit_toolbars()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_toolbars()

    def _fit_toolbars(self) -> None:
        """The filters go on a line of their own when they and the navigation bar do not fit side
        by side: at 2× on a 1920 px screen the country and dates had been folded behind the
        toolbar's » button, where a trainer never finds them."""
        nav, filters = getattr(self, "nav_bar", None), getattr(self, "filter_bar", None)
        if nav is None or filters is None:
            return
        needed = nav.sizeHint().width() + filters.sizeHint().width() + 8  # the toolbars' handles and gaps
        wrap = needed > self.width()
        if wrap != self.toolBarBreak(filters):
            if wrap:
                self.insertToolBarBreak(filters)
            else:
                self.removeToolBarBreak(filters)

    def about_text(self) -> str:
        """Help ▸ About: the version, the app's licence and those of Qt and the bundled libraries."""
        from html import escape

        from PySide6 import __version__ as pyside_version
        from PySide6.QtCore import qVersion

        from explorer import licences

        libraries = "; ".join(
            escape(f"{lib.name} {lib.version} ({lib.licence})".replace(" ()", "")) for lib in licences.bundled()
        )
        return (
            f"<h3>{APP_NAME} {__version__}</h3>"
            "<p>Explore, present and edit the India–Japan economic and strategic partnership: summits, "
            "investment pledges, sectors, companies, projects and initiatives, each with its sources.</p>"
            "<p>Works entirely offline. No data leaves this computer.</p>"
            f"<p>Data folder: {escape(str(paths.user_data_dir()))}</p>"
            f"<p>Licence: {escape(licences.app_licence())} (the LICENSE file).</p>"
            f"<p><b>Built with</b> Qt {qVersion()} ({licences.QT_LICENCE}, through PySide6 {pyside_version}) "
            f"and: {libraries}.</p>"
            "<p><small>Qt and PySide6 are used under the GNU Lesser General Public License v3: they are "
            "loaded as separate shared libraries and may be replaced with other builds.</small></p>"
        )

    def show_about(self) -> None:
        QMessageBox.about(self, f"About {APP_NAME}", self.about_text())

    def show_shortcuts(self) -> None:
        rows = []
        for action in self.actions():
            keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts())
            if keys:
                rows.append(f"<tr><td><b>{keys}</b></td><td>{action.text().replace('&', '')}</td></tr>")
        rows += [
            "<tr><td><b>Wheel / drag</b></td><td>Zoom / pan the timeline</td></tr>",
            "<tr><td><b>Shift+drag</b></td><td>Pick a date range on the timeline</td></tr>",
            "<tr><td><b>← → / ↑ ↓</b></td><td>Timeline: previous/next item in its lane / lane above, below</td></tr>",
            "<tr><td><b>Tab / Shift+Tab</b></td><td>Timeline: next/previous item in time</td></tr>",
            "<tr><td><b>Home / End</b></td><td>Timeline: first/last item</td></tr>",
            "<tr><td><b>Enter</b></td><td>Timeline: show the item's details</td></tr>",
            "<tr><td><b>+ − / Ctrl+← → / 0</b></td><td>Timeline: zoom / pan / fit all</td></tr>",
            "<tr><td><b>Click / double-click</b></td><td>Map: select / expand a record</td></tr>",
            "<tr><td><b>Drag / wheel / 0</b></td><td>Map: move (and pin) a node or pan / zoom / fit</td></tr>",
        ]
        QMessageBox.information(self, "Keyboard shortcuts", f"<table>{''.join(rows)}</table>")

    # --- settings --------------------------------------------------------------------

    def editing_chrome(self) -> list[QWidget]:
        """What presentation mode hides: toolbars, the timeline's controls and the analysts' tree
        (the room sees the timeline, the caption and the details)."""
        return [
            self.nav_bar,
            self.filter_bar,
            self.notice_bar,
            self.tree_dock,
            *self.timeline.control_widgets(),
            *(self._map.control_widgets() if self._map is not None else []),
        ]

    def _restore_settings(self) -> None:
        saved = app_settings()
        if settings.LAYOUT.get(saved) != settings.LAYOUT_VERSION:
            # a layout from other docks (or none): drop it alone, keep every other setting
            self.fit_to_screen()
            self.reset_layout()
        else:
            geometry = settings.GEOMETRY.get(saved)
            if not (isinstance(geometry, QByteArray) and self._restore_fitting_geometry(geometry)):
                self.fit_to_screen()
            window_state = settings.WINDOW_STATE.get(saved)
            if isinstance(window_state, QByteArray):
                self.restoreState(window_state)
        theme = settings.THEME.get(saved)
        if theme in self.theme_actions:
            self.theme_actions[theme].setChecked(True)
        self.find.filter_action.blockSignals(True)
        self.find.filter_action.setChecked(settings.FILTER_AS_YOU_TYPE.get(saved))
        self.find.filter_action.blockSignals(False)
        selection = settings.SELECTION.get(saved)
        refs = [r for r in (RecordRef.parse(t) for t in selection.split(",") if t) if r is not None]
        valid = []
        for ref in refs:
            try:
                self.state.store.get(ref.record_type, ref.record_id)
                valid.append(ref)
            except StoreError:
                continue
        if valid:
            self.state.select(valid)
        # The range last: selecting scrolls the timeline to the selection.
        view = settings.TIMELINE_RANGE.get(saved)
        if isinstance(view, list) and len(view) == 2:
            try:
                self.timeline.set_view_range(float(view[0]), float(view[1]))
            except (TypeError, ValueError):
                pass

    def _screen(self) -> QScreen:
        return self.screen() or QGuiApplication.primaryScreen()

    def fit_to_screen(self) -> None:
        """First start (or a saved size that no longer fits): fill a small screen, centre on a big one."""
        rect, maximise = window_geometry.first_start_geometry(self._screen().availableGeometry())
        self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMaximized)
        self.setGeometry(rect)
        if maximise:
            self.setWindowState(self.windowState() | Qt.WindowState.WindowMaximized)

    def _restore_fitting_geometry(self, geometry: QByteArray) -> bool:
        """Restore the saved geometry only if it lies on one of today's screens (a laptop taken off
        its big monitor, or a 2× scale that halves the room, would otherwise open it off-screen)."""
        if not self.restoreGeometry(geometry):
            return False
        if self.windowState() & (Qt.WindowState.WindowMaximized | Qt.WindowState.WindowFullScreen):
            return True
        screens = [s.availableGeometry() for s in QGuiApplication.screens()]
        return window_geometry.fits(self.frameGeometry(), screens) or window_geometry.fits(self.geometry(), screens)

    def save_settings(self) -> None:
        saved = app_settings()
        settings.LAYOUT.set(settings.LAYOUT_VERSION, saved)
        settings.GEOMETRY.set(self.saveGeometry(), saved)
        settings.WINDOW_STATE.set(self.saveState(), saved)
        settings.SELECTION.set(",".join(r.key() for r in self.state.selection), saved)
        start, end = self.timeline.view_range()
        settings.TIMELINE_RANGE.set([start, end], saved)
        saved.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_settings()
        self.state.stop_background()  # results of work still running would land on closed views
        super().closeEvent(event)


def ask_set_up_empty(parent: QWidget | None, path: Path) -> bool:
    """Ask before writing a new database into a zero-byte file (it may be a placeholder of a copy
    or a sync that has not arrived yet); No leaves it as it is."""
    answer = QMessageBox.question(
        parent,
        "Empty file",
        f"{path.name} is empty (0 bytes): it holds no database yet.\n\n"
        "Set it up as a new, empty Partnership Explorer database? No leaves the file as it is.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes
