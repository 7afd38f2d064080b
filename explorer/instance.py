"""One window per database file: a second launch on the same file brings the first window
forward (and hands it any file to import) instead of opening the file twice.

A local socket named after the database (QLocalServer: a Unix socket or a Windows named pipe,
never the network) is how the second launch finds the first.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

WAIT_MS = 500
ANSWER_MS = 2_000  # a window busy for longer than this is taken for gone


def server_name(database: str) -> str:
    """The socket name for a database (its absolute path or URL, per user)."""
    user = os.environ.get("USER") or os.environ.get("USERNAME") or ""
    key = f"{user}\0{database}".encode()
    return "partnership-explorer-" + hashlib.sha1(key).hexdigest()[:16]


def database_key(path: Path | None, url: str) -> str:
    """What names an open database: its file, or a server's address without the password."""
    if path is not None:
        return str(Path(path).resolve())
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def ask_running(name: str, message: str = "raise") -> bool:
    """Whether a window already has this database open and came forward when asked (``message``
    "open PATH" also hands it a file to import). A window that does not answer in time (hung,
    or its display gone) does not count: this launch then opens its own."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(WAIT_MS):
        return False
    socket.write((message + "\n").encode())
    socket.flush()
    socket.waitForBytesWritten(WAIT_MS)
    answered = False
    while not answered and socket.waitForReadyRead(ANSWER_MS):
        answered = socket.canReadLine() and bytes(socket.readLine().data()).strip() == b"ok"
    socket.disconnectFromServer()
    return answered


class InstanceServer(QObject):
    """Listens for later launches on the open database. Signals:
    raise_requested(): bring the window forward.
    open_requested(str): also open (import) this file.
    """

    raise_requested = Signal()
    open_requested = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.server = QLocalServer(self)
        self.server.newConnection.connect(self._accept)
        self.name = ""

    def listen(self, name: str) -> bool:
        """Answer for ``name`` (a new database opened: the old name is let go)."""
        if name == self.name and self.server.isListening():
            return True
        self.server.close()
        self.name = name
        if sys.platform != "win32":
            QLocalServer.removeServer(name)  # a socket file left by a window that crashed
        return self.server.listen(name)

    def close(self) -> None:
        self.server.close()
        self.name = ""

    def _accept(self) -> None:
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            socket.readyRead.connect(lambda socket=socket: self._read(socket))
            socket.disconnected.connect(socket.deleteLater)
            if socket.bytesAvailable():
                self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        while socket.canReadLine():
            line = bytes(socket.readLine().data()).decode(errors="replace").strip()
            if line.startswith("open "):
                self.open_requested.emit(line[5:])
            self.raise_requested.emit()
            socket.write(b"ok\n")
            socket.flush()
