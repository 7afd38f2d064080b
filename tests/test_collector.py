"""Python's full collector passes wait for the person to pause (explorer.jobs.IdleCollector)."""

from __future__ import annotations

import gc

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from explorer.jobs import FULL_PASSES_OFF, IdleCollector, collector_young_only


def _young_passes(n: int) -> None:
    for _ in range(n):
        gc.collect(1)  # what the young generation's own passes add up to over a session


def test_a_full_pass_waits_until_the_typing_stops(qtbot) -> None:
    now = [1000.0]
    before = gc.get_threshold()
    collector = IdleCollector(QApplication.instance(), clock=lambda: now[0])
    field = QLineEdit()
    qtbot.addWidget(field)
    field.show()
    try:
        assert gc.get_threshold()[2] == FULL_PASSES_OFF  # none by themselves, in a keystroke
        _young_passes(collector._due + 1)
        for text in "Sumitomo":
            now[0] += 0.3
            qtbot.keyClick(field, text)  # typing, a key every 0.3 s
            collector._check()
        assert field.text() == "Sumitomo"
        assert collector.passes == [] and gc.get_count()[2] > collector._due
        now[0] += 0.5
        collector.busy()  # a save started: not now either
        now[0] += 1.0
        collector._check()
        assert collector.passes == []
        now[0] += IdleCollector.QUIET_S  # the person pauses
        collector._check()
        assert len(collector.passes) == 1 and gc.get_count()[2] == 0
        collector._check()  # nothing due: no second pass
        assert len(collector.passes) == 1
        # due and quiet, but work runs in the background: a full pass would stop its thread too
        _young_passes(collector._due + 1)
        now[0] += IdleCollector.QUIET_S
        with collector_young_only():
            collector._check()
            assert len(collector.passes) == 1
        collector._check()
        assert len(collector.passes) == 2
        # typing without a pause for long: a pass runs anyway once many are due
        _young_passes(IdleCollector.FORCED_AFTER)
        now[0] += 0.1
        qtbot.keyClick(field, Qt.Key.Key_Backspace)
        collector._check()
        assert len(collector.passes) == 3
    finally:
        collector.stop()
    assert gc.get_threshold() == before
