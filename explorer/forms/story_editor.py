"""StoryEditor: build a story from the current view; reorder, caption and delete steps (undoable)."""

from __future__ import annotations

import json
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from explorer.forms.operations import Operations
from explorer.state import AppState, RecordRef
from explorer.store import ChangeEvent, StoreError
from explorer.store.stories import StepData


class StoryEditor(QDialog):
    """Every change is one undoable operation (or one macro for a move), saved at once."""

    def __init__(
        self,
        state: AppState,
        ops: Operations,
        current_range: Callable[[], tuple[float, float]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit stories")
        self.state, self.ops = state, ops
        self.current_range = current_range
        self.story_combo = QComboBox(self)
        self.story_combo.setAccessibleName("Story")
        self.new_story_button = QPushButton("New story…", self)
        self.steps = QListWidget(self)
        self.steps.setAccessibleName("Steps")
        self.caption = QPlainTextEdit(self)
        self.caption.setPlaceholderText("Caption shown while this step plays")
        self.caption.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 12)
        self.add_button = QPushButton("Add current view as step", self)
        self.up_button = QPushButton("Move up", self)
        self.down_button = QPushButton("Move down", self)
        self.delete_button = QPushButton("Delete step", self)
        self.save_caption_button = QPushButton("Save caption", self)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(QLabel("Story", self))
        top.addWidget(self.story_combo, 1)
        top.addWidget(self.new_story_button)
        buttons = QHBoxLayout()
        for b in (self.add_button, self.up_button, self.down_button, self.delete_button):
            buttons.addWidget(b)
        caption_row = QHBoxLayout()
        caption_row.addWidget(self.caption, 1)
        caption_row.addWidget(self.save_caption_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.steps, 1)
        layout.addLayout(buttons)
        layout.addWidget(QLabel("Caption", self))
        layout.addLayout(caption_row)
        layout.addWidget(self.message)
        close_box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close_box.rejected.connect(self.reject)
        self.close_button = close_box.button(QDialogButtonBox.StandardButton.Close)
        layout.addWidget(close_box)
        self.new_story_button.clicked.connect(self.new_story)
        self.add_button.clicked.connect(self.add_current_view)
        self.up_button.clicked.connect(lambda: self.move_step(-1))
        self.down_button.clicked.connect(lambda: self.move_step(1))
        self.delete_button.clicked.connect(self.delete_step)
        self.save_caption_button.clicked.connect(self.save_caption)
        self.story_combo.currentIndexChanged.connect(lambda _i: self.reload_steps())
        self.steps.currentRowChanged.connect(self._on_row)
        state.records_changed.connect(self._on_records_changed)
        self.resize(720, 560)
        self.reload_stories()

    # --- loading ---------------------------------------------------------------------

    def story_id(self) -> int | None:
        data = self.story_combo.currentData()
        return None if data is None else int(data)

    def reload_stories(self, select: int | None = None) -> None:
        current = select if select is not None else self.story_id()
        self.story_combo.blockSignals(True)
        self.story_combo.clear()
        for sid, title in self.state.store.list_stories():
            self.story_combo.addItem(title, sid)
        index = self.story_combo.findData(current) if current is not None else 0
        self.story_combo.setCurrentIndex(max(index, 0))
        self.story_combo.blockSignals(False)
        self.reload_steps()

    def step_data(self) -> list[StepData]:
        sid = self.story_id()
        return [] if sid is None else self.state.store.story_steps(sid)

    def reload_steps(self) -> None:
        row = self.steps.currentRow()
        self.steps.clear()
        for step in self.step_data():
            item = QListWidgetItem(f"{step.position}. {step.caption or '(no caption)'}", self.steps)
            item.setData(Qt.ItemDataRole.UserRole, step.id)
        if self.steps.count():
            self.steps.setCurrentRow(min(max(row, 0), self.steps.count() - 1))
        self._update_buttons()

    def captions(self) -> list[str]:
        return [s.caption for s in self.step_data()]

    def _on_records_changed(self, changes: ChangeEvent, initiator: object) -> None:
        # Its own writes it shows itself, with the step it was on (see new_story, move, …).
        if initiator is not self and changes.types() & {"story", "storystep"}:
            self.reload_stories()

    def _on_row(self, row: int) -> None:
        steps = self.step_data()
        self.caption.setPlainText(steps[row].caption if 0 <= row < len(steps) else "")
        self._update_buttons()

    def _update_buttons(self) -> None:
        row, count = self.steps.currentRow(), self.steps.count()
        has_story = self.story_id() is not None
        ro = self.state.store.read_only
        self.add_button.setEnabled(has_story and not ro)
        self.up_button.setEnabled(row > 0 and not ro)
        self.down_button.setEnabled(0 <= row < count - 1 and not ro)
        self.delete_button.setEnabled(row >= 0 and not ro)
        self.save_caption_button.setEnabled(row >= 0 and not ro)
        self.new_story_button.setEnabled(not ro)

    def _run(self, fn: Callable[[], object]) -> bool:
        try:
            fn()
        except StoreError as exc:
            self.message.setText(exc.message)
            return False
        self.message.clear()
        return True

    # --- edits -----------------------------------------------------------------------

    def new_story(self, title: str | None = None) -> None:
        if title is None:
            title, ok = QInputDialog.getText(self, "New story", "Title")
            if not ok:
                return
        ref_holder: list[RecordRef] = []
        if self._run(lambda: ref_holder.append(self.ops.create("story", {"title": title}, title, initiator=self))):
            self.reload_stories(select=ref_holder[0].record_id)

    def add_current_view(self, caption: str = "") -> None:
        sid = self.story_id()
        if sid is None:
            return
        start, end = self.current_range()
        refs = [(r.record_type, r.record_id) for r in self.state.selection]
        selection = self.state.store.uuids_for_ids(refs)
        filters = self.state.filters
        picked = list(self.state.sector_selection) or sorted(filters.sector_ids)
        sector_uuids = [u for _t, u in self.state.store.uuids_for_ids([("sector", i) for i in picked])]
        country_uuids = [u for _t, u in self.state.store.uuids_for_ids([("country", i) for i in filters.country_ids])]
        position = max([s.position for s in self.step_data()], default=0) + 1
        kept: dict[str, object] = {"sectors": sector_uuids, "countries": country_uuids, "text": filters.text}
        views = self.state.step_parts()  # what views keep of their own (the map's view)
        if views:
            kept["views"] = views
        values = {
            "story_id": sid,
            "position": position,
            "caption": caption,
            "selection": json.dumps([list(p) for p in selection]),
            "start_day": float(start),
            "end_day": float(end),
            "filters": json.dumps(kept),
        }
        if self._run(lambda: self.ops.create("storystep", values, caption or f"step {position}", initiator=self)):
            self.reload_steps()
            self.steps.setCurrentRow(self.steps.count() - 1)

    def move_step(self, delta: int) -> None:
        row = self.steps.currentRow()
        steps = self.step_data()
        other = row + delta
        if not (0 <= row < len(steps) and 0 <= other < len(steps)):
            return
        a, b = steps[row], steps[other]
        # Positions may repeat after edits elsewhere; swap by list order so the move is always visible.
        pos_a, pos_b = (b.position, a.position) if a.position != b.position else (other + 1, row + 1)
        stack = self.ops.undo_stack
        stack.beginMacro(f"Move step {row + 1} {'up' if delta < 0 else 'down'}")
        try:

            def swap() -> None:
                self.ops.edit(
                    "storystep",
                    a.id,
                    {"position": a.position},
                    {"position": pos_a},
                    a.version,
                    a.caption[:30],
                    initiator=self,
                )
                self.ops.edit(
                    "storystep",
                    b.id,
                    {"position": b.position},
                    {"position": pos_b},
                    self.state.store.get("storystep", b.id).version,  # after the first edit
                    b.caption[:30],
                    initiator=self,
                )

            ok = self._run(swap)
        finally:
            stack.endMacro()
        if ok:
            self.reload_steps()
            self.steps.setCurrentRow(other)

    def delete_step(self) -> None:
        row = self.steps.currentRow()
        steps = self.step_data()
        if 0 <= row < len(steps):
            step = steps[row]
            label = step.caption[:30]
            if self._run(lambda: self.ops.delete("storystep", step.id, step.version, label, initiator=self)):
                self.reload_steps()

    def reject(self) -> None:
        """Closing keeps a caption typed but not yet saved (every other change is saved at once)."""
        if not self.state.store.read_only:
            self.save_caption()
        super().reject()

    def save_caption(self) -> None:
        row = self.steps.currentRow()
        steps = self.step_data()
        if 0 <= row < len(steps):
            step = steps[row]
            text = self.caption.toPlainText().strip()
            if text != step.caption and self._run(
                lambda: self.ops.edit(
                    "storystep",
                    step.id,
                    {"caption": step.caption},
                    {"caption": text},
                    step.version,
                    text[:30],
                    initiator=self,
                )
            ):
                self.reload_steps()
