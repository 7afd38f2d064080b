"""Qt item models over the store: they hold ids and cached rows, refreshed on AppState changes."""
