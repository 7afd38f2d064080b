"""Crash safety: a writer killed with SIGKILL at random points never leaves a damaged database or
a half-written record."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KILLS = 220

# Runs in its own (single-threaded) process: forks writers that loop over one-transaction
# writes, SIGKILLs each after a random delay, then checks the file as the app would open it.
# Forking keeps each writer's start cheap (the modules are already imported).
HARNESS = r"""
import json, os, random, signal, sqlite3, sys, time
import sqlalchemy as sa
from sqlmodel import select
from explorer import models as m
from explorer.store import open_store, writes

db, kills, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
store = open_store(db)
with store.read() as s:
    deal = s.exec(select(m.Deal).order_by(m.Deal.id)).first()
    deal_id, first_version = deal.id, deal.version
store.close()


def writer(ready_fd):
    store = open_store(db)
    os.write(ready_fd, b"1")  # open: from now on every moment is inside or between writes
    while True:
        with store.write() as s:
            record = s.get(m.Deal, deal_id)
            n = 1 + (0 if not record.title.startswith("gen ") else int(record.title.split()[1]))
            # Several fields of one record and a new record, in one transaction, all naming n.
            writes.update(s, "deal", deal_id, {"title": f"gen {n}", "notes": f"notes of gen {n}",
                                               "amount": float(n), "currency": "USD", "usd_rate": 1.0,
                                               "amount_usd": float(n)},
                          expected_version=record.version, user="writer")
            writes.create(s, "person", {"name": f"gen {n}", "role": f"made by gen {n}"}, user="writer")
        os.write(ready_fd, b"c")  # committed


def check():
    raw = sqlite3.connect(db)
    integrity = raw.execute("PRAGMA integrity_check").fetchall()
    raw.close()
    store = open_store(db)  # what the app does on start: quick_check, schema check
    try:
        with store.read() as s:
            d = s.get(m.Deal, deal_id)
            people = s.exec(select(m.Person.name, m.Person.role).where(m.Person.name.like("gen %"))).all()
            created = s.exec(select(sa.func.count()).select_from(m.ChangeLog).where(
                m.ChangeLog.record_type == "person", m.ChangeLog.action == "create",
                m.ChangeLog.field == "name", m.ChangeLog.new_value.like("gen %"))).one()
            indexed = s.connection().execute(sa.text(
                "SELECT title FROM search_index WHERE record_type = 'deal' AND record_id = :i"), {"i": deal_id}).all()
        n = 0 if not d.title.startswith("gen ") else int(d.title.split()[1])
        problems = []
        if integrity != [("ok",)]:
            problems.append(f"integrity_check: {integrity[:3]}")
        if n and (d.notes != f"notes of gen {n}" or d.amount != float(n) or d.amount_usd != float(n)):
            problems.append(f"deal mixes generations: {d.title!r} {d.notes!r} {d.amount!r}")
        if d.version != first_version + n:
            problems.append(f"version {d.version} after {n} writes")
        if sorted(int(name.split()[1]) for name, _r in people) != list(range(1, n + 1)):
            problems.append(f"people do not match generation {n}: {len(people)}")
        if any(role != f"made by {name}" for name, role in people):
            problems.append("a person is half written")
        if created != n:
            problems.append(f"change log has {created} creations for {n} writes")
        if n and [r[0] for r in indexed] != [f"gen {n}"]:
            problems.append(f"search index says {indexed}")
        return n, problems
    finally:
        store.close()


results = []
for k in range(kills):
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(ready_r)
            writer(ready_w)
        finally:
            os._exit(1)
    os.close(ready_w)
    if k % 10:  # most kills land while writing; every tenth may land while the writer opens the file
        os.read(ready_r, 1)
        for _ in range(rng.randint(0, 2)):  # let 0-2 writes commit (whatever the machine's speed) ...
            os.read(ready_r, 1)
    time.sleep(rng.uniform(0.0, 0.015))  # ... then kill at a random moment of the next one
    os.close(ready_r)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    n, problems = check()
    results.append({"kill": k, "generation": n, "problems": problems})
print(json.dumps(results))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork (POSIX)")
def test_sigkilled_writers_never_leave_a_damaged_file_or_a_half_written_record(demo_path: Path, tmp_path: Path) -> None:
    script = tmp_path / "harness.py"
    script.write_text(HARNESS, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(script), str(demo_path), str(KILLS), "8"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(results) == KILLS >= 200
    assert [r for r in results if r["problems"]] == []
    generations = [r["generation"] for r in results]
    assert generations == sorted(generations)  # nothing committed was lost by a later kill
    # The kills landed among real writes: many transactions committed between kills.
    assert generations[-1] >= KILLS // 2
    assert sum(1 for a, b in itertools.pairwise(generations) if b > a) >= KILLS // 3
