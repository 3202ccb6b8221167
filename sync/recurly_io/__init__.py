"""Recurly as a billing source: the HTTP client, the reader, the converter to neutral values
and the one table that translates its errors."""

from .convert import Catalog, customer, subscription
from .http import RecurlyHttp
from .source import RecurlySource, choose_strategy

__all__ = ["Catalog", "RecurlyHttp", "RecurlySource", "choose_strategy", "customer", "subscription"]
