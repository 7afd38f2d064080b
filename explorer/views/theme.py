"""Light and dark themes (following the system by default), fonts and the app icon."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication

from explorer import paths

log = logging.getLogger("explorer.theme")

# Families tried in order for names in Latin, Devanagari and Japanese scripts; Qt falls back
# per character through fontconfig, so listing one of each keeps every name legible.
FONT_FAMILIES = [
    "Noto Sans",
    "DejaVu Sans",
    "Lohit Devanagari",
    "Noto Sans Devanagari",
    "IPAGothic",
    "IPAPGothic",
    "Noto Sans CJK JP",
]
BASE_POINT_SIZE = 10.5

LIGHT = {
    "window": "#f5f6f8",
    "base": "#ffffff",
    "alt": "#eef1f5",
    "text": "#1c2430",
    "mid": "#c9d0da",
    "button": "#e9edf2",
    "highlight": "#2f6fb2",
    "highlight_text": "#ffffff",
    "link": "#1d5fa8",
    "tooltip": "#fffbe6",
    "muted": "#5b6573",
}
DARK = {
    "window": "#1e2229",
    "base": "#15181d",
    "alt": "#232831",
    "text": "#e6e9ee",
    "mid": "#3a414d",
    "button": "#2a303a",
    "highlight": "#4c8fd6",
    "highlight_text": "#ffffff",
    "link": "#8cc0ff",
    "tooltip": "#2b2f36",
    "muted": "#9aa4b2",
}


# For projectors: pure white and black, strong accents, nothing faint.
CONTRAST = {
    "window": "#ffffff",
    "base": "#ffffff",
    "alt": "#f0f0f0",
    "text": "#000000",
    "mid": "#000000",
    "button": "#ffffff",
    "highlight": "#0039a6",
    "highlight_text": "#ffffff",
    "link": "#0039a6",
    "tooltip": "#ffffcc",
    "muted": "#333333",
}
THEMES = {"light": LIGHT, "dark": DARK, "contrast": CONTRAST}


def system_prefers_dark() -> bool:
    hints = QGuiApplication.styleHints()
    scheme = getattr(hints, "colorScheme", None)
    return bool(scheme and scheme() == Qt.ColorScheme.Dark)


def palette_for(colours: dict[str, str]) -> QPalette:
    pal = QPalette()
    c = {k: QColor(v) for k, v in colours.items()}
    role = QPalette.ColorRole
    for r, key in (
        (role.Window, "window"),
        (role.Base, "base"),
        (role.AlternateBase, "alt"),
        (role.WindowText, "text"),
        (role.Text, "text"),
        (role.Button, "button"),
        (role.ButtonText, "text"),
        (role.Highlight, "highlight"),
        (role.HighlightedText, "highlight_text"),
        (role.Link, "link"),
        (role.ToolTipBase, "tooltip"),
        (role.ToolTipText, "text"),
        (role.Mid, "mid"),
        (role.PlaceholderText, "muted"),
    ):
        pal.setColor(r, c[key])
    for group in (QPalette.ColorGroup.Disabled,):
        pal.setColor(group, role.Text, c["muted"])
        pal.setColor(group, role.WindowText, c["muted"])
        pal.setColor(group, role.ButtonText, c["muted"])
    return pal


def stylesheet(colours: dict[str, str], scale: float = 1.0) -> str:
    pad = max(2, round(4 * scale))
    return f"""
    QToolBar {{ spacing: {pad}px; padding: {pad}px; border: none; background: {colours["window"]}; }}
    QDockWidget::title {{ padding: {pad + 2}px; background: {colours["alt"]}; font-weight: 600; }}
    QStatusBar {{ color: {colours["muted"]}; }}
    QTreeView {{ alternate-background-color: {colours["alt"]}; }}
    QLineEdit, QComboBox {{ padding: {pad - 1}px {pad + 2}px; }}
    QLabel#bannerLabel {{ background: #fff3cd; color: #5c4400; padding: 6px 10px; border-radius: 4px; }}
    QLabel#paneTitle {{ font-weight: 600; color: {colours["muted"]}; }}
    """


def apply_theme(app: QApplication, theme: str | None = None, *, scale: float = 1.0) -> str:
    """Apply 'light', 'dark' or 'system' (None); returns the theme actually used."""
    chosen = theme or "system"
    if chosen == "system":
        chosen = "dark" if system_prefers_dark() else "light"
    colours = THEMES.get(chosen, LIGHT)
    app.setStyle("Fusion")
    app.setPalette(palette_for(colours))
    font = QFont()
    font.setFamilies(FONT_FAMILIES)
    font.setPointSizeF(BASE_POINT_SIZE * scale)
    app.setFont(font)
    app.setStyleSheet(stylesheet(colours, scale))
    icon = paths.resources_dir() / "icons" / "app.svg"
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    app.setProperty("explorer_theme", chosen)
    app.setProperty("explorer_scale", scale)
    return chosen


def current_colours(app: QApplication | None = None) -> dict[str, str]:
    app = app or QApplication.instance()  # type: ignore[assignment]
    name = app.property("explorer_theme") if app is not None else "light"
    return THEMES.get(str(name), LIGHT)


def icon(name: str) -> QIcon:
    path = paths.resources_dir() / "icons" / f"{name}.svg"
    return QIcon(str(path)) if path.exists() else QIcon()
