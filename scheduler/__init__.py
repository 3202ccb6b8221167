"""CLI, settings, client wiring and (later) the daemon."""

from .settings import ConfigError, Settings, load_settings

__all__ = ["ConfigError", "Settings", "load_settings"]
