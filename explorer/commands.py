"""Headless subcommands: explorer import|export|merge|backups|migrate|synth …

Each prints what it did (or a row-level report) and exits 0 on success, 1 when the input had
problems (nothing written), 2 when the database could not be used. Never a traceback: errors are
logged to the data folder's log.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from explorer import paths

if TYPE_CHECKING:  # each subcommand imports what it runs, so `explorer --help` stays quick
    from explorer.store import Store

log = logging.getLogger("explorer.commands")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="explorer")
    add_commands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    return parser


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The subcommands, each with its own --help (also listed by `explorer --help`, explorer/app.py)."""
    db_help = "database file or URL (default: EXPLORER_DATABASE_URL, else your copy of the demo)"

    p = sub.add_parser("export", help="write the database as JSON, a folder of CSV files, or a database copy")
    p.add_argument("--db", metavar="PATH_OR_URL", help=db_help)
    p.add_argument(
        "--format",
        choices=("json", "csv", "sqlite", "timelinejs", "ics"),
        help="default: from OUT (.json, .sqlite, .ics, else CSV); timelinejs: a TimelineJS JSON file for the web",
    )
    p.add_argument("out", type=Path, help="a .json file, a folder for CSV files, or a .sqlite file")

    p = sub.add_parser("import", help="check every row, then apply all of them or none")
    p.add_argument("--db", metavar="PATH_OR_URL", help=db_help)
    p.add_argument("--check", action="store_true", help="only check the files and print the report")
    p.add_argument(
        "sources",
        type=Path,
        nargs="+",
        help="exchange files (<type>.csv with uuid columns, folders of them, .json) or spreadsheets (.xlsx, .csv)",
    )
    p.add_argument("--type", dest="record_type", help="the record type a spreadsheet holds (default: guessed)")
    p.add_argument(
        "--dates",
        choices=("dmy", "mdy", "ymd"),
        default="dmy",
        help="how a spreadsheet writes dates like 03/04/2025: day first (default), month first, year first",
    )

    p = sub.add_parser("merge", help="merge another analyst's database file into this one")
    p.add_argument("--db", metavar="PATH_OR_URL", help=db_help)
    p.add_argument("other", type=Path, help="the other analyst's .sqlite file (never written)")
    p.add_argument("--accept", action="store_true", help="apply the merge (without it, only show what it would do)")
    p.add_argument(
        "--prefer",
        choices=("mine", "theirs"),
        help="with --accept: the value to keep for every field changed on both sides",
    )

    p = sub.add_parser("backups", help="list, make or restore backups of a database file")
    p.add_argument("--db", metavar="PATH", help="database file (default: your copy of the demo)")
    p.add_argument("action", nargs="?", choices=("list", "make", "restore"), default="list")
    p.add_argument("backup", nargs="?", help="with restore: the backup's file name (from the list) or path")

    p = sub.add_parser(
        "migrate",
        help="upgrade a database's schema to this version (for a team server's "
        "administrator: analysts then need no rights to change tables)",
    )
    p.add_argument("--db", metavar="PATH_OR_URL", help=db_help)

    p = sub.add_parser("synth", help="write a synthetic database of any size (to try the app at scale)")
    p.add_argument("out", type=Path, help="the database file to write, e.g. synthetic.sqlite")
    p.add_argument(
        "--records",
        type=_record_count,
        default=100_000,
        metavar="N",
        help="about how many records: 100000, 1e6 … (default 100000)",
    )
    p.add_argument("--seed", type=_seed, default=7, help="the same seed always gives the same records (default 7)")
    p.add_argument("--force", action="store_true", help="replace OUT if it already exists")


def _record_count(text: str) -> int:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of records (try 100000 or 1e6)") from None
    if not value.is_integer() or value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number of records, at least 1 (try 100000 or 1e6)")
    return int(value)


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: the seed cannot be negative")
    return value


def _open(db: str | None, *, read_only: bool = False) -> Store:
    from explorer.store import open_store

    store = open_store(db, read_only=read_only)
    if not read_only:  # backups before imports and merges are pruned as the app's setting says
        from explorer import settings

        store.backup_retention = settings.backup_retention
    return store


