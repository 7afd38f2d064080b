"""explorer --self-test: exercise the app offscreen and report (filled in by the packaging work)."""

from __future__ import annotations

from pathlib import Path


def run_self_test(report: Path | None = None) -> int:
    print("self-test: not implemented yet")
    return 1
