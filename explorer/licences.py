"""The libraries the app is built on and their licences (Help ▸ About), read offline from the
installed distributions' metadata; a bundle without that metadata falls back to what is known."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import metadata

APP_DISTRIBUTION = "partnership-explorer"
# What the app runs on (pyproject.toml's dependencies), walked to what they need in turn.
RUNTIME = (
    "PySide6-Essentials",
    "pyqtgraph",
    "numpy",
    "SQLAlchemy",
    "sqlmodel",
    "pydantic",
    "alembic",
    "platformdirs",
    "PyYAML",
    "openpyxl",
    "rustworkx",
)
OPTIONAL = ("psycopg", "psycopg-binary")  # the `postgres` extra: listed when installed
# Qt is not a Python distribution: it ships inside PySide6's wheels.
QT_LICENCE = "LGPL-3.0-only"
# For a bundle or install without the distributions' metadata (PyInstaller leaves most out).
KNOWN = {
    "pyside6-essentials": "LGPL-3.0-only OR GPL-2.0-only OR GPL-3.0-only",
    "shiboken6": "LGPL-3.0-only OR GPL-2.0-only OR GPL-3.0-only",
    "pyqtgraph": "MIT",
    "numpy": "BSD-3-Clause",
    "sqlalchemy": "MIT",
    "sqlmodel": "MIT",
    "pydantic": "MIT",
    "pydantic-core": "MIT",
    "alembic": "MIT",
    "mako": "MIT",
    "markupsafe": "BSD-3-Clause",
    "platformdirs": "MIT",
    "pyyaml": "MIT",
    "openpyxl": "MIT",
    "rustworkx": "Apache-2.0",
    "et-xmlfile": "MIT",
    "psycopg": "LGPL-3.0-only",
    "psycopg-binary": "LGPL-3.0-only",
    "typing-extensions": "PSF-2.0",
    "annotated-types": "MIT",
}
_CLASSIFIER = {
    "MIT License": "MIT",
    "BSD License": "BSD",
    "Apache Software License": "Apache-2.0",
    "GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0",
    "Python Software Foundation License": "PSF-2.0",
}


@dataclass(frozen=True)
class Library:
    name: str
    version: str
    licence: str


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _licence(dist: metadata.Distribution) -> str:
    meta = dist.metadata
    expression = meta.get_all("License-Expression") or []  # (get_all: None, not KeyError, when absent)
    if expression:
        return str(expression[0])
    text = str((meta.get_all("License") or [""])[0]).strip()
    if text and "\n" not in text and len(text) <= 60:  # a name, not the licence's whole text
        return text
    for classifier in meta.get_all("Classifier") or []:
        if classifier.startswith("License ::"):
            name = classifier.split("::")[-1].strip()
            return _CLASSIFIER.get(name, name)
    return KNOWN.get(_key(meta["Name"]), "see its distribution")


def _requirements(dist: metadata.Distribution) -> list[str]:
    """The names a distribution needs on this machine (extras left out)."""
    try:
        from packaging.requirements import Requirement
    except ImportError:  # no packaging: names only, extras' requirements skipped
        return [re.split(r"[ ;<>=!~\[(]", r, maxsplit=1)[0] for r in dist.requires or [] if "extra ==" not in r]
    names = []
    for text in dist.requires or []:
        req = Requirement(text)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            names.append(req.name)
    return names


def bundled() -> list[Library]:
    """Every library the app runs on (from RUNTIME down), sorted by name."""
    found: dict[str, Library] = {}
    todo = [*OPTIONAL, *RUNTIME]
    while todo:
        name = todo.pop()
        key = _key(name)
        if key in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            if key in KNOWN and name not in OPTIONAL:
                found[key] = Library(name, "", KNOWN[key])
            continue
        found[key] = Library(dist.metadata["Name"], dist.version, _licence(dist))
        todo.extend(_requirements(dist))
    return sorted(found.values(), key=lambda lib: lib.name.lower())


def app_licence() -> str:
    try:
        return _licence(metadata.distribution(APP_DISTRIBUTION))
    except metadata.PackageNotFoundError:
        return "MIT"
