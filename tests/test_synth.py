"""`explorer synth`: a synthetic database from the installed package, deterministic from its seed."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.app import main
from explorer.store import open_store
from explorer.store.queries import TIMELINE_TYPES

N = 2000
# Everything a record is, except what is fresh on every run (UUIDs and timestamps).
RANDOM_COLUMNS = {"uuid", "created_at", "updated_at"}
TABLES = (
    "sector",
    "organisation",
    "event",
    "pledge",
    "deal",
    "initiative",
    "target",
    "dealorganisation",
    "eventparticipant",
    "citation",
)


def _records(path: Path) -> dict[str, list[tuple[object, ...]]]:
    con = sqlite3.connect(path)
    try:
        out = {}
        for table in TABLES:
            columns = [r[1] for r in con.execute(f"PRAGMA table_info({table})") if r[1] not in RANDOM_COLUMNS]
            out[table] = con.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY rowid").fetchall()
        return out
    finally:
        con.close()


def _synth(out: Path, *args: str) -> int:
    return main(["synth", str(out), "--records", str(N), *args])


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """Two runs with seed 7 and one with seed 8."""
    folder = tmp_path_factory.mktemp("synth")
    paths = folder / "a.sqlite", folder / "b.sqlite", folder / "c.sqlite"
    for path, seed in zip(paths, ("7", "7", "8"), strict=True):
        assert _synth(path, "--seed", seed) == 0
    return paths


def test_the_command_writes_a_database_the_app_opens(generated: tuple[Path, Path, Path]) -> None:
    store = open_store(generated[0], read_only=True)
    try:
        assert store.meta("synthetic") == f"records={N} seed=7"
        timeline = store.timeline()
        assert len(timeline) > N * 0.8  # every deal, event, pledge, initiative and target is dated
        assert {TIMELINE_TYPES[int(t)] for t in set(timeline.record_type.tolist())} == {
            "deal",
            "event",
            "pledge",
            "initiative",
            "target",
        }
        sectors = store.sector_tree()
        assert len(sectors) == 8 and sum(len(s.children) for s in sectors) == 32
        assert sum(s.deal_count for s in sectors) > 0
        deal_id, title = store.list_records("deal")[0]
        assert any(h.record_type == "deal" and h.record_id == deal_id for h in store.search(title))
    finally:
        store.close()


def test_the_same_seed_gives_the_same_records(generated: tuple[Path, Path, Path]) -> None:
    first, again, other_seed = (_records(p) for p in generated)
    assert first == again
    assert first["deal"] != other_seed["deal"]


def test_records_are_realistic(generated: tuple[Path, Path, Path]) -> None:
    con = sqlite3.connect(generated[0])
    try:

        def one(sql: str) -> int:
            return int(con.execute(sql).fetchone()[0])

        assert one("SELECT count(*) FROM sector") == 40
        precisions = {r[0] for r in con.execute("SELECT DISTINCT date_precision FROM deal")}
        assert precisions == {"day", "month", "year", "approximate"}
        dates = con.execute("SELECT start_date FROM deal UNION ALL SELECT start_date FROM event")
        years = [int(r[0][:4]) for r in dates]
        assert min(years) >= 1950 and max(years) <= 2050
        assert sum(y >= 2000 for y in years) > len(years) / 2  # trackers fill up in recent decades
        deals = one("SELECT count(*) FROM deal")
        linked = one("SELECT count(DISTINCT deal_id) FROM dealorganisation")
        assert 0.9 * deals < linked < deals  # most deals name organisations, a few do not
        assert one("SELECT count(*) FROM eventparticipant") > 0
        assert one("SELECT count(*) FROM deal WHERE pledge_id IS NOT NULL") > 0
        assert one("SELECT count(*) FROM deal WHERE event_id IS NOT NULL") > 0
        records = sum(
            one(f"SELECT count(*) FROM {t}")
            for t in ("organisation", "event", "pledge", "deal", "initiative", "target")
        )
        assert records == N
        cited = one("SELECT count(*) FROM citation")
        assert 0.25 * records < cited < 0.40 * records  # about one record in three
    finally:
        con.close()


def test_an_existing_file_is_kept_unless_forced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "mine.sqlite"
    out.write_bytes(b"precious")
    assert _synth(out) == 2
    assert "already exists" in capsys.readouterr().err
    assert out.read_bytes() == b"precious"
    assert _synth(out, "--force") == 0
    assert "Done" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.sqlite"]  # no partial or -wal file left behind
    store = open_store(out, read_only=True)
    try:
        assert store.meta("synthetic") == f"records={N} seed=7"
    finally:
        store.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--records", "lots"], "is not a number of records"),
        (["--records", "0"], "at least 1"),
        (["--records", "2.5"], "whole number of records"),
        (["--seed", "-1"], "cannot be negative"),
    ],
)
def test_bad_arguments_get_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    out = tmp_path / "x.sqlite"
    with pytest.raises(SystemExit) as exited:
        main(["synth", str(out), *args])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_a_missing_folder_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["synth", str(tmp_path / "nowhere" / "x.sqlite")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["synth", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_it_runs_as_a_command_of_the_installed_package(tmp_path: Path) -> None:
    """`python -m explorer synth` (what the `explorer` script runs) reaches the generator, not a stub."""
    out = tmp_path / "taken.sqlite"
    out.write_bytes(b"")
    proc = subprocess.run(
        [sys.executable, "-m", "explorer", "synth", str(out), "--records", "50"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "already exists" in proc.stderr and "Traceback" not in proc.stderr


def test_the_benchmarks_wrapper_uses_the_packaged_generator() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    try:
        import synth
    finally:
        sys.path.pop(0)
    from explorer.store import synth as packaged

    assert synth.generate is packaged.generate
