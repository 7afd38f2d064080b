"""Partnership Explorer: the India–Japan partnership, offline, in linked views."""

__version__ = "0.1.0"
APP_NAME = "Partnership Explorer"
