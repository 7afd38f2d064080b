"""The command line and the app's papers: `explorer --help` lists every command (each with its own
--help), `explorer PATH` opens PATH even when it is named like a command, Help ▸ About names the
licences, and the wheel carries only what the app loads (issue 20, part 6)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from explorer import __version__
from explorer.commands import COMMANDS

ROOT = Path(__file__).resolve().parent.parent


def explorer(*args: str, cwd: Path, data: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT), "EXPLORER_DATA_DIR": str(data)}
    code = "import sys; from explorer.app import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120, check=False
    )


def test_help_lists_every_command_and_each_has_its_own_help(tmp_path: Path, user_data_dir: Path) -> None:
    done = explorer("--help", cwd=tmp_path, data=user_data_dir)
    assert done.returncode == 0, done.stderr
    listed = done.stdout.split("commands:")[1]
    for name in COMMANDS:
        assert f"\n    {name} " in listed, name  # with its one-line help beside it
    assert "--read-only" in done.stdout and "--screenshot" in done.stdout  # the window's options too
    for name in COMMANDS:
        own = explorer(name, "--help", cwd=tmp_path, data=user_data_dir)
        assert own.returncode == 0 and own.stdout.startswith(f"usage: explorer {name}"), own.stderr
        assert "--" in own.stdout  # its own options, not the top-level list
    assert list(tmp_path.iterdir()) == []  # help writes nothing


def test_explorer_path_opens_it_even_when_it_is_named_like_a_command(
    demo_path: Path, tmp_path: Path, user_data_dir: Path
) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    shutil.copyfile(demo_path, folder / "export")  # a database that happens to be called "export"
    shot = tmp_path / "window.png"
    done = explorer("./export", "--screenshot", str(shot), "--size", "800x500", cwd=folder, data=user_data_dir)
    assert done.returncode == 0, done.stderr
    assert shot.stat().st_size > 0 and "wrote" in done.stdout
    # Said bare, the command wins, and the error says how to open the file instead.
    bare = explorer("export", cwd=folder, data=user_data_dir)
    assert bare.returncode == 2 and "explorer ./export" in bare.stderr and "Traceback" not in bare.stderr
    # A path opens as before.
    copy = tmp_path / "copy.sqlite"
    shutil.copyfile(demo_path, copy)
    done = explorer(str(copy), "--screenshot", str(shot), "--size", "800x500", cwd=tmp_path, data=user_data_dir)
    assert done.returncode == 0, done.stderr


def test_about_names_the_version_and_the_licences_of_qt_and_the_libraries(window) -> None:
    text = window.about_text()
    assert f"Partnership Explorer {__version__}" in text
    assert "Licence: MIT" in text
    assert "Qt 6." in text and "LGPL-3.0-only" in text
    for name, licence in [
        ("PySide6", "LGPL-3.0"),
        ("pyqtgraph", "MIT"),
        ("SQLAlchemy", "MIT"),
        ("sqlmodel", "MIT"),
        ("pydantic", "MIT"),
        ("numpy", "BSD"),
        ("alembic", "MIT"),
        ("openpyxl", "MIT"),
        ("PyYAML", "MIT"),
        ("rustworkx", "Apache-2.0"),
    ]:
        found = re.search(rf"\b{name}[\w-]* [\d.]+ \(([^)]*)\)", text, re.IGNORECASE)  # name version (licence)
        assert found is not None and licence in found[1], (name, found)


def test_the_licence_is_at_the_top_and_the_declared_dependencies_are_what_the_app_imports() -> None:
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    deps = " ".join(project["project"]["dependencies"])
    assert "pydantic" in deps and "psycopg" not in deps  # a server's driver is the postgres extra
    extras = project["project"]["optional-dependencies"]
    assert any(r.startswith("psycopg") for r in extras["postgres"])
    assert any(r.startswith("psycopg") for r in extras["test"])  # .ci/run installs .[test]: the PG runs need it
    forced = project["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    for source, target in forced.items():
        assert (ROOT / source).exists(), source
        assert "screenshots" not in source and target.startswith("explorer/")
    assert (ROOT / "resources" / "screenshots").is_dir()  # they exist, and stay out of the wheel


def test_without_the_postgres_extra_a_server_url_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from explorer.store import StoreError, open_store

    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if not installed
    with pytest.raises(StoreError, match=r"partnership-explorer\[postgres\]"):
        open_store("postgresql+psycopg://analyst@127.0.0.1:9/partnership")
