"""The packaged app's size on disk and its start-up time to the first painted window, beside the installed app's.

    python benchmarks/bundle_startup.py [--bundle dist/explorer] [--rebuild] [--runs 7] [--no-archive]

Reuses dist/explorer/ when it is there (``--rebuild`` builds it again with ``pyinstaller explorer.spec``).
Start-up is measured as the time from launching a new process to the main window having painted:
both apps run ``--screenshot`` (offscreen), which shows the window, renders it and prints ``wrote``;
the clock stops when that line arrives (process teardown is not counted). Each app gets its own data
folder with the demo copy already built (first-run building is not start-up), one warm-up launch,
then the runs alternate between the two so both see the same machine load and file cache.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024


def build(dist: Path, work: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "WARN",
            "--distpath",
            str(dist),
            "--workpath",
            str(work),
            str(ROOT / "explorer.spec"),
        ],
        cwd=ROOT,
        check=True,
    )
    return time.perf_counter() - started


def disk_usage(folder: Path) -> tuple[int, int, int]:
    """(bytes on disk as du counts them, apparent bytes, files)."""
    blocks = apparent = files = 0
    seen: set[tuple[int, int]] = set()
    for path in [folder, *folder.rglob("*")]:
        info = path.lstat()
        if (info.st_dev, info.st_ino) in seen:
            continue
        seen.add((info.st_dev, info.st_ino))
        blocks += info.st_blocks * 512
        if path.is_file() and not path.is_symlink():
            apparent += info.st_size
            files += 1
    return blocks, apparent, files


def archive_size(folder: Path) -> int:
    """The download a user would get: the folder as .tar.gz."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = shutil.make_archive(str(Path(tmp) / "explorer"), "gztar", folder.parent, folder.name)
        return Path(archive).stat().st_size


def time_to_first_paint(command: list[str], env: dict[str, str], cwd: Path, shot: Path) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(
        [*command, "--screenshot", str(shot), "--size", "1280x800"],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    elapsed = None
    for line in process.stdout:
        if line.startswith("wrote"):
            elapsed = time.perf_counter() - started
    code = process.wait(timeout=120)
    if elapsed is None or code != 0:
        raise SystemExit(f"{command[0]} did not paint its window (exit code {code})")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "explorer", help="the one-folder app")
    parser.add_argument("--rebuild", action="store_true", help="build the bundle even if it exists")
    parser.add_argument("--runs", type=int, default=7, help="start-ups per app (median reported)")
    parser.add_argument("--no-archive", action="store_true", help="skip measuring the .tar.gz size")
    args = parser.parse_args()

    bundle: Path = args.bundle.resolve()
    build_seconds = None
    if args.rebuild or not (bundle / "explorer").is_file():
        build_seconds = build(bundle.parent, ROOT / "build")
    blocks, apparent, files = disk_usage(bundle)
    packed = None if args.no_archive else archive_size(bundle)

    with tempfile.TemporaryDirectory(prefix="explorer-bench-") as tmp_name:
        tmp = Path(tmp_name)
        base = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LC_ALL": "C.UTF-8",
            "QT_QPA_PLATFORM": "offscreen",
            "HOME": str(tmp / "home"),
        }
        apps = {
            "installed (python -m explorer)": (
                [sys.executable, "-m", "explorer"],
                ROOT,
                base | {"EXPLORER_DATA_DIR": str(tmp / "data-installed"), "PYTHONPATH": str(ROOT)},
            ),
            "bundle (dist/explorer)": (
                [str(bundle / "explorer")],
                tmp,
                base | {"EXPLORER_DATA_DIR": str(tmp / "data-bundle")},
            ),
        }
        times: dict[str, list[float]] = {name: [] for name in apps}
        for command, cwd, env in apps.values():  # first run builds the demo copy; then a warm-up
            for _ in range(2):
                time_to_first_paint(command, env, cwd, tmp / "shot.png")
        for _ in range(args.runs):
            for name, (command, cwd, env) in apps.items():
                times[name].append(time_to_first_paint(command, env, cwd, tmp / "shot.png"))

    installed, packaged = (statistics.median(t) for t in times.values())
    print(f"\nPackaged app: {bundle}" + (f" (built in {build_seconds:.0f} s)" if build_seconds else " (reused)"))
    print(f"{'':34} {'on disk':>10} {'start → painted (median of ' + str(args.runs) + ')':>34}")
    print(f"{'installed (python -m explorer)':34} {'':>10} {installed:>32.2f} s")
    print(f"{'bundle (dist/explorer)':34} {blocks / MIB:>6.0f} MiB {packaged:>32.2f} s")
    print(f"{'ratio bundle / installed':34} {'':>10} {packaged / installed:>33.2f}×")
    print(
        f"\nbundle: {files:,} files, {apparent / MIB:.0f} MiB of file contents"
        + (f", {packed / MIB:.0f} MiB as .tar.gz" if packed else "")
    )
    for name, runs in times.items():
        print(f"{name}: " + ", ".join(f"{t:.2f}" for t in runs) + " s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
