"""PostgreSQL as a team's shared database: the same conflicts as SQLite between app processes,
the same opening rules. The store's own test modules also run on PostgreSQL (see conftest)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from explorer import models as m
from explorer.store import ReadOnlyError, StoreError, open_store

ROOT = Path(__file__).resolve().parent.parent

# One analyst's app: opens the record (remembers its version), waits until told, then saves.
ANALYST = r"""
import json, sys
from explorer.store import ConflictError, open_store
store = open_store(sys.argv[1])
deal_id, field, value = int(sys.argv[2]), sys.argv[3], sys.argv[4]
version, values = store.snapshot("deal", deal_id)
print("opened", flush=True)
sys.stdin.readline()
try:
    store.update("deal", deal_id, {field: value}, expected_version=version, base=values)
    print(json.dumps({"saved": True}), flush=True)
except ConflictError as exc:
    print(json.dumps({"conflict": [c.field for c in exc.conflicts], "theirs": [c.theirs for c in exc.conflicts],
                      "versions": [exc.expected_version, exc.current_version], "message": exc.message}), flush=True)
store.close()
"""


def _analyst(tmp_path: Path, target: Any, deal_id: int, field: str, value: str) -> subprocess.Popen[str]:
    script = tmp_path / "analyst.py"
    script.write_text(ANALYST, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, str(script), str(target), str(deal_id), field, value],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "opened", proc.stderr.read() if proc.stderr else ""
    return proc


def _save(proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = proc.communicate("go\n", timeout=240)  # generous: CI machines run at load 20 at times
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def _first_deal(target: Any) -> int:
    store = open_store(target)
    with store.read() as session:
        deal_id = int(session.exec(sa.select(m.Deal.id).order_by(m.Deal.id)).scalars().first())
    store.close()
    return deal_id


def test_two_app_processes_editing_one_record_get_the_same_conflict_on_either_backend(
    demo_target: Any, tmp_path: Path
) -> None:
    deal_id = _first_deal(demo_target)
    first = _analyst(tmp_path, demo_target, deal_id, "notes", "Asha's notes")
    second = _analyst(tmp_path, demo_target, deal_id, "notes", "Ravi's notes")
    assert _save(first) == {"saved": True}
    outcome = _save(second)
    assert outcome["conflict"] == ["notes"] and outcome["theirs"] == ["Asha's notes"]
    assert outcome["versions"][1] == outcome["versions"][0] + 1
    assert "changed by someone else" in outcome["message"]
    store = open_store(demo_target)
    assert store.get("deal", deal_id).notes == "Asha's notes"  # nothing overwritten
    store.close()


def test_simultaneous_saves_one_wins_the_other_gets_a_conflict_not_a_crash(demo_target: Any, tmp_path: Path) -> None:
    deal_id = _first_deal(demo_target)
    for round_ in range(4):
        analysts = [_analyst(tmp_path, demo_target, deal_id, "notes", f"round {round_}: {who}") for who in "AB"]
        assert analysts[0].stdin is not None and analysts[1].stdin is not None
        for proc in analysts:  # release both at once
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outcomes = [_save(proc) for proc in analysts]
        assert sorted("saved" in o for o in outcomes) == [False, True], (round_, outcomes)
        assert next(o for o in outcomes if "conflict" in o)["conflict"] == ["notes"]


@pytest.fixture
def pg_demo_url(request: pytest.FixtureRequest) -> str:
    if not os.environ.get("EXPLORER_TEST_PG_URL"):
        pytest.skip("no PostgreSQL server (EXPLORER_TEST_PG_URL is not set; .ci/run starts one)")
    return request.getfixturevalue("pg_database_factory")(request.getfixturevalue("pg_demo_template"))


def test_a_server_database_opens_from_the_environment_and_read_only_is_enforced_by_the_server(
    pg_demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = pg_demo_url
    monkeypatch.setenv("EXPLORER_DATABASE_URL", url)
    store = open_store(None)
    assert store.engine.dialect.name == "postgresql" and store.path is None
    assert [h.title for h in store.search("mitomo")][:1] == ["Sumitomo Realty"]
    store.close()
    viewer = open_store(url, read_only=True)
    with pytest.raises(ReadOnlyError):
        viewer.create("country", {"code": "SG", "name": "Singapore"})
    with pytest.raises(sa.exc.DBAPIError, match="read-only"), viewer.engine.begin() as conn:
        conn.execute(sa.text("UPDATE deal SET notes = 'x'"))  # even bypassing the store
    viewer.close()


def test_a_role_that_may_only_read_opens_read_only_and_says_why(pg_demo_url: str) -> None:
    import uuid

    role = f"viewer_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_demo_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
        conn.exec_driver_sql(f'GRANT USAGE ON SCHEMA public TO "{role}"')
        conn.exec_driver_sql(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"')
    try:
        as_viewer = sa.engine.make_url(pg_demo_url).set(username=role).render_as_string(hide_password=False)
        store = open_store(as_viewer)
        try:
            assert store.read_only and role in store.read_only_reason and "may read" in store.read_only_reason
            assert store.user == role  # the history would name the role
            with pytest.raises(ReadOnlyError):
                store.create("country", {"code": "SG", "name": "Singapore"})
            assert store.search("Sumitomo")  # reading works
        finally:
            store.close()
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
            conn.exec_driver_sql(f'DROP ROLE "{role}"')
        admin.dispose()


def test_an_unreachable_server_gives_a_clear_message_without_the_password() -> None:
    with pytest.raises(StoreError) as failed:
        open_store("postgresql+psycopg://analyst:s3cret@127.0.0.1:9/partnership")
    assert "Could not connect" in failed.value.message and "s3cret" not in failed.value.message


def test_racing_saves_in_one_instant_still_end_in_exactly_one_save_and_one_conflict(demo_target: Any) -> None:
    """Two writers released together: on a server the loser's UPDATE finds the version moved
    under it; the store re-checks and reports the ordinary conflict (not a crash)."""
    import threading

    from explorer.store import ConflictError

    deal_id = _first_deal(demo_target)
    writers = [open_store(demo_target), open_store(demo_target)]
    try:
        for round_ in range(12):
            version = writers[0].get("deal", deal_id).version
            barrier = threading.Barrier(2)
            outcomes: list[str] = []

            def save(
                i: int,
                version: int = version,
                barrier: threading.Barrier = barrier,
                outcomes: list[str] = outcomes,
                round_: int = round_,
            ) -> None:
                barrier.wait()
                try:
                    writers[i].update("deal", deal_id, {"notes": f"{round_}: writer {i}"}, expected_version=version)
                    outcomes.append("saved")
                except ConflictError:
                    outcomes.append("conflict")
                except Exception as exc:  # anything else is what this test is about
                    outcomes.append(repr(exc))

            threads = [threading.Thread(target=save, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
            assert sorted(outcomes) == ["conflict", "saved"], (round_, outcomes)
    finally:
        for w in writers:
            w.close()
