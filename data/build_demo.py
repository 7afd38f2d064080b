"""Rebuild the demo database from data/demo.yaml.

    python data/build_demo.py [OUT.sqlite]

Without OUT it writes data/demo.sqlite (ignored by git). The app builds the same file in the
user's data folder on first start, so this script is for checking the dataset by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from explorer.store.demo import build_demo_database  # noqa: E402

if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "demo.sqlite"
    if out.exists():
        out.unlink()
    build_demo_database(out, HERE / "demo.yaml")
    print(f"wrote {out}")
