"""The code stays ruff-clean and ruff-formatted (the same checks a reviewer runs)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is part of the test extra; install with pip install -e '.[test]'")
    targets = [p for p in ("explorer", "tests", "data", "benchmarks") if (ROOT / p).exists()]
    return subprocess.run([ruff, *args, *targets], cwd=ROOT, capture_output=True, text=True)


def test_ruff_is_clean() -> None:
    result = _ruff("check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_is_formatted() -> None:
    """One layout for everyone's code: run `ruff format explorer tests data benchmarks`."""
    result = _ruff("format", "--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_layers_point_one_way() -> None:
    """import-linter's contracts in pyproject.toml: no Qt below the views; app > views/forms >
    itemmodels > state > jobs > store > models (a lower layer never imports a higher one)."""
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    if lint is None:
        pytest.fail("import-linter is part of the test extra; install with pip install -e '.[test]'")
    result = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr


def test_mypy_is_clean() -> None:
    """mypy with [tool.mypy] in pyproject.toml: the default checks on the whole package, strict on
    store and models. Its cache (.mypy_cache) makes a second run take a few seconds."""
    if importlib.util.find_spec("mypy") is None:
        pytest.fail("mypy is part of the test extra; install with pip install -e '.[test]'")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", "--no-color-output"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr
