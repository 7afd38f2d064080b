"""Widgets: they read through item models and AppState, and never open a database session."""
