"""Headless subcommands: explorer import|export|merge|backups|synth …"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def run_command(argv: Sequence[str]) -> int:
    print(f"explorer {argv[0]}: not available in this version", file=sys.stderr)
    return 2
