"""Partnership Explorer: the India–Japan partnership, offline, in linked views."""

import os

# pyqtgraph binds to the Qt named here, set once before anything imports it (never another
# binding that happens to be installed).
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

__version__ = "0.1.0"
APP_NAME = "Partnership Explorer"
