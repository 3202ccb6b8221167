"""Chargebee scenario scripts: public chargebee-python calls only, so they run unchanged
against the stand-in or a Chargebee test site, and the recorder turns each into a cassette."""

from .scenarios import SCENARIOS

__all__ = ["SCENARIOS"]
