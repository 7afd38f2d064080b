"""Backups: written before imports, merges and upgrades, listed, restorable, checked before use."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

import pytest

from explorer.commands import run_command
from explorer.store import StoreError, exchange, open_store
from explorer.store.backups import list_backups


def _add_country_file(tmp_path: Path, code: str, name: str) -> Path:
    header = exchange.columns("country")
    row = dict.fromkeys(header, "")
    row.update(uuid=str(uuid.uuid4()), code=code, name=name)
    buffer = io.StringIO()
    writer = csv.writer(buffer, dialect="excel")
    writer.writerows([header, [row[c] for c in header]])
    path = tmp_path / "country.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _countries(store: object) -> set[str]:
    return {label for _i, label in store.list_records("country")}  # type: ignore[attr-defined]


def test_an_import_backs_up_first_and_the_backup_restores_the_state_before_it(
    demo_path: Path, tmp_path: Path, user_data_dir: Path
) -> None:
    store = open_store(demo_path)
    before = _countries(store)
    result = store.import_files([_add_country_file(tmp_path, "SG", "Singapore")])
    assert "Singapore" in _countries(store)
    listed = store.list_backups()
    assert [b.path for b in listed] == [result.backup]
    assert listed[0].reason == "before-import" and listed[0].describe() == "before an import"
    assert result.backup.parent == user_data_dir / "backups"

    safety = store.restore_backup(listed[0].path)
    assert _countries(store) == before  # the same Store object sees the restored contents
    assert safety.exists() and "before-restore" in safety.name
    # A restore is itself undoable: the state it replaced was backed up.
    store.restore_backup(safety)
    assert "Singapore" in _countries(store)
    store.close()


def test_a_damaged_backup_is_refused_and_the_database_is_left_alone(demo_path: Path, tmp_path: Path) -> None:
    store = open_store(demo_path)
    backup = store.backup_now("manual")
    assert backup is not None
    data = bytearray(backup.read_bytes())
    data[4096 : 4096 * 3] = b"\x00\xff" * 4096
    backup.write_bytes(bytes(data))
    before = _countries(store)
    with pytest.raises(StoreError):
        store.restore_backup(backup)
    assert _countries(store) == before
    not_ours = tmp_path / "x-20250101-000000-manual.sqlite"
    not_ours.write_bytes(b"hello" * 1000)
    with pytest.raises(StoreError):
        store.restore_backup(not_ours)
    store.close()


def test_a_merge_backs_up_first_and_the_backup_is_listed_with_its_reason(demo_path: Path, tmp_path: Path) -> None:
    store = open_store(demo_path)
    other = tmp_path / "other.sqlite"
    store.export(other, fmt="sqlite")
    store.apply_merge(store.plan_merge(other), {})
    reasons = [b.describe() for b in list_backups(demo_path)]
    assert reasons == ["before a merge"]
    store.close()


def test_backups_from_the_command_line(demo_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _add_country_file(tmp_path, "SG", "Singapore")
    assert run_command(["import", "--db", str(demo_path), str(source)]) == 0
    assert run_command(["backups", "--db", str(demo_path), "list"]) == 0
    listing = capsys.readouterr().out
    assert "before an import" in listing
    name = listing.strip().splitlines()[-1].split()[-1]
    assert run_command(["backups", "--db", str(demo_path), "restore", name]) == 0
    store = open_store(demo_path)
    assert "Singapore" not in _countries(store)
    store.close()
    assert run_command(["backups", "--db", str(demo_path), "restore", "no-such-backup.sqlite"]) == 2
    assert "no backup called" in capsys.readouterr().err


# --- rotation ------------------------------------------------------------------------------


def test_rotation_keeps_the_last_n_and_the_newest_of_each_recent_day_and_week(tmp_path: Path) -> None:
    from explorer.store.backups import Retention, prune

    made = [  # 7 Dec 2026 is a Monday: ISO week 50; 6 Dec and 30 Nov are week 49; 29 and 23 Nov week 48
        "20261207-110000", "20261207-100000", "20261207-090000", "20261207-080000",
        "20261206-180000", "20261206-090000", "20261205-120000", "20261204-120000",
        "20261130-120000", "20261129-120000", "20261123-120000", "20261116-120000",
    ]  # fmt: skip
    for stamp in made:
        (tmp_path / f"demo-{stamp}-before-import.sqlite").write_bytes(b"x")
    others = ["other-20261101-120000-manual.sqlite", "notes.txt"]  # another database's, not a backup
    for name in others:
        (tmp_path / name).write_bytes(b"x")

    removed = prune(Path("/somewhere/demo.sqlite"), Retention(last=3, days=3, weeks=3), tmp_path)

    kept = {
        "20261207-110000", "20261207-100000", "20261207-090000",  # the last three
        "20261206-180000", "20261205-120000",  # the newest of the next two days (7 Dec is the first)
        "20261129-120000",  # the newest of week 48 (weeks 50 and 49 are kept already)
    }  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"demo-{s}-before-import.sqlite" for s in kept] + others
    )
    assert len(removed) == len(made) - len(kept) == 6


def test_each_new_backup_prunes_the_old_ones_as_the_setting_says(demo_path: Path, tmp_path: Path) -> None:
    from explorer import settings
    from explorer.store.backups import Retention

    settings.set_backup_retention(Retention(last=2, days=0, weeks=0))
    store = open_store(demo_path)
    store.backup_retention = settings.backup_retention  # as AppState and the commands set it
    for n in range(4):
        store.import_files([_add_country_file(tmp_path, f"Q{n}", f"Country {n}")])
    assert len(store.list_backups()) == 2  # four imports, each backed up first; two kept
    store.close()
    # The command line keeps to the same setting.
    assert run_command(["backups", "--db", str(demo_path), "make"]) == 0
    assert [b.reason for b in list_backups(demo_path)] == ["manual", "before-import"]


def test_file_backups_lists_them_and_reveals_and_keeps_as_set(qtbot, window, monkeypatch) -> None:
    from PySide6.QtGui import QDesktopServices

    from explorer import settings
    from explorer.views.exchange import show_backups

    store = window.state.store
    first = store.backup_now("manual")
    store.backup_now("before-import")
    dialog = show_backups(window)
    qtbot.addWidget(dialog)
    rows = [[dialog.table.item(r, c).text() for c in range(4)] for r in range(dialog.table.rowCount())]
    assert [r[1] for r in rows] == ["before an import", "made by hand"]  # newest first, with the reason
    assert all(r[0].startswith("20") and r[2].endswith("MB") for r in rows)  # the date and the size
    assert rows[1][3] == first.name
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    dialog.table.selectRow(1)
    dialog.reveal_button.click()
    assert opened == [str(first.parent)]
    dialog.keep_last.setValue(3)
    dialog.keep_weeks.setValue(0)
    assert settings.backup_retention().last == 3 and settings.backup_retention().weeks == 0
    dialog.table.selectRow(1)
    assert dialog.restore(confirm=False)  # the existing restore path
    dialog.close()
