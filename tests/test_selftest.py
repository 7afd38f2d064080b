"""explorer --self-test from the source tree: it passes on the demo data, and says so when something breaks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from explorer.selftest import CHECKS, run_self_test
from explorer.store import open_store
from explorer.views.tree import SectorTreeView

ROOT = Path(__file__).resolve().parent.parent


def run_explorer(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "explorer", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})},
    )


def test_self_test_passes_on_the_demo_data_and_writes_its_report(tmp_path: Path, user_data_dir: Path) -> None:
    report = tmp_path / "reports" / "self-test.txt"
    result = run_explorer("--self-test", str(report))
    assert result.returncode == 0, result.stdout + result.stderr
    text = report.read_text(encoding="utf-8")
    assert f"All {len(CHECKS)} checks passed" in text
    assert "FAIL" not in text
    for name, _check in CHECKS:
        assert f"PASS  {name}" in text
    assert "Demo includes: 15th India–Japan Annual Summit" in text
    assert "packaged: no" in text
    assert "Traceback" not in result.stderr
    # First run: the demo copy was built in the user's data folder, and the form round trip left it alone.
    demo = user_data_dir / "partnership.sqlite"
    assert f"Demo database: {demo}" in text
    store = open_store(demo)
    try:
        names = [name for _id, name in store.list_records("organisation")]
    finally:
        store.close()
    assert "Nippon Steel" in " ".join(names)
    assert not [n for n in names if n.startswith("Self-test")]


def test_a_broken_link_between_views_fails_the_self_test(qapp, monkeypatch, tmp_path: Path) -> None:
    # A real regression: clicking a row in the tree no longer selects it anywhere else.
    monkeypatch.setattr(SectorTreeView, "_on_tree_selection", lambda self, *_args: None)
    report = tmp_path / "report.txt"
    assert run_self_test(report) == 1
    text = report.read_text(encoding="utf-8")
    assert "FAIL  tree selection moves timeline and detail" in text
    assert f"1 of {len(CHECKS)} checks FAILED: tree selection moves timeline and detail" in text
    assert "PASS  search" in text  # the other checks still ran


def test_a_database_that_cannot_open_fails_with_the_message_a_user_would_see(
    tmp_path: Path, user_data_dir: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("meeting notes, not a database\n", encoding="utf-8")
    result = run_explorer("--self-test", env={"EXPLORER_DATABASE_URL": str(notes)})
    assert result.returncode == 1
    assert "FAIL  start-up database: notes.txt is not a Partnership Explorer database" in result.stdout
    assert "Traceback" not in result.stderr
    assert notes.read_text(encoding="utf-8") == "meeting notes, not a database\n"
    # Without a REPORT argument the report goes to the data folder.
    text = (user_data_dir / "self-test.txt").read_text(encoding="utf-8")
    assert f"1 of {len(CHECKS)} checks FAILED: start-up database" in text
