"""Shared fixtures: offscreen Qt, an isolated user data folder per test, demo databases."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

# pytest-qt aborts with no DISPLAY unless a platform is chosen before Qt loads.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def user_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own empty user data folder (settings, logs, backups, demo copy)."""
    path = tmp_path_factory.mktemp("userdata")
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(path))
    monkeypatch.delenv("EXPLORER_DATABASE_URL", raising=False)
    return path


@pytest.fixture(scope="session")
def built_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from explorer.store.demo import build_demo_database

    out = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    return build_demo_database(out, ROOT / "data" / "demo.yaml")


@pytest.fixture
def demo_path(built_demo: Path, tmp_path: Path) -> Path:
    """A fresh writable copy of the demo database for one test."""
    dest = tmp_path / "demo.sqlite"
    shutil.copyfile(built_demo, dest)
    return dest


@pytest.fixture(scope="session")
def large_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 100,000-record synthetic database (benchmarks/synth.py, seed 7), built once per session."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("synth", ROOT / "benchmarks" / "synth.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path_factory.mktemp("scale") / "synth.sqlite"
    return module.generate(out, 100_000, seed=7, log=None)


# --- both backends -------------------------------------------------------------------------
# With EXPLORER_TEST_PG_URL set (.ci/run starts a throw-away PostgreSQL cluster and sets it),
# every `store` test in these modules runs twice: on a SQLite file and on a fresh PostgreSQL
# database holding the same demo data. Without a server the PostgreSQL runs are skipped.
PG_URL_ENV = "EXPLORER_TEST_PG_URL"
BOTH_BACKEND_MODULES = {
    "test_store",
    "test_demo_data",
    "test_exchange",
    "test_merge",
    "test_postgres",
    "test_live_data",
    "test_pledges",
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    if "backend" in metafunc.fixturenames and module in BOTH_BACKEND_MODULES:
        metafunc.parametrize("backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    name = getattr(request, "param", "sqlite")
    if name == "postgresql" and not os.environ.get(PG_URL_ENV):
        pytest.skip(f"no PostgreSQL server ({PG_URL_ENV} is not set; .ci/run starts one)")
    return name


def _pg_admin() -> object:
    import sqlalchemy as sa

    return sa.create_engine(os.environ[PG_URL_ENV], isolation_level="AUTOCOMMIT")


def _pg_url(database: str) -> str:
    import sqlalchemy as sa

    return sa.engine.make_url(os.environ[PG_URL_ENV]).set(database=database).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_demo_template() -> Iterator[str]:
    """A PostgreSQL database holding the demo data, built once; tests get copies of it."""
    import uuid

    import sqlalchemy as sa
    import yaml
    from sqlmodel import Session

    from explorer.store import demo, search
    from explorer.store.database import open_database

    name = f"explorer_demo_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    with admin.connect() as conn:  # type: ignore[attr-defined]
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    opened = open_database(_pg_url(name))
    data = yaml.safe_load((ROOT / "data" / "demo.yaml").read_text(encoding="utf-8"))
    with opened.engine.begin() as conn:
        with Session(bind=conn) as session:
            demo.load_dataset(session, data)
            session.flush()
        conn.execute(sa.text("INSERT INTO meta (key, value) VALUES ('demo', 'demo.yaml')"))
        search.rebuild(conn)
    opened.engine.dispose()
    yield name
    with admin.connect() as conn:  # type: ignore[attr-defined]
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def pg_database_factory() -> Iterator[object]:
    """Makes fresh PostgreSQL databases (empty, or copies of a template); drops them afterwards."""
    import uuid

    admin = _pg_admin()
    made: list[str] = []

    def make(template: str | None = None) -> str:
        name = f"explorer_test_{uuid.uuid4().hex[:12]}"
        clause = f' TEMPLATE "{template}"' if template else ""
        with admin.connect() as conn:  # type: ignore[attr-defined]
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"{clause}')
        made.append(name)
        return _pg_url(name)

    yield make
    with admin.connect() as conn:  # type: ignore[attr-defined]
        for name in made:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def demo_target(backend: str, request: pytest.FixtureRequest) -> str | Path:
    """Where a test's demo database lives: a SQLite file, or a PostgreSQL URL."""
    if backend == "sqlite":
        return request.getfixturevalue("demo_path")
    template = request.getfixturevalue("pg_demo_template")
    return request.getfixturevalue("pg_database_factory")(template)


@pytest.fixture
def empty_target(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """A new, empty database on the test's backend."""
    if backend == "sqlite":
        return tmp_path / "empty.sqlite"
    return request.getfixturevalue("pg_database_factory")()


@pytest.fixture
def store(demo_target: str | Path) -> Iterator[object]:
    from explorer.store import open_store

    opened = open_store(demo_target)
    yield opened
    opened.close()


@pytest.fixture
def window(qtbot: object, store: object) -> Iterator[object]:
    """The main window on a fresh demo database, shown offscreen; forms open non-modal so tests
    can drive them."""
    from explorer.state import AppState
    from explorer.views.main_window import MainWindow

    win = MainWindow(AppState(store))  # type: ignore[arg-type]
    qtbot.addWidget(win)  # type: ignore[attr-defined]
    win.showNormal()  # the first start maximises to the small offscreen screen
    win.resize(1600, 950)
    win.show()
    qtbot.waitExposed(win)  # type: ignore[attr-defined]
    yield win
    win.story_player.stop()
    win.presentation.leave()
    win.state.stop_background()  # no change watching on a database the next test has dropped


@pytest.fixture
def state(store: object) -> Iterator[object]:
    """The shared state on a fresh demo database, without a window."""
    from explorer.state import AppState

    shared = AppState(store)  # type: ignore[arg-type]
    yield shared
    shared.stop_background()


@pytest.fixture
def view(qtbot: object, state: object) -> object:
    """A timeline alone (no main window), 1400×600, fitted to all records."""
    from explorer.views.timeline import TimelineView

    widget = TimelineView(state)  # type: ignore[arg-type]
    qtbot.addWidget(widget)  # type: ignore[attr-defined]
    widget.resize(1400, 600)
    widget.show()
    qtbot.waitExposed(widget)  # type: ignore[attr-defined]
    widget.fit_all()
    return widget