def _export(args: argparse.Namespace) -> int:
    suffixes = {".json": "json", ".sqlite": "sqlite", ".db": "sqlite", ".ics": "ics"}
    fmt = args.format or suffixes.get(args.out.suffix.lower(), "csv")
    store = _open(args.db, read_only=True)  # an export never writes to what it reads
    try:
        written = store.export(args.out, fmt=fmt)
    finally:
        store.close()
    print(f"Exported {store.display_name()} as {fmt}:")
    for path in written:
        print(f"  {path}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from explorer import schema
    from explorer.store.exchange import ImportFailedError
    from explorer.store.kumu import KumuFormatError, is_kumu_file
    from explorer.store.peer import PeerFormatError, is_peer_file
    from explorer.store.spreadsheet import SpreadsheetError, is_spreadsheet, plans_for

    if not args.record_type and all(is_kumu_file(p) for p in args.sources):
        store = _open(args.db, read_only=args.check)
        try:
            report, kumu_map = store.check_kumu(args.sources)
            kept = f"; not kept: {'; '.join(kumu_map.dropped)}" if kumu_map.dropped else ""
            print(f"Kumu map: {len(kumu_map.elements)} elements, {len(kumu_map.connections)} connections{kept}")
            if args.check or not report.ok:
                print(report.text())
                return 0 if report.ok else 1
            print(store.import_kumu(args.sources).report.text())
            return 0
        except (KumuFormatError, ImportFailedError) as exc:
            print(exc, file=sys.stderr)
            return 1
        finally:
            store.close()
    peers = [p for p in args.sources if is_peer_file(p)] if not args.record_type else []
    if peers:
        if len(peers) != len(args.sources):
            print("Import files of other timeline tools separately from other files.", file=sys.stderr)
            return 2
        store = _open(args.db, read_only=args.check)
        try:
            report, read = store.check_peer(peers)
            for peer in read:
                kept = f"; not kept: {'; '.join(peer.dropped)}" if peer.dropped else ""
                print(f"{peer.path.name}: {peer.format}, {len(peer.items)} entries{kept}")
            if args.check or not report.ok:
                print(report.text())
                return 0 if report.ok else 1
            result = store.import_peer(peers)
            print(result.report.text())
            return 0
        except (PeerFormatError, ImportFailedError) as exc:
            print(exc, file=sys.stderr)
            return 1
        finally:
            store.close()
    sheets = [p for p in args.sources if is_spreadsheet(p) or args.record_type]
    if sheets and len(sheets) != len(args.sources):
        print("Import spreadsheets and exchange files (uuid columns, .json) separately.", file=sys.stderr)
        return 2
    if args.record_type and args.record_type not in schema.KINDS:
        print(f"--type must be one of: {', '.join(schema.KINDS)}", file=sys.stderr)
        return 2
    if sheets:
        try:
            plans = plans_for(sheets, args.record_type, args.dates)
        except SpreadsheetError as exc:
            print(exc, file=sys.stderr)
            return 1
        for plan in plans:
            used = ", ".join(f"{h} → {c}" for h, c in plan.mapping.items() if c) or "nothing"
            print(f"{plan.sheet.name}: {plan.record_type} records; columns {used}")
    store = _open(args.db, read_only=args.check)
    try:
        if sheets:
            check, apply = (lambda: store.check_spreadsheet(plans)), (lambda: store.import_spreadsheet(plans))
        else:
            check, apply = (lambda: store.check_import(args.sources)), (lambda: store.import_files(args.sources))
        if args.check:
            report = check()
            print(report.text())
            return 0 if report.ok else 1
        try:
            result = apply()
        except ImportFailedError as failed:
            print(failed.report.text())
            return 1
        print(result.report.text())
        if result.backup is not None:
            print(f"A backup from before the import: {result.backup}")
        return 0
    finally:
        store.close()


def _merge(args: argparse.Namespace) -> int:
    store = _open(args.db, read_only=not args.accept)
    try:
        plan = store.plan_merge(args.other)
        print(plan.summary())
        if plan.problems:
            print("Nothing was merged: their file has records that cannot come in (see above).")
            return 1
        if not args.accept:
            print(
                "Nothing was merged (review only). Run again with --accept to apply"
                + (", and --prefer mine|theirs for the fields above." if plan.conflicts else ".")
            )
            return 0
        if plan.conflicts and not args.prefer:
            print(
                "Nothing was merged: choose --prefer mine or --prefer theirs for the fields changed on both "
                "sides, or merge in the app (File ▸ Merge…) to choose field by field."
            )
            return 1
        if plan.empty:
            print("Nothing to merge: their file holds nothing new.")
            return 0
        choices = {c.key: args.prefer for c in plan.conflicts}
        result = store.apply_merge(plan, choices)
        print(f"Merged: {result.created} new record(s), {result.updated} record(s) updated.")
        if result.backup is not None:
            print(f"A backup from before the merge: {result.backup}")
        return 0
    finally:
        store.close()


def _backups(args: argparse.Namespace) -> int:
    from explorer.store import StoreError, resolve_target
    from explorer.store.backups import list_backups, make_backup, restore_backup
    from explorer.store.database import sqlite_path

    database = sqlite_path(resolve_target(args.db))
    if database is None:
        print("Backups are kept for database files; a server's are its administrator's (pg_dump).", file=sys.stderr)
        return 2
    if args.action == "make":
        from explorer import settings

        print(f"Backup written: {make_backup(database, 'manual', keep=settings.backup_retention())}")
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


def _remove_database(path: Path) -> None:
    """A database file and the -wal/-shm files SQLite keeps beside it."""
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        candidate.unlink(missing_ok=True)


def _synth(args: argparse.Namespace) -> int:
    from explorer.store.synth import generate, shares

    out: Path = args.out.expanduser()
    if out.is_dir():
        print(
            f"explorer synth: {out} is a folder; name the file to write, e.g. {out / 'synthetic.sqlite'}",
            file=sys.stderr,
        )
        return 2
    if not out.parent.is_dir():
        print(f"explorer synth: the folder {out.parent} does not exist; nothing was written.", file=sys.stderr)
        return 2
    if out.exists() and not args.force:
        print(f"explorer synth: {out} already exists; nothing was written. Add --force to replace it.", file=sys.stderr)
        return 2
    # Written beside the target and moved into place at the end: a failed or stopped run
    # leaves any existing file as it was.
    partial = out.with_name(out.name + ".partial")
    _remove_database(partial)
    total = sum(shares(args.records).values())
    print(f"Writing {total:,} records (seed {args.seed}) to {out} …", flush=True)

    def progress(stage: str, start: float) -> None:
        print(f"  {stage:<26} {time.perf_counter() - start:7.1f} s", flush=True)

    started = time.perf_counter()
    try:
        generate(partial, args.records, args.seed, log=progress)
    except KeyboardInterrupt:
        _remove_database(partial)
        print(f"explorer synth: stopped; nothing was written to {out}.", file=sys.stderr)
        return 1
    except BaseException:
        _remove_database(partial)
        raise
    _remove_database(out)  # with --force: the old file's -wal/-shm must not be replayed onto the new one
    os.replace(partial, out)
    size_mb = out.stat().st_size / 1e6
    print(f"Done: {out} ({size_mb:,.1f} MB), {total:,} records in {time.perf_counter() - started:.1f} s.")
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from explorer.store import migrate

    store = _open(args.db)  # opening for writing upgrades the schema (a backup first, for a file)
    try:
        before = store.upgraded_from
        name = store.display_name()
    finally:
        store.close()
    if before is None:
        print(f"{name} is already at schema {migrate.head_revision()}: nothing to do.")
    else:
        print(f"Upgraded {name} from schema {before} to {migrate.head_revision()}.")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "migrate": _migrate,
    "export": _export,
    "import": _import,
    "merge": _merge,
    "backups": _backups,
    "synth": _synth,
}


def run_command(argv: Sequence[str]) -> int:
    from explorer.store import StoreError

    try:
        args = _parser().parse_args(list(argv))
    except SystemExit as exc:
        if exc.code and argv and Path(argv[0]).exists():  # `explorer export` beside a file called "export"
            print(f"(To open the file called {argv[0]}, write: explorer ./{argv[0]})", file=sys.stderr)
        raise
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
        print(
            f"explorer {args.command} hit an unexpected problem; details are in the log in {paths.log_dir()}.",
            file=sys.stderr,
        )
        return 1
