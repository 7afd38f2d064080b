"""Headless commands: a screenshot of the main window (for docs, tests and support)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from explorer.state import AppState, RecordRef

if TYPE_CHECKING:
    from explorer.views.main_window import MainWindow

log = logging.getLogger("explorer.cli")


def find_record(state: AppState, spec: str) -> RecordRef | None:
    """'pledge:3' or 'pledge:10 trillion' or just a name: the best match."""
    kind, sep, rest = spec.partition(":")
    if not sep:
        kind, rest = "", spec
    if rest.strip().isdigit() and kind:
        return RecordRef(kind, int(rest))
    for hit in state.store.search(rest):
        if not kind or hit.record_type == kind:
            return RecordRef(hit.record_type, hit.record_id)
    return None


def parse_size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    return int(width), int(height)


def screenshot(
    window: MainWindow,
    state: AppState,
    out: Path,
    select: str | None,
    size: str,
    present: bool = False,
    story_step: int | None = None,
) -> int:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    width, height = parse_size(size)
    window.setWindowState(Qt.WindowState.WindowNoState)  # a picture of the size asked for
    window.resize(width, height)
    window.show()
    QApplication.processEvents()
    state.wait_idle()  # a large database loads in the background: picture it loaded
    QApplication.processEvents()
    if present:
        window.presentation.enter()
        QApplication.processEvents()
    if story_step is not None:
        stories = state.store.list_stories()
        if not stories:
            print("this database has no story")
            return 2
        window.timeline.range_animation_ms = 0
        window.story_player.play(stories[0][0], start=max(0, story_step - 1))
    if select:
        ref = find_record(state, select)
        if ref is None:
            print(f"nothing matches {select!r}")
            return 2
        state.select(ref)
    for _ in range(5):
        QApplication.processEvents()
    out.parent.mkdir(parents=True, exist_ok=True)
    ok = window.grab().save(str(out))
    window.close()
    if not ok:
        print(f"could not write {out}")
        return 1
    print(f"wrote {out}")
    return 0
