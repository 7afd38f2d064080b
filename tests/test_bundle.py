"""The packaged app: explorer.spec builds a one-folder bundle that runs its self-test offline from a copy.

Slow (one PyInstaller build per session, ~30–60 s): `.ci/run` runs it; skip it locally with
`-m "not bundle"`. The bundle runs in a clean environment: a copy of dist/explorer/ in another
folder, an empty HOME, a working directory outside the project, no PYTHONPATH, and no network
(`unshare --net`, a fresh network namespace with no interfaces, where the machine allows it;
otherwise proxies pointed at an unroutable address, which stops HTTP(S) clients but not raw sockets).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from explorer import APP_NAME, __version__
from explorer.selftest import CHECKS

pytestmark = pytest.mark.bundle

ROOT = Path(__file__).resolve().parent.parent
UNROUTABLE = "http://192.0.2.1:9"  # TEST-NET-1: reserved, never routed


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build dist/explorer/ once per session, outside the work tree."""
    work = tmp_path_factory.mktemp("pyinstaller")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "WARN",
            "--distpath",
            str(work / "dist"),
            "--workpath",
            str(work / "build"),
            str(ROOT / "explorer.spec"),
        ],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    folder = work / "dist" / "explorer"
    assert (folder / "explorer").is_file()
    return folder


@pytest.fixture
def moved_bundle(bundle: Path, tmp_path: Path) -> Path:
    """The bundle as a user has it: copied somewhere else (a path with a space in it)."""
    target = tmp_path / "Apps" / "Partnership Explorer"
    shutil.copytree(bundle, target, symlinks=True)
    return target


def _no_network_prefix() -> list[str]:
    try:
        ok = subprocess.run(["unshare", "--net", "true"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return ["unshare", "--net"] if ok else []


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """What a double-click on a bare machine gives the app: no PYTHONPATH, no venv, an empty HOME."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LC_ALL": "C.UTF-8", "QT_QPA_PLATFORM": "offscreen"}
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        env[name] = UNROUTABLE
    env["no_proxy"] = env["NO_PROXY"] = ""
    env.update(extra)
    return env


def run_bundle(folder: Path, home: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_no_network_prefix(), str(folder / "explorer"), *args],
        cwd=home,
        env=clean_env(home, **extra),
        capture_output=True,
        text=True,
        timeout=300,
    )


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file, folder and link in the bundle, with its contents' hash and mode."""
    out: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            out[rel] = f"link {os.readlink(path)}"
        elif path.is_dir():
            out[rel] = f"dir {path.stat().st_mode:o}"
        else:
            out[rel] = f"{path.stat().st_mode:o} {hashlib.sha256(path.read_bytes()).hexdigest()}"
    return out


def test_copied_bundle_passes_its_self_test_offline_with_an_empty_home(moved_bundle: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    before = fingerprint(moved_bundle)
    report = home / "self-test report.txt"
    result = run_bundle(moved_bundle, home, "--self-test", str(report))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    text = report.read_text(encoding="utf-8")
    assert f"All {len(CHECKS)} checks passed" in text, text
    assert "packaged: yes" in text
    assert "Demo includes: 15th India–Japan Annual Summit" in text
    records = int(re.search(r"Demo records: ([\d,]+)", text).group(1).replace(",", ""))
    assert records > 100
    # First run: the writable demo copy, the logs and the settings live in the user's data folder.
    data = home / ".local" / "share" / "PartnershipExplorer"
    assert f"Demo database: {data / 'partnership.sqlite'}" in text
    assert (data / "partnership.sqlite").stat().st_size > 0
    log = (data / "logs" / "explorer.log").read_text(encoding="utf-8")
    assert "alembic.runtime.migration" in log and "self-test passed" in log  # migrations ran, logged there
    assert "Traceback" not in result.stderr
    # ...and nothing inside the bundle changed.
    assert fingerprint(moved_bundle) == before


def test_bundle_start_up_failure_is_a_clear_message(moved_bundle: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    notes = home / "notes.txt"
    notes.write_bytes(b"meeting notes, not a database\n")
    result = run_bundle(moved_bundle, home, EXPLORER_DATABASE_URL=str(notes))
    assert result.returncode != 0
    assert "notes.txt is not a Partnership Explorer database" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert notes.read_bytes() == b"meeting notes, not a database\n"


def test_bundle_carries_what_the_app_reads_and_leaves_out_what_it_never_loads(bundle: Path, tmp_path: Path) -> None:
    version = run_bundle(bundle, tmp_path, "--version")
    assert version.returncode == 0 and version.stdout.strip() == f"{APP_NAME} {__version__}"
    internal = bundle / "_internal"
    assert (internal / "explorer" / "data" / "demo.yaml").is_file()
    assert (internal / "resources" / "icons" / "app.svg").is_file()
    assert not (internal / "resources" / "screenshots").exists()  # the README's pictures stay out
    # Help ▸ About reads the libraries' licences from their metadata, shipped with the app's LICENSE.
    assert (internal / "LICENSE").read_text().startswith("MIT License")
    for dist in ("numpy", "pyqtgraph", "sqlalchemy", "pyside6_essentials", "shiboken6", "pydantic"):
        assert any(p.name.lower().startswith(dist + "-") for p in internal.glob("*.dist-info")), dist
    shipped = {p.name for p in (internal / "explorer" / "migrations" / "versions").glob("*.py")}
    assert shipped == {p.name for p in (ROOT / "explorer" / "migrations" / "versions").glob("*.py")}
    names = [p.relative_to(internal).as_posix() for p in internal.rglob("*")]
    unused = re.compile(
        r"Qt6(WebEngine|Qml|Quick|Pdf|Multimedia|3D|Designer|VirtualKeyboard)|tkinter|_tcl|"
        r"/translations/|plugins/(tls|wayland)|pytest|hypothesis|resources/screenshots"
    )
    assert [n for n in names if unused.search(n)] == []
    size = sum(p.stat().st_size for p in internal.rglob("*") if p.is_file() and not p.is_symlink())
    assert size < 224 * 1024 * 1024  # the naive minimal PySide6 + pyqtgraph + sqlmodel bundle measured 224 MB
