"""Playing a story: each step drives the same linked views through AppState, with a caption."""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QMargins, QObject, Qt, Signal
from PySide6.QtGui import QHideEvent, QKeyEvent
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from explorer.state import AppState, RecordRef
from explorer.store import Filters, StoreError
from explorer.store.stories import StepData

log = logging.getLogger("explorer.story")

NEXT_KEYS = {Qt.Key.Key_PageDown, Qt.Key.Key_Right, Qt.Key.Key_Down, Qt.Key.Key_Space}
PREVIOUS_KEYS = {Qt.Key.Key_PageUp, Qt.Key.Key_Left, Qt.Key.Key_Up, Qt.Key.Key_Backspace}


class StoryPlayer(QObject):
    """Steps through a story. Presentation clickers send PageDown/PageUp (or arrows/Space).

    Signals:
        step_changed(int, int, str): index (0-based), number of steps, caption.
        playing_changed(bool): a story started or stopped.
    """

    step_changed = Signal(int, int, str)
    playing_changed = Signal(bool)

    def __init__(self, state: AppState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.story_id: int | None = None
        self.title = ""
        self.steps: list[StepData] = []
        self.index = -1
        state.store_replaced.connect(self.stop)

    @property
    def playing(self) -> bool:
        return self.story_id is not None

    def play(self, story_id: int, start: int = 0) -> bool:
        try:
            steps = self.state.store.story_steps(story_id)
            titles = dict(self.state.store.list_stories())
        except StoreError as exc:
            log.warning("cannot play story %s: %s", story_id, exc.message)
            return False
        if not steps:
            return False
        self.story_id, self.steps, self.title = story_id, steps, titles.get(story_id, "")
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self.playing_changed.emit(True)
        self.go(start)
        return True

    def stop(self) -> None:
        if not self.playing:
            return
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self.story_id, self.steps, self.index = None, [], -1
        self.playing_changed.emit(False)

    def go(self, index: int) -> None:
        if not self.steps:
            return
        index = max(0, min(index, len(self.steps) - 1))
        self.index = index
        self.apply(self.steps[index])
        self.step_changed.emit(index, len(self.steps), self.steps[index].caption)

    def next(self) -> None:
        self.go(self.index + 1)

    def previous(self) -> None:
        self.go(self.index - 1)

    def first(self) -> None:
        self.go(0)

    def last(self) -> None:
        self.go(len(self.steps) - 1)

    def step_refs(self, step: StepData) -> list[RecordRef]:
        return [RecordRef(t, i) for t, i in self.state.store.ids_for_uuids(step.selection)]

    def step_filters(self, step: StepData) -> Filters:
        f = step.filters
        sectors = [i for _t, i in self.state.store.ids_for_uuids([("sector", u) for u in f.get("sectors", [])])]
        countries = [i for _t, i in self.state.store.ids_for_uuids([("country", u) for u in f.get("countries", [])])]
        return Filters(
            sector_ids=self.state.store.sector_ids_with_descendants(sectors) if sectors else frozenset(),
            country_ids=frozenset(countries),
            text=str(f.get("text", "") or ""),
        )

    def apply(self, step: StepData) -> None:
        """Filters first, then the selection, then the range (so the step's range wins)."""
        self.state.set_filters(self.step_filters(step))
        self.state.select(self.step_refs(step), initiator=self)
        if step.start_day is not None and step.end_day is not None:
            self.state.request_range(step.start_day, step.end_day)
        views = step.filters.get("views")
        if isinstance(views, dict):
            self.state.restore_step_parts(views)  # the map's records, centre and zoom

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not self.playing or not isinstance(event, QKeyEvent):
            return False
        if event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
            return False
        if QApplication.activeModalWidget() is not None:
            return False  # a dialog is open: its keys are its own
        key = event.key()
        if key in NEXT_KEYS:
            self.next()
        elif key in PREVIOUS_KEYS:
            self.previous()
        elif key == Qt.Key.Key_Home:
            self.first()
        elif key == Qt.Key.Key_End:
            self.last()
        elif key == Qt.Key.Key_Escape:
            self.stop()
        else:
            return False
        return True


class CaptionOverlay(QWidget):
    """The step counter and caption, laid over the bottom of the timeline."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("captionOverlay")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.counter = QLabel(self)
        self.counter.setObjectName("captionCounter")
        self.caption = QLabel(self)
        self.caption.setObjectName("captionText")
        self.caption.setTextFormat(Qt.TextFormat.PlainText)  # captions are what the author typed
        self.caption.setWordWrap(True)
        self.hint = QLabel("PgDn / → next   ·   PgUp / ← back   ·   Home / End   ·   Esc stops", self)
        self.hint.setObjectName("captionHint")
        self.hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 14, 22, 14)
        layout.setSpacing(6)
        layout.addWidget(self.counter)
        layout.addWidget(self.caption)
        layout.addWidget(self.hint)
        self.setStyleSheet(
            "#captionOverlay { background: rgba(18, 28, 45, 228); border-radius: 12px; }"
            "#captionCounter { color: #ffb347; font-weight: 600; }"
            "#captionText { color: white; font-size: 135%; }"
            "#captionHint { color: #c9d3e0; font-size: 80%; }"
        )
        self._saved_margins: QMargins | None = None
        parent.installEventFilter(self)
        self.hide()

    def show_step(self, index: int, count: int, caption: str, title: str = "") -> None:
        self.counter.setText(f"Step {index + 1} of {count}")
        self.counter.setToolTip(title)
        self.caption.setText(caption)
        self.place()
        self.show()
        self.raise_()

    def place(self) -> None:
        parent = self.parentWidget()
        if parent is None:
            return
        margin = max(8, parent.width() // 80)
        width = parent.width() - 2 * margin
        self.setFixedWidth(width)
        self.adjustSize()
        # Reserve the caption's height below the plot, so it covers no lane while it is shown.
        layout = parent.layout()
        if layout is not None:
            if self._saved_margins is None:
                self._saved_margins = layout.contentsMargins()
            base = self._saved_margins
            layout.setContentsMargins(base.left(), base.top(), base.right(), self.height() + 2 * margin)
        self.move(margin, parent.height() - self.height() - margin)

    def hideEvent(self, event: QHideEvent) -> None:
        parent = self.parentWidget()
        layout = parent.layout() if parent is not None else None
        if layout is not None and self._saved_margins is not None:
            layout.setContentsMargins(self._saved_margins)
            self._saved_margins = None
        super().hideEvent(event)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and self.isVisible():
            self.place()
        return False

    def text(self) -> str:
        return self.caption.text()
