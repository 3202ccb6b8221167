"""Chargebee as a billing source: the reader and the one table that translates its errors."""

from .source import ChargebeeSource, choose_strategy

__all__ = ["ChargebeeSource", "choose_strategy"]
