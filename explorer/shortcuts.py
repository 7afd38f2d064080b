"""Key sequences for actions: the platform's standard bindings plus the common extras, once each.

Binding ``Ctrl+Shift+Z`` and the platform's Redo key looked harmless, but on X11 they are the same
sequence: Qt then sees an ambiguous shortcut and does nothing. Every action's keys go through
``keys`` so such a pair collapses to one.
"""

from __future__ import annotations

from PySide6.QtGui import QKeySequence

Key = QKeySequence | QKeySequence.StandardKey | str

# Sequences people expect beside the platform's own (Ctrl+Y redoes on Windows and in most editors).
EXTRA: dict[QKeySequence.StandardKey, tuple[str, ...]] = {
    QKeySequence.StandardKey.Redo: ("Ctrl+Y", "Ctrl+Shift+Z"),
}


def keys(*items: Key) -> list[QKeySequence]:
    """The sequences for ``items`` (a standard key expands to all of its platform bindings and
    the extras above), without duplicates, in order."""
    out: list[QKeySequence] = []
    seen: set[str] = set()

    def add(sequence: QKeySequence) -> None:
        text = sequence.toString(QKeySequence.SequenceFormat.PortableText)
        if text and text not in seen:
            seen.add(text)
            out.append(sequence)

    for item in items:
        if isinstance(item, QKeySequence.StandardKey):
            for sequence in QKeySequence.keyBindings(item):
                add(sequence)
            for extra in EXTRA.get(item, ()):
                add(QKeySequence(extra))
        else:
            add(QKeySequence(item))
    return out
