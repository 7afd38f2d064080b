"""Start-up: logging → arguments → store → QApplication → excepthook → main window."""

from __future__ import annotations

import argparse
import gc
import logging
import logging.handlers
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, cast

from explorer import APP_NAME, __version__, paths

if TYPE_CHECKING:
    from explorer.views.main_window import MainWindow

log = logging.getLogger("explorer")


def setup_logging(level: int = logging.INFO) -> Path | None:
    """Log to a rotating file in the user's data folder (and to stderr for warnings)."""
    root = logging.getLogger()
    if any(getattr(h, "_explorer", False) for h in root.handlers):
        return None
    root.setLevel(level)
    log_file: Path | None = None
    try:
        log_file = paths.log_dir() / "explorer.log"
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._explorer = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    except OSError:
        log_file = None
    console = logging.StreamHandler()
    console.setLevel(logging.WARNING)
    console.setFormatter(_BriefFormatter())
    console._explorer = True  # type: ignore[attr-defined]
    root.addHandler(console)
    return log_file


class _BriefFormatter(logging.Formatter):
    """The terminal gets the message; the traceback stays in the log file."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved


# What a packaged app needs from the machine (Debian/Ubuntu names) when Qt cannot load.
QT_SYSTEM_PACKAGES = "libgl1 libegl1 libxkbcommon-x11-0 libxcb-cursor0 libfontconfig1 libdbus-1-3"


def _qt_missing() -> str | None:
    """Why Qt cannot load (a bundle on a machine without its system libraries), or None."""
    try:
        import PySide6.QtWidgets  # noqa: F401
    except ImportError as exc:
        log.info("Qt could not load", exc_info=True)  # the traceback, for the log file only
        return (
            f"{APP_NAME} could not start: Qt could not load ({exc}). On Debian or Ubuntu, install "
            f"the libraries it needs with: sudo apt-get install {QT_SYSTEM_PACKAGES}"
        )
    return None


def _window_parser(*, with_commands: bool = False) -> argparse.ArgumentParser:
    """`explorer [FILE] [options]` opens the window; with_commands also lists the subcommands
    (for --help: parsing them is explorer.commands', so a FILE is never taken for a command)."""
    parser = argparse.ArgumentParser(
        prog="explorer",
        description=f"{APP_NAME} {__version__}: opens the window, or runs one of the commands below.",
        usage="explorer [FILE] [options]\n       explorer COMMAND ... (explorer COMMAND --help for each)",
        epilog="A file named like a command opens with a path: explorer ./import",
    )
    parser.add_argument(
        "file",
        nargs="?",
        type=Path,
        help="a database file to open (.sqlite), or a spreadsheet or export file to import (.xlsx, .csv, .json)",
    )
    parser.add_argument("--db", metavar="PATH_OR_URL", help="database file or SQLAlchemy URL to open")
    parser.add_argument("--read-only", action="store_true", help="open the database for viewing only")
    parser.add_argument("--screenshot", metavar="PNG", help="render the main window offscreen to PNG and exit")
    parser.add_argument("--select", metavar="TYPE:ID_OR_NAME", help="with --screenshot: select this record first")
    parser.add_argument("--size", default="1920x1080", help="with --screenshot: window size, e.g. 1280x720")
    parser.add_argument("--present", action="store_true", help="with --screenshot: in presentation mode")
    parser.add_argument("--story-step", type=int, metavar="N", help="with --screenshot: play the story at step N")
    parser.add_argument("--theme", choices=("system", "light", "dark"), help="colour theme")
    parser.add_argument(
        "--self-test",
        nargs="?",
        const="",
        metavar="REPORT",
        help="check the app offscreen on the demo data (and a temporary database), "
        "write a report and exit non-zero on any failure",
    )
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    if with_commands:
        from explorer.commands import add_commands

        add_commands(parser.add_subparsers(title="commands", metavar="COMMAND"))
    return parser


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    args = list(sys.argv[1:] if argv is None else argv)
    if "-h" in args or "--help" in args:
        _window_parser(with_commands=True).print_help()
        raise SystemExit(0)
    if args[:1] == ["--"]:  # explorer -- import: the file called "import"
        args = args[1:]
    return _window_parser().parse_args(args)


def _can_ask() -> bool:
    """A question can be put to a person: a real display, not offscreen rendering."""
    return not os.environ.get("QT_QPA_PLATFORM", "").startswith("offscreen")


def _show_fatal(title: str, message: str, detail: str = "") -> None:
    """A friendly dialog (never a raw traceback); falls back to stderr without a display."""
    from PySide6.QtWidgets import QApplication, QMessageBox

    if QApplication.instance() is None or not _can_ask():
        print(f"{title}: {message}", file=sys.stderr)
        return
    box = QMessageBox(QMessageBox.Icon.Critical, title, message)
    if detail:
        box.setDetailedText(detail)
    box.exec()


# Set once the window is up: a team server that stops answering turns into the Offline banner
# (AppState.mark_offline), not a dialog per click.
unavailable_handler: Callable[[str], bool] | None = None


def install_excepthook() -> None:
    """Unexpected errors are logged with their traceback and shown as a short dialog."""

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        from explorer.store import StoreError

        if unavailable_handler is not None and unavailable_handler_accepts(exc):
            log.warning("database unavailable: %s", exc)
            return

        if isinstance(exc, StoreError):
            log.warning("%s: %s", exc.title, exc.message)
            _show_fatal(exc.title, exc.message, exc.detail)
            return
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        log.error("unexpected error\n%s", text)
        _show_fatal(
            "Something went wrong",
            "Partnership Explorer hit an unexpected problem. Your data is safe: every save is a "
            f"single transaction. Details were written to the log in {paths.log_dir()}.",
            text,
        )

    sys.excepthook = hook


def unavailable_handler_accepts(exc: BaseException) -> bool:
    """Lost connections to a server (read or write outside a form) go to the banner."""
    import sqlalchemy as sa

    from explorer.store import DatabaseUnavailableError

    if isinstance(exc, DatabaseUnavailableError | sa.exc.OperationalError | sa.exc.InterfaceError):
        return unavailable_handler is not None and unavailable_handler(str(exc))
    return False


def _is_database_file(path: Path) -> bool:
    """A database by its name (.sqlite, .db) or, whatever it is called, by SQLite's header."""
    if path.suffix.lower() in (".sqlite", ".sqlite3", ".db"):
        return True
    try:
        with path.open("rb") as handle:
            return path.is_file() and handle.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def _offscreen_screen(size: str) -> None:
    """Headless screenshots: an offscreen "screen" of the requested size (full screen fills it)."""
    import json
    import tempfile

    if os.environ.get("QT_QPA_PLATFORM", "offscreen") != "offscreen":
        return
    try:
        width, height = (int(v) for v in size.lower().split("x"))
    except ValueError:
        width, height = 1920, 1080
    config = Path(tempfile.mkdtemp(prefix="explorer-screen-")) / "screen.json"
    config.write_text(
        json.dumps(
            {
                "screens": [
                    {
                        "name": "screenshot",
                        "x": 0,
                        "y": 0,
                        "width": width,
                        "height": height,
                        "logicalDpi": 96,
                        "logicalBaseDpi": 96,
                        "dpr": 1,
                    }
                ]
            }
        )
    )
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"


def _import_before_qt() -> None:
    """Import the store (SQLAlchemy, SQLModel, the tables, SQLite's dialect) and numpy before
    Qt: once PySide6 is loaded, its ``__feature__`` import hook reads the source file of every
    module imported after it, about 60 ms of start-up for these."""
    import numpy  # noqa: F401
    import sqlalchemy.dialects.sqlite  # noqa: F401  (else loaded when the database opens)

    import explorer.store  # noqa: F401


def _already_open_elsewhere(window: MainWindow, to_import: Path | None) -> bool:
    """One window per database: if another launch has this one open, bring it forward (handing it
    the file to import) and say so; otherwise answer later launches from this window."""
    try:
        from explorer.instance import InstanceServer, ask_running, database_key, server_name
    except ImportError:  # a build without Qt's local sockets: every launch gets its own window
        log.warning("one window per file is not available", exc_info=True)
        return False

    def name() -> str:
        store = window.state.store
        return server_name(database_key(store.path, store.url))

    if ask_running(name(), f"open {to_import}" if to_import is not None else "raise"):
        log.info("the database is open in another window; brought that one forward")
        return True
    server = InstanceServer(window)

    def bring_forward() -> None:
        window.showNormal() if window.isMinimized() else window.show()
        window.raise_()
        window.activateWindow()

    server.raise_requested.connect(bring_forward)
    server.open_requested.connect(lambda path: window.open_file(Path(path)))
    window.state.store_replaced.connect(lambda: server.listen(name()))
    server.listen(name())
    window.instance_server = server
    return False


def _resume_collection() -> None:
    gc.freeze()
    gc.enable()


def main(argv: Sequence[str] | None = None) -> int:
    if getattr(sys, "frozen", False):
        # The packaged app is also what a large import's worker process runs (explorer.store.
        # isolated): started that way, it does the work and exits here instead of opening a window.
        import multiprocessing

        multiprocessing.freeze_support()
    argv = list(sys.argv[1:] if argv is None else argv)
    from explorer.commands import COMMANDS  # headless: no window, no Qt where avoidable

    if argv and argv[0] in COMMANDS:
        setup_logging()
        from explorer.commands import run_command

        return run_command(argv)
    args = parse_args(argv)
    setup_logging()
    # Start-up creates a few hundred thousand objects that live as long as the app (modules,
    # classes, Qt wrappers, the tables' mappings); collecting them again and again while they are
    # made costs about a seventh of the start-up. Collection resumes once the window is up,
    # with what start-up made frozen out of later collections.
    gc.disable()
    _import_before_qt()
    problem = _qt_missing()
    if problem:  # no toolkit to draw a dialog with: the terminal and the log get the reason
        log.error(problem)
        return 1
    if args.self_test is not None:
        gc.enable()
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from explorer.selftest import run_self_test

        return run_self_test(Path(args.self_test) if args.self_test else None)
    if args.screenshot:
        _offscreen_screen(args.size)

    from PySide6.QtWidgets import QApplication

    from explorer.store import EmptyFileError, StoreError, open_store

    # Qt types instance() as the core application; here it is always a QApplication (ours or pytest-qt's).
    app = cast(QApplication, QApplication.instance()) or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("PartnershipExplorer")
    app.setApplicationVersion(__version__)
    install_excepthook()
    to_import: Path | None = None
    if args.file is not None:
        if _is_database_file(args.file) and args.db is None:
            args.db = str(args.file)
        elif args.file.exists():
            to_import = args.file.resolve()
        else:
            _show_fatal("Cannot open", f"There is no file {args.file}.")
            return 2
    try:
        try:
            store = open_store(args.db, read_only=args.read_only)
        except EmptyFileError:
            if args.read_only or not _can_ask():  # nobody to ask: refused, the file as it was
                raise
            from explorer.views.main_window import ask_set_up_empty

            if not ask_set_up_empty(None, Path(args.db or "")):
                return 2
            store = open_store(args.db, set_up_empty=True)
    except StoreError as exc:
        log.warning("could not open database: %s", exc.message)
        _show_fatal(exc.title, exc.message, exc.detail)
        return 2
    except Exception:
        log.exception("start-up failed")
        _show_fatal(
            "Partnership Explorer could not start",
            f"Details were written to the log in {paths.log_dir()}.",
            traceback.format_exc(),
        )
        return 1

    try:  # a part missing from a damaged install or bundle shows up here, as a dialog
        from explorer import settings
        from explorer.state import AppState, collect_out_of_the_way
        from explorer.views.main_window import MainWindow
        from explorer.views.theme import apply_theme

        apply_theme(app, args.theme or settings.THEME.get())
        state = AppState(store)
        window = MainWindow(state)
        collect_out_of_the_way(state)
        global unavailable_handler
        unavailable_handler = state.mark_offline
    except Exception:
        log.exception("start-up failed")
        _show_fatal(
            "Partnership Explorer could not start",
            f"Part of the app could not be loaded. Details were written to the log in {paths.log_dir()}.",
            traceback.format_exc(),
        )
        return 1
    if args.screenshot:
        from explorer.cli import screenshot

        _resume_collection()
        code = screenshot(
            window,
            state,
            Path(args.screenshot),
            args.select,
            args.size,
            present=args.present,
            story_step=args.story_step,
        )
        state.store.close()
        return code
    from PySide6.QtCore import QTimer

    if _already_open_elsewhere(window, to_import):
        store.close()
        return 0
    window.show()
    if args.db is not None and store.path is not None:
        settings.remember_file(str(store.path))
    if to_import is not None:
        QTimer.singleShot(0, lambda: window.open_file(to_import))

    QTimer.singleShot(0, _resume_collection)  # after the first paint
    code = app.exec()
    from explorer.jobs import BackgroundJob

    BackgroundJob.stop_all()  # a query still running must not outlive the interpreter's Qt objects
    state.store.close()  # (the store open now: File ▸ Open may have replaced the first) settles the file
    return code
