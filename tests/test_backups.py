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
