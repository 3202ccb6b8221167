"""Running a scenario again from its cassette: a world whose clock only counts what the
scenario advanced, the SDK made inside the cassette (it opens its connection when made), and
a checkpoint reader that reaches nothing but the cassette."""

from __future__ import annotations

from collections.abc import Callable

import recurly

from .common import World
from .replay import header

__all__ = ["KEY", "NOWHERE", "replay_world"]

KEY = "replay-only-recurly-key"  # never a recorded one: the Authorization header is filtered
# `.invalid` never resolves: a read the cassette cannot answer reaches no server.
NOWHERE = "http://recurly.replay.invalid"


def replay_world(scenario: str) -> World:
    """Call inside the cassette. The clock starts where the recording's did."""
    info = header(scenario)
    clock = [int(info["clock"])]

    def advance(seconds: int) -> None:
        clock[0] += int(seconds)

    decline: Callable[[str], None] = lambda _code: None  # noqa: E731 - the stand-in's, recorded
    return World(recurly.Client(KEY), info["tag"], lambda: clock[0], advance=advance,
                 decline_payments=decline)  # fmt: skip
