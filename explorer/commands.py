"""Headless subcommands: explorer import|export|merge|backups|synth …

Each prints what it did (or a row-level report) and exits 0 on success, 1 when the input had
problems (nothing written), 2 when the database could not be used. Never a traceback: errors are
logged to the data folder's log.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from explorer import paths

log = logging.getLogger("explorer.commands")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="explorer")
    sub = parser.add_subparsers(dest="command", required=True)
    db_help = "database file or URL (default: EXPLORER_DATABASE_URL, else your copy of the demo)"

    p = sub.add_parser("export", help="write the database as JSON, a folder of CSV files, or a database copy")
    p.add_argument("--db", metavar="PATH_OR_URL", help=db_help)
    p.add_argument("--format", choices=("json", "csv", "sqlite"), help="default: from OUT (.json, .sqlite, else CSV)")
    p.add_argument("out", type=Path, help="a .json file, a folder for CSV files, or a .sqlite file")

    p = sub.add_parser("import", help="check every row, then apply all of them or none")
    p.add_argument("--db", metavar="PATH_OR_URL", help=db_help)
    p.add_argument("--check", action="store_true", help="only check the files and print the report")
    p.add_argument("sources", type=Path, nargs="+", help="<type>.csv files, folders of them, or .json files")

    p = sub.add_parser("merge", help="merge another analyst's database file into this one")
    p.add_argument("--db", metavar="PATH_OR_URL", help=db_help)
    p.add_argument("other", type=Path, help="the other analyst's .sqlite file (never written)")
    p.add_argument("--accept", action="store_true", help="apply the merge (without it, only show what it would do)")
    p.add_argument("--prefer", choices=("mine", "theirs"),
                   help="with --accept: the value to keep for every field changed on both sides")

    p = sub.add_parser("backups", help="list, make or restore backups of a database file")
    p.add_argument("--db", metavar="PATH", help="database file (default: your copy of the demo)")
    p.add_argument("action", nargs="?", choices=("list", "make", "restore"), default="list")
    p.add_argument("backup", nargs="?", help="with restore: the backup's file name (from the list) or path")

    sub.add_parser("synth", help="generate a large synthetic database (benchmarks)")
    return parser


def _open(db: str | None, *, read_only: bool = False) -> object:
    from explorer.store import open_store

    return open_store(db, read_only=read_only)


def _export(args: argparse.Namespace) -> int:
    fmt = args.format or {".json": "json", ".sqlite": "sqlite", ".db": "sqlite"}.get(args.out.suffix.lower(), "csv")
    store = _open(args.db)
    try:
        written = store.export(args.out, fmt=fmt)  # type: ignore[attr-defined]
    finally:
        store.close()  # type: ignore[attr-defined]
    print(f"Exported {store.display_name()} as {fmt}:")  # type: ignore[attr-defined]
    for path in written:
        print(f"  {path}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from explorer.store.exchange import ImportFailedError

    store = _open(args.db, read_only=args.check)
    try:
        if args.check:
            report = store.check_import(args.sources)  # type: ignore[attr-defined]
            print(report.text())
            return 0 if report.ok else 1
        try:
            result = store.import_files(args.sources)  # type: ignore[attr-defined]
        except ImportFailedError as failed:
            print(failed.report.text())
            return 1
        print(result.report.text())
        if result.backup is not None:
            print(f"A backup from before the import: {result.backup}")
        return 0
    finally:
        store.close()  # type: ignore[attr-defined]


def _merge(args: argparse.Namespace) -> int:
    store = _open(args.db, read_only=not args.accept)
    try:
        plan = store.plan_merge(args.other)  # type: ignore[attr-defined]
        print(plan.summary())
        if plan.problems:
            print("Nothing was merged: their file has records that cannot come in (see above).")
            return 1
        if not args.accept:
            print("Nothing was merged (review only). Run again with --accept to apply"
                  + (", and --prefer mine|theirs for the fields above." if plan.conflicts else "."))
            return 0
        if plan.conflicts and not args.prefer:
            print("Nothing was merged: choose --prefer mine or --prefer theirs for the fields changed on both "
                  "sides, or merge in the app (File ▸ Merge…) to choose field by field.")
            return 1
        if plan.empty:
            print("Nothing to merge: their file holds nothing new.")
            return 0
        choices = {c.key: args.prefer for c in plan.conflicts}
        result = store.apply_merge(plan, choices)  # type: ignore[attr-defined]
        print(f"Merged: {result.created} new record(s), {result.updated} record(s) updated.")
        if result.backup is not None:
            print(f"A backup from before the merge: {result.backup}")
        return 0
    finally:
        store.close()  # type: ignore[attr-defined]


def _backups(args: argparse.Namespace) -> int:
    from explorer.store import StoreError, resolve_target
    from explorer.store.backups import list_backups, make_backup, restore_backup
    from explorer.store.database import sqlite_path

    database = sqlite_path(resolve_target(args.db))
    if database is None:
        print("Backups are kept for database files; a server's are its administrator's (pg_dump).", file=sys.stderr)
        return 2
    if args.action == "make":
        print(f"Backup written: {make_backup(database, 'manual')}")
        return 0
    if args.action == "restore":
        if not args.backup:
            print("Name the backup to restore (see `explorer backups list`).", file=sys.stderr)
            return 2
        backup = Path(args.backup)
        if not backup.exists():
            backup = paths.backup_dir() / args.backup
        if not backup.exists():
            raise StoreError(f"There is no backup called {args.backup} in {paths.backup_dir()}.")
        safety = restore_backup(backup, database)
        print(f"Restored {database.name} from {backup.name}. What was there before is in {safety}.")
        return 0
    found = list_backups(database)
    if not found:
        print(f"No backups of {database.name} in {paths.backup_dir()}.")
    for b in found:
        print(f"{b.made:%Y-%m-%d %H:%M:%S}  {b.describe():<28} {b.size / 1e6:8.1f} MB  {b.path.name}")
    return 0


def _not_available(args: argparse.Namespace) -> int:
    print(f"explorer {args.command}: not available in this version "
          "(the synthetic-data generator lives in the source checkout's benchmarks/).", file=sys.stderr)
    return 2


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "export": _export,
    "import": _import,
    "merge": _merge,
    "backups": _backups,
    "synth": _not_available,
}


def run_command(argv: Sequence[str]) -> int:
    from explorer.store import StoreError

    args = _parser().parse_args(list(argv))
    try:
        return COMMANDS[args.command](args)
    except StoreError as exc:
        log.warning("explorer %s: %s", args.command, exc.message)
        print(f"{exc.title}: {exc.message}", file=sys.stderr)
        return 2
    except OSError as exc:
        log.warning("explorer %s: %s", args.command, exc)
        print(f"explorer {args.command}: {exc.strerror or exc} ({exc.filename or ''})", file=sys.stderr)
        return 2
    except Exception:
        log.exception("explorer %s failed", args.command)
        print(f"explorer {args.command} hit an unexpected problem; details are in the log in {paths.log_dir()}.",
              file=sys.stderr)
        return 1
