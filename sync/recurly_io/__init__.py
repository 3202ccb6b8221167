"""Recurly as a billing source: the converter to neutral values (the reader comes next)."""

from .convert import Catalog, customer, subscription

__all__ = ["Catalog", "customer", "subscription"]
