"""Stripe as a billing source: the reader and the one table that translates Stripe's errors."""

from .source import StripeSource, choose_strategy

__all__ = ["StripeSource", "choose_strategy"]
