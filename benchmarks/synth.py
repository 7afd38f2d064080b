"""The benchmarks' synthetic database: a thin wrapper over ``explorer synth``.

    python benchmarks/synth.py OUT.sqlite --records 1e6 [--seed 7] [--force]

The generator lives in the package (explorer/store/synth.py) so an installed app has it too;
this file keeps ``from synth import generate`` working for benchmarks/run.py and the tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from explorer.store.synth import Generator, generate, shares  # noqa: E402

__all__ = ["Generator", "generate", "main", "shares"]


def main(argv: list[str] | None = None) -> int:
    from explorer.app import main as app_main

    return app_main(["synth", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
