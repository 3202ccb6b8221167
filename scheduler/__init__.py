"""The application: settings, client building, engine wiring, the CLI commands and the daemon."""

from .settings import ConfigError, Settings, load_settings

__all__ = ["ConfigError", "Settings", "load_settings"]
