"""The building blocks of settings validation: the error that names a setting, the wrapper
that keeps a secret from showing itself, and the URL and file checks every setting shares.
Reads nothing: ``scheduler.settings`` is the one module that reads the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

__all__ = ["ConfigError", "Problems", "Secret", "file_setting", "url_setting"]


class ConfigError(Exception):
    """Settings are missing or malformed: one line per problem, each naming its setting."""

    def __init__(self, problems: str | list[str]):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class Secret:
    """A string that never shows itself: repr/str/format give a mask."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class Problems:
    """Collects every problem, so the admin fixes them all in one go."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def add(self, message: str) -> None:
        self.found.append(message)

    def check(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            self.found.extend(exc.problems)
            return None


def url_setting(
    raw: dict[str, str],
    name: str,
    default: str | None,
    schemes: tuple[str, ...] = ("https",),
    *,
    secret: bool = False,
) -> str | None:
    value = raw.get(name, default)
    if value is None:
        return None
    parsed = urlparse(value)
    if parsed.scheme not in schemes or not parsed.netloc:
        expected = " or ".join(f"{s}://" for s in schemes)
        # A secret URL (the Slack webhook carries its token) is never echoed.
        shown = "a value that is not one" if secret else f"'{value}'"
        raise ConfigError(f"{name}: expected a URL starting with {expected}, got {shown}")
    return value.rstrip("/")


def file_setting(raw: dict[str, str], name: str) -> Path | None:
    value = raw.get(name)
    if value is None:
        return None
    path = Path(value).expanduser()
    if not path.is_file():
        raise ConfigError(f"{name}: expected a readable file, {value} does not exist")
    try:
        path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read {value} ({exc.strerror})") from None
    return path
