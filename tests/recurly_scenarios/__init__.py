"""Recurly scenario scripts: public Recurly API v2021-02-25 calls through the recurly SDK, so
they run against the stand-in or a Recurly sandbox site, and the recorder turns each into a
cassette (see ``record``)."""

from .scenarios import CLOCKED, SCENARIOS

__all__ = ["CLOCKED", "SCENARIOS"]
