"""Stripe scenario scripts: public stripe-python calls only, so they run unchanged against the
stand-in or Stripe test mode, and the recorder turns each into a vcrpy cassette."""

from .scenarios import SCENARIOS

__all__ = ["SCENARIOS"]
